//! The bad-input corpus: every request here is wrong in one way, and each must get the right 4xx
//! with a JSON `{error, detail}` body, while the server keeps serving. Runs on both backends.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use sre_e2e::intake::{Backend, Http, Intake, Reply, invite, raw, reviewer};
use sre_intake::store::{self, Location};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

#[test]
fn bad_input_on_sqlite() {
    corpus(&Backend::sqlite());
}

#[test]
fn bad_input_on_postgres() {
    corpus(&Backend::postgres());
}

/// One request of the corpus and what it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    error: &'static str,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &str,
    status: u16,
    error: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        status,
        error,
    }
}

impl Case {
    fn token(mut self, token: &str) -> Case {
        self.headers
            .push(("authorization", format!("Bearer {token}")));
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Case {
        self.headers.push((name, value.to_owned()));
        self
    }
    fn json(mut self, body: impl Into<Vec<u8>>) -> Case {
        self.headers
            .push(("content-type", "application/json".to_owned()));
        self.body = body.into();
        self
    }
}

/// Sets an invite's expiry in the past, straight in the database.
fn expire(backend: &Backend, name: &str) {
    let args = backend.args();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let data_dir = Path::new(&args[1]).to_path_buf();
        let location = match backend {
            Backend::Sqlite(_) => Location {
                url: None,
                data_dir: &data_dir,
            },
            Backend::Postgres(_) => Location {
                url: Some(&args[1]),
                data_dir: &data_dir,
            },
        };
        let db = store::open(&location, Duration::from_secs(5))
            .await
            .expect("the test database");
        sqlx::query(
            "UPDATE candidates SET expires_at = '2000-01-01T00:00:00.000Z' WHERE name = $1",
        )
        .bind(name)
        .execute(&db.write)
        .await
        .expect("expiring the invite");
        db.close().await;
    });
}

