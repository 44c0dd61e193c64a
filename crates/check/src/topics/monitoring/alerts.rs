//! Alerting on the running stack: no alert fires while it is healthy (`quiet`), and stopping a
//! component makes an alert about it fire within its `for:`, reach Alertmanager, and resolve once
//! the component is back (`fault-db`, `fault-web`).
//!
//! Every wait polls the API and ends as soon as the outcome is known; its upper bound comes from
//! the candidate's own scrape and evaluation intervals and the rules' `for:` ([`Cadence`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::PROMETHEUS;
use super::live::Live;
use super::locate::locate;
use super::prometheus::{Alert, Labels, Prometheus, ReceivedAlert, alertmanager_alerts};
use super::stack::Stack;
use super::timing::{Cadence, FIRE_LIMIT, POLL, SLACK, pause, poll_until, show};
use crate::runner::{CheckCtx, Verdict};

/// The longest `for:` the false-positive check waits out. Pending alerts with a longer one are
/// reported but not waited for.
const QUIET_LIMIT: Duration = Duration::from_secs(180);

/// Time for a restarted component to be reachable again, on top of the scrape and evaluation.
const RESTART_ALLOWANCE: Duration = Duration::from_secs(30);

/// A component the checker stops, and how to tell an alert is about it.
pub struct Fault {
    /// The compose service stopped.
    pub service: &'static str,
    /// What it is, for messages.
    pub what: &'static str,
    /// An alert is about the component when its name or a label value contains one of these
    /// words (whole words; three letters or more also match as a prefix: postgres → postgresql).
    pub words: &'static [&'static str],
}

/// The database.
pub const DATABASE: Fault = Fault {
    service: "db",
    what: "the database",
    words: &["db", "database", "postgres", "pg", "sql"],
};

/// The web tier.
pub const WEB_TIER: Fault = Fault {
    service: "web",
    what: "the web tier",
    words: &["web", "nginx", "http", "site", "frontend", "proxy"],
};

impl Fault {
    /// Whether `alert` names this component.
    pub fn concerns(&self, alert: &Alert) -> bool {
        alert
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "severity")
            .flat_map(|(_, v)| words(v))
            .any(|w| {
                self.words
                    .iter()
                    .any(|k| w == *k || (k.len() >= 3 && w.starts_with(k)))
            })
    }

    fn words_list(&self) -> String {
        self.words.join(", ")
    }
}

/// Lower-case words of a name or label value: split on non-alphanumerics and camelCase
/// (`PostgresDown` → postgres, down; `DBDown` → db, down).
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// An active alert with what its rule says about it.
#[derive(Debug, Clone)]
struct Active {
    alert: Alert,
    /// The rule's `for:`.
    hold: Duration,
    expr: String,
    /// Rule file inside the Prometheus container.
    file: String,
}

impl Active {
    fn key(&self) -> String {
        self.alert.key()
    }

    /// `Name{…} (monitoring/…/rules.yml:12, for: 30s)`.
    fn describe(&self, stack: &Stack) -> String {
        let place = stack
            .host_path(PROMETHEUS, &self.file)
            .map(|p| locate(&p, &stack.display(&p), "alert", self.alert.name()))
            .unwrap_or_else(|| self.file.clone());
        format!("{} ({place}, for: {})", self.key(), show(self.hold))
    }
}

