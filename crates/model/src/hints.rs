//! Hints for reviewers about written answers: which parts a reader expects an answer to cover are
//! visibly there (e.g. a rollback plan in the migration plan of topic V).
//!
//! What each answer is expected to cover is data: the `signals` of its answer slot in
//! `content/challenge.toml`. These are hints, never scores: a hint says "the text talks about
//! rollback", not "the rollback plan is good". `sre-check` shows them after a topic's checks and
//! puts them in the report as signals; `sre-intake` shows them next to the answer on the
//! reviewer's page. Both call [`signals`], so a candidate and a reviewer see the same thing.
//!
//! How a part counts as present, in plain words: either a heading names it and at least
//! [`MIN_SECTION_WORDS`] words follow under that heading, or one of its keywords appears in the
//! text outside headings. Lines copied from what was handed out (the instructions at the top of
//! `feedback.txt`) are ignored, and an unchanged template (headings only) shows nothing.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::report::Signal;

/// A part a reader expects an answer to cover, declared in the manifest next to its answer slot
/// (`[[topic.answers.signals]]`): data the hiring team edits, not code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPart {
    /// Short id, stable across versions (it is stored in reports).
    pub id: String,
    /// What the reviewer reads.
    pub label: String,
    /// Who sees it: `reviewer` for an aid that would hand over the answer (it is then computed
    /// only in the reviewer view), `candidate` for one `sre-check run` may show.
    pub audience: crate::Audience,
    /// Lowercase word stems; a keyword of several words matches consecutive words. A stem matches
    /// every word that starts with it ("encrypt" matches "encryption").
    pub keywords: Vec<String>,
}

impl ExpectedPart {
    /// Checks what matching relies on: a slot-style id, a label, and keywords made of lowercase
    /// ASCII letters and digits separated by single spaces.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.label.trim().is_empty() {
            return Err(format!("signal `{}` has an empty label", self.id));
        }
        if self.keywords.is_empty() {
            return Err(format!(
                "signal `{}` has no keywords: give at least one",
                self.id
            ));
        }
        for keyword in &self.keywords {
            let words_only = keyword.split(' ').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            if !words_only {
                return Err(format!(
                    "signal `{}`: keyword `{keyword}` must be lowercase words of a-z and 0-9 \
                     separated by single spaces (punctuation never matches)",
                    self.id
                ));
            }
        }
        Ok(())
    }
}

/// Words a heading needs under it before the heading alone counts.
pub const MIN_SECTION_WORDS: usize = 3;