fn corpus(backend: &Backend) {
    let bin = Path::new(BIN);
    let grace = reviewer(bin, backend, "Grace");
    let (_, ada) = invite(bin, backend, "Ada");
    let (_, bob) = invite(bin, backend, "Bob");
    let (_, old) = invite(bin, backend, "Old");
    expire(backend, "Old");
    let server = Intake::start(bin, backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();
    let first = http.json(
        "PUT",
        &server.url("/api/v1/answers/feedback"),
        &bob,
        &[("if-none-match", "*")],
        &json!({"text": "mine"}),
    );
    assert_eq!(first.status, 201);
    let bob_id = http.get(&server.url("/api/v1/me"), &bob).json()["candidate"]["id"]
        .as_str()
        .expect("a JSON string")
        .to_owned();
    let forged = "A".repeat(43);
    let answer = "/api/v1/answers/feedback";
    let big_text = "x".repeat(300 * 1024);
    let huge_body = format!("{{\"text\": \"{}\"}}", "y".repeat(1100 * 1024));
    let mut bad_utf8 = b"{\"text\": \"caf".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(b"\"}");
    // The start of a gzip stream: the server must refuse it from the header alone.
    let gzip_magic = vec![
        0x1f_u8, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    ];
    let huge_report = format!("{{\"schema\": \"{}\"}}", "z".repeat(6 * 1024 * 1024));

    let cases = vec![
        // Authentication.
        case("no token", "GET", "/api/v1/me", 401, "unauthorized"),
        case("forged token", "GET", "/api/v1/me", 401, "unauthorized").token(&forged),
        case("short token", "GET", "/api/v1/me", 401, "unauthorized").token("abc"),
        case("basic auth", "GET", "/api/v1/me", 401, "unauthorized").header("authorization", "Basic YWRhOmFkYQ=="),
        case("expired invite", "GET", "/api/v1/me", 401, "invite_expired").token(&old),
        case("candidate on reviewer list", "GET", "/api/v1/candidates", 403, "forbidden").token(&ada),
        case("candidate reads another candidate", "GET", &format!("/api/v1/candidates/{bob_id}"), 403, "forbidden").token(&ada),
        case("candidate scores", "PUT", &format!("/api/v1/scores/{bob_id}"), 403, "forbidden").token(&ada).json("{}"),
        case("candidate exports", "GET", "/api/v1/export/scores.csv", 403, "forbidden").token(&ada),
        case("reviewer writes an answer", "PUT", answer, 403, "forbidden").token(&grace).header("if-none-match", "*").json("{\"text\":\"x\"}"),
        // Slots and paths.
        case("unknown slot", "GET", "/api/v1/answers/kubernetes", 422, "unknown_slot").token(&ada),
        case("encoded traversal in slot", "GET", "/api/v1/answers/..%2F..%2Fetc%2Fpasswd", 422, "unknown_slot").token(&ada),
        case("dot-dot slot", "PUT", "/api/v1/answers/%2e%2e", 422, "unknown_slot").token(&ada).header("if-none-match", "*").json("{\"text\":\"x\"}"),
        case("invalid UTF-8 in path", "GET", "/api/v1/answers/%FF%FE", 400, "bad_path").token(&ada),
        case("unknown candidate", "GET", "/api/v1/candidates/c-0000000000000000", 404, "not_found").token(&grace),
        case("traversal as candidate id", "GET", "/api/v1/candidates/..%2F..%2Fetc", 404, "not_found").token(&grace),
        case("bad version number", "GET", &format!("/api/v1/candidates/{bob_id}/answers/feedback/abc"), 400, "bad_path").token(&grace),
        case("unknown API route", "GET", "/api/v1/nothing/here", 404, "not_found").token(&ada),
        case("wrong method", "DELETE", answer, 405, "method_not_allowed").token(&ada),
        // Bodies.
        case("malformed JSON", "PUT", answer, 400, "malformed_json").token(&ada).header("if-none-match", "*").json("{\"text\": "),
        case("invalid UTF-8 in JSON", "PUT", answer, 400, "malformed_json").token(&ada).header("if-none-match", "*").json(bad_utf8),
        case("wrong type", "PUT", answer, 422, "invalid_body").token(&ada).header("if-none-match", "*").json("{\"text\": 5}"),
        case("unknown field", "PUT", answer, 422, "invalid_body").token(&ada).header("if-none-match", "*").json("{\"text\": \"a\", \"admin\": true}"),
        case("JSON array", "PUT", answer, 422, "invalid_body").token(&ada).header("if-none-match", "*").json("[1, 2]"),
        case("no content type", "PUT", answer, 415, "unsupported_media_type").token(&ada).header("if-none-match", "*"),
        case("NUL in text", "PUT", answer, 422, "invalid_text").token(&ada).header("if-none-match", "*").json("{\"text\": \"a\\u0000b\"}"),
        case("text over 256 KiB", "PUT", answer, 413, "too_large").token(&ada).header("if-none-match", "*").json(format!("{{\"text\": \"{big_text}\"}}")),
        // Oversized bodies are announced with Expect: 100-continue, as careful clients do: the
        // server refuses them from Content-Length, before they are sent.
        case("body over 1 MiB", "PUT", answer, 413, "too_large").token(&ada).header("if-none-match", "*").header("expect", "100-continue").json(huge_body),
        // Preconditions.
        case("no precondition", "PUT", answer, 428, "precondition_required").token(&ada).json("{\"text\":\"x\"}"),
        case("malformed If-Match", "PUT", answer, 400, "malformed_precondition").token(&ada).header("if-match", "version 3").json("{\"text\":\"x\"}"),
        case("both preconditions", "PUT", answer, 400, "conflicting_preconditions").token(&ada).header("if-match", "\"1\"").header("if-none-match", "*").json("{\"text\":\"x\"}"),
        case("If-Match before any version", "PUT", answer, 412, "precondition_failed").token(&ada).header("if-match", "\"1\"").json("{\"text\":\"x\"}"),
        case("weak tag on a write", "PUT", answer, 412, "precondition_failed").token(&bob).header("if-match", "W/\"1\"").json("{\"text\":\"x\"}"),
        // Entity tags are read exactly as the API writes them (issue 13.7): `"+1"` and `"01"` are
        // not version 1.
        case("If-Match with a sign", "PUT", answer, 400, "malformed_precondition").token(&bob).header("if-match", "\"+1\"").json("{\"text\":\"x\"}"),
        case("If-Match with a leading zero", "PUT", answer, 400, "malformed_precondition").token(&bob).header("if-match", "\"01\"").json("{\"text\":\"x\"}"),
        // A compressed body is refused, not parsed as if it were plain (issue 13.7).
        case("gzip-encoded body", "PUT", answer, 415, "unsupported_content_encoding").token(&bob).header("if-match", "\"1\"").header("content-encoding", "gzip").json(gzip_magic.clone()),
        case("gzip-encoded report", "POST", "/api/v1/reports", 415, "unsupported_content_encoding").token(&bob).header("content-encoding", "gzip").json(gzip_magic.clone()),
        // Reports.
        case("report that is not one", "POST", "/api/v1/reports", 422, "invalid_report").token(&ada).json("{\"schema\": \"sre-check.report/1\"}"),
        case("report of another schema", "POST", "/api/v1/reports", 422, "invalid_report").token(&ada).json("{\"schema\": \"sre-check.report/9\", \"tool\": {\"name\": \"x\", \"version\": \"1\"}, \"challenge\": {\"version\": \"1.0.0\", \"digest\": \"d\"}, \"host\": {\"os\": \"x\", \"docker\": null, \"compose\": null}, \"started_at\": \"2026-01-01T00:00:00Z\", \"finished_at\": \"2026-01-01T00:00:01Z\", \"files\": [], \"topics\": []}"),
        case("report over 5 MiB", "POST", "/api/v1/reports", 413, "too_large").token(&ada).header("expect", "100-continue").json(huge_report),
        case("report as text", "POST", "/api/v1/reports", 415, "unsupported_media_type").token(&ada).header("content-type", "text/plain"),
        // Reviewer bodies.
        case("score as string", "PUT", &format!("/api/v1/scores/{bob_id}"), 422, "invalid_body").token(&grace).json("{\"scores\": [{\"topic\": \"iac\", \"criterion\": \"Understanding Errors\", \"score\": \"4\"}]}"),
        case("invite without name", "POST", "/api/v1/invites", 422, "invalid_invite").token(&grace).json("{\"name\": \"  \"}"),
        case("invite for ten years", "POST", "/api/v1/invites", 422, "invalid_invite").token(&grace).json("{\"name\": \"Dan\", \"expires_days\": 3650}"),
        case("invite with a negative expiry", "POST", "/api/v1/invites", 422, "invalid_body").token(&grace).json("{\"name\": \"Dan\", \"expires_days\": -1}"),
    ];

    let mut problems = Vec::new();
    for case in &cases {
        let headers: Vec<(&str, &str)> =
            case.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        // A fresh connection per case: the server closes a connection whose request body it
        // refused unread (413, early 4xx), and a pooled connection could be that one.
        let reply =
            match Http::new().send(case.method, &server.url(&case.path), &headers, &case.body) {
                Ok(reply) => reply,
                Err(e) => {
                    problems.push(format!("{}: no reply: {e:#}", case.name));
                    continue;
                }
            };
        if let Some(problem) = mismatch(case, &reply) {
            problems.push(format!("{}: {problem}", case.name));
        }
    }

    // Requests a client library would normalize or refuse, sent raw.
    let traversal = format!(
        "GET /api/v1/answers/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ada}\r\nConnection: close\r\n\r\n"
    );
    let (status, text) = raw(server.addr(), traversal.as_bytes()).expect("a raw reply");
    if status != 404 || text.contains("root:") {
        problems.push(format!("raw traversal: got {status}: {text}"));
    }
    let protocol = protocol_cases(&ada);
    for case in &protocol {
        if let Some(problem) = protocol_mismatch(server.addr(), case) {
            problems.push(format!("{}: {problem}", case.name));
        }
    }

    assert!(
        problems.is_empty(),
        "{} of {} cases wrong:\n- {}",
        problems.len(),
        cases.len() + 1 + protocol.len(),
        problems.join("\n- ")
    );

    // Still serving, and nothing panicked.
    let mut server = server;
    assert!(server.is_running(), "the server died:\n{}", server.log());
    let ok = http.json(
        "PUT",
        &server.url(answer),
        &ada,
        &[("if-none-match", "*")],
        &json!({"text": "still here"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        http.send("GET", &server.url("/readyz"), &[], b"")
            .expect("the server answers")
            .status,
        200
    );
    assert!(!server.log().contains("panicked"), "{}", server.log());
    eprintln!(
        "{}: {} bad inputs answered correctly",
        backend.name(),
        cases.len() + 1 + protocol.len()
    );
}

fn mismatch(case: &Case, reply: &Reply) -> Option<String> {
    if reply.status != case.status {
        return Some(format!(
            "expected {}, got {}: {}",
            case.status, reply.status, reply.body
        ));
    }
    if !reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
    {
        return Some(format!(
            "not JSON: {:?} {}",
            reply.header("content-type"),
            reply.body
        ));
    }
    let body: serde_json::Value = match serde_json::from_str(&reply.body) {
        Ok(v) => v,
        Err(e) => return Some(format!("body is not JSON ({e}): {}", reply.body)),
    };
    if body["error"] != case.error || !body["detail"].is_string() {
        return Some(format!(
            "expected error `{}` with a detail, got {body}",
            case.error
        ));
    }
    None
}

/// A request that is wrong at the protocol level, sent raw, and what it must get: a JSON error
/// and the connection closed, or (`status` 0) no reply at all.
struct Protocol {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    error: &'static str,
}

fn protocol(
    name: &'static str,
    request: impl Into<Vec<u8>>,
    status: u16,
    error: &'static str,
) -> Protocol {
    Protocol {
        name,
        request: request.into(),
        status,
        error,
    }
}

/// Requests hyper refuses to parse (answered by the connection, `request_head::JsonRefusals`)
/// and heads over the server's own limits (answered by the API, `request_head::within_limits`).
fn protocol_cases(token: &str) -> Vec<Protocol> {
    let get = |headers: &str| {
        format!("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n")
    };
    let many = |n: usize| (0..n).map(|i| format!("X-H{i}: y\r\n")).collect::<String>();
    let long_uri = |n: usize| {
        format!(
            "GET /api/v1/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "a".repeat(n)
        )
    };
    let put = |headers: &str, body: &str| {
        format!(
            "PUT /api/v1/answers/feedback HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
             If-None-Match: *\r\nContent-Type: application/json\r\n{headers}\r\n{body}"
        )
    };
    vec![
        // Refused by hyper before any service runs: 400, 414 or 431 with the JSON error.
        protocol(
            "garbage request line",
            "NONSENSE\r\n\r\n",
            400,
            "malformed_request",
        ),
        protocol(
            "unknown HTTP version",
            "GET /api/v1/me HTTP/9.9\r\nHost: x\r\n\r\n",
            400,
            "malformed_request",
        ),
        protocol(
            "space in a header name",
            get("Ho st: x\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "space before a colon",
            get("X-A : x\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "folded header line",
            get("X-A: a\r\n  b\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "NUL in a header value",
            get("X-A: a\0b\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "Content-Length not a number",
            get("Content-Length: abc\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "negative Content-Length",
            get("Content-Length: -1\r\n"),
            400,
            "malformed_request",
        ),
        protocol(
            "two different Content-Lengths",
            put("Content-Length: 1\r\nContent-Length: 2\r\n", "{}"),
            400,
            "malformed_request",
        ),
        protocol(
            "Transfer-Encoding not chunked",
            put("Transfer-Encoding: gzip\r\n", ""),
            400,
            "malformed_request",
        ),
        protocol(
            "URI beyond hyper's limit",
            long_uri(70 * 1024),
            414,
            "uri_too_long",
        ),
        protocol(
            "1,500 header fields",
            get(&many(1500)),
            431,
            "headers_too_large",
        ),
        protocol(
            "a 300 KiB header",
            get(&format!("X-Big: {}\r\n", "y".repeat(300 * 1024))),
            431,
            "headers_too_large",
        ),
        // Over the server's own limits, under hyper's: answered by the API.
        protocol("URI over 8 KiB", long_uri(20 * 1024), 414, "uri_too_long"),
        protocol(
            "150 header fields",
            get(&many(150)),
            431,
            "headers_too_large",
        ),
        protocol(
            "a 40 KiB header",
            get(&format!("X-Big: {}\r\n", "y".repeat(40 * 1024))),
            431,
            "headers_too_large",
        ),
        // Framing errors in a body: the API reads the body and answers.
        protocol(
            "chunk size not hex",
            put("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"),
            400,
            "unreadable_body",
        ),
        protocol(
            "Content-Length beside chunked",
            put(
                "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
            "malformed_json",
        ),
        // An HTTP/2 client gets nothing it could read as HTTP/1.1: hyper closes the connection
        // without a reply (documented in the README).
        protocol("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, ""),
    ]
}

fn protocol_mismatch(addr: &str, case: &Protocol) -> Option<String> {
    let reply = match raw(addr, &case.request) {
        Ok((_, reply)) => reply,
        Err(e) if case.status == 0 && format!("{e:#}").contains("no HTTP status in \"\"") => {
            return None;
        }
        Err(e) => return Some(format!("no reply: {e:#}")),
    };
    if case.status == 0 {
        return Some(format!("expected no reply, got {reply:?}"));
    }
    let Some((head, body)) = reply.split_once("\r\n\r\n") else {
        return Some(format!("no end of head: {reply:?}"));
    };
    let head = head.to_ascii_lowercase();
    if !head.starts_with(&format!("http/1.1 {} ", case.status)) {
        return Some(format!("expected {}, got {head:?} {body}", case.status));
    }
    // Every request here asks for it, and hyper's refusals close the connection anyway.
    if !head.contains("\r\nconnection: close\r\n") {
        return Some(format!("connection not closed: {head:?}"));
    }
    if !head.contains("\r\ncontent-type: application/json") {
        return Some(format!("not JSON: {head:?} {body}"));
    }
    let body: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Some(format!("body is not JSON ({e}): {body:?}")),
    };
    if body["error"] != case.error || !body["detail"].is_string() {
        return Some(format!(
            "expected error `{}` with a detail, got {body}",
            case.error
        ));
    }
    None
}
