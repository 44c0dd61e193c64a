//! How long the checks wait, derived from the candidate's own Prometheus: its scrape and
//! evaluation intervals and the `for:` of each rule. Nothing here is a fixed sleep: the checks
//! poll the API and stop as soon as the answer is known; these are only the upper bounds.

use std::time::{Duration, Instant};

use crate::yaml::{self, Node};

use super::prometheus::RuleGroup;
use crate::cancel;

/// Added to every bound: container starts, DNS, an exporter's own query time.
pub const SLACK: Duration = Duration::from_secs(15);

/// How often the checks ask the API while they wait.
pub const POLL: Duration = Duration::from_secs(2);

/// An alert about a component that stops must fire within this of the stop, whatever the
/// candidate's intervals: the README's incident (checkout failing from about 14:03 to 14:07)
/// lasted about four minutes, and a page that comes once such an outage is over catches nothing.
/// The bound is absolute: scrape, evaluation and `for:` all count against it.
pub const INCIDENT: Duration = Duration::from_secs(240);

/// The rhythm of the candidate's Prometheus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    /// The longest scrape interval of any job.
    pub scrape: Duration,
    /// The longest scrape timeout of any job.
    pub scrape_timeout: Duration,
    /// The longest rule evaluation interval (global or per group).
    pub evaluation: Duration,
}

impl Cadence {
    /// Reads the loaded configuration (`/api/v1/status/config`, defaults filled in) and the rule
    /// groups. Missing values fall back to Prometheus' own defaults (1m, 10s, 1m).
    pub fn from_config(config_yaml: &str, groups: &[RuleGroup]) -> Cadence {
        let root = yaml::parse(config_yaml).ok();
        let root = root.as_ref().and_then(Node::as_mapping);
        let global = root.and_then(|r| r.get_mapping("global"));
        let duration = |map: Option<&Node>, key: &str| {
            map.and_then(|m| m.get(key))
                .and_then(Node::as_str)
                .and_then(parse_duration)
        };
        let mut scrape = duration(global, "scrape_interval").unwrap_or(Duration::from_secs(60));
        let mut scrape_timeout =
            duration(global, "scrape_timeout").unwrap_or(Duration::from_secs(10));
        let jobs = root.and_then(|r| r.get_seq("scrape_configs"));
        for job in jobs.into_iter().flat_map(|s| s.iter()) {
            let job = job.as_mapping();
            scrape = scrape.max(duration(job, "scrape_interval").unwrap_or_default());
            scrape_timeout =
                scrape_timeout.max(duration(job, "scrape_timeout").unwrap_or_default());
        }
        let mut evaluation =
            duration(global, "evaluation_interval").unwrap_or(Duration::from_secs(60));
        for group in groups {
            evaluation = evaluation.max(Duration::from_secs_f64(group.interval.max(0.0)));
        }
        Cadence {
            scrape,
            scrape_timeout,
            evaluation,
        }
    }

    /// How long after a change in the stack an alert expression can first see it: the next
    /// scrape collects it (up to one interval plus its timeout), the next evaluation acts on it
    /// (up to one interval), plus slack. This is when an alert must at least be pending.
    pub fn reaction(&self) -> Duration {
        self.scrape + self.scrape_timeout + self.evaluation + SLACK
    }
}

/// Parses a Prometheus duration: `30s`, `1m30s`, `500ms`, `2h`, `1d`, `1w`, `1y`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis_per_unit: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += Duration::from_millis(value.checked_mul(millis_per_unit)?);
    }
    Some(total)
}

/// A duration as Prometheus writes it, for evidence: `30s`, `5m`, `1m30s`.
pub fn show(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// Asks `probe` every [`POLL`] until it returns `Some` or `deadline` passes (then `None`).
/// Stops at once when the run is interrupted.
pub fn poll_until<T>(
    deadline: Instant,
    mut probe: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Option<T>> {
    loop {
        if let Some(found) = probe()? {
            return Ok(Some(found));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        pause((deadline - now).min(POLL))?;
    }
}

/// Sleeps, waking early to give up when the run is interrupted.
pub fn pause(total: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + total;
    while Instant::now() < until {
        if cancel::requested() {
            anyhow::bail!("interrupted while waiting for Prometheus");
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(100)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_parse() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn durations_show_as_prometheus_writes_them() {
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_secs(300)), "5m");
        assert_eq!(show(Duration::from_secs(90)), "1m30s");
        assert_eq!(show(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn cadence_takes_the_slowest_job_and_group() {
        let config = "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n  evaluation_interval: 15s\n\
                      scrape_configs:\n- job_name: a\n  scrape_interval: 30s\n  scrape_timeout: 5s\n- job_name: b\n";
        let groups = [RuleGroup {
            interval: 20.0,
            ..RuleGroup::default()
        }];
        let cadence = Cadence::from_config(config, &groups);
        assert_eq!(cadence.scrape, Duration::from_secs(30));
        assert_eq!(cadence.scrape_timeout, Duration::from_secs(10));
        assert_eq!(cadence.evaluation, Duration::from_secs(20));
        assert_eq!(cadence.reaction(), Duration::from_secs(30 + 10 + 20 + 15));
    }

    #[test]
    fn missing_values_fall_back_to_prometheus_defaults() {
        let cadence = Cadence::from_config("not: [valid", &[]);
        assert_eq!(cadence.scrape, Duration::from_secs(60));
        assert_eq!(cadence.evaluation, Duration::from_secs(60));
    }
}
