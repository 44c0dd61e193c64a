//! The topics' checks and the registry that finds them.
//!
//! The manifest is the registry of topics; this module is the registry of machine checks: one
//! table, [`registry`], from a topic id to its [`Suite`], which the topic's own module declares
//! (its check ids and the function that runs them). A topic the table does not name, such as one
//! with only written answers, needs no module: the generic answer check ([`answers`]) serves it.
//! Every topic then gets the reviewer hints its answer slots declare in the manifest.
//!
//! Adding a checked topic: a module here that declares `pub const SUITE`, and one line in
//! [`SUITES`].

mod answers;
mod first_build;
mod iac;
mod monitoring;
mod os;
mod postgres;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use sre_model::{Topic, TopicReport};

use crate::runner::{RunEnv, TopicRun};

/// The machine checks of one topic, declared by the topic's module.
#[derive(Debug)]
pub struct Suite {
    topic: &'static str,
    checks: &'static [&'static str],
    run_checks: fn(&mut TopicRun),
}

impl Suite {
    /// A suite for topic `topic` that runs `checks` (ids, in the manifest's order) with
    /// `run_checks`.
    pub const fn new(
        topic: &'static str,
        checks: &'static [&'static str],
        run_checks: fn(&mut TopicRun),
    ) -> Suite {
        Suite {
            topic,
            checks,
            run_checks,
        }
    }

    /// The id of the topic, as the manifest lists it.
    pub fn topic(&self) -> &'static str {
        self.topic
    }

    /// The ids of the checks, in the order the manifest lists them.
    pub fn checks(&self) -> &'static [&'static str] {
        self.checks
    }
}

/// Every topic that has machine checks of its own, one suite each.
static SUITES: [Suite; 4] = [iac::SUITE, os::SUITE, monitoring::SUITE, postgres::SUITE];

/// The registry of check suites: one per topic with machine checks of its own. The topics of the
/// manifest that are not here get the generic answer check.
pub fn registry() -> &'static [Suite] {
    &SUITES
}

/// The suite of topic `id`, if it has machine checks of its own.
pub fn suite(id: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.topic == id)
}

/// Runs the given topics, at most `jobs` at once, and returns their reports in the order given
/// (the manifest's), whatever order they finish in: each topic's suite, or the generic answer
/// check for a topic without one, then the reviewer hints of its answers. With `jobs` 1 they run
/// one after another, in order. Topics share nothing but the Docker engine (each names its
/// images and compose projects after the run and the topic), so they can overlap: they mostly
/// wait for builds, containers and Prometheus.
pub fn run_topics(env: &RunEnv, selected: &[&Topic], jobs: usize) -> Vec<TopicReport> {
    let jobs = jobs.clamp(1, selected.len().max(1));
    if jobs == 1 {
        return selected.iter().map(|topic| run_topic(env, topic)).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<TopicReport>>> = selected.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                // Each worker takes the next topic in manifest order until none is left.
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(topic) = selected.get(index) else {
                        break;
                    };
                    // A panic in one topic must not take the others down: it is that topic's error.
                    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_topic(env, topic)
                    }))
                    .unwrap_or_else(|_| crashed(env, topic));
                    *done[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
                }
            });
        }
    });
    selected
        .iter()
        .zip(done)
        .map(|(topic, slot)| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| crashed(env, topic))
        })
        .collect()
}

/// One topic: its checks, then its hints.
fn run_topic(env: &RunEnv, topic: &Topic) -> TopicReport {
    env.progress.topic(topic);
    let first_build = first_build::announce(env, topic);
    let mut topic_run = TopicRun::new(env, topic);
    match suite(topic.id.as_str()) {
        Some(suite) => (suite.run_checks)(&mut topic_run),
        None if !topic.answers.is_empty() || topic.check(answers::CHECK_ID).is_some() => {
            answers::check(&mut topic_run);
        }
        None => {}
    }
    answers::hint_signals(&mut topic_run);
    let report = topic_run.finish();
    first_build::remember(env, topic, first_build, &report);
    env.progress.topic_done(topic);
    report
}

/// The report of a topic whose checks panicked: every check an error.
fn crashed(env: &RunEnv, topic: &Topic) -> TopicReport {
    let mut topic_run = TopicRun::new(env, topic);
    for spec in &topic.checks {
        topic_run.record(
            &spec.id,
            Err(anyhow::anyhow!(
                "sre-check failed while checking this topic (a panic)"
            )),
            0,
        );
    }
    let report = topic_run.finish();
    env.progress.topic_done(topic);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check ids the manifest lists for `topic`.
    fn manifest_checks(topic: &Topic) -> Vec<&str> {
        topic.checks.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn every_suite_declares_the_checks_its_manifest_topic_lists() {
        let manifest = &crate::content::get().manifest;
        for suite in registry() {
            let topic = manifest.topic(suite.topic()).unwrap_or_else(|| {
                panic!(
                    "the checker has a suite for `{}`, which the manifest lacks",
                    suite.topic()
                )
            });
            assert_eq!(
                suite.checks(),
                manifest_checks(topic),
                "topic {}: the suite and challenge.toml list different checks",
                topic.id
            );
        }
    }

    #[test]
    fn topics_without_a_suite_list_only_the_generic_answer_check() {
        let manifest = &crate::content::get().manifest;
        for topic in &manifest.topics {
            if suite(topic.id.as_str()).is_none() {
                assert!(
                    manifest_checks(topic)
                        .iter()
                        .all(|c| *c == answers::CHECK_ID),
                    "topic {} lists machine checks but the checker has no suite for it",
                    topic.id
                );
            }
        }
        let checked: Vec<&str> = registry().iter().map(Suite::topic).collect();
        assert_eq!(checked, ["iac", "os", "monitoring", "postgres"]);
    }
}
