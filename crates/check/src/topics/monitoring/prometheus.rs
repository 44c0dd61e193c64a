//! The parts of the Prometheus and Alertmanager HTTP APIs the checks read.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::http::{Probe, Url, encode};

/// Label set of a series or an alert.
pub type Labels = BTreeMap<String, String>;

/// Where Prometheus listens inside its own container (the probe shares its network namespace).
const PROMETHEUS_PORT: u16 = 9090;

/// Prometheus, reached through the probe.
pub struct Prometheus<'p> {
    probe: &'p Probe<'p>,
    base: Url,
}

/// A scrape target (`/api/v1/targets`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Its labels after relabelling (job, instance…).
    #[serde(default)]
    pub labels: Labels,
    /// The URL scraped.
    #[serde(default)]
    pub scrape_url: String,
    /// `up`, `down` or `unknown` (not scraped yet).
    pub health: String,
    /// Why the last scrape failed.
    #[serde(default)]
    pub last_error: String,
    /// The job (scrape pool).
    #[serde(default)]
    pub scrape_pool: String,
}

/// A rule group (`/api/v1/rules`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// The rule file, as a path inside the Prometheus container.
    pub file: String,
    /// Evaluation interval, seconds.
    #[serde(default)]
    pub interval: f64,
    /// When the group was last evaluated (RFC 3339; the zero time before the first evaluation).
    #[serde(default)]
    pub last_evaluation: String,
    /// Its rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A recording or alerting rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Alert name or recorded metric name.
    pub name: String,
    /// The PromQL expression.
    pub query: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ok`, `err` or `unknown` (not evaluated yet).
    #[serde(default)]
    pub health: String,
    /// The error of the last evaluation.
    #[serde(default)]
    pub last_error: Option<String>,
    /// `for:` in seconds (alerting rules).
    #[serde(default)]
    pub duration: f64,
    /// Active alerts of this rule.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

impl Rule {
    /// Whether this is an alerting rule.
    pub fn is_alerting(&self) -> bool {
        self.kind == "alerting"
    }
}

/// An active (pending or firing) alert.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// All its labels, `alertname` included.
    pub labels: Labels,
    /// `pending` or `firing`.
    pub state: String,
}

impl Alert {
    /// `Name{a="1", b="2"}`: what the evidence shows, also its identity.
    pub fn key(&self) -> String {
        describe_labels(&self.labels)
    }

    /// The `alertname` label.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// Whether it is firing (not only pending).
    pub fn is_firing(&self) -> bool {
        self.state == "firing"
    }

    /// Heartbeat alerts (the Watchdog pattern) always fire on purpose; they say so with
    /// `severity: none` and are left out of the false-positive and fault checks.
    pub fn is_heartbeat(&self) -> bool {
        self.labels.get("severity").is_some_and(|s| s == "none")
    }
}

/// `Name{a="1", b="2"}` for a label set with an `alertname` (or `{a="1"}` without one).
pub fn describe_labels(labels: &Labels) -> String {
    let name = labels.get("alertname").map_or("", String::as_str);
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// One series of an instant query's vector result.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    /// Its labels.
    pub metric: Labels,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetsData {
    active_targets: Vec<Target>,
}

#[derive(Deserialize)]
struct RulesData {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertmanagersData {
    active_alertmanagers: Vec<UrlEntry>,
}

#[derive(Deserialize)]
struct UrlEntry {
    url: String,
}

#[derive(Deserialize)]
struct ConfigData {
    yaml: String,
}

/// What `/api/v1/status/runtimeinfo` says of the configuration's reloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    /// Whether the last reload succeeded.
    pub reload_config_success: bool,
    /// When the configuration was last loaded successfully.
    pub last_config_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryData {
    result_type: String,
    result: serde_json::Value,
}

/// What an instant query returned.
#[derive(Debug, Clone)]
pub enum QueryResult {
    /// Series of a vector result (possibly none).
    Vector(Vec<Sample>),
    /// A scalar, string or matrix: evaluated, nothing more to read.
    Other,
}

impl<'p> Prometheus<'p> {
    /// Prometheus at `localhost:9090` of the probe's network namespace.
    pub fn new(probe: &'p Probe<'p>) -> Prometheus<'p> {
        Prometheus {
            probe,
            base: Url::new("localhost", PROMETHEUS_PORT),
        }
    }

    /// Whether `/-/ready` answers 200; the `Err` says why not (no answer, or the body).
    pub fn ready(&self) -> anyhow::Result<()> {
        let answer = self.probe.get(&self.base.with_path("/-/ready"))?;
        if answer.status != 200 {
            bail!(
                "/-/ready answered {}: {}",
                answer.status,
                answer.body.trim()
            );
        }
        Ok(())
    }

    fn data<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        match self.call(path)? {
            Ok(data) => Ok(data),
            Err(message) => bail!("{path}: {message}"),
        }
    }

    /// A call whose API-level error (e.g. a bad query) is an inner `Err`, and whose transport
    /// problems are the outer one.
    fn call<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Result<T, String>> {
        let answer = self.probe.get(&self.base.with_path(path))?;
        let envelope: Envelope<T> = serde_json::from_str(&answer.body).with_context(|| {
            format!(
                "{path} answered {} with an unexpected body: {}",
                answer.status,
                answer.body.chars().take(300).collect::<String>()
            )
        })?;
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(Ok(data)),
            _ => Ok(Err(envelope.error)),
        }
    }

    /// Active scrape targets.
    pub fn targets(&self) -> anyhow::Result<Vec<Target>> {
        Ok(self
            .data::<TargetsData>("/api/v1/targets?state=active")?
            .active_targets)
    }

    /// Rule groups with their rules and active alerts.
    pub fn rule_groups(&self) -> anyhow::Result<Vec<RuleGroup>> {
        Ok(self.data::<RulesData>("/api/v1/rules")?.groups)
    }

    /// The Alertmanagers Prometheus sends alerts to (URLs ending in `/api/v2/alerts`).
    pub fn alertmanagers(&self) -> anyhow::Result<Vec<String>> {
        let data: AlertmanagersData = self.data("/api/v1/alertmanagers")?;
        Ok(data
            .active_alertmanagers
            .into_iter()
            .map(|a| a.url)
            .collect())
    }

    /// The loaded configuration, defaults filled in, as YAML.
    pub fn config_yaml(&self) -> anyhow::Result<String> {
        Ok(self.data::<ConfigData>("/api/v1/status/config")?.yaml)
    }

    /// Whether and when the configuration was last (re)loaded.
    pub fn runtime_info(&self) -> anyhow::Result<RuntimeInfo> {
        self.data("/api/v1/status/runtimeinfo")
    }

    /// Evaluates `expr` now. The inner `Err` is Prometheus' message for a query it rejects.
    pub fn query(&self, expr: &str) -> anyhow::Result<Result<QueryResult, String>> {
        let path = format!("/api/v1/query?query={}", encode(expr));
        Ok(self.call::<QueryData>(&path)?.map(|data| {
            match (data.result_type.as_str(), data.result) {
                ("vector", result) => QueryResult::Vector(
                    serde_json::from_value::<Vec<Sample>>(result).unwrap_or_default(),
                ),
                _ => QueryResult::Other,
            }
        }))
    }
}

/// An alert as Alertmanager holds it (`/api/v2/alerts`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedAlert {
    /// Its labels (Prometheus' external labels added).
    pub labels: Labels,
    /// The receivers its route chose.
    #[serde(default)]
    pub receivers: Vec<Receiver>,
    /// `active`, `suppressed` (silenced or inhibited) or `unprocessed`.
    pub status: ReceivedStatus,
}

/// A receiver name.
#[derive(Debug, Clone, Deserialize)]
pub struct Receiver {
    /// The name from alertmanager.yml.
    pub name: String,
}

/// An alert's state in Alertmanager.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
}

/// The alerts an Alertmanager holds; `url` is its `/api/v2/alerts` URL as Prometheus lists it.
pub fn alertmanager_alerts(probe: &Probe, url: &str) -> anyhow::Result<Vec<ReceivedAlert>> {
    alertmanager_get(probe, &Url::parse(url)?, "the list of alerts")
}

/// `GET url` from Alertmanager's API, read as `T`; `what` names `T` for the error.
pub fn alertmanager_get<T: DeserializeOwned>(
    probe: &Probe,
    url: &Url,
    what: &str,
) -> anyhow::Result<T> {
    let answer = probe.get(url)?;
    if answer.status != 200 {
        bail!(
            "GET {url} answered {}: {}",
            answer.status,
            answer.body.trim()
        );
    }
    serde_json::from_str(&answer.body)
        .with_context(|| format!("GET {url}: not {what} Alertmanager's API returns"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_the_api_shape() {
        let json = r#"{"status":"success","data":{"groups":[{"name":"db","file":"/etc/prometheus/rules/db.yml",
            "interval":10,"lastEvaluation":"2024-01-01T00:00:00Z","rules":[{"name":"PostgresDown",
            "query":"pg_up == 0","duration":30,"labels":{"severity":"critical"},"alerts":[{"labels":
            {"alertname":"PostgresDown","severity":"critical"},"state":"pending","activeAt":"x"}],
            "health":"ok","type":"alerting"},{"name":"x:rate","query":"rate(x[5m])","health":"err",
            "lastError":"boom","type":"recording"}]}]}}"#;
        let envelope: Envelope<RulesData> = serde_json::from_str(json).unwrap();
        let groups = envelope.data.unwrap().groups;
        let rule = &groups[0].rules[0];
        assert!(rule.is_alerting());
        assert_eq!(rule.duration, 30.0);
        assert_eq!(rule.alerts[0].key(), r#"PostgresDown{severity="critical"}"#);
        assert!(!rule.alerts[0].is_firing());
        assert_eq!(groups[0].rules[1].last_error.as_deref(), Some("boom"));
    }

    #[test]
    fn heartbeats_are_recognised_by_severity_none() {
        let alert = |severity: &str| Alert {
            labels: [("alertname", "Watchdog"), ("severity", severity)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            state: "firing".into(),
        };
        assert!(alert("none").is_heartbeat());
        assert!(!alert("critical").is_heartbeat());
    }
}
