//! Topic checks: feedback.

use crate::runner::TopicRun;

use super::answers;

/// Runs the checks of this topic.
pub fn run(run: &mut TopicRun) {
    answers::check(run);
}
