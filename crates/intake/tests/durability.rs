//! Durability: candidates write answers under load, the server is killed with SIGKILL (or stopped
//! with SIGTERM), restarted on the same database, and every write it acknowledged is there with
//! its exact text. At most the one write each client had in flight may also be there.
//!
//! The `outside` tests also do, during the load, what operators do next to a running server: read
//! the SQLite file with the `sqlite3` shell and with Python's `sqlite3` (each opening and closing
//! the database again and again), and run the admin commands (`invite create`, `reviewer create`).
//! Before issue 13's fix, the first outside reader to close the database deleted its `-wal` and
//! `-shm` files under the server, and acknowledged writes were lost after the kill.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sre_e2e::intake::{Backend, Http, Intake, cli, invite, reviewer};

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

#[test]
fn outside_readers_and_admin_commands_lose_nothing_on_sqlite() {
    // Several cycles: one was enough to lose writes before the fix, but it is cheap to be sure.
    for cycle in 1..=3 {
        eprintln!("cycle {cycle}");
        survives(&Backend::sqlite(), Stop::KillWithOutsiders);
    }
}

#[test]
fn admin_commands_while_serving_lose_nothing_on_postgres() {
    survives(&Backend::postgres(), Stop::KillWithOutsiders);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Kill,
    Term,
    /// SIGKILL, after outside readers (SQLite) and admin commands ran during the load.
    KillWithOutsiders,
}

/// What the outsiders did during the load.
#[derive(Default)]
struct Outsiders {
    /// Open-read-close cycles of the `sqlite3` shell that succeeded, and the errors of the others.
    shell: AtomicUsize,
    /// Open-read-close cycles of Python's `sqlite3` that succeeded.
    python: AtomicUsize,
    /// Admin commands that succeeded.
    admin: AtomicUsize,
    /// Invites created during the load, checked after the restart.
    invites: Mutex<Vec<String>>,
    /// What went wrong outside (printed; readers may meet a busy database, nothing else).
    errors: Mutex<Vec<String>>,
}

impl Outsiders {
    fn enough(&self, sqlite: bool) -> bool {
        let readers = !sqlite
            || (self.shell.load(Ordering::SeqCst) >= 20
                && self.python.load(Ordering::SeqCst) >= 20);
        readers && self.admin.load(Ordering::SeqCst) >= 4
    }

    fn error(&self, what: String) {
        self.errors.lock().expect("not poisoned").push(what);
    }
}

/// The `sqlite3` shell, one process per cycle: opens the database, reads, closes it.
fn shell_reader(file: &Path, stopping: &AtomicBool, out: &Outsiders) {
    while !stopping.load(Ordering::SeqCst) {
        let run = Command::new("sqlite3")
            .args(["-cmd", ".timeout 5000"])
            .arg(file)
            .arg("SELECT count(*) FROM answers;")
            .output();
        match run {
            Ok(o) if o.status.success() => {
                out.shell.fetch_add(1, Ordering::SeqCst);
            }
            Ok(o) => out.error(format!("sqlite3: {}", String::from_utf8_lossy(&o.stderr))),
            Err(e) => panic!("cannot run sqlite3 (scripts/setup installs it): {e}"),
        }
    }
}

/// Python's `sqlite3`, in one process, opening and closing the database in a loop; read-only and
/// read-write connections in turn (a SELECT either way).
const PYTHON_READER: &str = r#"
import sqlite3, sys
path, cycles, ok = sys.argv[1], int(sys.argv[2]), 0
for i in range(cycles):
    uri = "file:" + path + ("?mode=ro" if i % 2 else "")
    try:
        c = sqlite3.connect(uri, uri=True, timeout=5)
        c.execute("SELECT count(*), max(version) FROM answers").fetchone()
        c.close()
        ok += 1
    except sqlite3.Error as e:
        print("error:", e, file=sys.stderr)
print(ok)
"#;

fn python_reader(file: &Path, stopping: &AtomicBool, out: &Outsiders) {
    while !stopping.load(Ordering::SeqCst) {
        let run = Command::new("python3")
            .args(["-c", PYTHON_READER])
            .arg(file)
            .arg("10")
            .output();
        match run {
            Ok(o) if o.status.success() => {
                let ok: usize = String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse()
                    .unwrap_or(0);
                out.python.fetch_add(ok, Ordering::SeqCst);
                if !o.stderr.is_empty() {
                    out.error(format!("python: {}", String::from_utf8_lossy(&o.stderr)));
                }
            }
            Ok(o) => out.error(format!("python: {}", String::from_utf8_lossy(&o.stderr))),
            Err(e) => panic!("cannot run python3: {e}"),
        }
    }
}

