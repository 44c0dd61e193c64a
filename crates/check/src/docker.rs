//! The one place that builds `docker` and `docker compose` command lines.
//!
//! Every container, network, volume and image a run creates carries two labels,
//! [`LABEL_MANAGED`] and [`LABEL_RUN`] = the run id, so [`Docker::cleanup`] can remove exactly what
//! this run made, whatever way the run ends, and `sre-check clean` can sweep what a killed run left.
//! Images the checker needs for itself (linters, tools) are cached across runs as *tool images*.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::limits::Limits;
use crate::process::{self, CommandOutput, RunError};

/// Label on everything sre-check creates.
pub const LABEL_MANAGED: &str = "io.sre-check.managed";
/// Label naming the run that created an object.
pub const LABEL_RUN: &str = "io.sre-check.run";
/// Label naming a cached tool image.
pub const LABEL_TOOL: &str = "io.sre-check.tool";
/// Prefix of compose project names, so leftovers of killed runs can be found by name.
pub const PROJECT_PREFIX: &str = "sre-check-";

/// Time for quick engine queries (`docker version`, `ps`, `rm`); scaled by `--timeout-factor`
/// where a run has one, since a loaded engine answers them slowly too.
const QUICK: Duration = Duration::from_secs(30);
/// Extra cleanup rounds after a `docker` client was killed mid-request, and the pause before each:
/// long enough for the engine to finish a create it had already accepted.
pub const SETTLE_ROUNDS: usize = 5;
const SETTLE_PAUSE: Duration = Duration::from_secs(1);

/// The Compose implementation found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeCli {
    /// `docker compose` (v2 plugin): has `up --wait`.
    Plugin(String),
    /// The old standalone `docker-compose` (v1).
    Standalone(String),
}

impl ComposeCli {
    /// The version it reported.
    pub fn version(&self) -> &str {
        match self {
            ComposeCli::Plugin(v) | ComposeCli::Standalone(v) => v,
        }
    }
}

/// What `sre-check doctor` and the run preflight learn about the engine.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Server version, e.g. `20.10.24`.
    pub server_version: String,
    /// Whether `docker buildx` is available (BuildKit builds); otherwise the legacy builder is used.
    pub buildkit: bool,
    /// Compose, when installed.
    pub compose: Option<ComposeCli>,
    /// Where the engine keeps images, when it tells.
    pub root_dir: Option<PathBuf>,
}

/// Why the engine cannot be used. The message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EngineUnavailable {
    /// No `docker` program.
    #[error(
        "the `docker` command was not found: install Docker (https://docs.docker.com/get-docker/) \
         and make sure `docker` is on your PATH"
    )]
    NoCli,
    /// The CLI is there but the engine does not answer.
    #[error(
        "Docker engine not reachable: {0}. Start Docker (Docker Desktop, or `sudo systemctl start \
         docker` on Linux), make sure your user may use it (`docker info` works without sudo), then \
         run `sre-check doctor`"
    )]
    NoEngine(String),
}

/// Asks the engine who it is. Used by the run preflight and by `sre-check doctor`.
pub fn probe() -> Result<EngineInfo, EngineUnavailable> {
    let mut cmd = Command::new("docker");
    cmd.args(["version", "--format", "{{.Server.Version}}"]);
    let out = match process::run(cmd, QUICK) {
        Ok(out) => out,
        Err(RunError::Spawn { .. }) => return Err(EngineUnavailable::NoCli),
        Err(e) => return Err(EngineUnavailable::NoEngine(e.to_string())),
    };
    let server_version = out.stdout.trim().to_owned();
    if !out.success() || server_version.is_empty() {
        let reason = first_line(&out.stderr).unwrap_or("the engine did not answer");
        return Err(EngineUnavailable::NoEngine(reason.to_owned()));
    }
    Ok(EngineInfo {
        server_version,
        buildkit: quick_ok(&["buildx", "version"]),
        compose: detect_compose(),
        root_dir: quick_stdout(&["info", "--format", "{{.DockerRootDir}}"]).map(PathBuf::from),
    })
}

