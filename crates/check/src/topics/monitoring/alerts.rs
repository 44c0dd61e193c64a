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

/// The longest `for:` the false-positive check waits out. Pending alerts with a longer one are
/// reported but not waited for.
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
/// targets up (`targets_up` was taken when they were), no alert fires; alerts still pending are
/// watched until their `for:` has passed.
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
    let mut first_seen: BTreeMap<String, Instant> = BTreeMap::new();
    let mut long_holds: BTreeSet<String> = BTreeSet::new();
    loop {
        let alerts = active(&prometheus)?;
        let firing: Vec<&Active> = alerts.iter().filter(|a| a.alert.is_firing()).collect();
        if !firing.is_empty() {
            let lines: Vec<String> = firing
                .iter()
                .map(|a| format!("{} is firing: `{}`", a.describe(stack), a.expr))
                .collect();
            return Ok(Verdict::fail(
                format!(
                    "on the healthy stack, {} s after every target was up:\n{}",
                    started.elapsed().as_secs(),
                    lines.join("\n")
                ),
                "An alert that fires when nothing is wrong teaches people to ignore pages. Check \
                 the comparison and the threshold of the expression. A heartbeat alert that \
                 fires on purpose (Watchdog) needs the label `severity: none`.",
            ));
        }
        let now = Instant::now();
        let mut wait_until: Option<Instant> = None;
        for alert in alerts.iter() {
            let seen = *first_seen.entry(alert.key()).or_insert(now);
            if alert.hold > QUIET_LIMIT {
                long_holds.insert(alert.describe(stack));
                continue;
            }
            let fires_by = seen + alert.hold + stack.docker.scale(cadence.evaluation + SLACK);
            wait_until = Some(wait_until.map_or(fires_by, |w| w.max(fires_by)));
        }
        match wait_until {
            Some(until) if now < until => {
                ctx.note(&format!(
                    "{} alert(s) pending: waiting to see whether they fire",
                    alerts.len()
                ));
                pause(POLL)?;
            }
            _ => break,
        }
    }
    let mut evidence = format!(
        "no alert fired on the healthy stack ({} s, every rule group evaluated with all targets up)",
        started.elapsed().as_secs()
    );
    if !first_seen.is_empty() {
        evidence.push_str(&format!(
            "\npending for a while, then resolved: {}",
            first_seen.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !long_holds.is_empty() {
        evidence.push_str(&format!(
            "\nstill pending, not waited for (for: longer than {}): {}",
            show(QUIET_LIMIT),
            long_holds.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Verdict::pass(evidence))
}
