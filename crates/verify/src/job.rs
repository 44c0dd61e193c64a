//! One job: lay out a fresh starter kit in a temporary folder, overlay the submitted files, run
//! the checks in a child process (this binary's `check` subcommand, sre-check's own code) while
//! renewing the lease, upload the verified report, remove the folder.
//!
//! The checks run in a child so that their progress lines stay out of the worker's JSON log (they
//! go to a log file in the job's folder, whose tail is logged when the checks fail to produce a
//! report), and so that a stop request, a lost lease or a job timeout can stop them with SIGTERM:
//! sre-check then removes every container, network and volume it made. The child also gets
//! SIGTERM when the worker dies (`PR_SET_PDEATHSIG`), even by SIGKILL.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use sre_model::TopicId;

use crate::log;
use crate::server::{Job, Lease, RuntimeInfo, Server};

/// File in a job's folder holding the pid of the worker that made it.
pub const OWNER_FILE: &str = "worker.pid";

/// Environment variable naming the worker's pid, for the child's parent-death signal.
pub const PARENT_ENV: &str = "SRE_VERIFY_PARENT";

/// In the child: SIGTERM when the worker dies, even by SIGKILL (sre-check then removes what it
/// made). Exits at once when the worker is already gone.
pub fn follow_parent() {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    let expected = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok());
    if expected.is_some_and(|pid| nix::unistd::getppid().as_raw() != pid) {
        std::process::exit(1);
    }
}

/// How the worker runs jobs.
pub struct Settings {
    /// The topics to run (the Docker topics of the challenge unless `--topic` narrowed them).
    pub topics: Vec<TopicId>,
    /// Lease length asked for; renewed every third of it.
    pub lease_seconds: u64,
    /// Where the jobs' temporary folders are made.
    pub work_root: PathBuf,
    /// Longest a job's checks may run before they are stopped.
    pub job_timeout: Duration,
    /// Passed to sre-check's `--timeout-factor`.
    pub timeout_factor: f64,
    /// The engine's runtime, reported with each job.
    pub runtime: RuntimeInfo,
}

/// How a job ended, for the worker's counters.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The verified report was accepted.
    Verified,
    /// The job ended as an error the server accepted.
    Failed,
    /// The lease was lost or the worker was asked to stop: the job goes back to the queue.
    Dropped,
}

