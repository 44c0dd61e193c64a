//! Topic checks: monitoring. The candidate's compose stack is built and checked statically with
//! its own tools (promtool, amtool), started, then examined through Prometheus' API: targets,
//! rules and dashboards, silence while healthy, and alerts when the checker stops the database
//! and the web tier. The stack is taken down at the end, whatever happened.

mod alerts;
mod config;
mod dashboards;
mod faults;
mod files;
mod http;
mod live;
mod locate;
mod pace;
mod prometheus;
mod receivers;
mod rules;
mod stack;
mod targets;
mod timing;

use std::time::{Duration, Instant};

use sre_model::Status;

use self::live::Live;
use self::stack::{Opened, Stack};
use self::timing::Cadence;
use super::{Suite, answers};
use crate::cancel;
use crate::runner::{TopicRun, Verdict};

/// Service names the checker relies on (the starter compose file uses them).
const PROMETHEUS: &str = "prometheus";
const ALERTMANAGER: &str = "alertmanager";

/// Time for building the stack's images (a cold cache installs Debian packages).
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Time for `docker compose up --wait`: every service running, and healthy where it has a check.
const UP_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Below this much time left in [`UP_TIMEOUT`], a failed `up --wait` is final.
const UP_RETRY_MIN: Duration = Duration::from_secs(30);
/// Between two `up --wait` of a stack whose healthchecks failed.
const UP_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// Check ids, in manifest order.
mod id {
    pub const BUILD: &str = "build";
    pub const CONFIG: &str = "config";
    pub const RULE_TESTS: &str = "rule-tests";
    pub const STACK: &str = "stack";
    pub const TARGETS: &str = "targets";
    pub const RULES: &str = "rules";
    pub const QUIET: &str = "quiet";
    pub const FAULT_DB: &str = "fault-db";
    pub const FAULT_WEB: &str = "fault-web";
    pub const TEARDOWN: &str = "teardown";

    /// The checks that use Docker, in order.
    pub const WITH_DOCKER: [&str; 10] = [
        BUILD, CONFIG, RULE_TESTS, STACK, TARGETS, RULES, QUIET, FAULT_DB, FAULT_WEB, TEARDOWN,
    ];
}

/// Records every check listed after `done` (up to the teardown, which always runs) as skipped.
fn skip_after(run: &mut TopicRun, done: &str, reason: &str) {
    let rest = id::WITH_DOCKER
        .iter()
        .skip_while(|c| **c != done)
        .skip(1)
        .filter(|c| **c != id::TEARDOWN);
    for check in rest {
        run.skip(check, reason);
    }
}

/// The checks of topic III, in manifest order.
pub const SUITE: Suite = Suite::new(
    "monitoring",
    &[
        answers::CHECK_ID,
        "build",
        "config",
        "rule-tests",
        "stack",
        "targets",
        "rules",
        "quiet",
        "fault-db",
        "fault-web",
        "teardown",
    ],
    run_checks,
);

/// Runs the checks of topic III.
fn run_checks(run: &mut TopicRun) {
    answers::check(run);
    let Some(docker) = run.env().docker else {
        run.check(id::BUILD, |ctx| {
            ctx.docker().map(|_| Verdict::skipped("no Docker"))
        });
        return;
    };
    let workdir = run.env().workdir;
    let mut opened = None;
    let built = run.check(id::BUILD, |ctx| {
        let stack = match Stack::open(docker, workdir)? {
            Opened::Ready(stack) => stack,
            Opened::Invalid(message) => {
                return Ok(Verdict::fail(
                    format!("docker compose rejects monitoring/docker-compose.yml:\n{message}"),
                    "Compose cannot read monitoring/docker-compose.yml: its message above names \
                     the problem and where. \"What you get\" in monitoring/README.md describes \
                     the lab's files.",
                ));
            }
        };
        ctx.note("building the stack's images");
        let verdict = build(&stack)?;
        opened = Some(stack);
        Ok(verdict)
    });
    let Some(stack) = opened else {
        return;
    };
    let mut live = None;
    if built == Status::Pass {
        checks_with_images(run, &stack, &mut live);
    } else {
        skip_after(run, id::BUILD, "not run: the stack's images do not build");
    }
    run.check(id::TEARDOWN, |_| teardown(&stack, live.as_ref()));
}

