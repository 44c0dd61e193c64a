//! Running a real `sre-intake` for tests: its database (a SQLite folder or a throwaway
//! PostgreSQL), the server process on a free port, the CLI to make tokens, and a small HTTP client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use sre_model::report::{ChallengeRef, CheckResult, Host, REPORT_SCHEMA, Report, Signal, Tool};
use sre_model::{Status, TopicReport};

use crate::postgres::Postgres;

/// Where a test server keeps its data.
pub enum Backend {
    /// An embedded SQLite file in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A throwaway PostgreSQL server.
    Postgres(Postgres),
}

impl Backend {
    /// A fresh SQLite folder.
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("a temporary folder"))
    }

    /// A fresh PostgreSQL server.
    pub fn postgres() -> Backend {
        Backend::Postgres(Postgres::start().expect("a PostgreSQL server for the test"))
    }

    /// The `sre-intake` options that select this database.
    pub fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(dir) => vec!["--data-dir".into(), dir.path().display().to_string()],
            Backend::Postgres(pg) => vec!["--database".into(), pg.url()],
        }
    }

    /// The database's URL, for a test that reads or changes it directly.
    pub fn database_url(&self) -> String {
        match self {
            Backend::Sqlite(dir) => format!("sqlite://{}/intake.sqlite3", dir.path().display()),
            Backend::Postgres(pg) => pg.url(),
        }
    }

    /// `sqlite` or `postgres`, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A running `sre-intake serve`. Killed on drop.
pub struct Intake {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The thread that copies the server's stderr into `log`: done once it read the last line.
    log_reader: Option<std::thread::JoinHandle<()>>,
}

impl Intake {
    /// Starts `bin serve` on a free loopback port with `backend` and `extra` options, and waits
    /// until it listens.
    pub fn start(bin: &Path, backend: &Backend, extra: &[&str]) -> anyhow::Result<Intake> {
        Intake::start_at(bin, backend, "127.0.0.1:0", extra)
    }

    /// Like [`Intake::start`], on a given address.
    pub fn start_at(
        bin: &Path,
        backend: &Backend,
        listen: &str,
        extra: &[&str],
    ) -> anyhow::Result<Intake> {
        Intake::spawn(bin, backend, listen, extra, "info,access=warn", &[])
    }

    /// Like [`Intake::start`], with extra environment variables (e.g. its own `TMPDIR`).
    pub fn start_with_env(
        bin: &Path,
        backend: &Backend,
        extra: &[&str],
        env: &[(&str, &Path)],
    ) -> anyhow::Result<Intake> {
        Intake::spawn(bin, backend, "127.0.0.1:0", extra, "info,access=warn", env)
    }

    /// Like [`Intake::start`], logging every request too (the access log is off otherwise).
    pub fn start_with_access_log(
        bin: &Path,
        backend: &Backend,
        extra: &[&str],
    ) -> anyhow::Result<Intake> {
        Intake::spawn(bin, backend, "127.0.0.1:0", extra, "info", &[])
    }

