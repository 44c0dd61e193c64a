//! Durability: candidates write answers under load, the server is killed with SIGKILL (or stopped
//! with SIGTERM), restarted on the same database, and every write it acknowledged is there with
//! its exact text. At most the one write each client had in flight may also be there.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sre_e2e::intake::{Backend, Http, Intake, invite, reviewer};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");
const WRITERS: usize = 6;

#[test]
fn acknowledged_writes_survive_sigkill_on_sqlite() {
    survives(&Backend::sqlite(), Stop::Kill);
}

#[test]
fn acknowledged_writes_survive_sigkill_on_postgres() {
    survives(&Backend::postgres(), Stop::Kill);
}

#[test]
fn sigterm_drains_and_keeps_every_acknowledged_write_on_sqlite() {
    survives(&Backend::sqlite(), Stop::Term);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Kill,
    Term,
}

/// What one writer saw: the versions acknowledged, with their texts, in order.
struct Acked {
    token: String,
    writes: Vec<(i64, String)>,
}

fn survives(backend: &Backend, stop: Stop) {
    let bin = Path::new(BIN);
    let grace = reviewer(bin, backend, "Grace");
    let tokens: Vec<String> = (0..WRITERS)
        .map(|i| invite(bin, backend, &format!("Writer {i}")).1)
        .collect();
    let mut server =
        Intake::start(bin, backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let url = server.url("/api/v1/answers/feedback");
    let stopping = AtomicBool::new(false);
    let acked_total = AtomicUsize::new(0);

    let acked: Vec<Acked> = std::thread::scope(|s| {
        let writers: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let (url, stopping, acked_total) = (&url, &stopping, &acked_total);
                s.spawn(move || write_until_gone(i, token, url, stopping, acked_total))
            })
            .collect();
        // Let the load build up, then stop the server in the middle of it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked_total.load(Ordering::SeqCst) < 600 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        match stop {
            Stop::Kill => server.kill(),
            Stop::Term => {
                let status = server
                    .terminate(Duration::from_secs(15))
                    .expect("sre-intake exits after SIGTERM");
                assert!(
                    status.success(),
                    "exit after SIGTERM: {status}\n{}",
                    server.log()
                );
                assert!(server.log().contains("shutting down"), "{}", server.log());
            }
        }
        stopping.store(true, Ordering::SeqCst);
        writers
            .into_iter()
            .map(|w| w.join().expect("a writer thread"))
            .collect()
    });
    let total: usize = acked.iter().map(|a| a.writes.len()).sum();
    assert!(
        total >= 100,
        "only {total} writes were acknowledged before the stop"
    );

    let server = Intake::start(bin, backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();
    let candidates = http.get(&server.url("/api/v1/candidates"), &grace).json();
    let mut checked = 0;
    for a in &acked {
        let me = http.get(&server.url("/api/v1/me"), &a.token).json();
        let id = me["candidate"]["id"].as_str().expect("a JSON string");
        assert!(
            candidates["candidates"]
                .as_array()
                .expect("a JSON array")
                .iter()
                .any(|c| c["candidate"]["id"] == id)
        );
        let history = http
            .get(
                &server.url(&format!("/api/v1/candidates/{id}/answers/feedback")),
                &grace,
            )
            .json();
        let stored: Vec<i64> = history["versions"]
            .as_array()
            .expect("a JSON array")
            .iter()
            .map(|v| v["version"].as_i64().expect("a JSON integer"))
            .collect();
        let last_acked = a.writes.last().map_or(0, |(v, _)| *v);
        let latest = stored.last().copied().unwrap_or(0);
        assert!(
            latest == last_acked || latest == last_acked + 1,
            "{id}: last acknowledged version {last_acked}, latest stored {latest}"
        );
        assert_eq!(
            stored,
            (1..=latest).collect::<Vec<_>>(),
            "{id}: versions are contiguous"
        );
        for (version, text) in &a.writes {
            let found = http.get(
                &server.url(&format!(
                    "/api/v1/candidates/{id}/answers/feedback/{version}"
                )),
                &grace,
            );
            assert_eq!(found.status, 200, "{id} v{version} lost: {}", found.body);
            assert_eq!(found.json()["text"], *text, "{id} v{version} changed");
            checked += 1;
        }
    }
    eprintln!(
        "{} ({stop:?}): all {checked} acknowledged writes found after restart",
        backend.name()
    );
}

/// Writes new versions as fast as the server answers, until a request gets no reply.
fn write_until_gone(
    i: usize,
    token: &str,
    url: &str,
    stopping: &AtomicBool,
    total: &AtomicUsize,
) -> Acked {
    let http = Http::new();
    let auth = format!("Bearer {token}");
    let mut writes: Vec<(i64, String)> = Vec::new();
    let mut n = 0u64;
    loop {
        n += 1;
        let text = format!("writer {i}, write {n}: {}", "text ".repeat(20));
        let precondition = match writes.last() {
            Some((v, _)) => ("if-match", format!("\"{v}\"")),
            None => ("if-none-match", "*".to_owned()),
        };
        let body = json!({ "text": text }).to_string();
        let reply = http.send(
            "PUT",
            url,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                (precondition.0, &precondition.1),
            ],
            body.as_bytes(),
        );
        match reply {
            Ok(r) if r.status == 200 || r.status == 201 => {
                writes.push((r.json()["version"].as_i64().expect("a JSON integer"), text));
                total.fetch_add(1, Ordering::SeqCst);
            }
            // Stopping: a 503 from a draining server is a refusal, not an acknowledgement.
            Ok(r) if stopping.load(Ordering::SeqCst) || r.status == 503 => break,
            Ok(r) => panic!("writer {i}: unexpected {}: {}", r.status, r.body),
            Err(_) => break,
        }
    }
    Acked {
        token: token.to_owned(),
        writes,
    }
}
