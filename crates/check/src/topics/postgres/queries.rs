//! The slow queries of the README and how the checks measure them.
//!
//! Each query is measured twice in the same run, on the same data: before solution.sql (the
//! baseline) and after it. The verdict rests on the plan (no sequential scan of the table the
//! query reads) and on the shared buffers the execution touched: buffers count the work, so they
//! do not depend on how busy the machine is. Times are measured too and reported as a ratio, for
//! people; on a shared laptop or CI machine they are too noisy to decide on.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, ensure};

use super::explain::{self, Explained};
use super::stack::{Session, Stack, sql_args};
use crate::runner::Verdict;

/// A query of the README with its latency goal.
#[derive(Debug)]
pub struct TargetQuery {
    /// Check id in the manifest.
    pub check_id: &'static str,
    /// Number and name as the README gives them.
    pub name: &'static str,
    /// The table the query reads, which it must not scan sequentially.
    pub table: &'static str,
    /// The SQL, exactly as in the README (a test keeps them equal).
    pub sql: &'static str,
    /// The README's latency goal, in milliseconds.
    pub goal_ms: f64,
}

/// The four slow queries, in README order.
pub const TARGET_QUERIES: [TargetQuery; 4] = [
    TargetQuery {
        check_id: "query-order-history",
        name: "1. Order history",
        table: "orders",
        sql: "SELECT id, created_at, status, total_cents
FROM orders
WHERE customer_id = 1207
ORDER BY created_at DESC
LIMIT 20;",
        goal_ms: 5.0,
    },
    TargetQuery {
        check_id: "query-customer-search",
        name: "2. Customer search",
        table: "customers",
        sql: "SELECT id, email, full_name, country
FROM customers
WHERE lower(email) = lower('Jonas.Moreau2999@example.net');",
        goal_ms: 5.0,
    },
    TargetQuery {
        check_id: "query-payment-queue",
        name: "3. Payment queue",
        table: "orders",
        sql: "SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE status = 'pending'
ORDER BY created_at
LIMIT 100;",
        goal_ms: 10.0,
    },
    TargetQuery {
        check_id: "query-daily-revenue",
        name: "4. Daily revenue",
        table: "orders",
        sql: "SELECT date_trunc('day', created_at) AS day,
       count(*) AS orders,
       sum(total_cents) AS revenue_cents
FROM orders
WHERE created_at >= '2024-05-25' AND created_at < '2024-06-01'
GROUP BY 1
ORDER BY 1;",
        goal_ms: 20.0,
    },
];

/// How many times fewer shared buffers a query must read after solution.sql (stated in the
/// README). An index that fits the query reads 40 to 160 times fewer on this data; 10 leaves room
/// for other good designs (a BRIN index, a partial index) while an index that does not fit the
/// query, which reads about as much as a sequential scan, fails.
pub const MIN_BUFFER_RATIO: f64 = 10.0;

/// Timed executions per query; the median is reported. The first execution is not counted: it
/// warms the cache.
const TIMED_RUNS: usize = 3;

/// A query cancelled by the server after this long has a plan far from any goal.
const STATEMENT_TIMEOUT: &str = "SET statement_timeout = '60s'";

/// Time for one round of measurements of all queries.
const MEASURE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// What the checks saw of one query.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The plan the planner chose (without running it).
    pub plan: Explained,
    /// Shared buffers one execution touched.
    pub buffers: u64,
    /// Median execution time, in milliseconds.
    pub median_ms: f64,
}

impl Measurement {
    /// One line for evidence.
    fn describe(&self) -> String {
        format!(
            "{}; {} shared buffers; {}",
            self.plan.describe_scans(),
            self.buffers,
            format_ms(self.median_ms)
        )
    }
}

/// Why the queries could not be measured.
#[derive(Debug)]
pub enum MeasureError {
    /// A query failed in PostgreSQL (psql's message): after solution.sql, a query that no longer
    /// runs is the submission's doing.
    Sql(String),
    /// psql or Docker failed: the environment's problem.
    Environment(anyhow::Error),
}

