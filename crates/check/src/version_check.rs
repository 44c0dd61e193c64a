//! Does this sre-check check the challenge the server runs? It compares the embedded challenge
//! version with the one the challenge site publishes (`challenge/manifest.json`), so that a
//! candidate with an old build hears about it from `doctor` or `upload`, with how to update.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, bail};
use sre_model::site;

use crate::content;

/// sre-check's version and the challenge version it embeds, as `--version` prints them.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (challenge ",
    env!("SRE_CHALLENGE_VERSION"),
    ")"
);

/// What the server's site says, compared with the embedded challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Same challenge version.
    Same(String),
    /// The server runs another version: the message says how to update.
    Differs(String),
}

/// Reads the challenge version of the site at `server` (`http(s)://host[/path]`, no trailing
/// slash). An error says why it could not be read.
pub fn server_version(server: &str) -> anyhow::Result<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .user_agent(concat!("sre-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{server}/{}", site::MANIFEST_JSON);
    let response = agent
        .get(&url)
        .call()
        .with_context(|| format!("cannot reach {server}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        bail!("{url} answered {status}: is {server} the challenge site?");
    }
    let mut text = String::new();
    response
        .into_body()
        .into_reader()
        .take(4 << 20)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {url}"))?;
    version_in_manifest(&text).with_context(|| format!("{url} is not a challenge manifest"))
}

fn version_in_manifest(json: &str) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    value["challenge"]["version"]
        .as_str()
        .map(str::to_owned)
        .context("it has no challenge.version")
}

/// Compares `server_version`, published by `server`, with the embedded challenge.
pub fn compare(server: &str, server_version: &str) -> Comparison {
    let embedded = &content::get().manifest.challenge.version;
    if embedded == server_version {
        Comparison::Same(format!("challenge {embedded}, as {server} runs"))
    } else {
        Comparison::Differs(format!(
            "this sre-check ({}) checks challenge {embedded}, but {server} runs challenge \
             {server_version}: update sre-check with `curl -fsSL {server}/install.sh | sh`, then \
             run `sre-check run` again",
            env!("CARGO_PKG_VERSION")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_the_embedded_challenge() {
        let challenge = &content::get().manifest.challenge.version;
        assert!(
            VERSION.ends_with(&format!(" (challenge {challenge})")),
            "{VERSION}"
        );
    }

    #[test]
    fn a_different_server_version_says_how_to_update() {
        let embedded = content::get().manifest.challenge.version.clone();
        assert!(matches!(
            compare("https://c.example", &embedded),
            Comparison::Same(_)
        ));
        let Comparison::Differs(message) = compare("https://c.example", "0.0.1-old") else {
            panic!("a different version must differ");
        };
        assert!(
            message.contains("curl -fsSL https://c.example/install.sh | sh"),
            "{message}"
        );
        assert!(message.contains("challenge 0.0.1-old"), "{message}");
    }

    #[test]
    fn the_version_is_read_from_the_site_manifest() {
        assert_eq!(
            version_in_manifest(r#"{"challenge":{"title":"x","version":"1.2.3"}}"#).ok(),
            Some("1.2.3".to_owned())
        );
        assert!(version_in_manifest(r#"{"challenge":{}}"#).is_err());
        assert!(version_in_manifest("<html>").is_err());
    }
}
