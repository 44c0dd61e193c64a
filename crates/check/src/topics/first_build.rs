//! The first run of a Docker topic builds its images, which takes minutes before any check can
//! say anything: `sre-check run` says so, with the duration measured for the manifest
//! (`first_build_minutes`), so a candidate does not count it against the topic's time box or
//! think the checker hangs.
//!
//! "First" means the first run of the topic in this working copy that ran without an error: a
//! marker in `.sre-check/` records it. Docker's cache outlives a working copy, so a later copy may
//! build faster than announced.

use sre_model::{Status, Topic, TopicReport};

use crate::runner::RunEnv;

/// The marker of topic `id`, relative to the working copy.
fn marker(id: &str) -> String {
    format!(".sre-check/built/{id}")
}

/// Announces the first build of `topic`'s images when this working copy has not built them yet;
/// returns whether it did.
pub fn announce(env: &RunEnv, topic: &Topic) -> bool {
    let Some(minutes) = topic.first_build_minutes.filter(|_| topic.docker) else {
        return false;
    };
    if env.workdir.path(&marker(topic.id.as_str())).exists() {
        return false;
    }
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    env.progress.announce(&format!(
        "First run of this topic: building its images took about {minutes} {unit} when \
         measured on a 2-core machine (scripts/bench-first-build); later runs reuse Docker's \
         cache. This is not part of the topic's time box."
    ));
    true
}

/// Records that the images were built once a run of the topic ended without an error (an
/// interrupted or broken build is announced again next time).
pub fn remember(env: &RunEnv, topic: &Topic, announced: bool, report: &TopicReport) {
    if !announced
        || crate::cancel::requested()
        || report.checks.iter().any(|c| c.status == Status::Error)
    {
        return;
    }
    let path = env.workdir.path(&marker(topic.id.as_str()));
    // Best effort: a missing marker only repeats the announcement.
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(&path, b"");
}