/// Everything between the build and the teardown.
///
/// `docker compose up --wait` starts at once, beside the static checks: most of it is waiting
/// for the services' healthchecks, and the static checks only read files with the tools of the
/// images just built. The order of the checks and their verdicts stay the same: the stack's
/// result is recorded after them, and skipped when the configuration is not valid.
fn checks_with_images<'a>(run: &mut TopicRun, stack: &Stack<'a>, live: &mut Option<Live<'a>>) {
    let created = stack.docker.compose_create(&stack.project);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let up = scope.spawn(|| match created {
            // A stack that cannot even be created fails in `up`, with Compose's message.
            Ok(_) => stack_up(stack),
            Err(e) => Err(e.into()),
        });
        if static_checks(run, stack) != Status::Pass {
            if cancel::requested() {
                // Interrupted while `up` ran beside the static checks: the stack's step was
                // stopped, which is its outcome (not a configuration found invalid).
                let outcome = up
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                run.record(id::STACK, outcome, millis);
                skip_after(run, id::STACK, "the run was interrupted");
            } else {
                let reason = "not run: the Prometheus or Alertmanager configuration is not valid";
                skip_after(run, id::CONFIG, reason);
            }
            return;
        }
        let up = run.check(id::STACK, |ctx| {
            ctx.note("docker compose up --wait (started beside the static checks)");
            up.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        if up != Status::Pass {
            skip_after(run, id::STACK, "not run: the stack did not come up");
            return;
        }
        checks_on_running_stack(run, stack, live);
    });
}

/// `config` and `rule-tests`; the status of `config`.
fn static_checks(run: &mut TopicRun, stack: &Stack) -> Status {
    let config = run.check(id::CONFIG, |_| config::check(stack));
    if config != Status::Pass {
        return config;
    }
    let mut tests_present = false;
    run.check(id::RULE_TESTS, |_| {
        let outcome = config::rule_tests(stack)?;
        tests_present = outcome.present;
        Ok(outcome.verdict)
    });
    run.signal(
        id::RULE_TESTS,
        "Alerting rules have unit tests",
        tests_present,
    );
    config
}

/// The checks that query the running stack through Prometheus.
fn checks_on_running_stack<'a>(run: &mut TopicRun, stack: &Stack<'a>, live: &mut Option<Live<'a>>) {
    let mut cadence = None;
    let mut targets_up = None;
    let targets = run.check(id::TARGETS, |_| {
        let mut started = match Live::start(stack)? {
            Ok(started) => started,
            Err(verdict) => return Ok(verdict),
        };
        let found = started.cadence()?;
        started.speed_up(stack)?;
        let verdict = targets::check(stack, &started, &found)?;
        if matches!(verdict, Verdict::Pass { .. }) {
            targets_up = Some(alerts::Evaluations::now(&started.prometheus())?);
        }
        *live = Some(started);
        cadence = Some(found);
        Ok(verdict)
    });
    let (Some(session), Some(cadence)) = (live.as_ref(), cadence) else {
        skip_after(run, id::TARGETS, "not run: Prometheus cannot be queried");
        return;
    };
    let mut dashboard = false;
    run.check(id::RULES, |_| {
        let outcome = rules::check(stack, session, &cadence)?;
        dashboard = outcome.dashboard;
        Ok(outcome.verdict)
    });
    run.signal(
        id::RULES,
        "A dashboard (Grafana JSON) is provided",
        dashboard,
    );
    let (Status::Pass, Some(targets_up)) = (targets, targets_up) else {
        let reason = "not run: a target is down or a component is not monitored, so alerts \
                      about it would blur what the fault shows";
        skip_after(run, id::RULES, reason);
        return;
    };
    let pace = session.pace().evidence();
    let quiet = run.check(id::QUIET, |ctx| {
        alerts::quiet(ctx, stack, session, &cadence, &targets_up)
            .map(|verdict| verdict.with_evidence_line(pace.as_deref()))
    });
    if quiet != Status::Pass {
        let reason = "not run: alerts fire or stay pending on the healthy stack";
        skip_after(run, id::QUIET, reason);
        return;
    }
    fault_checks(run, stack, session, &cadence);
}

/// `fault-db` and `fault-web`. Both components are stopped together (see faults.rs); the web
/// tier's verdict is recorded once the shared run is over.
fn fault_checks(run: &mut TopicRun, stack: &Stack, session: &Live, cadence: &Cadence) {
    let started = Instant::now();
    let mut web_tier = None;
    run.check(id::FAULT_DB, |ctx| {
        let faults = [&faults::DATABASE, &faults::WEB_TIER];
        let pace = session.pace().evidence();
        let outcome = faults::inject(ctx, stack, session, cadence, &faults).map(|verdicts| {
            verdicts
                .into_iter()
                .map(|verdict| verdict.with_evidence_line(pace.as_deref()))
                .collect::<Vec<_>>()
        });
        let (database, web) = match outcome {
            Ok(verdicts) => {
                let mut verdicts = verdicts.into_iter();
                (verdicts.next(), verdicts.next())
            }
            Err(e) => {
                web_tier = Some(Err(anyhow::anyhow!("{e:#}")));
                return Err(e);
            }
        };
        web_tier = web.map(Ok);
        database.ok_or_else(|| anyhow::anyhow!("no verdict for the database"))
    });
    match web_tier {
        Some(outcome) => {
            let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            run.record(id::FAULT_WEB, outcome, millis);
        }
        // The shared check did not start: the run was interrupted.
        None => {
            run.skip(id::FAULT_WEB, "the run was interrupted");
        }
    }
}

