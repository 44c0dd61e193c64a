//! sre-check's monitoring topic against the real Docker engine: the reference solution passes
//! every check, including fault injection, and each broken case fails the check it targets, with
//! evidence; Ctrl-C in the middle of a fault injection leaves nothing behind. Everything runs in
//! parallel, after one shared build of the lab's images.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sre_e2e::checker::{self, containers_with_label, sre_check_bin};

/// Builds the stack's images once, before the cases start: they all use the same images (only
/// mounted configuration differs), and parallel cold builds would each install the same Debian
/// packages at the same time.
fn build_images_once() {
    let fixtures = checker::fixtures("monitoring").expect("monitoring fixtures");
    let solution = fixtures
        .iter()
        .find(|f| f.name == "solutions/monitoring")
        .expect("a reference solution");
    let work = checker::prepare(solution).expect("preparing the reference solution");
    let started = Instant::now();
    let status = Command::new("docker")
        .args(["compose", "--project-name"])
        .arg(format!("sre-e2e-monitoring-build-{}", std::process::id()))
        .arg("build")
        .current_dir(work.path().join("work/monitoring"))
        .status()
        .expect("docker compose runs");
    assert!(status.success(), "building the lab's images failed");
    eprintln!(
        "built the lab's images in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Names of the Docker objects of `kind` (`ps --all`, `network ls`, `volume ls`) with `label`.
fn docker_objects(kind: &[&str], label: &str) -> Vec<String> {
    let format = if kind[0] == "ps" {
        "{{.Names}}"
    } else {
        "{{.Name}}"
    };
    let out = Command::new("docker")
        .args(kind)
        .args(["--filter", &format!("label={label}"), "--format", format])
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Interrupts a run of the reference solution while the database is stopped for the first fault
/// injection: the run must end promptly with exit 2 and remove the whole stack (containers,
/// network, volumes) and the checker's own probe container.
fn ctrl_c_during_fault_injection() {
    let fixtures = checker::fixtures("monitoring").expect("monitoring fixtures");
    let solution = fixtures
        .iter()
        .find(|f| f.name == "solutions/monitoring")
        .expect("a reference solution");
    let work = checker::prepare(solution).expect("preparing the reference solution");
    let mut child = Command::new(sre_check_bin())
        .args(["run", "--topic", "monitoring", "--dir"])
        .arg(work.path().join("work"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sre-check starts");
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
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
    let run_id = run_label.trim_start_matches("io.sre-check.run=");
    let project = format!(
        "com.docker.compose.project=sre-check-monitoring-{}",
        &run_id[..8]
    );
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("fault-db never started:\n{}", seen.join("\n")));
        let started = line.contains("monitoring/fault-db:");
        seen.push(line);
        if started {
            break;
        }
    }
    // Give it the time to stop the database.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !docker_objects(&["ps", "--all"], &project).is_empty(),
        "the stack runs before the interruption"
    );
    let interrupted = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for sre-check") {
            break status;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(120),
            "sre-check did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(2), "stderr:\n{}", rest.join("\n"));
    assert_eq!(containers_with_label(&run_label), Vec::<String>::new());
    for kind in [&["ps", "--all"][..], &["network", "ls"], &["volume", "ls"]] {
        assert_eq!(
            docker_objects(kind, &project),
            Vec::<String>::new(),
            "{kind:?} left behind by the interrupted run"
        );
    }
    eprintln!(
        "interrupted run cleaned up in {:.0} s",
        interrupted.elapsed().as_secs_f64()
    );
}

#[test]
fn monitoring_fixtures_and_interruption() {
    build_images_once();
    let jobs = checker::fixtures("monitoring").map_or(1, |f| f.len());
    std::thread::scope(|scope| {
        let interruption = scope.spawn(ctrl_c_during_fault_injection);
        let fixtures = checker::check_all("monitoring", jobs);
        let interruption = interruption.join();
        fixtures.unwrap();
        if let Err(panic) = interruption {
            std::panic::resume_unwind(panic);
        }
    });
}
