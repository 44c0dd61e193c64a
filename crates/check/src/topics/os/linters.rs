//! Optional linters the candidate may have installed: `actionlint` (workflow syntax) and `zizmor`
//! (GitHub Actions security). When present their findings join the evidence; when absent the
//! checks decide on their own, so a result never depends on what happens to be installed.

use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::process::{self, RunError};
use crate::workdir::WorkDir;

/// Time for one linter run over a handful of files.
const LINT_TIMEOUT: Duration = Duration::from_secs(120);

/// What `actionlint` said about the workflows.
pub enum Actionlint {
    /// Not installed.
    Absent,
    /// Ran and found nothing.
    Clean,
    /// Ran and reported these problems (`file:line:col: message [rule]`).
    Problems(Vec<String>),
    /// Installed but could not run; the reason is noted, not held against the candidate.
    Broken(String),
}

/// Runs `actionlint` on the workflow files, if it is installed.
pub fn actionlint(workdir: &WorkDir, files: &[&str]) -> Actionlint {
    let mut cmd = Command::new("actionlint");
    cmd.current_dir(workdir.root())
        .args(["-no-color", "-oneline"])
        .args(files);
    match process::run(cmd, LINT_TIMEOUT) {
        Err(RunError::Spawn { .. }) => Actionlint::Absent,
        Err(e) => Actionlint::Broken(e.to_string()),
        Ok(out) => match out.status.code() {
            Some(0) => Actionlint::Clean,
            Some(1) => Actionlint::Problems(
                out.stdout
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => Actionlint::Broken(out.combined()),
        },
    }
}

/// The concern a zizmor finding belongs to, so it joins the evidence of the matching check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// Action references (`unpinned-uses`, `impostor-commit` …).
    Pinning,
    /// The workflow token (`excessive-permissions`, `artipacked` …).
    Permissions,
    /// Untrusted input run as code (`template-injection`, `dangerous-triggers`).
    Injection,
    /// Anything else, shown with the workflow check.
    Other,
}

/// zizmor's findings, each `file:line: [audit] description (severity)`, by concern.
#[derive(Debug, Default)]
pub struct Zizmor {
    /// Whether zizmor ran.
    pub ran: bool,
    /// Why it did not run when it is installed.
    pub broken: Option<String>,
    findings: Vec<(Concern, String)>,
}

impl Zizmor {
    /// The findings of one concern.
    pub fn about(&self, concern: Concern) -> Vec<String> {
        self.findings
            .iter()
            .filter(|(c, _)| *c == concern)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// Runs `zizmor --offline` on `.github/`, if it is installed.
pub fn zizmor(workdir: &WorkDir) -> Zizmor {
    let mut cmd = Command::new("zizmor");
    cmd.current_dir(workdir.root()).args([
        "--offline",
        "--no-progress",
        "--no-exit-codes",
        "--format",
        "json",
        ".github",
    ]);
    let out = match process::run(cmd, LINT_TIMEOUT) {
        Err(RunError::Spawn { .. }) => return Zizmor::default(),
        Err(e) => return broken(e.to_string()),
        Ok(out) if !out.success() => return broken(out.combined()),
        Ok(out) => out,
    };
    match serde_json::from_str::<Vec<Finding>>(&out.stdout) {
        Ok(findings) => Zizmor {
            ran: true,
            broken: None,
            findings: findings
                .iter()
                .map(|f| (concern(&f.ident), f.describe()))
                .collect(),
        },
        Err(e) => broken(format!("its JSON output did not parse: {e}")),
    }
}

fn broken(reason: String) -> Zizmor {
    Zizmor {
        ran: false,
        broken: Some(reason),
        findings: Vec::new(),
    }
}

fn concern(ident: &str) -> Concern {
    match ident {
        "unpinned-uses"
        | "unpinned-images"
        | "impostor-commit"
        | "ref-confusion"
        | "stale-action-refs"
        | "known-vulnerable-actions"
        | "ref-version-mismatch" => Concern::Pinning,
        "excessive-permissions" | "undocumented-permissions" | "artipacked" => Concern::Permissions,
        "template-injection" | "dangerous-triggers" => Concern::Injection,
        _ => Concern::Other,
    }
}

/// The parts of zizmor's JSON (format v1) that the evidence shows.
#[derive(Debug, Deserialize)]
struct Finding {
    ident: String,
    desc: String,
    determinations: Determinations,
    locations: Vec<Location>,
}

#[derive(Debug, Deserialize)]
struct Determinations {
    severity: String,
}

#[derive(Debug, Deserialize)]
struct Location {
    symbolic: Symbolic,
    concrete: Concrete,
}

#[derive(Debug, Deserialize)]
struct Symbolic {
    key: serde_json::Value,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Concrete {
    location: ConcreteLocation,
}

#[derive(Debug, Deserialize)]
struct ConcreteLocation {
    start_point: Point,
}

#[derive(Debug, Deserialize)]
struct Point {
    row: usize,
}

impl Finding {
    fn describe(&self) -> String {
        let primary = self
            .locations
            .iter()
            .find(|l| l.symbolic.kind == "Primary")
            .or_else(|| self.locations.first());
        let at = primary.map_or_else(String::new, |l| {
            let path = l
                .symbolic
                .key
                .pointer("/Local/verbatim_path")
                .or_else(|| l.symbolic.key.pointer("/Local/given_path"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?");
            let path = path.strip_prefix("./").unwrap_or(path);
            format!("{path}:{}: ", l.concrete.location.start_point.row + 1)
        });
        format!(
            "{at}[{}] {} ({})",
            self.ident,
            self.desc,
            self.determinations.severity.to_lowercase()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_read_from_zizmor_json_name_file_and_line() {
        let json = r#"[{"ident":"excessive-permissions","desc":"overly broad permissions",
          "url":"u","determinations":{"confidence":"High","severity":"High","persona":"Regular"},
          "locations":[{"symbolic":{"key":{"Local":{"verbatim_path":"./.github/workflows/deb.yml"}},
            "annotation":"uses write-all permissions","route":{"route":[]},"feature_kind":"Normal",
            "kind":"Primary"},
            "concrete":{"location":{"start_point":{"row":14,"column":0},
              "end_point":{"row":14,"column":22},"offset_span":{"start":1,"end":2}},
              "feature":"permissions: write-all","comments":[]}}],
          "ignored":false,"fixes":[]}]"#;
        let findings: Vec<Finding> = serde_json::from_str(json).expect("zizmor v1 JSON");
        assert_eq!(
            findings[0].describe(),
            ".github/workflows/deb.yml:15: [excessive-permissions] overly broad permissions (high)"
        );
        assert_eq!(concern(&findings[0].ident), Concern::Permissions);
        assert_eq!(concern("unpinned-uses"), Concern::Pinning);
        assert_eq!(concern("cache-poisoning"), Concern::Other);
    }
}
