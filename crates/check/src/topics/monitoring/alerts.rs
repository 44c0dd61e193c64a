//! What the rules say on the running stack: the active alerts, with their rules' `for:`, and the
//! `quiet` check: no alert fires while the stack is healthy.
//!
//! Every wait polls the API and ends as soon as the outcome is known; its upper bound comes from
//! the candidate's own scrape and evaluation intervals and the rules' `for:` ([`Cadence`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::PROMETHEUS;
use super::live::Live;
use super::locate::locate;
use super::prometheus::{Alert, Prometheus};
use super::stack::Stack;
use super::timing::{Cadence, POLL, SLACK, pause, poll_until, show};
use crate::runner::{CheckCtx, Verdict};

/// The longest `for:` the false-positive check waits out before an alert still pending on the
/// healthy stack counts as a false alarm.
const QUIET_LIMIT: Duration = Duration::from_secs(180);

/// An active alert with what its rule says about it.
#[derive(Debug, Clone)]
pub struct Active {
    /// The alert.
    pub alert: Alert,
    /// The rule's `for:`.
    pub hold: Duration,
    /// The rule's expression.
    pub expr: String,
    /// Rule file inside the Prometheus container.
    pub file: String,
}

impl Active {
    /// The alert's identity: its name and labels.
    pub fn key(&self) -> String {
        self.alert.key()
    }

    /// `Name{…} (monitoring/…/rules.yml:12, for: 30s)`.
    pub fn describe(&self, stack: &Stack) -> String {
        let place = stack
            .host_path(PROMETHEUS, &self.file)
            .map(|p| locate(&p, &stack.display(&p), "alert", self.alert.name()))
            .unwrap_or_else(|| self.file.clone());
        format!("{} ({place}, for: {})", self.key(), show(self.hold))
    }
}

