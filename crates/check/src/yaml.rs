//! The checker's one YAML reader: a tree that remembers the line and column of every node, so
//! every finding can name `file:line`.
//!
//! Built on yaml-rust2's event parser. Two sets of rules, because the files differ in what their
//! own tools accept:
//! - [`Rules::Lenient`] (playbooks, Prometheus and Compose files): tags are kept on their node
//!   (`!vault |`, the way to keep a password out of plain text, `!unsafe`), an alias is replaced
//!   by a copy of its anchored node, the last of repeated keys wins (as in Ansible), and a second
//!   document is an error with its line.
//! - [`Rules::Strict`] (GitHub Actions files): plain data only. Repeated keys, tags and keys that
//!   are not plain values are errors, as they are for GitHub; anchors are sre-check's limit
//!   ([`ErrorKind::Unsupported`]); only the first document is read.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node of a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Line where the node starts, from 1. For a block scalar (`run: |`), the line of its first
    /// line of text.
    pub line: usize,
    /// Column where the node starts, from 1.
    pub column: usize,
    /// The tag written on the node (`!vault`), if any.
    pub tag: Option<String>,
    /// What the node holds.
    pub value: Value,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A scalar as written; `plain` when it was not quoted (only plain scalars can be null or a
    /// boolean in YAML).
    Scalar {
        /// The text.
        text: String,
        /// Whether it was written without quotes or block indicators.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order. Keys are usually scalars (always, under [`Rules::Strict`]).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The text of a scalar node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The text of a scalar node, empty for a sequence or a mapping: for mapping keys, which are
    /// scalars in every file the checker reads with [`Rules::Strict`].
    pub fn text(&self) -> &str {
        self.as_str().unwrap_or_default()
    }

    /// This node, if it is a scalar.
    pub fn as_scalar(&self) -> Option<&Node> {
        matches!(self.value, Value::Scalar { .. }).then_some(self)
    }

    /// This node, if it is a mapping.
    pub fn as_mapping(&self) -> Option<&Node> {
        matches!(self.value, Value::Map(_)).then_some(self)
    }

    /// The items of a sequence node.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping node.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entries of a mapping node as `(key, value)` pairs; none for anything else.
    pub fn entries(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k, v))
    }

    /// The keys of a mapping node.
    pub fn keys(&self) -> impl Iterator<Item = &Node> {
        self.entries().map(|(k, _)| k)
    }

    /// The values of a mapping node.
    pub fn values(&self) -> impl Iterator<Item = &Node> {
        self.entries().map(|(_, v)| v)
    }

    /// The value of `key` in a mapping node; with a repeated key the last one wins, as in Ansible.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value of `key` in a mapping node (the key carries the line of the key).
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of `key`, if it is a mapping.
    pub fn get_mapping(&self, key: &str) -> Option<&Node> {
        self.get(key)?.as_mapping()
    }

    /// The value of `key`, if it is a scalar.
    pub fn get_scalar(&self, key: &str) -> Option<&Node> {
        self.get(key)?.as_scalar()
    }

    /// The items of the value of `key`, if it is a sequence.
    pub fn get_seq(&self, key: &str) -> Option<&[Node]> {
        self.get(key)?.as_seq()
    }

    /// Whether this is a null: an empty plain scalar, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A short name of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "nothing (null)",
            Value::Scalar { .. } => "a single value",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Every scalar value under this node (not mapping keys), in document order.
    pub fn scalars(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        self.collect_scalars(&mut out);
        out
    }

    fn collect_scalars<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match &self.value {
            Value::Scalar { .. } => out.push(self),
            Value::Seq(items) => items.iter().for_each(|n| n.collect_scalars(out)),
            Value::Map(entries) => entries.iter().for_each(|(_, v)| v.collect_scalars(out)),
        }
    }

    fn null(line: usize, column: usize) -> Node {
        Node {
            line,
            column,
            tag: None,
            value: Value::Scalar {
                text: String::new(),
                plain: true,
            },
        }
    }
}

/// A parsed file with its path, to name `path:line` in findings.
#[derive(Debug, Clone)]
pub struct YamlFile {
    /// Path relative to the working copy, as shown in evidence.
    pub path: String,
    /// The document.
    pub root: Node,
}

impl YamlFile {
    /// `path:line` of a node.
    pub fn at(&self, node: &Node) -> String {
        format!("{}:{}", self.path, node.line)
    }

    /// `path:line` of the byte `offset` inside a scalar: exact for block scalars (`run: |`).
    pub fn at_offset(&self, scalar: &Node, offset: usize) -> String {
        let before = scalar.text().get(..offset).unwrap_or_default();
        let extra = before.matches('\n').count();
        format!("{}:{}", self.path, scalar.line + extra)
    }
}

