//! The pace of the live checks. Once the stack runs, Prometheus evaluates the candidate's rules
//! every [`FAST`] instead of at their own `evaluation_interval` (typically 10 to 60 s), so that the
//! `quiet` and fault checks see an alert change state within a second of the samples that change
//! it, not up to a whole interval later.
//!
//! Only `global.evaluation_interval` changes, in a copy of the candidate's prometheus.yml that the
//! stack mounts over theirs ([`ConfigCopy`]) and that Prometheus reloads (SIGHUP) before the
//! `targets` check. The scrapes, and so the samples every rule reads, stay exactly theirs; a group
//! with its own `interval:` keeps it. Looking at the same samples more often only moves a state
//! change earlier within one of their evaluation intervals, and every bound stays computed from
//! their own cadence ([`super::timing::Cadence`]). An alert that meets a bound at every alignment
//! of their evaluations meets it here, one that meets it at none fails here too. The evidence
//! says that the rules ran faster.
//!
//! Where more evaluations would change what a rule computes, the run keeps the candidate's own
//! interval ([`why_not`]): a range over series that rules record (more evaluations, more
//! samples), the `ALERTS` series (one sample per evaluation), and Prometheus' metrics about its
//! own rule evaluation (a group that takes longer than a second would look slow).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use tempfile::NamedTempFile;

use super::PROMETHEUS;
use super::prometheus::{Prometheus, RuleGroup};
use super::stack::Stack;
use super::timing::{parse_duration, poll_until, show};
use crate::yaml::{self, Node};

/// How often Prometheus evaluates the rules during the live checks.
pub const FAST: Duration = Duration::from_secs(1);

/// How long Prometheus may take to reload its configuration and regroup its rules.
const RELOAD_WITHIN: Duration = Duration::from_secs(20);

/// The checker's copy of the candidate's prometheus.yml, and the compose file that mounts it over
/// theirs in the Prometheus container. Both live in the working copy's `.sre-check/` (never
/// uploaded), where the engine can bind-mount them whenever it can mount the candidate's own
/// files; they are removed when the run ends.
pub struct ConfigCopy {
    copy: NamedTempFile,
    compose: NamedTempFile,
    /// The candidate's file as it was when the run started.
    original: String,
}

impl ConfigCopy {
    /// Copies `host` (the candidate's prometheus.yml, mounted at `target` in the Prometheus
    /// container) into `dir` and writes the compose file that mounts the copy there instead.
    pub fn create(dir: &Path, host: &Path, target: &str) -> anyhow::Result<ConfigCopy> {
        let original =
            std::fs::read_to_string(host).with_context(|| format!("reading {}", host.display()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let copy = tempfile::Builder::new()
            .prefix("prometheus-")
            .suffix(".yml")
            .tempfile_in(dir)
            .context("creating the copy of prometheus.yml")?;
        std::fs::write(copy.path(), &original).context("writing the copy of prometheus.yml")?;
        readable_by_all(copy.path())?;
        let compose = tempfile::Builder::new()
            .prefix("compose-pace-")
            .suffix(".yml")
            .tempfile_in(dir)
            .context("creating the compose file of the copy")?;
        let yaml = format!(
            "# Written by sre-check: mounts its copy of prometheus.yml, whose rule evaluation it \
             may make faster for the run.\nservices:\n  {PROMETHEUS}:\n    volumes:\n      \
             - type: bind\n        source: {}\n        target: {}\n        read_only: true\n",
            quoted(&copy.path().display().to_string()),
            quoted(target),
        );
        std::fs::write(compose.path(), yaml).context("writing the compose file of the copy")?;
        Ok(ConfigCopy {
            copy,
            compose,
            original,
        })
    }

    /// The compose file to add to the project's files.
    pub fn compose_file(&self) -> PathBuf {
        self.compose.path().to_path_buf()
    }

    /// Replaces the copy's text in place: the container's bind mount follows the file, not its
    /// name, so it must not be replaced by a rename.
    fn write(&self, text: &str) -> anyhow::Result<()> {
        std::fs::write(self.copy.path(), text).context("rewriting the copy of prometheus.yml")
    }
}

#[cfg(unix)]
fn readable_by_all(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // The Prometheus process in the container may run as another user.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("making {} readable", path.display()))
}

#[cfg(not(unix))]
fn readable_by_all(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// A YAML double-quoted string (JSON's escapes are YAML's).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// How often Prometheus evaluated the rules during the live checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Pace {
    /// At the candidate's own interval; why, when it could have been faster.
    Own(Option<String>),
    /// Every [`FAST`] instead of the candidate's global `own` interval; `kept` lists the groups
    /// with their own `interval:`, which keep it.
    Faster {
        /// The candidate's global evaluation interval.
        own: Duration,
        /// Groups that kept their own interval.
        kept: Vec<String>,
    },
}

impl Pace {
    /// A line for the evidence of the checks that wait for alerts.
    pub fn evidence(&self) -> Option<String> {
        match self {
            Pace::Own(None) => None,
            Pace::Own(Some(why)) => Some(format!(
                "rules evaluated at your own evaluation_interval for the run: {why}"
            )),
            Pace::Faster { own, kept } => {
                let kept = if kept.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (groups with their own interval kept it: {})",
                        kept.join(", ")
                    )
                };
                Some(format!(
                    "rules evaluated every {} for the run, not every {} as configured{kept}: the \
                     same scrapes, looked at more often; the bounds come from your {}",
                    show(FAST),
                    show(*own),
                    show(*own)
                ))
            }
        }
    }
}

