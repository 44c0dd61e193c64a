//! Hints for reviewers about written answers: which parts a reader expects an answer to cover are
//! visibly there (e.g. a rollback plan in the migration plan of topic V).
//!
//! These are hints, never scores: a hint says "the text talks about rollback", not "the rollback
//! plan is good". `sre-check` shows them after the checks of topics V and VI and puts them in the
//! report as signals; `sre-intake` shows them next to the answer on the reviewer's page. Both call
//! [`signals`], so a candidate and a reviewer see the same thing.
//!
//! How a part counts as present, in plain words: either a heading names it and at least
//! [`MIN_SECTION_WORDS`] words follow under that heading, or one of its keywords appears in the
//! text outside headings. Lines copied from what was handed out (the instructions at the top of
//! `feedback.txt`) are ignored, and an unchanged template (headings only) shows nothing.

use std::collections::BTreeSet;

use crate::report::Signal;
use crate::topic::TopicId;

/// A part a reader expects an answer to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedPart {
    /// Short id, stable across versions (it is stored in reports).
    pub id: &'static str,
    /// What the reviewer reads.
    pub label: &'static str,
    /// Lowercase word stems; a keyword of several words matches consecutive words. A stem matches
    /// every word that starts with it ("encrypt" matches "encryption").
    pub keywords: &'static [&'static str],
}

/// Words a heading needs under it before the heading alone counts.
pub const MIN_SECTION_WORDS: usize = 3;

/// What the migration plan of topic V is expected to cover (the topic's README asks for these).
pub const LEADERSHIP: &[ExpectedPart] = &[
    ExpectedPart {
        id: "strategy",
        label: "Strategy",
        keywords: &["strateg", "approach", "vision"],
    },
    ExpectedPart {
        id: "milestones",
        label: "Milestones",
        keywords: &[
            "milestone",
            "phase",
            "timeline",
            "roadmap",
            "week",
            "month",
            "quarter",
            "sprint",
        ],
    },
    ExpectedPart {
        id: "tools",
        label: "Tools",
        keywords: &[
            "tool",
            "terraform",
            "ansible",
            "pgbouncer",
            "pglogical",
            "logical replication",
            "pg dump",
            "pg basebackup",
            "pgbackrest",
            "patroni",
            "debezium",
            "database migration service",
        ],
    },
    ExpectedPart {
        id: "cost",
        label: "Cost",
        keywords: &[
            "cost",
            "budget",
            "pricing",
            "price",
            "spend",
            "tco",
            "reserved instance",
            "saving",
        ],
    },
    ExpectedPart {
        id: "performance",
        label: "Performance",
        keywords: &[
            "performance",
            "latency",
            "throughput",
            "iops",
            "benchmark",
            "p99",
            "p95",
            "qps",
            "tps",
        ],
    },
    ExpectedPart {
        id: "security",
        label: "Security",
        keywords: &[
            "security",
            "secure",
            "encrypt",
            "tls",
            "iam",
            "kms",
            "least privilege",
            "compliance",
            "gdpr",
            "audit",
            "secret",
        ],
    },
    ExpectedPart {
        id: "team",
        label: "Team organisation",
        keywords: &[
            "team",
            "on call",
            "oncall",
            "raci",
            "responsib",
            "owner",
            "roles",
            "staffing",
            "stakeholder",
        ],
    },
    ExpectedPart {
        id: "rollback",
        label: "Risks and rollback",
        keywords: &[
            "rollback",
            "roll back",
            "fallback",
            "fall back",
            "revert",
            "back out",
            "backout",
            "abort",
        ],
    },
    ExpectedPart {
        id: "rpo-rto",
        label: "RPO/RTO",
        keywords: &["rpo", "rto", "recovery point", "recovery time"],
    },
];

