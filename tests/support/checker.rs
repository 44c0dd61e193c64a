//! Running `sre-check` on fixtures, Exercism style: each topic has one tree,
//! `tests/fixtures/<topic>/solution/` (the reference), `tests/fixtures/<topic>/solution-<style>/`
//! (correct solutions written in other styles, which must pass as well) and
//! `tests/fixtures/<topic>/broken/<case>/`, and every folder
//! in it is an overlay copied onto a fresh `sre-check init` directory, with an `expected.json`
//! saying what the checker must conclude. Adding a case is adding a folder; the harness
//! (tests/checker_topics.rs) finds every topic of the manifest. A broken case can also start from
//! another fixture (`base`) and make small text edits to it (`edit`): see [`Expected`].
//!
//! `expected.json`:
//! ```json
//! { "exit": 1,
//!   "checks": { "answers": "pass", "build": "fail" },
//!   "evidence": { "build": ["Permission denied"] },
//!   "hint": { "build": ["become"] },
//!   "delete": ["infrastructure/infra.txt"],
//!   "signals": { "rollback": true, "tools": false } }
//! ```
//! `checks` must list every check of the topic; `evidence`/`hint` list substrings that must appear;
//! `delete` removes starter files before the run.
//!
//! A broken case that differs from the solution by a line or two says only that:
//! `"base": "os/solution"` overlays that fixture first, and
//! `"edit": [{ "file": "packaging/postrm", "from": "exit 0", "to": "exit 1" }]` then replaces text
//! that must occur exactly once (so an edit that no longer applies fails loudly).
//!
//! `signals` (optional) gives the reviewer hints the topic must report, by id: present or not.
//!
//! Fixtures run with `--audience reviewer`: every check and aid, the reviewer-only ones too
//! (a candidate's run leaves those out; `tests/checker_core.rs` checks that on the starter).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

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
    /// A fixture folder overlaid first, relative to tests/fixtures (e.g. `monitoring/solution`):
    /// a broken case is then the reference solution plus its one mistake.
    #[serde(default)]
    pub base: Option<String>,
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
    /// Text edits made after the overlays; each `from` must occur exactly once, so a case cannot
    /// silently stop testing what it names.
    #[serde(default)]
    pub edit: Vec<Edit>,
}

/// Replaces `from`, which must occur exactly once in `file`, with `to`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// Path in the working copy.
    pub file: String,
    /// The text to replace.
    pub from: String,
    /// Its replacement.
    pub to: String,
}

