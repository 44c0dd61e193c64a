//! The real build. For each supported Debian release, in parallel (a bounded number at a time):
//!
//! - `build`: the candidate's script runs in a `debian:<codename>` container with the exporter
//!   binary mounted read-only; the `.deb` it writes is inspected with `dpkg-deb` (name, version,
//!   architecture, Depends, files, conffiles) in a fresh container of the same release;
//! - `install`: in that container, `apt-get install` resolves its Depends against the release's
//!   archive, then the exporter runs (`--version`) and the unit's service user exists;
//! - `purge`: `apt-get purge` succeeds and leaves none of the package's files behind.
//!
//! Each phase is one check; a release continues to the next phase only if it passed this one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use sre_model::debian::DebianRelease;
use sre_model::{PackageSpec, ScriptArg};

use crate::docker::{Docker, RunSpec};
use crate::process::{CommandOutput, RunError};
use crate::runner::{TopicRun, Verdict};
use crate::workdir::WorkDir;

use super::exporter::{self, Exporter, Needs};
use super::images::{self, ReleaseImages};
use super::parallel;
use summary::{Notes, summarize, with_head};

mod build;
mod install;
mod summary;

/// The candidate's script: generous, it may install packages.
const BUILD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// `apt-get install` of the package and its Depends.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// `apt-get purge`, `dpkg-deb`, `getent`…
const QUICK: Duration = Duration::from_secs(2 * 60);

/// Where the packages land in the working copy, one folder per release (kept for the candidate).
const OUT_DIR: &str = ".sre-check/os";

/// Environment variable that bounds how many releases run at once (default: all of them).
/// For benchmarks and slow machines; `1` runs the releases one after another.
pub const JOBS_ENV: &str = "SRE_CHECK_OS_JOBS";

/// Runs the build, install and purge checks.
pub fn run_checks(run: &mut TopicRun, package: &PackageSpec, given_binary: Option<&Path>) {
    let env = run.env();
    let (docker, workdir) = (env.docker, env.workdir);
    let mut releases: Vec<Release> = Vec::new();
    let mut plan: Option<Plan> = None;
    run.check("build", |ctx| {
        if let Some(missing) = script_problem(workdir, &package.script.path)? {
            return Ok(missing);
        }
        let docker = docker.ok_or_else(|| anyhow::anyhow!("topic os needs Docker"))?;
        let note = |line: &str| ctx.note(line);
        let newest = &crate::content::debian_releases()[0].codename;
        let arch = architecture(docker, &format!("debian:{newest}"))?;
        let needs = Needs {
            docker,
            upstream: &package.upstream,
            arch: &arch,
            note: &note,
        };
        // On a first run both are slow (image builds, a download or a Go build): do them at once.
        let (images, located) = std::thread::scope(|scope| {
            let images =
                scope.spawn(|| images::prepare(docker, crate::content::debian_releases(), &note));
            let located = exporter::locate(given_binary, &needs);
            let images = images
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("preparing the images panicked")));
            (images, located)
        });
        let (images, located) = (images?, located?);
        let oldest = crate::content::debian_releases().len() - 1;
        let exporter = exporter::verify(
            located,
            docker,
            (
                &crate::content::debian_releases()[oldest],
                &images[oldest].apt,
            ),
        )?;
        let p = plan.insert(Plan {
            docker,
            workdir,
            package,
            exporter,
            arch,
        });
        releases = crate::content::debian_releases()
            .iter()
            .zip(images)
            .map(|(info, images)| Release::new(info, images, workdir))
            .collect();
        let phase = Instant::now();
        let mut outcomes = parallel::each_mut(&mut releases, jobs(), |r| p.build(r, &note));
        build::same_versions(&releases, &mut outcomes);
        let verdict = summarize(&mut releases, outcomes, phase.elapsed(), Notes::Shown);
        let head = p.exporter.to_string();
        match verdict {
            Ok(verdict) => Ok(with_head(verdict, &head)),
            Err(e) => Err(anyhow::anyhow!("{head}\n{e:#}")),
        }
    });
    if let Some(plan) = &plan {
        run.check("install", |_| {
            let phase = Instant::now();
            let outcomes = parallel::each_mut(&mut releases, jobs(), |r| plan.install(r));
            summarize(&mut releases, outcomes, phase.elapsed(), Notes::Hidden)
        });
        run.check("purge", |_| {
            let phase = Instant::now();
            let outcomes = parallel::each_mut(&mut releases, jobs(), |r| plan.purge(r));
            summarize(&mut releases, outcomes, phase.elapsed(), Notes::Hidden)
        });
        for release in &mut releases {
            if let Some(container) = release.container.take() {
                let _ = plan.docker.remove_container(&container);
            }
        }
    }
}

