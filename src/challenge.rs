//! The challenge as the build step published it (see `sre_model::site`): the part of the manifest
//! the site shows, and the text each answer editor starts with.
//!
//! `sre_model::Manifest` is the schema and `cargo xtask render` writes it as JSON with serde. The
//! site reads only what it shows, with miniserde: serde_json would cost about 20 KB gzip of wasm
//! (serde-wasm-bindgen about 18 KB), miniserde about 7 KB, because it does not stamp out generic
//! code per type. A native test checks that this view reads the JSON the build step writes.
//!
//! Both JSON documents are inlined in every page by `cargo xtask pages`, so the app starts
//! without a request (see [`crate::boot`]).

use std::collections::BTreeMap;

use sre_model::TopicId;

/// What the site shows of the challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The site title.
    pub title: String,
    /// `MAJOR.MINOR.PATCH`, part of the starter kit's name.
    pub version: String,
    /// The topics, in challenge order.
    pub topics: Vec<TopicSummary>,
}

/// What the site shows of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSummary {
    /// Stable id, used in routes.
    pub id: TopicId,
    /// Position in the challenge, from 1.
    pub number: u8,
    /// Human title.
    pub title: String,
    /// One sentence: what the candidate shows in this topic.
    pub objective: String,
    /// Evaluation criteria: name and one-line description.
    pub criteria: Vec<(String, String)>,
    /// Files handed out for this topic, relative to the content root.
    pub files: Vec<String>,
    /// The written answers of this topic.
    pub slots: Vec<Slot>,
}

/// A written answer the candidate gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Short id, e.g. `infra` (storage keys, `PUT /api/v1/answers/{id}`).
    pub id: String,
    /// What the answer is about.
    pub title: String,
    /// The file the challenge expects it in, e.g. `infrastructure/infra.txt` (exports use it).
    pub file: String,
    /// Markdown answers get a preview; text answers do not.
    pub markdown: bool,
    /// The text the editor starts with (handed-out file, template or nothing).
    pub start: String,
}

impl Challenge {
    /// The topic with this id.
    pub fn topic(&self, id: &TopicId) -> Option<&TopicSummary> {
        self.topics.iter().find(|t| t.id == *id)
    }

    /// Every answer slot, in challenge order.
    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.topics.iter().flat_map(|t| t.slots.iter())
    }
}

impl TopicSummary {
    /// The number as the challenge writes it, a Roman numeral.
    pub fn roman(&self) -> String {
        sre_model::topic::roman_numeral(self.number)
    }
}

impl Slot {
    /// Whether `text` says more than the starting text: not blank, and not the starting text
    /// (ignoring spaces at the ends of lines and of the text).
    pub fn is_answered(&self, text: &str) -> bool {
        !text.trim().is_empty() && normalized(text) != normalized(&self.start)
    }
}

fn normalized(text: &str) -> Vec<&str> {
    text.trim().lines().map(str::trim_end).collect()
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
        pub version: String,
    }

    #[derive(miniserde::Deserialize)]
    pub struct Topic {
        pub id: String,
        pub number: u8,
        pub title: String,
        pub objective: String,
        pub criteria: Vec<Criterion>,
        pub files: Vec<String>,
        pub answers: Vec<Slot>,
    }

    #[derive(miniserde::Deserialize)]
    pub struct Criterion {
        pub name: String,
        pub description: String,
    }

    #[derive(miniserde::Deserialize)]
    pub struct Slot {
        pub id: String,
        pub title: String,
        pub files: Vec<String>,
        pub format: String,
    }
}

