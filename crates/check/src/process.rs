//! Runs external commands with a timeout, captured output, and prompt cancellation.
//!
//! Every `docker` invocation goes through [`run`], so a hung engine becomes a timeout error and
//! Ctrl-C stops the command within milliseconds.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::cancel;

/// Set once a command was killed before it exited (timeout or stop request).
static KILLED_ANY: AtomicBool = AtomicBool::new(false);

/// Whether this process killed a command before it exited. A `docker` client killed mid-request
/// leaves the request with the engine, which may still create a container after the client is
/// gone: cleanup then has to look again.
pub fn killed_any() -> bool {
    KILLED_ANY.load(Ordering::SeqCst)
}

/// Most bytes kept per stream; the rest is dropped from the middle (evidence is bounded anyway).
const CAPTURE_LIMIT: usize = 8 * 1024 * 1024;

/// What a finished command printed and how it exited.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// The program and its arguments, for messages.
    pub command: String,
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Wall time.
    pub duration: Duration,
}

impl CommandOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Standard output then standard error, for evidence.
    pub fn combined(&self) -> String {
        match (self.stdout.trim_end(), self.stderr.trim_end()) {
            (out, "") => out.to_owned(),
            ("", err) => err.to_owned(),
            (out, err) => format!("{out}\n{err}"),
        }
    }
}

/// Why a command did not produce an exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program could not be started (not installed, not executable).
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The command ran longer than allowed and was killed.
    #[error("`{command}` did not finish within {}s and was stopped", .after.as_secs())]
    Timeout {
        /// The command line.
        command: String,
        /// The limit.
        after: Duration,
        /// What it printed before it was stopped (both streams).
        output: String,
    },
    /// The user interrupted the run.
    #[error("interrupted while running `{command}`")]
    Interrupted {
        /// The command line.
        command: String,
    },
}

/// Runs `cmd` to completion or until `timeout`, capturing both streams.
pub fn run(cmd: Command, timeout: Duration) -> Result<CommandOutput, RunError> {
    run_with_lines(cmd, timeout, &|_| {})
}

/// Like [`run`], calling `on_line` with each line the command prints (for progress displays).
pub fn run_with_lines(
    mut cmd: Command,
    timeout: Duration,
    on_line: &(dyn Fn(&str) + Sync),
) -> Result<CommandOutput, RunError> {
    let command = describe(&cmd);
    if cancel::requested() {
        return Err(RunError::Interrupted { command });
    }
    let started = Instant::now();
    let mut child = cmd
        // Its own process group, so a stop kills everything it started (the `docker compose`
        // plugin is a child of `docker`), and the terminal's Ctrl-C reaches only us.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| RunError::Spawn {
            command: command.clone(),
            source,
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    thread::scope(|scope| {
        let out = scope.spawn(|| capture(stdout, on_line));
        let err = scope.spawn(|| capture(stderr, on_line));
        let waited = wait(&mut child, timeout);
        // Reader threads end when the pipes close, which the kill in `wait` guarantees.
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        match waited {
            Waited::Exited(status) => Ok(CommandOutput {
                command: command.clone(),
                status,
                stdout,
                stderr,
                duration: started.elapsed(),
            }),
            Waited::TimedOut => Err(RunError::Timeout {
                command: command.clone(),
                after: timeout,
                output: format!("{stdout}{stderr}"),
            }),
            Waited::Interrupted => Err(RunError::Interrupted {
                command: command.clone(),
            }),
        }
    })
}

enum Waited {
    Exited(ExitStatus),
    TimedOut,
    Interrupted,
}

fn wait(child: &mut Child, timeout: Duration) -> Waited {
    let deadline = Instant::now() + timeout;
    // Short polls first so quick commands return quickly; at most 100 ms of latency later on.
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(_) => {
                // The OS lost track of the child: treat it as killed.
                kill_group(child);
                return Waited::Interrupted;
            }
        }
        let stop = if cancel::requested() {
            Some(Waited::Interrupted)
        } else if Instant::now() >= deadline {
            Some(Waited::TimedOut)
        } else {
            None
        };
        if let Some(reason) = stop {
            kill_group(child);
            return reason;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Kills the child and everything in its process group, then reaps it.
fn kill_group(child: &mut Child) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    KILLED_ANY.store(true, Ordering::SeqCst);
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn capture(stream: Option<impl Read>, on_line: &(dyn Fn(&str) + Sync)) -> String {
    let Some(stream) = stream else {
        return String::new();
    };
    let mut reader = BufReader::new(stream);
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut line = Vec::new();
    while let Ok(n) = reader.read_until(b'\n', &mut line) {
        if n == 0 {
            break;
        }
        on_line(String::from_utf8_lossy(&line).trim_end());
        if kept.len() + line.len() <= CAPTURE_LIMIT {
            kept.extend_from_slice(&line);
        } else {
            dropped += line.len();
        }
        line.clear();
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[… {dropped} more bytes not kept …]\n"));
    }
    text
}

/// The command line as a person would type it, for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn captures_both_streams_and_status() {
        let out = run(sh("echo out; echo err >&2; exit 3"), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status.code(), Some(3));
        assert!(!out.success());
        assert_eq!(out.combined(), "out\nerr");
    }

    #[test]
    fn a_command_that_hangs_times_out_with_its_output() {
        let started = Instant::now();
        let err = run(sh("echo partial; sleep 30"), Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        match err {
            RunError::Timeout { output, .. } => assert_eq!(output, "partial\n"),
            other => panic!("expected a timeout, got {other}"),
        }
    }

    #[test]
    fn a_missing_program_is_a_spawn_error_naming_it() {
        let err = run(Command::new("no-such-program-xyz"), Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("no-such-program-xyz"), "{err}");
    }

    #[test]
    fn lines_are_reported_as_they_come() {
        let seen = std::sync::Mutex::new(Vec::new());
        run_with_lines(sh("echo a; echo b"), Duration::from_secs(5), &|l| {
            seen.lock().unwrap().push(l.to_owned())
        })
        .unwrap();
        assert_eq!(*seen.lock().unwrap(), ["a", "b"]);
    }
}
