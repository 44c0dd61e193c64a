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
use sre_model::debian::{self, DebianRelease};
use sre_model::{PackageSpec, ScriptArg};

use crate::docker::{Docker, RunSpec, tail};
use crate::process::{CommandOutput, RunError};
use crate::runner::{TopicRun, Verdict};
use crate::workdir::WorkDir;

use super::exporter::{self, Exporter, Needs};
use super::images::{self, BUILD_TOOLS, ReleaseImages};
use super::parallel;
use super::unit::Unit;

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
pub fn run(run: &mut TopicRun, package: &PackageSpec, given_binary: Option<&Path>) {
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
        let newest = debian::RELEASES[0].codename;
        let arch = architecture(docker, &format!("debian:{newest}"))?;
        let needs = Needs {
            docker,
            upstream: &package.upstream,
            arch: &arch,
            note: &note,
        };
        // On a first run both are slow (image builds, a download or a Go build): do them at once.
        let (images, located) = std::thread::scope(|scope| {
            let images = scope.spawn(|| images::prepare(docker, &debian::RELEASES, &note));
            let located = exporter::locate(given_binary, &needs);
            let images = images
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("preparing the images panicked")));
            (images, located)
        });
        let (images, located) = (images?, located?);
        let oldest = debian::RELEASES.len() - 1;
        let exporter = exporter::verify(
            located,
            docker,
            (&debian::RELEASES[oldest], &images[oldest].apt),
        )?;
        let p = plan.insert(Plan {
            docker,
            workdir,
            package,
            exporter,
            arch,
        });
        releases = debian::RELEASES
            .iter()
            .zip(images)
            .map(|(info, images)| Release::new(info, images, workdir))
            .collect();
        let phase = Instant::now();
        let mut outcomes = parallel::each_mut(&mut releases, jobs(), |r| p.build(r, &note));
        same_versions(&releases, &mut outcomes);
        let verdict = summarize(&mut releases, outcomes, phase.elapsed(), Notes::Shown);
        Ok(with_head(verdict?, &p.exporter.to_string()))
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
                "Write the packaging script {script}: it takes the arguments the topic's README \
                 documents and writes one .deb into <outdir>."
            ),
        )));
    }
    let mode = std::fs::metadata(workdir.path(script))
        .with_context(|| format!("reading the mode of {script}"))?;
    if std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o111 == 0 {
        return Ok(Some(Verdict::fail(
            format!("{script} is not executable"),
            format!(
                "Make it executable and commit the mode: `chmod +x {script}` (git keeps it; \
                 `git update-index --chmod=+x {script}` on Windows)."
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
        .unwrap_or(debian::RELEASES.len())
        .clamp(1, debian::RELEASES.len())
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

    fn build(&self, r: &mut Release, note: &(dyn Fn(&str) + Sync)) -> Outcome {
        let started = Instant::now();
        r.docker_time = Duration::ZERO;
        let outcome = self
            .build_steps(r, note)
            .unwrap_or_else(|e| Outcome::Error(format!("{e:#}")));
        r.wall = started.elapsed();
        outcome
    }

    fn build_steps(
        &self,
        r: &mut Release,
        note: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Outcome> {
        let codename = r.info.codename;
        if r.outdir.exists() {
            std::fs::remove_dir_all(&r.outdir)
                .with_context(|| format!("emptying {}", r.outdir.display()))?;
        }
        std::fs::create_dir_all(&r.outdir)
            .with_context(|| format!("creating {}", r.outdir.display()))?;
        let script = format!("./{}", self.package.script.path);
        let args = self.args(codename);
        let usage = format!("{script} {}", args.join(" "));
        // Files the script writes are root's inside the container: hand them back to the user.
        let spec = RunSpec::new(&r.images.build)
            .mount_ro(self.workdir.root(), "/work")
            .mount_ro(&self.exporter.path, exporter::MOUNT)
            .mount_rw(&r.outdir, "/out")
            .workdir("/work")
            .args([
                "sh",
                "-c",
                HARNESS,
                "sre-check",
                &exporter::owner(self.workdir.root())?,
                &script,
            ])
            .args(args);
        let prefixed = |line: &str| note(&format!("{codename}: {line}"));
        let out = self.docker.run_with_lines(&spec, BUILD_TIMEOUT, &prefixed);
        let out = r.timed(out)?;
        if !out.success() {
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`{usage}` exited with status {}:\n{}",
                    out.status.code().unwrap_or(-1),
                    tail(&out.combined(), 40)
                ),
                hint: format!(
                    "Reproduce it: `docker run --rm -it -v \"$PWD:/work:ro\" -w /work \
                     debian:{codename}`, install {BUILD_TOOLS} (the checker's container has them), \
                     then run the script with the same arguments."
                ),
            });
        }
        let Some(file) = self.find_deb(r, &usage)? else {
            let listing = folder_listing(&r.outdir);
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`{usage}` succeeded but wrote no {}_*.deb into /out (the <outdir> argument); \
                     /out holds: {listing}",
                    self.package.name
                ),
                hint: "Write the package into the folder given as <outdir>, e.g. `dpkg-deb \
                       --build --root-owner-group \"$root\" \"$outdir\"`; without an output path \
                       dpkg-deb writes next to the package tree."
                    .to_owned(),
            });
        };
        let starting = Instant::now();
        let container = self.docker.start(
            &RunSpec::new(&r.images.apt)
                .mount_ro(&r.outdir, "/debs")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["sleep", "infinity"]),
            QUICK,
        );
        r.docker_time += starting.elapsed();
        r.container = Some(container?);
        self.inspect(r, file)
    }

    /// The one `<package>_*.deb` in the release's out folder.
    fn find_deb(&self, r: &Release, usage: &str) -> anyhow::Result<Option<String>> {
        let prefix = format!("{}_", self.package.name);
        let mut debs: Vec<String> = std::fs::read_dir(&r.outdir)
            .with_context(|| format!("listing {}", r.outdir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
            .collect();
        debs.sort();
        if debs.len() > 1 {
            anyhow::bail!(
                "`{usage}` wrote several packages ({}); sre-check expects one per release",
                debs.join(", ")
            );
        }
        Ok(debs.pop())
    }

    /// `dpkg-deb` on the package: control fields, files, conffiles.
    fn inspect(&self, r: &mut Release, file: String) -> anyhow::Result<Outcome> {
        let path = format!("/debs/{file}");
        let fields = r.exec(self.docker, &["dpkg-deb", "--field", &path], QUICK)?;
        if !fields.success() {
            return Ok(Outcome::Fail {
                evidence: format!("{file} is not a valid .deb: {}", fields.combined()),
                hint: "Build the package with `dpkg-deb --build`.".to_owned(),
            });
        }
        let contents = r.exec(self.docker, &["dpkg-deb", "--contents", &path], QUICK)?;
        let conffiles = r.exec(
            self.docker,
            &[
                "sh",
                "-c",
                "dpkg-deb --info \"$1\" conffiles 2>/dev/null || true",
                "sh",
                &path,
            ],
            QUICK,
        )?;
        let fields = control_fields(&fields.stdout);
        let files = tar_paths(&contents.stdout);
        let conffiles: Vec<&str> = conffiles.stdout.lines().map(str::trim).collect();
        let problems = self.package_problems(&fields, &files, &conffiles);
        let field = |k: &str| fields.get(k).map_or("(none)", String::as_str).to_owned();
        let summary = format!(
            "{file}: Version {}, Architecture {}, Depends: {}",
            field("Version"),
            field("Architecture"),
            field("Depends")
        );
        r.deb = Some(Deb { file, fields });
        if problems.is_empty() {
            return Ok(Outcome::Pass(format!(
                "{summary}\n  ships {}, its unit and the conffile {}",
                self.package.binary, self.package.defaults
            )));
        }
        Ok(Outcome::Fail {
            evidence: format!("{summary}\n  {}", problems.join("\n  ")),
            hint: format!(
                "The README lists what the package holds: {} installed as {}, the unit {} under \
                 /usr/lib/systemd/system (or /lib/systemd/system), {} listed in DEBIAN/conffiles, \
                 Version starting with the upstream version, Architecture {}.",
                self.package.name,
                self.package.binary,
                self.package.service,
                self.package.defaults,
                self.arch
            ),
        })
    }

    fn package_problems(
        &self,
        fields: &BTreeMap<String, String>,
        files: &[String],
        conffiles: &[&str],
    ) -> Vec<String> {
        let spec = self.package;
        let mut problems = Vec::new();
        let field = |k: &str| fields.get(k).map(String::as_str);
        if field("Package") != Some(spec.name.as_str()) {
            problems.push(format!(
                "Package is {:?}, expected {}",
                field("Package").unwrap_or("(none)"),
                spec.name
            ));
        }
        let version = field("Version").unwrap_or_default();
        let upstream = version.split_once(':').map_or(version, |(_, v)| v);
        if !upstream.starts_with(&self.exporter.version) {
            problems.push(format!(
                "Version {version} does not start with the upstream version {}",
                self.exporter.version
            ));
        }
        if field("Architecture") != Some(self.arch.as_str()) {
            problems.push(format!(
                "Architecture is {}, expected {} (the binary is built for one architecture)",
                field("Architecture").unwrap_or("(none)"),
                self.arch
            ));
        }
        let ships = |path: &str| files.iter().any(|f| f == path);
        if !ships(&spec.binary) {
            problems.push(format!("{} is not in the package", spec.binary));
        }
        if !unit_paths(&spec.service).iter().any(|p| ships(p)) {
            problems.push(format!(
                "no {} under /usr/lib/systemd/system or /lib/systemd/system",
                spec.service
            ));
        }
        if !ships(&spec.defaults) {
            problems.push(format!("{} is not in the package", spec.defaults));
        } else if !conffiles.contains(&spec.defaults.as_str()) {
            problems.push(format!(
                "{} is not a conffile (DEBIAN/conffiles): an upgrade would overwrite local settings",
                spec.defaults
            ));
        }
        problems
    }

    fn install(&self, r: &mut Release) -> Outcome {
        self.phase(r, "build", |plan, r| plan.install_steps(r))
    }

    fn purge(&self, r: &mut Release) -> Outcome {
        self.phase(r, "install", |plan, r| plan.purge_steps(r))
    }

    /// Runs a phase on a release that passed the phase before, timing it.
    fn phase(
        &self,
        r: &mut Release,
        before: &str,
        steps: impl FnOnce(&Self, &mut Release) -> anyhow::Result<Outcome>,
    ) -> Outcome {
        if !r.ready || r.container.is_none() {
            return Outcome::Skipped(format!("not run: the {before} check did not pass here"));
        }
        let started = Instant::now();
        r.docker_time = Duration::ZERO;
        let outcome = steps(self, r).unwrap_or_else(|e| Outcome::Error(format!("{e:#}")));
        r.wall = started.elapsed();
        if !matches!(outcome, Outcome::Pass(_))
            && let Some(container) = r.container.take()
        {
            let _ = self.docker.remove_container(&container);
        }
        outcome
    }

    fn install_steps(&self, r: &mut Release) -> anyhow::Result<Outcome> {
        let Some(deb) = &r.deb else {
            anyhow::bail!("no package to install");
        };
        let path = format!("/debs/{}", deb.file);
        let version = deb.fields.get("Version").cloned().unwrap_or_default();
        let install = ["apt-get", "install", "-y", "--no-install-recommends", &path];
        let mut out = r.exec(self.docker, &install, INSTALL_TIMEOUT)?;
        if !out.success() && fetch_problem(&out.combined()) {
            // The image's package lists may be older than the mirror: refresh them once.
            r.exec(self.docker, &["apt-get", "update"], INSTALL_TIMEOUT)?;
            out = r.exec(self.docker, &install, INSTALL_TIMEOUT)?;
        }
        let text = out.combined();
        if !out.success() {
            if fetch_problem(&text) {
                anyhow::bail!(
                    "apt could not download from the Debian mirror (check the network):\n{}",
                    tail(&text, 15)
                );
            }
            return Ok(Outcome::Fail {
                evidence: format!("`apt-get install {path}` failed:\n{}", tail(&text, 25)),
                hint: install_hint(&text, r.info),
            });
        }
        let mut problems = Vec::new();
        let mut evidence = vec![format!("apt-get installed {} {version}", self.package.name)];
        let command = self
            .package
            .binary
            .rsplit('/')
            .next()
            .unwrap_or(&self.package.binary);
        let run = r.exec(self.docker, &[command, "--version"], QUICK)?;
        let first = run.combined().lines().next().unwrap_or_default().to_owned();
        if run.success() && first.contains(&self.exporter.version) {
            evidence.push(format!("`{command} --version`: {first}"));
        } else {
            problems.push(format!(
                "`{command} --version` (exit {}): {}",
                run.status.code().unwrap_or(-1),
                tail(&run.combined(), 5)
            ));
        }
        self.check_unit(r, &mut evidence, &mut problems)?;
        let listing = r.exec(
            self.docker,
            &[
                "sh",
                "-c",
                "dpkg-query -L \"$1\" | while read -r f; do [ -d \"$f\" ] || echo \"$f\"; done",
                "sh",
                &self.package.name,
            ],
            QUICK,
        )?;
        r.installed_files = listing.stdout.lines().map(str::to_owned).collect();
        if problems.is_empty() {
            return Ok(Outcome::Pass(evidence.join("; ")));
        }
        Ok(Outcome::Fail {
            evidence: format!("{}\n  {}", evidence.join("; "), problems.join("\n  ")),
            hint: format!(
                "The unit must run {} as a dedicated system user that the package creates \
                 (postinst: `adduser --system --group …`, with adduser in Depends), and read its \
                 settings from {} (EnvironmentFile=).",
                self.package.binary, self.package.defaults
            ),
        })
    }

    /// The unit is installed, runs the binary as an existing system user, reads the defaults.
    fn check_unit(
        &self,
        r: &mut Release,
        evidence: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let paths = unit_paths(&self.package.service);
        let mut args = vec![
            "sh",
            "-c",
            "for f; do if [ -f \"$f\" ]; then echo \"$f\"; cat \"$f\"; exit 0; fi; done; exit 1",
            "sh",
        ];
        args.extend(paths.iter().map(String::as_str));
        let found = r.exec(self.docker, &args, QUICK)?;
        if !found.success() {
            problems.push(format!("{} is not installed", self.package.service));
            return Ok(());
        }
        let (path, text) = found.stdout.split_once('\n').unwrap_or((&found.stdout, ""));
        let unit = Unit::parse(text);
        let exec_start = unit.get("Service", "ExecStart").unwrap_or_default();
        if !exec_start.contains(&self.package.binary) {
            problems.push(format!(
                "{path}: ExecStart={exec_start} does not run {}",
                self.package.binary
            ));
        }
        let reads_defaults = unit
            .all("Service", "EnvironmentFile")
            .iter()
            .any(|f| f.trim_start_matches('-') == self.package.defaults);
        if !reads_defaults {
            problems.push(format!(
                "{path}: no EnvironmentFile={}: the conffile would have no effect",
                self.package.defaults
            ));
        }
        let Some(user) = unit.get("Service", "User").map(str::to_owned) else {
            problems.push(format!("{path}: no User=: the exporter would run as root"));
            return Ok(());
        };
        let entry = r.exec(self.docker, &["getent", "passwd", &user], QUICK)?;
        let uid = entry
            .stdout
            .split(':')
            .nth(2)
            .and_then(|u| u.trim().parse::<u32>().ok());
        match uid {
            Some(uid) if uid > 0 && uid < 1000 => {
                evidence.push(format!("{path} runs it as system user {user} (uid {uid})"));
            }
            Some(uid) => problems.push(format!(
                "{path}: User={user} has uid {uid}: expected a system user (uid 1-999)"
            )),
            None => problems.push(format!(
                "{path}: User={user}, but no such user exists after the install"
            )),
        }
        Ok(())
    }

    fn purge_steps(&self, r: &mut Release) -> anyhow::Result<Outcome> {
        let name = self.package.name.as_str();
        let out = r.exec(
            self.docker,
            &["apt-get", "purge", "-y", name],
            INSTALL_TIMEOUT,
        )?;
        if !out.success() {
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`apt-get purge -y {name}` failed:\n{}",
                    tail(&out.combined(), 20)
                ),
                hint: "A maintainer script failed while the package was removed. `postrm purge` \
                       must succeed even when what it cleans up is already gone (rm -f, checks \
                       before deluser); dpkg stops on the first failing command under `set -e`."
                    .to_owned(),
            });
        }
        let status = r.exec(
            self.docker,
            &[
                "dpkg-query",
                "--show",
                "--showformat=${db:Status-Abbrev}",
                name,
            ],
            QUICK,
        )?;
        let mut problems = Vec::new();
        let abbrev = status.stdout.trim();
        if status.success() && !abbrev.starts_with("un") && !abbrev.is_empty() {
            problems.push(format!(
                "dpkg still lists {name} as `{abbrev}` after the purge"
            ));
        }
        let mut args = vec![
            "sh",
            "-c",
            "for f; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo \"$f\"; fi; done",
            "sh",
        ];
        let files = r.installed_files.clone();
        args.extend(files.iter().map(String::as_str));
        let left = r.exec(self.docker, &args, QUICK)?;
        let left: Vec<&str> = left.stdout.lines().collect();
        if !left.is_empty() {
            problems.push(format!("files left behind: {}", left.join(", ")));
        }
        if problems.is_empty() {
            return Ok(Outcome::Pass(format!(
                "apt-get purge removed {name} and its {} files",
                r.installed_files.len()
            )));
        }
        Ok(Outcome::Fail {
            evidence: problems.join("\n  "),
            hint: "Purge must remove every file the package installed, conffiles included; let \
                   dpkg own the files (ship them in the package) rather than creating them in \
                   postinst."
                .to_owned(),
        })
    }
}

