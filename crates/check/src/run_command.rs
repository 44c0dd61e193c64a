//! `sre-check run`: from the command line to the report and the exit code.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sre_model::report::{ChallengeRef, Host, REPORT_SCHEMA, Report, Tool, format_time};
use sre_model::{Audience, Status, Topic};
use time::OffsetDateTime;

use crate::cli::RunArgs;
use crate::docker::{self, Docker};
use crate::options::TopicOptions;
use crate::progress::Progress;
use crate::runner::RunEnv;
use crate::workdir::WorkDir;
use crate::{cancel, content, report_file, topics};

/// What `run` decided from its arguments, before anything runs.
pub struct RunSettings {
    workdir: WorkDir,
    topics: Vec<&'static Topic>,
    report_path: PathBuf,
    json: bool,
    timeout_factor: f64,
    jobs: usize,
    options: TopicOptions,
    audience: Audience,
}

impl RunSettings {
    /// Validates the arguments: the folder is a working copy, the report can be written.
    pub fn from_args(args: RunArgs) -> anyhow::Result<RunSettings> {
        let manifest = &content::get().manifest;
        let workdir = WorkDir::open(&args.dir, manifest)?;
        let topics: Vec<&Topic> = manifest
            .topics
            .iter()
            .filter(|t| args.topics.is_empty() || args.topics.contains(&t.id))
            .collect();
        let audience = args.audience();
        let report_path = args
            .report
            .unwrap_or_else(|| workdir.path(".sre-check/report.json"));
        report_file::ensure_writable(&report_path)?;
        let options = TopicOptions::from_assignments(manifest, &args.options)?;
        Ok(RunSettings {
            workdir,
            topics,
            report_path,
            json: args.json,
            timeout_factor: args.timeout_factor,
            jobs: usize::from(args.jobs),
            options,
            audience,
        })
    }
}

/// The outcome of a run, mapped to the exit code by `main`.
pub fn execute(settings: RunSettings) -> anyhow::Result<Status> {
    let manifest = &content::get().manifest;
    let docker = if settings.topics.iter().any(|t| t.docker) {
        // Before anything runs: a missing engine is the environment's problem, not a topic's.
        let info = docker::probe()?;
        let id = run_id();
        eprintln!(
            "Docker objects of this run are labelled {}={id}",
            docker::LABEL_RUN
        );
        Some(Docker::new(&id, info, settings.timeout_factor))
    } else {
        None
    };
    cancel::install().context("installing the Ctrl-C handler")?;
    let jobs = settings.jobs.min(settings.topics.len()).max(1);
    let progress = if jobs > 1 {
        Progress::concurrent(&settings.topics)
    } else {
        Progress::new()
    };
    let env = RunEnv {
        workdir: &settings.workdir,
        manifest,
        docker: docker.as_ref(),
        progress: &progress,
        options: &settings.options,
        audience: settings.audience,
    };
    let started_at = OffsetDateTime::now_utc();
    let topics = {
        let _cleanup = CleanupGuard(docker.as_ref());
        topics::run_topics(&env, &settings.topics, jobs)
    };
    let report = Report {
        schema: REPORT_SCHEMA.to_owned(),
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        challenge: ChallengeRef {
            version: manifest.challenge.version.clone(),
            digest: content::get().digest.clone(),
        },
        host: Host {
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            docker: docker.as_ref().map(|d| d.info().server_version.clone()),
            compose: docker
                .as_ref()
                .and_then(|d| d.info().compose.as_ref())
                .map(|c| c.version().to_owned()),
        },
        started_at: format_time(started_at),
        finished_at: format_time(OffsetDateTime::now_utc()),
        files: settings.workdir.digests(),
        topics,
    };
    report
        .validate()
        .context("sre-check produced an invalid report")?;
    report_file::write(&settings.report_path, &report)?;
    let mut stdout = std::io::stdout().lock();
    let printed = if settings.json {
        serde_json::to_writer_pretty(&mut stdout, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(&mut stdout, b"\n"))
    } else {
        report_file::print_summary(&mut stdout, &report, manifest)
    };
    crate::ignore_broken_pipe(printed)?;
    eprintln!("report: {}", settings.report_path.display());
    if cancel::interrupted() {
        anyhow::bail!(
            "interrupted: the containers of this run were removed; the report shows what ran"
        );
    }
    Ok(report.overall())
}

/// Removes the run's Docker objects however the topics end, panics included.
struct CleanupGuard<'a>(Option<&'a Docker>);

impl Drop for CleanupGuard<'_> {
    fn drop(&mut self) {
        if let Some(docker) = self.0 {
            cancel::begin_cleanup();
            docker.cleanup();
        }
    }
}

/// A run id unique on this machine: time and process id. Not a secret.
pub fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:012x}{:06x}",
        nanos & 0xffff_ffff_ffff,
        std::process::id() & 0xff_ffff
    )
}