fn detect_compose() -> Option<ComposeCli> {
    if let Some(v) = quick_stdout(&["compose", "version", "--short"]) {
        return Some(ComposeCli::Plugin(v));
    }
    let mut cmd = Command::new("docker-compose");
    cmd.args(["version", "--short"]);
    let out = process::run(cmd, QUICK)
        .ok()
        .filter(CommandOutput::success)?;
    Some(ComposeCli::Standalone(out.stdout.trim().to_owned()))
}

/// The Docker driver of one run.
pub struct Docker {
    run_id: String,
    info: EngineInfo,
    timeout_factor: f64,
    limits: Limits,
    projects: Mutex<Vec<ComposeProject>>,
}

impl Docker {
    /// A driver for run `run_id`, using what [`probe`] found. Timeouts given to its methods are
    /// multiplied by `timeout_factor` (slow laptops, `--timeout-factor`).
    pub fn new(run_id: &str, info: EngineInfo, timeout_factor: f64) -> Docker {
        Docker {
            run_id: run_id.to_owned(),
            info,
            timeout_factor,
            limits: Limits::default(),
            projects: Mutex::new(Vec::new()),
        }
    }

    /// The same driver with other resource ceilings for its containers.
    pub fn with_limits(self, limits: Limits) -> Docker {
        Docker { limits, ..self }
    }

    /// The resource ceilings every container of this run gets.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The engine this driver talks to.
    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    /// The run id every object is labelled with.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// `--label` arguments and resource ceilings for a container of this run.
    fn container_args(&self) -> Vec<String> {
        let mut args = self.label_args().to_vec();
        args.extend(self.limits.run_args());
        args
    }

    /// `--label` arguments for objects of this run.
    fn label_args(&self) -> [String; 4] {
        [
            "--label".to_owned(),
            format!("{LABEL_MANAGED}=true"),
            "--label".to_owned(),
            format!("{LABEL_RUN}={}", self.run_id),
        ]
    }

    fn scaled(&self, timeout: Duration) -> Duration {
        timeout.mul_f64(self.timeout_factor)
    }

    fn docker(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.args(args);
        cmd
    }

    /// Builds an image of this run, tagged `tag`, from `context` (and `dockerfile` inside it,
    /// default `Dockerfile`). The output is the evidence: a failed build is an `Ok` with a non-zero
    /// status; only an engine problem or a timeout is an `Err`.
    pub fn build(
        &self,
        context: &Path,
        dockerfile: Option<&Path>,
        tag: &str,
        timeout: Duration,
        on_line: &(dyn Fn(&str) + Sync),
    ) -> Result<CommandOutput, RunError> {
        self.build_with(&[], context, dockerfile, tag, timeout, on_line)
    }

    /// [`Docker::build`] with none of Docker's cached layers: every step runs and prints again.
    pub fn build_uncached(
        &self,
        context: &Path,
        dockerfile: Option<&Path>,
        tag: &str,
        timeout: Duration,
        on_line: &(dyn Fn(&str) + Sync),
    ) -> Result<CommandOutput, RunError> {
        self.build_with(&["--no-cache"], context, dockerfile, tag, timeout, on_line)
    }

    fn build_with(
        &self,
        flags: &[&str],
        context: &Path,
        dockerfile: Option<&Path>,
        tag: &str,
        timeout: Duration,
        on_line: &(dyn Fn(&str) + Sync),
    ) -> Result<CommandOutput, RunError> {
        let mut cmd = self.docker(&["build", "--force-rm", "--tag", tag]);
        cmd.args(flags);
        cmd.args(self.label_args());
        self.builder_flags(&mut cmd);
        if let Some(file) = dockerfile {
            cmd.arg("--file").arg(file);
        }
        cmd.arg(context);
        process::run_with_lines(cmd, self.scaled(timeout), on_line)
    }

    fn builder_flags(&self, cmd: &mut Command) {
        if self.info.buildkit {
            cmd.arg("--progress=plain");
        } else {
            // Without buildx, new CLIs refuse to build unless told to use the legacy builder.
            cmd.env("DOCKER_BUILDKIT", "0");
            // Only the legacy builder runs RUN steps in containers these flags reach.
            cmd.args(self.limits.build_args());
        }
    }

