//! The toolkit a topic's checks use: [`TopicRun`] records outcomes, [`CheckCtx`] is what a check
//! sees, [`Verdict`] is what it concludes. Which topics run, and with which checks, is
//! [`crate::topics`]'s business; this module knows no topic.
//!
//! A topic module calls [`TopicRun::check`] once per check with a closure that returns a
//! [`Verdict`]. The runner times it, shows progress, and turns errors into `error` results: an
//! `Err` from a check is by definition the environment's or the checker's problem, never the
//! candidate's (see [`Verdict::fail`] for that).
//!
//! A run is made for an audience ([`RunEnv::audience`]): a check the manifest gives to reviewers
//! is neither run nor recorded in a candidate's run, so its result cannot reach the candidate's
//! terminal or report. The topics call every check as usual; [`TopicRun`] leaves out the ones
//! the audience does not see.

use std::time::Instant;

use sre_model::report::{CheckResult, EVIDENCE_LIMIT, HINT_LIMIT, Signal, truncate_evidence};
use sre_model::{Audience, Manifest, Status, Topic, TopicReport};

use crate::cancel;
use crate::docker::Docker;
use crate::options::TopicOptions;
use crate::process::RunError;
use crate::progress::{CheckProgress, Progress};
use crate::workdir::WorkDir;

/// What every check can use.
pub struct RunEnv<'a> {
    /// The candidate's working copy.
    pub workdir: &'a WorkDir,
    /// The challenge manifest.
    pub manifest: &'a Manifest,
    /// The Docker driver, when a selected topic needs it (the preflight made sure it answers).
    pub docker: Option<&'a Docker>,
    /// The progress display.
    pub progress: &'a Progress,
    /// Options of the topics' checks set with `--set <topic>.<name>=<value>`.
    pub options: &'a TopicOptions,
    /// Whose run this is: a candidate's runs only the checks meant for candidates; a reviewer's
    /// (the verification worker, the tests of the checks) runs them all.
    pub audience: Audience,
}

/// What a check concluded about the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The submission does what was asked; the evidence shows it.
    Pass {
        /// What the check saw.
        evidence: String,
    },
    /// The submission is wrong.
    Fail {
        /// What the check saw: expected, found, where (file:line).
        evidence: String,
        /// What to change.
        hint: String,
    },
    /// The check does not apply (e.g. an earlier check it depends on failed).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// A pass with its evidence.
    pub fn pass(evidence: impl Into<String>) -> Verdict {
        Verdict::Pass {
            evidence: evidence.into(),
        }
    }

    /// A failure: what was found, and what to change.
    pub fn fail(evidence: impl Into<String>, hint: impl Into<String>) -> Verdict {
        Verdict::Fail {
            evidence: evidence.into(),
            hint: hint.into(),
        }
    }

    /// The verdict with `line` added to its evidence (a skip has none).
    pub fn with_evidence_line(self, line: Option<&str>) -> Verdict {
        let Some(line) = line else {
            return self;
        };
        match self {
            Verdict::Pass { evidence } => Verdict::pass(format!("{evidence}\n{line}")),
            Verdict::Fail { evidence, hint } => Verdict::fail(format!("{evidence}\n{line}"), hint),
            skipped => skipped,
        }
    }

    /// Not run, and why.
    pub fn skipped(reason: impl Into<String>) -> Verdict {
        Verdict::Skipped {
            reason: reason.into(),
        }
    }
}

/// What a check closure gets: the run environment and its own progress line.
pub struct CheckCtx<'a> {
    /// The run environment.
    pub env: &'a RunEnv<'a>,
    /// The topic being checked.
    pub topic: &'a Topic,
    progress: &'a CheckProgress,
}

