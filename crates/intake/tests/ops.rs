//! Operations behaviour a deployment relies on: `/readyz` follows the database (503 while it is
//! away, 200 again when it is back, `/healthz` unaffected), `--log-format json` writes one
//! JSON object per line from start to graceful stop, and the SQLite WAL is checkpointed and
//! rewound by the server (SQLite's own checkpoint is off).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sre_e2e::intake::{Backend, Http, Intake, invite};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// Polls `path` until it answers `status`; the last status seen otherwise.
fn wait_for_status(http: &Http, server: &Intake, path: &str, status: u16) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = http
            .send("GET", &server.url(path), &[], b"")
            .expect("the server answers")
            .status;
        if seen == status || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readiness_follows_the_database() {
    let bin = Path::new(BIN);
    let mut backend = Backend::postgres();
    let (_, token) = invite(bin, &backend, "Ada");
    let server = Intake::start(bin, &backend, &[]).expect("sre-intake starts");
    let http = Http::new();
    assert_eq!(wait_for_status(&http, &server, "/readyz", 200), 200);
    let Backend::Postgres(pg) = &mut backend else {
        unreachable!("Backend::postgres() is PostgreSQL")
    };

    // The database goes away: not ready (with a JSON error), still alive, and API calls that need
    // the database fail with a JSON 5xx instead of hanging or crashing the process.
    pg.stop();
    assert_eq!(
        wait_for_status(&http, &server, "/readyz", 503),
        503,
        "{}",
        server.log()
    );
    let reply = http
        .send("GET", &server.url("/readyz"), &[], b"")
        .expect("the server answers");
    assert_eq!(reply.json()["error"], "not_ready", "{}", reply.body);
    let live = http
        .send("GET", &server.url("/healthz"), &[], b"")
        .expect("the server answers");
    assert_eq!(live.status, 200, "liveness does not depend on the database");
    let me = http.get(&server.url("/api/v1/me"), &token);
    assert!(me.status >= 500, "{}: {}", me.status, me.body);
    assert!(me.json()["error"].is_string(), "{}", me.body);

    // It comes back on the same address: ready again without restarting sre-intake.
    pg.restart().expect("PostgreSQL restarts");
    assert_eq!(
        wait_for_status(&http, &server, "/readyz", 200),
        200,
        "{}",
        server.log()
    );
    assert_eq!(http.get(&server.url("/api/v1/me"), &token).status, 200);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let mut server = Intake::start(bin, &backend, &["--log-format", "json"])
        .expect("sre-intake starts with --log-format json");
    let http = Http::new();
    assert_eq!(
        http.send("GET", &server.url("/healthz"), &[], b"")
            .expect("the server answers")
            .status,
        200
    );
    server.terminate_cleanly();
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}\n{log}"))
        })
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("listening on http://")),
        "{log}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("shutting down")),
        "{log}"
    );
    assert!(messages.contains(&"stopped"), "{log}");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["timestamp"].is_string(),
            "{line}"
        );
    }
    let listening = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening"))
        })
        .expect("a listening line");
    assert_eq!(listening["backend"], "Sqlite", "{listening}");
}

/// How many times the SQLite WAL has been started again from its beginning: the checkpoint
/// sequence number in its header (read from the file, so that this test checkpoints nothing).
fn wal_restarts(database: &Path) -> u32 {
    let wal = database.with_extension("sqlite3-wal");
    let bytes = std::fs::read(&wal).unwrap_or_else(|e| panic!("{}: {e}", wal.display()));
    let field: [u8; 4] = bytes[12..16].try_into().expect("a WAL header");
    u32::from_be_bytes(field)
}