    /// An image the checker itself needs (a linter, a tool), built once from `dockerfile` and
    /// cached across runs under a tag derived from its content. Returns the tag.
    pub fn tool_image(
        &self,
        name: &str,
        dockerfile: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let digest = Sha256::digest(dockerfile.as_bytes());
        let short: String = digest.iter().take(6).fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let tag = format!("sre-check-tools/{name}:{short}");
        if self.image_exists(&tag)? {
            return Ok(tag);
        }
        let dir = tempfile::tempdir().context("creating a build folder for a tool image")?;
        std::fs::write(dir.path().join("Dockerfile"), dockerfile)
            .context("writing a tool image Dockerfile")?;
        let mut cmd = self.docker(&["build", "--force-rm", "--tag", &tag, "--label"]);
        cmd.arg(format!("{LABEL_MANAGED}=true"))
            .arg("--label")
            .arg(format!("{LABEL_TOOL}={name}"));
        self.builder_flags(&mut cmd);
        cmd.arg(dir.path());
        let out = process::run(cmd, self.scaled(timeout))?;
        if !out.success() {
            bail!(
                "building the checker's `{name}` image failed (this is a problem of the checker or \
                 of the network, not of your work):\n{}",
                tail(&out.combined(), 40)
            );
        }
        Ok(tag)
    }

    /// Whether an image with this reference exists locally.
    pub fn image_exists(&self, reference: &str) -> anyhow::Result<bool> {
        let out = process::run(
            self.docker(&["image", "inspect", "--format", "{{.Id}}", reference]),
            self.scaled(QUICK),
        )?;
        Ok(out.success())
    }

    /// Runs a container of this run to completion and returns its output (`docker run --rm`).
    pub fn run(&self, spec: &RunSpec, timeout: Duration) -> Result<CommandOutput, RunError> {
        let mut cmd = self.docker(&["run", "--rm"]);
        cmd.args(self.container_args());
        spec.push_args(&mut cmd);
        process::run(cmd, self.scaled(timeout))
    }

    /// Starts a container of this run in the background; returns its id.
    pub fn start(&self, spec: &RunSpec, timeout: Duration) -> anyhow::Result<String> {
        let mut cmd = self.docker(&["run", "--detach"]);
        cmd.args(self.container_args());
        spec.push_args(&mut cmd);
        let out = process::run(cmd, self.scaled(timeout))?;
        if !out.success() {
            bail!(
                "starting a container from {} failed: {}",
                spec.image,
                out.combined()
            );
        }
        Ok(out.stdout.trim().to_owned())
    }

    /// Runs a command in a running container.
    pub fn exec(
        &self,
        container: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let mut cmd = self.docker(&["exec", container]);
        cmd.args(args);
        process::run(cmd, self.scaled(timeout))
    }

    /// A compose project of this run for the compose `files` in `dir`. Its containers get this
    /// run's labels through an override file; [`Docker::cleanup`] takes it down.
    pub fn compose_project(
        &self,
        topic: &str,
        dir: &Path,
        files: &[PathBuf],
    ) -> anyhow::Result<ComposeProject> {
        let Some(cli) = self.info.compose.clone() else {
            bail!(
                "Docker Compose is not installed: install the Compose plugin \
                 (https://docs.docker.com/compose/install/) so that `docker compose version` works"
            );
        };
        let short_run: String = self.run_id.chars().take(8).collect();
        let project = ComposeProject {
            name: format!("{PROJECT_PREFIX}{topic}-{short_run}"),
            dir: dir.to_path_buf(),
            files: files.to_vec(),
            cli,
            override_file: None,
        };
        let services = self.compose(&project, &["config", "--services"], QUICK)?;
        if !services.success() {
            bail!("the compose file is not valid:\n{}", services.combined());
        }
        let mut yaml = String::from(
            "# Written by sre-check: labels its containers for cleanup, sets their limits.\nservices:\n",
        );
        for service in services.stdout.lines().filter(|l| !l.trim().is_empty()) {
            let _ = write!(
                yaml,
                "  {service}:\n    labels:\n      {LABEL_MANAGED}: \"true\"\n      {LABEL_RUN}: \"{}\"\n{}",
                self.run_id,
                self.limits.compose_service_yaml(4)
            );
        }
        let override_file = tempfile::Builder::new()
            .prefix("sre-check-compose-")
            .suffix(".yml")
            .tempfile()
            .context("creating the compose override file")?;
        std::fs::write(override_file.path(), yaml).context("writing the compose override file")?;
        let (_, path) = override_file
            .keep()
            .context("keeping the compose override file")?;
        let project = ComposeProject {
            override_file: Some(path),
            ..project
        };
        self.projects
            .lock()
            .map_err(|_| anyhow::anyhow!("compose project registry poisoned"))?
            .push(project.clone());
        Ok(project)
    }

