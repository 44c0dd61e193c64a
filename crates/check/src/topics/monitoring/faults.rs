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
use super::prometheus::{Alert, Labels, alertmanager_alerts};
use super::receivers;
use super::stack::Stack;
use super::timing::{Cadence, INCIDENT, POLL, SLACK, pause, poll_until, show};
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

/// The bounds of the waits.
struct Bounds {
    /// An alert about the component must be pending this long after it stopped: the cadence's
    /// reaction time (scaled by `--timeout-factor`), never more than [`INCIDENT`].
    reaction: Duration,
    /// An alert about the component must fire this long after it stopped: [`INCIDENT`], an
    /// absolute bound from the README's scenario, plus the time one look at the API takes.
    fire_by: Duration,
}

impl Bounds {
    fn new(stack: &Stack, cadence: &Cadence) -> Bounds {
        Bounds {
            reaction: stack.docker.scale(cadence.reaction()).min(INCIDENT),
            fire_by: INCIDENT + stack.docker.scale(OBSERVATION),
        }
    }
}

/// How late the checker may see an alert's state change: one poll and one API call.
const OBSERVATION: Duration = Duration::from_secs(5);

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
        let elapsed = now - stopped;
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
                self.detected = Some(if elapsed <= bounds.fire_by {
                    Ok(Fired {
                        pending_after: since - stopped,
                        firing_after: elapsed,
                        alert: alert.clone(),
                    })
                } else {
                    Err(self.too_slow(stack, stopped, "firing only now;"))
                });
                return;
            }
        }
        if self.pending.is_empty() {
            if elapsed > bounds.reaction {
                self.detected = Some(Err(self.nothing_pending(bounds.reaction)));
            }
            return;
        }
        // The earliest a pending alert can fire is its `for:` after it went pending: when even
        // that is past the bound for every one of them, waiting on proves nothing.
        let earliest = self
            .pending
            .values()
            .map(|(since, a)| (*since - stopped) + a.hold)
            .min()
            .unwrap_or_default();
        // Only once no other alert can still go pending: a slow one may not be the only one.
        if elapsed > bounds.reaction && earliest > bounds.fire_by {
            let what = format!(
                "pending, able to fire {} s after the stop at the earliest;",
                earliest.as_secs()
            );
            self.detected = Some(Err(self.too_slow(stack, stopped, &what)));
        } else if elapsed > bounds.fire_by {
            self.detected = Some(Err(self.too_slow(stack, stopped, "still only pending;")));
        }
    }

    /// An alert about the component that fires (or would) later than [`INCIDENT`].
    fn too_slow(&self, stack: &Stack, stopped: Instant, state: &str) -> Verdict {
        let elapsed = stopped.elapsed();
        let list: Vec<String> = self
            .pending
            .values()
            .map(|(since, a)| {
                format!(
                    "{} pending after {} s",
                    a.describe(stack),
                    (*since - stopped).as_secs()
                )
            })
            .collect();
        Verdict::fail(
            format!(
                "stopped `{}`: {} s later, the alerts about {} are {state} the bound is {} after \
                 the stop (the incident in monitoring/README.md lasted about four minutes):\n  {}",
                self.fault.service,
                elapsed.as_secs(),
                self.fault.what,
                show(INCIDENT),
                list.join("\n  ")
            ),
            format!(
                "Detection of {} takes longer than the outage it should catch: scrape interval, \
                 evaluation interval and `for:` add up (see above). The README's context gives the \
                 length of the incident; \"How to check your work locally\" gives the bound.",
                self.fault.what
            ),
        )
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
                "No rule noticed {} going away within a scrape and an evaluation, or none that \
                 the checker can tell is about it. Task 3 of monitoring/README.md says what the \
                 rules must catch; \"How to check your work locally\" lists the words that tie an \
                 alert to a component.",
                self.fault.what,
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
            "stopped `{}`{together}: {}\n  pending after {} s, firing after {} s (bound: {})\n  \
             {received}",
            self.fault.service,
            fired.alert.describe(stack),
            fired.pending_after.as_secs(),
            fired.firing_after.as_secs(),
            show(INCIDENT),
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
                        "The alert stays active after {} is back, so it pages for nothing and \
                         hides the next outage: its expression is still true on the healthy \
                         stack. Task 3 of monitoring/README.md asks for alerts that stay silent \
                         on a healthy stack.",
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
            "Prometheus has no Alertmanager to send alerts to: see the `alerting` section of \
             monitoring/prometheus/prometheus.yml; task 4 of monitoring/README.md says where \
             alerts must go.",
        );
        return Ok(faults.iter().map(|_| verdict.clone()).collect());
    }
    let missing = |fault: &Fault| stack.service(fault.service).is_none();
    let mut watches: Vec<Watch> = faults
        .iter()
        .filter(|f| !missing(f))
        .map(|f| Watch::new(f))
        .collect();
    let bounds = Bounds::new(stack, cadence);
    let baseline: BTreeSet<String> = active(&prometheus)?.iter().map(Active::key).collect();
    let services: Vec<&str> = watches.iter().map(|w| w.fault.service).collect();
    ctx.note(&format!("stopping {}", services.join(" and ")));
    // Side by side: a database stops gracefully, which can take seconds.
    let outages = std::thread::scope(|scope| {
        let stopping: Vec<_> = services
            .iter()
            .map(|service| scope.spawn(move || Outage::begin(stack, service)))
            .collect();
        stopping
            .into_iter()
            .map(|s| {
                s.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
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
    std::thread::scope(|scope| {
        let starting: Vec<_> = outages
            .into_iter()
            .map(|outage| scope.spawn(move || outage.end()))
            .collect();
        starting.into_iter().try_for_each(|s| {
            s.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })?;
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
                    "The checker finds the components by their service names: the end of \
                     \"Your tasks\" in monitoring/README.md lists the names to keep.",
                )
            })
        })
        .collect())
}