#[test]
fn the_sqlite_wal_is_checkpointed_and_rewound() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let Backend::Sqlite(dir) = &backend else {
        unreachable!("Backend::sqlite() is SQLite")
    };
    let file = dir.path().join("intake.sqlite3");
    let (_, token) = invite(bin, &backend, "Ada");
    let server = Intake::start(bin, &backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();
    let url = server.url("/api/v1/answers/feedback");
    let mut version = 0;
    let write = |version: &mut i64| {
        let precondition = if *version == 0 {
            ("if-none-match", "*".to_owned())
        } else {
            ("if-match", format!("\"{version}\""))
        };
        let text = format!("draft {} {}", *version + 1, "words ".repeat(300));
        let reply = http.json(
            "PUT",
            &url,
            &token,
            &[(precondition.0, &precondition.1)],
            &json!({ "text": text }),
        );
        assert!(reply.status == 200 || reply.status == 201, "{}", reply.body);
        *version = reply.json()["version"].as_i64().expect("a version");
    };
    write(&mut version);
    let before = wal_restarts(&file);

    // The server copies the WAL into the database and waits for readers to leave it; the next
    // write then starts it again from the beginning. SQLite's own checkpoint is off: without
    // the server's, the WAL would only grow.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut restarts = before;
    while restarts == before && Instant::now() < deadline {
        for _ in 0..20 {
            write(&mut version);
        }
        std::thread::sleep(Duration::from_millis(200));
        restarts = wal_restarts(&file);
    }
    assert!(
        restarts > before,
        "the WAL was never started again ({version} writes)\n{}",
        server.log()
    );
    let latest = http.get(&url, &token);
    assert_eq!(latest.json()["version"], version, "{}", latest.body);
    let text = format!("draft {version} ");
    assert!(
        latest.json()["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(&text))
    );
}

/// A SIGTERM that comes while the SQLite WAL is being checkpointed under writes still stops
/// cleanly: the checkpoint ends before the pools close, so nothing logs an error (it was seen
/// once as "SQLite WAL checkpoint failed … closed pool", without the final "stopped").
/// Checkpoints run every 500 ms; the signal falls at a different point of that cycle each round.
#[test]
fn sigterm_during_writes_stops_cleanly() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let (_, token) = invite(bin, &backend, "Ada");
    for round in 0..10_u64 {
        let server = Intake::start(
            bin,
            &backend,
            &["--log-format", "json", "--rate-limit", "0"],
        )
        .expect("sre-intake starts");
        let url = server.url("/api/v1/answers/feedback");
        let stop = std::sync::atomic::AtomicBool::new(false);
        let mut server = std::thread::scope(|scope| {
            scope.spawn(|| write_until_refused(&url, &token, &stop));
            std::thread::sleep(Duration::from_millis(550 + round * 47));
            let mut server = server;
            server.terminate_cleanly();
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            server
        });
        let log = server.log();
        let lines: Vec<Value> = log
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let bad: Vec<&Value> = lines
            .iter()
            .filter(|l| matches!(l["level"].as_str(), Some("WARN" | "ERROR")))
            .collect();
        assert!(bad.is_empty(), "round {round}: {bad:?}\n{log}");
        assert!(
            lines.last().is_some_and(|l| l["message"] == "stopped"),
            "round {round}: the last line is not \"stopped\"\n{log}"
        );
        assert!(!server.is_running());
    }
}

/// Writes new versions of one answer until the server stops answering or `stop` is set.
fn write_until_refused(url: &str, token: &str, stop: &std::sync::atomic::AtomicBool) {
    let http = Http::new();
    let auth = format!("Bearer {token}");
    let current = http
        .send("GET", url, &[("authorization", &auth)], b"")
        .ok()
        .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
        .and_then(|v| v["version"].as_i64())
        .unwrap_or(0);
    let mut version = current;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let precondition = if version == 0 {
            ("if-none-match", "*".to_owned())
        } else {
            ("if-match", format!("\"{version}\""))
        };
        let body = json!({ "text": format!("draft {} {}", version + 1, "words ".repeat(30_000)) });
        let Ok(reply) = http.send(
            "PUT",
            url,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                (precondition.0, &precondition.1),
            ],
            body.to_string().as_bytes(),
        ) else {
            return;
        };
        let reply = serde_json::from_str::<Value>(&reply.body).unwrap_or_default();
        match reply["version"].as_i64() {
            Some(v) => version = v,
            None => return,
        }
    }
}
