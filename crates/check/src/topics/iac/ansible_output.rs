//! Reads what `ansible-playbook` printed (default output callback): the recap, the tasks that
//! changed something, and the messages of the tasks that failed.

/// What one playbook run did, from its output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// `changed=` of the recap, summed over hosts.
    pub changed: u32,
    /// `failed=` of the recap, summed over hosts.
    pub failed: u32,
    /// `unreachable=` of the recap, summed over hosts.
    pub unreachable: u32,
    /// `ignored=` of the recap: failures that `ignore_errors` let pass, summed over hosts.
    pub ignored: u32,
    /// Tasks (and handlers) that reported `changed`, in order.
    pub changed_tasks: Vec<String>,
    /// Tasks that failed, with Ansible's message.
    pub failures: Vec<Failure>,
}

/// A failed task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The task name as printed in `TASK [...]`.
    pub task: String,
    /// The `msg` of the result (or the whole result when it has none).
    pub message: String,
    /// Whether Ansible went on anyway (`...ignoring`, from `ignore_errors`).
    pub ignored: bool,
}

impl Failure {
    /// Whether the message says the task lacked a privilege (a file or lock only root may open,
    /// an operation only root may do).
    pub fn is_privilege_error(&self) -> bool {
        const SIGNS: [&str; 6] = [
            "Permission denied",
            "are you root",
            "must be root",
            "Operation not permitted",
            "superuser",
            "permission denied",
        ];
        SIGNS.iter().any(|s| self.message.contains(s))
    }
}

/// Reads a run's output; `None` when it has no `PLAY RECAP` (the playbook never ran to the end,
/// e.g. a syntax error).
pub fn summarize(output: &str) -> Option<RunSummary> {
    let mut summary = RunSummary::default();
    let mut recap_seen = false;
    let mut in_recap = false;
    let mut task = String::new();
    for raw in output.lines() {
        let line = strip_build_prefix(raw);
        if let Some(name) = header(line, "TASK [").or_else(|| header(line, "RUNNING HANDLER [")) {
            task = name.to_owned();
            in_recap = false;
            continue;
        }
        if line.starts_with("PLAY RECAP") {
            recap_seen = true;
            in_recap = true;
            continue;
        }
        if in_recap {
            add_recap_line(&mut summary, line);
            continue;
        }
        if line.starts_with("changed: [") && summary.changed_tasks.last() != Some(&task) {
            summary.changed_tasks.push(task.clone());
        }
        if let Some(message) = failure_message(line) {
            summary.failures.push(Failure {
                task: task.clone(),
                message,
                ignored: false,
            });
        }
        if line.trim() == "...ignoring"
            && let Some(last) = summary.failures.last_mut()
        {
            last.ignored = true;
        }
    }
    recap_seen.then_some(summary)
}

/// The first task failure in an output, even without a recap.
pub fn first_failure(output: &str) -> Option<Failure> {
    let mut task = String::new();
    for raw in output.lines() {
        let line = strip_build_prefix(raw);
        if let Some(name) = header(line, "TASK [").or_else(|| header(line, "RUNNING HANDLER [")) {
            task = name.to_owned();
        } else if let Some(message) = failure_message(line) {
            return Some(Failure {
                task,
                message,
                ignored: false,
            });
        }
    }
    None
}

/// Whether the build took its `RUN ansible-playbook` step from Docker's cache (then the
/// playbook's output is not in the build output).
pub fn step_cached(output: &str) -> bool {
    playbook_step(output).is_some_and(|step| {
        step.iter()
            .take(2)
            .any(|l| l.contains("Using cache") || l.ends_with("CACHED"))
    })
}

/// The image layer the legacy builder made (or took from its cache) with the `RUN
/// ansible-playbook` step: the ID on the step's last ` ---> <id>` line. BuildKit names none.
pub fn playbook_layer(output: &str) -> Option<&str> {
    playbook_step(output)?.iter().rev().find_map(|l| {
        let id = l.trim().strip_prefix("---> ")?.trim();
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
    })
}

/// The lines after the `RUN ansible-playbook` step's own line, up to the next step.
fn playbook_step(output: &str) -> Option<Vec<&str>> {
    let is_step = |line: &str| line.starts_with("Step ") || line.starts_with('#');
    let mut lines = output.lines();
    lines
        .find(|line| is_step(line) && line.contains("RUN ") && line.contains("ansible-playbook"))?;
    Some(
        lines
            .take_while(|line| !line.starts_with("Step "))
            .collect(),
    )
}

/// BuildKit's plain progress prefixes each line with `#<step> <seconds> `; the legacy builder
/// prints lines as they are.
/// The text without terminal colour codes (`ESC [ … m`): Docker's legacy builder colours what a
/// step prints on stderr, which the report would otherwise show as `^[[91m`.
pub fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte (a letter, `m` for colours).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() || c == '~' {
                    break;
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
}

fn strip_build_prefix(line: &str) -> &str {
    let Some(rest) = line.strip_prefix('#') else {
        return line;
    };
    let mut parts = rest.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(step), Some(secs), Some(text))
            if step.chars().all(|c| c.is_ascii_digit()) && secs.parse::<f64>().is_ok() =>
        {
            text
        }
        _ => line,
    }
}

fn header<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(prefix)?;
    let end = rest.rfind(']')?;
    Some(&rest[..end])
}

