//! The challenge as the build step published it (see `sre_model::site`): the part of the manifest
//! the site shows.
//!
//! `sre_model::Manifest` is the schema and `cargo xtask render` writes it as JSON with serde. The
//! site reads only what it shows, with miniserde: serde_json would cost about 20 KB gzip of wasm
//! (serde-wasm-bindgen about 18 KB), miniserde about 7 KB, because it does not stamp out generic
//! code per type. A native test checks that this view reads the JSON the build step writes.

use std::sync::Arc;

use sre_model::{TopicId, site};

use crate::fetch::{LoadError, fetch_text};

/// What the site shows of the challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The site title.
    pub title: String,
    /// The topics, in challenge order.
    pub topics: Vec<TopicSummary>,
}

/// What the site shows of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSummary {
    /// Stable id, used in routes.
    pub id: TopicId,
    /// Position, 1 to 6.
    pub number: u8,
    /// Human title.
    pub title: String,
    /// One sentence: what the candidate shows in this topic.
    pub objective: String,
}

impl Challenge {
    /// The topic with this id.
    pub fn topic(&self, id: TopicId) -> Option<&TopicSummary> {
        self.topics.iter().find(|t| t.id == id)
    }
}

impl TopicSummary {
    /// The number as the challenge writes it: I to VI.
    pub fn roman(&self) -> &'static str {
        const ROMAN: [&str; 7] = ["?", "I", "II", "III", "IV", "V", "VI"];
        ROMAN.get(usize::from(self.number)).copied().unwrap_or("?")
    }
}

/// The fields of `challenge/manifest.json` the site reads; miniserde ignores the others.
mod json {
    #[derive(miniserde::Deserialize)]
    pub struct Manifest {
        pub challenge: Challenge,
        #[serde(rename = "topic")]
        pub topics: Vec<Topic>,
    }

    #[derive(miniserde::Deserialize)]
    pub struct Challenge {
        pub title: String,
    }

    #[derive(miniserde::Deserialize)]
    pub struct Topic {
        pub id: String,
        pub number: u8,
        pub title: String,
        pub objective: String,
    }
}

/// Reads the manifest JSON; the error says what is wrong with it.
pub fn parse_manifest(text: &str) -> Result<Challenge, String> {
    let manifest: json::Manifest = miniserde::json::from_str(text)
        .map_err(|_| "not a challenge manifest (rebuild the site with `trunk build`)".to_owned())?;
    let topics = manifest
        .topics
        .into_iter()
        .map(|t| {
            Ok(TopicSummary {
                id: t.id.parse().map_err(|e| format!("{e}"))?,
                number: t.number,
                title: t.title,
                objective: t.objective,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Challenge {
        title: manifest.challenge.title,
        topics,
    })
}

/// Fetches and reads `challenge/manifest.json`.
pub async fn load_manifest() -> Result<Arc<Challenge>, LoadError> {
    let url = site::MANIFEST_JSON.to_owned();
    let text = fetch_text(url.clone()).await?;
    parse_manifest(&text)
        .map(Arc::new)
        .map_err(|reason| LoadError { url, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON exactly as `cargo xtask render` writes it, from the real manifest.
    fn published_json() -> (sre_model::Manifest, String) {
        let toml = include_str!("../content/challenge.toml");
        let manifest =
            sre_model::Manifest::from_toml(toml).expect("content/challenge.toml is valid");
        let json = serde_json::to_string(&manifest).expect("the manifest serializes");
        (manifest, json)
    }

    #[test]
    fn reads_the_manifest_the_build_step_writes() {
        let (manifest, json) = published_json();
        let challenge = parse_manifest(&json).expect("the site reads it");
        assert_eq!(challenge.title, manifest.challenge.title);
        assert_eq!(challenge.topics.len(), manifest.topics.len());
        for (seen, topic) in challenge.topics.iter().zip(&manifest.topics) {
            assert_eq!(seen.id, topic.id);
            assert_eq!(seen.number, topic.number);
            assert_eq!(seen.title, topic.title);
            assert_eq!(seen.objective, topic.objective);
            assert_eq!(seen.roman(), topic.roman());
        }
    }

    #[test]
    fn rejects_what_is_not_a_manifest() {
        assert!(parse_manifest("<html>").is_err());
        assert!(parse_manifest("{}").is_err());
        let (_, json) = published_json();
        let err = parse_manifest(&json.replacen("\"iac\"", "\"k8s\"", 1)).expect_err("unknown id");
        assert!(err.contains("k8s"), "{err}");
    }
}
