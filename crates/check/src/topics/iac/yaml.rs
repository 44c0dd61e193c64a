//! A YAML tree that remembers the line of every node, for "file:line" evidence.
//!
//! Built on yaml-rust2's event parser rather than `marked-yaml`, because playbooks legitimately use
//! what `marked-yaml` 0.8 rejects or cannot survive: tags (`!vault |`, the way to keep a password out
//! of plain text, and `!unsafe`), anchors and aliases; and a second YAML document makes its loader
//! panic. Here a tag is kept on its node, an alias is replaced by a copy of its anchored node, and a
//! second document is an error with its line, as Ansible reports it.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node of a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Line where the node starts, from 1.
    pub line: usize,
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
    /// A mapping, in file order. Keys are usually scalars.
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
}

/// Why a text is not a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line of the problem, from 1.
    pub line: usize,
    /// Column of the problem, from 1.
    pub column: usize,
    /// The parser's message.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses a text holding one YAML document. An empty text is a null document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| ParseError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.documents.into_iter().next().unwrap_or(Node {
        line: 1,
        tag: None,
        value: Value::Scalar {
            text: String::new(),
            plain: true,
        },
    }))
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
#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    error: Option<ParseError>,
}

impl Builder {
    /// A complete node: into its parent, or as a document.
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        match &mut parent.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match parent.key.take() {
                Some(key) => entries.push((key, node)),
                None => parent.key = Some(node),
            },
            Value::Scalar { .. } => {}
        }
    }

    fn open(&mut self, value: Value, anchor: usize, tag: Option<String>, mark: Marker) {
        self.stack.push(Open {
            node: Node {
                line: mark.line(),
                tag,
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

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::DocumentStart if !self.documents.is_empty() => {
                self.error = Some(ParseError {
                    line: mark.line(),
                    column: mark.col() + 1,
                    message: "a second YAML document starts here; a playbook is one document"
                        .to_owned(),
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    line: mark.line(),
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    value: Value::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                };
                self.complete(node, anchor);
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    line: mark.line(),
                    tag: None,
                    value: Value::Scalar {
                        text: String::new(),
                        plain: true,
                    },
                });
                self.complete(node, 0);
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.open(Value::Seq(Vec::new()), anchor, tag, mark);
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                self.open(Value::Map(Vec::new()), anchor, tag, mark);
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
        let task = &plays[0].get("tasks").unwrap().as_seq().unwrap()[0];
        assert_eq!(task.line, 5);
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
}
