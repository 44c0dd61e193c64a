//! Least privilege, read from the playbook, the Dockerfile and Ansible's configuration: root only
//! for the tasks that need it, granted by Ansible (`become`) rather than `sudo` in commands, never
//! play-wide, and no password in plain text.

use super::dockerfile::{PlaybookRun, shell_words};
use super::playbook::{Level, Play, Playbook, Task, Truth};
use crate::yaml::{Node, Value};

/// Something that gives more privilege than needed, or exposes a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem, to choose the hint.
    pub kind: Kind,
    /// `file:line`.
    pub place: String,
    /// What was found there and why it is too much.
    pub found: String,
}

/// Kinds of findings, each with its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The playbook runs as root from the start (Dockerfile `USER`, `sudo ansible-playbook`).
    RootRun,
    /// `become` for every task: on the play, in the configuration or on the command line.
    PlayWide,
    /// `become` (to root) on a task that needs no privilege.
    Unneeded,
    /// `sudo`/`su` inside a command instead of `become`.
    SudoInCommand,
    /// `become_user` on a task that does not become.
    UserWithoutBecome,
    /// A password written in clear text.
    PlainPassword,
}

impl Kind {
    /// What to change, for the check's hint.
    pub fn advice(self) -> &'static str {
        match self {
            Kind::RootRun => {
                "The playbook runs as root (the place is named above), while on our hosts Ansible \
                 connects as `deploy`: infrastructure/README.md, \"Your tasks\", step 2."
            }
            Kind::PlayWide => {
                "Privilege escalation is switched on for every task at the place named above, so \
                 tasks that need no privilege run as root too: infrastructure/README.md, \"Your tasks\", step 2 (\"each task runs with the \
                 privileges it needs, and no more\")."
            }
            Kind::Unneeded => {
                "The tasks named above run as root although what they do needs no privilege: \
                 infrastructure/README.md, \"Your tasks\", step 2 (\"each task runs with the privileges it needs, and no more\")."
            }
            Kind::SudoInCommand => {
                "A command named above raises its own privileges with sudo or su, out of \
                 Ansible's control of privileges: infrastructure/README.md, \"Evaluation \
                 criteria\", Best Practices with Ansible."
            }
            Kind::UserWithoutBecome => {
                "`become_user` at the place named above has no effect: that task does not raise \
                 privileges, so it runs as the connecting user: infrastructure/README.md, \"Your tasks\", step 2."
            }
            Kind::PlainPassword => {
                "A password is written in clear text at the place named above, in a file that goes \
                 into the image and into version control: infrastructure/README.md, \"Evaluation \
                 criteria\", Best Practices with Ansible."
            }
        }
    }
}

/// What a task needs, judged from its module and the paths it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Root, and why.
    Root(String),
    /// No privilege at all, and why.
    Nothing(String),
    /// Cannot tell (commands, other collections).
    Unknown,
}

/// Modules that only read facts, compare values or print: they never need privileges.
const HARMLESS: &[&str] = &[
    "add_host",
    "assert",
    "debug",
    "fail",
    "gather_facts",
    "group_by",
    "include_vars",
    "meta",
    "package_facts",
    "pause",
    "ping",
    "set_fact",
    "set_stats",
    "setup",
    "validate_argument_spec",
];

/// Modules that change the system itself, with what they do.
const SYSTEM: &[(&str, &str)] = &[
    ("apt", "installs packages"),
    ("apt_key", "manages apt keys"),
    ("apt_repository", "manages apt sources"),
    ("deb822_repository", "manages apt sources"),
    ("debconf", "sets package configuration"),
    ("dpkg_selections", "changes package selections"),
    ("package", "installs packages"),
    ("user", "manages users"),
    ("group", "manages groups"),
    ("service", "manages services"),
    ("systemd", "manages services"),
    ("systemd_service", "manages services"),
    ("sysvinit", "manages services"),
    ("hostname", "sets the host name"),
    ("mount", "mounts file systems"),
    ("sysctl", "sets kernel parameters"),
    ("reboot", "reboots the host"),
];

