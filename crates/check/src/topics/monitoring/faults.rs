//! Fault injection (`fault-db`, `fault-web`): the checker stops the database and the web tier,
//! expects an alert about each to go pending within the cadence's reaction time and to fire within
//! its `for:`, to reach Alertmanager, and to resolve once the component runs again.
//!
//! Both components are stopped together: most of a fault's time is its alert's `for:`, so waiting
//! for the two side by side halves this part of the run. They do not mix up because an alert
//! counts for a component only when it names it ([`Fault::concerns`]), and both are started again
//! together, so an alert that both outages cause (a failing end-to-end probe) resolves once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::alerts::{Active, active};
use super::live::Live;
use super::prometheus::{Alert, Labels, ReceivedAlert, alertmanager_alerts};
use super::stack::Stack;
use super::timing::{Cadence, FIRE_LIMIT, POLL, SLACK, pause, poll_until, show};
use crate::runner::{CheckCtx, Verdict};

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

/// Stops a service's container; starts it again when dropped, unless [`Outage::end`] did.
struct Outage<'s, 'a> {
    stack: &'s Stack<'a>,
    container: String,
    over: bool,
}

impl<'s, 'a> Outage<'s, 'a> {
    fn begin(stack: &'s Stack<'a>, service: &str) -> anyhow::Result<Outage<'s, 'a>> {
        Ok(Outage {
            stack,
            container: stack.stop(service)?,
            over: false,
        })
    }

    fn end(mut self) -> anyhow::Result<()> {
        self.over = true;
        self.stack.start(&self.container)
    }
}

impl Drop for Outage<'_, '_> {
    fn drop(&mut self) {
        if !self.over {
            let _ = self.stack.start(&self.container);
        }
    }
}

/// An alert about the stopped component that fired.
struct Fired {
    alert: Active,
    pending_after: Duration,
    firing_after: Duration,
}

/// What the checker has seen of one component's outage so far.
struct Watch<'f> {
    fault: &'f Fault,
    /// Alerts about the component, from when they were first seen.
    pending: BTreeMap<String, (Instant, Active)>,
    /// New alerts about something else, with their state.
    others: BTreeMap<String, String>,
    /// Fired, or failed to: set once known.
    detected: Option<Result<Fired, Verdict>>,
    /// Alertmanager's receipt of the fired alert.
    receipt: Option<Result<String, Verdict>>,
    /// How long after the restart the fired alert resolved.
    resolved_after: Option<Duration>,
}

/// The bounds of the waits, from the cadence (scaled by `--timeout-factor`).
struct Bounds {
    /// An alert about the component must be pending this long after it stopped.
    reaction: Duration,
    /// Added to a pending alert's `for:` before it counts as late.
    margin: Duration,
}