    fn spawn(
        bin: &Path,
        backend: &Backend,
        listen: &str,
        extra: &[&str],
        log_filter: &str,
        env: &[(&str, &Path)],
    ) -> anyhow::Result<Intake> {
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--listen", listen])
            .args(backend.args())
            .args(extra)
            .env("RUST_LOG", log_filter)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().context("the server's stderr")?;
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        let log_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on ".len()..];
                    let url: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    let _ = tx.send(url);
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let text = log.lock().map(|l| l.clone()).unwrap_or_default();
                bail!("sre-intake did not start listening (exit {status:?}):\n{text}");
            }
        };
        Ok(Intake {
            child,
            base,
            log,
            log_reader: Some(log_reader),
        })
    }

    /// The URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `host:port`, for raw requests.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Kills the server with SIGKILL: no cleanup, no flush, like a crash or the OOM killer.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.read_log_to_end();
    }

    /// Once the process exited: waits until its last log line is in [`Intake::log`] (the reader
    /// thread may lag behind on a busy machine).
    fn read_log_to_end(&mut self) {
        if let Some(reader) = self.log_reader.take() {
            let _ = reader.join();
        }
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit.
    pub fn terminate(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.read_log_to_end();
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("sre-intake did not exit within {within:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and asserts that the server exits successfully within 15 s.
    pub fn terminate_cleanly(&mut self) {
        let status = self
            .terminate(Duration::from_secs(15))
            .expect("sre-intake exits after SIGTERM");
        assert!(
            status.success(),
            "exit after SIGTERM: {status}\n{}",
            self.log()
        );
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs an `sre-intake` subcommand against `backend` and returns its stdout, trimmed.
pub fn cli(bin: &Path, backend: &Backend, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .args(backend.args())
        .output()
        .with_context(|| format!("running sre-intake {args:?}"))?;
    anyhow::ensure!(
        out.status.success(),
        "sre-intake {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// A new reviewer's token.
pub fn reviewer(bin: &Path, backend: &Backend, name: &str) -> String {
    cli(bin, backend, &["reviewer", "create", "--name", name]).expect("reviewer create")
}

/// A new candidate: their link and token (the link's last segment).
pub fn invite(bin: &Path, backend: &Backend, name: &str) -> (String, String) {
    let link = cli(bin, backend, &["invite", "create", "--name", name]).expect("invite create");
    let token = link
        .rsplit('/')
        .next()
        .expect("a link has segments")
        .to_owned();
    (link, token)
}

/// An HTTP reply, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy).
    pub body: String,
    /// The body as received (downloads).
    pub bytes: Vec<u8>,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("expected JSON ({e}), got {}: {}", self.status, self.body))
    }
}

/// A keep-alive HTTP client that returns every status as a [`Reply`] (4xx and 5xx are data here).
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Http {
        Http::new()
    }
}

impl Http {
    /// A client with a 30 s timeout per request.
    pub fn new() -> Http {
        Http::with_timeout(Duration::from_secs(30))
    }

    /// A client with this timeout per request (large uploads to a debug build on a busy machine).
    pub fn with_timeout(timeout: Duration) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build();
        Http {
            agent: config.into(),
        }
    }

    /// Sends a request; `Err` only when no HTTP reply came (connection refused, reset…).
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Reply> {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec())?;
        let response = if body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE") {
            let (parts, _) = request.into_parts();
            self.agent.run(ureq::http::Request::from_parts(parts, ()))
        } else {
            self.agent.run(request)
        }
        .with_context(|| format!("{method} {url}"))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .read_to_end(&mut bytes)
            .context("reading the reply")?;
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        })
    }

    /// GET with a bearer token.
    pub fn get(&self, url: &str, token: &str) -> Reply {
        let auth = format!("Bearer {token}");
        self.send("GET", url, &[("authorization", &auth)], b"")
            .expect("the server answers")
    }

    /// A JSON request with a bearer token and extra headers.
    pub fn json(
        &self,
        method: &str,
        url: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let auth = format!("Bearer {token}");
        let mut all = vec![
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        all.extend_from_slice(headers);
        self.send(method, url, &all, body.to_string().as_bytes())
            .expect("the server answers")
    }
}

/// Sends raw bytes as one HTTP/1.1 request on a new connection and returns the status and the
/// whole reply (for requests a client library would refuse to send or would normalize).
pub fn raw(addr: &str, request: &[u8]) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no HTTP status in {text:?}"))?;
    Ok((status, text))
}

/// A loopback port that was free a moment ago (for a server that must start later on a known port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The path of a binary cargo built next to the running test binary (target/<profile>/<name>).
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(name))
        .expect("the test binary lives in target/<profile>/deps");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p {name}`; scripts/test does)",
        bin.display()
    );
    bin
}

/// The elements of a JSON array; none when `value` is not an array (the test's assertions then
/// say what was expected).
pub fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The first element of the JSON array `list` whose field `key` is `wanted`; `null` when none is.
pub fn find<'a>(list: &'a Value, key: &str, wanted: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    items(list)
        .iter()
        .find(|item| item[key] == wanted)
        .unwrap_or(&NULL)
}

/// A valid sre-check report (two topics, a failed check); `evidence` makes reports with different
/// digests.
pub fn sample_report(evidence: &str) -> Report {
    let check = |id: &str, status| CheckResult {
        id: id.to_owned(),
        title: format!("{id} check"),
        status,
        duration_ms: 40,
        evidence: evidence.to_owned(),
        hint: (status == Status::Fail).then(|| "use become on the apt task only".to_owned()),
    };
    let rollback = Signal {
        id: "rollback".to_owned(),
        label: "Risks and rollback".to_owned(),
        present: true,
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
            docker: None,
            compose: None,
        },
        started_at: "2026-11-29T06:00:00.000Z".to_owned(),
        finished_at: "2026-11-29T06:02:00.000Z".to_owned(),
        files: vec![],
        topics: vec![
            TopicReport::new(
                "iac".parse().expect("a topic id"),
                vec![check("answers", Status::Pass), check("build", Status::Fail)],
                vec![],
            ),
            TopicReport::new(
                "leadership".parse().expect("a topic id"),
                vec![check("answers", Status::Pass)],
                vec![rollback],
            ),
        ],
    }
}

/// `len` bytes that do not compress (xorshift from `seed`): large work files, 20 MiB archives.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
