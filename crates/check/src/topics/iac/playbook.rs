//! The parts of a playbook that decide who each task runs as: plays, blocks, tasks, their
//! `become` settings and the variables that fill them in.

use std::collections::HashMap;

use crate::yaml::{Node, ParseError, Value};

/// Why a text is not a playbook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybookError {
    /// Not YAML at all.
    #[error("not valid YAML: {0}")]
    Yaml(ParseError),
    /// YAML, but not shaped like a playbook.
    #[error("line {line}: {message}")]
    Shape {
        /// Line of the offending node.
        line: usize,
        /// What was expected and found.
        message: String,
    },
}

impl PlaybookError {
    /// The line the problem is on.
    pub fn line(&self) -> usize {
        match self {
            PlaybookError::Yaml(e) => e.line,
            PlaybookError::Shape { line, .. } => *line,
        }
    }
}

/// A playbook: its plays in order.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// The plays; `import_playbook` entries are not plays and are left out.
    pub plays: Vec<Play>,
    /// The YAML tree, for checks that look at every value (passwords).
    pub root: Node,
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    /// Its name, or `hosts: …` when it has none.
    pub label: String,
    /// `become` on the play itself (or `ansible_become` in its vars).
    pub escalation: Option<Switch>,
    /// Its tasks and handlers, blocks flattened, each with the settings it inherits.
    pub tasks: Vec<Task>,
    /// Lines of `roles:` entries (their tasks live elsewhere and are not read).
    pub roles: Vec<usize>,
}

/// Whether a `become` setting is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// `true`, `yes`, `on`…
    On,
    /// `false`, `no`, `off`…
    Off,
    /// A Jinja expression, decided only when the play runs.
    Templated,
}

/// Where a setting is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// On the play: every task inherits it.
    Play,
    /// On a `block:` that starts on this line.
    Block(usize),
    /// On the task itself.
    Task,
}

/// A `become` setting and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    /// On, off or templated.
    pub truth: Truth,
    /// Line of the setting.
    pub line: usize,
    /// Play, block or task.
    pub level: Level,
}

/// A text value and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The value, with play variables filled in where they could be.
    pub value: String,
    /// Line of the value.
    pub line: usize,
}

/// One task (or handler) with the privilege settings that apply to it.
#[derive(Debug, Clone)]
pub struct Task {
    /// Line of the task.
    pub line: usize,
    /// Its `name`, if any.
    pub name: Option<String>,
    /// The module, without the `ansible.builtin.`/`ansible.legacy.` prefix; `?` when unclear.
    pub module: String,
    /// The module's arguments.
    pub args: Args,
    /// The innermost `become` that applies: the task's, an enclosing block's, or the play's.
    pub escalation: Option<Switch>,
    /// The innermost `become_user` that applies.
    pub become_user: Option<Located>,
    /// `become_user` written on the task itself.
    pub own_become_user: Option<Located>,
    /// Whether it is a handler.
    pub handler: bool,
}

impl Task {
    /// How the task is named in messages: its name, or its module.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("\"{name}\" ({})", self.module),
            None => format!("the unnamed {} task", self.module),
        }
    }

    /// Whether the task runs as root through `become` (`become_user` unset or root).
    pub fn becomes_root(&self) -> bool {
        self.escalation.is_some_and(|s| s.truth == Truth::On)
            && self
                .become_user
                .as_ref()
                .is_none_or(|u| matches!(u.value.as_str(), "root" | "0"))
    }
}

/// A module's arguments: a free-form string (`command: ls -l`, `apt: name=x`) and/or named ones.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The free-form text, if the module was given a string.
    pub free_form: Option<Located>,
    /// Named arguments (from a mapping, `args:`, or `k=v` words), scalars only.
    pub named: Vec<(String, Located)>,
    /// A list argument `argv` (command module), joined with spaces.
    pub argv: Option<Located>,
}