    /// Runs `docker compose <args>` (or `docker-compose`) for a project. Private: topics use the
    /// methods below, so every Compose command line is written here.
    fn compose(
        &self,
        project: &ComposeProject,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let mut cmd = match project.cli {
            ComposeCli::Plugin(_) => self.docker(&["compose"]),
            ComposeCli::Standalone(_) => Command::new("docker-compose"),
        };
        cmd.current_dir(&project.dir)
            .arg("--project-name")
            .arg(&project.name);
        for file in project.files.iter().chain(project.override_file.as_ref()) {
            cmd.arg("--file").arg(file);
        }
        cmd.args(args);
        process::run(cmd, self.scaled(timeout))
    }

    /// Starts a project's services and waits until they are running and healthy.
    /// With Compose v1 (no `--wait`) it polls the containers' health instead.
    pub fn compose_up(
        &self,
        project: &ComposeProject,
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        self.compose_up_images(project, timeout, true)
    }

    /// [`Docker::compose_up`] with the images `docker compose build` just built: Compose does not
    /// go through the build again, which costs seconds even when every layer is cached.
    pub fn compose_up_built(
        &self,
        project: &ComposeProject,
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        self.compose_up_images(project, timeout, false)
    }

    /// `docker compose up --no-start --no-build`: creates the project's networks, volumes and
    /// containers without starting anything, so that `docker compose run` and `up` can then go
    /// side by side (both would otherwise create the default network, and an engine that allows
    /// duplicate network names would get two).
    pub fn compose_create(&self, project: &ComposeProject) -> Result<CommandOutput, RunError> {
        self.compose(
            project,
            &["up", "--no-start", "--no-build"],
            Duration::from_secs(120),
        )
    }

    fn compose_up_images(
        &self,
        project: &ComposeProject,
        timeout: Duration,
        build: bool,
    ) -> Result<CommandOutput, RunError> {
        let build = if build { "--build" } else { "--no-build" };
        match project.cli {
            ComposeCli::Plugin(_) => {
                let secs = self.scaled(timeout).as_secs().to_string();
                self.compose(
                    project,
                    &["up", "--detach", build, "--wait", "--wait-timeout", &secs],
                    timeout + QUICK,
                )
            }
            ComposeCli::Standalone(_) => {
                let out = self.compose(project, &["up", "--detach", build], timeout)?;
                if out.success() {
                    self.wait_healthy_v1(project, timeout)?;
                }
                Ok(out)
            }
        }
    }