/// Modules that write a file given by `path`/`dest`.
const FILE_MODULES: &[&str] = &[
    "assemble",
    "blockinfile",
    "copy",
    "file",
    "get_url",
    "ini_file",
    "lineinfile",
    "replace",
    "template",
    "unarchive",
];

/// Modules that run a command line.
const COMMAND_MODULES: &[&str] = &["command", "shell", "raw", "script", "expect"];

/// Folders that belong to the system: writing there needs root.
const SYSTEM_DIRS: &[&str] = &[
    "/etc", "/srv", "/usr", "/var", "/opt", "/root", "/boot", "/lib", "/bin", "/sbin", "/run",
];

/// Who the playbook connects as, and its home.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The user (`deploy`).
    pub user: String,
    /// Its home (`/home/deploy`).
    pub home: String,
}

impl Connection {
    /// The user of the Dockerfile's `RUN ansible-playbook`.
    pub fn of(run: &PlaybookRun) -> Connection {
        let user = run.user_name().to_owned();
        let home = if user == "root" || user == "0" {
            "/root".to_owned()
        } else {
            format!("/home/{user}")
        };
        Connection { user, home }
    }
}

/// What a task needs.
pub fn need(task: &Task, conn: &Connection) -> Need {
    let module = task.module.as_str();
    if HARMLESS.contains(&module) {
        return Need::Nothing("only checks or reports".to_owned());
    }
    if let Some((_, what)) = SYSTEM.iter().find(|(m, _)| *m == module) {
        return Need::Root((*what).to_owned());
    }
    if !FILE_MODULES.contains(&module) {
        return Need::Unknown;
    }
    let Some(path) = ["path", "dest", "name"]
        .iter()
        .find_map(|k| task.args.get(k))
        .map(|p| p.value.as_str())
    else {
        return Need::Unknown;
    };
    if path.contains("{{") {
        return Need::Unknown;
    }
    let inside = |dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    if SYSTEM_DIRS.iter().any(|d| inside(d)) {
        return Need::Root(format!("writes {path}"));
    }
    for key in ["owner", "group"] {
        if let Some(owner) = task.args.get(key) {
            let other = owner.value != conn.user
                && task
                    .become_user
                    .as_ref()
                    .is_none_or(|u| u.value != owner.value);
            if other && !owner.value.contains("{{") {
                return Need::Root(format!("gives {path} to {}", owner.value));
            }
        }
    }
    if path.starts_with('~') || inside(&conn.home) || inside("/tmp") || !path.starts_with('/') {
        return Need::Nothing(format!("writes {path}, a file of {}", conn.user));
    }
    Need::Unknown
}

/// The review of a playbook: a line per task and the findings.
#[derive(Debug, Clone, Default)]
pub struct Review {
    /// One line per task: where, what, as whom, and what it needs.
    pub tasks: Vec<String>,
    /// What gives too much privilege.
    pub findings: Vec<Finding>,
    /// What could not be read (roles).
    pub notes: Vec<String>,
}

/// Reviews the playbook as run by the Dockerfile's `RUN` (as `conn`).
pub fn review(book: &Playbook, file: &str, conn: &Connection) -> Review {
    let mut review = Review::default();
    for play in &book.plays {
        review_play(play, file, conn, &mut review);
    }
    review.findings.extend(plain_passwords(&book.root, file));
    review
}