/// Runs the candidate's command, then gives `/out` back to the user running sre-check.
const HARNESS: &str =
    "owner=$1; shift; \"$@\"; status=$?; chown -R \"$owner\" /out 2>/dev/null; exit $status";

/// Where a unit may be installed.
fn unit_paths(service: &str) -> [String; 2] {
    [
        format!("/usr/lib/systemd/system/{service}"),
        format!("/lib/systemd/system/{service}"),
    ]
}

/// apt failed to download (network, stale lists) rather than to resolve.
fn fetch_problem(apt_output: &str) -> bool {
    [
        "Failed to fetch",
        "Unable to fetch",
        "Temporary failure resolving",
        "Could not resolve",
    ]
    .iter()
    .any(|p| apt_output.contains(p))
}

fn install_hint(apt_output: &str, release: &DebianRelease) -> String {
    if apt_output.contains("unmet dependencies") || apt_output.contains("Depends:") {
        format!(
            "A Depends of the package cannot be satisfied on Debian {} ({}). Versions of \
             libraries differ between releases: give each release the Depends it can satisfy \
             (the exporter binary is static and needs no libc6 at all).",
            release.version, release.codename
        )
    } else if apt_output.contains("post-installation script") {
        "The postinst script failed: run it by hand in a container of this release, with `sh -x`."
            .to_owned()
    } else {
        "Install the package by hand in a container of this release to see the failure: \
         `apt-get install ./<package>.deb`."
            .to_owned()
    }
}

