//! Topic III (monitoring): the fixtures, including fault injection, and Ctrl-C in the middle of a
//! fault injection, which must leave nothing behind. The cases run several at a time, after one
//! shared build of the lab's images.

use std::time::{Duration, Instant};

use sre_e2e::checker::{self, BackgroundRun, Fixture, containers_with_label, docker_objects};

/// A fresh working copy with the reference solution (the temporary folder holds `work/`).
fn prepared_solution() -> tempfile::TempDir {
    let fixtures = checker::fixtures("monitoring").expect("monitoring fixtures");
    let solution = fixtures
        .iter()
        .find(|f| f.name == "monitoring/solution")
        .expect("a reference solution");
    checker::prepare(solution).expect("preparing the reference solution")
}

/// Builds the stack's images once, before the cases start: they all use the same images (only
/// mounted configuration differs), and parallel cold builds would each install the same Debian
/// packages at the same time.
fn build_images_once() {
    let work = prepared_solution();
    checker::compose_build_once(
        &work.path().join("work/monitoring"),
        &format!("sre-e2e-monitoring-build-{}", std::process::id()),
    );
}

/// Interrupts a run of the reference solution while the database and the web tier are stopped
/// for the fault injection: the run must end promptly with exit 2 and remove the whole stack
/// (containers, network, volumes) and the checker's own probe container.
fn ctrl_c_during_fault_injection() {
    let work = prepared_solution();
    let run = BackgroundRun::start(&work.path().join("work"), "monitoring");
    let run_id = run.run_label.trim_start_matches("io.sre-check.run=");
    let project = format!(
        "com.docker.compose.project=sre-check-monitoring-{}",
        &run_id[..8]
    );
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(900);
    while !seen
        .last()
        .is_some_and(|l: &String| l.contains("monitoring/fault-db:"))
    {
        let line = run
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("fault-db never started:\n{}", seen.join("\n")));
        seen.push(line);
    }
    // Time to stop the two containers.
    std::thread::sleep(Duration::from_secs(5));
    let containers = ["ps", "--all", "--quiet"];
    assert!(
        !docker_objects(&containers, &project).is_empty(),
        "the stack runs before the interruption"
    );
    let run_label = run.run_label.clone();
    let interrupted = Instant::now();
    let (status, rest) = run.interrupt(Duration::from_secs(120));
    assert_eq!(status.code(), Some(2), "stderr:\n{}", rest.join("\n"));
    assert_eq!(containers_with_label(&run_label), Vec::<String>::new());
    let kinds = [
        &containers[..],
        &["network", "ls", "--quiet"],
        &["volume", "ls", "--quiet"],
    ];
    for kind in kinds {
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

/// Stacks checked at once: the twelve cases in two waves. Each is a dozen containers whose
/// healthchecks and probes have timeouts: more at a time on a shared 2-core machine turns load
/// into false alarms (a blackbox probe that times out is a site that fails).
const FIXTURE_JOBS: usize = 6;

/// The lab's images built once, then the cases [`FIXTURE_JOBS`] at a time, beside the
/// interruption test.
pub fn fixtures(fixtures: Vec<Fixture>) -> anyhow::Result<()> {
    build_images_once();
    std::thread::scope(|scope| {
        let interruption = scope.spawn(ctrl_c_during_fault_injection);
        let checked = checker::check_fixtures("monitoring", &fixtures, FIXTURE_JOBS);
        if let Err(panic) = interruption.join() {
            if let Err(e) = &checked {
                eprintln!("{e:#}");
            }
            std::panic::resume_unwind(panic);
        }
        checked
    })
}