/// A fail verdict when the script is missing or cannot be executed.
fn script_problem(workdir: &WorkDir, script: &str) -> anyhow::Result<Option<Verdict>> {
    if workdir.read(script)?.is_none() {
        return Ok(Some(Verdict::fail(
            format!("expected {script}; it does not exist"),
            format!(
                "There is no {script} in the working copy: README.md, \"II. Operating system\", \
                 \"Your tasks\", step 1 asks for it."
            ),
        )));
    }
    let mode = std::fs::metadata(workdir.path(script))
        .with_context(|| format!("reading the mode of {script}"))?;
    if std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o111 == 0 {
        return Ok(Some(Verdict::fail(
            format!("{script} is not executable"),
            format!(
                "{script} has no execute permission, so it cannot be called as README.md, \"II. \
                 Operating system\", \"Your tasks\", step 1 shows (git keeps the mode)."
            ),
        )));
    }
    Ok(None)
}

/// The Debian architecture of the engine's containers (`amd64`, `arm64`).
fn architecture(docker: &Docker, image: &str) -> anyhow::Result<String> {
    let out = docker.run(
        &RunSpec::new(image).args(["dpkg", "--print-architecture"]),
        QUICK,
    )?;
    anyhow::ensure!(
        out.success(),
        "asking dpkg for the architecture failed: {}",
        out.combined()
    );
    Ok(out.stdout.trim().to_owned())
}

fn jobs() -> usize {
    std::env::var(JOBS_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(crate::content::debian_releases().len())
        .clamp(1, crate::content::debian_releases().len())
}

/// What the phases share.
struct Plan<'a> {
    docker: &'a Docker,
    workdir: &'a WorkDir,
    package: &'a PackageSpec,
    exporter: Exporter,
    arch: String,
}

/// One release going through the phases.
struct Release {
    info: &'static DebianRelease,
    images: ReleaseImages,
    outdir: PathBuf,
    /// The container the package is inspected, installed and purged in.
    container: Option<String>,
    deb: Option<Deb>,
    /// Files (not folders) the installed package owns.
    installed_files: Vec<String>,
    /// Whether the release passed the last phase, so it goes on to the next.
    ready: bool,
    /// Time spent in docker commands during the current phase.
    docker_time: Duration,
    /// Wall time of the current phase.
    wall: Duration,
}

/// A `.deb` the script wrote.
struct Deb {
    file: String,
    fields: BTreeMap<String, String>,
}

/// How one release did in one phase.
enum Outcome {
    Pass(String),
    Fail { evidence: String, hint: String },
    Error(String),
    Skipped(String),
}

impl Release {
    fn new(info: &'static DebianRelease, images: ReleaseImages, workdir: &WorkDir) -> Release {
        Release {
            info,
            images,
            outdir: workdir.path(&format!("{OUT_DIR}/{}", info.codename)),
            container: None,
            deb: None,
            installed_files: Vec::new(),
            ready: false,
            docker_time: Duration::ZERO,
            wall: Duration::ZERO,
        }
    }

    fn timed(&mut self, out: Result<CommandOutput, RunError>) -> Result<CommandOutput, RunError> {
        if let Ok(out) = &out {
            self.docker_time += out.duration;
        }
        out
    }

    fn exec(
        &mut self,
        docker: &Docker,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let Some(container) = self.container.clone() else {
            return Err(RunError::Interrupted {
                command: "docker exec (the container is gone)".to_owned(),
            });
        };
        let out = docker.exec(&container, args, timeout);
        self.timed(out)
    }
}

impl Plan<'_> {
    /// The script's arguments for a release, in the order the manifest gives.
    fn args(&self, codename: &str) -> Vec<String> {
        let args = &self.package.script.args;
        args.iter().map(|a| self.arg(*a, codename)).collect()
    }

    fn arg(&self, arg: ScriptArg, codename: &str) -> String {
        match arg {
            ScriptArg::Codename => codename.to_owned(),
            ScriptArg::Version => self.exporter.version.clone(),
            ScriptArg::Binary => exporter::MOUNT.to_owned(),
            ScriptArg::Outdir => "/out".to_owned(),
        }
    }
}

/// Where a unit may be installed.
fn unit_paths(service: &str) -> [String; 2] {
    [
        format!("/usr/lib/systemd/system/{service}"),
        format!("/lib/systemd/system/{service}"),
    ]
}