/// Measures every target query as the application role; the measurements are in
/// [`TARGET_QUERIES`] order.
pub fn measure_all(stack: &Stack) -> Result<Vec<Measurement>, MeasureError> {
    let mut commands = vec![STATEMENT_TIMEOUT.to_owned()];
    for query in &TARGET_QUERIES {
        let sql = query.sql.trim_end().trim_end_matches(';');
        commands.push(format!("EXPLAIN (FORMAT JSON) {sql}"));
        for _ in 0..=TIMED_RUNS {
            commands.push(format!(
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) {sql}"
            ));
        }
    }
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let out = stack
        .psql(Session::App, &sql_args(&commands), MEASURE_TIMEOUT)
        .map_err(MeasureError::Environment)?;
    if !out.success() {
        // psql stops at the first error (ON_ERROR_STOP); its message names the query.
        return Err(if out.stderr.contains("ERROR:") {
            MeasureError::Sql(out.stderr.trim().to_owned())
        } else {
            MeasureError::Environment(anyhow::anyhow!(
                "psql failed while measuring the queries: {}",
                out.combined()
            ))
        });
    }
    parse_measurements(&out.stdout).map_err(MeasureError::Environment)
}

fn parse_measurements(stdout: &str) -> anyhow::Result<Vec<Measurement>> {
    let explained = explain::parse_all(stdout)?;
    let per_query = 2 + TIMED_RUNS;
    ensure!(
        explained.len() == TARGET_QUERIES.len() * per_query,
        "expected {} EXPLAIN outputs, psql printed {}",
        TARGET_QUERIES.len() * per_query,
        explained.len()
    );
    explained
        .chunks(per_query)
        .map(|runs| {
            let plan = runs[0].clone();
            let timed = &runs[2..];
            let buffers = timed
                .last()
                .and_then(|r| r.buffers)
                .context("EXPLAIN ANALYZE printed no buffer counts")?;
            let mut times = timed
                .iter()
                .map(|r| r.execution_ms.context("EXPLAIN ANALYZE printed no time"))
                .collect::<anyhow::Result<Vec<f64>>>()?;
            times.sort_by(f64::total_cmp);
            Ok(Measurement {
                plan,
                buffers,
                median_ms: times[times.len() / 2],
            })
        })
        .collect()
}

/// The verdict on one query: its plan after solution.sql, and its buffers compared with before.
pub fn verdict(query: &TargetQuery, before: &Measurement, after: &Measurement) -> Verdict {
    let ratio = buffer_ratio(before.buffers, after.buffers);
    let limit = (before.buffers as f64 / MIN_BUFFER_RATIO).floor();
    let mut evidence = format!(
        "{}\nbefore solution.sql: {}\nafter solution.sql:  {}\n",
        query.name,
        before.describe(),
        after.describe()
    );
    let _ = writeln!(
        evidence,
        "buffers: {:.1}× fewer (needed: at least {MIN_BUFFER_RATIO}×, at most {limit} buffers)",
        ratio
    );
    let _ = write!(
        evidence,
        "time: {} → {} ({:.1}× faster, measured in this run; goal in production: {} ms)",
        format_ms(before.median_ms),
        format_ms(after.median_ms),
        before.median_ms / after.median_ms.max(0.001),
        query.goal_ms
    );
    let seq_scan = after.plan.seq_scans(query.table);
    if !seq_scan && ratio >= MIN_BUFFER_RATIO {
        return Verdict::pass(evidence);
    }
    let problem = if seq_scan {
        format!(
            "the plan still reads all of `{}` with a Seq Scan",
            query.table
        )
    } else {
        format!(
            "the plan changed but the query still reads {} buffers, {ratio:.1}× fewer than \
             before: it still walks through most of `{}`",
            after.buffers, query.table
        )
    };
    Verdict::fail(
        format!("{problem}\n{evidence}"),
        format!(
            "Run `EXPLAIN (ANALYZE, BUFFERS)` on query {} in `docker compose exec db psql shop` \
             after your solution.sql, and look at the node that reads the most buffers: what \
             would let PostgreSQL read only the rows this query returns?",
            query.name
        ),
    )
}