/// Pending and firing alerts, heartbeats left out.
pub fn active(prometheus: &Prometheus) -> anyhow::Result<Vec<Active>> {
    let mut out = Vec::new();
    for group in prometheus.rule_groups()? {
        for rule in group.rules.iter().filter(|r| r.is_alerting()) {
            for alert in rule.alerts.iter().filter(|a| !a.is_heartbeat()) {
                out.push(Active {
                    alert: alert.clone(),
                    hold: Duration::from_secs_f64(rule.duration.max(0.0)),
                    expr: rule.query.trim().to_owned(),
                    file: group.file.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// When each rule group was last evaluated, at some moment: the `quiet` check waits for an
/// evaluation after the moment every target was up, which the `rules` check often already waited
/// for.
pub struct Evaluations(BTreeMap<(String, String), String>);

impl Evaluations {
    /// The groups' last evaluations now.
    pub fn now(prometheus: &Prometheus) -> anyhow::Result<Evaluations> {
        Ok(Evaluations(
            prometheus
                .rule_groups()?
                .into_iter()
                .map(|g| ((g.file, g.name), g.last_evaluation))
                .collect(),
        ))
    }

    /// Whether every group has been evaluated since these were taken.
    fn all_later(&self, prometheus: &Prometheus) -> anyhow::Result<bool> {
        Ok(prometheus
            .rule_groups()?
            .iter()
            .all(|g| self.0.get(&(g.file.clone(), g.name.clone())) != Some(&g.last_evaluation)))
    }
}

/// The `quiet` check: on the healthy stack, after every rule group has evaluated with all
/// targets up (`targets_up` was taken when they were), no alert fires and none stays pending. An
/// alert pending then is watched: it may be a leftover of the start (a rate over a window that
/// still holds the start-up), which resolves; one that fires, or is still pending once its `for:`
/// (at most [`QUIET_LIMIT`]) and an evaluation have passed, has an expression that is true while
/// nothing is wrong, and its `for:` only delays the false page.
pub fn quiet(
    ctx: &CheckCtx,
    stack: &Stack,
    live: &Live,
    cadence: &Cadence,
    targets_up: &Evaluations,
) -> anyhow::Result<Verdict> {
    let prometheus = live.prometheus();
    let started = Instant::now();
    ctx.note("waiting for every rule group to evaluate with all targets up");
    let deadline = started + stack.docker.scale(cadence.evaluation * 2 + SLACK);
    poll_until(deadline, || {
        Ok(targets_up.all_later(&prometheus)?.then_some(()))
    })?;
    // Since when each alert has been pending without a break, and every alert seen pending.
    let mut pending_since: BTreeMap<String, Instant> = BTreeMap::new();
    let mut ever = BTreeSet::new();
    let mut host = BTreeSet::new();
    let watch_until = Instant::now() + stack.docker.scale(QUIET_LIMIT + cadence.evaluation + SLACK);
    loop {
        let alerts = active(&prometheus)?;
        // The host's own alerts tell about the candidate's machine, firing or not (see
        // `reads_the_host`): reported below, not counted.
        let firing: Vec<&Active> = alerts
            .iter()
            .filter(|a| a.alert.is_firing() && !reads_the_host(&a.expr))
            .collect();
        if !firing.is_empty() {
            let lines: Vec<String> = firing
                .iter()
                .map(|a| format!("{} is firing: `{}`", a.describe(stack), a.expr))
                .collect();
            return Ok(false_alarm(started, &lines));
        }
        let now = Instant::now();
        let watched: Vec<&Active> = alerts
            .iter()
            .filter(|a| {
                let about_host = reads_the_host(&a.expr);
                if about_host {
                    host.insert(a.key());
                }
                !about_host
            })
            .collect();
        pending_since.retain(|key, _| watched.iter().any(|a| a.key() == *key));
        let mut overdue = Vec::new();
        for alert in &watched {
            ever.insert(alert.key());
            let since = *pending_since.entry(alert.key()).or_insert(now);
            let watch =
                alert.hold.min(QUIET_LIMIT) + stack.docker.scale(cadence.evaluation + SLACK);
            // A flapping alert never stays pending long enough: the whole watch is bounded too.
            if now > since + watch || now > watch_until {
                overdue.push(format!(
                    "{} has been pending for {} s: `{}`",
                    alert.describe(stack),
                    (now - since).as_secs(),
                    alert.expr
                ));
            }
        }
        if !overdue.is_empty() {
            return Ok(false_alarm(started, &overdue));
        }
        if watched.is_empty() {
            break;
        }
        let watched = watched.len();
        ctx.note(&format!(
            "{watched} alert(s) pending on the healthy stack: waiting to see whether they resolve"
        ));
        pause(POLL)?;
    }
    let mut evidence = format!(
        "no alert fired on the healthy stack, none pending ({} s, every rule group evaluated with \
         all targets up)",
        started.elapsed().as_secs()
    );
    if !ever.is_empty() {
        evidence.push_str(&format!(
            "\npending for a while after the start, then resolved: {}",
            ever.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !host.is_empty() {
        evidence.push_str(&format!(
            "\nactive about the machine the lab runs on (its node_* metrics show its real \
             state, not the lab's), not counted: {}",
            host.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Verdict::pass(evidence))
}

/// Whether an expression reads only the host's metrics (the node exporter's `node_*`): in the lab
/// the host is the candidate's own machine, whose disk or memory may really be short, so an alert
/// pending or firing about it is not a false alarm of the rules.
fn reads_the_host(expr: &str) -> bool {
    let others = [
        "pg_",
        "nginx_",
        "probe_",
        "prometheus_",
        "alertmanager_",
        "shop_",
    ];
    let names: Vec<&str> = expr
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .collect();
    names.iter().any(|w| w.starts_with("node_"))
        && !names
            .iter()
            .any(|w| *w == "up" || others.iter().any(|o| w.starts_with(o)))
}

/// The `quiet` check's failure: alerts firing, or pending for good, on the healthy stack.
fn false_alarm(started: Instant, lines: &[String]) -> Verdict {
    Verdict::fail(
        format!(
            "on the healthy stack, {} s after every target was up:\n{}",
            started.elapsed().as_secs(),
            lines.join("\n")
        ),
        "The expression above is true while nothing is wrong (a pending alert only waits out its \
         `for:` before paging). Task 3 of monitoring/README.md asks for alerts that stay silent on \
         a healthy stack; \"How to check your work locally\" says how a deliberate heartbeat \
         alert is told apart.",
    )
}

#[cfg(test)]
mod tests {
    use super::reads_the_host;

    #[test]
    fn host_expressions_are_told_from_the_stack() {
        assert!(reads_the_host(
            "node_filesystem_avail_bytes{fstype=~\"ext4\"} / node_filesystem_size_bytes < 0.10"
        ));
        assert!(reads_the_host("increase(node_vmstat_oom_kill[10m]) > 0"));
        assert!(!reads_the_host("up{job=\"node\"} == 0"));
        assert!(!reads_the_host("pg_up == 0 or node_load1 > 4"));
        assert!(!reads_the_host(
            "rate(pg_stat_bgwriter_checkpoints_req_total[15m]) * 60 < 2"
        ));
    }
}