    fn wait_healthy_v1(&self, project: &ComposeProject, timeout: Duration) -> Result<(), RunError> {
        let deadline = std::time::Instant::now() + self.scaled(timeout);
        loop {
            let ids = self.compose(project, &["ps", "--quiet"], QUICK)?;
            let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
            let mut cmd = self.docker(&[
                "inspect",
                "--format",
                "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
            ]);
            cmd.args(&ids);
            let states = process::run(cmd, self.scaled(QUICK))?;
            let ready = !ids.is_empty()
                && states.stdout.lines().all(|l| {
                    let mut parts = l.split_whitespace();
                    parts.next() == Some("running")
                        && matches!(parts.next(), None | Some("healthy"))
                });
            if ready || std::time::Instant::now() >= deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Takes a project down with its volumes, and forgets it.
    pub fn compose_down(&self, project: &ComposeProject) -> Result<CommandOutput, RunError> {
        let out = self.compose(
            project,
            &["down", "--volumes", "--remove-orphans", "--timeout", "5"],
            Duration::from_secs(120),
        );
        if let Ok(mut projects) = self.projects.lock() {
            projects.retain(|p| p != project);
        }
        if let Some(file) = &project.override_file {
            let _ = std::fs::remove_file(file);
        }
        out
    }

    /// `docker compose config`: the project's configuration as Compose resolved it (YAML).
    pub fn compose_config(&self, project: &ComposeProject) -> Result<CommandOutput, RunError> {
        self.compose(project, &["config"], Duration::from_secs(30))
    }

    /// `docker compose build`: builds the images of the services that have a `build:`.
    pub fn compose_build(
        &self,
        project: &ComposeProject,
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        self.compose(project, &["build"], timeout)
    }

    /// `docker compose run --rm --no-deps -T`: runs `entrypoint args…` in a one-off container of
    /// `service` (its image and mounts, no dependencies started), with `volume`
    /// (`host:container[:ro]`) mounted too.
    pub fn compose_run_once(
        &self,
        project: &ComposeProject,
        service: &str,
        volume: &str,
        command: (&str, &[&str]),
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let (entrypoint, args) = command;
        let mut full = vec![
            "run",
            "--rm",
            "--no-deps",
            "-T",
            "--volume",
            volume,
            "--entrypoint",
            entrypoint,
            service,
        ];
        full.extend(args);
        self.compose(project, &full, timeout)
    }

    /// `docker compose exec -T`: runs `command` in the running container of `service`, with
    /// `env` (`NAME=value` each) set.
    pub fn compose_exec(
        &self,
        project: &ComposeProject,
        service: &str,
        env: &[&str],
        command: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let mut full = vec!["exec", "-T"];
        for var in env {
            full.extend(["--env", var]);
        }
        full.push(service);
        full.extend(command);
        self.compose(project, &full, timeout)
    }

    /// `docker compose ps --quiet <service>`: the id of a service's container, when it has one.
    pub fn compose_container_id(
        &self,
        project: &ComposeProject,
        service: &str,
    ) -> Result<Option<String>, RunError> {
        let out = self.compose(
            project,
            &["ps", "--quiet", service],
            Duration::from_secs(30),
        )?;
        Ok(out
            .stdout
            .split_whitespace()
            .next()
            .filter(|_| out.success())
            .map(str::to_owned))
    }

    /// `docker compose ps --all`: one line per container, `service: status` (e.g.
    /// `db: Up 12 seconds (healthy)`); Compose v1, which has no `--format`, prints its table.
    pub fn compose_states(&self, project: &ComposeProject) -> Result<String, RunError> {
        let out = self.compose(
            project,
            &["ps", "--all", "--format", "{{.Service}}: {{.Status}}"],
            Duration::from_secs(30),
        )?;
        if out.success() {
            return Ok(out.stdout.trim_end().to_owned());
        }
        Ok(self
            .compose(project, &["ps", "--all"], Duration::from_secs(30))?
            .combined())
    }

    /// `docker compose logs --no-color`: what `services` printed, the last `tail` lines of each
    /// when given.
    pub fn compose_logs(
        &self,
        project: &ComposeProject,
        services: &[&str],
        tail: Option<usize>,
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let count = tail.map(|n| n.to_string());
        let mut args = vec!["logs", "--no-color"];
        if let Some(count) = &count {
            args.extend(["--tail", count]);
        }
        args.extend(services);
        self.compose(project, &args, timeout)
    }

    /// Removes everything this run created: compose projects, then containers, networks, volumes
    /// and images labelled with the run id. Idempotent; returns what it removed.
    ///
    /// When a `docker` client was killed mid-request (a stop request, a timeout), the engine may
    /// finish that request after the first sweep listed what there was: the sweep is repeated
    /// after a pause until a round finds nothing (at most [`SETTLE_ROUNDS`] more rounds).
    pub fn cleanup(&self) -> Removed {
        let label = format!("{LABEL_RUN}={}", self.run_id);
        let mut removed = self.down_and_sweep(&label);
        if process::killed_any() {
            for _ in 0..SETTLE_ROUNDS {
                std::thread::sleep(SETTLE_PAUSE);
                let late = self.down_and_sweep(&label);
                if late.is_empty() {
                    break;
                }
                removed.extend(late);
            }
        }
        removed
    }

    /// One cleanup round: `compose down` of every project, then the sweep of `label`.
    fn down_and_sweep(&self, label: &str) -> Removed {
        let projects = self.projects.lock().map(|p| p.clone()).unwrap_or_default();
        for project in &projects {
            let _ = self.compose_down(project);
        }
        sweep(label, false)
    }
}

/// A compose project started by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeProject {
    /// `sre-check-<topic>-<run>`: unique per run, so parallel runs do not collide.
    pub name: String,
    /// Where the compose files are (relative paths in them resolve from here).
    pub dir: PathBuf,
    /// The candidate's compose files.
    pub files: Vec<PathBuf>,
    cli: ComposeCli,
    override_file: Option<PathBuf>,
}

/// How to run a container: image, command, mounts, environment.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    image: String,
    args: Vec<String>,
    mounts: Vec<(PathBuf, String, bool)>,
    env: Vec<(String, String)>,
    workdir: Option<String>,
    user: Option<String>,
    network: Option<String>,
    entrypoint: Option<String>,
}