/// A fixture folder: an overlay and its expectations.
#[derive(Debug)]
pub struct Fixture {
    /// `iac/solution` or `iac/broken/starter`.
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

/// Runs `sre-check run` on the topics that need no Docker (feedback, leadership) in the working
/// copy `work`, and returns the path of the report it wrote. The run may find failures (exit 1),
/// never an error.
pub fn run_answer_topics(work: &Path) -> PathBuf {
    let run = std::process::Command::new(sre_check_bin())
        .args([
            "run",
            "--topic",
            "feedback",
            "--topic",
            "leadership",
            "--dir",
        ])
        .arg(work)
        .output()
        .expect("sre-check runs");
    assert!(
        run.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    work.join(".sre-check/report.json")
}

/// Where every topic's fixtures live: `<this>/<topic>/solution`, `<this>/<topic>/broken/<case>`.
pub fn fixtures_root() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// Ids of the topics the checker has a suite of machine checks for: the ones whose fixtures
/// must be complete. Read from the checker's registry (`sre_check::topics::registry`); a topic
/// with only written answers has no suite there (the generic answer check serves it).
pub fn checked_topics() -> Vec<String> {
    sre_check::topics::registry()
        .iter()
        .map(|suite| suite.topic().to_owned())
        .collect()
}

/// Names of the folders directly under `dir`, sorted; none when `dir` does not exist.
pub fn subfolders(dir: &Path) -> anyhow::Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// What is missing or stray under `root` (the fixtures folder), one message each: a topic the
/// checker checks (`checked`) needs `<topic>/solution/expected.json` and at least one
/// `<topic>/broken/<case>/`; the checker must check no topic the manifest (`topics`) lacks; every
/// folder under `root` is a manifest topic holding only `solution/`, `solution-<name>/` and
/// `broken/`.
pub fn completeness(
    topics: &[String],
    checked: &[String],
    root: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for id in checked {
        if !topics.contains(id) {
            problems.push(format!(
                "the checker has a suite for topic `{id}`, which content/challenge.toml does not \
                 list: add the topic to the manifest or remove its suite"
            ));
        }
    }
    for id in topics.iter().filter(|id| checked.contains(id)) {
        let dir = root.join(id);
        if !dir.join("solution/expected.json").is_file() {
            problems.push(format!(
                "{id}: no solution fixture: add {}/solution/ (the reference solution's files and \
                 an expected.json where every check passes)",
                dir.display()
            ));
        }
        if subfolders(&dir.join("broken"))?.is_empty() {
            problems.push(format!(
                "{id}: no broken case: add {}/broken/<case>/ with a mistake and an expected.json \
                 naming the check it fails",
                dir.display()
            ));
        }
    }
    for folder in subfolders(root)? {
        if !topics.contains(&folder) {
            problems.push(format!(
                "{}: `{folder}` is not a topic of content/challenge.toml, so its fixtures never run",
                root.join(&folder).display()
            ));
            continue;
        }
        for entry in std::fs::read_dir(root.join(&folder))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "solution" && name != "broken" && !is_alternative(&name) {
                problems.push(format!(
                    "{}: a topic's fixtures folder holds only solution/, solution-<style>/ and \
                     broken/<case>/",
                    root.join(&folder).join(&name).display()
                ));
            }
        }
    }
    Ok(problems)
}

/// `solution-<style>`: a correct solution in another style than the reference, which must pass
/// too (a verdict must not depend on the reference's way of writing it).
fn is_alternative(name: &str) -> bool {
    name.strip_prefix("solution-")
        .is_some_and(|style| !style.is_empty())
}

/// Every fixture of a topic: its solution, its alternative solutions (`solution-<style>/`), then
/// its broken cases, each group in name order.
pub fn fixtures(topic: &str) -> anyhow::Result<Vec<Fixture>> {
    let root = fixtures_root().join(topic);
    let mut dirs = Vec::new();
    let solution = root.join("solution");
    if solution.is_dir() {
        dirs.push((format!("{topic}/solution"), solution));
    }
    for name in subfolders(&root)?.into_iter().filter(|n| is_alternative(n)) {
        dirs.push((format!("{topic}/{name}"), root.join(name)));
    }
    let broken = root.join("broken");
    for case in subfolders(&broken)? {
        dirs.push((format!("{topic}/broken/{case}"), broken.join(case)));
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

/// A fresh `sre-check init` working copy: `<temp dir>/work`, gone with the temp dir.
pub fn init_work() -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
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
    Ok((tmp, work))
}

/// A fresh working copy: `sre-check init`, then the overlay copied on top.
pub fn prepare(fixture: &Fixture) -> anyhow::Result<tempfile::TempDir> {
    let (tmp, work) = init_work()?;
    if let Some(base) = &fixture.expected.base {
        overlay(&fixtures_root().join(base), &work)
            .with_context(|| format!("{}: overlaying its base {base}", fixture.name))?;
    }
    overlay(&fixture.dir, &work)?;
    for edit in &fixture.expected.edit {
        let path = work.join(&edit.file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: reading {} to edit it", fixture.name, edit.file))?;
        let found = text.matches(edit.from.as_str()).count();
        ensure!(
            found == 1,
            "{}: the edit of {} expects its `from` text once, found it {found} times",
            fixture.name,
            edit.file
        );
        std::fs::write(&path, text.replacen(edit.from.as_str(), &edit.to, 1))?;
    }
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

/// `--timeout-factor` of the fixture runs, and of the tests that compare two runs' verdicts: the
/// tests share two cores with other Docker tests, and a step that times out there is an `error`
/// the candidate's run would not have.
pub const FIXTURE_TIMEOUT_FACTOR: &str = "2";

/// Runs one fixture and compares the report with its expectations; the error lists every
/// mismatch with the check's evidence, so a failing case explains itself.
pub fn check_fixture(topic: &str, fixture: &Fixture) -> anyhow::Result<()> {
    let tmp = prepare(fixture)?;
    // Every check, the reviewer-only ones too: the fixtures judge the checks themselves. The
    // time limits are doubled: on a 2-core CI machine three topics' stacks and builds run at once
    // beside the browser tests, and a check out of time is an `error`, no verdict at all. The
    // verdict bounds that belong to the challenge (monitoring's incident window) do not scale.
    let (out, report) = run_topic(
        &tmp.path().join("work"),
        topic,
        &[
            "--audience",
            "reviewer",
            "--timeout-factor",
            FIXTURE_TIMEOUT_FACTOR,
        ],
    )?;
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
                    .take(12)
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

/// Runs the given fixtures of a topic, `jobs` at a time, and fails with all mismatches at once.
pub fn check_fixtures(topic: &str, fixtures: &[Fixture], jobs: usize) -> anyhow::Result<()> {
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

/// The check `id` of the report's first topic (a report of one `--topic` run); panics, naming the
/// check, when the report lacks it.
pub fn first_topic_check(report: &Report, id: &str) -> sre_model::CheckResult {
    report
        .topics
        .first()
        .and_then(|t| t.checks.iter().find(|c| c.id == id))
        .unwrap_or_else(|| panic!("check {id} is not in the report: {report:?}"))
        .clone()
}

/// `docker compose --project-name <project> build` in `dir`, once before a topic's cases start, so
/// they find every layer cached instead of each building the same images; prints its time.
pub fn compose_build_once(dir: &Path, project: &str) {
    let started = Instant::now();
    let status = Command::new("docker")
        .args(["compose", "--project-name", project, "build", "--quiet"])
        .current_dir(dir)
        .status()
        .expect("docker compose runs");
    assert!(
        status.success(),
        "building the images of {} failed",
        dir.display()
    );
    eprintln!(
        "built the images of {} in {:.0} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}

/// Ids of containers that carry `label` (`key=value`), running or not.
pub fn containers_with_label(label: &str) -> Vec<String> {
    docker_objects(&["ps", "--all", "--quiet"], label)
}

/// What `docker <list…> --filter label=<label>` prints, one item a word: e.g.
/// `docker_objects(&["volume", "ls", "--quiet"], "com.docker.compose.project=x")`.
pub fn docker_objects(list: &[&str], label: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(list)
        .args(["--filter", &format!("label={label}")])
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A `sre-check run` in the background, its stderr arriving line by line, to interrupt it.
pub struct BackgroundRun {
    child: Child,
    /// Its stderr lines, as they come.
    pub stderr: Receiver<String>,
    /// `io.sre-check.run=<id>`: the label of the run's Docker objects (its first stderr line).
    pub run_label: String,
}

impl BackgroundRun {
    /// Starts `sre-check run --topic <topic> --dir <work>` and reads its run label.
    pub fn start(work: &Path, topic: &str) -> BackgroundRun {
        BackgroundRun::start_with(work, &["--topic", topic])
    }

    /// Starts `sre-check run --dir <work> <args…>` and reads its run label.
    pub fn start_with(work: &Path, args: &[&str]) -> BackgroundRun {
        let mut child = Command::new(sre_check_bin())
            .args(["run", "--dir"])
            .arg(work)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sre-check starts");
        let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let run_label = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .and_then(|l| l.split_whitespace().last().map(str::to_owned))
            .filter(|l| l.starts_with("io.sre-check.run="))
            .expect("sre-check names the run label first");
        BackgroundRun {
            child,
            stderr: rx,
            run_label,
        }
    }

    /// Waits until `ready` holds (polled every 200 ms); panics with sre-check's output if the run
    /// ends first or `within` passes.
    pub fn wait_for(&mut self, what: &str, within: Duration, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + within;
        while !ready() {
            if let Some(status) = self.child.try_wait().expect("waiting for sre-check") {
                let rest: Vec<String> = self.stderr.try_iter().collect();
                panic!(
                    "sre-check ended ({status}) before {what}:\n{}",
                    rest.join("\n")
                );
            }
            assert!(Instant::now() < deadline, "{what}: never happened");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends SIGINT (Ctrl-C), waits for the exit (at most `within`), and returns the exit
    /// status with the stderr lines not read yet.
    pub fn interrupt(mut self, within: Duration) -> (ExitStatus, Vec<String>) {
        let interrupted = Instant::now();
        let kill = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for sre-check") {
                break status;
            }
            assert!(
                interrupted.elapsed() < within,
                "sre-check did not stop within {within:?} after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        (status, self.stderr.try_iter().collect())
    }
}
