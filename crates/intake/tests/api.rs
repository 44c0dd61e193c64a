//! The API end to end against a real `sre-intake` process, on both backends: the same scenario
//! runs on SQLite and on a throwaway PostgreSQL server, one phase per function.

use std::path::Path;

use serde_json::{Value, json};
use sre_e2e::intake::{
    Backend, Http, Intake, Reply, find, invite, items, reviewer, sample_report as report,
};
use sre_model::report::Report;

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

#[test]
fn api_on_sqlite() {
    scenario(&Backend::sqlite());
}

#[test]
fn api_on_postgres() {
    scenario(&Backend::postgres());
}

/// The server, a client, and the tokens of a reviewer (Grace) and two candidates (Ada, Bob).
struct World {
    server: Intake,
    http: Http,
    grace: String,
    ada: String,
    bob: String,
}

impl World {
    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn get(&self, path: &str, token: &str) -> Reply {
        self.http.get(&self.url(path), token)
    }

    fn send(&self, method: &str, path: &str, token: &str, body: &Value) -> Reply {
        self.http.json(method, &self.url(path), token, &[], body)
    }

    fn put(&self, token: &str, slot: &str, pre: (&str, &str), text: &str) -> Reply {
        let path = format!("/api/v1/answers/{slot}");
        self.http.json(
            "PUT",
            &self.url(&path),
            token,
            &[pre],
            &json!({ "text": text }),
        )
    }

    fn post_report(&self, token: &str, report: &Report) -> Reply {
        let body = serde_json::to_value(report).expect("a report serializes");
        self.send("POST", "/api/v1/reports", token, &body)
    }

    fn unauthenticated(&self, path: &str) -> Reply {
        self.http
            .send("GET", &self.url(path), &[], b"")
            .expect("the server answers")
    }
}

fn scenario(backend: &Backend) {
    let bin = Path::new(BIN);
    let grace = reviewer(bin, backend, "Grace");
    let (link, ada) = invite(bin, backend, "Ada");
    let (_, bob) = invite(bin, backend, "Bob");
    assert!(link.starts_with("http://127.0.0.1:8080/invite/"), "{link}");
    let server = Intake::start(bin, backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let w = World {
        server,
        http: Http::new(),
        grace,
        ada,
        bob,
    };

    answers_are_versioned_with_preconditions(&w);
    candidates_reach_only_their_own_data(&w);
    let sent = reports_are_idempotent(&w);
    let ada_id = reviewers_read_everything(&w, &sent);
    scores_are_checked_and_exported(&w, &ada_id);
    invites_through_the_api_work(&w);
    one_of_concurrent_writers_wins(&w);
    submission_freezes_the_candidate(&w, &sent);
    operations_endpoints_answer(&w);
    earlier_reports_get_their_topic_statuses(w, backend);
    eprintln!("{} scenario passed", backend.name());
}

/// The topic statuses the list gives for [`report`].
fn topic_statuses_of_report() -> Value {
    json!([{"id": "iac", "status": "fail"}, {"id": "leadership", "status": "pass"}])
}

fn answers_are_versioned_with_preconditions(w: &World) {
    let me = w.get("/api/v1/me", &w.ada).json();
    assert_eq!(me["candidate"]["name"], "Ada");
    assert_eq!(items(&me["answers"]).len(), 6);
    let missing = w.get("/api/v1/answers/feedback", &w.ada);
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Writes need a precondition; the first version is created with If-None-Match: *.
    let bare = w.send(
        "PUT",
        "/api/v1/answers/feedback",
        &w.ada,
        &json!({"text": "x"}),
    );
    assert_eq!(bare.status, 428, "{}", bare.body);
    let feedback = |pre, text| w.put(&w.ada, "feedback", pre, text);
    let first = feedback(("if-none-match", "*"), "First draft.");
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"1\""));
    let again = feedback(("if-none-match", "*"), "Other tab.");
    assert_eq!(again.status, 412, "{}", again.body);
    assert_eq!(again.json()["current"]["version"], 1);

    // Then If-Match with the version last read; a stale one gets 412 with the current version.
    let second = feedback(("if-match", "\"1\""), "Second draft.");
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("etag"), Some("\"2\""));
    let stale = feedback(("if-match", "\"1\""), "Stale tab.");
    assert_eq!(stale.status, 412);
    assert_eq!(stale.header("etag"), Some("\"2\""));
    assert_eq!(stale.json()["current"]["version"], 2);
    // A retry of a write that was applied (its reply lost) succeeds without a new version.
    let replay = feedback(("if-match", "\"1\""), "Second draft.");
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.json()["unchanged"], true);
    assert_eq!(replay.json()["version"], 2);

    // Reads carry the ETag; a matching If-None-Match gets 304.
    let read = w.get("/api/v1/answers/feedback", &w.ada);
    assert_eq!(read.json()["text"], "Second draft.");
    assert_eq!(read.header("etag"), Some("\"2\""));
    let auth = format!("Bearer {}", w.ada);
    let headers = [("authorization", auth.as_str()), ("if-none-match", "\"2\"")];
    let cached = w
        .http
        .send("GET", &w.url("/api/v1/answers/feedback"), &headers, b"");
    assert_eq!(cached.expect("the server answers").status, 304);

    // Markdown answers, for the reviewer's rendering and hints.
    let plan = "# Plan\n\n## Strategy\nLogical replication into the new region, then cut over.\n\n\
                ## Risks and rollback\nKeep the old primary as a subscriber. <script>alert(1)</script>\n";
    assert_eq!(
        w.put(&w.ada, "leadership", ("if-none-match", "*"), plan)
            .status,
        201
    );
}

