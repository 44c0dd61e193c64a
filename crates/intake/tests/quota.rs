//! The per-candidate storage quota (issue 13.2), on both backends: bytes (413) and counts (429)
//! refused with a JSON error naming the limit, counted again from the database after a restart,
//! and shown on the reviewer's candidate page.

use std::path::Path;

use serde_json::{Value, json};
use sre_e2e::intake::{Backend, Http, Intake, Reply, invite, reviewer, sample_report};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// 1 MiB, 5 answer versions, 2 reports.
const LIMITS: [&str; 8] = [
    "--rate-limit",
    "0",
    "--quota-mib",
    "1",
    "--quota-answer-versions",
    "5",
    "--quota-reports",
    "2",
];

#[test]
fn quota_on_sqlite() {
    quota(&Backend::sqlite());
}

#[test]
fn quota_on_postgres() {
    quota(&Backend::postgres());
}

/// Writes the next version of `slot`: the first if there is none, else after whichever is latest.
fn put(http: &Http, server: &Intake, token: &str, slot: &str, text: &str) -> Reply {
    let url = server.url(&format!("/api/v1/answers/{slot}"));
    let exists = http.get(&url, token).status == 200;
    let precondition = if exists {
        ("if-match", "*")
    } else {
        ("if-none-match", "*")
    };
    http.json(
        "PUT",
        &url,
        token,
        &[precondition],
        &json!({ "text": text }),
    )
}

/// A valid report; `n` gives it its own digest.
fn report(n: usize) -> Value {
    serde_json::to_value(sample_report(&format!("run {n}"))).expect("a report serializes")
}

fn quota(backend: &Backend) {
    let bin = Path::new(BIN);
    let grace = reviewer(bin, backend, "Grace");
    let (_, ada) = invite(bin, backend, "Ada");
    let (_, bob) = invite(bin, backend, "Bob");
    let mut server = Intake::start(bin, backend, &LIMITS).expect("sre-intake starts");
    let http = Http::new();
    let slot = "feedback";

    // Counts: five versions, then 429 naming the limit.
    for n in 1..=5 {
        let reply = put(&http, &server, &ada, slot, &format!("draft {n}"));
        assert!(reply.status == 200 || reply.status == 201, "{}", reply.body);
    }
    let refused = put(&http, &server, &ada, slot, "draft 6");
    assert_eq!(refused.status, 429, "{}", refused.body);
    let body = refused.json();
    assert_eq!(body["error"], "quota_count", "{body}");
    assert_eq!(body["usage"]["answer_versions"], 5, "{body}");
    assert_eq!(body["limits"]["answer_versions"], 5, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("answer versions")),
        "{body}"
    );

    // Bytes: four answers of 250,000 bytes fit in 1 MiB, a fifth would not: 413.
    let big = "x".repeat(250_000);
    for _ in 0..4 {
        let reply = put(&http, &server, &bob, slot, &big);
        assert!(reply.status == 200 || reply.status == 201, "{}", reply.body);
    }
    let refused = put(&http, &server, &bob, slot, &big);
    assert_eq!(refused.status, 413, "{}", refused.body);
    let body = refused.json();
    assert_eq!(body["error"], "quota_bytes", "{body}");
    assert_eq!(body["usage"]["bytes"], 1_000_000, "{body}");
    assert_eq!(body["limits"]["bytes"], 1024 * 1024, "{body}");
    // A small one still fits.
    let small = put(&http, &server, &bob, slot, "a short last word");
    assert_eq!(small.status, 200, "{}", small.body);

    // Reports: two, then 429; a duplicate of a stored one is not a new report.
    for n in 0..2 {
        let sent = http.json(
            "POST",
            &server.url("/api/v1/reports"),
            &bob,
            &[],
            &report(n),
        );
        assert_eq!(sent.status, 201, "{}", sent.body);
    }
    let again = http.json(
        "POST",
        &server.url("/api/v1/reports"),
        &bob,
        &[],
        &report(1),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    let refused = http.json(
        "POST",
        &server.url("/api/v1/reports"),
        &bob,
        &[],
        &report(2),
    );
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.json()["usage"]["reports"], 2, "{}", refused.body);

    // After a restart the usage is counted from the database.
    server.kill();
    let server = Intake::start(bin, backend, &LIMITS).expect("sre-intake starts again");
    let refused = put(&http, &server, &ada, slot, "draft 6");
    assert_eq!(refused.status, 429, "{}", refused.body);

    // The reviewer sees each candidate's usage and the limits.
    let me = http.get(&server.url("/api/v1/me"), &bob).json();
    let id = me["candidate"]["id"].as_str().expect("an id");
    let page = http.get(&server.url(&format!("/api/v1/candidates/{id}")), &grace);
    assert_eq!(page.status, 200, "{}", page.body);
    let storage = &page.json()["storage"];
    assert_eq!(storage["usage"]["answer_versions"], 5, "{storage}");
    assert_eq!(storage["usage"]["reports"], 2, "{storage}");
    let bytes = storage["usage"]["bytes"].as_i64().expect("bytes");
    assert!(bytes > 1_000_000 && bytes < 1024 * 1024, "{storage}");
    assert_eq!(storage["limits"]["reports"], 2, "{storage}");
}