fn add_recap_line(summary: &mut RunSummary, line: &str) {
    for field in line.split_whitespace() {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let Ok(n) = value.parse::<u32>() else {
            continue;
        };
        match key {
            "changed" => summary.changed += n,
            "failed" => summary.failed += n,
            "unreachable" => summary.unreachable += n,
            "ignored" => summary.ignored += n,
            _ => {}
        }
    }
}

/// `fatal: [host]: FAILED! => {...}` (or UNREACHABLE) → the result's `msg`.
fn failure_message(line: &str) -> Option<String> {
    if !(line.starts_with("fatal: [") || line.starts_with("failed: [")) {
        return None;
    }
    let (_, result) = line.split_once("=> ")?;
    let message = serde_json::from_str::<serde_json::Value>(result)
        .ok()
        .and_then(|v| v.get("msg").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| result.to_owned());
    Some(message.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_removed() {
        assert_eq!(
            without_colours("\u{1b}[91mERROR! no\n\u{1b}[0mRemoving \u{1b}x"),
            "ERROR! no\nRemoving \u{1b}x"
        );
    }

    const STARTER_FAILURE: &str = r#"
TASK [Check that the host runs Debian 12] **************************************
ok: [localhost] => {
    "changed": false,
    "msg": "All assertions passed"
}

TASK [Install nginx] ***********************************************************
fatal: [localhost]: FAILED! => {"cache_update_time": 1795934666, "cache_updated": false, "changed": false, "msg": "'/usr/bin/apt-get -y install 'nginx=1.22.1-9+deb12u9'' failed: E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n", "rc": 100}

PLAY RECAP *********************************************************************
localhost                  : ok=2    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   

The command '/bin/sh -c ansible-playbook --inventory localhost, --connection local playbook.yml' returned a non-zero code: 2
"#;

    #[test]
    fn a_failed_run_names_the_task_and_its_message() {
        let summary = summarize(STARTER_FAILURE).unwrap();
        assert_eq!(summary.failed, 1);
        assert_eq!(summary.changed, 0);
        assert_eq!(summary.failures.len(), 1);
        assert_eq!(summary.failures[0].task, "Install nginx");
        assert!(
            summary.failures[0]
                .message
                .contains("(13: Permission denied)")
        );
        assert!(summary.failures[0].message.ends_with("are you root?"));
        assert_eq!(
            first_failure(STARTER_FAILURE),
            Some(summary.failures[0].clone())
        );
    }

    #[test]
    fn an_ignored_failure_is_marked_and_counted() {
        let out = "TASK [Install nginx] ***\nfatal: [localhost]: FAILED! => {\"msg\": \"E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\"}\n...ignoring\n\nPLAY RECAP ***\nlocalhost : ok=3 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=1\n";
        let summary = summarize(out).unwrap();
        assert_eq!((summary.failed, summary.ignored), (0, 1));
        assert!(summary.failures[0].ignored);
        assert!(summary.failures[0].is_privilege_error());
    }

    #[test]
    fn changed_tasks_and_handlers_are_listed_once() {
        let out = "TASK [Append] ***\nchanged: [localhost]\nTASK [Same] ***\nok: [localhost]\nRUNNING HANDLER [Reload nginx] ***\nchanged: [localhost]\n\nPLAY RECAP ***\nlocalhost : ok=3 changed=2 unreachable=0 failed=0 skipped=0\n";
        let summary = summarize(out).unwrap();
        assert_eq!(summary.changed, 2);
        assert_eq!(summary.changed_tasks, ["Append", "Reload nginx"]);
    }

    #[test]
    fn the_playbook_steps_layer_is_named_cached_or_not() {
        let cached = "Step 7/9 : RUN ansible-playbook p.yml\n ---> Using cache\n ---> 8c346d04c467\nStep 8/9 : LABEL a=b\n ---> 0eb170c44048\n";
        assert_eq!(playbook_layer(cached), Some("8c346d04c467"));
        let fresh = "Step 7/9 : RUN ansible-playbook p.yml\n ---> Running in 12ab34\nPLAY RECAP\nRemoving intermediate container 12ab34\n ---> 5d41402abc4b\nStep 8/9 : LABEL a=b\n";
        assert_eq!(playbook_layer(fresh), Some("5d41402abc4b"));
        assert_eq!(
            playbook_layer("#8 [4/4] RUN ansible-playbook p.yml\n#8 CACHED\n"),
            None
        );
    }

    #[test]
    fn a_cached_playbook_step_is_recognised() {
        let legacy = "Step 7/9 : RUN ansible-playbook -i localhost, p.yml\n ---> Using cache\n ---> 8c346d04c467\n";
        assert!(step_cached(legacy));
        assert!(step_cached(
            "#9 [5/5] RUN ansible-playbook p.yml\n#9 CACHED\n"
        ));
        assert!(!step_cached(
            "Step 7/9 : RUN ansible-playbook p.yml\n ---> Running in 1234\n"
        ));
        assert!(!step_cached(
            " ---> Using cache\nStep 7/9 : RUN ansible-playbook p.yml\n"
        ));
    }

    #[test]
    fn buildkit_prefixes_are_ignored_and_no_recap_is_none() {
        let out = "#8 3.21 TASK [Install nginx] ***\n#8 3.90 fatal: [localhost]: FAILED! => {\"msg\": \"boom\"}\n";
        assert_eq!(
            first_failure(out).map(|f| (f.task, f.message)),
            Some(("Install nginx".into(), "boom".into()))
        );
        assert_eq!(summarize(out), None);
        assert_eq!(
            summarize("ERROR! We were unable to read either as JSON nor YAML"),
            None
        );
    }
}