fn candidates_reach_only_their_own_data(w: &World) {
    assert_eq!(w.get("/api/v1/answers/feedback", &w.bob).status, 404);
    assert_eq!(w.get("/api/v1/candidates", &w.ada).status, 403);
    assert_eq!(w.get("/api/v1/me", &w.grace).status, 403);
}

fn reports_are_idempotent(w: &World) -> Report {
    let sent = report("ok");
    let none = w.get("/api/v1/reports/latest", &w.ada);
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(none.body.contains("sre-check upload"), "{}", none.body);
    let stored = w.post_report(&w.ada, &sent);
    assert_eq!(stored.status, 201, "{}", stored.body);
    assert_eq!(stored.json()["digest"], sent.digest());
    assert_eq!(stored.json()["duplicate"], false);
    let duplicate = w.post_report(&w.ada, &sent);
    assert_eq!(duplicate.status, 200);
    assert_eq!(duplicate.json()["duplicate"], true);
    assert_eq!(
        duplicate.json()["received_at"],
        stored.json()["received_at"]
    );
    // The site's results page reads the newest report as uploaded; only its owner reaches it.
    let latest = w.get("/api/v1/reports/latest", &w.ada);
    assert_eq!(latest.status, 200, "{}", latest.body);
    assert_eq!(
        latest.json(),
        serde_json::to_value(&sent).unwrap_or_default()
    );
    assert_eq!(w.get("/api/v1/reports/latest", &w.bob).status, 404);
    sent
}