impl Args {
    /// A named argument.
    pub fn get(&self, key: &str) -> Option<&Located> {
        self.named
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The command line of a command-like module: free form, `cmd`, or `argv`.
    pub fn command_line(&self) -> Option<&Located> {
        self.free_form
            .as_ref()
            .or_else(|| self.get("cmd"))
            .or(self.argv.as_ref())
    }
}

/// Keywords a task may carry besides its module (Ansible 2.14).
const TASK_KEYWORDS: &[&str] = &[
    "name",
    "action",
    "local_action",
    "args",
    "any_errors_fatal",
    "async",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "changed_when",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "listen",
    "loop",
    "loop_control",
    "module_defaults",
    "no_log",
    "notify",
    "poll",
    "port",
    "register",
    "remote_user",
    "retries",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "until",
    "vars",
    "when",
];

/// Task lists of a play, and whether they hold handlers.
const TASK_SECTIONS: &[(&str, bool)] = &[
    ("pre_tasks", false),
    ("tasks", false),
    ("post_tasks", false),
    ("handlers", true),
];

/// Reads a playbook from its text.
pub fn parse(text: &str) -> Result<Playbook, PlaybookError> {
    let root = crate::yaml::parse(text).map_err(PlaybookError::Yaml)?;
    let Some(items) = root.as_seq() else {
        return Err(PlaybookError::Shape {
            line: root.line,
            message: format!(
                "a playbook is a list of plays (each starting with `- name:` / `- hosts:`); found {}",
                root.kind()
            ),
        });
    };
    let mut plays = Vec::new();
    for item in items {
        if item.as_map().is_none() {
            return Err(PlaybookError::Shape {
                line: item.line,
                message: format!(
                    "each play is a mapping with `hosts:`; found {}",
                    item.kind()
                ),
            });
        }
        if item.get("import_playbook").is_some()
            || item.get("ansible.builtin.import_playbook").is_some()
        {
            continue;
        }
        plays.push(read_play(item)?);
    }
    Ok(Playbook { plays, root })
}

fn read_play(node: &Node) -> Result<Play, PlaybookError> {
    let vars = Vars::of(node.get("vars"));
    let label = node
        .get("name")
        .and_then(Node::as_str)
        .map(str::to_owned)
        .or_else(|| {
            node.get("hosts")
                .and_then(Node::as_str)
                .map(|h| format!("hosts: {h}"))
        })
        .unwrap_or_else(|| "(unnamed play)".to_owned());
    let inherited = Inherited {
        escalation: switch_of(node, Level::Play),
        become_user: user_of(node, &vars),
    };
    let mut tasks = Vec::new();
    for (section, handler) in TASK_SECTIONS {
        if let Some(list) = node.get(section) {
            read_tasks(list, section, &inherited, &vars, *handler, &mut tasks)?;
        }
    }
    let roles = node
        .get("roles")
        .and_then(Node::as_seq)
        .map(|r| r.iter().map(|n| n.line).collect())
        .unwrap_or_default();
    Ok(Play {
        label,
        escalation: inherited.escalation,
        tasks,
        roles,
    })
}

/// Privilege settings passed down from the play and enclosing blocks.
#[derive(Debug, Clone)]
struct Inherited {
    escalation: Option<Switch>,
    become_user: Option<Located>,
}

fn read_tasks(
    list: &Node,
    section: &str,
    inherited: &Inherited,
    vars: &Vars,
    handler: bool,
    out: &mut Vec<Task>,
) -> Result<(), PlaybookError> {
    if list.is_null() {
        return Ok(());
    }
    let Some(items) = list.as_seq() else {
        return Err(PlaybookError::Shape {
            line: list.line,
            message: format!("`{section}` is a list of tasks; found {}", list.kind()),
        });
    };
    for item in items {
        if item.as_map().is_none() {
            return Err(PlaybookError::Shape {
                line: item.line,
                message: format!(
                    "each entry of `{section}` is a task (a mapping); found {}",
                    item.kind()
                ),
            });
        }
        let vars = vars.with(item.get("vars"));
        let own_switch = switch_of(item, Level::Task);
        let own_user = user_of(item, &vars);
        if let Some(block) = item.get("block") {
            let inner = Inherited {
                escalation: switch_of(item, Level::Block(item.line)).or(inherited.escalation),
                become_user: own_user.or_else(|| inherited.become_user.clone()),
            };
            for part in ["block", "rescue", "always"] {
                let list = if part == "block" {
                    Some(block)
                } else {
                    item.get(part)
                };
                if let Some(list) = list {
                    read_tasks(list, part, &inner, &vars, handler, out)?;
                }
            }
            continue;
        }
        let (module, args) = module_of(item, &vars);
        out.push(Task {
            line: item.line,
            name: item.get("name").and_then(Node::as_str).map(str::to_owned),
            module,
            args,
            escalation: own_switch.or(inherited.escalation),
            become_user: own_user.clone().or_else(|| inherited.become_user.clone()),
            own_become_user: own_user,
            handler,
        });
    }
    Ok(())
}

/// `become:` on a play, block or task, or `ansible_become` in its `vars:`.
fn switch_of(node: &Node, level: Level) -> Option<Switch> {
    let from_vars = node.get("vars").and_then(|v| v.get("ansible_become"));
    let setting = node.get("become").or(from_vars)?;
    Some(Switch {
        truth: truth(setting),
        line: setting.line,
        level,
    })
}

fn user_of(node: &Node, vars: &Vars) -> Option<Located> {
    let from_vars = node.get("vars").and_then(|v| v.get("ansible_become_user"));
    let user = node.get("become_user").or(from_vars)?;
    Some(Located {
        value: vars.fill(user.as_str().unwrap_or_default()),
        line: user.line,
    })
}

/// How Ansible reads a boolean keyword (its `boolean()` filter, plus templates).
pub fn truth(node: &Node) -> Truth {
    let text = node.as_str().unwrap_or_default().trim();
    if text.contains("{{") {
        return Truth::Templated;
    }
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "t" | "1" => Truth::On,
        _ => Truth::Off,
    }
}