/// before / after, with an execution that touched nothing counted as one buffer.
pub fn buffer_ratio(before: u64, after: u64) -> f64 {
    before as f64 / after.max(1) as f64
}

/// `49.5 ms`, `0.35 ms`.
fn format_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// One line per query for the load check's evidence: the baseline.
pub fn describe_baseline(baseline: &[Measurement]) -> String {
    TARGET_QUERIES
        .iter()
        .zip(baseline)
        .map(|(q, m)| format!("{}: {}", q.name, m.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Verdict;
    use crate::topics::postgres::explain::Scan;

    #[test]
    fn the_readme_shows_each_query_its_goal_and_the_buffer_factor() {
        let readme = crate::content::file("postgres/README.md")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .expect("postgres/README.md is embedded");
        for query in &TARGET_QUERIES {
            assert!(
                readme.contains(&format!("```sql\n{}\n```", query.sql)),
                "README lacks query {}",
                query.name
            );
            assert!(
                readme.contains(&format!("goal {} ms:", query.goal_ms)),
                "README lacks the goal of query {}",
                query.name
            );
        }
        assert!(readme.contains(&format!("at least {MIN_BUFFER_RATIO} times fewer")));
    }

    fn measured(node_type: &str, buffers: u64, ms: f64) -> Measurement {
        Measurement {
            plan: Explained {
                scans: vec![Scan {
                    node_type: node_type.to_owned(),
                    relation: "orders".to_owned(),
                    index: (node_type != "Seq Scan").then(|| "orders_idx".to_owned()),
                }],
                buffers: None,
                execution_ms: None,
            },
            buffers,
            median_ms: ms,
        }
    }

    #[test]
    fn an_index_scan_that_reads_far_less_passes_with_both_ratios() {
        let q = &TARGET_QUERIES[0];
        let v = verdict(
            q,
            &measured("Seq Scan", 4195, 49.5),
            &measured("Index Scan", 26, 0.35),
        );
        let Verdict::Pass { evidence } = v else {
            panic!("expected a pass: {v:?}")
        };
        assert!(evidence.contains("161.3× fewer"), "{evidence}");
        assert!(
            evidence.contains("50 ms → 0.35 ms (141.4× faster"),
            "{evidence}"
        );
    }

    #[test]
    fn a_remaining_seq_scan_fails() {
        let v = verdict(
            &TARGET_QUERIES[0],
            &measured("Seq Scan", 4195, 49.5),
            &measured("Seq Scan", 4195, 48.0),
        );
        let Verdict::Fail { evidence, .. } = v else {
            panic!("expected a failure: {v:?}")
        };
        assert!(evidence.contains("still reads all of `orders` with a Seq Scan"));
    }

    #[test]
    fn an_index_that_does_not_fit_fails_on_buffers_although_the_seq_scan_is_gone() {
        let v = verdict(
            &TARGET_QUERIES[2],
            &measured("Seq Scan", 4195, 60.0),
            &measured("Index Scan", 5356, 200.0),
        );
        let Verdict::Fail { evidence, .. } = v else {
            panic!("expected a failure: {v:?}")
        };
        assert!(evidence.contains("still reads 5356 buffers"), "{evidence}");
        assert!(evidence.contains("at most 419 buffers"), "{evidence}");
    }

    #[test]
    fn measurements_take_buffers_of_the_last_run_and_the_median_time() {
        let run = |buffers: u64, ms: f64| {
            format!(
                r#"[{{"Plan": {{"Node Type": "Seq Scan", "Relation Name": "orders",
                "Shared Hit Blocks": {buffers}, "Shared Read Blocks": 0}}, "Execution Time": {ms}}}]"#
            )
        };
        let plan = r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders"}}]"#;
        let mut text = String::new();
        for _ in &TARGET_QUERIES {
            text.push_str(plan);
            for (i, ms) in [90.0, 50.0, 40.0, 60.0].iter().enumerate() {
                text.push_str(&run(4000 + i as u64, *ms));
            }
        }
        let m = parse_measurements(&text).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].buffers, 4003);
        assert_eq!(m[0].median_ms, 50.0);
        assert!(m[0].plan.buffers.is_none());
    }
}