/// What feedback on the challenge (topic VI) usually covers; helps a reviewer skim it.
pub const FEEDBACK: &[ExpectedPart] = &[
    ExpectedPart {
        id: "time",
        label: "Time spent",
        keywords: &[
            "hour", "minute", "evening", "weekend", "timebox", "time box", "took me",
        ],
    },
    ExpectedPart {
        id: "difficulty",
        label: "Difficulty",
        keywords: &[
            "difficult",
            "hard",
            "easy",
            "easier",
            "challenging",
            "complex",
            "straightforward",
        ],
    },
    ExpectedPart {
        id: "clarity",
        label: "Clarity of the instructions",
        keywords: &[
            "clear",
            "unclear",
            "confus",
            "instruction",
            "readme",
            "ambigu",
            "understand",
        ],
    },
    ExpectedPart {
        id: "suggestions",
        label: "Suggestions",
        keywords: &[
            "suggest",
            "improve",
            "recommend",
            "could",
            "should",
            "would be",
            "instead",
            "wish",
        ],
    },
    ExpectedPart {
        id: "tooling",
        label: "sre-check and tooling",
        keywords: &["sre check", "checker", "docker", "tooling"],
    },
];

/// The parts expected of a topic's written answer; empty for topics without hints.
pub fn expected_parts(topic: TopicId) -> &'static [ExpectedPart] {
    match topic {
        TopicId::Leadership => LEADERSHIP,
        TopicId::Feedback => FEEDBACK,
        TopicId::Iac | TopicId::Os | TopicId::Monitoring | TopicId::Postgres => &[],
    }
}

/// Which expected parts of `topic` the answer `text` shows, one signal per part, in order.
/// `starter` is what the candidate was handed for this answer (the file's starting content or the
/// slot's template, empty when none): its lines other than headings are instructions, not answer.
pub fn signals(topic: TopicId, text: &str, starter: &str) -> Vec<Signal> {
    let doc = Document::parse(text, starter);
    expected_parts(topic)
        .iter()
        .map(|part| Signal {
            id: part.id.to_owned(),
            label: part.label.to_owned(),
            present: doc.shows(part),
        })
        .collect()
}

/// An answer split into headings (with the number of words under each) and body words.
struct Document {
    sections: Vec<Section>,
    body: Vec<String>,
}

struct Section {
    heading: Vec<String>,
    words_under: usize,
}

impl Document {
    fn parse(text: &str, starter: &str) -> Document {
        let instructions: BTreeSet<&str> = starter
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !is_heading(l))
            .collect();
        let mut sections: Vec<Section> = Vec::new();
        let mut body = Vec::new();
        for line in text.lines() {
            if instructions.contains(line.trim()) {
                continue;
            }
            if is_heading(line) {
                sections.push(Section {
                    heading: words(line),
                    words_under: 0,
                });
                continue;
            }
            let line_words = words(line);
            if let Some(section) = sections.last_mut() {
                section.words_under += line_words.len();
            }
            body.extend(line_words);
        }
        Document { sections, body }
    }

    fn shows(&self, part: &ExpectedPart) -> bool {
        let in_heading = self.sections.iter().any(|s| {
            s.words_under >= MIN_SECTION_WORDS
                && part.keywords.iter().any(|k| mentions(&s.heading, k))
        });
        in_heading || part.keywords.iter().any(|k| mentions(&self.body, k))
    }
}

/// A markdown ATX heading (`## Strategy`), a line that is only bold text (`**Strategy**`), or
/// what plain-text answers use as headings: a short label line (`Rollback plan:`) or a short line
/// in capitals (`TEAM`). Underlines and rules (`---`, `===`) carry no words and count as nothing.
fn is_heading(line: &str) -> bool {
    let t = line.trim();
    let atx = t.starts_with('#') && t.trim_start_matches('#').starts_with([' ', '\t']);
    let bold = t.len() > 4
        && ((t.starts_with("**") && t.ends_with("**"))
            || (t.starts_with("__") && t.ends_with("__")));
    let short = t.split_whitespace().count() <= 8;
    let label = short && t.ends_with(':');
    let capitals = short
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && !t.chars().any(|c| c.is_ascii_lowercase());
    atx || bold || label || capitals
}

