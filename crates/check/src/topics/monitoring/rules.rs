//! The `rules` check: every loaded rule evaluates without error (`/api/v1/rules`), and every
//! query of the candidate's dashboards evaluates too.

use std::time::Instant;

use super::PROMETHEUS;
use super::dashboards::{self, Dashboard};
use super::live::Live;
use super::locate::locate;
use super::prometheus::{Prometheus, QueryResult, Rule, RuleGroup};
use super::stack::Stack;
use super::timing::{Cadence, SLACK, poll_until};
use crate::runner::Verdict;

/// `lastEvaluation` of a group that has not been evaluated yet.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// What the check found, beyond its verdict: whether a dashboard exists (a reviewer signal).
pub struct RulesOutcome {
    /// The verdict.
    pub verdict: Verdict,
    /// Whether the candidate has a Grafana dashboard.
    pub dashboard: bool,
}

/// Runs the check.
pub fn check(stack: &Stack, live: &Live, cadence: &Cadence) -> anyhow::Result<RulesOutcome> {
    let prometheus = live.prometheus();
    let deadline = Instant::now() + stack.docker.scale(cadence.evaluation * 2 + SLACK);
    let mut groups: Vec<RuleGroup> = Vec::new();
    poll_until(deadline, || {
        groups = prometheus.rule_groups()?;
        Ok(groups
            .iter()
            .all(|g| !g.last_evaluation.is_empty() && !g.last_evaluation.starts_with(NEVER))
            .then_some(()))
    })?;
    let mut problems = Vec::new();
    let (mut alerting, mut recording) = (0, 0);
    for group in &groups {
        for rule in &group.rules {
            if rule.is_alerting() {
                alerting += 1;
            } else {
                recording += 1;
            }
            if rule.health != "ok" {
                problems.push(describe_unhealthy(stack, group, rule));
            }
        }
    }
    let dashboards = dashboards::find(&stack.project.dir);
    let evaluated = evaluate(stack, &prometheus, &dashboards)?;
    problems.extend(evaluated.failed);
    let mut summary = format!(
        "{alerting} alerting and {recording} recording rules in {} groups",
        groups.len()
    );
    if dashboards.is_empty() {
        summary
            .push_str("\nno Grafana dashboard (a JSON file with `panels`) found under monitoring/");
    } else {
        for d in &dashboards {
            summary.push_str(&format!(
                "\ndashboard \"{}\" ({}): {} queries",
                d.title,
                stack.display(&d.path),
                d.queries.len()
            ));
        }
        summary.push_str(&format!(
            "\n{} dashboard queries evaluated",
            evaluated.count
        ));
        if !evaluated.empty.is_empty() {
            summary.push_str(&format!(
                "; these return no data now:\n  {}",
                evaluated.empty.join("\n  ")
            ));
        }
    }
    let verdict = if problems.is_empty() {
        Verdict::pass(summary)
    } else {
        Verdict::fail(
            format!("{}\n{summary}", problems.join("\n")),
            "A rule or panel whose query fails never shows or alerts anything: the file:line, the \
             expression and Prometheus' error are above. Tasks 3 and 5 of monitoring/README.md \
             cover the rules and the dashboard.",
        )
    };
    Ok(RulesOutcome {
        verdict,
        dashboard: !dashboards.is_empty(),
    })
}

fn describe_unhealthy(stack: &Stack, group: &RuleGroup, rule: &Rule) -> String {
    let key = if rule.is_alerting() {
        "alert"
    } else {
        "record"
    };
    let place = stack
        .host_path(PROMETHEUS, &group.file)
        .map(|p| locate(&p, &stack.display(&p), key, &rule.name))
        .unwrap_or_else(|| group.file.clone());
    let why = match rule.last_error.as_deref() {
        Some(e) if !e.is_empty() => e.to_owned(),
        _ => format!("health {} (not evaluated)", rule.health),
    };
    format!(
        "rule {} ({place}): `{}`: {why}",
        rule.name,
        rule.query.trim()
    )
}

/// What evaluating the dashboards found.
#[derive(Default)]
struct Evaluated {
    /// Queries run.
    count: usize,
    /// Queries that returned no series: not an error (a panel may wait for its first event),
    /// but often a misspelt metric, so the evidence names them.
    empty: Vec<String>,
    /// Queries Prometheus rejected.
    failed: Vec<String>,
}

/// Queries asked at once: each is a `docker exec` in the probe, mostly waiting on the engine.
const PARALLEL_QUERIES: usize = 4;

/// Evaluates every dashboard query, a few at a time; the findings keep the dashboards' order.
fn evaluate(
    stack: &Stack,
    prometheus: &Prometheus,
    dashboards: &[Dashboard],
) -> anyhow::Result<Evaluated> {
    let mut queries = Vec::new();
    for dashboard in dashboards {
        let shown = stack.display(&dashboard.path);
        for query in &dashboard.queries {
            let place = query
                .line
                .map_or_else(|| shown.clone(), |n| format!("{shown}:{n}"));
            let what = format!("panel \"{}\" ({place}): `{}`", query.panel, query.expr);
            queries.push((what, query.resolved.as_str()));
        }
    }
    let size = queries.len().div_ceil(PARALLEL_QUERIES).max(1);
    let answers = std::thread::scope(|scope| {
        let workers: Vec<_> = queries
            .chunks(size)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(_, expr)| prometheus.query(expr))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let mut found = Evaluated {
        count: queries.len(),
        ..Evaluated::default()
    };
    for ((what, _), answer) in queries.into_iter().zip(answers.into_iter().flatten()) {
        match answer {
            Err(error) => found.failed.push(format!("dashboard {what}: {error}")),
            Ok(QueryResult::Vector(series)) if series.is_empty() => found.empty.push(what),
            Ok(_) => {}
        }
    }
    Ok(found)
}
