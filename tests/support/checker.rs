//! Running `sre-check` on fixtures, Exercism style: every folder under
//! `tests/fixtures/solutions/<topic>/` and `tests/fixtures/broken/<topic>/<case>/` is an overlay
//! copied onto a fresh `sre-check init` directory, with an `expected.json` saying what the checker
//! must conclude. Adding a case is adding a folder.
//!
//! `expected.json`:
//! ```json
//! { "exit": 1,
//!   "checks": { "answers": "pass", "build": "fail" },
//!   "evidence": { "build": ["Permission denied"] },
//!   "hint": { "build": ["become"] },
//!   "delete": ["infrastructure/infra.txt"],
//!   "signals": { "rollback": true, "rpo-rto": false } }
//! ```
//! `checks` must list every check of the topic; `evidence`/`hint` list substrings that must appear;
//! `delete` removes starter files before the run; `signals` (optional) gives the reviewer hints the
//! topic must report, by id: present or not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail, ensure};
use serde::Deserialize;
use sre_model::Report;

use crate::repo_root;

/// What a fixture expects from the checker.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Exit code of `sre-check run`.
    pub exit: i32,
    /// Status of each check of the topic, by check id.
    pub checks: BTreeMap<String, String>,
    /// Substrings each check's evidence must contain.
    #[serde(default)]
    pub evidence: BTreeMap<String, Vec<String>>,
    /// Substrings each check's hint must contain.
    #[serde(default)]
    pub hint: BTreeMap<String, Vec<String>>,
    /// Starter files to remove before the run.
    #[serde(default)]
    pub delete: Vec<String>,
    /// Reviewer hints (signals) the topic must report, by id: present or not.
    #[serde(default)]
    pub signals: BTreeMap<String, bool>,
}

/// A fixture folder: an overlay and its expectations.
#[derive(Debug)]
pub struct Fixture {
    /// `solutions/iac` or `broken/iac/starter`.
    pub name: String,
    /// The overlay folder.
    pub dir: PathBuf,
    /// Its expected.json.
    pub expected: Expected,
}

