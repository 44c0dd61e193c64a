//! Links from a check's evidence to the submitted files it names: `infrastructure/playbook.yml:17`
//! (also `path:line:column`, `(path:line)` and a bare `path`) becomes a link to that file and
//! line in the Work page. Only paths of the submission's files are links; the rest stays text.

use leptos::prelude::*;

use super::super::nav::{WorkQuery, work_href};

/// A piece of evidence: text, or a place in a submitted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Plain text.
    Text(&'a str),
    /// A submitted file, as the evidence names it.
    Place {
        /// The file's path.
        path: &'a str,
        /// The line, when the evidence names one.
        line: Option<u32>,
        /// The text that names it (`path:line`).
        shown: &'a str,
    },
}

/// The evidence cut into text and places of `files` (paths of submitted files). A path counts
/// only as a whole: not inside a longer path or word (`a.yml` in `infra/a.yml` or `a.yml.bak`).
pub fn pieces<'a>(evidence: &'a str, files: &'a [String]) -> Vec<Piece<'a>> {
    let mut found: Vec<(usize, usize, &'a str, Option<u32>)> = Vec::new();
    for path in files.iter().filter(|p| !p.is_empty()) {
        for (start, _) in evidence.match_indices(path.as_str()) {
            let end = start + path.len();
            if !starts_alone(evidence, start) || !ends_alone(evidence, end) {
                continue;
            }
            let (line, end) = line_after(evidence, end);
            found.push((start, end, path, line));
        }
    }
    // Leftmost first, the longest of those starting at the same place.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut pieces = Vec::new();
    let mut at = 0;
    for (start, end, path, line) in found {
        if start < at {
            continue;
        }
        if start > at {
            pieces.push(Piece::Text(&evidence[at..start]));
        }
        pieces.push(Piece::Place {
            path,
            line,
            shown: &evidence[start..end],
        });
        at = end;
    }
    if at < evidence.len() {
        pieces.push(Piece::Text(&evidence[at..]));
    }
    pieces
}

/// A character that continues a path or a word.
fn in_path(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~' | '+' | '@')
}

fn starts_alone(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !in_path(c))
}

/// After the path: the end, or a character that cannot continue it; a `.` only when it ends a
/// sentence (no letter or digit after it).
fn ends_alone(text: &str, end: usize) -> bool {
    let mut rest = text[end..].chars();
    match rest.next() {
        None => true,
        Some('.') => rest.next().is_none_or(|c| !c.is_alphanumeric()),
        Some(c) => !in_path(c),
    }
}

/// `:<line>` (with an optional `:<column>`) right after a path: the line and the end of it all.
fn line_after(text: &str, end: usize) -> (Option<u32>, usize) {
    let Some(rest) = text[end..].strip_prefix(':') else {
        return (None, end);
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let Some(line) = rest[..digits].parse().ok().filter(|&n| n > 0) else {
        return (None, end);
    };
    let mut stop = end + 1 + digits;
    let after = &text[stop..];
    if let Some(column) = after.strip_prefix(':') {
        let digits = column.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            stop += 1 + digits;
        }
    }
    (Some(line), stop)
}

/// Where a check's evidence links to: one submission's files on the Work page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceLinks {
    /// The candidate's server id.
    pub candidate: String,
    /// The submission's digest.
    pub submission: String,
    /// Its files' paths.
    pub files: Vec<String>,
}

/// Evidence as text, with the places it names of submitted files as links (text nodes and
/// anchors only: never HTML).
pub fn evidence_view(evidence: &str, links: Option<&EvidenceLinks>) -> AnyView {
    let Some(links) = links else {
        return evidence.to_owned().into_any();
    };
    pieces(evidence, &links.files)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_owned().into_any(),
            Piece::Place { path, line, shown } => {
                let href = work_href(
                    &links.candidate,
                    &WorkQuery {
                        submission: Some(links.submission.clone()),
                        file: Some(path.to_owned()),
                        line,
                    },
                );
                view! { <a class="evidence-link" href=href>{shown.to_owned()}</a> }.into_any()
            }
        })
        .collect_view()
        .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<String> {
        [
            "infrastructure/playbook.yml",
            "playbook.yml",
            ".github/workflows/release.yml",
            "postgres/solution.sql",
        ]
        .map(String::from)
        .to_vec()
    }

    fn places(evidence: &str) -> Vec<(String, Option<u32>, String)> {
        let files = files();
        pieces(evidence, &files)
            .into_iter()
            .filter_map(|p| match p {
                Piece::Place { path, line, shown } => {
                    Some((path.to_owned(), line, shown.to_owned()))
                }
                Piece::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn the_checkers_forms_become_places() {
        assert_eq!(
            places("infrastructure/playbook.yml:12: fqcn[action-core]: Use FQCN"),
            [(
                "infrastructure/playbook.yml".to_owned(),
                Some(12),
                "infrastructure/playbook.yml:12".to_owned()
            )]
        );
        assert_eq!(
            places(".github/workflows/release.yml:7:5: unknown key"),
            [(
                ".github/workflows/release.yml".to_owned(),
                Some(7),
                ".github/workflows/release.yml:7:5".to_owned()
            )]
        );
        assert_eq!(
            places("A2 (postgres/solution.sql:3): no answer"),
            [(
                "postgres/solution.sql".to_owned(),
                Some(3),
                "postgres/solution.sql:3".to_owned()
            )]
        );
        assert_eq!(
            places("applied `postgres/solution.sql`."),
            [(
                "postgres/solution.sql".to_owned(),
                None,
                "postgres/solution.sql".to_owned()
            )]
        );
    }

    #[test]
    fn a_path_inside_another_is_not_a_place() {
        let found =
            places("see infrastructure/playbook.yml:3 and playbook.yml.bak and xplaybook.yml");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "infrastructure/playbook.yml");
        assert_eq!(
            places("playbook.yml:0 here"),
            [("playbook.yml".to_owned(), None, "playbook.yml".to_owned())]
        );
    }

    #[test]
    fn the_pieces_give_back_the_evidence() {
        let evidence = "ok: playbook.yml:1\nfail: infrastructure/playbook.yml:20: x\n";
        let files = files();
        let joined: String = pieces(evidence, &files)
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t,
                Piece::Place { shown, .. } => shown,
            })
            .collect();
        assert_eq!(joined, evidence);
        assert_eq!(pieces("", &files), []);
    }
}
