//! ansible-lint from Debian 12, in a checker tool image, with its default rules.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::docker::{Docker, RunSpec};
use crate::runner::Verdict;

/// The tool image: Debian 12's ansible-lint (6.13, with ansible-core 2.14, the versions the
/// Dockerfile installs), and a configuration that only turns off its network use, so a
/// configuration file in the candidate's folder cannot change the rules.
const TOOL_DOCKERFILE: &str = "\
FROM debian:bookworm
ENV LANG=C.UTF-8
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends ansible-lint \\
 && rm -rf /var/lib/apt/lists/* \\
 && printf '# sre-check: the default rules of ansible-lint, offline\\noffline: true\\n' \\
      > /etc/sre-check-ansible-lint.yml
";

/// Installing ansible-lint and its dependencies the first time.
const IMAGE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// One lint run takes a few seconds.
const RUN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// ansible-lint's exit code when it found violations (0 when it found none).
const VIOLATIONS_FOUND: i32 = 2;

/// One finding, in ansible-lint's Code Climate JSON output.
#[derive(Debug, Deserialize)]
struct Issue {
    check_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    content: Option<Body>,
    location: Location,
}

#[derive(Debug, Deserialize)]
struct Body {
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
struct Location {
    path: String,
    #[serde(default)]
    lines: Option<Lines>,
    #[serde(default)]
    positions: Option<Positions>,
}

#[derive(Debug, Deserialize)]
struct Lines {
    begin: u64,
}

#[derive(Debug, Deserialize)]
struct Positions {
    begin: Position,
}

#[derive(Debug, Deserialize)]
struct Position {
    line: u64,
}

impl Issue {
    fn line(&self) -> u64 {
        self.location
            .lines
            .as_ref()
            .map(|l| l.begin)
            .or(self.location.positions.as_ref().map(|p| p.begin.line))
            .unwrap_or(1)
    }

    /// `infrastructure/playbook.yml:12: fqcn[action-core]: Use FQCN … (detail)`.
    fn describe(&self, dir: &str) -> String {
        // Rich markup escapes brackets in descriptions (`\[false, true]`).
        let mut text = format!(
            "{dir}/{}:{}: {}: {}",
            self.location.path,
            self.line(),
            self.check_name,
            self.description.replace("\\[", "[")
        );
        if let Some(body) = self.content.as_ref().map(|c| c.body.trim())
            && !body.is_empty()
        {
            text.push_str(&format!("\n    {}", body.replace('\n', "\n    ")));
        }
        text
    }
}

/// Runs ansible-lint on `playbook` (a file of `folder`, which is mounted read-only; `dir` is how
/// the folder is named in messages).
pub fn check(
    docker: &Docker,
    folder: &Path,
    dir: &str,
    playbook: &str,
    note: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Verdict> {
    note("preparing ansible-lint (the first time, Docker installs it from Debian)");
    let image = docker.tool_image("ansible-lint", TOOL_DOCKERFILE, IMAGE_TIMEOUT)?;
    note("running ansible-lint");
    let spec = RunSpec::new(&image)
        .mount_ro(folder, "/work")
        .workdir("/work")
        .network("none")
        .env("HOME", "/tmp")
        .args([
            "ansible-lint",
            "--config-file",
            "/etc/sre-check-ansible-lint.yml",
            "--nocolor",
            "--format",
            "codeclimate",
            playbook,
        ]);
    let out = docker.run(&spec, RUN_TIMEOUT)?;
    let code = out.status.code();
    if code != Some(0) && code != Some(VIOLATIONS_FOUND) {
        anyhow::bail!(
            "ansible-lint could not run (exit {code:?}):\n{}",
            crate::docker::tail(&out.combined(), 30)
        );
    }
    let issues: Vec<Issue> = serde_json::from_str(out.stdout.trim()).with_context(|| {
        format!(
            "reading ansible-lint's report:\n{}",
            crate::docker::tail(&out.combined(), 30)
        )
    })?;
    let summary = out
        .stderr
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("Passed") || l.starts_with("Failed"))
        .unwrap_or("")
        .to_owned();
    if issues.is_empty() && code == Some(0) {
        return Ok(Verdict::pass(format!(
            "ansible-lint {dir}/{playbook}: no findings with the default rules\n{summary}"
        )));
    }
    let listed: Vec<String> = issues.iter().map(|i| i.describe(dir)).collect();
    Ok(Verdict::fail(
        format!(
            "expected: no findings from ansible-lint (default rules)\nfound {} finding(s):\n{}\n{summary}",
            issues.len(),
            listed.join("\n")
        ),
        "ansible-lint reports the findings above at their lines; each rule (e.g. \
         fqcn[action-core]) is described at https://ansible-lint.readthedocs.io/rules/. infrastructure/README.md, \"Your tasks\", step 2 asks \
         for none with the default rules.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_climate_issues_read_with_either_location_form() {
        let json = r#"[{"type": "issue", "check_name": "yaml[truthy]", "description": "Truthy value should be one of \\[false, true]", "location": {"path": "playbook.yml", "lines": {"begin": 17}}},
        {"type": "issue", "check_name": "syntax-check[specific]", "description": "A playbook must be a list of plays", "location": {"path": "playbook.yml", "positions": {"begin": {"line": 2, "column": 1}}}, "content": {"body": "line one\nline two"}}]"#;
        let issues: Vec<Issue> = serde_json::from_str(json).unwrap();
        assert_eq!(
            issues[0].describe("infrastructure"),
            "infrastructure/playbook.yml:17: yaml[truthy]: Truthy value should be one of [false, true]"
        );
        assert_eq!(
            issues[1].describe("infrastructure"),
            "infrastructure/playbook.yml:2: syntax-check[specific]: A playbook must be a list of plays\n    line one\n    line two"
        );
    }
}