/// Waits for Alertmanager to hold the fired alert, then looks at where its route sends it: the
/// `Ok(text)` describes the receipt; a route that ends at receivers without any integration
/// notifies nobody and fails.
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
                        return Ok(Some((url.clone(), a.clone(), started.elapsed())));
                    }
                }
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        Ok(None)
    })?;
    let Some((url, received, after)) = found else {
        let why = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join("; "))
        };
        return Ok(Err(Verdict::fail(
            format!(
                "{} fired in Prometheus, but Alertmanager ({}) did not have it {} s later{why}",
                fired.alert.key(),
                managers.join(", "),
                started.elapsed().as_secs()
            ),
            "Prometheus fires the alert but no Alertmanager receives it: see the error above and \
             `docker compose logs prometheus alertmanager`; task 4 of monitoring/README.md says \
             where alerts must go.",
        )));
    };
    let integrations = receivers::loaded(live.probe(), &url)?;
    let routed: Vec<String> = received
        .receivers
        .iter()
        .map(|r| match integrations.get(&r.name) {
            Some(kinds) if !kinds.is_empty() => format!("{} ({})", r.name, kinds.join(", ")),
            _ => format!("{} (no integration)", r.name),
        })
        .collect();
    let notifies = received
        .receivers
        .iter()
        .any(|r| integrations.get(&r.name).is_some_and(|k| !k.is_empty()));
    let receipt = format!(
        "received by Alertmanager {url} within {} s, {}; routed to receiver {}",
        after.as_secs(),
        received.status.state,
        routed.join(", ")
    );
    if notifies {
        return Ok(Ok(receipt));
    }
    Ok(Err(Verdict::fail(
        format!(
            "{}: {receipt}: nobody is notified of this outage",
            fired.alert.key()
        ),
        format!(
            "The alert reaches Alertmanager, but the route it matches in {} ends at a receiver \
             with no integration, so no one hears of the outage; task 4 of monitoring/README.md \
             says what the receivers must do.",
            alertmanager_config(stack)
        ),
    )))
}

/// Where the candidate's Alertmanager configuration is, for hints.
fn alertmanager_config(stack: &Stack) -> String {
    stack
        .service(super::ALERTMANAGER)
        .map(|s| {
            s.flag("--config.file")
                .unwrap_or(super::config::ALERTMANAGER_DEFAULT_CONFIG)
        })
        .and_then(|file| stack.host_path(super::ALERTMANAGER, file))
        .map_or_else(
            || "the Alertmanager configuration".to_owned(),
            |path| stack.display(&path),
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