/// The list, the candidate page (rendering, hints, checks, rubric), history and reports.
fn reviewers_read_everything(w: &World, sent: &Report) -> String {
    let list = w.get("/api/v1/candidates", &w.grace).json();
    assert_eq!(items(&list["candidates"]).len(), 2);
    let ada = items(&list["candidates"])
        .iter()
        .find(|c| c["candidate"]["name"] == "Ada")
        .cloned()
        .unwrap_or_default();
    let ada_id = ada["candidate"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ada["status"], "in_progress");
    assert_eq!(
        ada["last_activity_at"], ada["report"]["received_at"],
        "the report came last"
    );
    assert_eq!(ada["answers"]["written"], 2);
    assert_eq!(ada["report"]["counts"]["fail"], 1);
    // Each topic's status, so that the list needs no report bodies.
    assert_eq!(ada["report"]["topics"], topic_statuses_of_report());
    let bob = items(&list["candidates"])
        .iter()
        .find(|c| c["candidate"]["name"] == "Bob");
    assert_eq!(bob.map(|b| &b["status"]), Some(&json!("invited")));

    let page = w
        .get(&format!("/api/v1/candidates/{ada_id}"), &w.grace)
        .json();
    let leadership = find(&page["topics"], "id", "leadership");
    let answer = &leadership["answers"][0];
    let html = answer["latest"]["html"].as_str().unwrap_or_default();
    assert!(html.contains("<h2>Strategy</h2>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    let hints = &answer["hints"];
    assert_eq!(find(hints, "id", "strategy")["present"], true);
    assert_eq!(find(hints, "id", "rollback")["present"], true);
    assert_eq!(find(hints, "id", "cost")["present"], false);
    assert_eq!(leadership["checks"]["signals"][0]["id"], "rollback");
    assert_eq!(items(&leadership["criteria"]).len(), 5);
    let levels = items(&leadership["criteria"][0]["levels"]);
    assert_eq!(levels.len(), 4, "anchored descriptors for scores 1 to 4");
    let iac = find(&page["topics"], "id", "iac");
    let pending: Vec<&Value> = items(&iac["pending_checks"])
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(
        pending,
        [&json!("privileges"), &json!("lint")],
        "reviewer-only checks wait for the verification worker"
    );
    assert_eq!(iac["checks"]["status"], "fail");
    assert_eq!(
        iac["checks"]["checks"][1]["hint"],
        "use become on the apt task only"
    );
    let feedback = find(&page["topics"], "id", "feedback");
    assert_eq!(
        feedback["answers"][0]["latest"]["html"],
        "<pre class=\"answer-text\">Second draft.</pre>"
    );
    assert_eq!(page["report"]["digest"], sent.digest());

    // History: every version kept, each readable.
    let history = w
        .get(
            &format!("/api/v1/candidates/{ada_id}/answers/feedback"),
            &w.grace,
        )
        .json();
    let versions: Vec<&Value> = items(&history["versions"])
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(versions, [&json!(1), &json!(2)]);
    let v1 = w
        .get(
            &format!("/api/v1/candidates/{ada_id}/answers/feedback/1"),
            &w.grace,
        )
        .json();
    assert_eq!(v1["text"], "First draft.");
    let reports = w
        .get(&format!("/api/v1/candidates/{ada_id}/reports"), &w.grace)
        .json();
    assert_eq!(items(&reports["reports"]).len(), 1);
    let path = format!("/api/v1/candidates/{ada_id}/reports/{}", sent.digest());
    let stored = w.get(&path, &w.grace);
    assert_eq!(
        Report::from_json(stored.body.as_bytes()).ok().as_ref(),
        Some(sent)
    );
    ada_id
}

fn scores_are_checked_and_exported(w: &World, ada_id: &str) {
    let path = format!("/api/v1/scores/{ada_id}");
    let scored = w.send("PUT", &path, &w.grace, &json!({ "scores": [
        { "topic": "iac", "criterion": "Understanding Errors", "score": 3, "note": "found the apt lock, \"mostly\"" },
        { "topic": "leadership", "criterion": "Strategic Thinking", "score": 4 },
    ]}));
    assert_eq!(scored.status, 200, "{}", scored.body);
    assert_eq!(items(&scored.json()["scores"]).len(), 2);
    let rescore = json!({ "scores": [{ "topic": "iac", "criterion": "Understanding Errors", "score": 2, "note": "=cmd" }] });
    assert_eq!(w.send("PUT", &path, &w.grace, &rescore).status, 200);
    for bad in [
        json!({ "scores": [{ "topic": "iac", "criterion": "Charisma", "score": 3 }] }),
        json!({ "scores": [{ "topic": "iac", "criterion": "Understanding Errors", "score": 5 }] }),
        json!({ "scores": [] }),
    ] {
        let refused = w.send("PUT", &path, &w.grace, &bad);
        assert_eq!(refused.status, 422, "{bad}: {}", refused.body);
    }
    let page = w
        .get(&format!("/api/v1/candidates/{ada_id}"), &w.grace)
        .json();
    assert_eq!(page["topics"][0]["criteria"][0]["mine"]["score"], 2);

    let csv = w.get("/api/v1/export/scores.csv", &w.grace);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "candidate_id,candidate_name,reviewer,topic,criterion,score,note,updated_at"
    );
    assert_eq!(lines.len(), 3, "{}", csv.body);
    let first_row = format!("{ada_id},Ada,Grace,iac,Understanding Errors,2,'=cmd,");
    assert!(lines[1].starts_with(&first_row), "{}", lines[1]);
    let exported = w.get("/api/v1/export/scores.json", &w.grace).json();
    assert_eq!(items(&exported["scores"]).len(), 2);
    assert_eq!(exported["scores"][1]["criterion"], "Strategic Thinking");
}

fn invites_through_the_api_work(w: &World) {
    let body = json!({ "name": "Carol", "email": "carol@example.com", "expires_days": 7 });
    let invited = w.send("POST", "/api/v1/invites", &w.grace, &body);
    assert_eq!(invited.status, 201, "{}", invited.body);
    let reply = invited.json();
    let carol = reply["token"].as_str().unwrap_or_default();
    assert!(
        reply["link"].as_str().is_some_and(|l| l.ends_with(carol)),
        "{reply}"
    );
    assert_eq!(
        w.get("/api/v1/me", carol).json()["candidate"]["name"],
        "Carol"
    );
}

/// Concurrent writers on one version: exactly one wins, the others get 412.
fn one_of_concurrent_writers_wins(w: &World) {
    assert_eq!(
        w.put(&w.bob, "infra", ("if-none-match", "*"), "base")
            .status,
        201
    );
    let outcomes: Vec<u16> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    w.put(
                        &w.bob,
                        "infra",
                        ("if-match", "\"1\""),
                        &format!("writer {i}"),
                    )
                    .status
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|h| h.join().expect("a writer thread"))
            .collect()
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
}

