//! One module per topic. Each exposes `run(&mut TopicRun)`, which runs the topic's checks in
//! order through [`TopicRun::check`]; checks that need Docker go through [`crate::docker`].

mod answers;
mod feedback;
mod iac;
mod leadership;
mod monitoring;
mod os;
mod postgres;

use sre_model::TopicId;

use crate::runner::TopicRun;

/// Runs the checks of the topic `run` is for.
pub fn run(run: &mut TopicRun) {
    match run.topic().id {
        TopicId::Iac => iac::run(run),
        TopicId::Os => os::run(run),
        TopicId::Monitoring => monitoring::run(run),
        TopicId::Postgres => postgres::run(run),
        TopicId::Leadership => leadership::run(run),
        TopicId::Feedback => feedback::run(run),
    }
}
