//! What Alertmanager's receivers do: a receiver notifies someone only through its integrations
//! (`webhook_configs`, `email_configs`, `pagerduty_configs`…). An alert routed only to receivers
//! without one reaches Alertmanager and goes nowhere, which is no page at all.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::http::{Probe, Url};
use super::prometheus::alertmanager_get;
use crate::yaml::{self, Node};

/// The integrations of each receiver of the loaded configuration, by receiver name: the kinds of
/// its non-empty `*_configs` lists (`webhook_configs`…), none for a receiver that notifies nobody.
pub type Integrations = BTreeMap<String, Vec<String>>;

#[derive(Deserialize)]
struct Status {
    config: StatusConfig,
}

#[derive(Deserialize)]
struct StatusConfig {
    original: String,
}

/// Reads the configuration Alertmanager runs with (`/api/v2/status`), given its
/// `/api/v2/alerts` URL as Prometheus lists it.
pub fn loaded(probe: &Probe, alerts_url: &str) -> anyhow::Result<Integrations> {
    let url = Url::parse(alerts_url)?;
    let path = url
        .path
        .strip_suffix("/alerts")
        .map(|base| format!("{base}/status"))
        .unwrap_or_else(|| "/api/v2/status".to_owned());
    let status: Status = alertmanager_get(probe, &url.with_path(&path), "the status")?;
    Ok(integrations(&status.config.original))
}

/// The receivers of an Alertmanager configuration with their integrations.
pub fn integrations(config_yaml: &str) -> Integrations {
    let root = yaml::parse(config_yaml).ok();
    let receivers = root
        .as_ref()
        .and_then(Node::as_mapping)
        .and_then(|r| r.get_seq("receivers"));
    let mut out = Integrations::new();
    for receiver in receivers.into_iter().flatten() {
        let Some(receiver) = receiver.as_mapping() else {
            continue;
        };
        let Some(name) = receiver.get("name").and_then(Node::as_str) else {
            continue;
        };
        let kinds = receiver
            .entries()
            .filter(|(_, v)| v.as_seq().is_some_and(|s| !s.is_empty()))
            .filter_map(|(k, _)| k.as_str())
            .filter(|k| k.ends_with("_configs"))
            .map(str::to_owned)
            .collect();
        out.insert(name.to_owned(), kinds);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_without_configs_have_no_integration() {
        let config = "route:\n  receiver: tickets\nreceivers:\n- name: pager\n  webhook_configs:\n  - url: http://pager.invalid/\n    send_resolved: true\n- name: tickets\n- name: mail\n  email_configs: []\n  slack_configs:\n  - channel: '#sre'\n";
        let found = integrations(config);
        assert_eq!(found["pager"], ["webhook_configs"]);
        assert!(found["tickets"].is_empty());
        assert_eq!(found["mail"], ["slack_configs"]);
    }
}