/// `Key: value` fields of `dpkg-deb --field`, continuation lines joined.
fn control_fields(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = last.as_ref().and_then(|k| fields.get_mut(k)) {
                let value: &mut String = value;
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.insert(key.trim().to_owned(), value.trim().to_owned());
            last = Some(key.trim().to_owned());
        }
    }
    fields
}

/// Absolute paths of `dpkg-deb --contents` (tar listing) lines, folders without their slash.
fn tar_paths(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| {
            let name = line.split_whitespace().nth(5)?;
            let start = line.find(name)?;
            let full = line.get(start..)?;
            let full = full.split(" -> ").next().unwrap_or(full);
            let path = full.trim_start_matches('.').trim_end_matches('/');
            (!path.is_empty()).then(|| path.to_owned())
        })
        .collect()
}

fn folder_listing(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

/// Packages of different releases with the same Version cannot live in one apt repository.
fn same_versions(releases: &[Release], outcomes: &mut [Outcome]) {
    let versions: Vec<Option<&str>> = releases
        .iter()
        .zip(outcomes.iter())
        .map(|(r, o)| match o {
            Outcome::Pass(_) => r.deb.as_ref()?.fields.get("Version").map(String::as_str),
            _ => None,
        })
        .collect();
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        let Some(version) = versions[i] else {
            continue;
        };
        let twins: Vec<String> = releases
            .iter()
            .zip(&versions)
            .enumerate()
            .filter(|(j, (_, v))| *j != i && **v == Some(version))
            .map(|(_, (r, _))| r.info.label())
            .collect();
        if !twins.is_empty() {
            let Outcome::Pass(evidence) = outcome else {
                continue;
            };
            *outcome = Outcome::Fail {
                evidence: format!(
                    "{evidence}\n  the same Version {version} as the package for {}",
                    twins.join(", ")
                ),
                hint: "Give each release its own version suffix, e.g. 0.17.1-1+deb13 for trixie \
                       and 0.17.1-1+deb12 for bookworm, so apt can tell the packages apart and an \
                       upgrade of Debian upgrades the package too."
                    .to_owned(),
            };
        }
    }
}