/// `docker compose build`. A failure to reach Debian's mirror is the environment's problem.
fn build(stack: &Stack) -> anyhow::Result<Verdict> {
    let started = Instant::now();
    let out = stack.build(BUILD_TIMEOUT)?;
    let built: Vec<&str> = stack
        .service_names()
        .filter(|s| stack.service(s).is_some_and(|d| d.builds))
        .collect();
    if out.success() {
        return Ok(Verdict::pass(format!(
            "built the images of {} in {} s",
            built.join(", "),
            started.elapsed().as_secs()
        )));
    }
    let text = out.combined();
    let network_markers = [
        "Temporary failure resolving",
        "Could not resolve",
        "Failed to fetch",
    ];
    if network_markers.iter().any(|m| text.contains(m)) {
        anyhow::bail!(
            "building the stack could not download Debian packages (network):\n{}",
            Stack::output_tail(&out, 30)
        );
    }
    Ok(Verdict::fail(
        Stack::output_tail(&out, 40),
        "An image of the stack does not build: the failing step and its error are above. \
         \"What you get\" in monitoring/README.md says how the images in monitoring/images/ are \
         built.",
    ))
}

/// The `stack` check: `docker compose up --wait`, within [`UP_TIMEOUT`].
///
/// On a busy machine a healthcheck can fail a few times in a row before its service settles, and
/// Compose then gives up at once on the services that wait for it. A service that recovers is not
/// the candidate's fault, so while no container has exited, `up --wait` is asked again until the
/// bound: a stack that never gets healthy still fails, with the last states and logs.
fn stack_up(stack: &Stack) -> anyhow::Result<Verdict> {
    let started = Instant::now();
    let (out, states) = loop {
        let left = UP_TIMEOUT.saturating_sub(started.elapsed());
        let out = stack.docker.compose_up_built(&stack.project, left)?;
        let states = stack.states()?;
        let may_recover = !states.contains("Exited") && left > UP_RETRY_MIN;
        if out.success() || !may_recover {
            break (out, states);
        }
        timing::pause(UP_RETRY_PAUSE)?;
    };
    if out.success() {
        return Ok(Verdict::pass(format!(
            "up and healthy in {} s:\n{states}",
            started.elapsed().as_secs()
        )));
    }
    let troubled: Vec<&str> = states
        .lines()
        .filter(|l| !(l.contains(": Up") && !l.contains("unhealthy") && !l.contains("starting")))
        .filter_map(|l| l.split(": ").next())
        .collect();
    let logs = if troubled.is_empty() {
        String::new()
    } else {
        format!("\n\nlast log lines:\n{}", stack.logs(&troubled, 15)?)
    };
    let hint = if out.combined().contains("port is already allocated") {
        "A host port that monitoring/docker-compose.yml publishes is already taken (see the \
         error above), maybe by your own lab. The part of monitoring/README.md that starts the \
         lab explains how the starter file publishes its ports."
    } else {
        "A service stopped or failed its healthcheck: the states and the last log lines above \
         say which and why. \"How to check your work locally\" in monitoring/README.md says \
         what the stack check expects."
    };
    Ok(Verdict::fail(
        format!(
            "{}\n\nservices:\n{states}{logs}",
            Stack::output_tail(&out, 10)
        ),
        hint,
    ))
}

/// The `teardown` check: `docker compose down --volumes` leaves nothing of the project.
fn teardown(stack: &Stack, live: Option<&Live>) -> anyhow::Result<Verdict> {
    if let Some(live) = live {
        live.remove()?;
    }
    let before = stack.docker.compose_leftovers(&stack.project)?;
    let out = stack.docker.compose_down(&stack.project)?;
    if !out.success() {
        anyhow::bail!("docker compose down failed:\n{}", out.combined());
    }
    let after = stack.docker.compose_leftovers(&stack.project)?;
    if after.is_empty() {
        return Ok(Verdict::pass(format!(
            "docker compose down --volumes removed {} objects",
            before.len()
        )));
    }
    Ok(Verdict::fail(
        format!(
            "still there after `docker compose down --volumes`:\n{}",
            after.join("\n")
        ),
        "`docker compose down --volumes` left the objects above behind, so they do not belong \
         to the stack's project. \"How to check your work locally\" in monitoring/README.md \
         says what the teardown expects.",
    ))
}
