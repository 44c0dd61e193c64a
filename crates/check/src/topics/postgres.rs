//! Topic IV, PostgreSQL: the answers in postgres.md, then solution.sql measured on a fresh copy of
//! the handed-out database.
//!
//! Order of the Docker checks, each depending on the one before:
//! `load` (start the stack, fingerprint the data, measure the queries: the baseline) →
//! `apply` (solution.sql) → `integrity` (same fingerprint) → one check per slow query (plan and
//! buffers compared with the baseline, times reported as a ratio).

mod apply;
mod explain;
mod integrity;
mod queries;
mod questions;
mod stack;

use std::time::Instant;

use sre_model::Status;

use self::queries::{MeasureError, Measurement, TARGET_QUERIES};
use self::stack::{DIR, SOLUTION, STACK_FILES, Stack};
use super::{Suite, answers};
use crate::content;
use crate::runner::{TopicRun, Verdict};
use crate::workdir::WorkDir;

/// The answers file, relative to the working copy.
const ANSWERS_FILE: &str = "postgres/postgres.md";

/// The checks of topic IV, in manifest order.
pub const SUITE: Suite = Suite::new(
    "postgres",
    &[
        answers::CHECK_ID,
        "questions",
        "load",
        "apply",
        "integrity",
        "query-order-history",
        "query-customer-search",
        "query-payment-queue",
        "query-daily-revenue",
    ],
    run_checks,
);

/// Runs the checks of topic IV.
fn run_checks(run: &mut TopicRun) {
    answers::check(run);
    check_questions(run);
    let Some(docker) = run.env().docker else {
        // The runner gives every topic with `docker = true` a driver; without one, `load` reports
        // why as an error and the rest are skipped.
        run.check("load", |ctx| {
            ctx.docker()?;
            Ok(Verdict::skipped("Docker is not available"))
        });
        return;
    };

    let mut database: Option<(Stack, Baseline)> = None;
    let loaded = run.check("load", |ctx| {
        ctx.note("starting the handed-out database (first run: builds the image, about 2 min)");
        let started = Instant::now();
        let stack = Stack::up(docker, ctx.workdir())?;
        let up_secs = started.elapsed().as_secs_f64();
        ctx.note("measuring the queries before solution.sql");
        let baseline = Baseline::read(&stack)?;
        let evidence = format!(
            "{}\n\nstarted and loaded in {up_secs:.0} s\n{}\n\nbefore solution.sql:\n{}{}",
            load_output(&stack.logs()?),
            integrity::describe(&baseline.sums),
            queries::describe_baseline(&baseline.variants, &baseline.queries),
            changed_stack_files(ctx.workdir())?
        );
        database = Some((stack, baseline));
        Ok(Verdict::pass(evidence))
    });
    let Some((stack, baseline)) = database.filter(|_| loaded == Status::Pass) else {
        return;
    };

    let applied = run.check("apply", |ctx| {
        let Some(solution) = ctx.workdir().read_text(SOLUTION)? else {
            return Ok(Verdict::fail(
                format!("expected {SOLUTION}; it does not exist"),
                format!(
                    "There is no {SOLUTION}: postgres/README.md, \"Part A: the slow queries\", \
                     task 1 asks for it."
                ),
            ));
        };
        ctx.note("applying solution.sql");
        Ok(match apply::apply(&stack, &solution)? {
            Ok((mode, output)) => Verdict::pass(format!(
                "{}\n{}\npsql printed:\n{}",
                match mode {
                    apply::Mode::Transaction => "applied in one transaction",
                    apply::Mode::Statements =>
                        "applied statement by statement: it contains a statement that cannot \
                         run inside a transaction block (such as CREATE INDEX CONCURRENTLY), so \
                         the one-transaction attempt was rolled back and the file run as \
                         `psql -f` runs it",
                },
                apply::changed_settings(&baseline.settings, &apply::settings(&stack)?),
                output.trim()
            )),
            Err(verdict) => verdict,
        })
    });
    if applied != Status::Pass {
        return;
    }

    let unchanged = run.check("integrity", |ctx| {
        ctx.note("comparing the data with the data before solution.sql");
        Ok(integrity::verdict(
            &baseline.sums,
            &integrity::read(&stack)?,
        ))
    });
    if unchanged != Status::Pass {
        for query in &TARGET_QUERIES {
            run.skip(
                query.check_id,
                "not run: solution.sql changed the data, so a comparison with before would mean \
                 nothing",
            );
        }
        return;
    }

    let started = Instant::now();
    let after = queries::measure_all(&stack, &baseline.variants);
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    for (i, query) in TARGET_QUERIES.iter().enumerate() {
        let outcome = match &after {
            Ok(after) => Ok(queries::verdict(
                query,
                &baseline.variants[i],
                &baseline.queries[i],
                &after[i],
            )),
            Err(MeasureError::Sql(message)) => Ok(Verdict::fail(
                format!("after solution.sql the queries no longer run:\n{message}"),
                "The application's queries fail after solution.sql (psql's error above): \
                 postgres/README.md, \"Part A: the slow queries\", task 1 (\"The application's \
                 SQL stays as it is\").",
            )),
            Err(MeasureError::Environment(e)) => Err(anyhow::anyhow!("{e:#}")),
        };
        // Measured together; the time is shown on the first check.
        run.record(query.check_id, outcome, if i == 0 { millis } else { 0 });
    }
}

