//! Line diffs of a submitted file against its starter, for the reviewer's Work page: the hunks of
//! a unified diff (3 lines of context, unchanged runs between hunks folded away), as data the
//! viewer shows as text.

use std::time::Duration;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Lines of unchanged context around each change.
pub const CONTEXT: usize = 3;

/// Longest the diff algorithm may search for the smallest diff; after that it settles for a
/// correct but larger one (a hostile pair of files must not hold a request).
const DEADLINE: Duration = Duration::from_millis(500);

/// A file's diff against its starter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Size of the starter file.
    pub starter_bytes: usize,
    /// The changed regions, in file order; none when the texts are equal.
    pub hunks: Vec<Hunk>,
}

/// One region of changes with its context, as in a unified diff's `@@ -a,b +c,d @@`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// First starter line of the hunk (1-based; with no starter lines, the line before it).
    pub old_start: usize,
    /// Starter lines in the hunk.
    pub old_lines: usize,
    /// First submitted line of the hunk (as `old_start`).
    pub new_start: usize,
    /// Submitted lines in the hunk.
    pub new_lines: usize,
    /// Its lines.
    pub lines: Vec<Line>,
}

/// A line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// `context`, `add` or `remove`.
    pub op: &'static str,
    /// Its number in the starter (1-based), unless added.
    pub old: Option<usize>,
    /// Its number in the submitted file (1-based), unless removed.
    pub new: Option<usize>,
    /// The line without its line ending.
    pub text: String,
}

/// The diff from `starter` to `submitted`.
pub fn unified(starter: &str, submitted: &str) -> FileDiff {
    let diff = TextDiff::configure()
        .timeout(DEADLINE)
        .diff_lines(starter, submitted);
    let hunks = diff
        .grouped_ops(CONTEXT)
        .iter()
        .filter_map(|ops| {
            let (first, last) = (ops.first()?, ops.last()?);
            let old = first.old_range().start..last.old_range().end;
            let new = first.new_range().start..last.new_range().end;
            let lines = ops
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| Line {
                    op: match change.tag() {
                        ChangeTag::Equal => "context",
                        ChangeTag::Insert => "add",
                        ChangeTag::Delete => "remove",
                    },
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: strip_line_ending(change.value()).to_owned(),
                })
                .collect();
            Some(Hunk {
                old_start: start(&old),
                old_lines: old.len(),
                new_start: start(&new),
                new_lines: new.len(),
                lines,
            })
        })
        .collect();
    FileDiff {
        starter_bytes: starter.len(),
        hunks,
    }
}

/// A unified diff's start line: 1-based, or the line before an empty range.
fn start(range: &std::ops::Range<usize>) -> usize {
    if range.is_empty() {
        range.start
    } else {
        range.start + 1
    }
}

fn strip_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_a_hunk_with_three_lines_of_context() {
        let old: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let diff = unified(&old, &new);
        assert_eq!(diff.starter_bytes, old.len());
        assert_eq!(diff.hunks.len(), 1, "{diff:?}");
        let hunk = &diff.hunks[0];
        assert_eq!(
            (
                hunk.old_start,
                hunk.old_lines,
                hunk.new_start,
                hunk.new_lines
            ),
            (7, 7, 7, 7)
        );
        let ops: Vec<&str> = hunk.lines.iter().map(|l| l.op).collect();
        assert_eq!(
            ops,
            [
                "context", "context", "context", "remove", "add", "context", "context", "context"
            ]
        );
        assert_eq!(hunk.lines[3].text, "line 10");
        assert_eq!((hunk.lines[3].old, hunk.lines[3].new), (Some(10), None));
        assert_eq!((hunk.lines[4].old, hunk.lines[4].new), (None, Some(10)));
        assert_eq!(hunk.lines[4].text, "line ten");
    }

    #[test]
    fn distant_changes_are_separate_hunks_and_equal_texts_have_none() {
        let old: String = (1..=40).map(|n| format!("{n}\n")).collect();
        let new = old.replace("\n5\n", "\nfive\n").replace("\n35\n", "\n");
        let diff = unified(&old, &new);
        assert_eq!(diff.hunks.len(), 2, "{diff:?}");
        assert_eq!(diff.hunks[1].new_lines + 1, diff.hunks[1].old_lines);
        assert!(unified(&old, &old).hunks.is_empty());
    }

    #[test]
    fn a_file_emptied_or_grown_from_nothing_has_unified_start_lines() {
        let grown = unified("", "a\nb\n");
        assert_eq!(
            (
                grown.hunks[0].old_start,
                grown.hunks[0].old_lines,
                grown.hunks[0].new_start
            ),
            (0, 0, 1)
        );
        let emptied = unified("a\r\nb\n", "");
        assert_eq!(emptied.hunks[0].lines[0].text, "a");
        assert_eq!(
            (emptied.hunks[0].new_start, emptied.hunks[0].new_lines),
            (0, 0)
        );
    }
}