/// Lowercase words of ASCII letters and digits; everything else separates words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether the consecutive words of `keyword` start consecutive words of `text`.
fn mentions(text: &[String], keyword: &str) -> bool {
    let stems: Vec<&str> = keyword.split(' ').collect();
    text.windows(stems.len())
        .any(|window| window.iter().zip(&stems).all(|(w, s)| w.starts_with(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "# Migrating the PostgreSQL database to the cloud\n\n## Strategy\n\n\
        ## Milestones\n\n## Tools\n\n## Justification: cost, performance, security\n\n\
        ## Team organisation\n\n## Risks and rollback\n";

    fn present(topic: TopicId, text: &str) -> Vec<String> {
        signals(topic, text, TEMPLATE)
            .into_iter()
            .filter(|s| s.present)
            .map(|s| s.id)
            .collect()
    }

    #[test]
    fn an_unchanged_template_shows_nothing() {
        assert_eq!(present(TopicId::Leadership, TEMPLATE), Vec::<String>::new());
        assert_eq!(
            signals(TopicId::Leadership, TEMPLATE, "").len(),
            LEADERSHIP.len()
        );
        assert_eq!(
            signals(TopicId::Leadership, TEMPLATE, "")
                .iter()
                .filter(|s| s.present)
                .count(),
            0
        );
    }

    #[test]
    fn the_manifest_template_of_topic_v_shows_nothing() {
        let manifest = crate::Manifest::from_toml(include_str!("../../../content/challenge.toml"))
            .expect("content/challenge.toml is valid");
        let template = manifest
            .slot("leadership")
            .and_then(|(_, slot)| slot.template.clone())
            .expect("topic V has a template");
        assert_eq!(
            present(TopicId::Leadership, &template),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_filled_heading_counts_and_an_empty_one_does_not() {
        let text = format!("{TEMPLATE}\n").replace(
            "## Tools\n",
            "## Tools\nNative logical replication and PgBouncer in front.\n",
        );
        assert_eq!(present(TopicId::Leadership, &text), ["tools"]);
        let short = TEMPLATE.replace("## Risks and rollback\n", "## Risks and rollback\nTBD\n");
        assert_eq!(present(TopicId::Leadership, &short), Vec::<String>::new());
    }

    #[test]
    fn keywords_in_plain_text_count_without_headings() {
        let text = "We keep the old primary as a subscriber so we can roll back. \
                    Target RPO is zero and the recovery time is 15 minutes. \
                    All links use TLS.";
        assert_eq!(
            present(TopicId::Leadership, text),
            ["security", "rollback", "rpo-rto"]
        );
    }

    #[test]
    fn plain_text_headings_are_recognised() {
        let text = "Strategy:\nmove in three steps behind a pooler\n\n\
                    TEAM\n----\ntwo pairs plus a lead\n\n**Performance**\nread replicas near users\n";
        assert_eq!(
            present(TopicId::Leadership, text),
            ["strategy", "performance", "team"]
        );
    }

    #[test]
    fn stems_match_word_starts_only() {
        assert!(mentions(&words("Encryption at rest"), "encrypt"));
        assert!(!mentions(&words("decrypted"), "encrypt"));
        assert!(mentions(&words("we will roll-back"), "roll back"));
        assert!(!mentions(&words("roll the back"), "roll back"));
    }

    #[test]
    fn feedback_hints_and_topics_without_hints() {
        let text = "It took me about six hours. The README was clear, but I would suggest \
                    fewer Docker rebuilds.";
        assert_eq!(
            present(TopicId::Feedback, text),
            ["time", "clarity", "suggestions", "tooling"]
        );
        assert!(signals(TopicId::Iac, text, "").is_empty());
    }

    #[test]
    fn handed_out_instructions_are_not_the_answer() {
        let starter = "How would you improve this challenge?\nWrite your answer below this line. \
                       Everything helps: what was unclear, too long, too easy, or missing.\n---\n";
        assert_eq!(
            signals(TopicId::Feedback, starter, starter)
                .iter()
                .filter(|s| s.present)
                .count(),
            0
        );
        let answer = format!("{starter}It took me five hours.\n");
        assert_eq!(
            signals(TopicId::Feedback, &answer, starter)
                .into_iter()
                .filter(|s| s.present)
                .map(|s| s.id)
                .collect::<Vec<_>>(),
            ["time"]
        );
    }
}