/// Reads the manifest JSON and the starting texts JSON (`{"<slot>": "<text>"}`); the error says
/// what is wrong with them.
pub fn parse(manifest: &str, starting_texts: &str) -> Result<Challenge, String> {
    const REBUILD: &str = "(rebuild the site with `trunk build`)";
    let manifest: json::Manifest = miniserde::json::from_str(manifest)
        .map_err(|_| format!("not a challenge manifest {REBUILD}"))?;
    let mut starts: BTreeMap<String, String> = miniserde::json::from_str(starting_texts)
        .map_err(|_| format!("the starting texts of the answers are not readable {REBUILD}"))?;
    let topics = manifest
        .topics
        .into_iter()
        .map(|t| {
            let slots = t
                .answers
                .into_iter()
                .map(|s| Slot {
                    start: starts.remove(&s.id).unwrap_or_default(),
                    file: s.files.into_iter().next().unwrap_or_default(),
                    markdown: s.format == "markdown",
                    id: s.id,
                    title: s.title,
                })
                .collect();
            Ok(TopicSummary {
                id: t.id.parse().map_err(|e| format!("{e}"))?,
                number: t.number,
                title: t.title,
                objective: t.objective,
                criteria: t
                    .criteria
                    .into_iter()
                    .map(|c| (c.name, c.description))
                    .collect(),
                files: t.files,
                slots,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Challenge {
        title: manifest.challenge.title,
        version: manifest.challenge.version,
        topics,
    })
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

    const STARTS: &str = r##"{"feedback":"What would you change?\n","leadership":"# Plan\n"}"##;

    #[test]
    fn reads_the_manifest_the_build_step_writes() {
        let (manifest, json) = published_json();
        let challenge = parse(&json, STARTS).expect("the site reads it");
        assert_eq!(challenge.title, manifest.challenge.title);
        assert_eq!(challenge.version, manifest.challenge.version);
        assert_eq!(challenge.topics.len(), manifest.topics.len());
        for (seen, topic) in challenge.topics.iter().zip(&manifest.topics) {
            assert_eq!(seen.id, topic.id);
            assert_eq!(seen.number, topic.number);
            assert_eq!(seen.title, topic.title);
            assert_eq!(seen.objective, topic.objective);
            assert_eq!(seen.roman(), topic.roman());
            assert_eq!(seen.files, topic.files);
            let criteria: Vec<(&str, &str)> = topic
                .criteria
                .iter()
                .map(|c| (c.name.as_str(), c.description.as_str()))
                .collect();
            let seen_criteria: Vec<(&str, &str)> = seen
                .criteria
                .iter()
                .map(|(n, d)| (n.as_str(), d.as_str()))
                .collect();
            assert_eq!(seen_criteria, criteria);
            assert_eq!(seen.slots.len(), topic.answers.len());
            for (slot, answer) in seen.slots.iter().zip(&topic.answers) {
                assert_eq!(slot.id, answer.id);
                assert_eq!(slot.title, answer.title);
                assert_eq!(slot.file, answer.canonical_file());
                assert_eq!(
                    slot.markdown,
                    answer.format == sre_model::manifest::AnswerFormat::Markdown
                );
            }
        }
        let feedback = challenge.slots().find(|s| s.id == "feedback");
        assert_eq!(
            feedback.map(|s| s.start.as_str()),
            Some("What would you change?\n")
        );
    }

    #[test]
    fn rejects_what_is_not_a_manifest() {
        assert!(parse("<html>", "{}").is_err());
        assert!(parse("{}", "{}").is_err());
        let (_, json) = published_json();
        assert!(parse(&json, "[]").is_err());
        let err = parse(&json.replacen("\"iac\"", "\"K8s!\"", 1), "{}").expect_err("bad id");
        assert!(err.contains("K8s!"), "{err}");
    }

    #[test]
    fn an_answer_is_written_once_it_says_more_than_its_starting_text() {
        let slot = Slot {
            id: "leadership".into(),
            title: String::new(),
            file: String::new(),
            markdown: true,
            start: "# Plan\n\n## Strategy\n".into(),
        };
        assert!(!slot.is_answered(""));
        assert!(!slot.is_answered("  \n\t"));
        assert!(!slot.is_answered("# Plan\n\n## Strategy\n"));
        assert!(!slot.is_answered("# Plan  \n\n## Strategy"));
        assert!(slot.is_answered("# Plan\n\n## Strategy\nLift and shift.\n"));
        assert!(slot.is_answered("Something else"));
    }
}
