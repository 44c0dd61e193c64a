//! sre-check's monitoring topic against the real Docker engine: the reference solution passes
//! every check, including fault injection, and each broken case fails the check it targets, with
//! evidence. The cases run in parallel.

use std::process::Command;
use std::time::Instant;

use sre_e2e::checker;

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

#[test]
fn monitoring_fixtures() {
    build_images_once();
    let jobs = checker::fixtures("monitoring").map_or(1, |f| f.len());
    checker::check_all("monitoring", jobs).unwrap();
}
