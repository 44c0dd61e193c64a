//! The API end to end against a real `sre-intake` process, on both backends: the same scenario
//! runs on SQLite and on a throwaway PostgreSQL server.

use std::path::Path;

use serde_json::{Value, json};
use sre_e2e::intake::{Backend, Http, Intake, invite, reviewer};
use sre_model::report::{ChallengeRef, CheckResult, Host, REPORT_SCHEMA, Report, Signal, Tool};
use sre_model::{Status, TopicId, TopicReport};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

#[test]
fn api_on_sqlite() {
    scenario(&Backend::sqlite());
}

#[test]
fn api_on_postgres() {
    scenario(&Backend::postgres());
}

/// A valid report; `evidence` makes reports with different digests.
fn report(evidence: &str) -> Report {
    let check = |id: &str, status| CheckResult {
        id: id.to_owned(),
        title: format!("{id} check"),
        status,
        duration_ms: 40,
        evidence: evidence.to_owned(),
        hint: (status == Status::Fail).then(|| "use become on the apt task only".to_owned()),
    };
    Report {
        schema: REPORT_SCHEMA.to_owned(),
        tool: Tool {
            name: "sre-check".to_owned(),
            version: "0.1.0".to_owned(),
        },
        challenge: ChallengeRef {
            version: "1.0.0".to_owned(),
            digest: "sha256:00".to_owned(),
        },
        host: Host {
            os: "linux x86_64".to_owned(),
            docker: Some("20.10.24".to_owned()),
            compose: None,
        },
        started_at: "2026-11-29T06:00:00.000Z".to_owned(),
        finished_at: "2026-11-29T06:02:00.000Z".to_owned(),
        files: vec![],
        topics: vec![
            TopicReport::new(
                TopicId::Iac,
                vec![check("answers", Status::Pass), check("build", Status::Fail)],
                vec![],
            ),
            TopicReport::new(
                TopicId::Leadership,
                vec![check("answers", Status::Pass)],
                vec![Signal {
                    id: "rollback".to_owned(),
                    label: "Risks and rollback".to_owned(),
                    present: true,
                }],
            ),
        ],
    }
}

fn put(
    http: &Http,
    server: &Intake,
    token: &str,
    slot: &str,
    pre: (&str, &str),
    text: &str,
) -> sre_e2e::intake::Reply {
    http.json(
        "PUT",
        &server.url(&format!("/api/v1/answers/{slot}")),
        token,
        &[pre],
        &json!({ "text": text }),
    )
}

fn post_report(
    http: &Http,
    server: &Intake,
    token: &str,
    report: &Report,
) -> sre_e2e::intake::Reply {
    http.json(
        "POST",
        &server.url("/api/v1/reports"),
        token,
        &[],
        &serde_json::to_value(report).unwrap(),
    )
}