/// Which YAML a file may hold; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Tags kept, aliases resolved, the last repeated key wins, one document.
    Lenient,
    /// Plain data only: no tags, anchors, repeated or complex keys; the first document is read.
    Strict,
}

/// Why a text could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid YAML, or breaks the [`Rules`] of its file: the author's problem.
    Invalid,
    /// Valid YAML that the checker cannot read (anchors under [`Rules::Strict`]).
    Unsupported,
}

/// Why a text is not a YAML document the checker can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line of the problem, from 1.
    pub line: usize,
    /// Column of the problem, from 1.
    pub column: usize,
    /// The parser's message.
    pub message: String,
    /// Whose problem it is.
    pub kind: ErrorKind,
}

impl std::error::Error for ParseError {}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses a text holding one YAML document under [`Rules::Lenient`]. An empty text is a null
/// document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    parse_with(text, Rules::Lenient)
}

/// Parses a text holding one YAML document under `rules`. An empty text is a null document.
pub fn parse_with(text: &str, rules: Rules) -> Result<Node, ParseError> {
    let mut builder = Builder {
        rules,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, rules == Rules::Lenient)
        .map_err(|e| ParseError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_owned(),
            kind: ErrorKind::Invalid,
        })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder
        .documents
        .into_iter()
        .next()
        .unwrap_or(Node::null(1, 1)))
}

/// A collection being read.
#[derive(Debug)]
struct Open {
    node: Node,
    anchor: usize,
    /// For a mapping: the key read, waiting for its value.
    key: Option<Node>,
}

/// Turns parser events into [`Node`]s.
#[derive(Debug)]
struct Builder {
    rules: Rules,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    error: Option<ParseError>,
}

impl Builder {
    fn fail(&mut self, mark: Marker, kind: ErrorKind, message: String) {
        self.error.get_or_insert(ParseError {
            line: mark.line(),
            column: mark.col() + 1,
            message,
            kind,
        });
    }

    /// Under [`Rules::Strict`], refuses what GitHub does not accept (tags) and what the checker
    /// cannot read (anchors). Returns whether the node may be read.
    fn allowed(&mut self, anchor: usize, tag: Option<&Tag>, mark: Marker) -> bool {
        if self.rules == Rules::Lenient {
            return true;
        }
        if anchor != 0 {
            self.fail(
                mark,
                ErrorKind::Unsupported,
                "sre-check cannot read YAML anchors (&name / *name); write the values out to \
                 have this file checked"
                    .to_owned(),
            );
        } else if tag.is_some() {
            self.fail(
                mark,
                ErrorKind::Invalid,
                "unexpected YAML tag (`!name`): this file holds plain values".to_owned(),
            );
        }
        self.error.is_none()
    }

    /// A complete node: into its parent, or as a document.
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let strict = self.rules == Rules::Strict;
        let Some(parent) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        let mut problem = None;
        match &mut parent.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match parent.key.take() {
                Some(key) => entries.push((key, node)),
                None if strict && node.as_str().is_none() => {
                    problem = Some((node, "keys in mappings must be plain values".to_owned()));
                }
                None => {
                    let earlier = entries.iter().find(|(k, _)| k.as_str() == node.as_str());
                    if let Some((first, _)) = earlier.filter(|_| strict) {
                        let message = format!(
                            "Duplicate key \"{}\" in mapping at {}:{} and {}:{}",
                            node.text(),
                            first.line,
                            first.column,
                            node.line,
                            node.column
                        );
                        problem = Some((node, message));
                    } else {
                        parent.key = Some(node);
                    }
                }
            },
            Value::Scalar { .. } => {}
        }
        if let Some((node, message)) = problem {
            self.error.get_or_insert(ParseError {
                line: node.line,
                column: node.column,
                message,
                kind: ErrorKind::Invalid,
            });
        }
    }

    fn open(&mut self, value: Value, anchor: usize, tag: Option<&Tag>, mark: Marker) {
        if !self.allowed(anchor, tag, mark) {
            return;
        }
        self.stack.push(Open {
            node: Node {
                line: mark.line(),
                column: mark.col() + 1,
                tag: tag.map(tag_text),
                value,
            },
            anchor,
            key: None,
        });
    }

    fn close(&mut self) {
        if let Some(open) = self.stack.pop() {
            self.complete(open.node, open.anchor);
        }
    }
}