/// Runs one claimed job to its end.
pub fn run(server: &Server, job: &Job, settings: &Settings, stop: &AtomicBool) -> Ended {
    let fields = || json!({ "submission": job.submission.id, "digest": job.submission.digest, "attempt": job.attempt });
    log::info("job_started", fields());
    let started = Instant::now();
    let outcome = match prepare(server, job, settings) {
        Ok(folder) => {
            let result = check(server, job, settings, stop, &folder);
            // The folder goes whatever happened; a failure to remove it is worth a line only.
            if let Err(err) = std::fs::remove_dir_all(folder.path()) {
                log::warn(
                    "job_folder_left",
                    json!({ "folder": folder.path().display().to_string(), "error": err.to_string() }),
                );
            }
            result
        }
        Err(err) => Checked::Error(format!("{err:#}")),
    };
    let sent = match &outcome {
        Checked::Report(report) => server.finish(&job.lease, &settings.runtime, Ok(report)),
        Checked::Error(error) => server.finish(&job.lease, &settings.runtime, Err(error)),
        Checked::Dropped(reason) => {
            log::warn(
                "job_dropped",
                json!({ "submission": job.submission.id, "reason": reason }),
            );
            return Ended::Dropped;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    match (sent, &outcome) {
        (Ok(Lease::Held), Checked::Report(report)) => {
            let overall = report["topics"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|t| {
                            format!(
                                "{}={}",
                                t["id"].as_str().unwrap_or("?"),
                                t["status"].as_str().unwrap_or("?")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            log::info(
                "job_verified",
                json!({ "submission": job.submission.id, "topics": overall, "seconds": seconds }),
            );
            Ended::Verified
        }
        (Ok(Lease::Held), _) => {
            log::warn(
                "job_failed",
                json!({ "submission": job.submission.id, "error": outcome.error(), "seconds": seconds }),
            );
            Ended::Failed
        }
        (Ok(Lease::Lost), _) => {
            log::warn(
                "job_lease_lost",
                json!({ "submission": job.submission.id, "seconds": seconds }),
            );
            Ended::Dropped
        }
        (Err(err), _) => {
            log::error(
                "job_not_reported",
                json!({ "submission": job.submission.id, "error": format!("{err:#}") }),
            );
            Ended::Dropped
        }
    }
}

enum Checked {
    Report(Value),
    Error(String),
    Dropped(String),
}

impl Checked {
    fn error(&self) -> &str {
        match self {
            Checked::Error(e) | Checked::Dropped(e) => e,
            Checked::Report(_) => "",
        }
    }
}

/// The job's folder: `work/` the working copy (starter kit + submitted files), `report.json`,
/// `checks.log`.
fn prepare(server: &Server, job: &Job, settings: &Settings) -> anyhow::Result<tempfile::TempDir> {
    let content = sre_check::content::get();
    let ours = &content.manifest.challenge.version;
    if job.submission.challenge_version != *ours
        || job.submission.challenge_digest != content.digest
    {
        anyhow::bail!(
            "the submission was made for challenge {} ({}); this worker checks challenge {ours} \
             ({}): run a worker of that version",
            job.submission.challenge_version,
            job.submission.challenge_digest,
            content.digest
        );
    }
    let archive = server.archive(&job.lease)?;
    std::fs::create_dir_all(&settings.work_root)
        .with_context(|| format!("cannot create {}", settings.work_root.display()))?;
    let folder = tempfile::Builder::new()
        .prefix("sre-verify-")
        .tempdir_in(&settings.work_root)
        .context("creating the job's folder")?;
    // Which worker owns the folder: a later worker removes it when that process is gone
    // (`stale::sweep_folders`), e.g. after a SIGKILL.
    std::fs::write(
        folder.path().join(OWNER_FILE),
        std::process::id().to_string(),
    )
    .context("writing the job folder's owner")?;
    let work = folder.path().join("work");
    sre_check::init::init(&work, false).context("laying out the starter kit")?;
    sre_work::unpack(&archive, &work, &sre_model::submission::Limits::default())
        .map_err(|e| anyhow::anyhow!("the submitted archive cannot be laid out: {e}"))?;
    Ok(folder)
}

fn check(
    server: &Server,
    job: &Job,
    settings: &Settings,
    stop: &AtomicBool,
    folder: &tempfile::TempDir,
) -> Checked {
    let report = folder.path().join("report.json");
    let log_path = folder.path().join("checks.log");
    let mut child = match spawn(settings, &folder.path().join("work"), &report, &log_path) {
        Ok(child) => child,
        Err(err) => return Checked::Dropped(format!("cannot start the checks: {err:#}")),
    };
    let started = Instant::now();
    let renew_every = Duration::from_secs((settings.lease_seconds / 3).max(1));
    let mut renewed = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(err) => return Checked::Dropped(format!("waiting for the checks: {err}")),
        }
        if stop.load(Ordering::SeqCst) {
            terminate(&mut child);
            return Checked::Dropped("the worker was asked to stop".into());
        }
        if started.elapsed() > settings.job_timeout {
            terminate(&mut child);
            return Checked::Error(format!(
                "the checks did not finish within {} s and were stopped",
                settings.job_timeout.as_secs()
            ));
        }
        if renewed.elapsed() >= renew_every {
            match server.heartbeat(&job.lease, settings.lease_seconds) {
                Ok(Lease::Held) => renewed = Instant::now(),
                Ok(Lease::Lost) => {
                    terminate(&mut child);
                    return Checked::Dropped("the lease was lost".into());
                }
                // The server may come back before the lease ends: keep going, try again soon.
                Err(err) => {
                    log::warn(
                        "heartbeat_failed",
                        json!({ "submission": job.submission.id, "error": format!("{err:#}") }),
                    );
                    renewed += Duration::from_secs(5).min(renew_every);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    match std::fs::read(&report) {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => Checked::Report(value),
            Err(err) => Checked::Error(format!("the checks wrote an unreadable report: {err}")),
        },
        Err(_) => Checked::Error(format!(
            "the checks ended ({status}) without a report; their last lines:\n{}",
            tail(&log_path, 30)
        )),
    }
}

fn spawn(settings: &Settings, work: &Path, report: &Path, log: &Path) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let out = File::create(log).context("creating the checks' log")?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(exe);
    cmd.arg("check")
        .arg("--dir")
        .arg(work)
        .arg("--report")
        .arg(report)
        .arg("--timeout-factor")
        .arg(settings.timeout_factor.to_string())
        // Every check, the reviewer-only ones too: the worker is where they are computed.
        .args(["--audience", "reviewer"]);
    for topic in &settings.topics {
        cmd.arg("--topic").arg(topic.as_str());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        // The child asks for SIGTERM when the worker dies (`main::check`); it compares its parent
        // with this pid to catch a worker that died before it asked.
        .env(PARENT_ENV, std::process::id().to_string());
    cmd.spawn().context("starting the checks")
}

/// SIGTERM (sre-check stops and removes its containers), then SIGKILL after two minutes.
fn terminate(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    sre_check::docker::tail(&text, lines)
}