impl RunSpec {
    /// A container of `image` running its default command.
    pub fn new(image: &str) -> RunSpec {
        RunSpec {
            image: image.to_owned(),
            ..RunSpec::default()
        }
    }

    /// The command and its arguments.
    pub fn args<I, S>(mut self, args: I) -> RunSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Mounts a host path read-only.
    pub fn mount_ro(mut self, host: &Path, target: &str) -> RunSpec {
        self.mounts
            .push((host.to_path_buf(), target.to_owned(), true));
        self
    }

    /// Mounts a host path read-write.
    pub fn mount_rw(mut self, host: &Path, target: &str) -> RunSpec {
        self.mounts
            .push((host.to_path_buf(), target.to_owned(), false));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> RunSpec {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Working directory inside the container.
    pub fn workdir(mut self, dir: &str) -> RunSpec {
        self.workdir = Some(dir.to_owned());
        self
    }

    /// User (name or uid[:gid]) inside the container.
    pub fn user(mut self, user: &str) -> RunSpec {
        self.user = Some(user.to_owned());
        self
    }

    /// Network to attach to.
    pub fn network(mut self, network: &str) -> RunSpec {
        self.network = Some(network.to_owned());
        self
    }

    /// Replaces the image's entrypoint.
    pub fn entrypoint(mut self, entrypoint: &str) -> RunSpec {
        self.entrypoint = Some(entrypoint.to_owned());
        self
    }

    fn push_args(&self, cmd: &mut Command) {
        for (host, target, ro) in &self.mounts {
            let mut spec = format!("type=bind,source={},target={target}", host.display());
            if *ro {
                spec.push_str(",readonly");
            }
            cmd.arg("--mount").arg(spec);
        }
        for (k, v) in &self.env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        let options = [
            ("--workdir", &self.workdir),
            ("--user", &self.user),
            ("--network", &self.network),
            ("--entrypoint", &self.entrypoint),
        ];
        for (flag, value) in options {
            if let Some(v) = value {
                cmd.arg(flag).arg(v);
            }
        }
        cmd.arg(&self.image).args(&self.args);
    }
}

/// What a cleanup removed, for messages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    /// Container ids.
    pub containers: Vec<String>,
    /// Network ids.
    pub networks: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
    /// Image ids.
    pub images: Vec<String>,
}

impl Removed {
    /// Adds what another sweep removed.
    pub fn extend(&mut self, other: Removed) {
        self.containers.extend(other.containers);
        self.networks.extend(other.networks);
        self.volumes.extend(other.volumes);
        self.images.extend(other.images);
    }

    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.networks.is_empty()
            && self.volumes.is_empty()
            && self.images.is_empty()
    }
}