impl CheckCtx<'_> {
    /// The Docker driver; an error if no topic of this run asked for it.
    pub fn docker(&self) -> anyhow::Result<&Docker> {
        self.env
            .docker
            .ok_or_else(|| anyhow::anyhow!("this check needs Docker but the topic does not declare `docker = true` in challenge.toml"))
    }

    /// The working copy.
    pub fn workdir(&self) -> &WorkDir {
        self.env.workdir
    }

    /// Shows a line of what the check is doing (e.g. build output) on the progress display.
    pub fn note(&self, line: &str) {
        self.progress.note(line);
    }
}

/// The checks of one topic being run.
pub struct TopicRun<'a> {
    env: &'a RunEnv<'a>,
    topic: &'a Topic,
    results: Vec<CheckResult>,
    signals: Vec<Signal>,
}

impl<'a> TopicRun<'a> {
    /// Starts recording the checks of `topic`.
    pub fn new(env: &'a RunEnv<'a>, topic: &'a Topic) -> TopicRun<'a> {
        TopicRun {
            env,
            topic,
            results: Vec::new(),
            signals: Vec::new(),
        }
    }

    /// The topic.
    pub fn topic(&self) -> &'a Topic {
        self.topic
    }

    /// The run environment.
    pub fn env(&self) -> &'a RunEnv<'a> {
        self.env
    }

    /// Whether the audience of this run sees check `id` (a check the manifest does not list is
    /// shown, so a mistake in the manifest cannot hide a result).
    pub fn runs(&self, id: &str) -> bool {
        self.topic
            .check(id)
            .is_none_or(|c| self.env.audience.sees(c.audience))
    }

    /// Runs the check `id` (listed in the manifest for this topic) and records its outcome.
    /// Returns its status so later checks can depend on it. A check the run's audience does not
    /// see is not run, and reported to the caller as skipped.
    pub fn check(
        &mut self,
        id: &str,
        check_fn: impl FnOnce(&CheckCtx) -> anyhow::Result<Verdict>,
    ) -> Status {
        if !self.runs(id) {
            return Status::Skipped;
        }
        let title = self.title(id);
        if cancel::requested() {
            return self.record(id, Ok(Verdict::skipped("the run was interrupted")), 0);
        }
        let progress = self.env.progress.check(self.topic, id, &title);
        let started = Instant::now();
        let ctx = CheckCtx {
            env: self.env,
            topic: self.topic,
            progress: &progress,
        };
        let outcome = check_fn(&ctx);
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = self.record(id, outcome, millis);
        if let Some(result) = self.results.last() {
            progress.finish(result);
        }
        status
    }

    /// Records a check as skipped without running it (e.g. it depends on a check that failed).
    pub fn skip(&mut self, id: &str, reason: &str) -> Status {
        self.record(id, Ok(Verdict::skipped(reason)), 0)
    }

    /// Adds an observation for the reviewer (never pass/fail).
    pub fn signal(&mut self, id: &str, label: &str, present: bool) {
        self.signals.push(Signal {
            id: id.to_owned(),
            label: label.to_owned(),
            present,
        });
    }

    /// Records an outcome computed elsewhere (e.g. by checks run in parallel threads); nothing
    /// for a check the run's audience does not see.
    pub fn record(
        &mut self,
        id: &str,
        outcome: anyhow::Result<Verdict>,
        duration_ms: u64,
    ) -> Status {
        if !self.runs(id) {
            return Status::Skipped;
        }
        let (status, evidence, hint) = match outcome {
            Ok(Verdict::Pass { evidence }) => (Status::Pass, evidence, None),
            Ok(Verdict::Fail { evidence, hint }) => (Status::Fail, evidence, Some(hint)),
            Ok(Verdict::Skipped { reason }) => (Status::Skipped, reason, None),
            Err(err) => {
                let (evidence, hint) = describe_error(&err);
                (Status::Error, evidence, Some(hint))
            }
        };
        self.results.push(CheckResult {
            id: id.to_owned(),
            title: self.title(id),
            status,
            duration_ms,
            evidence: truncate_evidence(&evidence, EVIDENCE_LIMIT),
            hint: hint.map(|h| truncate_evidence(&h, HINT_LIMIT)),
        });
        status
    }

