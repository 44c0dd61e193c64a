//! The verification queue (issue 17) against a real server, SQLite and PostgreSQL, without
//! Docker: worker tokens reach only the worker routes; 24 concurrent claims by three workers take
//! each of 8 submissions exactly once; a lease that expired is claimed again and the old holder's
//! finish is refused; a finish stores the verified report and the disagreements; a job whose
//! leases all expired ends as `error`; `/metrics` counts the queue.

mod work;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sre_e2e::intake::{Backend, Http, Intake, Reply, cli, invite, reviewer};
use work::{WorkFile, report_for, upload, valid};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

fn bin() -> &'static Path {
    Path::new(BIN)
}

#[test]
fn queue_on_sqlite() {
    queue(&Backend::sqlite());
}

#[test]
fn queue_on_postgres() {
    queue(&Backend::postgres());
}

fn post(http: &Http, server: &Intake, path: &str, token: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    http.send(
        "POST",
        &server.url(&format!("/api/v1{path}")),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &serde_json::to_vec(body).expect("JSON"),
    )
    .expect("the server answers")
}

fn files(n: usize) -> Vec<WorkFile> {
    vec![WorkFile::new(
        "infrastructure/playbook.yml",
        format!("# submission {n}\n- hosts: all\n  tasks: []\n"),
    )]
}

