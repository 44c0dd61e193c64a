//! A run's cleanup against the real Docker engine: a `docker` client killed mid-request leaves the
//! request with the engine, which may create a container after the cleanup's first sweep listed
//! what there was. The cleanup must find and remove that container too.

use std::process::Command;
use std::time::{Duration, Instant};

use sre_check::docker::{self, Docker, LABEL_RUN, RunSpec};

fn containers(label: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "--all",
            "--quiet",
            "--filter",
            &format!("label={label}"),
        ])
        .output()
        .expect("docker ps runs");
    assert!(out.status.success(), "docker ps: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn cleanup_after_a_killed_client_removes_a_container_made_after_its_first_sweep() {
    let info = docker::probe().expect("the Docker engine answers (scripts/setup starts it)");
    let run_id = sre_check::run_command::run_id();
    let docker = Docker::new(&run_id, info, 1.0);
    let label = format!("{LABEL_RUN}={run_id}");

    // A client killed at its timeout: its container goes on running, labelled with the run.
    let killed = docker.run(
        &RunSpec::new("debian:bookworm").args(["sleep", "600"]),
        Duration::from_secs(3),
    );
    assert!(killed.is_err(), "the run should time out: {killed:?}");
    let first = containers(&label);
    assert_eq!(first.len(), 1, "the killed client's container runs");

    // The engine finishing a request late: a labelled container made once the first sweep has
    // removed the first one.
    let late = std::thread::spawn({
        let label = label.clone();
        let first = first[0].clone();
        move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while containers(&label).contains(&first) {
                assert!(Instant::now() < deadline, "the first sweep never ran");
                std::thread::sleep(Duration::from_millis(20));
            }
            let out = Command::new("docker")
                .args([
                    "create",
                    "--label",
                    &label,
                    "--label",
                    &format!("{}=true", docker::LABEL_MANAGED),
                    "debian:bookworm",
                    "true",
                ])
                .output()
                .expect("docker create runs");
            assert!(out.status.success(), "docker create: {out:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        }
    });
    let removed = docker.cleanup();
    let late = late.join().expect("the late create");
    let left = containers(&label);
    // Whatever happened, nothing of this test stays on the engine.
    if !left.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "--force"])
            .args(&left)
            .output();
    }
    assert_eq!(left, Vec::<String>::new(), "the late container was left");
    assert!(
        removed.containers.iter().any(|c| late.starts_with(c)),
        "cleanup reports the late container {late}: {removed:?}"
    );
}