/// The path of the `sre-check` binary cargo built next to this test binary.
pub fn sre_check_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/<profile>/deps/<test> → target/<profile>/sre-check
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("sre-check"))
        .expect("the test binary lives in target/<profile>/deps");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p sre-check`; scripts/test does)",
        bin.display()
    );
    bin
}

/// Every fixture of a topic: its solution, then its broken cases in name order.
pub fn fixtures(topic: &str) -> anyhow::Result<Vec<Fixture>> {
    let root = repo_root().join("tests/fixtures");
    let mut dirs = Vec::new();
    let solution = root.join("solutions").join(topic);
    if solution.is_dir() {
        dirs.push((format!("solutions/{topic}"), solution));
    }
    let broken = root.join("broken").join(topic);
    if broken.is_dir() {
        let mut cases: Vec<_> = std::fs::read_dir(&broken)?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        cases.sort();
        dirs.extend(
            cases
                .into_iter()
                .map(|c| (format!("broken/{topic}/{c}"), broken.join(c))),
        );
    }
    dirs.into_iter()
        .map(|(name, dir)| {
            let text = std::fs::read_to_string(dir.join("expected.json"))
                .with_context(|| format!("{name}: reading expected.json"))?;
            let expected = serde_json::from_str(&text)
                .with_context(|| format!("{name}: parsing expected.json"))?;
            Ok(Fixture {
                name,
                dir,
                expected,
            })
        })
        .collect()
}

/// A fresh working copy: `sre-check init`, then the overlay copied on top.
pub fn prepare(fixture: &Fixture) -> anyhow::Result<tempfile::TempDir> {
    let tmp = tempfile::tempdir()?;
    let work = tmp.path().join("work");
    let out = Command::new(sre_check_bin())
        .arg("init")
        .arg(&work)
        .output()?;
    ensure!(
        out.status.success(),
        "sre-check init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    overlay(&fixture.dir, &work)?;
    for path in &fixture.expected.delete {
        std::fs::remove_file(work.join(path))
            .with_context(|| format!("{}: deleting {path}", fixture.name))?;
    }
    Ok(tmp)
}

/// Copies every file of `from` (except expected.json at its top) into `to`, keeping modes.
pub fn overlay(from: &Path, to: &Path) -> anyhow::Result<()> {
    copy_tree(from, to, true)
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if top && entry.file_name() == "expected.json" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, false)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs `sre-check run --json --topic <topic>` in `work` and parses its report.
pub fn run_topic(work: &Path, topic: &str, extra: &[&str]) -> anyhow::Result<(Output, Report)> {
    let out = Command::new(sre_check_bin())
        .args(["run", "--json", "--topic", topic, "--dir"])
        .arg(work)
        .args(extra)
        .output()?;
    let report = Report::from_json(&out.stdout).with_context(|| {
        format!(
            "sre-check printed no valid report (exit {:?}); stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out, report))
}

/// Runs one fixture and compares the report with its expectations; the error lists every
/// mismatch with the check's evidence, so a failing case explains itself.
pub fn check_fixture(topic: &str, fixture: &Fixture) -> anyhow::Result<()> {
    let tmp = prepare(fixture)?;
    let (out, report) = run_topic(&tmp.path().join("work"), topic, &[])?;
    let mut problems = Vec::new();
    let Some(topic_report) = report.topics.iter().find(|t| t.id.as_str() == topic) else {
        bail!("{}: the report has no topic {topic}", fixture.name);
    };
    let found: BTreeMap<&str, &sre_model::CheckResult> = topic_report
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    for (id, status) in &fixture.expected.checks {
        match found.get(id.as_str()) {
            None => problems.push(format!("check `{id}` is not in the report")),
            Some(c) if c.status.as_str() != status => problems.push(format!(
                "check `{id}`: expected {status}, got {}\n  evidence: {}\n  hint: {}",
                c.status.as_str(),
                c.evidence
                    .lines()
                    .rev()
                    .take(25)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n    "),
                c.hint.as_deref().unwrap_or("-")
            )),
            Some(_) => {}
        }
    }
    for id in found.keys() {
        if !fixture.expected.checks.contains_key(*id) {
            problems.push(format!(
                "check `{id}` is reported but expected.json does not list it"
            ));
        }
    }
    let substrings = [
        ("evidence", &fixture.expected.evidence),
        ("hint", &fixture.expected.hint),
    ];
    for (field, wanted) in substrings {
        for (id, needles) in wanted {
            let Some(c) = found.get(id.as_str()) else {
                continue;
            };
            let text = if field == "evidence" {
                c.evidence.as_str()
            } else {
                c.hint.as_deref().unwrap_or("")
            };
            for needle in needles {
                if !text.contains(needle.as_str()) {
                    problems.push(format!("check `{id}`: {field} lacks `{needle}`:\n{text}"));
                }
            }
        }
    }
    for (id, present) in &fixture.expected.signals {
        match topic_report.signals.iter().find(|s| &s.id == id) {
            None => problems.push(format!("signal `{id}` is not in the report")),
            Some(s) if s.present != *present => problems.push(format!(
                "signal `{id}` ({}): expected present = {present}, got {}",
                s.label, s.present
            )),
            Some(_) => {}
        }
    }
    if out.status.code() != Some(fixture.expected.exit) {
        problems.push(format!(
            "exit code {:?}, expected {}; stderr:\n{}",
            out.status.code(),
            fixture.expected.exit,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    ensure!(
        problems.is_empty(),
        "{}:\n- {}",
        fixture.name,
        problems.join("\n- ")
    );
    Ok(())
}

/// Runs every fixture of a topic, `jobs` at a time, and fails with all mismatches at once.
pub fn check_all(topic: &str, jobs: usize) -> anyhow::Result<()> {
    let fixtures = fixtures(topic)?;
    ensure!(
        !fixtures.is_empty(),
        "no fixtures for topic {topic} under tests/fixtures"
    );
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(fixture) = fixtures.get(i) else {
                        break;
                    };
                    let started = std::time::Instant::now();
                    let result = check_fixture(topic, fixture);
                    eprintln!(
                        "{:<40} {} ({:.0} s)",
                        fixture.name,
                        if result.is_ok() { "ok" } else { "MISMATCH" },
                        started.elapsed().as_secs_f64()
                    );
                    if let Err(e) = result {
                        failures
                            .lock()
                            .expect("not poisoned")
                            .push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    ensure!(
        failures.is_empty(),
        "{} of {} fixtures mismatched:\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n\n")
    );
    Ok(())
}

/// Ids of containers that carry `label` (`key=value`), running or not.
pub fn containers_with_label(label: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "--all",
            "--quiet",
            "--filter",
            &format!("label={label}"),
        ])
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}