fn review_play(play: &Play, file: &str, conn: &Connection, review: &mut Review) {
    if let Some(switch) = play.escalation.filter(|s| s.truth != Truth::Off) {
        review.findings.push(Finding {
            kind: Kind::PlayWide,
            place: format!("{file}:{}", switch.line),
            found: format!(
                "`become` is on for the whole play \"{}\": every task runs as root, whether it \
                 needs it or not",
                play.label
            ),
        });
    }
    for line in &play.roles {
        review.notes.push(format!(
            "{file}:{line}: a role; its tasks are not read by this check"
        ));
    }
    for task in &play.tasks {
        let need = need(task, conn);
        review.tasks.push(describe(task, file, conn, &need));
        if let (Need::Nothing(why), true) = (&need, task.becomes_root()) {
            // A play-wide `become` is reported once, above.
            if let Some(switch) = task.escalation.filter(|s| s.level != Level::Play) {
                let at = match switch.level {
                    Level::Block(line) => format!("on the block at {file}:{line}"),
                    _ => "on the task".to_owned(),
                };
                review.findings.push(Finding {
                    kind: Kind::Unneeded,
                    place: format!("{file}:{}", switch.line),
                    found: format!(
                        "`become: true` {at} makes {} run as root, but it needs no privilege \
                         (it {why})",
                        task.label()
                    ),
                });
            }
        }
        if let Some(user) = &task.own_become_user
            && !task.escalation.is_some_and(|s| s.truth != Truth::Off)
        {
            review.findings.push(Finding {
                kind: Kind::UserWithoutBecome,
                place: format!("{file}:{}", user.line),
                found: format!(
                    "`become_user: {}` on {} without `become`: the task still runs as {}",
                    user.value,
                    task.label(),
                    conn.user
                ),
            });
        }
        if COMMAND_MODULES.contains(&task.module.as_str())
            && let Some(command) = task.args.command_line()
            && let Some(word) = escalating_word(&command.value)
        {
            review.findings.push(Finding {
                kind: Kind::SudoInCommand,
                place: format!("{file}:{}", command.line),
                found: format!(
                    "{} runs `{word}` inside its command: `{}`",
                    task.label(),
                    command.value
                ),
            });
        }
    }
}

fn describe(task: &Task, file: &str, conn: &Connection, need: &Need) -> String {
    let runs_as = match (&task.escalation, &task.become_user) {
        (Some(s), user) if s.truth == Truth::On => {
            let user = user.as_ref().map_or("root", |u| u.value.as_str());
            format!("runs as {user} (become, {file}:{})", s.line)
        }
        (Some(s), _) if s.truth == Truth::Templated => {
            format!("become decided at run time ({file}:{})", s.line)
        }
        _ => format!("runs as {}", conn.user),
    };
    let need = match need {
        // Another user may own what it writes (become_user): the build showed it may.
        Need::Root(why) if task.escalation.is_some() && !task.becomes_root() => why.clone(),
        Need::Root(why) => format!("needs root: {why}"),
        Need::Nothing(why) => format!("needs no privilege: {why}"),
        Need::Unknown => "needs: not judged".to_owned(),
    };
    let handler = if task.handler { "handler " } else { "" };
    format!(
        "{file}:{} {handler}{}: {runs_as}; {need}",
        task.line,
        task.label()
    )
}

/// `sudo`, `su`, `doas` or `pkexec` as a word of a command line.
pub fn escalating_word(command: &str) -> Option<&'static str> {
    const WORDS: [&str; 4] = ["sudo", "su", "doas", "pkexec"];
    command
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .find_map(|w| WORDS.iter().find(|x| **x == w).copied())
}

/// Findings from the Dockerfile's `RUN ansible-playbook`: root, sudo, `-b`, `ANSIBLE_BECOME`.
pub fn review_run(run: &PlaybookRun, file: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    if run.runs_as_root() {
        let found = match &run.user {
            Some(user) => format!(
                "`USER {}` (line {}): the playbook runs as root",
                user.value, user.line
            ),
            None => "no `USER` before it: the playbook runs as root".to_owned(),
        };
        findings.push(Finding {
            kind: Kind::RootRun,
            place: format!("{file}:{}", run.user.as_ref().map_or(run.line, |u| u.line)),
            found,
        });
    }
    let text = run.command.text();
    if let Some(word) = escalating_word(&text) {
        findings.push(Finding {
            kind: Kind::RootRun,
            place: format!("{file}:{}", run.line),
            found: format!("the playbook is started through `{word}`: `{text}`"),
        });
    }
    let words = shell_words(&text);
    let short_become = |w: &str| {
        w.len() > 1
            && w.starts_with('-')
            && !w.starts_with("--")
            && w.contains('b')
            && w[1..].chars().all(|c| "bvCDKk".contains(c))
    };
    if let Some(flag) = words.iter().find(|w| *w == "--become" || short_become(w)) {
        findings.push(Finding {
            kind: Kind::PlayWide,
            place: format!("{file}:{}", run.line),
            found: format!(
                "`{flag}` on the ansible-playbook command line: every task runs as root"
            ),
        });
    }
    if text.contains("ansible_become=") && !text.contains("ansible_become=false") {
        findings.push(Finding {
            kind: Kind::PlayWide,
            place: format!("{file}:{}", run.line),
            found: "`ansible_become` set as an extra variable: every task runs as root".to_owned(),
        });
    }
    for (key, value) in &run.env {
        if key == "ANSIBLE_BECOME" && is_truthy(&value.value) {
            findings.push(Finding {
                kind: Kind::PlayWide,
                place: format!("{file}:{}", value.line),
                found: format!(
                    "`ENV ANSIBLE_BECOME={}`: every task runs as root",
                    value.value
                ),
            });
        }
    }
    findings
}

