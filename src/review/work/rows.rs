//! The rows a file viewer shows: a diff's hunks with the unchanged runs between them folded (as
//! the server folds them) or filled in from the submitted file, and a whole text with line
//! numbers. Plain data, so that it is tested without a browser.

use super::data::{Diff, Hunk};

/// What a row of a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// In both files.
    Context,
    /// Only in the submitted file.
    Add,
    /// Only in the starter.
    Remove,
}

impl Op {
    fn parse(op: &str) -> Op {
        match op {
            "add" => Op::Add,
            "remove" => Op::Remove,
            _ => Op::Context,
        }
    }

    /// The row's CSS class, which colours it.
    pub fn class(self) -> &'static str {
        match self {
            Op::Context => "context",
            Op::Add => "add",
            Op::Remove => "remove",
        }
    }

    /// The sign a unified diff writes before the line (so that it does not rely on colour).
    pub fn sign(self) -> &'static str {
        match self {
            Op::Context => " ",
            Op::Add => "+",
            Op::Remove => "-",
        }
    }
}

/// A row of the viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row<'a> {
    /// A hunk's header, `@@ -a,b +c,d @@`.
    Header(String),
    /// This many unchanged lines, folded away.
    Fold(u64),
    /// A line, with its numbers in the starter and the submitted file.
    Line {
        /// What it is.
        op: Op,
        /// Its number in the starter.
        old: Option<u64>,
        /// Its number in the submitted file.
        new: Option<u64>,
        /// Its text.
        text: &'a str,
    },
}

/// The lines of a text as the server counts them: split at `\n`, without a last empty line after
/// a final newline.
pub fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// Every line of a text with its number (a new file).
pub fn text_rows(text: &str) -> Vec<Row<'_>> {
    lines(text)
        .into_iter()
        .zip(1..)
        .map(|(text, n)| Row::Line {
            op: Op::Context,
            old: None,
            new: Some(n),
            text,
        })
        .collect()
}

/// The rows of a diff. `whole`: the unchanged runs between and around hunks are shown, taken from
/// `text` (the submitted file, whose unchanged lines are the starter's), and hunk headers left
/// out; otherwise each run is one fold row. Without `text`, runs stay folded.
pub fn diff_rows<'a>(diff: &'a Diff, text: Option<&'a str>, whole: bool) -> Vec<Row<'a>> {
    let submitted = text.map(lines);
    let fill = if whole { submitted.as_deref() } else { None };
    let mut rows = Vec::new();
    // The next line after what the rows cover so far, in each file.
    let (mut old, mut new) = (1, 1);
    for hunk in &diff.hunks {
        let (first_old, first_new) = first_lines(hunk, old, new);
        let gap = first_new.saturating_sub(new);
        unchanged(&mut rows, fill, gap, old, new);
        if fill.is_none() {
            rows.push(Row::Header(format!(
                "@@ -{},{} +{},{} @@",
                hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines
            )));
        }
        (old, new) = (first_old, first_new);
        for line in &hunk.lines {
            rows.push(Row::Line {
                op: Op::parse(&line.op),
                old: line.old,
                new: line.new,
                text: &line.text,
            });
            if let Some(n) = line.old {
                old = n + 1;
            }
            if let Some(n) = line.new {
                new = n + 1;
            }
        }
    }
    if let Some(submitted) = &submitted {
        let after = (submitted.len() as u64 + 1).saturating_sub(new);
        unchanged(&mut rows, fill, after, old, new);
    }
    rows
}

/// Where a hunk starts in each file: the number of its first line that has one, or, for a hunk
/// without lines of one side, the line after what was covered (the run before it is then counted
/// on the other side).
fn first_lines(hunk: &Hunk, old: u64, new: u64) -> (u64, u64) {
    let first_old = hunk.lines.iter().find_map(|l| l.old);
    let first_new = hunk.lines.iter().find_map(|l| l.new);
    match (first_old, first_new) {
        (Some(o), Some(n)) => (o, n),
        (Some(o), None) => (o, new + o.saturating_sub(old)),
        (None, Some(n)) => (old + n.saturating_sub(new), n),
        (None, None) => (old, new),
    }
}

/// `count` unchanged lines from `old`/`new` on: filled in from `fill`, or one fold row.
fn unchanged<'a>(
    rows: &mut Vec<Row<'a>>,
    fill: Option<&[&'a str]>,
    count: u64,
    old: u64,
    new: u64,
) {
    if count == 0 {
        return;
    }
    let Some(fill) = fill else {
        rows.push(Row::Fold(count));
        return;
    };
    for i in 0..count {
        let text = usize::try_from(new + i - 1)
            .ok()
            .and_then(|at| fill.get(at))
            .copied()
            .unwrap_or_default();
        rows.push(Row::Line {
            op: Op::Context,
            old: Some(old + i),
            new: Some(new + i),
            text,
        });
    }
}