fn queue(backend: &Backend) {
    let grace = reviewer(bin(), backend, "Grace");
    let workers: Vec<String> = (1..=3)
        .map(|n| {
            cli(
                bin(),
                backend,
                &["worker", "create", "--name", &format!("w{n}")],
            )
            .expect("a worker token")
        })
        .collect();
    assert!(
        cli(bin(), backend, &["worker", "create", "--name", "w1"]).is_err(),
        "worker names are unique"
    );
    let candidates: Vec<String> = (0..8)
        .map(|n| invite(bin(), backend, &format!("C{n}")).1)
        .collect();
    let server = Intake::start(bin(), backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();

    // Nothing waits yet; a worker token reaches nothing else, other tokens cannot claim.
    let empty = post(&http, &server, "/worker/claim", &workers[0], &json!({}));
    assert_eq!(empty.status, 204, "{}", empty.body);
    assert_eq!(
        http.get(&server.url("/api/v1/candidates"), &workers[0])
            .status,
        403
    );
    assert_eq!(
        post(&http, &server, "/worker/claim", &grace, &json!({})).status,
        403
    );
    assert_eq!(
        post(&http, &server, "/worker/claim", &candidates[0], &json!({})).status,
        403
    );
    let bad = post(
        &http,
        &server,
        "/worker/claim",
        &workers[0],
        &json!({ "lease_seconds": 1 }),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);

    for (n, token) in candidates.iter().enumerate() {
        upload(
            &http,
            &server,
            token,
            &valid(&files(n), &format!("run {n}")),
        );
        // Distinct arrival times: the queue is oldest first.
        std::thread::sleep(Duration::from_millis(5));
    }

    // 24 claims at once from three workers: 8 jobs, each once.
    let claims: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let (http, server, token) = (&http, &server, &workers[i % 3]);
                scope.spawn(move || {
                    post(
                        http,
                        server,
                        "/worker/claim",
                        token,
                        &json!({ "lease_seconds": 60 }),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a claim"))
            .collect()
    });
    let mut claimed: Vec<Value> = claims
        .iter()
        .filter(|r| r.status == 200)
        .map(Reply::json)
        .collect();
    assert_eq!(
        claimed.len(),
        8,
        "{:?}",
        claims.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(claims.iter().all(|r| r.status == 200 || r.status == 204));
    let mut ids: Vec<&str> = claimed
        .iter()
        .map(|j| j["submission"]["id"].as_str().expect("an id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "every submission claimed once: {claimed:?}");
    assert!(claimed.iter().all(|j| j["attempt"] == 1));

    let metrics = http.get(&server.url("/metrics"), "").body;
    assert!(
        metrics.contains("intake_verification_claims_total 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("intake_verification_queue_running 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("intake_verification_queue_pending 0"),
        "{metrics}"
    );

    // Which worker holds which job: the lease is checked against it.
    let holder = |job: &Value| -> usize {
        (0..3)
            .find(|w| {
                post(
                    &http,
                    &server,
                    &format!(
                        "/worker/jobs/{}/heartbeat",
                        job["lease"].as_str().expect("a string")
                    ),
                    &workers[*w],
                    &json!({ "lease_seconds": 60 }),
                )
                .status
                    == 200
            })
            .expect("one worker holds the lease")
    };

    // Finish the first with a report that fails a check the candidate reported as passing.
    claimed.sort_by_key(|j| {
        j["submission"]["received_at"]
            .as_str()
            .expect("a string")
            .to_owned()
    });
    let first = &claimed[0];
    let w = holder(first);
    let lease = first["lease"].as_str().expect("a string");
    let archive = http.get(
        &server.url(&format!("/api/v1/worker/jobs/{lease}/archive")),
        &workers[w],
    );
    assert_eq!(archive.status, 200);
    assert_eq!(archive.header("content-type"), Some("application/gzip"));
    let mut verified = report_for(&files(0), "verified");
    for topic in &mut verified.topics {
        for check in &mut topic.checks {
            check.status = sre_model::Status::Fail;
        }
        topic.status = sre_model::Status::of_checks(&topic.checks);
    }
    let reported_passes = report_for(&files(0), "x")
        .topics
        .iter()
        .flat_map(|t| &t.checks)
        .filter(|c| c.status == sre_model::Status::Pass)
        .count();
    let done = post(
        &http,
        &server,
        &format!("/worker/jobs/{lease}/finish"),
        &workers[w],
        &json!({ "runtime": "runsc", "sandboxed": true, "report": verified }),
    );
    assert_eq!(done.status, 200, "{}", done.body);
    // Finished: the lease is gone.
    let again = post(
        &http,
        &server,
        &format!("/worker/jobs/{lease}/finish"),
        &workers[w],
        &json!({ "runtime": "runsc", "sandboxed": true, "error": "twice" }),
    );
    assert_eq!(again.status, 409, "{}", again.body);

    let first_candidate = first["submission"]["candidate_id"]
        .as_str()
        .expect("a string");
    let page = http
        .get(
            &server.url(&format!("/api/v1/candidates/{first_candidate}")),
            &grace,
        )
        .json();
    let v = &page["verification"];
    assert_eq!(
        v["state"],
        if reported_passes > 0 {
            "disagreement"
        } else {
            "verified"
        },
        "{v:#}"
    );
    assert_eq!(v["disagreements"], reported_passes, "{v:#}");
    assert_eq!(v["worker"], format!("w{}", w + 1), "{v:#}");
    assert_eq!(v["runtime"], "runsc");
    let list = http.get(&server.url("/api/v1/candidates"), &grace).json();
    let states: Vec<&str> = list["candidates"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|c| c["verification"]["state"].as_str())
        .collect();
    assert_eq!(states.len(), 8, "{list:#}");
    assert_eq!(
        states.iter().filter(|s| **s == "running").count(),
        7,
        "{states:?}"
    );

    // The second job's lease expires: another worker claims it again, the old holder loses it.
    let second = &claimed[1];
    let old = holder(second);
    let old_lease = second["lease"].as_str().expect("a string");
    let short = post(
        &http,
        &server,
        &format!("/worker/jobs/{old_lease}/heartbeat"),
        &workers[old],
        &json!({ "lease_seconds": 5 }),
    );
    assert_eq!(short.status, 200);
    std::thread::sleep(Duration::from_millis(5_500));
    let other = (old + 1) % 3;
    let retaken = post(
        &http,
        &server,
        "/worker/claim",
        &workers[other],
        &json!({ "lease_seconds": 5 }),
    );
    assert_eq!(retaken.status, 200, "{}", retaken.body);
    let retaken = retaken.json();
    assert_eq!(retaken["submission"]["id"], second["submission"]["id"]);
    assert_eq!(retaken["attempt"], 2);
    let late = post(
        &http,
        &server,
        &format!("/worker/jobs/{old_lease}/finish"),
        &workers[old],
        &json!({ "runtime": "runsc", "sandboxed": true, "error": "late" }),
    );
    assert_eq!(
        late.status, 409,
        "the old holder's finish is refused: {}",
        late.body
    );

    // Its leases keep expiring: the third claim is the last, then it is given up as an error.
    std::thread::sleep(Duration::from_millis(5_500));
    let third = post(
        &http,
        &server,
        "/worker/claim",
        &workers[old],
        &json!({ "lease_seconds": 5 }),
    )
    .json();
    assert_eq!(third["attempt"], 3, "{third}");
    std::thread::sleep(Duration::from_millis(5_500));
    let none = post(&http, &server, "/worker/claim", &workers[old], &json!({}));
    assert_eq!(none.status, 204, "nothing else waits: {}", none.body);
    let second_candidate = second["submission"]["candidate_id"]
        .as_str()
        .expect("a string");
    let page = http
        .get(
            &server.url(&format!("/api/v1/candidates/{second_candidate}")),
            &grace,
        )
        .json();
    assert_eq!(
        page["verification"]["state"], "error",
        "{:#}",
        page["verification"]
    );
    let metrics = http.get(&server.url("/metrics"), "").body;
    assert!(
        metrics.contains("intake_verification_finishes_total{outcome=\"verified\"} 1"),
        "{metrics}"
    );
}
