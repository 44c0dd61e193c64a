//! Static checks, run with the tools of the candidate's own images before the stack starts:
//! `promtool check config` (which also checks every rule file the config loads), `amtool
//! check-config`, and the candidate's rule unit tests (`promtool test rules`).

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::files;
use super::stack::{FOLDER, Stack, TOOL_MOUNT};
use super::{ALERTMANAGER, PROMETHEUS};
use crate::process::CommandOutput;
use crate::runner::Verdict;

/// Where Debian's packages read their configuration when no `--config.file` is given.
pub(super) const PROMETHEUS_DEFAULT_CONFIG: &str = "/etc/prometheus/prometheus.yml";
pub(super) const ALERTMANAGER_DEFAULT_CONFIG: &str = "/etc/prometheus/alertmanager.yml";

/// The `config` check.
pub fn check(stack: &Stack) -> anyhow::Result<Verdict> {
    let tools = [
        Tool {
            service: PROMETHEUS,
            program: "promtool",
            verb: &["check", "config"],
            default_config: PROMETHEUS_DEFAULT_CONFIG,
            ran_marker: "Checking ",
        },
        Tool {
            service: ALERTMANAGER,
            program: "amtool",
            verb: &["check-config"],
            default_config: ALERTMANAGER_DEFAULT_CONFIG,
            ran_marker: "Checking '",
        },
    ];
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for tool in &tools {
        match tool.run(stack)? {
            Ok(report) => passed.push(report),
            Err(report) => failed.push(report),
        }
    }
    if failed.is_empty() {
        return Ok(Verdict::pass(passed.join("\n\n")));
    }
    failed.extend(passed);
    Ok(Verdict::fail(
        failed.join("\n\n"),
        "promtool or amtool rejects a file: the report above gives the file, line and column. \
         Tasks 3 and 4 of monitoring/README.md say what the rules and the Alertmanager \
         configuration need.",
    ))
}

/// A config checker that ships in a service's image.
struct Tool {
    service: &'static str,
    program: &'static str,
    verb: &'static [&'static str],
    default_config: &'static str,
    /// What the tool prints once it has started checking: tells its own verdict from a failure
    /// to run it at all.
    ran_marker: &'static str,
}

impl Tool {
    /// `Ok(report)` when the config is valid, `Err(report)` when it is not.
    fn run(&self, stack: &Stack) -> anyhow::Result<Result<String, String>> {
        let Some(service) = stack.service(self.service) else {
            return Ok(Err(format!(
                "{FOLDER}/docker-compose.yml has no `{}` service (services: {}). The checker finds \
                 the monitoring stack by service name.",
                self.service,
                stack.service_names().collect::<Vec<_>>().join(", ")
            )));
        };
        let config = service.flag("--config.file").unwrap_or(self.default_config);
        let mut args = self.verb.to_vec();
        args.push(config);
        let out = stack.run_tool(self.service, self.program, &args)?;
        let text = stack.tool_output(self.service, &out);
        if !ran(&out, self.ran_marker) {
            bail!(
                "could not run `{} {}` in the {} image:\n{text}",
                self.program,
                args.join(" "),
                self.service
            );
        }
        let report = format!("$ {} {}\n{text}", self.program, args.join(" "));
        Ok(if out.success() {
            Ok(report)
        } else {
            Err(report)
        })
    }
}

fn ran(out: &CommandOutput, marker: &str) -> bool {
    out.stdout.contains(marker) || out.stderr.contains(marker)
}

/// Outcome of the `rule-tests` check, and whether any tests exist (a reviewer signal).
pub struct RuleTests {
    /// The verdict.
    pub verdict: Verdict,
    /// Whether the candidate wrote rule unit tests.
    pub present: bool,
}

/// The `rule-tests` check: every rule unit test file under monitoring/ passes `promtool test
/// rules`. No tests is not a failure (the check is skipped, with a hint).
pub fn rule_tests(stack: &Stack) -> anyhow::Result<RuleTests> {
    let files = find_rule_tests(&stack.project.dir);
    if files.is_empty() {
        return Ok(RuleTests {
            verdict: Verdict::skipped(
                "no rule unit tests found (YAML files with `rule_files:` and `tests:`). They are \
                 optional, and the quickest way to know an alert fires when it should: see \
                 `promtool test rules`.",
            ),
            present: false,
        });
    }
    let mut args = vec!["test".to_owned(), "rules".to_owned()];
    for file in &files {
        let rel = file.strip_prefix(&stack.project.dir).unwrap_or(file);
        args.push(format!("{TOOL_MOUNT}/{}", rel.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = stack.run_tool(PROMETHEUS, "promtool", &args)?;
    let text = stack.tool_output(PROMETHEUS, &out);
    if !ran(&out, "Unit Testing") {
        bail!("could not run `promtool test rules` in the prometheus image:\n{text}");
    }
    let verdict = if out.success() {
        Verdict::pass(text)
    } else {
        Verdict::fail(
            text,
            "A rule unit test fails (the test file and the alerts that differ are above): either \
             the rule or the test's expectation is wrong. Task 3 of monitoring/README.md \
             mentions the unit tests.",
        )
    };
    Ok(RuleTests {
        verdict,
        present: true,
    })
}

/// YAML files under `dir` with top-level `rule_files:` and `tests:` keys, sorted.
pub fn find_rule_tests(dir: &Path) -> Vec<PathBuf> {
    files::with_extensions(dir, &[".yml", ".yaml"])
        .into_iter()
        .filter(|p| is_rule_test(p))
        .collect()
}

fn is_rule_test(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let top_level = |key: &str| text.lines().any(|l| l.starts_with(key));
    top_level("rule_files:") && top_level("tests:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_tests_are_found_by_their_top_level_keys() {
        let dir = tempfile::tempdir().unwrap();
        let tests = dir.path().join("prometheus/tests");
        std::fs::create_dir_all(&tests).unwrap();
        std::fs::write(
            tests.join("db.test.yml"),
            "rule_files:\n  - ../rules/db.yml\ntests:\n  - interval: 1m\n",
        )
        .unwrap();
        std::fs::write(tests.join("rules.yml"), "groups: []\n").unwrap();
        std::fs::write(dir.path().join("other.yaml"), "tests: []\n").unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/x.yml"), "rule_files: []\ntests: []\n").unwrap();
        assert_eq!(find_rule_tests(dir.path()), vec![tests.join("db.test.yml")]);
    }
}