/// The data, the settings and the queries before solution.sql.
struct Baseline {
    sums: Vec<integrity::TableSum>,
    settings: Vec<String>,
    /// Each query's values: the README's and others drawn from the data.
    variants: Vec<Vec<queries::Variant>>,
    queries: Vec<Vec<Measurement>>,
}

impl Baseline {
    fn read(stack: &Stack) -> anyhow::Result<Baseline> {
        let sums = match integrity::read(stack)? {
            integrity::Read::Sums(sums) => sums,
            integrity::Read::Sql(message) => {
                anyhow::bail!("reading the handed-out data failed: {message}")
            }
        };
        let variants = queries::variants(stack)?;
        let queries = queries::measure_all(stack, &variants).map_err(|e| match e {
            MeasureError::Sql(message) => {
                anyhow::anyhow!("the queries failed on the handed-out data: {message}")
            }
            MeasureError::Environment(e) => e,
        })?;
        Ok(Baseline {
            sums,
            settings: apply::settings(stack)?,
            variants,
            queries,
        })
    }
}

/// The `questions` check, and which questions are answered as signals.
fn check_questions(run: &mut TopicRun) {
    let mut found: Option<(Vec<questions::Question>, Vec<questions::Answer>)> = None;
    run.check("questions", |ctx| {
        let Some(text) = ctx.workdir().read_text(ANSWERS_FILE)? else {
            return Ok(Verdict::skipped(format!(
                "{ANSWERS_FILE} does not exist (see the answers check)"
            )));
        };
        let template = content::file(ANSWERS_FILE)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let asked = questions::questions(&template);
        let given = questions::answers(&asked, &text);
        let verdict = questions::verdict(ANSWERS_FILE, &asked, &given);
        found = Some((asked, given));
        Ok(verdict)
    });
    let Some((asked, given)) = found else {
        return;
    };
    for (q, a) in asked.iter().zip(&given) {
        let answered = matches!(a, questions::Answer::Written { .. });
        run.signal(
            &format!("answered-{}", q.id.to_lowercase()),
            &format!("{} answered", q.id),
            answered,
        );
    }
}

/// The lines of the container's first start that concern the SQL files: what psql printed
/// (errors, warnings, notices) and how long each file took.
fn load_output(logs: &str) -> String {
    logs.lines()
        .filter(|l| {
            l.starts_with("loading ")
                || l.starts_with("loaded in ")
                || l.starts_with("psql:")
                || l.contains("ERROR:")
                || l.contains("WARNING:")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A note when the candidate's copies of the stack files differ from the handed-out ones: the
/// checks do not use them, and the candidate should know.
fn changed_stack_files(workdir: &WorkDir) -> anyhow::Result<String> {
    let mut changed = Vec::new();
    for name in STACK_FILES {
        let rel = format!("{DIR}/{name}");
        let theirs = workdir.read(&rel)?;
        if theirs.as_deref() != content::file(&rel) {
            changed.push(rel);
        }
    }
    Ok(if changed.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nnote: {} differ from the handed-out files; these checks always use the \
             handed-out ones, with only your solution.sql added",
            changed.join(", ")
        )
    })
}
