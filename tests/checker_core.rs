//! sre-check's core against the real Docker engine: Ctrl-C in the middle of a Docker build leaves
//! nothing behind, also when several topics run at once; topics run at once report what they
//! report one after another. (Every topic's fixtures, the answer-only ones too, run in
//! checker_topics.)

use std::process::Command;
use std::time::{Duration, Instant};

use sre_e2e::checker::{self, BackgroundRun, containers_with_label, init_work, sre_check_bin};
use sre_model::{Report, Status};

fn docker_stdout(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ctrl_c_during_a_build_stops_the_run_and_removes_its_containers() {
    let (_tmp, work) = init_work().expect("sre-check init");
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

fn running_commands() -> String {
    docker_stdout(&["ps", "--no-trunc", "--format", "{{.Command}}"])
}

#[test]
fn ctrl_c_during_a_concurrent_run_stops_and_cleans_up_every_topic() {
    let (_tmp, work) = init_work().expect("sre-check init");
    // Two topics, each held in a step of its own: iac in its `docker build`, monitoring in
    // `docker compose up --wait` (the reference solution, with one more service that never gets
    // healthy; Compose builds with BuildKit, whose build steps are no containers to see). The
    // markers are shell comments: an extra argument to `sleep` would end it at once.
    let iac_marker = format!("sigint-concurrent-iac-{}", std::process::id());
    let monitoring_marker = format!("sigint-concurrent-monitoring-{}", std::process::id());
    std::fs::write(
        work.join("infrastructure/Dockerfile"),
        format!("FROM debian:bookworm\nRUN sleep 3600 # {iac_marker}\n"),
    )
    .unwrap();
    checker::overlay(&checker::fixtures_root().join("monitoring/solution"), &work).unwrap();
    let compose = work.join("monitoring/docker-compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    let holder = format!(
        "services:\n  holder:\n    image: debian:bookworm\n    command: [\"sh\", \"-c\", \"sleep 600 # {monitoring_marker}\"]\n    healthcheck:\n      test: [\"CMD\", \"false\"]\n      interval: 5s\n      retries: 200\n"
    );
    assert!(text.contains("\nservices:\n"));
    std::fs::write(
        &compose,
        text.replacen("\nservices:\n", &format!("\n{holder}"), 1),
    )
    .unwrap();

    let mut run = BackgroundRun::start_with(
        &work,
        &["--jobs", "2", "--topic", "iac", "--topic", "monitoring"],
    );
    let run_label = run.run_label.clone();
    run.wait_for("both topics' held steps", Duration::from_secs(900), || {
        let running = running_commands();
        running.contains(&iac_marker) && running.contains(&monitoring_marker)
    });

    let (status, rest) = run.interrupt(Duration::from_secs(90));
    assert_eq!(
        status.code(),
        Some(2),
        "an interrupted run exits 2; stderr:\n{}",
        rest.join("\n")
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = docker_stdout(&["ps", "--all", "--no-trunc", "--format", "{{.Command}}"]);
        if !all.contains(&iac_marker) && !all.contains(&monitoring_marker) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a held container outlived the run"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(containers_with_label(&run_label), Vec::<String>::new());
    let project = run_label.rsplit('=').next().unwrap_or_default();
    let short: String = project.chars().take(8).collect();
    for kind in [["network", "ls"], ["volume", "ls"]] {
        let left = docker_stdout(&[
            kind[0],
            kind[1],
            "--quiet",
            "--filter",
            &format!("name=sre-check-monitoring-{short}"),
        ]);
        assert_eq!(left, "", "the monitoring project's {}s were left", kind[0]);
    }
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
    let report = Report::from_json(&report).unwrap();
    let ids: Vec<&str> = report.topics.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["iac", "monitoring"], "topics in manifest order");
    for (topic, held) in report.topics.iter().zip(["build", "stack"]) {
        let check = topic.checks.iter().find(|c| c.id == held).unwrap();
        assert_eq!(check.status, Status::Error, "{}: {check:?}", topic.id);
    }
}

/// A topic's verdicts: its id, each check's id, status and hint, and its signals (as JSON).
type TopicVerdicts = (String, Vec<(String, Status, Option<String>)>, String);

/// What a report concluded, without what depends on timing or on the run: per topic, in order,
/// each check's id, status and hint, and the signals. (Evidence holds times, build output that
/// depends on the cache, and the run id.)
fn verdicts(report: &Report) -> Vec<TopicVerdicts> {
    report
        .topics
        .iter()
        .map(|t| {
            let checks = t
                .checks
                .iter()
                .map(|c| (c.id.clone(), c.status, c.hint.clone()))
                .collect();
            (
                t.id.to_string(),
                checks,
                serde_json::to_string(&t.signals).expect("signals serialize"),
            )
        })
        .collect()
}

#[test]
fn topics_run_at_once_report_what_they_report_one_after_another() {
    let (_tmp, work) = init_work().expect("sre-check init");
    // The starter kit: its iac build fails for a privilege reason, postgres loads its database
    // in containers and finds the questions unanswered; the written topics are unchanged.
    let topics = [
        "--topic",
        "iac",
        "--topic",
        "postgres",
        "--topic",
        "leadership",
        "--topic",
        "feedback",
    ];
    let run = |jobs: &str| {
        let out = Command::new(sre_check_bin())
            .args(["run", "--json", "--jobs", jobs])
            .args(["--timeout-factor", checker::FIXTURE_TIMEOUT_FACTOR, "--dir"])
            .arg(&work)
            .args(topics)
            .output()
            .unwrap();
        let report = Report::from_json(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "--jobs {jobs}: no report ({e}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, report)
    };
    let (serial_out, serial) = run("1");
    let (concurrent_out, concurrent) = run("4");
    // On a mismatch, what each run did not pass, with its evidence: an `error` under a heavy
    // load (a timeout) reads differently from a changed verdict.
    let not_passed = |report: &Report| {
        report
            .topics
            .iter()
            .flat_map(|t| t.checks.iter().map(move |c| (t.id.as_str(), c)))
            .filter(|(_, c)| c.status != Status::Pass)
            .map(|(t, c)| format!("{t}/{}: {:?}: {}", c.id, c.status, c.evidence))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let explain = || {
        format!(
            "--jobs 1:\n{}\n--jobs 4:\n{}",
            not_passed(&serial),
            not_passed(&concurrent)
        )
    };
    assert_eq!(
        serial_out.status.code(),
        concurrent_out.status.code(),
        "{}",
        explain()
    );
    let ids: Vec<&str> = concurrent.topics.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["iac", "postgres", "leadership", "feedback"]);
    assert_eq!(verdicts(&serial), verdicts(&concurrent), "{}", explain());
    // The written topics' evidence does not depend on time: all of it is the same.
    for (a, b) in serial.topics.iter().zip(&concurrent.topics).skip(2) {
        assert_eq!(a, b);
    }
    // Progress: each topic's block, in manifest order, after the topics ran at once.
    let stderr = String::from_utf8_lossy(&concurrent_out.stderr);
    let titles: Vec<usize> = ["(iac)", "(postgres)", "(leadership)", "(feedback)"]
        .iter()
        .map(|t| {
            stderr
                .lines()
                .position(|l| l.ends_with(t))
                .unwrap_or_else(|| panic!("no block for {t} in:\n{stderr}"))
        })
        .collect();
    assert!(titles.windows(2).all(|w| w[0] < w[1]), "{stderr}");
}