fn scenario(backend: &Backend) {
    let bin = Path::new(BIN);
    let reviewer_token = reviewer(bin, backend, "Grace");
    let (link, ada) = invite(bin, backend, "Ada");
    let (_, bob) = invite(bin, backend, "Bob");
    assert!(link.starts_with("http://127.0.0.1:8080/invite/"), "{link}");
    let server = Intake::start(bin, backend, &["--rate-limit", "0"]).unwrap();
    let http = Http::new();
    let url = |p: &str| server.url(p);

    // Who am I; nothing written yet.
    let me = http.get(&url("/api/v1/me"), &ada).json();
    assert_eq!(me["candidate"]["name"], "Ada");
    assert_eq!(me["answers"].as_array().unwrap().len(), 6);
    let missing = http.get(&url("/api/v1/answers/feedback"), &ada);
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Writes need a precondition; the first version is created with If-None-Match: *.
    let bare = http.json(
        "PUT",
        &url("/api/v1/answers/feedback"),
        &ada,
        &[],
        &json!({"text": "x"}),
    );
    assert_eq!(bare.status, 428, "{}", bare.body);
    let first = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-none-match", "*"),
        "First draft.",
    );
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"1\""));
    let again = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-none-match", "*"),
        "Other tab.",
    );
    assert_eq!(again.status, 412, "{}", again.body);
    assert_eq!(again.json()["current"]["version"], 1);

    // Then If-Match with the version last read; a stale one gets 412 with the current version.
    let second = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-match", "\"1\""),
        "Second draft.",
    );
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("etag"), Some("\"2\""));
    let stale = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-match", "\"1\""),
        "Stale tab.",
    );
    assert_eq!(stale.status, 412);
    assert_eq!(stale.header("etag"), Some("\"2\""));
    assert_eq!(stale.json()["current"]["version"], 2);
    // A retry of a write that was applied (its reply lost) succeeds without a new version.
    let replay = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-match", "\"1\""),
        "Second draft.",
    );
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.json()["unchanged"], true);
    assert_eq!(replay.json()["version"], 2);

    // Reads carry the ETag; a matching If-None-Match gets 304.
    let read = http.get(&url("/api/v1/answers/feedback"), &ada);
    assert_eq!(read.json()["text"], "Second draft.");
    assert_eq!(read.header("etag"), Some("\"2\""));
    let auth = format!("Bearer {ada}");
    let cached = http
        .send(
            "GET",
            &url("/api/v1/answers/feedback"),
            &[("authorization", &auth), ("if-none-match", "\"2\"")],
            b"",
        )
        .unwrap();
    assert_eq!(cached.status, 304);

    // A candidate reaches only their own data; tokens of one kind do not open the other's routes.
    assert_eq!(http.get(&url("/api/v1/answers/feedback"), &bob).status, 404);
    assert_eq!(http.get(&url("/api/v1/candidates"), &ada).status, 403);
    assert_eq!(http.get(&url("/api/v1/me"), &reviewer_token).status, 403);

    // Markdown answers are rendered safely for reviewers, with hints.
    let plan = "# Plan\n\n## Strategy\nLogical replication into the new region, then cut over.\n\n\
                ## Risks and rollback\nKeep the old primary as a subscriber. <script>alert(1)</script>\n";
    assert_eq!(
        put(
            &http,
            &server,
            &ada,
            "leadership",
            ("if-none-match", "*"),
            plan
        )
        .status,
        201
    );

    // Reports: validated, idempotent by digest.
    let sent = report("ok");
    let stored = post_report(&http, &server, &ada, &sent);
    assert_eq!(stored.status, 201, "{}", stored.body);
    assert_eq!(stored.json()["digest"], sent.digest());
    assert_eq!(stored.json()["duplicate"], false);
    let duplicate = post_report(&http, &server, &ada, &sent);
    assert_eq!(duplicate.status, 200);
    assert_eq!(duplicate.json()["duplicate"], true);
    assert_eq!(
        duplicate.json()["received_at"],
        stored.json()["received_at"]
    );

    // The reviewer's list and page.
    let list = http.get(&url("/api/v1/candidates"), &reviewer_token).json();
    let entries = list["candidates"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let ada_entry = entries
        .iter()
        .find(|c| c["candidate"]["name"] == "Ada")
        .unwrap();
    let ada_id = ada_entry["candidate"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ada_entry["status"], "in_progress");
    assert_eq!(ada_entry["answers"]["written"], 2);
    assert_eq!(ada_entry["report"]["counts"]["fail"], 1);
    let bob_entry = entries
        .iter()
        .find(|c| c["candidate"]["name"] == "Bob")
        .unwrap();
    assert_eq!(bob_entry["status"], "invited");

    let page = http
        .get(
            &url(&format!("/api/v1/candidates/{ada_id}")),
            &reviewer_token,
        )
        .json();
    let topic = |id: &str| -> Value {
        page["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    let leadership = topic("leadership");
    let answer = &leadership["answers"][0];
    let html = answer["latest"]["html"].as_str().unwrap();
    assert!(html.contains("<h2>Strategy</h2>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    let hints = answer["hints"].as_array().unwrap();
    let hint = |id: &str| hints.iter().find(|h| h["id"] == id).unwrap()["present"].clone();
    assert_eq!(hint("strategy"), true);
    assert_eq!(hint("rollback"), true);
    assert_eq!(hint("cost"), false);
    assert_eq!(leadership["checks"]["signals"][0]["id"], "rollback");
    assert_eq!(leadership["criteria"].as_array().unwrap().len(), 5);
    let iac = topic("iac");
    assert_eq!(iac["checks"]["status"], "fail");
    assert_eq!(
        iac["checks"]["checks"][1]["hint"],
        "use become on the apt task only"
    );
    assert_eq!(
        topic("feedback")["answers"][0]["latest"]["html"],
        "<pre class=\"answer-text\">Second draft.</pre>"
    );
    assert_eq!(page["report"]["digest"], sent.digest());

    // History: every version kept, each readable.
    let history = http
        .get(
            &url(&format!("/api/v1/candidates/{ada_id}/answers/feedback")),
            &reviewer_token,
        )
        .json();
    let versions: Vec<i64> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let v1 = http
        .get(
            &url(&format!("/api/v1/candidates/{ada_id}/answers/feedback/1")),
            &reviewer_token,
        )
        .json();
    assert_eq!(v1["text"], "First draft.");
    let reports = http
        .get(
            &url(&format!("/api/v1/candidates/{ada_id}/reports")),
            &reviewer_token,
        )
        .json();
    assert_eq!(reports["reports"].as_array().unwrap().len(), 1);
    let stored_report = http.get(
        &url(&format!(
            "/api/v1/candidates/{ada_id}/reports/{}",
            sent.digest()
        )),
        &reviewer_token,
    );
    assert_eq!(
        Report::from_json(stored_report.body.as_bytes()).unwrap(),
        sent
    );

    // Scores: checked against the manifest's criteria; exported as CSV and JSON.
    let scores_url = url(&format!("/api/v1/scores/{ada_id}"));
    let scored = http.json(
        "PUT",
        &scores_url,
        &reviewer_token,
        &[],
        &json!({ "scores": [
            { "topic": "iac", "criterion": "Understanding Errors", "score": 3, "note": "found the apt lock, \"mostly\"" },
            { "topic": "leadership", "criterion": "Strategic Thinking", "score": 4 },
        ]}),
    );
    assert_eq!(scored.status, 200, "{}", scored.body);
    assert_eq!(scored.json()["scores"].as_array().unwrap().len(), 2);
    let rescored = http.json("PUT", &scores_url, &reviewer_token, &[],
        &json!({ "scores": [{ "topic": "iac", "criterion": "Understanding Errors", "score": 2, "note": "=cmd" }] }));
    assert_eq!(rescored.status, 200);
    for bad in [
        json!({ "scores": [{ "topic": "iac", "criterion": "Charisma", "score": 3 }] }),
        json!({ "scores": [{ "topic": "iac", "criterion": "Understanding Errors", "score": 5 }] }),
        json!({ "scores": [] }),
    ] {
        let refused = http.json("PUT", &scores_url, &reviewer_token, &[], &bad);
        assert_eq!(refused.status, 422, "{bad}: {}", refused.body);
    }
    let page = http
        .get(
            &url(&format!("/api/v1/candidates/{ada_id}")),
            &reviewer_token,
        )
        .json();
    let criterion = &page["topics"][0]["criteria"][0];
    assert_eq!(criterion["mine"]["score"], 2);
    let csv = http.get(&url("/api/v1/export/scores.csv"), &reviewer_token);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "candidate_id,candidate_name,reviewer,topic,criterion,score,note,updated_at"
    );
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        lines[1].starts_with(&format!(
            "{ada_id},Ada,Grace,iac,Understanding Errors,2,'=cmd,"
        )),
        "{}",
        lines[1]
    );
    let exported = http
        .get(&url("/api/v1/export/scores.json"), &reviewer_token)
        .json();
    assert_eq!(exported["scores"].as_array().unwrap().len(), 2);
    assert_eq!(exported["scores"][1]["criterion"], "Strategic Thinking");

    // Invites through the API give a working token.
    let invited = http.json(
        "POST",
        &url("/api/v1/invites"),
        &reviewer_token,
        &[],
        &json!({ "name": "Carol", "email": "carol@example.com", "expires_days": 7 }),
    );
    assert_eq!(invited.status, 201, "{}", invited.body);
    let carol = invited.json()["token"].as_str().unwrap().to_owned();
    assert!(invited.json()["link"].as_str().unwrap().ends_with(&carol));
    assert_eq!(
        http.get(&url("/api/v1/me"), &carol).json()["candidate"]["name"],
        "Carol"
    );

    // Concurrent writers on one version: exactly one wins, the others get 412.
    let base = put(
        &http,
        &server,
        &bob,
        "infra",
        ("if-none-match", "*"),
        "base",
    );
    assert_eq!(base.status, 201);
    let outcomes: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (http, server, bob) = (&http, &server, &bob);
                s.spawn(move || {
                    put(
                        http,
                        server,
                        bob,
                        "infra",
                        ("if-match", "\"1\""),
                        &format!("writer {i}"),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes.iter().filter(|s| **s == 200).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|s| **s == 412).count(),
        7,
        "{outcomes:?}"
    );

    // Submission freezes answers and new reports; duplicates and repeats stay idempotent.
    let submitted = http.json("POST", &url("/api/v1/submit"), &ada, &[], &json!({}));
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let frozen = put(
        &http,
        &server,
        &ada,
        "feedback",
        ("if-match", "\"2\""),
        "Too late.",
    );
    assert_eq!(frozen.status, 409, "{}", frozen.body);
    assert_eq!(
        post_report(&http, &server, &ada, &report("new run")).status,
        409
    );
    assert_eq!(post_report(&http, &server, &ada, &sent).status, 200);
    let resubmitted = http.json("POST", &url("/api/v1/submit"), &ada, &[], &json!({}));
    assert_eq!(
        resubmitted.json()["submitted_at"],
        submitted.json()["submitted_at"]
    );
    let list = http.get(&url("/api/v1/candidates"), &reviewer_token).json();
    assert!(
        list["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "submitted")
    );

    // Operations endpoints.
    assert_eq!(
        http.send("GET", &url("/healthz"), &[], b"").unwrap().status,
        200
    );
    assert_eq!(
        http.send("GET", &url("/readyz"), &[], b"").unwrap().status,
        200
    );
    let metrics = http.send("GET", &url("/metrics"), &[], b"").unwrap().body;
    assert!(
        metrics.contains("intake_answers_stored_total 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("intake_reports_received_total{outcome=\"duplicate\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("intake_http_requests_total{route=\"/api/v1/answers/{slot}\",method=\"PUT\",status=\"412\"} 9"),
        "{metrics}"
    );
    eprintln!("{} scenario passed", backend.name());
}