/// `invite create` and `reviewer create` against the database the server is using; each invite
/// must work on the running server at once.
fn admin_commands(
    bin: &Path,
    backend: &Backend,
    server: &str,
    stopping: &AtomicBool,
    out: &Outsiders,
) {
    let http = Http::new();
    let mut n = 0;
    while !stopping.load(Ordering::SeqCst) {
        n += 1;
        let reviewer = cli(
            bin,
            backend,
            &["reviewer", "create", "--name", &format!("R{n}")],
        );
        let invite = cli(
            bin,
            backend,
            &["invite", "create", "--name", &format!("C{n}")],
        );
        if stopping.load(Ordering::SeqCst) {
            // The server may be gone: a command that ran meanwhile proves nothing either way.
            return;
        }
        let (reviewer, link) = match (reviewer, invite) {
            (Ok(r), Ok(l)) => (r, l),
            (r, l) => panic!("an admin command failed while the server served: {r:?} {l:?}"),
        };
        let token = link.rsplit('/').next().expect("a link").to_owned();
        let me = http.send(
            "GET",
            &format!("{server}/api/v1/me"),
            &[("authorization", &format!("Bearer {token}"))],
            b"",
        );
        let list = http.send(
            "GET",
            &format!("{server}/api/v1/candidates"),
            &[("authorization", &format!("Bearer {reviewer}"))],
            b"",
        );
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let (me, list) = (
            me.expect("the server answers"),
            list.expect("the server answers"),
        );
        assert_eq!(
            me.status, 200,
            "a new invite on the running server: {}",
            me.body
        );
        assert_eq!(
            list.status, 200,
            "a new reviewer on the running server: {}",
            list.body
        );
        out.invites.lock().expect("not poisoned").push(token);
        out.admin.fetch_add(2, Ordering::SeqCst);
    }
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
    // Set before the stop, so that the outsiders take a failure from then on for the stop's.
    let outsiders_stop = AtomicBool::new(false);
    let acked_total = AtomicUsize::new(0);
    let outsiders = Outsiders::default();
    let sqlite_file = match backend {
        Backend::Sqlite(dir) => Some(dir.path().join("intake.sqlite3")),
        Backend::Postgres(_) => None,
    };

    let acked: Vec<Acked> = std::thread::scope(|s| {
        if stop == Stop::KillWithOutsiders {
            let (stopping, out, base) = (&outsiders_stop, &outsiders, server.base.clone());
            if let Some(file) = &sqlite_file {
                s.spawn(move || shell_reader(file, stopping, out));
                s.spawn(move || python_reader(file, stopping, out));
            }
            s.spawn(move || admin_commands(bin, backend, &base, stopping, out));
        }
        let writers: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let (url, stopping, acked_total) = (&url, &stopping, &acked_total);
                s.spawn(move || write_until_gone(i, token, url, stopping, acked_total))
            })
            .collect();
        // Let the load build up, then stop the server in the middle of it.
        let deadline = Instant::now() + Duration::from_secs(60);
        while (acked_total.load(Ordering::SeqCst) < 600
            || (stop == Stop::KillWithOutsiders && !outsiders.enough(sqlite_file.is_some())))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        outsiders_stop.store(true, Ordering::SeqCst);
        match stop {
            Stop::Kill | Stop::KillWithOutsiders => server.kill(),
            Stop::Term => {
                server.terminate_cleanly();
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
    if stop == Stop::KillWithOutsiders {
        let errors = outsiders.errors.lock().expect("not poisoned");
        eprintln!(
            "outsiders: {} sqlite3 shell and {} Python open-read-close cycles, {} admin commands; errors: {errors:?}",
            outsiders.shell.load(Ordering::SeqCst),
            outsiders.python.load(Ordering::SeqCst),
            outsiders.admin.load(Ordering::SeqCst),
        );
        assert!(
            outsiders.enough(sqlite_file.is_some()),
            "the outsiders did too little before the kill"
        );
    }

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
    for token in outsiders.invites.lock().expect("not poisoned").iter() {
        let me = http.get(&server.url("/api/v1/me"), token);
        assert_eq!(me.status, 200, "an invite made while serving: {}", me.body);
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
