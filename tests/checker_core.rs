//! sre-check's core against the real Docker engine: Ctrl-C in the middle of a Docker build leaves
//! nothing behind. (Every topic's fixtures, the answer-only ones too, run in checker_topics.)

use std::process::Command;
use std::time::{Duration, Instant};

use sre_e2e::checker::{self, BackgroundRun, containers_with_label, sre_check_bin};

fn docker_stdout(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ctrl_c_during_a_build_stops_the_run_and_removes_its_containers() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let init = Command::new(sre_check_bin())
        .arg("init")
        .arg(&work)
        .status()
        .unwrap();
    assert!(init.success());
    // A build step that runs until stopped, with a marker to find its container.
    let marker = format!("sigint-test-{}", std::process::id());
    std::fs::create_dir_all(work.join("infrastructure")).unwrap();
    std::fs::write(
        work.join("infrastructure/Dockerfile"),
        format!("FROM debian:bookworm\nRUN sleep 600 # {marker}\n"),
    )
    .unwrap();

    let mut run = BackgroundRun::start(&work, "iac");
    let run_label = run.run_label.clone();

    let build_running =
        || docker_stdout(&["ps", "--no-trunc", "--format", "{{.Command}}"]).contains(&marker);
    run.wait_for("the build step", Duration::from_secs(120), build_running);

    let (status, rest) = run.interrupt(Duration::from_secs(60));
    assert_eq!(
        status.code(),
        Some(2),
        "an interrupted run exits 2; stderr:\n{}",
        rest.join("\n")
    );
    assert!(
        rest.iter().any(|l| l.contains("interrupted")),
        "{}",
        rest.join("\n")
    );

    // The engine removes a cancelled build's container asynchronously: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(20);
    while docker_stdout(&["ps", "--all", "--no-trunc", "--format", "{{.Command}}"])
        .contains(&marker)
    {
        assert!(
            Instant::now() < deadline,
            "the build container outlived the run"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(containers_with_label(&run_label), Vec::<String>::new());
    assert_eq!(
        docker_stdout(&[
            "image",
            "ls",
            "--quiet",
            "--filter",
            &format!("label={run_label}")
        ]),
        ""
    );

    let report = std::fs::read(work.join(".sre-check/report.json"))
        .expect("an interrupted run still writes its report");
    let report = sre_model::Report::from_json(&report).unwrap();
    let build = checker::first_topic_check(&report, "build");
    assert_eq!(build.status, sre_model::Status::Error, "{build:?}");
}