/// Submission freezes answers and new reports; duplicates and repeats stay idempotent.
fn submission_freezes_the_candidate(w: &World, sent: &Report) {
    let submitted = w.send("POST", "/api/v1/submit", &w.ada, &json!({}));
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let frozen = w.put(&w.ada, "feedback", ("if-match", "\"2\""), "Too late.");
    assert_eq!(frozen.status, 409, "{}", frozen.body);
    assert_eq!(w.post_report(&w.ada, &report("new run")).status, 409);
    assert_eq!(w.post_report(&w.ada, sent).status, 200);
    let again = w.send("POST", "/api/v1/submit", &w.ada, &json!({}));
    assert_eq!(
        again.json()["submitted_at"],
        submitted.json()["submitted_at"]
    );
    let list = w.get("/api/v1/candidates", &w.grace).json();
    assert!(
        items(&list["candidates"])
            .iter()
            .any(|c| c["status"] == "submitted")
    );
}

fn operations_endpoints_answer(w: &World) {
    assert_eq!(w.unauthenticated("/healthz").status, 200);
    assert_eq!(w.unauthenticated("/readyz").status, 200);
    let metrics = w.unauthenticated("/metrics").body;
    for line in [
        "intake_answers_stored_total 5",
        "intake_reports_received_total{outcome=\"duplicate\"} 2",
        "intake_http_requests_total{route=\"/api/v1/answers/{slot}\",method=\"PUT\",status=\"412\"} 9",
    ] {
        assert!(metrics.contains(line), "{line} missing in\n{metrics}");
    }
}

/// Reports stored before the list carried topic statuses (migration 0002 adds the column, empty)
/// get them from their bodies when the server starts again.
fn earlier_reports_get_their_topic_statuses(mut w: World, backend: &Backend) {
    w.server
        .terminate(std::time::Duration::from_secs(30))
        .expect("sre-intake stops");
    let url = backend.database_url();
    let blanked = tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(async {
            sqlx::any::install_default_drivers();
            let db = sqlx::AnyPool::connect(&url).await?;
            let done = sqlx::query("UPDATE reports SET topics = ''")
                .execute(&db)
                .await?;
            db.close().await;
            Ok::<u64, sqlx::Error>(done.rows_affected())
        })
        .expect("blanking the topic statuses");
    assert!(blanked > 0, "the scenario stored reports");

    let server = Intake::start(Path::new(BIN), backend, &[]).expect("sre-intake starts again");
    let list = w
        .http
        .get(&server.url("/api/v1/candidates"), &w.grace)
        .json();
    let ada = items(&list["candidates"])
        .iter()
        .find(|c| c["candidate"]["name"] == "Ada")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        ada["report"]["topics"],
        topic_statuses_of_report(),
        "{}",
        server.log()
    );
    assert!(
        server
            .log()
            .contains("filled in the topic statuses of earlier reports"),
        "{}",
        server.log()
    );
}
