//! Every topic of the manifest (content/challenge.toml) through `sre-check`, against the real
//! Docker engine: its fixtures (tests/fixtures/<topic>/, see `sre_e2e::checker`) must give the
//! verdicts their expected.json states, so a new topic's fixtures run without a new test file.
//!
//! One trial per topic, `<topic>::fixtures`, which runs the topic's cases in parallel; a topic
//! may also prepare shared work first (warm image layers) and add tests of its own,
//! `<topic>::<name>` (interruptions, the README's commands): see the modules below. nextest runs
//! each trial in its own process, so .config/nextest.toml can group the image-building ones.
//! `fixtures_are_complete` checks that every topic with machine checks has a solution and a
//! broken case, and that the checker checks no topic the manifest lacks.

mod iac;
mod monitoring;
mod os;
mod postgres;

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use sre_e2e::checker::{self, checked_topics, fixtures_root};

/// Cases of a topic run at once when the topic says nothing else.
const DEFAULT_JOBS: usize = 3;
/// Trials at once under `cargo test` (nextest runs one per process, and its `docker-labs` group
/// allows three of the image-building ones): more would start every topic's images together.
const DEFAULT_THREADS: usize = 3;

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    args.test_threads = args.test_threads.or(Some(DEFAULT_THREADS));
    match trials() {
        Ok(trials) => libtest_mimic::run(&args, trials).exit_code(),
        Err(e) => {
            eprintln!("checker_topics: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The completeness checks, then each topic of the manifest that has fixtures, in manifest order.
fn trials() -> anyhow::Result<Vec<Trial>> {
    let manifest = sre_e2e::site::manifest()?;
    let topics: Vec<String> = manifest
        .topics
        .iter()
        .map(|t| t.id.as_str().to_owned())
        .collect();
    let mut trials = vec![
        trial("fixtures_are_complete", {
            let topics = topics.clone();
            move || complete(&topics)
        }),
        trial("fixtures_completeness_finds_gaps", completeness_finds_gaps),
    ];
    for topic in topics {
        if fixtures_root().join(&topic).is_dir() {
            let id = topic.clone();
            trials.push(trial(&format!("{topic}::fixtures"), move || {
                run_fixtures(&id)
            }));
        }
        trials.extend(own_tests(&topic));
    }
    Ok(trials)
}

/// A trial whose error (with its causes) is the failure message.
pub fn trial(name: &str, test: impl FnOnce() -> anyhow::Result<()> + Send + 'static) -> Trial {
    Trial::test(name, move || {
        test().map_err(|e| Failed::from(format!("{e:#}")))
    })
}

/// Tests a topic adds beside its fixtures.
fn own_tests(topic: &str) -> Vec<Trial> {
    match topic {
        "iac" => iac::tests(),
        "os" => os::tests(),
        "postgres" => postgres::tests(),
        _ => Vec::new(),
    }
}

/// Runs every fixture of `topic`, the topic's own way when it has one.
fn run_fixtures(topic: &str) -> anyhow::Result<()> {
    let fixtures = checker::fixtures(topic)?;
    anyhow::ensure!(
        !fixtures.is_empty(),
        "tests/fixtures/{topic}/ holds no solution/ and no broken/<case>/"
    );
    match topic {
        "iac" => iac::fixtures(fixtures),
        "monitoring" => monitoring::fixtures(fixtures),
        "postgres" => postgres::fixtures(fixtures),
        _ => checker::check_fixtures(topic, &fixtures, DEFAULT_JOBS),
    }
}

fn complete(topics: &[String]) -> anyhow::Result<()> {
    let problems = checker::completeness(topics, &checked_topics(), &fixtures_root())?;
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// The completeness check fails on each kind of gap (so `fixtures_are_complete` can fail).
fn completeness_finds_gaps() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let make = |path: &str| std::fs::create_dir_all(root.path().join(path));
    let solution = |topic: &str| {
        make(&format!("{topic}/solution"))?;
        std::fs::write(root.path().join(topic).join("solution/expected.json"), "{}")
    };
    solution("full")?;
    make("full/broken/one")?;
    solution("no-broken")?;
    make("no-solution/broken/one")?;
    solution("stray")?;
    make("full/solutions")?;
    make("full/solution-roles")?;
    let topics = ["full", "no-broken", "no-solution", "written", "absent"].map(String::from);
    let checked = ["full", "no-broken", "no-solution", "absent", "unlisted"].map(String::from);
    let found = checker::completeness(&topics, &checked, root.path())?;
    let expected = [
        "`unlisted`",
        "no-broken: no broken case",
        "no-solution: no solution",
        "absent: no solution",
        "absent: no broken case",
        "stray",
        "full/solutions",
    ];
    for e in expected {
        anyhow::ensure!(
            found.iter().any(|p| p.contains(e)),
            "`{e}` not reported in:\n{}",
            found.join("\n")
        );
    }
    anyhow::ensure!(
        !found.iter().any(|p| p.starts_with("full:")
            || p.contains("written")
            || p.contains("solution-roles")),
        "a complete or written-only topic was reported:\n{}",
        found.join("\n")
    );
    Ok(())
}