impl<'f> Watch<'f> {
    fn new(fault: &'f Fault) -> Watch<'f> {
        Watch {
            fault,
            pending: BTreeMap::new(),
            others: BTreeMap::new(),
            detected: None,
            receipt: None,
            resolved_after: None,
        }
    }

    /// Takes in one look at the active alerts; settles `detected` when the outcome is known.
    fn observe(
        &mut self,
        stack: &Stack,
        alerts: &[Active],
        baseline: &BTreeSet<String>,
        stopped: Instant,
        bounds: &Bounds,
    ) {
        let now = Instant::now();
        for alert in alerts {
            let key = alert.key();
            if baseline.contains(&key) {
                continue;
            }
            if !self.fault.concerns(&alert.alert) {
                self.others.insert(key, alert.alert.state.clone());
                continue;
            }
            let since = self.pending.entry(key).or_insert((now, alert.clone())).0;
            if alert.alert.is_firing() {
                self.detected = Some(Ok(Fired {
                    pending_after: since - stopped,
                    firing_after: now - stopped,
                    alert: alert.clone(),
                }));
                return;
            }
        }
        let elapsed = now - stopped;
        if self.pending.is_empty() {
            if elapsed > bounds.reaction {
                self.detected = Some(Err(self.nothing_pending(bounds.reaction)));
            }
            return;
        }
        let all_too_slow = self.pending.values().all(|(_, a)| a.hold > FIRE_LIMIT);
        let fire_by = self
            .pending
            .values()
            .map(|(since, a)| *since + a.hold.min(FIRE_LIMIT) + bounds.margin)
            .max()
            .unwrap_or(now);
        if (all_too_slow && elapsed > bounds.reaction) || now > fire_by {
            let list: Vec<String> = self
                .pending
                .values()
                .map(|(_, a)| a.describe(stack))
                .collect();
            self.detected = Some(Err(Verdict::fail(
                format!(
                    "stopped `{}`: pending but not firing after {} s: {}",
                    self.fault.service,
                    elapsed.as_secs(),
                    list.join(", ")
                ),
                format!(
                    "An outage of {} must page within {}: use a shorter `for:`.",
                    self.fault.what,
                    show(FIRE_LIMIT)
                ),
            )));
        }
    }

    fn nothing_pending(&self, reaction: Duration) -> Verdict {
        let seen = if self.others.is_empty() {
            "no new alert at all".to_owned()
        } else {
            format!("new alerts that do not name it: {}", self.others_list())
        };
        Verdict::fail(
            format!(
                "stopped `{}`: no alert about {} was pending {} s later; {seen}",
                self.fault.service,
                self.fault.what,
                reaction.as_secs()
            ),
            format!(
                "Alert on {} itself, with an expression that turns true within a scrape and an \
                 evaluation of it going away, and a `for:` of at most {}. The checker recognises \
                 the alert by its name or labels: one of them must contain {}.",
                self.fault.what,
                show(FIRE_LIMIT),
                self.fault.words.join(", ")
            ),
        )
    }

    fn others_list(&self) -> String {
        let list: Vec<String> = self
            .others
            .iter()
            .map(|(k, s)| format!("{k} ({s})"))
            .collect();
        list.join(", ")
    }

    /// The check's verdict from everything seen.
    fn verdict(self, stack: &Stack, together: &str) -> Verdict {
        let others = if self.others.is_empty() {
            String::new()
        } else {
            format!(
                "\nother new alerts during the outage: {}",
                self.others_list()
            )
        };
        let fired = match self.detected {
            Some(Ok(fired)) => fired,
            Some(Err(verdict)) => return verdict,
            None => return Verdict::skipped("the outage was not watched to its end"),
        };
        let received = match self.receipt {
            Some(Ok(received)) => received,
            Some(Err(verdict)) => return verdict,
            None => return Verdict::skipped("Alertmanager was not asked"),
        };
        let mut evidence = format!(
            "stopped `{}`{together}: {}\n  pending after {} s, firing after {} s\n  {received}",
            self.fault.service,
            fired.alert.describe(stack),
            fired.pending_after.as_secs(),
            fired.firing_after.as_secs(),
        );
        match self.resolved_after {
            Some(after) => {
                evidence.push_str(&format!(
                    "\n  resolved {} s after `{}` was started again{others}",
                    after.as_secs(),
                    self.fault.service
                ));
                Verdict::pass(evidence)
            }
            None => {
                evidence.push_str(&format!(
                    "\n  still active after `{}` was started again{others}",
                    self.fault.service
                ));
                Verdict::fail(
                    evidence,
                    format!(
                        "The alert must resolve once {} is back, or it pages for nothing and \
                         hides the next outage: check that its expression turns false when the \
                         component is healthy.",
                        self.fault.what
                    ),
                )
            }
        }
    }
}

/// Stops every component of `faults` together and returns a verdict for each, in order.
pub fn inject(
    ctx: &CheckCtx,
    stack: &Stack,
    live: &Live,
    cadence: &Cadence,
    faults: &[&Fault],
) -> anyhow::Result<Vec<Verdict>> {
    let prometheus = live.prometheus();
    let managers = prometheus.alertmanagers()?;
    if managers.is_empty() {
        let verdict = Verdict::fail(
            "Prometheus sends alerts to no Alertmanager (/api/v1/alertmanagers lists none)",
            "Point `alerting.alertmanagers` in prometheus.yml at the alertmanager service.",
        );
        return Ok(faults.iter().map(|_| verdict.clone()).collect());
    }
    let missing = |fault: &Fault| stack.service(fault.service).is_none();
    let mut watches: Vec<Watch> = faults
        .iter()
        .filter(|f| !missing(f))
        .map(|f| Watch::new(f))
        .collect();
    let bounds = Bounds {
        reaction: stack.docker.scale(cadence.reaction()),
        margin: stack.docker.scale(cadence.evaluation + SLACK),
    };
    let baseline: BTreeSet<String> = active(&prometheus)?.iter().map(Active::key).collect();
    let services: Vec<&str> = watches.iter().map(|w| w.fault.service).collect();
    ctx.note(&format!("stopping {}", services.join(" and ")));
    let mut outages = Vec::new();
    for watch in &watches {
        outages.push(Outage::begin(stack, watch.fault.service)?);
    }
    let stopped = Instant::now();
    while watches.iter().any(|w| w.detected.is_none()) {
        let alerts = active(&prometheus)?;
        for watch in watches.iter_mut().filter(|w| w.detected.is_none()) {
            watch.observe(stack, &alerts, &baseline, stopped, &bounds);
        }
        ctx.note(&format!(
            "{} stopped {} s ago: waiting for alerts",
            services.join(" and "),
            stopped.elapsed().as_secs()
        ));
        pause(POLL)?;
    }
    for watch in &mut watches {
        if let Some(Ok(fired)) = &watch.detected {
            watch.receipt = Some(deliver(stack, live, &managers, fired, cadence)?);
        }
    }
    ctx.note(&format!("starting {} again", services.join(" and ")));
    for outage in outages {
        outage.end()?;
    }
    let restarted = Instant::now();
    let deadline = restarted + stack.docker.scale(cadence.reaction() + RESTART_ALLOWANCE);
    poll_until(deadline, || {
        let keys: BTreeSet<String> = active(&prometheus)?.iter().map(Active::key).collect();
        let mut waiting = false;
        for watch in &mut watches {
            let Some(Ok(fired)) = &watch.detected else {
                continue;
            };
            if !matches!(watch.receipt, Some(Ok(_))) || watch.resolved_after.is_some() {
                continue;
            }
            if keys.contains(&fired.alert.key()) {
                waiting = true;
            } else {
                watch.resolved_after = Some(restarted.elapsed());
            }
        }
        Ok((!waiting).then_some(()))
    })?;
    let together = if watches.len() > 1 {
        format!(" (together with {})", services.join(" and "))
    } else {
        String::new()
    };
    let mut by_service: BTreeMap<&str, Verdict> = BTreeMap::new();
    for watch in watches {
        let service = watch.fault.service;
        by_service.insert(service, watch.verdict(stack, &together));
    }
    Ok(faults
        .iter()
        .map(|fault| {
            by_service.remove(fault.service).unwrap_or_else(|| {
                Verdict::fail(
                    format!(
                        "monitoring/docker-compose.yml has no `{}` service, so the checker \
                         cannot stop {}",
                        fault.service, fault.what
                    ),
                    "Keep the service names of the starter compose file (db, web, prometheus).",
                )
            })
        })
        .collect())
}

/// Waits for Alertmanager to hold the fired alert; the `Ok(text)` describes the receipt.
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