/// Whether a summary repeats the releases' support warnings (once per topic is enough).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Notes {
    Shown,
    Hidden,
}

/// One verdict from the releases' outcomes: any fail fails the check; otherwise any error makes
/// it an error; releases that did not take part are listed. Only releases that passed go on.
fn summarize(
    releases: &mut [Release],
    outcomes: Vec<Outcome>,
    phase: Duration,
    notes: Notes,
) -> anyhow::Result<Verdict> {
    for (release, outcome) in releases.iter_mut().zip(&outcomes) {
        release.ready = matches!(outcome, Outcome::Pass(_));
    }
    let mut lines = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let (mut failed, mut errored, mut passed) = (false, false, false);
    for (release, outcome) in releases.iter().zip(outcomes) {
        let text = match outcome {
            Outcome::Pass(text) => {
                passed = true;
                text
            }
            Outcome::Fail { evidence, hint } => {
                failed = true;
                if !hints.contains(&hint) {
                    hints.push(hint);
                }
                format!("FAIL {evidence}")
            }
            Outcome::Error(text) => {
                errored = true;
                format!("ERROR {text}")
            }
            Outcome::Skipped(text) => text,
        };
        lines.push(format!("{}: {text}", release.info.label()));
        if let Some(warning) = release.info.warning().filter(|_| notes == Notes::Shown) {
            lines.push(format!("  note: {warning}"));
        }
    }
    lines.push(timing(releases, phase));
    let evidence = lines.join("\n");
    if failed {
        Ok(Verdict::fail(evidence, hints.join("\n")))
    } else if errored {
        Err(anyhow::anyhow!(evidence))
    } else if passed {
        Ok(Verdict::pass(evidence))
    } else {
        Ok(Verdict::skipped(evidence))
    }
}

