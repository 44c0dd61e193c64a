//! The command line without Docker: init, usage errors, the answers checks, exit codes.

use std::path::Path;
use std::process::{Command, Output};

use sre_model::Report;

fn sre_check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sre-check"))
        .args(args)
        .output()
        .expect("sre-check runs")
}

fn init(dir: &Path) {
    let out = sre_check(&["init", dir.to_str().expect("temp paths are UTF-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_writes_the_starter_kit_and_refuses_a_non_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("challenge");
    init(&dir);
    assert!(dir.join("README.md").is_file());
    assert!(dir.join("feedback.txt").is_file());

    let again = sre_check(&["init", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );

    std::fs::write(dir.join("feedback.txt"), "my feedback").unwrap();
    std::fs::write(dir.join("notes.md"), "mine").unwrap();
    let forced = sre_check(&["init", "--force", dir.to_str().unwrap()]);
    assert!(forced.status.success());
    assert_ne!(
        std::fs::read_to_string(dir.join("feedback.txt")).unwrap(),
        "my feedback"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.md")).unwrap(),
        "mine"
    );
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let not_workdir = sre_check(&["run", "--dir", tmp.path().to_str().unwrap()]);
    assert_eq!(not_workdir.status.code(), Some(2));
    assert!(stderr(&not_workdir).contains("is not a challenge working copy"));
    assert!(stderr(&not_workdir).contains("sre-check init"));
    assert_eq!(stderr(&not_workdir).trim().lines().count(), 1);

    let unknown = sre_check(&["run", "--topic", "kubernetes"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown topic `kubernetes`"));

    let dir = tmp.path().join("w");
    init(&dir);
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let report = blocker.join("report.json");
    let unwritable = sre_check(&[
        "run",
        "--dir",
        dir.to_str().unwrap(),
        "--topic",
        "feedback",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(
        stderr(&unwritable).contains("cannot create the report folder"),
        "{}",
        stderr(&unwritable)
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let help = sre_check(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for line in [
        "0  every check passed",
        "1  at least one check failed",
        "2  sre-check could not",
    ] {
        assert!(text.contains(line), "--help lacks `{line}`:\n{text}");
    }
}

#[test]
fn written_answers_pass_and_untouched_templates_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    init(&dir);
    let dir_arg = dir.to_str().unwrap();
    let run = |json: bool| {
        let mut args = vec![
            "run",
            "--dir",
            dir_arg,
            "--topic",
            "leadership",
            "--topic",
            "feedback",
        ];
        if json {
            args.push("--json");
        }
        sre_check(&args)
    };

    let first = run(true);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let report = Report::from_json(&first.stdout).expect("--json prints a valid report");
    let statuses: Vec<_> = report
        .topics
        .iter()
        .map(|t| (t.id.as_str(), t.checks[0].status.as_str()))
        .collect();
    assert_eq!(statuses, [("leadership", "fail"), ("feedback", "pass")]);
    let leadership = &report.topics[0].checks[0];
    assert!(
        leadership
            .evidence
            .contains("technical-leadership.md is unchanged"),
        "init writes the template, which is not an answer: {leadership:?}"
    );
    let feedback = &report.topics[1].checks[0];
    assert!(
        feedback
            .evidence
            .contains("feedback.txt: not written (optional)"),
        "{feedback:?}"
    );
    assert_eq!(feedback.hint, None);

    std::fs::write(
        dir.join("technical-leadership.txt"),
        "Strategy: move in three waves.",
    )
    .unwrap();
    std::fs::write(dir.join("feedback.txt"), "Clear, but long.").unwrap();
    let second = run(false);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    let saved = std::fs::read(dir.join(".sre-check/report.json")).unwrap();
    let report = Report::from_json(&saved).expect("the report file is valid");
    assert_eq!(report.overall(), sre_model::Status::Pass);
    let files: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        [
            "feedback.txt",
            "technical-leadership.md",
            "technical-leadership.txt"
        ],
        "the answer is read from the .txt although init wrote the .md template"
    );
}

#[test]
fn feedback_is_optional_whether_unchanged_or_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    init(&dir);
    let dir_arg = dir.to_str().unwrap();
    let run = || sre_check(&["run", "--json", "--dir", dir_arg, "--topic", "feedback"]);
    let unchanged = run();
    let clean = "exit code of a run where every check passes";
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{clean}: {}",
        stderr(&unchanged)
    );
    let report = Report::from_json(&unchanged.stdout).expect("a valid report");
    assert_eq!(report.overall(), sre_model::Status::Pass);
    assert!(
        report.topics[0].checks[0]
            .evidence
            .contains("not written (optional)")
    );
    std::fs::remove_file(dir.join("feedback.txt")).unwrap();
    let deleted = run();
    assert_eq!(
        deleted.status.code(),
        Some(0),
        "{clean}: {}",
        stderr(&deleted)
    );
}

#[test]
fn init_writes_the_answer_templates_and_keeps_written_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    init(&dir);
    let manifest = sre_model::Manifest::from_toml(include_str!("../../../content/challenge.toml"))
        .expect("the manifest is valid");
    let mut written = 0;
    for (_, slot) in manifest.slots() {
        if let Some(template) = &slot.template {
            let path = dir.join(slot.canonical_file());
            assert_eq!(
                std::fs::read_to_string(&path).unwrap_or_default(),
                *template,
                "{}",
                path.display()
            );
            written += 1;
        }
    }
    assert_eq!(
        written, 3,
        "packaging notes, monitoring answers, migration plan"
    );

    std::fs::write(dir.join("monitoring/answers.md"), "mine").unwrap();
    std::fs::write(dir.join("technical-leadership.txt"), "mine too").unwrap();
    std::fs::remove_file(dir.join("technical-leadership.md")).unwrap();
    let forced = sre_check(&["init", "--force", dir.to_str().unwrap()]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read_to_string(dir.join("monitoring/answers.md")).unwrap(),
        "mine"
    );
    assert!(
        !dir.join("technical-leadership.md").exists(),
        "an answer in the .txt the slot accepts is kept, and no template is added beside it"
    );
}

#[test]
fn an_unreachable_engine_stops_the_run_before_any_check() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    init(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_sre-check"))
        .args(["run", "--dir", dir.to_str().unwrap(), "--topic", "iac"])
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-engine.sock", tmp.path().display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("Docker engine not reachable"), "{err}");
    assert!(err.contains("sre-check doctor"), "{err}");
    assert!(
        !dir.join(".sre-check/report.json").exists(),
        "no check ran, no report"
    );
}