    fn title(&self, id: &str) -> String {
        self.topic
            .check(id)
            .map_or_else(|| id.to_owned(), |c| c.title.clone())
    }

    /// The topic's report: every check the manifest lists for the run's audience appears, those
    /// that did not run as skipped, so a report always shows the whole topic.
    pub fn finish(mut self) -> TopicReport {
        for spec in self.topic.checks_for(self.env.audience) {
            if !self.results.iter().any(|r| r.id == spec.id) {
                let reason = if cancel::requested() {
                    "the run was interrupted"
                } else {
                    "not run: an earlier check of this topic did not pass"
                };
                self.skip(&spec.id, reason);
            }
        }
        TopicReport::new(self.topic.id.clone(), self.results, self.signals)
    }
}

/// Evidence and hint for a check that could not reach a verdict.
fn describe_error(err: &anyhow::Error) -> (String, String) {
    let evidence = format!("{err:#}");
    let hint = match err.downcast_ref::<RunError>() {
        Some(RunError::Timeout { output, .. }) => {
            return (
                format!("{evidence}\n{}", crate::docker::tail(output, 40)),
                "The check ran out of time. Is the machine busy, or is the network slow? Re-run, or \
                 allow more time with --timeout-factor 2."
                    .to_owned(),
            );
        }
        Some(RunError::Interrupted { .. }) => "The run was interrupted.".to_owned(),
        _ => "This is a problem of the environment or of sre-check, not of your work. Run \
              `sre-check doctor`, fix what it reports, and run the check again."
            .to_owned(),
    };
    (evidence, hint)
}

/// A check started with [`TopicRun::spawn`], running on its own thread.
pub struct SpawnedCheck<'scope> {
    id: String,
    /// None when the run's audience does not see the check: nothing was started.
    handle: Option<
        std::thread::ScopedJoinHandle<'scope, (anyhow::Result<Verdict>, u64, CheckProgress)>,
    >,
}

// Checks that overlap: a topic starts a slow independent check (a linter, a second container)
// while it runs others, then records it in manifest order.
impl<'a> TopicRun<'a> {
    /// Starts check `id` on a thread of `scope`, so it runs while the checks after it run. Its
    /// progress line shows at once; [`TopicRun::join`] records its outcome.
    pub fn spawn<'scope, F>(
        &self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        id: &str,
        check_fn: F,
    ) -> SpawnedCheck<'scope>
    where
        'a: 'scope,
        F: FnOnce(&CheckCtx) -> anyhow::Result<Verdict> + Send + 'scope,
    {
        if !self.runs(id) {
            return SpawnedCheck {
                id: id.to_owned(),
                handle: None,
            };
        }
        let (env, topic, title) = (self.env, self.topic, self.title(id));
        let label = id.to_owned();
        let handle = scope.spawn(move || {
            let progress = env.progress.check(topic, &label, &title);
            if cancel::requested() {
                return (Ok(Verdict::skipped("the run was interrupted")), 0, progress);
            }
            let started = Instant::now();
            let ctx = CheckCtx {
                env,
                topic,
                progress: &progress,
            };
            let outcome = check_fn(&ctx);
            let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            (outcome, millis, progress)
        });
        SpawnedCheck {
            id: id.to_owned(),
            handle: Some(handle),
        }
    }

    /// Waits for a spawned check and records its outcome (a panic in it is an `error`).
    pub fn join(&mut self, check: SpawnedCheck) -> Status {
        let Some(handle) = check.handle else {
            return Status::Skipped;
        };
        match handle.join() {
            Ok((outcome, millis, progress)) => {
                let status = self.record(&check.id, outcome, millis);
                if let Some(result) = self.results.last() {
                    progress.finish(result);
                }
                status
            }
            Err(_) => self.record(
                &check.id,
                Err(anyhow::anyhow!(
                    "sre-check failed inside this check (a panic)"
                )),
                0,
            ),
        }
    }
}