/// `time: 41.0 s for the releases in parallel; trixie 38.2 s (docker 37.9 s), …`
fn timing(releases: &[Release], phase: Duration) -> String {
    let each: Vec<String> = releases
        .iter()
        .filter(|r| !r.wall.is_zero())
        .map(|r| {
            format!(
                "{} {:.1} s (docker {:.1} s)",
                r.info.codename,
                r.wall.as_secs_f64(),
                r.docker_time.as_secs_f64()
            )
        })
        .collect();
    format!(
        "time: {:.1} s with {} release(s) at once; {}",
        phase.as_secs_f64(),
        jobs(),
        each.join(", ")
    )
}

/// `verdict` with `head` as the first line of its evidence.
fn with_head(verdict: Verdict, head: &str) -> Verdict {
    match verdict {
        Verdict::Pass { evidence } => Verdict::pass(format!("{head}\n{evidence}")),
        Verdict::Fail { evidence, hint } => Verdict::fail(format!("{head}\n{evidence}"), hint),
        Verdict::Skipped { reason } => Verdict::skipped(format!("{head}\n{reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_fields_join_continuation_lines() {
        let fields = control_fields(
            "Package: prometheus-postgres-exporter\nVersion: 0.17.1-1+deb13\nDescription: exporter\n more text\n",
        );
        assert_eq!(fields["Version"], "0.17.1-1+deb13");
        assert_eq!(fields["Description"], "exporter\nmore text");
    }

    #[test]
    fn tar_listing_gives_absolute_paths() {
        let listing = "\
drwxr-xr-x root/root         0 2025-11-29 06:40 ./
drwxr-xr-x root/root         0 2025-11-29 06:40 ./usr/bin/
-rwxr-xr-x root/root  13602008 2025-11-29 06:40 ./usr/bin/prometheus-postgres-exporter
lrwxrwxrwx root/root         0 2025-11-29 06:40 ./usr/sbin/a b -> ../bin/x
";
        assert_eq!(
            tar_paths(listing),
            [
                "/usr/bin",
                "/usr/bin/prometheus-postgres-exporter",
                "/usr/sbin/a b"
            ]
        );
    }

    #[test]
    fn apt_download_problems_are_told_from_unmet_dependencies() {
        assert!(fetch_problem(
            "E: Failed to fetch http://deb.debian.org/... 404 Not Found"
        ));
        assert!(!fetch_problem(
            "The following packages have unmet dependencies:\n x : Depends: libc6 (>= 2.34)"
        ));
        let hint = install_hint(
            " x : Depends: libc6 (>= 2.34) but 2.31 is to be installed",
            &debian::RELEASES[2],
        );
        assert!(hint.contains("Debian 11 (bullseye)"), "{hint}");
    }
}