/// Makes Prometheus evaluate the rules every [`FAST`] when that cannot change what they compute,
/// and says what it did. Anything in the way leaves the candidate's own interval, with the reason:
/// the speed-up only saves time.
pub fn speed_up(
    stack: &Stack,
    prometheus: &Prometheus,
    copy: Result<&ConfigCopy, &str>,
) -> anyhow::Result<Pace> {
    let copy = match copy {
        Ok(copy) => copy,
        Err(why) => return Ok(Pace::Own(Some(why.to_owned()))),
    };
    let config = prometheus.config_yaml()?;
    let Some(own) = global_evaluation(&config) else {
        return Ok(Pace::Own(Some(
            "Prometheus' API shows no global evaluation_interval".into(),
        )));
    };
    if own <= FAST {
        return Ok(Pace::Own(None));
    }
    if let Some(why) = why_not(&prometheus.rule_groups()?) {
        return Ok(Pace::Own(Some(why)));
    }
    let faster = match rewrite(&config) {
        Ok(faster) => faster,
        Err(why) => return Ok(Pace::Own(Some(why.to_owned()))),
    };
    match reload(stack, prometheus, copy, &faster)? {
        Ok(kept) => Ok(Pace::Faster { own, kept }),
        Err(why) => {
            // Prometheus keeps the configuration it had when a reload fails; the copy goes back
            // to the candidate's text too, should anything read it again.
            copy.write(&copy.original)?;
            Ok(Pace::Own(Some(why)))
        }
    }
}

/// Writes `faster` into the copy and has Prometheus reload it: `Ok` with the groups that kept
/// their own interval once the rules run at [`FAST`], `Err` with why not.
fn reload(
    stack: &Stack,
    prometheus: &Prometheus,
    copy: &ConfigCopy,
    faster: &str,
) -> anyhow::Result<Result<Vec<String>, String>> {
    let Some(container) = stack.container_id(PROMETHEUS)? else {
        return Ok(Err("the Prometheus container is gone".into()));
    };
    let before = prometheus.runtime_info()?.last_config_time;
    copy.write(faster)?;
    stack.docker.signal_container(&container, "HUP")?;
    let deadline = Instant::now() + stack.docker.scale(RELOAD_WITHIN);
    let reloaded = poll_until(deadline, || {
        let info = prometheus.runtime_info()?;
        Ok(if !info.reload_config_success {
            Some(Err(
                "Prometheus rejected the faster copy of its configuration".to_owned(),
            ))
        } else if info.last_config_time != before {
            Some(Ok(()))
        } else {
            None
        })
    })?;
    match reloaded {
        Some(Ok(())) => {}
        Some(Err(why)) => return Ok(Err(why)),
        None => {
            return Ok(Err(format!(
                "Prometheus did not reload within {} s of SIGHUP",
                RELOAD_WITHIN.as_secs()
            )));
        }
    }
    let fast = FAST.as_secs_f64();
    let regrouped = poll_until(deadline, || {
        let groups = prometheus.rule_groups()?;
        Ok(
            (groups.is_empty() || groups.iter().any(|g| g.interval == fast)).then(|| {
                groups
                    .iter()
                    .filter(|g| g.interval != fast)
                    .map(|g| g.name.clone())
                    .collect::<Vec<_>>()
            }),
        )
    })?;
    Ok(regrouped.ok_or_else(|| {
        "Prometheus reloaded, but its rule groups kept their interval (the copy may not be \
         visible in the container)"
            .to_owned()
    }))
}

