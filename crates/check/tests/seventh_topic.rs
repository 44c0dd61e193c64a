//! A seventh topic with only a written answer (tests/seventh-topic/topic.toml) needs no code in
//! the checker: the registry has no suite for it, and the generic answer check serves it, with the
//! reviewer hints its manifest entry declares.

use sre_check::options::TopicOptions;
use sre_check::progress::Progress;
use sre_check::runner::RunEnv;
use sre_check::topics;
use sre_check::workdir::WorkDir;
use sre_model::{Manifest, Status, TopicReport};

/// The challenge as shipped, plus the seventh topic.
fn manifest_with_seventh_topic() -> Manifest {
    let text = format!(
        "{}\n{}",
        include_str!("../../../content/challenge.toml"),
        include_str!("../../../tests/seventh-topic/topic.toml")
    );
    Manifest::from_toml(&text).expect("the manifest with a seventh topic is valid")
}

/// Runs the seventh topic's checks in `dir` against `manifest`, as a candidate runs them.
fn check_oncall(manifest: &Manifest, dir: &std::path::Path) -> TopicReport {
    check_oncall_for(manifest, dir, sre_model::Audience::Candidate)
}

/// Runs the seventh topic's checks in `dir` for `audience`.
fn check_oncall_for(
    manifest: &Manifest,
    dir: &std::path::Path,
    audience: sre_model::Audience,
) -> TopicReport {
    let workdir = WorkDir::open(dir, manifest).expect("a working copy");
    let progress = Progress::new();
    let options = TopicOptions::default();
    let env = RunEnv {
        workdir: &workdir,
        manifest,
        docker: None,
        progress: &progress,
        options: &options,
        audience,
    };
    let oncall = manifest.topic("oncall").expect("the seventh topic");
    let mut reports = topics::run_topics(&env, &[oncall], 1);
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

#[test]
fn a_written_only_seventh_topic_is_checked_with_no_code_change() {
    let manifest = manifest_with_seventh_topic();
    let topic = manifest.topic("oncall").expect("the seventh topic");
    assert_eq!(topic.roman(), "VII");
    assert!(
        topics::suite("oncall").is_none(),
        "the seventh topic has no module"
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("work");
    sre_check::init::init(&dir, false).expect("the starter kit");

    let missing = check_oncall(&manifest, &dir);
    assert_eq!(missing.id, "oncall");
    assert_eq!(missing.status, Status::Fail);
    let check = &missing.checks[0];
    assert_eq!(
        (check.id.as_str(), check.title.as_str()),
        ("answers", "oncall/rotation.md is written")
    );
    assert!(
        check
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("oncall/rotation.md")),
        "{check:?}"
    );
    assert!(missing.signals.is_empty(), "no answer, no hints");

    std::fs::create_dir_all(dir.join("oncall")).unwrap();
    let template = topic.answers[0].template.clone().unwrap_or_default();
    std::fs::write(dir.join("oncall/rotation.md"), &template).unwrap();
    let unchanged = check_oncall(&manifest, &dir);
    assert_eq!(unchanged.status, Status::Fail, "{unchanged:?}");

    let answer = template.replace(
        "## Rotation\n",
        "## Rotation\nWeekly shifts with a written handover on Mondays.\n",
    );
    std::fs::write(dir.join("oncall/rotation.md"), answer).unwrap();
    let written = check_oncall(&manifest, &dir);
    assert_eq!(written.status, Status::Pass, "{written:?}");
    let signals: Vec<(&str, bool)> = written
        .signals
        .iter()
        .map(|s| (s.id.as_str(), s.present))
        .collect();
    assert_eq!(
        signals,
        [("handover", true)],
        "a candidate's run computes only the aids meant for candidates"
    );
    let for_reviewer = check_oncall_for(&manifest, &dir, sre_model::Audience::Reviewer);
    let signals: Vec<(&str, bool)> = for_reviewer
        .signals
        .iter()
        .map(|s| (s.id.as_str(), s.present))
        .collect();
    assert_eq!(signals, [("handover", true), ("escalation", false)]);
}
