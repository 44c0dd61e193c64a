//! `sre-verify`: a verification worker. It claims the oldest unverified submission from
//! sre-intake, re-runs the Docker topics on it with sre-check's own code in a sandboxed Docker
//! engine, and uploads what it found as the verified report.
//!
//! Exit codes: 0 stopped (SIGTERM/Ctrl-C, or `--once` done); 1 an error (engine not sandboxed
//! without `--unsandboxed`, server refusing the token…); 2 bad arguments.

mod engine;
mod job;
mod log;
mod server;
mod stale;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use sre_check::cli::RunArgs;
use sre_check::run_command::{self, RunSettings};
use sre_model::TopicId;

use crate::server::{RuntimeInfo, Server};

/// Verification worker of the SRE Challenge: claims submitted work from sre-intake, re-runs the
/// Docker topics in a sandboxed engine (DOCKER_HOST), and reports the verified results.
#[derive(Debug, Parser)]
#[command(
    name = "sre-verify",
    version,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    worker: WorkerArgs,
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    /// The sre-intake server, e.g. https://challenge.example.com.
    #[arg(long, value_name = "URL", env = "SRE_VERIFY_SERVER")]
    server: Option<String>,
    /// This worker's token (from `sre-intake worker create`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SRE_VERIFY_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Jobs run at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    jobs: u32,
    /// Verify at most one submission (or none when the queue is empty), then exit.
    #[arg(long)]
    once: bool,
    /// Only this topic; repeat for several [default: every Docker topic of the challenge].
    #[arg(long = "topic", value_name = "ID")]
    topics: Vec<String>,
    /// Run although the engine's default runtime is not a sandbox (gVisor's runsc, Kata); every
    /// report this worker uploads then says so.
    #[arg(long)]
    unsandboxed: bool,
    /// Lease asked for each job; renewed every third of it. A dead worker's job goes back to the
    /// queue when it ends.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    lease_seconds: u64,
    /// Pause between claims when the queue is empty.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    poll_seconds: u64,
    /// Where jobs' temporary folders are made [default: the system's temporary folder].
    #[arg(long, value_name = "DIR", env = "SRE_VERIFY_WORK_DIR")]
    work_dir: Option<PathBuf>,
    /// Longest a job's checks may run.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    job_timeout: u64,
    /// Passed to sre-check's --timeout-factor (gVisor is slower than runc: see docs/VERIFY.md).
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    timeout_factor: f64,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Runs the checks on a working copy (what each job runs, in a child process).
    #[command(hide = true)]
    Check(RunArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Some(Sub::Check(args)) => check(args),
        None => match work(cli.worker) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                log::error("stopped", json!({ "error": format!("{err:#}") }));
                ExitCode::from(1)
            }
        },
    }
}