/// The global `evaluation_interval` of a loaded configuration (the API fills in defaults).
fn global_evaluation(config: &str) -> Option<Duration> {
    let root = yaml::parse(config).ok()?;
    root.get_mapping("global")?
        .get("evaluation_interval")
        .and_then(Node::as_str)
        .and_then(parse_duration)
}

/// The configuration Prometheus' API shows (block style, two-space indents, defaults filled in),
/// with the global `evaluation_interval` set to [`FAST`]; `Err` with why it cannot be used.
fn rewrite(config: &str) -> Result<String, &'static str> {
    if config.contains("<secret>") {
        return Err(
            "the configuration holds secrets that Prometheus' API hides, so a copy of \
                    it would not work",
        );
    }
    let mut in_global = false;
    let mut changed = false;
    let mut out = String::with_capacity(config.len());
    for line in config.lines() {
        if !line.starts_with(' ') {
            in_global = line == "global:";
        } else if in_global && !changed && line.starts_with("  evaluation_interval:") {
            out.push_str(&format!("  evaluation_interval: {}\n", show(FAST)));
            changed = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if changed {
        Ok(out)
    } else {
        Err("Prometheus' API shows no global evaluation_interval")
    }
}

/// Why evaluating the rules faster could change what one of them computes, if it could.
pub fn why_not(groups: &[RuleGroup]) -> Option<String> {
    let rules = || groups.iter().flat_map(|g| g.rules.iter());
    let recorded: BTreeSet<&str> = rules()
        .filter(|r| !r.is_alerting())
        .map(|r| r.name.as_str())
        .collect();
    for rule in rules() {
        let names = names(&rule.query);
        if let Some(name) = names
            .iter()
            .find(|n| matches!(**n, "ALERTS" | "ALERTS_FOR_STATE"))
        {
            return Some(format!(
                "rule {} reads {name}, which gets a sample at every evaluation",
                rule.name
            ));
        }
        if let Some(name) = names.iter().find(|n| about_the_evaluation(n)) {
            return Some(format!(
                "rule {} reads {name}, which measures the rule evaluation itself",
                rule.name
            ));
        }
        if rule.query.contains('[')
            && let Some(name) = names.iter().find(|n| recorded.contains(**n))
        {
            return Some(format!(
                "rule {} reads the recorded series {name} over a time range, and a recorded \
                 series gets a sample at every evaluation",
                rule.name
            ));
        }
    }
    None
}

/// Whether a metric of Prometheus' own measures its rule evaluation in a way its pace changes:
/// durations against the interval, missed iterations, evaluation counts. Failed evaluations are
/// the exception: a rule that fails does so at every evaluation, at any pace, and a healthy stack
/// has none.
fn about_the_evaluation(name: &str) -> bool {
    (name.starts_with("prometheus_rule_") || name.starts_with("prometheus_evaluator_"))
        && name != "prometheus_rule_evaluation_failures_total"
}

/// The identifiers in a PromQL expression (metric, function and label names alike, and words in
/// strings): enough to find a name, never too few.
fn names(expr: &str) -> Vec<&str> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::monitoring::prometheus::Rule;

    /// What `/api/v1/status/config` shows, shortened.
    const LOADED: &str = "global:\n  scrape_interval: 10s\n  scrape_timeout: 5s\n  \
                          evaluation_interval: 10s\n  external_labels:\n    environment: lab\n\
                          alerting:\n  alertmanagers:\n  - follow_redirects: true\n    \
                          evaluation_interval: 3s\nrule_files:\n- /etc/prometheus/rules/*.yml\n";

    fn group(rules: &[(&str, &str, &str)]) -> RuleGroup {
        RuleGroup {
            rules: rules
                .iter()
                .map(|(kind, name, query)| Rule {
                    name: (*name).into(),
                    query: (*query).into(),
                    kind: (*kind).into(),
                    health: "ok".into(),
                    last_error: None,
                    duration: 30.0,
                    alerts: Vec::new(),
                })
                .collect(),
            ..RuleGroup::default()
        }
    }

    #[test]
    fn only_the_global_evaluation_interval_changes() {
        let faster = rewrite(LOADED).unwrap();
        let changed: Vec<(&str, &str)> = LOADED
            .lines()
            .zip(faster.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            changed,
            [("  evaluation_interval: 10s", "  evaluation_interval: 1s")]
        );
        assert_eq!(LOADED.lines().count(), faster.lines().count());
        assert_eq!(global_evaluation(LOADED), Some(Duration::from_secs(10)));
        assert_eq!(global_evaluation(&faster), Some(FAST));
    }

    #[test]
    fn a_configuration_with_hidden_secrets_is_not_copied() {
        let with_secret = format!("{LOADED}  basic_auth:\n    password: <secret>\n");
        assert!(rewrite(&with_secret).is_err());
        assert!(rewrite("scrape_configs: []\n").is_err());
    }

    #[test]
    fn rules_that_depend_on_the_evaluation_keep_the_own_interval() {
        let plain = group(&[
            ("alerting", "PostgresDown", "pg_up == 0"),
            (
                "alerting",
                "Errors",
                "rate(nginx_http_requests_total[5m]) > 1",
            ),
            ("recording", "job:up:avg", "avg by (job) (up)"),
            ("alerting", "JobDown", "job:up:avg < 0.5"),
        ]);
        assert_eq!(why_not(std::slice::from_ref(&plain)), None);
        let over_range = group(&[("alerting", "Flapping", "changes(job:up:avg[10m]) > 4")]);
        let why = why_not(&[plain.clone(), over_range]).unwrap();
        assert!(
            why.contains("Flapping") && why.contains("job:up:avg"),
            "{why}"
        );
        let alerts = group(&[(
            "alerting",
            "Storm",
            "count(ALERTS{alertstate=\"firing\"}) > 5",
        )]);
        assert!(why_not(&[alerts]).unwrap().contains("ALERTS"));
        let slow = group(&[(
            "alerting",
            "RulesSlow",
            "prometheus_rule_group_last_duration_seconds > prometheus_rule_group_interval_seconds",
        )]);
        assert!(why_not(&[slow]).unwrap().contains("rule evaluation"));
        let failures = group(&[(
            "alerting",
            "RuleFailures",
            "increase(prometheus_rule_evaluation_failures_total[5m]) > 0",
        )]);
        assert_eq!(why_not(&[failures]), None);
    }

    #[test]
    fn evidence_says_what_ran_faster() {
        let faster = Pace::Faster {
            own: Duration::from_secs(15),
            kept: vec!["slow".into()],
        };
        let line = faster.evidence().unwrap();
        assert!(
            line.contains("every 1s") && line.contains("not every 15s"),
            "{line}"
        );
        assert!(line.contains("kept it: slow"), "{line}");
        assert_eq!(Pace::Own(None).evidence(), None);
    }

    #[test]
    fn the_compose_file_mounts_the_copy_over_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  evaluation_interval: 15s\n").unwrap();
        let copy = ConfigCopy::create(
            &dir.path().join(".sre-check"),
            &config,
            "/etc/prometheus/p.yml",
        )
        .unwrap();
        let compose = std::fs::read_to_string(copy.compose_file()).unwrap();
        let root = yaml::parse(&compose).unwrap();
        let bind = &root
            .get_mapping("services")
            .and_then(|s| s.get_mapping(PROMETHEUS))
            .and_then(|p| p.get_seq("volumes"))
            .unwrap()[0];
        assert_eq!(
            bind.get("source").and_then(Node::as_str),
            Some(copy.copy.path().to_str().unwrap())
        );
        assert_eq!(
            bind.get("target").and_then(Node::as_str),
            Some("/etc/prometheus/p.yml")
        );
        assert_eq!(
            std::fs::read_to_string(copy.copy.path()).unwrap(),
            copy.original
        );
    }
}
