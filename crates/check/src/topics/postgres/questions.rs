//! postgres.md: is every question answered?
//!
//! People read the answers; the tool only looks for gaps. The questions are the `### A1. …`
//! headings of the handed-out postgres.md; an answer is whatever the candidate wrote between a
//! question's heading and the next question (or part) heading. A question left empty is the one
//! thing that fails: it is unambiguous, and the candidate can fix it in a minute (the handed-out
//! file says a one-line "skipped, because …" is enough). Which questions are answered is also
//! reported as signals. Whether the analysis names the views an investigation of this incident
//! usually reads is a reviewer-only aid of the manifest (the slot's `signals`), computed in the
//! reviewer view, never here.

use std::fmt::Write as _;

use crate::runner::Verdict;

/// A question of the handed-out file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// `A1`, `B3`.
    pub id: String,
    /// The heading as handed out.
    pub heading: String,
}

/// What the candidate wrote for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Words under the heading, and the heading's line number (1-based).
    Written {
        /// Line of the heading.
        line: usize,
        /// Words in the answer.
        words: usize,
    },
    /// The heading is there, nothing under it.
    Empty {
        /// Line of the heading.
        line: usize,
    },
    /// The heading is gone.
    HeadingMissing,
}

/// The questions of a postgres.md: headings whose first word is an id such as `A1.`.
pub fn questions(template: &str) -> Vec<Question> {
    template
        .lines()
        .filter_map(|line| {
            let (_, text) = heading(line)?;
            Some(Question {
                id: question_id(text)?,
                heading: line.trim().to_owned(),
            })
        })
        .collect()
}

/// Finds each question's answer in `text`.
pub fn answers(questions: &[Question], text: &str) -> Vec<Answer> {
    let lines: Vec<&str> = text.lines().collect();
    // Where each question's heading is, and where sections end: at any question heading or any
    // heading of level 1 or 2 (the parts). Deeper headings inside an answer belong to it.
    let heading_of = |line: &str| -> Option<(usize, Option<String>)> {
        let (level, text) = heading(line)?;
        Some((level, question_id(text)))
    };
    questions
        .iter()
        .map(|q| {
            let Some(start) = lines.iter().position(|l| {
                heading_of(l).is_some_and(|(_, id)| id.as_deref() == Some(q.id.as_str()))
            }) else {
                return Answer::HeadingMissing;
            };
            let words: usize = lines[start + 1..]
                .iter()
                .take_while(|l| match heading_of(l) {
                    Some((level, id)) => id.is_none() && level > 2,
                    None => true,
                })
                .map(|l| l.split_whitespace().filter(|w| is_word(w)).count())
                .sum();
            if words == 0 {
                Answer::Empty { line: start + 1 }
            } else {
                Answer::Written {
                    line: start + 1,
                    words,
                }
            }
        })
        .collect()
}

/// The verdict: every question has an answer.
pub fn verdict(file: &str, questions: &[Question], answers: &[Answer]) -> Verdict {
    let mut summary = String::new();
    let mut gaps = 0;
    for (q, a) in questions.iter().zip(answers) {
        let _ = match a {
            Answer::Written { line, words } => {
                writeln!(summary, "{} ({file}:{line}): {words} words", q.id)
            }
            Answer::Empty { line } => {
                gaps += 1;
                writeln!(summary, "{} ({file}:{line}): no answer", q.id)
            }
            Answer::HeadingMissing => {
                gaps += 1;
                writeln!(
                    summary,
                    "{}: heading not found (expected a heading like `{}`)",
                    q.id, q.heading
                )
            }
        };
    }
    let summary = summary.trim_end();
    if gaps == 0 {
        return Verdict::pass(format!(
            "{} of {} questions answered:\n{summary}",
            questions.len(),
            questions.len()
        ));
    }
    Verdict::fail(
        format!(
            "{} of {} questions have no answer (expected text under every question heading):\n{summary}",
            gaps,
            questions.len()
        ),
        format!(
            "The questions of {file} listed above have nothing under their heading (reviewers find \
             answers by the `### A1. …` headings): postgres/README.md, \"Part A\" task 2 and \
             \"Part B\" task 3 ask for them; one line saying that you skipped it and why is an \
             answer too."
        ),
    )
}

/// A Markdown ATX heading: its level and its text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    let rest = &trimmed[level..];
    (level > 0 && level <= 6 && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim()))
}

/// `A1` from `A1. Why was…` (also `A1:`, `A1)` or a bare `A1`).
fn question_id(heading_text: &str) -> Option<String> {
    let first = heading_text.split_whitespace().next()?;
    let id = first.trim_end_matches(['.', ':', ')']);
    let mut chars = id.chars();
    let letter = chars.next()?;
    let digits: String = chars.collect();
    (letter.is_ascii_uppercase()
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit()))
    .then(|| id.to_owned())
}

/// Something a person wrote: at least one letter or digit (not a lone `-` or `>`).
fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "# Answers\n\nIntro text.\n\n## Part A\n\n### A1. First?\n\n\
                            ### A2. Second?\n\n## Part B\n\n### B1. Third?\n";

    #[test]
    fn the_handed_out_file_has_the_questions_of_the_readme() {
        let handed_out = crate::content::file("postgres/postgres.md")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .expect("postgres.md is embedded");
        let ids: Vec<String> = questions(&handed_out).into_iter().map(|q| q.id).collect();
        assert_eq!(ids, ["A1", "A2", "B1", "B2", "B3", "B4", "B5", "B6"]);
        // Handed out, every question is empty.
        let qs = questions(&handed_out);
        assert!(
            answers(&qs, &handed_out)
                .iter()
                .all(|a| matches!(a, Answer::Empty { .. }))
        );
    }

    #[test]
    fn answers_end_at_the_next_question_or_part_and_keep_their_subheadings() {
        let qs = questions(TEMPLATE);
        let text = "# Answers\n\n## Part A\n\n### A1. First?\n\n#### Query 1\nAn index.\n\n\
                    ### A2. Second?\n-\n\n## Part B\n\nPart B intro is not an answer to A2.\n";
        let found = answers(&qs, text);
        assert_eq!(
            found,
            [
                Answer::Written { line: 5, words: 4 },
                Answer::Empty { line: 10 },
                Answer::HeadingMissing
            ]
        );
    }

    #[test]
    fn headings_may_change_their_wording_but_keep_the_id() {
        let qs = questions(TEMPLATE);
        let text = "### A1: my own title\nyes\n### A2) other\nyes\n## B1 Third\nyes";
        assert!(
            answers(&qs, text)
                .iter()
                .all(|a| matches!(a, Answer::Written { .. }))
        );
    }

    #[test]
    fn an_empty_question_fails_with_its_line_and_a_full_file_passes() {
        let qs = questions(TEMPLATE);
        let text = "### A1. First?\nyes\n### A2. Second?\n\n### B1. Third?\nyes\n";
        let Verdict::Fail { evidence, hint } =
            verdict("postgres/postgres.md", &qs, &answers(&qs, text))
        else {
            panic!("an empty question must fail")
        };
        assert!(
            evidence.contains("A2 (postgres/postgres.md:3): no answer"),
            "{evidence}"
        );
        assert!(hint.contains("one line saying that you skipped it"));
        let full = "### A1. First?\nyes\n### A2. Second?\nskipped: no time\n### B1. Third?\nyes\n";
        assert!(matches!(
            verdict("postgres/postgres.md", &qs, &answers(&qs, full)),
            Verdict::Pass { .. }
        ));
    }
}