/// The module of a task and its arguments.
fn module_of(task: &Node, vars: &Vars) -> (String, Args) {
    let entries = task.as_map().unwrap_or_default();
    let mut args = Args::default();
    if let Some(extra) = task.get("args") {
        add_named(&mut args, extra, vars);
    }
    let action = task.get("action").or_else(|| task.get("local_action"));
    let (module, value) = match action {
        Some(node) => match node.as_str() {
            Some(text) => {
                let (module, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
                let module = module.to_owned();
                args.free_form = Some(Located {
                    value: vars.fill(rest.trim()),
                    line: node.line,
                });
                return (short_module(&module), args);
            }
            None => (
                node.get("module")
                    .and_then(Node::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                node,
            ),
        },
        None => {
            let mut candidates = entries.iter().filter(|(k, _)| {
                k.as_str()
                    .is_some_and(|k| !TASK_KEYWORDS.contains(&k) && !k.starts_with("with_"))
            });
            match (candidates.next(), candidates.next()) {
                (Some((k, v)), None) => (k.as_str().unwrap_or("?").to_owned(), v),
                _ => return ("?".to_owned(), args),
            }
        }
    };
    match &value.value {
        Value::Scalar { text, .. } => {
            let filled = vars.fill(text);
            for word in super::dockerfile::shell_words(&filled) {
                if let Some((k, v)) = word.split_once('=')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    args.named.push((
                        k.to_owned(),
                        Located {
                            value: v.to_owned(),
                            line: value.line,
                        },
                    ));
                }
            }
            args.free_form = Some(Located {
                value: filled,
                line: value.line,
            });
        }
        Value::Map(_) => add_named(&mut args, value, vars),
        Value::Seq(_) => {}
    }
    (short_module(&module), args)
}

fn add_named(args: &mut Args, node: &Node, vars: &Vars) {
    for (key, value) in node.as_map().unwrap_or_default() {
        let Some(key) = key.as_str() else { continue };
        match &value.value {
            Value::Scalar { text, .. } => args.named.push((
                key.to_owned(),
                Located {
                    value: vars.fill(text),
                    line: value.line,
                },
            )),
            Value::Seq(items) if key == "argv" => {
                let words: Vec<String> = items
                    .iter()
                    .filter_map(Node::as_str)
                    .map(|w| vars.fill(w))
                    .collect();
                args.argv = Some(Located {
                    value: words.join(" "),
                    line: value.line,
                });
            }
            _ => {}
        }
    }
}

/// `ansible.builtin.apt` → `apt`; other collections keep their full name.
fn short_module(name: &str) -> String {
    name.strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name)
        .to_owned()
}

/// Scalar variables of a play (and of a task), to fill in `{{ name }}` in paths and users.
#[derive(Debug, Clone, Default)]
struct Vars(HashMap<String, String>);

impl Vars {
    fn of(node: Option<&Node>) -> Vars {
        Vars::default().with(node)
    }