/// Pending and firing alerts, heartbeats left out.
fn active(prometheus: &Prometheus) -> anyhow::Result<Vec<Active>> {
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

/// Stops a service; starts it again when dropped, unless [`Outage::end`] did.
struct Outage<'s, 'a> {
    stack: &'s Stack<'a>,
    service: &'static str,
    over: bool,
}

impl<'s, 'a> Outage<'s, 'a> {
    fn begin(stack: &'s Stack<'a>, service: &'static str) -> anyhow::Result<Outage<'s, 'a>> {
        stack.stop(service)?;
        Ok(Outage {
            stack,
            service,
            over: false,
        })
    }

    /// Starts the service again; returns when.
    fn end(mut self) -> anyhow::Result<Instant> {
        self.over = true;
        self.stack.start(self.service)?;
        Ok(Instant::now())
    }
}

impl Drop for Outage<'_, '_> {
    fn drop(&mut self) {
        if !self.over {
            let _ = self.stack.start(self.service);
        }
    }
}

/// An alert about the stopped component that fired.
struct Fired {
    alert: Active,
    pending_after: Duration,
    firing_after: Duration,
}

/// A fault-injection check: stop `fault.service`, expect an alert about it to fire and reach
/// Alertmanager, start it again, expect the alert to resolve.
pub fn fault(
    ctx: &CheckCtx,
    stack: &Stack,
    live: &Live,
    cadence: &Cadence,
    fault: &Fault,
) -> anyhow::Result<Verdict> {
    if stack.service(fault.service).is_none() {
        return Ok(Verdict::fail(
            format!(
                "monitoring/docker-compose.yml has no `{}` service, so the checker cannot stop {}",
                fault.service, fault.what
            ),
            "Keep the service names of the starter compose file (db, web, prometheus).",
        ));
    }
    let prometheus = live.prometheus();
    let managers = prometheus.alertmanagers()?;
    if managers.is_empty() {
        return Ok(Verdict::fail(
            "Prometheus sends alerts to no Alertmanager (/api/v1/alertmanagers lists none)",
            "Point `alerting.alertmanagers` in prometheus.yml at the alertmanager service.",
        ));
    }
    let baseline: BTreeSet<String> = active(&prometheus)?.iter().map(Active::key).collect();
    ctx.note(&format!("stopping `{}`", fault.service));
    let outage = Outage::begin(stack, fault.service)?;
    let stopped = Instant::now();
    let others = std::cell::RefCell::new(BTreeMap::new());
    let fired = match detect(
        ctx,
        stack,
        &prometheus,
        cadence,
        fault,
        &baseline,
        stopped,
        &others,
    )? {
        Ok(fired) => fired,
        Err(verdict) => {
            outage.end()?;
            return Ok(verdict);
        }
    };
    let received = match deliver(stack, live, &managers, &fired, cadence)? {
        Ok(received) => received,
        Err(verdict) => {
            outage.end()?;
            return Ok(verdict);
        }
    };
    ctx.note(&format!("starting `{}` again", fault.service));
    let restarted = outage.end()?;
    let key = fired.alert.key();
    let deadline = restarted + stack.docker.scale(cadence.reaction() + RESTART_ALLOWANCE);
    let resolved = poll_until(deadline, || {
        let still = active(&prometheus)?.iter().any(|a| a.key() == key);
        Ok((!still).then(|| restarted.elapsed()))
    })?;
    let mut evidence = format!(
        "stopped `{}`: {}\n  pending after {} s, firing after {} s\n  {received}",
        fault.service,
        fired.alert.describe(stack),
        fired.pending_after.as_secs(),
        fired.firing_after.as_secs(),
    );
    let others = others.into_inner();
    let others = if others.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = others
            .into_iter()
            .map(|(k, s)| format!("{k} ({s})"))
            .collect();
        format!("\nother new alerts during the outage: {}", list.join(", "))
    };
    let Some(after) = resolved else {
        evidence.push_str(&format!(
            "\n  started `{}` again: the alert was still active {} s later{others}",
            fault.service,
            restarted.elapsed().as_secs()
        ));
        return Ok(Verdict::fail(
            evidence,
            format!(
                "The alert must resolve once {} is back, or it pages for nothing and hides the \
                 next outage: check that its expression turns false when the component is healthy.",
                fault.what
            ),
        ));
    };
    evidence.push_str(&format!(
        "\n  resolved {} s after `{}` was started again{others}",
        after.as_secs(),
        fault.service
    ));
    Ok(Verdict::pass(evidence))
}

/// Waits for a new alert about the component: pending within the cadence's reaction time, then
/// firing within its `for:`. `others` collects new alerts about other components.
#[allow(clippy::too_many_arguments)]
fn detect(
    ctx: &CheckCtx,
    stack: &Stack,
    prometheus: &Prometheus,
    cadence: &Cadence,
    fault: &Fault,
    baseline: &BTreeSet<String>,
    stopped: Instant,
    others: &std::cell::RefCell<BTreeMap<String, String>>,
) -> anyhow::Result<Result<Fired, Verdict>> {
    let reaction = stack.docker.scale(cadence.reaction());
    let margin = stack.docker.scale(cadence.evaluation + SLACK);
    let mut pending: BTreeMap<String, (Instant, Active)> = BTreeMap::new();
    loop {
        let now = Instant::now();
        for alert in active(prometheus)? {
            let key = alert.key();
            if baseline.contains(&key) {
                continue;
            }
            if !fault.concerns(&alert.alert) {
                others.borrow_mut().insert(key, alert.alert.state.clone());
                continue;
            }
            let since = pending.entry(key).or_insert((now, alert.clone())).0;
            if alert.alert.is_firing() {
                return Ok(Ok(Fired {
                    pending_after: since - stopped,
                    firing_after: now - stopped,
                    alert,
                }));
            }
        }
        let elapsed = now - stopped;
        if pending.is_empty() {
            if elapsed > reaction {
                return Ok(Err(nothing_pending(fault, reaction, &others.borrow())));
            }
            ctx.note(&format!(
                "`{}` stopped {} s ago: waiting for an alert",
                fault.service,
                elapsed.as_secs()
            ));
        } else {
            let all_too_slow = pending.values().all(|(_, a)| a.hold > FIRE_LIMIT);
            let fire_by = pending
                .values()
                .map(|(since, a)| *since + a.hold.min(FIRE_LIMIT) + margin)
                .max()
                .unwrap_or(now);
            if (all_too_slow && elapsed > reaction) || now > fire_by {
                let list: Vec<String> = pending.values().map(|(_, a)| a.describe(stack)).collect();
                return Ok(Err(Verdict::fail(
                    format!(
                        "stopped `{}`: pending but not firing after {} s: {}",
                        fault.service,
                        elapsed.as_secs(),
                        list.join(", ")
                    ),
                    format!(
                        "An outage of {} must page within {}: use a shorter `for:`.",
                        fault.what,
                        show(FIRE_LIMIT)
                    ),
                )));
            }
            ctx.note(&format!(
                "`{}` stopped {} s ago: an alert is pending",
                fault.service,
                elapsed.as_secs()
            ));
        }
        pause(POLL)?;
    }
}

