//! The candidate's compose stack: its project, what its services declare (command line, bind
//! mounts), and the compose commands the checks need. Container paths in tool output are
//! rewritten to the candidate's own files, so evidence points at `monitoring/…:line`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::yaml::{self, Node, Value};
use anyhow::Context;

use super::PROMETHEUS;
use super::config::PROMETHEUS_DEFAULT_CONFIG;
use super::pace::ConfigCopy;
use crate::docker::{ComposeProject, Docker, tail};
use crate::process::{CommandOutput, RunError};
use crate::workdir::WorkDir;

/// The topic's folder in the working copy.
pub const FOLDER: &str = "monitoring";
/// The checker's own folder in the working copy (never uploaded).
const REPORT_FOLDER: &str = ".sre-check";
/// The compose file the candidate edits.
pub const COMPOSE_FILE: &str = "docker-compose.yml";
/// Picked up as well when present, as `docker compose` itself would.
const OVERRIDE_FILE: &str = "docker-compose.override.yml";

/// Where the monitoring folder is mounted for tools that read files the stack does not mount
/// (rule unit tests).
pub const TOOL_MOUNT: &str = "/sre-check/monitoring";

/// Time for a `compose run` of a config tool.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// A bind mount: a host path visible in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Absolute host path.
    pub source: PathBuf,
    /// Path inside the container.
    pub target: String,
}

/// What a service declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    /// Entrypoint then command, as declared (empty when the image's defaults apply).
    pub args: Vec<String>,
    /// Its bind mounts.
    pub binds: Vec<Bind>,
    /// Whether it has a `build:` section.
    pub builds: bool,
}

impl Service {
    /// The value of a `--flag=value` or `--flag value` argument.
    pub fn flag(&self, name: &str) -> Option<&str> {
        let with_eq = format!("{name}=");
        self.args.iter().enumerate().find_map(|(i, arg)| {
            if let Some(value) = arg.strip_prefix(&with_eq) {
                Some(value)
            } else if arg == name {
                self.args.get(i + 1).map(String::as_str)
            } else {
                None
            }
        })
    }
}

/// The compose stack of one run.
pub struct Stack<'a> {
    /// The driver.
    pub docker: &'a Docker,
    /// The compose project (named per run).
    pub project: ComposeProject,
    services: BTreeMap<String, Service>,
    root: PathBuf,
    /// The checker's copy of prometheus.yml, mounted over the candidate's, or why there is none.
    config_copy: Result<ConfigCopy, String>,
}

/// What opening the stack found.
pub enum Opened<'a> {
    /// Compose accepts the files.
    Ready(Box<Stack<'a>>),
    /// Compose rejects them: its message.
    Invalid(String),
}