/// Removes every container, network, volume and image matching the label filter `label`
/// (`key=value` or `key`). With `tool_images`, also the cached tool images.
/// Compose networks and volumes of sre-check projects are matched by name prefix too: compose
/// creates them without our labels.
pub fn sweep(label: &str, tool_images: bool) -> Removed {
    let filter = format!("label={label}");
    let containers = list(&["ps", "--all", "--quiet", "--filter", &filter]);
    remove(&["rm", "--force", "--volumes"], &containers);
    let mut networks = list(&["network", "ls", "--quiet", "--filter", &filter]);
    let mut volumes = list(&["volume", "ls", "--quiet", "--filter", &filter]);
    if label == LABEL_MANAGED || label.starts_with(&format!("{LABEL_MANAGED}=")) {
        let by_name = format!("name={PROJECT_PREFIX}");
        networks.extend(list(&["network", "ls", "--quiet", "--filter", &by_name]));
        volumes.extend(list(&["volume", "ls", "--quiet", "--filter", &by_name]));
    }
    remove(&["network", "rm"], &networks);
    remove(&["volume", "rm", "--force"], &volumes);
    let mut images = list(&["image", "ls", "--quiet", "--filter", &filter]);
    if tool_images {
        images.extend(list(&[
            "image",
            "ls",
            "--quiet",
            "--filter",
            &format!("label={LABEL_TOOL}"),
        ]));
    } else {
        let tools: BTreeSet<String> = list(&[
            "image",
            "ls",
            "--quiet",
            "--filter",
            &format!("label={LABEL_TOOL}"),
        ])
        .into_iter()
        .collect();
        images.retain(|i| !tools.contains(i));
    }
    images.sort();
    images.dedup();
    // --no-prune keeps the untagged parent layers: the next run's build starts from a warm cache.
    remove(&["image", "rm", "--force", "--no-prune"], &images);
    Removed {
        containers,
        networks,
        volumes,
        images,
    }
}