fn nothing_pending(
    fault: &Fault,
    reaction: Duration,
    others: &BTreeMap<String, String>,
) -> Verdict {
    let seen = if others.is_empty() {
        "no new alert at all".to_owned()
    } else {
        let list: Vec<String> = others.iter().map(|(k, s)| format!("{k} ({s})")).collect();
        format!("new alerts that do not name it: {}", list.join(", "))
    };
    Verdict::fail(
        format!(
            "stopped `{}`: no alert about {} was pending {} s later; {seen}",
            fault.service,
            fault.what,
            reaction.as_secs()
        ),
        format!(
            "Alert on {} itself, with an expression that turns true within a scrape and an \
             evaluation of it going away, and a `for:` of at most {}. The checker recognises the \
             alert by its name or labels: one of them must contain {}.",
            fault.what,
            show(FIRE_LIMIT),
            fault.words_list()
        ),
    )
}

/// Waits for Alertmanager to hold the fired alert; the `Ok(Ok(text))` describes the receipt.
fn deliver(
    stack: &Stack,
    live: &Live,
    managers: &[String],
    fired: &Fired,
    cadence: &Cadence,
) -> anyhow::Result<Result<String, Verdict>> {
    let wanted = &fired.alert.alert.labels;
    let started = Instant::now();
    let deadline = started + stack.docker.scale(cadence.evaluation + SLACK);
    let mut errors = Vec::new();
    let found = poll_until(deadline, || {
        errors.clear();
        for url in managers {
            match alertmanager_alerts(live.probe(), url) {
                Ok(alerts) => {
                    if let Some(a) = alerts.iter().find(|a| includes(&a.labels, wanted)) {
                        return Ok(Some(describe_receipt(url, a, started.elapsed())));
                    }
                }
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        Ok(None)
    })?;
    Ok(found.ok_or_else(|| {
        let why = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join("; "))
        };
        Verdict::fail(
            format!(
                "{} fired in Prometheus, but Alertmanager ({}) did not have it {} s later{why}",
                fired.alert.key(),
                managers.join(", "),
                started.elapsed().as_secs()
            ),
            "Prometheus must deliver its alerts: check `alerting.alertmanagers` in prometheus.yml \
             and that Alertmanager runs (`docker compose logs alertmanager`).",
        )
    }))
}

fn describe_receipt(url: &str, alert: &ReceivedAlert, after: Duration) -> String {
    let receivers: Vec<&str> = alert.receivers.iter().map(|r| r.name.as_str()).collect();
    format!(
        "received by Alertmanager {url} within {} s: receiver {}, {}",
        after.as_secs(),
        receivers.join(", "),
        alert.status.state
    )
}

/// Whether `have` has every label of `want` with the same value (Alertmanager adds external
/// labels, so it may have more).
fn includes(have: &Labels, want: &Labels) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        Alert {
            labels: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            state: "pending".into(),
        }
    }

    #[test]
    fn words_split_names_and_values() {
        assert_eq!(words("PostgresDown"), ["postgres", "down"]);
        assert_eq!(words("DBDown"), ["db", "down"]);
        assert_eq!(words("http://web/healthz"), ["http", "web", "healthz"]);
        assert_eq!(
            words("postgres-exporter:9187"),
            ["postgres", "exporter", "9187"]
        );
        assert_eq!(words("HTTP5xxRate"), ["http5xx", "rate"]);
    }

    #[test]
    fn alerts_are_attributed_by_name_and_labels() {
        let db = alert(&[("alertname", "PostgresDown"), ("job", "postgres")]);
        let pg = alert(&[("alertname", "Down"), ("instance", "pgbouncer:6432")]);
        let database = alert(&[("alertname", "DatabaseUnreachable")]);
        let probe = alert(&[
            ("alertname", "ShopUnavailable"),
            ("instance", "http://web/healthz"),
        ]);
        let nginx = alert(&[("alertname", "NginxDown"), ("severity", "critical")]);
        assert!(DATABASE.concerns(&db));
        assert!(!DATABASE.concerns(&pg), "pg is a whole word, not a prefix");
        assert!(DATABASE.concerns(&database));
        assert!(!DATABASE.concerns(&probe));
        assert!(WEB_TIER.concerns(&probe));
        assert!(WEB_TIER.concerns(&nginx));
        assert!(!WEB_TIER.concerns(&db));
        let web_critical = alert(&[("alertname", "Down"), ("severity", "website")]);
        assert!(
            !WEB_TIER.concerns(&web_critical),
            "severity values do not count"
        );
    }

    #[test]
    fn alertmanager_labels_may_add_external_labels() {
        let want = alert(&[("alertname", "A"), ("job", "x")]).labels;
        let have = alert(&[("alertname", "A"), ("job", "x"), ("environment", "lab")]).labels;
        assert!(includes(&have, &want));
        assert!(!includes(&want, &have));
    }
}