/// Findings in Ansible configuration files (`*.cfg`) and inventories or vars files (any other
/// text file) of the folder: `become = True` for everything, `ansible_become` for a host.
pub fn review_config(file: &str, text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let is_cfg = file.ends_with(".cfg");
    let mut section = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
            continue;
        }
        let global = is_cfg
            && section == "privilege_escalation"
            && line
                .split_once(['=', ':'])
                .is_some_and(|(k, v)| k.trim() == "become" && is_truthy(v));
        if global || host_becomes(line) {
            findings.push(Finding {
                kind: Kind::PlayWide,
                place: format!("{file}:{}", i + 1),
                found: format!("`{line}`: every task runs as root"),
            });
        }
    }
    findings
}

/// `ansible_become=true` (inventory) or `ansible_become: yes` (vars file) somewhere in the line.
fn host_becomes(line: &str) -> bool {
    const KEY: &str = "ansible_become";
    line.match_indices(KEY).any(|(at, _)| {
        let rest = line[at + KEY.len()..].trim_start();
        rest.strip_prefix(['=', ':'])
            .is_some_and(|value| is_truthy(value.split_whitespace().next().unwrap_or_default()))
    })
}

fn is_truthy(value: &str) -> bool {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "yes" | "on" | "y" | "t" | "1"
    )
}

/// Values of password-like keys written in clear text anywhere in the playbook.
pub fn plain_passwords(root: &Node, file: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk_passwords(root, file, &mut findings);
    findings
}

fn walk_passwords(node: &Node, file: &str, out: &mut Vec<Finding>) {
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                if let Some(key) = key.as_str()
                    && is_password_key(key)
                    && is_plain_secret(value)
                {
                    out.push(Finding {
                        kind: Kind::PlainPassword,
                        place: format!("{file}:{}", value.line),
                        found: format!("`{key}` is written in plain text"),
                    });
                }
                walk_passwords(value, file, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| walk_passwords(n, file, out)),
        Value::Scalar { .. } => {}
    }
}

fn is_password_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != "update_password"
        && (key == "password"
            || key == "passwd"
            || key.ends_with("_password")
            || key.ends_with("_pass")
            || key.ends_with("_passwd"))
}

