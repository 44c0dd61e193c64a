//! Topic I, Infrastructure as Code: the candidate's playbook must let the Dockerfile build.

use std::time::Duration;

use crate::docker::tail;
use crate::runner::{TopicRun, Verdict};

use super::answers;

/// The folder of this topic in the working copy.
const DIR: &str = "infrastructure";

/// A build installs Ansible and runs the playbook; apt's lock timeout alone is about a minute.
const BUILD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Runs the checks of topic I.
pub fn run(run: &mut TopicRun) {
    answers::check(run);
    run.check("build", |ctx| {
        let dockerfile = format!("{DIR}/Dockerfile");
        if ctx.workdir().read(&dockerfile)?.is_none() {
            return Ok(Verdict::fail(
                format!("expected {dockerfile}; it does not exist"),
                "Restore the Dockerfile from the starter kit (`sre-check init` in another folder).",
            ));
        }
        ctx.workdir().read(&format!("{DIR}/playbook.yml"))?;
        let docker = ctx.docker()?;
        let tag = format!("sre-check/iac:{}", docker.run_id());
        let out = docker.build(&ctx.workdir().path(DIR), None, &tag, BUILD_TIMEOUT, &|l| {
            ctx.note(l)
        })?;
        if out.success() {
            Ok(Verdict::pass(tail(&out.combined(), 30)))
        } else {
            Ok(Verdict::fail(
                format!("`docker build {DIR}` failed:\n{}", out.combined()),
                "Read the first error of the build output above: the playbook task that failed and \
                 why. Reproduce it with `docker build .` in infrastructure/.",
            ))
        }
    });
}