/// The child: sre-check's run, as `sre-check run` does it.
fn check(args: RunArgs) -> ExitCode {
    job::follow_parent();
    let outcome = RunSettings::from_args(args).and_then(run_command::execute);
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn work(args: WorkerArgs) -> anyhow::Result<()> {
    let (Some(url), Some(token)) = (args.server.as_deref(), args.token.as_deref()) else {
        anyhow::bail!(
            "--server and --token are required (or SRE_VERIFY_SERVER and SRE_VERIFY_TOKEN)"
        );
    };
    let topics = topics(&args.topics)?;
    let engine = engine::probe()?;
    if !engine.sandboxed && !args.unsandboxed {
        anyhow::bail!(
            "the Docker engine's default runtime is {:?}, not a sandbox: submitted files are \
             untrusted code. Point DOCKER_HOST at the verification engine (scripts/verify-engine \
             start), or pass --unsandboxed to run anyway (every report then says so)",
            engine.runtime
        );
    }
    let removed = stale::sweep();
    let work_root = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let folders_removed = stale::sweep_folders(&work_root);
    let stop = Arc::new(AtomicBool::new(false));
    install_signals(stop.clone())?;
    log::info(
        "started",
        json!({
            "server": url, "runtime": engine.runtime, "sandboxed": engine.sandboxed,
            "jobs": args.jobs, "topics": topics.iter().map(TopicId::as_str).collect::<Vec<_>>(),
            "stale_runs_removed": removed, "stale_folders_removed": folders_removed,
            "docker_host": std::env::var("DOCKER_HOST").unwrap_or_default(),
        }),
    );
    let settings = Arc::new(job::Settings {
        topics,
        lease_seconds: args.lease_seconds,
        work_root,
        job_timeout: Duration::from_secs(args.job_timeout),
        timeout_factor: args.timeout_factor,
        runtime: RuntimeInfo {
            name: engine.runtime,
            sandboxed: engine.sandboxed,
        },
    });
    let server = Arc::new(Server::new(url, token));
    let threads: Vec<_> = (0..args.jobs)
        .map(|_| {
            let (server, settings, stop) = (server.clone(), settings.clone(), stop.clone());
            let (once, poll, lease) = (args.once, args.poll_seconds, args.lease_seconds);
            std::thread::spawn(move || claim_loop(&server, &settings, &stop, once, poll, lease))
        })
        .collect();
    let mut first_error = None;
    for thread in threads {
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                first_error.get_or_insert(err);
            }
            Err(_) => {
                first_error.get_or_insert(anyhow::anyhow!("a job thread panicked"));
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => {
            log::info("stopped", json!({}));
            Ok(())
        }
    }
}

fn claim_loop(
    server: &Server,
    settings: &job::Settings,
    stop: &AtomicBool,
    once: bool,
    poll_seconds: u64,
    lease_seconds: u64,
) -> anyhow::Result<()> {
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        match server.claim(lease_seconds) {
            Ok(Some(job)) => {
                failures = 0;
                // What a dead run left since the start (a killed worker on this engine, whose
                // checks were still cleaning up when this worker started) goes before each job.
                let removed = stale::sweep();
                if removed > 0 {
                    log::info("stale_runs_removed", json!({ "runs": removed }));
                }
                job::run(server, &job, settings, stop);
                if once {
                    return Ok(());
                }
            }
            Ok(None) if once => return Ok(()),
            Ok(None) => sleep_unless_stopped(stop, Duration::from_secs(poll_seconds)),
            Err(err) => {
                // A refused token will not get better; an unreachable server may.
                let text = format!("{err:#}");
                if text.contains("(401)") || text.contains("(403)") {
                    return Err(err);
                }
                failures += 1;
                let pause = Duration::from_secs((2u64 << failures.min(5)).min(60));
                log::warn(
                    "claim_failed",
                    json!({ "error": text, "retry_in_seconds": pause.as_secs() }),
                );
                sleep_unless_stopped(stop, pause);
            }
        }
    }
    Ok(())
}

fn sleep_unless_stopped(stop: &AtomicBool, pause: Duration) {
    let deadline = std::time::Instant::now() + pause;
    while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The topics to run: `--topic` values (each must be a Docker topic), else every Docker topic.
fn topics(asked: &[String]) -> anyhow::Result<Vec<TopicId>> {
    let manifest = &sre_check::content::get().manifest;
    let docker: Vec<TopicId> = manifest
        .topics
        .iter()
        .filter(|t| t.docker)
        .map(|t| t.id.clone())
        .collect();
    if asked.is_empty() {
        return Ok(docker);
    }
    asked
        .iter()
        .map(|a| {
            docker
                .iter()
                .find(|t| t.as_str() == a)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--topic {a}: not a Docker topic of this challenge; choose from {}",
                        docker
                            .iter()
                            .map(TopicId::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        })
        .collect()
}

/// SIGTERM/SIGINT: stop claiming and stop the running checks (the jobs go back to the queue when
/// their leases end). A second signal exits at once.
fn install_signals(stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            log::info("stopping", json!({}));
        }
    });
    Ok(())
}