impl<'a> Stack<'a> {
    /// Validates the compose files and makes the run's project for them.
    pub fn open(docker: &'a Docker, workdir: &WorkDir) -> anyhow::Result<Opened<'a>> {
        let dir = workdir.path(FOLDER);
        if workdir.read(&format!("{FOLDER}/{COMPOSE_FILE}"))?.is_none() {
            return Ok(Opened::Invalid(format!(
                "{FOLDER}/{COMPOSE_FILE} is missing"
            )));
        }
        let mut files = vec![PathBuf::from(COMPOSE_FILE)];
        if dir.join(OVERRIDE_FILE).is_file() {
            files.push(PathBuf::from(OVERRIDE_FILE));
        }
        let checked = docker.compose_config_check(&dir, &files)?;
        if !checked.success() {
            return Ok(Opened::Invalid(checked.combined()));
        }
        let project = docker.compose_project(FOLDER, &dir, &files)?;
        let config = docker.compose_config(&project)?;
        if !config.success() {
            return Ok(Opened::Invalid(config.combined()));
        }
        let services = parse_services(&config.stdout, &dir)?;
        let mut stack = Stack {
            docker,
            project,
            services,
            root: workdir.root().to_path_buf(),
            config_copy: Err(String::new()),
        };
        // After the services are read: their mounts are the candidate's, without the copy.
        stack.config_copy = stack.copy_prometheus_config(&workdir.path(REPORT_FOLDER));
        if let Ok(copy) = &stack.config_copy {
            stack.project.files.push(copy.compose_file());
        }
        Ok(Opened::Ready(Box::new(stack)))
    }

    /// A copy of the candidate's prometheus.yml in `dir`, mounted over theirs (see pace.rs), or
    /// why not.
    fn copy_prometheus_config(&self, dir: &Path) -> Result<ConfigCopy, String> {
        let service = self
            .service(PROMETHEUS)
            .ok_or_else(|| format!("there is no `{PROMETHEUS}` service"))?;
        let target = service
            .flag("--config.file")
            .unwrap_or(PROMETHEUS_DEFAULT_CONFIG);
        let host = self
            .host_path(PROMETHEUS, target)
            .filter(|path| path.is_file())
            .ok_or_else(|| {
                format!(
                    "{target} is not a file mounted from the working copy, so the checker \
                     cannot mount a copy of it"
                )
            })?;
        ConfigCopy::create(dir, &host, target).map_err(|e| format!("{e:#}"))
    }

    /// The checker's copy of prometheus.yml, or why there is none.
    pub fn config_copy(&self) -> Result<&ConfigCopy, &str> {
        self.config_copy.as_ref().map_err(String::as_str)
    }

    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// Service names, sorted.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// `docker compose build`.
    pub fn build(&self, timeout: Duration) -> Result<CommandOutput, RunError> {
        self.docker.compose_build(&self.project, timeout)
    }

    /// Runs `entrypoint args…` in a one-off container of `service` (its image and mounts, no
    /// dependencies started), with the monitoring folder also mounted read-only at
    /// [`TOOL_MOUNT`]. A tool that reports a problem is an `Ok` with a non-zero status.
    pub fn run_tool(
        &self,
        service: &str,
        entrypoint: &str,
        args: &[&str],
    ) -> Result<CommandOutput, RunError> {
        let mount = format!("{}:{TOOL_MOUNT}:ro", self.project.dir.display());
        self.docker.compose_run_once(
            &self.project,
            service,
            &mount,
            (entrypoint, args),
            TOOL_TIMEOUT,
        )
    }

    /// Stops one service's container. Plain `docker stop`/`start` rather than Compose's, which
    /// would wait on the service's `depends_on` conditions when it starts again: an outage makes
    /// dependants unhealthy, and the checker restores exactly what it stopped.
    pub fn stop(&self, service: &str) -> anyhow::Result<String> {
        let id = self
            .container_id(service)?
            .with_context(|| format!("the `{service}` service has no container to stop"))?;
        self.docker.stop_container(&id)?;
        Ok(id)
    }

    /// Starts a container [`Stack::stop`] stopped.
    pub fn start(&self, container: &str) -> anyhow::Result<()> {
        self.docker.start_container(container)
    }

    /// The id of a service's container, when it has one.
    pub fn container_id(&self, service: &str) -> anyhow::Result<Option<String>> {
        Ok(self.docker.compose_container_id(&self.project, service)?)
    }

    /// One line per container: `service: status`, e.g. `db: Up 12 seconds (healthy)`.
    pub fn states(&self) -> anyhow::Result<String> {
        Ok(self.docker.compose_states(&self.project)?)
    }

    /// The last `lines` log lines of each service in `services`.
    pub fn logs(&self, services: &[&str], lines: usize) -> anyhow::Result<String> {
        let out = self.docker.compose_logs(
            &self.project,
            services,
            Some(lines),
            Duration::from_secs(30),
        )?;
        Ok(out.combined())
    }

    /// A host path shown relative to the working copy (`monitoring/prometheus/…`).
    pub fn display(&self, host: &Path) -> String {
        host.strip_prefix(&self.root)
            .unwrap_or(host)
            .display()
            .to_string()
    }

    /// The host file behind a path inside `service`'s container, when a bind mount provides it.
    pub fn host_path(&self, service: &str, container_path: &str) -> Option<PathBuf> {
        let mut binds = self.tool_binds(service);
        binds.sort_by_key(|b| std::cmp::Reverse(b.target.len()));
        binds.iter().find_map(|b| {
            let rest = container_path.strip_prefix(b.target.as_str())?;
            if rest.is_empty() {
                Some(b.source.clone())
            } else {
                rest.strip_prefix('/').map(|r| b.source.join(r))
            }
        })
    }

    /// `text` (a tool's output) with `service`'s container paths replaced by the candidate's
    /// files, relative to the working copy.
    pub fn readable(&self, service: &str, text: &str) -> String {
        let mut binds = self.tool_binds(service);
        binds.sort_by_key(|b| std::cmp::Reverse(b.target.len()));
        let mut out = text.to_owned();
        for bind in binds {
            if bind.target.len() > 1 {
                out = out.replace(&bind.target, &self.display(&bind.source));
            }
        }
        out
    }

    /// The service's bind mounts and the checker's own [`TOOL_MOUNT`].
    fn tool_binds(&self, service: &str) -> Vec<Bind> {
        let mut binds = self
            .services
            .get(service)
            .map(|s| s.binds.clone())
            .unwrap_or_default();
        binds.push(Bind {
            source: self.project.dir.clone(),
            target: TOOL_MOUNT.to_owned(),
        });
        binds
    }

    /// What a [`Stack::run_tool`] tool printed, without Compose's own progress lines
    /// (`Network x Creating`…), container paths rewritten as in [`Stack::readable`].
    pub fn tool_output(&self, service: &str, out: &CommandOutput) -> String {
        let combined = out.combined();
        let text: Vec<&str> = combined
            .lines()
            .filter(|line| !is_compose_progress(line))
            .collect();
        self.readable(service, text.join("\n").trim())
    }

    /// Why a failed command failed, for evidence: the end of its output.
    pub fn output_tail(out: &CommandOutput, lines: usize) -> String {
        tail(&out.combined(), lines)
    }
}

/// A line Compose prints about its own objects while it prepares a `run`.
fn is_compose_progress(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let (Some(kind), Some(_name), Some(state), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    matches!(kind, "Network" | "Volume" | "Container")
        && matches!(
            state,
            "Creating" | "Created" | "Starting" | "Started" | "Running" | "Recreate" | "Recreated"
        )
}

/// Reads `docker compose config` output (Compose v2 writes long-form mounts and argument lists,
/// v1 short `src:dst:mode` strings and plain command strings; both are understood).
fn parse_services(yaml: &str, dir: &Path) -> anyhow::Result<BTreeMap<String, Service>> {
    let root = yaml::parse(yaml).context("reading `docker compose config`")?;
    let services = root
        .get_mapping("services")
        .context("`docker compose config` printed no services")?;
    let mut out = BTreeMap::new();
    for (name, node) in services.entries() {
        let Some(spec) = node.as_mapping() else {
            continue;
        };
        let mut args = words(spec.get("entrypoint"));
        args.extend(words(spec.get("command")));
        let binds = spec
            .get_seq("volumes")
            .map(|seq| seq.iter().filter_map(|v| bind(v, dir)).collect())
            .unwrap_or_default();
        out.insert(
            name.text().to_owned(),
            Service {
                args,
                binds,
                builds: spec.get("build").is_some(),
            },
        );
    }
    Ok(out)
}

/// A command or entrypoint: a list, or a string split on whitespace.
fn words(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(seq)) => seq
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        Some(Value::Scalar { text, .. }) => text.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn bind(volume: &Node, dir: &Path) -> Option<Bind> {
    let (source, target) = match &volume.value {
        Value::Map(_) => {
            if volume.get("type").and_then(Node::as_str) != Some("bind") {
                return None;
            }
            (
                volume.get("source")?.as_str()?.to_owned(),
                volume.get("target")?.as_str()?.to_owned(),
            )
        }
        Value::Scalar { text, .. } => {
            let mut parts = text.split(':');
            let source = parts.next()?.to_owned();
            let target = parts.next()?.to_owned();
            // A named volume (no path) is not a bind.
            if !(source.starts_with('.') || source.starts_with('/') || source.starts_with('~')) {
                return None;
            }
            (source, target)
        }
        _ => return None,
    };
    Some(Bind {
        source: dir.join(source),
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r#"name: x
services:
  prometheus:
    build:
      context: /w/monitoring/images/prometheus
    command:
      - prometheus
      - --config.file=/etc/prometheus/prometheus.yml
    volumes:
      - type: bind
        source: /w/monitoring/prometheus
        target: /etc/prometheus
        read_only: true
      - type: volume
        source: prometheus-data
        target: /var/lib/prometheus
  alertmanager:
    entrypoint: ["prometheus-alertmanager"]
    command: --config.file /etc/am/am.yml
    volumes:
      - /w/monitoring/alertmanager:/etc/am:ro
      - am-data:/data
"#;

    fn services() -> BTreeMap<String, Service> {
        parse_services(V2, Path::new("/w/monitoring")).unwrap()
    }

    #[test]
    fn commands_and_flags_are_read_in_both_syntaxes() {
        let s = services();
        assert_eq!(
            s["prometheus"].flag("--config.file"),
            Some("/etc/prometheus/prometheus.yml")
        );
        assert_eq!(
            s["alertmanager"].flag("--config.file"),
            Some("/etc/am/am.yml")
        );
        assert_eq!(s["alertmanager"].args[0], "prometheus-alertmanager");
        assert!(s["prometheus"].builds);
        assert!(!s["alertmanager"].builds);
        assert_eq!(s["prometheus"].flag("--storage.tsdb.path"), None);
    }

    #[test]
    fn compose_progress_lines_are_recognised() {
        assert!(is_compose_progress(
            " Network sre-check-x_default  Creating"
        ));
        assert!(is_compose_progress(" Volume sre-check-x_data  Created"));
        assert!(!is_compose_progress(
            "Checking /etc/prometheus/prometheus.yml"
        ));
        assert!(!is_compose_progress("  SUCCESS: 4 rule files found"));
    }

    #[test]
    fn only_bind_mounts_are_kept() {
        let s = services();
        assert_eq!(
            s["prometheus"].binds,
            vec![Bind {
                source: PathBuf::from("/w/monitoring/prometheus"),
                target: "/etc/prometheus".into()
            }]
        );
        assert_eq!(s["alertmanager"].binds.len(), 1);
        assert_eq!(s["alertmanager"].binds[0].target, "/etc/am");
    }
}
