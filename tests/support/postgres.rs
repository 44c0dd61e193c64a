//! A throwaway PostgreSQL server for tests: `initdb` in a temporary folder, `postgres` on a free
//! loopback port, stopped and removed when the value is dropped (also when the test panics).
//!
//! PostgreSQL refuses to run as root. When the tests run as root (CI machines, containers) the
//! server runs as `nobody` through `setpriv`, which execs directly (no intermediate process to
//! leak) and sets a parent-death signal, so a test process killed outright (a timeout) takes its
//! server with it. The cluster's folder is handed to `nobody` for the same reason.
//!
//! The binaries are found on PATH (this machine has them in /usr/local/bin) or in Debian's
//! `/usr/lib/postgresql/<version>/bin` (package `postgresql-15`, which `scripts/setup` installs).

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The uid and gid the server runs as when the tests run as root (`nobody` / `nogroup`).
const UNPRIVILEGED: u32 = 65534;

/// A running PostgreSQL server with trust authentication on 127.0.0.1.
pub struct Postgres {
    child: Child,
    port: u16,
    log: PathBuf,
    data: PathBuf,
    settings: Settings,
    as_root: bool,
    // Dropped last: the server is stopped before its folder is removed.
    _dir: tempfile::TempDir,
}

/// Settings for a test server. The defaults trade crash safety of the *server* for speed
/// (`fsync=off`): tests kill sre-intake, never PostgreSQL, so committed data stays visible.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `-c name=value` settings passed to `postgres`.
    pub settings: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            settings: [
                ("fsync", "off"),
                ("full_page_writes", "off"),
                ("max_connections", "200"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        }
    }
}

impl Postgres {
    /// Starts a server with the default test settings.
    pub fn start() -> anyhow::Result<Postgres> {
        Postgres::start_with(&Settings::default())
    }

    /// Starts a server and waits until it accepts connections.
    pub fn start_with(settings: &Settings) -> anyhow::Result<Postgres> {
        let dir = tempfile::Builder::new()
            .prefix("sre-pg-")
            .tempdir()
            .context("creating the cluster folder")?;
        let as_root = is_root();
        if as_root {
            std::os::unix::fs::chown(dir.path(), Some(UNPRIVILEGED), Some(UNPRIVILEGED))
                .context("handing the cluster folder to nobody")?;
        }
        let data = dir.path().join("data");
        let initdb = run_as(as_root, &pg_bin("initdb")?)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .context("running initdb")?;
        anyhow::ensure!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        // The port is free when we look; another process may take it before postgres binds, so
        // a failed start is retried on a new port.
        let mut last_error = None;
        for _ in 0..3 {
            match start_server(as_root, dir.path(), &data, settings, free_port()?) {
                Ok((child, port, log)) => {
                    return Ok(Postgres {
                        child,
                        port,
                        log,
                        data,
                        settings: settings.clone(),
                        as_root,
                        _dir: dir,
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("postgres did not start")))
    }

    /// The URL of the `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server (fast shutdown) and keeps its data: the database is away until
    /// [`Postgres::restart`].
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Starts the stopped server again on the same port with the same data, as after a
    /// database failover or a restart for maintenance.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let dir = self
            .data
            .parent()
            .context("the cluster folder")?
            .to_path_buf();
        let (child, _, log) =
            start_server(self.as_root, &dir, &self.data, &self.settings, self.port)?;
        self.child = child;
        self.log = log;
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Stops a server: SIGINT, PostgreSQL's "fast shutdown" (roll back sessions, stop cleanly); a
/// server still running 10 s later is killed.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn start_server(
    as_root: bool,
    dir: &Path,
    data: &Path,
    settings: &Settings,
    port: u16,
) -> anyhow::Result<(Child, u16, PathBuf)> {
    // A new log per start: readiness is read from it.
    let log = (0..)
        .map(|n| dir.join(format!("postgres-{port}-{n}.log")))
        .find(|p| !p.exists())
        .context("naming the server log")?;
    let log_file = File::create(&log).context("creating the server log")?;
    if as_root {
        std::os::unix::fs::chown(&log, Some(UNPRIVILEGED), Some(UNPRIVILEGED))?;
    }
    let mut command = run_as(as_root, &pg_bin("postgres")?);
    command
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1"]);
    for (name, value) in &settings.settings {
        command.args(["-c", &format!("{name}={value}")]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .context("starting postgres")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("database system is ready to accept connections") {
            return Ok((child, port, log));
        }
        if let Some(status) = child.try_wait()? {
            bail!("postgres exited ({status}) before it was ready:\n{text}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("postgres was not ready within 60 s:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `program`, run as `nobody` when we are root.
fn run_as(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("setpriv");
        command
            .arg(format!("--reuid={UNPRIVILEGED}"))
            .arg(format!("--regid={UNPRIVILEGED}"))
            .args(["--clear-groups", "--pdeathsig=KILL", "--"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    // /proc/self belongs to the effective user of the process that reads it.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A PostgreSQL server binary: on PATH, else the newest Debian installation.
pub fn pg_bin(name: &str) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(found) = on_path.into_iter().find(|p| p.is_file()) {
        return Ok(found);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.is_file());
    versions.sort();
    versions
        .pop()
        .with_context(|| format!("`{name}` not found: install postgresql-15 (scripts/setup does)"))
}