/// Which of `parts` the answer `text` shows, one signal per part, in order (none when `parts` is
/// empty). `starter` is what the candidate was handed for this answer (the file's starting content
/// or the slot's template, empty when none): its lines other than headings are instructions, not
/// answer.
pub fn signals(parts: &[ExpectedPart], text: &str, starter: &str) -> Vec<Signal> {
    if parts.is_empty() {
        return Vec::new();
    }
    let doc = Document::parse(text, starter);
    parts
        .iter()
        .map(|part| Signal {
            id: part.id.clone(),
            label: part.label.clone(),
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

    /// The expected parts of a slot of the real manifest.
    fn parts(slot: &str) -> Vec<ExpectedPart> {
        let manifest = crate::Manifest::from_toml(include_str!("../../../content/challenge.toml"))
            .expect("content/challenge.toml is valid");
        manifest
            .slot(slot)
            .map(|(_, s)| s.signals.clone())
            .unwrap_or_default()
    }

    fn present(slot: &str, text: &str) -> Vec<String> {
        signals(&parts(slot), text, TEMPLATE)
            .into_iter()
            .filter(|s| s.present)
            .map(|s| s.id)
            .collect()
    }

    #[test]
    fn an_unchanged_template_shows_nothing() {
        assert_eq!(present("leadership", TEMPLATE), Vec::<String>::new());
        assert_eq!(
            signals(&parts("leadership"), TEMPLATE, "").len(),
            parts("leadership").len()
        );
        assert_eq!(
            signals(&parts("leadership"), TEMPLATE, "")
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
        assert_eq!(present("leadership", &template), Vec::<String>::new());
    }

    #[test]
    fn a_filled_heading_counts_and_an_empty_one_does_not() {
        let text = format!("{TEMPLATE}\n").replace(
            "## Tools\n",
            "## Tools\nNative logical replication and PgBouncer in front.\n",
        );
        assert_eq!(present("leadership", &text), ["tools"]);
        let short = TEMPLATE.replace("## Risks and rollback\n", "## Risks and rollback\nTBD\n");
        assert_eq!(present("leadership", &short), Vec::<String>::new());
    }

    #[test]
    fn keywords_in_plain_text_count_without_headings() {
        let text = "We keep the old primary as a subscriber so we can roll back. \
                    Target RPO is zero and the recovery time is 15 minutes. \
                    All links use TLS.";
        assert_eq!(present("leadership", text), ["security", "rollback"]);
    }

    #[test]
    fn plain_text_headings_are_recognised() {
        let text = "Strategy:\nmove in three steps behind a pooler\n\n\
                    TEAM\n----\ntwo pairs plus a lead\n\n**Performance**\nread replicas near users\n";
        assert_eq!(
            present("leadership", text),
            ["strategy", "performance", "team"]
        );
    }

    #[test]
    fn the_postgres_aids_find_views_in_any_case_and_spelling() {
        let text = "SELECT * FROM PG_STAT_ACTIVITY; then pg_blocking_pids(pid) showed the lock.";
        assert_eq!(
            signals(&parts("postgres"), text, "")
                .into_iter()
                .filter(|s| s.present)
                .map(|s| s.id)
                .collect::<Vec<_>>(),
            ["pg-stat-activity", "pg-locks"]
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
    fn topics_without_aids_get_none() {
        let text = "It took me about six hours. The README was clear, but I would suggest \
                    fewer Docker rebuilds.";
        assert!(signals(&parts("feedback"), text, "").is_empty());
        assert!(signals(&parts("os"), text, "").is_empty());
    }

    /// An aid made up for tests that do not depend on the manifest's wording.
    fn time_part() -> ExpectedPart {
        ExpectedPart {
            id: "time".into(),
            label: "Time spent".into(),
            audience: crate::Audience::Reviewer,
            keywords: vec!["hour".into(), "took me".into()],
        }
    }

    #[test]
    fn the_iac_explanation_shows_what_it_mentions_of_the_cause() {
        let good = "The apt task ran as deploy. apt-get could not open the lock file \
                    /var/lib/dpkg/lock-frontend (13: Permission denied) because only root may. \
                    I added `become: true` to the tasks that need privilege escalation.";
        assert_eq!(
            present("infra", good),
            ["permission", "root", "become", "escalation", "lock"]
        );
        assert_eq!(
            present("infra", "We used chroot and a blocker."),
            Vec::<String>::new()
        );
        assert_eq!(
            present(
                "infra",
                "Root's tasks became clear; escalating helps; unlocked"
            ),
            ["root", "escalation"]
        );
    }

    #[test]
    fn handed_out_instructions_are_not_the_answer() {
        let starter = "How would you improve this challenge?\nWrite your answer below this line. \
                       Everything helps: what was unclear, too long, too easy, or missing.\n---\n";
        assert_eq!(
            signals(&[time_part()], starter, starter)
                .iter()
                .filter(|s| s.present)
                .count(),
            0
        );
        let answer = format!("{starter}It took me five hours.\n");
        assert!(
            starter.contains("too long"),
            "the starter mentions no time itself"
        );
        assert_eq!(
            signals(&[time_part()], &answer, starter)
                .into_iter()
                .filter(|s| s.present)
                .map(|s| s.id)
                .collect::<Vec<_>>(),
            ["time"]
        );
    }
}
