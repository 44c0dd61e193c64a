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
    /// The literals of [`TargetQuery::sql`] that the application varies (the README says so):
    /// each is replaced by the values [`TargetQuery::samples`] draws from the data.
    pub examples: &'static [&'static str],
    /// SQL returning other values for [`TargetQuery::examples`], one row per set, the literals
    /// quoted and joined by a tab; empty when the query has no parameter.
    pub samples: &'static str,
}

/// One set of parameter values of a query: the README's example or one drawn from the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// `customer_id = 1207`, for evidence.
    pub label: String,
    /// The query with these values.
    pub sql: String,
    /// Whether these are the README's values.
    pub readme: bool,
}

impl TargetQuery {
    /// The README's query, then one variant per row of `samples` (the tab-separated literals).
    pub fn variants(&self, samples: &str) -> Vec<Variant> {
        let readme = Variant {
            label: format!("{} (the README's example)", self.examples.join(", ")),
            sql: self.sql.to_owned(),
            readme: true,
        };
        let mut variants = vec![readme];
        for row in samples.lines().filter(|l| !l.trim().is_empty()) {
            let values: Vec<&str> = row.split('\t').map(str::trim).collect();
            if values.len() != self.examples.len() {
                continue;
            }
            let mut sql = self.sql.to_owned();
            for (example, value) in self.examples.iter().zip(&values) {
                sql = sql.replacen(example, value, 1);
            }
            if variants.iter().all(|v| v.sql != sql) {
                variants.push(Variant {
                    label: values.join(", "),
                    sql,
                    readme: false,
                });
            }
        }
        variants
    }
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
        examples: &["1207"],
        // The customer with the most orders, the first customer, and the one who ordered last.
        samples: "(SELECT customer_id::text FROM orders GROUP BY customer_id \
                  ORDER BY count(*) DESC, customer_id LIMIT 1) \
                  UNION ALL (SELECT min(id)::text FROM customers) \
                  UNION ALL (SELECT customer_id::text FROM orders ORDER BY id DESC LIMIT 1)",
    },
    TargetQuery {
        check_id: "query-customer-search",
        name: "2. Customer search",
        table: "customers",
        sql: "SELECT id, email, full_name, country
FROM customers
WHERE lower(email) = lower('Jonas.Moreau2999@example.net');",
        goal_ms: 5.0,
        examples: &["'Jonas.Moreau2999@example.net'"],
        // The first customer's address typed in capitals, the last one's as stored, and an
        // address nobody has (a search that finds nothing).
        samples: "(SELECT quote_literal(upper(email)) FROM customers ORDER BY id LIMIT 1) \
                  UNION ALL (SELECT quote_literal(email) FROM customers ORDER BY id DESC LIMIT 1) \
                  UNION ALL (SELECT quote_literal('nobody.here@example.org'))",
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
        // The payment worker always asks for the pending orders.
        examples: &[],
        samples: "",
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
        examples: &["'2024-05-25'", "'2024-06-01'"],
        // Other weeks of the data: the first full week, one in the middle, and the week before
        // the README's.
        samples: "SELECT quote_literal(d::date) || chr(9) || quote_literal((d + 7)::date) FROM ( \
                  SELECT (SELECT min(created_at)::date + 1 FROM orders) AS d \
                  UNION ALL SELECT (SELECT (min(created_at) + (max(created_at) - min(created_at)) / 2)::date FROM orders) \
                  UNION ALL SELECT date '2024-05-18') weeks",
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

/// The variants of every target query ([`TARGET_QUERIES`] order): the README's values and
/// others drawn from the handed-out data, as the application would pass them.
pub fn variants(stack: &Stack) -> anyhow::Result<Vec<Vec<Variant>>> {
    TARGET_QUERIES
        .iter()
        .map(|query| {
            if query.samples.is_empty() {
                return Ok(query.variants(""));
            }
            let out = stack.psql(Session::App, &sql_args(&[query.samples]), MEASURE_TIMEOUT)?;
            ensure!(
                out.success(),
                "drawing values for query {} from the data failed: {}",
                query.name,
                out.combined()
            );
            Ok(query.variants(&out.stdout))
        })
        .collect()
}

/// Measures every variant of every target query as the application role; the measurements are
/// in the order of `variants`.
pub fn measure_all(
    stack: &Stack,
    variants: &[Vec<Variant>],
) -> Result<Vec<Vec<Measurement>>, MeasureError> {
    let mut commands = vec![STATEMENT_TIMEOUT.to_owned()];
    for variant in variants.iter().flatten() {
        let sql = variant.sql.trim_end().trim_end_matches(';');
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
    let flat = parse_measurements(&out.stdout, variants.iter().map(Vec::len).sum())
        .map_err(MeasureError::Environment)?;
    let mut flat = flat.into_iter();
    Ok(variants
        .iter()
        .map(|v| flat.by_ref().take(v.len()).collect())
        .collect())
}

fn parse_measurements(stdout: &str, count: usize) -> anyhow::Result<Vec<Measurement>> {
    let explained = explain::parse_all(stdout)?;
    let per_query = 2 + TIMED_RUNS;
    ensure!(
        explained.len() == count * per_query,
        "expected {} EXPLAIN outputs, psql printed {}",
        count * per_query,
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

/// The verdict on one query: for every variant, its plan after solution.sql and its buffers
/// compared with before. Every variant must improve: an index that serves only the README's
/// values (a partial index on the example) is not a fix for the application's query.
pub fn verdict(
    query: &TargetQuery,
    variants: &[Variant],
    before: &[Measurement],
    after: &[Measurement],
) -> Verdict {
    let mut evidence = format!("{}\n", query.name);
    let mut failed: Vec<(&Variant, String)> = Vec::new();
    for ((variant, before), after) in variants.iter().zip(before).zip(after) {
        let (text, problem) = judge_variant(query, before, after);
        let _ = writeln!(evidence, "with {}:\n{text}", variant.label);
        if let Some(problem) = problem {
            failed.push((variant, problem));
        }
    }
    let evidence = evidence.trim_end().to_owned();
    let Some((first, problem)) = failed.first() else {
        return Verdict::pass(evidence);
    };
    let labels: Vec<&str> = failed.iter().map(|(v, _)| v.label.as_str()).collect();
    let summary = format!(
        "after solution.sql, with {}: {problem}",
        labels.join("; with ")
    );
    let examples_only = failed.iter().all(|(v, _)| !v.readme);
    Verdict::fail(
        format!("{summary}\n{evidence}"),
        if examples_only {
            format!(
                "Query {} improves with the README's values but not with {} (plans above): \
                 postgres/README.md, \"Part A: the slow queries\" (\"The values in the queries \
                 are examples; the application passes other customers, addresses and dates\").",
                query.name, first.label
            )
        } else {
            format!(
                "Query {} with {}: {problem} (plans and buffers above): postgres/README.md, \
                 \"Part A: the slow queries\", task 1.",
                query.name, first.label
            )
        },
    )
}

/// The evidence lines of one variant and, when it did not improve enough, why.
fn judge_variant(
    query: &TargetQuery,
    before: &Measurement,
    after: &Measurement,
) -> (String, Option<String>) {
    let ratio = buffer_ratio(before.buffers, after.buffers);
    let limit = (before.buffers as f64 / MIN_BUFFER_RATIO).floor();
    let text = format!(
        "  before solution.sql: {}\n  after solution.sql:  {}\n  buffers: {:.1}× fewer \
         (needed: at least {MIN_BUFFER_RATIO}×, at most {limit} buffers)\n  time: {} → {} \
         ({:.1}× faster, measured in this run; goal in production: {} ms)",
        before.describe(),
        after.describe(),
        ratio,
        format_ms(before.median_ms),
        format_ms(after.median_ms),
        before.median_ms / after.median_ms.max(0.001),
        query.goal_ms
    );
    let problem = if after.plan.seq_scans(query.table) {
        Some(format!(
            "the plan still reads all of `{}` with a Seq Scan",
            query.table
        ))
    } else if ratio < MIN_BUFFER_RATIO {
        Some(format!(
            "the plan changed but the query still reads {} buffers, {ratio:.1}× fewer than \
             before: it still walks through most of `{}`",
            after.buffers, query.table
        ))
    } else {
        None
    };
    (text, problem)
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

/// One line per query and values for the load check's evidence: the baseline.
pub fn describe_baseline(variants: &[Vec<Variant>], baseline: &[Vec<Measurement>]) -> String {
    let mut lines = Vec::new();
    for ((query, variants), measured) in TARGET_QUERIES.iter().zip(variants).zip(baseline) {
        for (variant, m) in variants.iter().zip(measured) {
            lines.push(format!(
                "{} with {}: {}",
                query.name,
                variant.label,
                m.describe()
            ));
        }
    }
    lines.join("\n")
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
            &q.variants(""),
            &[measured("Seq Scan", 4195, 49.5)],
            &[measured("Index Scan", 26, 0.35)],
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
    fn variants_replace_the_readme_literals_with_values_from_the_data() {
        let q = &TARGET_QUERIES[3];
        let v = q.variants("'2024-01-02'\t'2024-01-09'\n'2024-05-25'\t'2024-06-01'\nbad row\n");
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].readme && v[0].sql == q.sql);
        assert!(
            v[1].sql
                .contains("created_at >= '2024-01-02' AND created_at < '2024-01-09'")
        );
        assert_eq!(v[1].label, "'2024-01-02', '2024-01-09'");
        assert_eq!(TARGET_QUERIES[2].variants("anything").len(), 1);
    }

    #[test]
    fn an_index_that_serves_only_the_readme_value_fails() {
        let q = &TARGET_QUERIES[0];
        let variants = q.variants("42\n");
        let v = verdict(
            q,
            &variants,
            &[
                measured("Seq Scan", 4195, 49.5),
                measured("Seq Scan", 4195, 49.0),
            ],
            &[
                measured("Index Scan", 26, 0.35),
                measured("Seq Scan", 4195, 48.0),
            ],
        );
        let Verdict::Fail { evidence, hint } = v else {
            panic!("expected a failure: {v:?}")
        };
        assert!(
            evidence.contains("with 42: the plan still reads all of `orders`"),
            "{evidence}"
        );
        assert!(hint.contains("not with 42"), "{hint}");
        assert!(hint.contains("Part A: the slow queries"), "{hint}");
    }

    #[test]
    fn a_remaining_seq_scan_fails() {
        let q = &TARGET_QUERIES[0];
        let v = verdict(
            q,
            &q.variants(""),
            &[measured("Seq Scan", 4195, 49.5)],
            &[measured("Seq Scan", 4195, 48.0)],
        );
        let Verdict::Fail { evidence, .. } = v else {
            panic!("expected a failure: {v:?}")
        };
        assert!(evidence.contains("still reads all of `orders` with a Seq Scan"));
    }

    #[test]
    fn an_index_that_does_not_fit_fails_on_buffers_although_the_seq_scan_is_gone() {
        let q = &TARGET_QUERIES[2];
        let v = verdict(
            q,
            &q.variants(""),
            &[measured("Seq Scan", 4195, 60.0)],
            &[measured("Index Scan", 5356, 200.0)],
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
        let m = parse_measurements(&text, TARGET_QUERIES.len()).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].buffers, 4003);
        assert_eq!(m[0].median_ms, 50.0);
        assert!(m[0].plan.buffers.is_none());
    }
}
