//! Topic IV (postgres): the fixtures, beside the README's commands as a candidate types them, and
//! the measurement scripts/bench-postgres runs.
//!
//! The database image (apt install of postgresql-15) is built once before the cases start, so that
//! the parallel cases share its layers instead of each running apt on a cold cache.

// Test code, where an unwrap's panic is the failure; clippy cannot tell without #[test].
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use libtest_mimic::Trial;
use sre_e2e::checker::{self, Fixture, fixtures_root, sre_check_bin};
use sre_e2e::repo_root;

use crate::trial;

/// All five cases at once: each loads its own database, the load is mostly waiting on one core.
const JOBS: usize = 5;

fn handed_out_dir() -> PathBuf {
    repo_root().join("content/postgres")
}

/// Builds the handed-out compose file's image, so the cases find every layer cached.
fn build_image_once() {
    checker::compose_build_once(&handed_out_dir(), "sre-e2e-postgres-build");
}

/// The topic's own tests: the measurement, ignored unless asked for (`--ignored`).
pub fn tests() -> Vec<Trial> {
    vec![
        trial("postgres::measure_reference_solution", || {
            measure_reference_solution();
            Ok(())
        })
        .with_ignored_flag(true),
    ]
}

/// The image built once, then every case beside the README's commands.
pub fn fixtures(fixtures: Vec<Fixture>) -> anyhow::Result<()> {
    build_image_once();
    std::thread::scope(|scope| {
        let readme = scope.spawn(readme_commands_run_as_written);
        let started = Instant::now();
        let checked = checker::check_fixtures("postgres", &fixtures, JOBS);
        eprintln!(
            "postgres fixtures: {:.0} s",
            started.elapsed().as_secs_f64()
        );
        if let Err(panic) = readme.join() {
            if let Err(e) = &checked {
                eprintln!("{e:#}");
            }
            std::panic::resume_unwind(panic);
        }
        checked
    })
}

/// The `sh` block of the README that starts with `cd postgres`, one command per line.
fn readme_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(handed_out_dir().join("README.md")).expect("postgres README");
    let block = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(code, _)| code))
        .find(|code| code.starts_with("cd postgres\n"))
        .expect("the README has a ```sh block that starts with `cd postgres`");
    block.lines().skip(1).map(str::to_owned).collect()
}

/// Runs the README's commands in a fresh working copy with the reference solution.sql, under a
/// project name of its own; takes the project down whatever happens.
fn readme_commands_run_as_written() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let work = tmp.path().join("work");
    let init = Command::new(sre_check_bin())
        .arg("init")
        .arg(&work)
        .output()
        .expect("sre-check runs");
    assert!(init.status.success());
    std::fs::copy(
        fixtures_root().join("postgres/solution/postgres/solution.sql"),
        work.join("postgres/solution.sql"),
    )
    .expect("copying the reference solution.sql");
    let dir = work.join("postgres");
    let project = format!("sre-e2e-postgres-readme-{}", std::process::id());
    let _down = ComposeDown {
        dir: dir.clone(),
        project: project.clone(),
    };
    let started = Instant::now();
    for command in readme_commands() {
        let out = Command::new("sh")
            .args(["-c", &command])
            .current_dir(&dir)
            .env("COMPOSE_PROJECT_NAME", &project)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "README command `{command}` failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("README commands: {:.0} s", started.elapsed().as_secs_f64());
}

/// `docker compose down --volumes` on drop, so a failed assertion leaves nothing running.
struct ComposeDown {
    dir: PathBuf,
    project: String,
}

impl Drop for ComposeDown {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["compose", "down", "--volumes", "--timeout", "5"])
            .current_dir(&self.dir)
            .env("COMPOSE_PROJECT_NAME", &self.project)
            .output();
    }
}

/// The measurements the topic's issue asks for, on the reference solution: how long the dump
/// takes to load, the before/after ratios of each query, and the run time of the whole topic.
/// `scripts/bench-postgres` runs it.
fn measure_reference_solution() {
    build_image_once();
    let fixture = checker::fixtures("postgres")
        .unwrap()
        .into_iter()
        .find(|f: &Fixture| f.name == "postgres/solution")
        .expect("the reference solution fixture");
    let tmp = checker::prepare(&fixture).unwrap();
    let started = Instant::now();
    let (_, report) = checker::run_topic(&tmp.path().join("work"), "postgres", &[]).unwrap();
    let total = started.elapsed().as_secs_f64();
    let topic = &report.topics[0];
    println!("topic postgres, reference solution: {total:.1} s in total");
    for check in &topic.checks {
        println!(
            "  {:<22} {:<5} {:>6.1} s",
            check.id,
            check.status.as_str(),
            check.duration_ms as f64 / 1000.0
        );
        let wanted = |l: &&str| {
            l.starts_with("loaded in")
                || l.starts_with("loading")
                || l.starts_with("started and loaded")
                || l.starts_with("buffers:")
                || l.starts_with("time:")
        };
        for line in check.evidence.lines().filter(wanted) {
            println!("      {line}");
        }
    }
}