fn list(args: &[&str]) -> Vec<String> {
    quick_stdout(args)
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn remove(args: &[&str], ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let mut cmd = Command::new("docker");
    cmd.args(args).args(ids);
    let _ = process::run(cmd, Duration::from_secs(120));
}

fn quick_ok(args: &[&str]) -> bool {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    process::run(cmd, QUICK).is_ok_and(|o| o.success())
}

fn quick_stdout(args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    let out = process::run(cmd, QUICK)
        .ok()
        .filter(CommandOutput::success)?;
    Some(out.stdout.trim().to_owned()).filter(|s| !s.is_empty())
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs whose output is shown as it comes (topic II runs a candidate's script, then installs and
/// purges its package in one container).
impl Docker {
    /// Like [`Docker::run`], calling `on_line` with each line the container prints.
    pub fn run_with_lines(
        &self,
        spec: &RunSpec,
        timeout: Duration,
        on_line: &(dyn Fn(&str) + Sync),
    ) -> Result<CommandOutput, RunError> {
        let mut cmd = self.docker(&["run", "--rm"]);
        cmd.args(self.container_args());
        spec.push_args(&mut cmd);
        process::run_with_lines(cmd, self.scaled(timeout), on_line)
    }
}

/// Generic helpers first needed by the monitoring topic: checking compose files before a project
/// exists, stopping, starting and removing one container, and listing what a project left behind.
impl Docker {
    /// `timeout` multiplied by `--timeout-factor`, for waits a topic measures itself (polling).
    pub fn scale(&self, timeout: Duration) -> Duration {
        self.scaled(timeout)
    }

    /// `docker compose config --quiet` on `files` (paths relative to `dir`): whether Compose accepts
    /// them, before any project is made. A rejected file is an `Ok` with a non-zero status and
    /// Compose's message; only a missing Compose or an engine problem is an `Err`.
    pub fn compose_config_check(
        &self,
        dir: &Path,
        files: &[PathBuf],
    ) -> anyhow::Result<CommandOutput> {
        let mut cmd = match &self.info.compose {
            Some(ComposeCli::Plugin(_)) => self.docker(&["compose"]),
            Some(ComposeCli::Standalone(_)) => Command::new("docker-compose"),
            None => bail!(
                "Docker Compose is not installed: install the Compose plugin \
                 (https://docs.docker.com/compose/install/) so that `docker compose version` works"
            ),
        };
        cmd.current_dir(dir);
        for file in files {
            cmd.arg("--file").arg(file);
        }
        cmd.args(["config", "--quiet"]);
        Ok(process::run(cmd, QUICK)?)
    }

    /// Stops a running container (its stop signal, then SIGKILL after 10 s).
    pub fn stop_container(&self, id: &str) -> anyhow::Result<()> {
        self.container_command(&["stop", id], &format!("stopping container {id}"))
    }

    /// Starts a stopped container again, as it was.
    pub fn start_container(&self, id: &str) -> anyhow::Result<()> {
        self.container_command(&["start", id], &format!("starting container {id}"))
    }

    /// Sends `signal` (`HUP`…) to a running container's main process.
    pub fn signal_container(&self, id: &str, signal: &str) -> anyhow::Result<()> {
        self.container_command(
            &["kill", "--signal", signal, id],
            &format!("sending SIG{signal} to container {id}"),
        )
    }

    /// Removes a container (running or not) and its anonymous volumes.
    pub fn remove_container(&self, id: &str) -> anyhow::Result<()> {
        self.container_command(
            &["rm", "--force", "--volumes", id],
            &format!("removing container {id}"),
        )
    }

    /// A quick `docker` command on one container; `doing` names it when it fails.
    fn container_command(&self, args: &[&str], doing: &str) -> anyhow::Result<()> {
        let out = process::run(self.docker(args), self.scaled(QUICK))?;
        if !out.success() {
            bail!("{doing} failed: {}", out.combined());
        }
        Ok(())
    }

    /// Containers, networks and volumes that still carry a compose project's label, as
    /// `container <name>`, `network <name>`, `volume <name>`: empty after a clean `down --volumes`.
    pub fn compose_leftovers(&self, project: &ComposeProject) -> anyhow::Result<Vec<String>> {
        let filter = format!("label=com.docker.compose.project={}", project.name);
        let kinds = [
            ("container", ["ps", "--all"].as_slice(), "{{.Names}}"),
            ("network", ["network", "ls"].as_slice(), "{{.Name}}"),
            ("volume", ["volume", "ls"].as_slice(), "{{.Name}}"),
        ];
        let mut found = Vec::new();
        for (kind, list, format) in kinds {
            let mut args = list.to_vec();
            args.extend(["--filter", &filter, "--format", format]);
            let out = process::run(self.docker(&args), self.scaled(QUICK))?;
            if !out.success() {
                bail!("listing {kind}s failed: {}", out.combined());
            }
            found.extend(out.stdout.split_whitespace().map(|n| format!("{kind} {n}")));
        }
        Ok(found)
    }
}

/// What a container changed in its image's filesystem, for checks that judge a host by its state
/// rather than by what a tool reported (topic I's second playbook run).
impl Docker {
    /// Like [`Docker::run`], but keeps the stopped container as `name` (labelled with the run, so
    /// [`Docker::cleanup`] removes it), for [`Docker::diff`] and [`Docker::commit`].
    pub fn run_kept(
        &self,
        spec: &RunSpec,
        name: &str,
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let mut cmd = self.docker(&["run", "--name", name]);
        cmd.args(self.label_args());
        spec.push_args(&mut cmd);
        process::run(cmd, self.scaled(timeout))
    }

    /// `docker diff`: one `A|C|D <path>` line per path the container added, changed or deleted.
    pub fn diff(&self, container: &str) -> anyhow::Result<String> {
        let out = process::run(self.docker(&["diff", container]), self.scaled(QUICK))?;
        if !out.success() {
            bail!("docker diff {container} failed: {}", out.combined());
        }
        Ok(out.stdout)
    }

    /// Saves a container's filesystem as the image `tag`, labelled with this run.
    pub fn commit(&self, container: &str, tag: &str) -> anyhow::Result<()> {
        let label = format!("LABEL {LABEL_MANAGED}=true {LABEL_RUN}={}", self.run_id);
        let out = process::run(
            self.docker(&["commit", "--change", &label, container, tag]),
            self.scaled(Duration::from_secs(120)),
        )?;
        if !out.success() {
            bail!("docker commit {container} failed: {}", out.combined());
        }
        Ok(())
    }
}