fn tag_text(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::DocumentStart if !self.documents.is_empty() => self.fail(
                mark,
                ErrorKind::Invalid,
                "a second YAML document starts here; the file holds one document".to_owned(),
            ),
            Event::Scalar(text, style, anchor, tag) => {
                if !self.allowed(anchor, tag.as_ref(), mark) {
                    return;
                }
                let node = Node {
                    line: mark.line(),
                    column: mark.col() + 1,
                    tag: tag.as_ref().map(tag_text),
                    value: Value::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                };
                self.complete(node, anchor);
            }
            Event::Alias(anchor) => {
                let node = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .unwrap_or(Node::null(mark.line(), mark.col() + 1));
                self.complete(node, 0);
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(Value::Seq(Vec::new()), anchor, tag.as_ref(), mark);
            }
            Event::MappingStart(anchor, tag) => {
                self.open(Value::Map(Vec::new()), anchor, tag.as_ref(), mark);
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_their_lines() {
        let doc = parse("---\n- name: one\n  hosts: all\n  tasks:\n    - name: t\n").unwrap();
        let plays = doc.as_seq().unwrap();
        assert_eq!(plays[0].line, 2);
        let (key, hosts) = plays[0].get_entry("hosts").unwrap();
        assert_eq!((key.line, hosts.as_str()), (3, Some("all")));
        assert_eq!((key.column, hosts.column), (3, 10));
        let task = &plays[0].get("tasks").unwrap().as_seq().unwrap()[0];
        assert_eq!(task.line, 5);
    }

    #[test]
    fn lines_inside_block_scalars_are_exact() {
        let file = YamlFile {
            path: "w.yml".to_owned(),
            root: parse_with(
                "jobs:\n  a:\n    run: |\n      echo one\n      echo two\n",
                Rules::Strict,
            )
            .unwrap(),
        };
        let run = file
            .root
            .get_mapping("jobs")
            .and_then(|j| j.get_mapping("a"))
            .and_then(|a| a.get_scalar("run"))
            .expect("run");
        let offset = run.text().find("two").expect("two");
        assert_eq!(file.at_offset(run, offset), "w.yml:5");
        assert_eq!(file.at(run), "w.yml:4");
    }

    #[test]
    fn tags_are_kept_and_aliases_resolved() {
        let doc = parse(
            "a: &who deploy\nb: *who\npassword: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
        )
        .unwrap();
        assert_eq!(doc.get("b").and_then(Node::as_str), Some("deploy"));
        let password = doc.get("password").unwrap();
        assert_eq!(password.tag.as_deref(), Some("!vault"));
        assert!(!password.is_null());
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        let doc = parse("become: true\nbecome: false\n").unwrap();
        assert_eq!(doc.get("become").and_then(Node::as_str), Some("false"));
    }

    #[test]
    fn strict_rules_refuse_repeats_tags_complex_keys_and_anchors() {
        let err = parse_with("a: 1\nb: 2\na: 3\n", Rules::Strict).unwrap_err();
        assert_eq!((err.line, err.kind), (3, ErrorKind::Invalid), "{err}");
        assert!(err.message.contains("Duplicate key \"a\""), "{err}");
        assert!(err.message.contains("1:1 and 3:1"), "{err}");
        let err = parse_with("a: !x 1\n", Rules::Strict).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
        let err = parse_with("? [a]\n: 1\n", Rules::Strict).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
        let err = parse_with("a: 1\nb: &x 1\nc: *x\n", Rules::Strict).unwrap_err();
        assert_eq!((err.line, err.kind), (2, ErrorKind::Unsupported), "{err}");
        // A second document is not read.
        assert!(parse_with("a: 1\n---\nb: [\n", Rules::Strict).is_ok());
    }

    #[test]
    fn broken_yaml_is_an_error_with_its_line() {
        let err = parse("- name: x\n  tasks: [\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
        assert!(!err.message.is_empty());
        let err = parse("a: 1\n\tb: 2\n").unwrap_err();
        assert!(err.message.contains("tab"), "{err}");
    }

    #[test]
    fn a_second_document_is_an_error_not_a_crash() {
        let err = parse("---\n- a: 1\n---\n- b: 2\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("second YAML document"), "{err}");
    }

    #[test]
    fn an_empty_text_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
        assert!(parse("---\n").unwrap().is_null());
        assert!(!parse("'~'").unwrap().is_null());
    }

    #[test]
    fn scalars_are_listed_in_document_order() {
        let doc = parse("a: [x, {b: y}]\nc: z\n").unwrap();
        let texts: Vec<&str> = doc.scalars().iter().map(|n| n.text()).collect();
        assert_eq!(texts, ["x", "y", "z"]);
    }
}
