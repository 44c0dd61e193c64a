//! Topic checks: leadership.

use crate::runner::TopicRun;

use super::answers;

/// Runs the checks of this topic, then adds the reviewer hints for the written answer.
pub fn run(run: &mut TopicRun) {
    answers::check(run);
    answers::hint_signals(run);
}