    fn with(&self, node: Option<&Node>) -> Vars {
        let mut vars = self.clone();
        for (k, v) in node.and_then(Node::as_map).unwrap_or_default() {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                vars.0.insert(k.to_owned(), v.to_owned());
            }
        }
        vars
    }

    /// Replaces `{{ name }}` by the variable's value where it is a plain variable of the play;
    /// anything else (filters, facts) stays as written.
    fn fill(&self, text: &str) -> String {
        let mut out = text.to_owned();
        // Values may refer to other variables: a few rounds settle every realistic chain.
        for _ in 0..4 {
            let mut next = String::new();
            let mut rest = out.as_str();
            while let Some(start) = rest.find("{{") {
                let Some(len) = rest[start..].find("}}") else {
                    break;
                };
                let name = rest[start + 2..start + len].trim();
                next.push_str(&rest[..start]);
                match self.0.get(name) {
                    Some(value) => next.push_str(value),
                    None => next.push_str(&rest[start..start + len + 2]),
                }
                rest = &rest[start + len + 2..];
            }
            next.push_str(rest);
            if next == out {
                break;
            }
            out = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTER: &str = include_str!("../../../../../content/infrastructure/playbook.yml");

    #[test]
    fn the_starter_has_one_play_of_plain_tasks_without_become() {
        let book = parse(STARTER).unwrap();
        assert_eq!(book.plays.len(), 1);
        let play = &book.plays[0];
        assert_eq!(play.label, "Set up the status page");
        assert!(play.escalation.is_none());
        let modules: Vec<&str> = play.tasks.iter().map(|t| t.module.as_str()).collect();
        assert_eq!(
            modules,
            [
                "assert", "apt", "user", "file", "copy", "copy", "file", "file"
            ]
        );
        assert!(play.tasks.iter().all(|t| t.escalation.is_none()));
        let page = &play.tasks[4];
        assert_eq!(
            page.args.get("dest").map(|d| d.value.as_str()),
            Some("/srv/status/index.html")
        );
        assert_eq!(
            page.args.get("owner").map(|d| d.value.as_str()),
            Some("status")
        );
    }

    #[test]
    fn become_is_inherited_from_play_and_blocks() {
        let book = parse(
            "- hosts: all\n  become: yes\n  become_user: root\n  tasks:\n    - name: a\n      debug: msg=x\n    - block:\n        - name: b\n          command: id\n      become: false\n    - name: c\n      become: true\n      become_user: \"{{ u }}\"\n      vars:\n        u: status\n      copy: dest=/srv/x content=y\n",
        )
        .unwrap();
        let play = &book.plays[0];
        assert_eq!(
            play.escalation.map(|s| (s.truth, s.line)),
            Some((Truth::On, 2))
        );
        let [a, b, c] = &play.tasks[..] else {
            panic!("three tasks: {:?}", play.tasks)
        };
        assert_eq!(a.escalation.map(|s| s.level), Some(Level::Play));
        assert!(a.becomes_root());
        assert_eq!(
            b.escalation.map(|s| (s.truth, s.level)),
            Some((Truth::Off, Level::Block(7)))
        );
        assert_eq!(
            c.own_become_user.as_ref().map(|u| u.value.as_str()),
            Some("status")
        );
        assert!(!c.becomes_root());
        assert_eq!(c.args.get("dest").map(|d| d.value.as_str()), Some("/srv/x"));
    }

    #[test]
    fn free_form_and_action_forms() {
        let book = parse(
            "- hosts: all\n  tasks:\n    - shell: sudo apt-get install -y nginx\n    - action: command whoami\n    - ansible.builtin.command:\n        argv: [sudo, id]\n",
        )
        .unwrap();
        let tasks = &book.plays[0].tasks;
        assert_eq!(tasks[0].module, "shell");
        assert_eq!(
            tasks[0]
                .args
                .command_line()
                .map(|c| (c.value.as_str(), c.line)),
            Some(("sudo apt-get install -y nginx", 3))
        );
        assert_eq!(tasks[1].module, "command");
        assert_eq!(
            tasks[1].args.command_line().map(|c| c.value.as_str()),
            Some("whoami")
        );
        assert_eq!(
            tasks[2].args.command_line().map(|c| c.value.as_str()),
            Some("sudo id")
        );
    }

    #[test]
    fn shapes_that_are_not_playbooks_are_errors_with_lines() {
        let err = parse("name: x\nhosts: all\n").unwrap_err();
        assert!(err.to_string().contains("list of plays"), "{err}");
        assert!(err.to_string().contains("a mapping"), "{err}");
        let err = parse("- hosts: all\n  tasks:\n    - just a string\n").unwrap_err();
        assert_eq!(err.line(), 3);
        let err = parse("- hosts: all\n  tasks: {a: 1}\n").unwrap_err();
        assert!(err.to_string().contains("list of tasks"), "{err}");
        let err = parse("- hosts: all\n  tasks: [\n").unwrap_err();
        assert!(matches!(err, PlaybookError::Yaml(_)), "{err}");
    }

    #[test]
    fn truth_follows_ansible() {
        let t = |s: &str| truth(&crate::yaml::parse(s).unwrap());
        assert_eq!(t("yes"), Truth::On);
        assert_eq!(t("'True'"), Truth::On);
        assert_eq!(t("off"), Truth::Off);
        assert_eq!(t("\"{{ need_root }}\""), Truth::Templated);
    }
}
