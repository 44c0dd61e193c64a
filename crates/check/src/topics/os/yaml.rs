//! The candidate's YAML with line numbers, so every finding can name `file:line`.
//!
//! A file that does not parse is the candidate's problem (a `fail` quoting the parser); the one
//! thing the reader cannot do, YAML anchors, is sre-check's limit and is reported as such.

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, Node, Span};
use marked_yaml::{LoadError, LoaderOptions};

/// A parsed YAML file whose top level is a mapping.
pub struct YamlFile {
    /// Path relative to the working copy, as shown in evidence.
    pub path: String,
    /// The top-level mapping.
    pub root: MarkedMappingNode,
}

/// Why a file could not be read as YAML.
pub enum ParseFailure {
    /// The file is not valid YAML, or its top level is not a mapping: `file:line:col: message`.
    Invalid(String),
    /// Valid YAML that sre-check's reader does not support (anchors and aliases).
    Unsupported(String),
}

/// Parses `text`, read from `path`. Duplicate keys are an error, as they are for GitHub.
pub fn parse(path: &str, text: &str) -> Result<YamlFile, ParseFailure> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    match marked_yaml::parse_yaml_with_options(0, text, options) {
        Ok(Node::Mapping(root)) => Ok(YamlFile {
            path: path.to_owned(),
            root,
        }),
        Ok(_) => Err(ParseFailure::Invalid(format!(
            "{path}:1: the top level must be a mapping (`on:`, `jobs:` …)"
        ))),
        Err(LoadError::UnexpectedAnchor(mark)) => Err(ParseFailure::Unsupported(format!(
            "{path}:{}: sre-check cannot read YAML anchors (&name / *name); write the values out \
             to have this file checked",
            mark.line()
        ))),
        Err(e) => Err(ParseFailure::Invalid(format!("{path}:{e}"))),
    }
}

impl YamlFile {
    /// `path:line` of a node.
    pub fn at(&self, span: &Span) -> String {
        format!("{}:{}", self.path, line(span))
    }

    /// `path:line` of the byte `offset` inside a scalar: exact for block scalars (`run: |`).
    pub fn at_offset(&self, scalar: &MarkedScalarNode, offset: usize) -> String {
        let before = scalar.as_str().get(..offset).unwrap_or_default();
        let extra = before.matches('\n').count();
        format!("{}:{}", self.path, line(scalar.span()) + extra)
    }
}

/// The 1-based line where a node starts (0 when unknown).
pub fn line(span: &Span) -> usize {
    span.start().map_or(0, |m| m.line())
}

/// Every scalar value under `node` (not mapping keys), in document order.
pub fn scalars(node: &Node) -> Vec<&MarkedScalarNode> {
    let mut out = Vec::new();
    collect_scalars(node, &mut out);
    out
}

fn collect_scalars<'a>(node: &'a Node, out: &mut Vec<&'a MarkedScalarNode>) {
    match node {
        Node::Scalar(s) => out.push(s),
        Node::Sequence(seq) => seq.iter().for_each(|n| collect_scalars(n, out)),
        Node::Mapping(map) => map.values().for_each(|n| collect_scalars(n, out)),
    }
}

/// The text of a scalar node, if `node` is one.
pub fn text(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_scalar).map(MarkedScalarNode::as_str)
}

/// Every `${{ … }}` expression in `text`, with its byte offset. An unclosed one runs to the end.
pub fn expressions(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(start) = text.get(rest..).and_then(|t| t.find("${{")) {
        let open = rest + start;
        let inner_start = open + 3;
        let end = text
            .get(inner_start..)
            .and_then(|t| t.find("}}"))
            .map_or(text.len(), |e| inner_start + e);
        found.push((open, text.get(inner_start..end).unwrap_or_default().trim()));
        rest = (end + 2).min(text.len());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> YamlFile {
        match parse("w.yml", text) {
            Ok(f) => f,
            Err(ParseFailure::Invalid(m) | ParseFailure::Unsupported(m)) => panic!("{m}"),
        }
    }

    #[test]
    fn lines_inside_block_scalars_are_exact() {
        let file = parsed("jobs:\n  a:\n    run: |\n      echo one\n      echo two\n");
        let run = file
            .root
            .get_mapping("jobs")
            .and_then(|j| j.get_mapping("a"))
            .and_then(|a| a.get_scalar("run"))
            .expect("run");
        let offset = run.as_str().find("two").expect("two");
        assert_eq!(file.at_offset(run, offset), "w.yml:5");
        assert_eq!(file.at(run.span()), "w.yml:4");
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let Err(ParseFailure::Invalid(m)) = parse("w.yml", "on: push\njobs: [\n") else {
            panic!("expected invalid");
        };
        assert!(m.starts_with("w.yml:"), "{m}");
        let Err(ParseFailure::Invalid(m)) = parse("w.yml", "a: 1\na: 2\n") else {
            panic!("expected a duplicate key error");
        };
        assert!(m.contains("Duplicate key"), "{m}");
        assert!(matches!(
            parse("w.yml", "a: &x 1\nb: *x\n"),
            Err(ParseFailure::Unsupported(_))
        ));
        assert!(matches!(
            parse("w.yml", "- a\n"),
            Err(ParseFailure::Invalid(_))
        ));
    }

    #[test]
    fn expressions_are_found_with_offsets() {
        let text = "echo ${{ matrix.codename }} ${{github.event.issue.title}} ${{ broken";
        let found = expressions(text);
        assert_eq!(
            found.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            ["matrix.codename", "github.event.issue.title", "broken"]
        );
        assert_eq!(found[0].0, 5);
    }
}