/// Whether a line of the submitted file is among the rows.
pub fn shows_line(rows: &[Row<'_>], line: u64) -> bool {
    rows.iter()
        .any(|r| matches!(r, Row::Line { new: Some(n), .. } if *n == line))
}

#[cfg(test)]
mod tests {
    use super::super::data::DiffLine;
    use super::*;

    fn line(op: &str, old: Option<u64>, new: Option<u64>, text: &str) -> DiffLine {
        DiffLine {
            op: op.to_owned(),
            old,
            new,
            text: text.to_owned(),
        }
    }

    /// starter 1..=10 ("l1".."l10"); submitted: line 2 changed, line 9 removed.
    fn sample() -> (Diff, String) {
        let submitted = "l1\nL2\nl3\nl4\nl5\nl6\nl7\nl8\nl10\n".to_owned();
        let diff = Diff {
            starter_bytes: 31,
            hunks: vec![
                Hunk {
                    old_start: 1,
                    old_lines: 5,
                    new_start: 1,
                    new_lines: 5,
                    lines: vec![
                        line("context", Some(1), Some(1), "l1"),
                        line("remove", Some(2), None, "l2"),
                        line("add", None, Some(2), "L2"),
                        line("context", Some(3), Some(3), "l3"),
                        line("context", Some(4), Some(4), "l4"),
                        line("context", Some(5), Some(5), "l5"),
                    ],
                },
                Hunk {
                    old_start: 6,
                    old_lines: 5,
                    new_start: 6,
                    new_lines: 4,
                    lines: vec![
                        line("context", Some(6), Some(6), "l6"),
                        line("context", Some(7), Some(7), "l7"),
                        line("context", Some(8), Some(8), "l8"),
                        line("remove", Some(9), None, "l9"),
                        line("context", Some(10), Some(9), "l10"),
                    ],
                },
            ],
        };
        (diff, submitted)
    }

    #[test]
    fn folded_rows_have_headers_and_no_gap_between_touching_hunks() {
        let (diff, text) = sample();
        let rows = diff_rows(&diff, Some(&text), false);
        assert_eq!(rows[0], Row::Header("@@ -1,5 +1,5 @@".to_owned()));
        assert!(!rows.iter().any(|r| matches!(r, Row::Fold(_))), "{rows:?}");
        assert_eq!(
            rows.iter().filter(|r| matches!(r, Row::Header(_))).count(),
            2
        );
    }

    #[test]
    fn runs_between_and_after_hunks_fold_or_fill_in() {
        // submitted has 20 lines; one change at line 10.
        let text: String = (1..=20).map(|n| format!("s{n}\n")).collect();
        let diff = Diff {
            starter_bytes: 0,
            hunks: vec![Hunk {
                old_start: 7,
                old_lines: 7,
                new_start: 7,
                new_lines: 7,
                lines: (7..=13)
                    .map(|n| {
                        let op = if n == 10 { "add" } else { "context" };
                        let old = (n != 10).then_some(if n < 10 { n } else { n - 1 });
                        line(op, old, Some(n), &format!("s{n}"))
                    })
                    .collect(),
            }],
        };
        let folded = diff_rows(&diff, Some(&text), false);
        assert_eq!(folded[0], Row::Fold(6));
        assert_eq!(folded.last(), Some(&Row::Fold(7)));
        assert!(!shows_line(&folded, 3));
        let whole = diff_rows(&diff, Some(&text), true);
        let new_side: Vec<&str> = whole
            .iter()
            .filter_map(|r| match r {
                Row::Line {
                    new: Some(_), text, ..
                } => Some(*text),
                _ => None,
            })
            .collect();
        assert_eq!(new_side, lines(&text));
        let numbers: Vec<(Option<u64>, Option<u64>)> = whole
            .iter()
            .filter_map(|r| match r {
                Row::Line { old, new, .. } => Some((*old, *new)),
                _ => None,
            })
            .collect();
        assert_eq!(numbers[0], (Some(1), Some(1)));
        assert_eq!(numbers[9], (None, Some(10)));
        assert_eq!(numbers[19], (Some(19), Some(20)));
        assert!(shows_line(&whole, 3));
    }

    #[test]
    fn text_rows_number_every_line() {
        let rows = text_rows("a\n\nb");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[2],
            Row::Line {
                op: Op::Context,
                old: None,
                new: Some(3),
                text: "b"
            }
        );
        assert!(text_rows("").is_empty());
    }
}