/// A value that holds a secret as is: not vaulted, not a hash, not a variable or lookup.
fn is_plain_secret(value: &Node) -> bool {
    if value.tag.as_deref() == Some("!vault") || value.is_null() {
        return false;
    }
    let Some(text) = value.as_str().map(str::trim) else {
        return false;
    };
    if text.is_empty() || text.starts_with("$ANSIBLE_VAULT") {
        return false;
    }
    // A crypt(3) hash such as `$6$salt$…` is what the user module expects.
    if text.starts_with('$') && text[1..].contains('$') {
        return false;
    }
    if text.contains("{{") {
        // `{{ 'secret' | password_hash('sha512') }}` still has the secret in it.
        return text.contains("password_hash")
            && (text.contains("{{ '") || text.contains("{{ \"") || text.contains("{{'"));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::{dockerfile, playbook};
    use super::*;

    const STARTER_BOOK: &str = include_str!("../../../../../content/infrastructure/playbook.yml");
    const STARTER_DOCKERFILE: &str =
        include_str!("../../../../../content/infrastructure/Dockerfile");

    fn deploy() -> Connection {
        Connection {
            user: "deploy".into(),
            home: "/home/deploy".into(),
        }
    }

    fn review_text(text: &str) -> Review {
        review(&playbook::parse(text).unwrap(), "playbook.yml", &deploy())
    }

    fn kinds(review: &Review) -> Vec<Kind> {
        review.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn the_starter_asks_for_no_privilege_and_its_needs_are_known() {
        let r = review_text(STARTER_BOOK);
        assert_eq!(kinds(&r), []);
        assert_eq!(r.tasks.len(), 8);
        assert!(r.tasks[0].contains("needs no privilege"), "{:?}", r.tasks);
        assert!(
            r.tasks[1].contains("needs root: installs packages"),
            "{:?}",
            r.tasks
        );
        assert!(
            r.tasks.iter().skip(1).all(|t| t.contains("needs root")),
            "{:?}",
            r.tasks
        );
        assert!(
            r.tasks.iter().all(|t| t.contains("runs as deploy")),
            "{:?}",
            r.tasks
        );
    }

    #[test]
    fn play_wide_become_is_found_once_with_its_line() {
        let r =
            review_text(&STARTER_BOOK.replace("  hosts: all\n", "  hosts: all\n  become: true\n"));
        assert_eq!(kinds(&r), [Kind::PlayWide]);
        assert_eq!(r.findings[0].place, "playbook.yml:5");
        let r =
            review_text(&STARTER_BOOK.replace("  vars:\n", "  vars:\n    ansible_become: yes\n"));
        assert_eq!(kinds(&r), [Kind::PlayWide]);
    }

    #[test]
    fn become_on_a_check_is_too_much_but_not_on_root_tasks() {
        let every = STARTER_BOOK.replace(
            "      ansible.builtin.",
            "      become: true\n      ansible.builtin.",
        );
        let r = review_text(&every);
        assert_eq!(kinds(&r), [Kind::Unneeded]);
        assert!(
            r.findings[0]
                .found
                .contains("Check that the host runs Debian 12"),
            "{:?}",
            r.findings
        );
        assert_eq!(r.findings[0].place, "playbook.yml:11");
    }

    #[test]
    fn a_block_with_become_around_a_check_is_found_at_the_block() {
        let r = review_text(
            "- hosts: all\n  tasks:\n    - become: true\n      block:\n        - name: Show\n          ansible.builtin.debug:\n            msg: hi\n",
        );
        assert_eq!(kinds(&r), [Kind::Unneeded]);
        assert!(
            r.findings[0].found.contains("block at playbook.yml:3"),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn become_user_to_another_user_is_fine_and_without_become_is_found() {
        let r = review_text(
            "- hosts: all\n  tasks:\n    - name: Page\n      become: true\n      become_user: status\n      ansible.builtin.copy:\n        dest: /srv/status/index.html\n        content: x\n        owner: status\n    - name: Other\n      become_user: status\n      ansible.builtin.file:\n        path: /tmp/x\n        state: touch\n",
        );
        assert_eq!(kinds(&r), [Kind::UserWithoutBecome]);
        assert_eq!(r.findings[0].place, "playbook.yml:11");
    }

    #[test]
    fn files_of_the_deploy_user_need_nothing() {
        let r = review_text(
            "- hosts: all\n  tasks:\n    - name: Marker\n      become: true\n      ansible.builtin.file:\n        path: /home/deploy/deployed\n        state: touch\n",
        );
        assert_eq!(kinds(&r), [Kind::Unneeded]);
        let r = review_text(
            "- hosts: all\n  tasks:\n    - name: Marker\n      become: true\n      ansible.builtin.file:\n        path: /home/deploy/deployed\n        owner: status\n",
        );
        assert_eq!(kinds(&r), []);
    }

    #[test]
    fn sudo_and_su_in_commands_are_found() {
        let r = review_text(
            "- hosts: all\n  tasks:\n    - name: Install\n      ansible.builtin.shell: sudo apt-get update && sudo apt-get install -y nginx\n      args:\n        creates: /usr/sbin/nginx\n    - name: Who\n      ansible.builtin.command:\n        cmd: su -c id root\n    - name: Fine\n      ansible.builtin.command: cat /etc/sudoers.d/deploy\n      changed_when: false\n",
        );
        assert_eq!(kinds(&r), [Kind::SudoInCommand, Kind::SudoInCommand]);
        assert_eq!(r.findings[0].place, "playbook.yml:4");
        assert_eq!(r.findings[1].place, "playbook.yml:9");
        assert_eq!(escalating_word("/usr/bin/sudo -n true"), Some("sudo"));
        assert_eq!(escalating_word("visudo -c"), None);
    }

    #[test]
    fn passwords_in_plain_text_are_found_and_safe_forms_are_not() {
        let r = review_text(
            "- hosts: all\n  vars:\n    ansible_become_password: hunter2\n    db_password: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      3132\n  tasks:\n    - name: User\n      become: true\n      ansible.builtin.user:\n        name: status\n        password: \"{{ 'hunter2' | password_hash('sha512') }}\"\n        update_password: on_create\n    - name: Other\n      become: true\n      ansible.builtin.user:\n        name: other\n        password: \"$6$salt$abc\"\n    - name: Third\n      become: true\n      ansible.builtin.user:\n        name: third\n        password: \"{{ third_password_hash }}\"\n",
        );
        let places: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.kind == Kind::PlainPassword)
            .map(|f| f.place.as_str())
            .collect();
        assert_eq!(places, ["playbook.yml:3", "playbook.yml:12"]);
    }

    #[test]
    fn the_starter_dockerfile_runs_as_deploy_without_become() {
        let run = dockerfile::playbook_run(STARTER_DOCKERFILE).unwrap();
        assert_eq!(review_run(&run, "Dockerfile"), []);
        assert_eq!(Connection::of(&run).home, "/home/deploy");
    }

    #[test]
    fn root_sudo_and_become_flags_in_the_dockerfile_are_found() {
        let f = |text: &str| -> Vec<Kind> {
            let run = dockerfile::playbook_run(text).unwrap();
            review_run(&run, "Dockerfile")
                .iter()
                .map(|f| f.kind)
                .collect()
        };
        assert_eq!(f("FROM d\nRUN ansible-playbook p.yml\n"), [Kind::RootRun]);
        assert_eq!(
            f("FROM d\nUSER deploy\nRUN sudo ansible-playbook p.yml\n"),
            [Kind::RootRun]
        );
        assert_eq!(
            f("FROM d\nUSER deploy\nRUN ansible-playbook -vb p.yml\n"),
            [Kind::PlayWide]
        );
        assert_eq!(
            f("FROM d\nUSER deploy\nRUN ansible-playbook --become p.yml\n"),
            [Kind::PlayWide]
        );
        assert_eq!(
            f("FROM d\nUSER deploy\nRUN ansible-playbook -i localhost, -c local p.yml\n"),
            []
        );
        assert_eq!(
            f("FROM d\nUSER deploy\nENV ANSIBLE_BECOME=True\nRUN ansible-playbook p.yml\n"),
            [Kind::PlayWide]
        );
    }

    #[test]
    fn become_in_configuration_and_inventories_is_found() {
        let cfg = review_config(
            "ansible.cfg",
            "[defaults]\nbecome = True\n[privilege_escalation]\nbecome = True\nbecome_user = root\n",
        );
        assert_eq!(cfg.len(), 1);
        assert_eq!(cfg[0].place, "ansible.cfg:4");
        let inv = review_config(
            "hosts",
            "localhost ansible_connection=local ansible_become=true\n",
        );
        assert_eq!(inv.len(), 1, "{inv:?}");
        let vars = review_config("group_vars/all.yml", "ansible_become: yes\n");
        assert_eq!(vars.len(), 1);
        assert_eq!(
            review_config("ansible.cfg", "[privilege_escalation]\nbecome = False\n"),
            []
        );
    }
}
