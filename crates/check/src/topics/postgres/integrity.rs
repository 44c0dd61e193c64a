//! A fingerprint of the data: row count and checksum of every column of every row the dump
//! loads, taken before and after solution.sql. An optimisation must not change a single value.

use std::time::Duration;

use anyhow::{Context, bail};

use super::stack::{Session, Stack};
use crate::runner::Verdict;

/// The tables of table_dump.sql and their columns as 00_init.sql creates them. Columns a
/// solution adds are not part of the data it must keep; columns it drops or changes are.
const TABLES: [(&str, &str); 2] = [
    ("customers", "id, email, full_name, country, created_at"),
    (
        "orders",
        "id, customer_id, status, total_cents, currency, created_at, updated_at",
    ),
];

/// Fixed output formats, so that settings a solution changes (time zone, date style) do not
/// change how the same values print.
const SESSION_SETUP: [&str; 2] = ["SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'"];

const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Row count and checksum of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSum {
    /// Table name.
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// md5 of every row's columns, in primary-key order.
    pub md5: String,
}

/// What reading the fingerprint gave.
#[derive(Debug)]
pub enum Read {
    /// The fingerprint.
    Sums(Vec<TableSum>),
    /// The query failed in PostgreSQL (a table or column is gone): psql's message.
    Sql(String),
}

/// The SQL that reads the fingerprint: one `table|rows|md5` line per table.
fn fingerprint_sql() -> String {
    TABLES
        .iter()
        .map(|(table, columns)| {
            format!(
                "SELECT '{table}', count(*), \
                 coalesce(md5(string_agg(concat_ws('|', {columns}), E'\\n' ORDER BY id)), '') \
                 FROM {table}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Reads the fingerprint as the superuser (row-level security cannot hide rows from it).
pub fn read(stack: &Stack) -> anyhow::Result<Read> {
    let sql = fingerprint_sql();
    let mut commands: Vec<&str> = SESSION_SETUP.to_vec();
    commands.push(&sql);
    let out = stack.psql(
        Session::Superuser,
        &super::stack::sql_args(&commands),
        TIMEOUT,
    )?;
    if !out.success() {
        if out.stderr.contains("ERROR:") {
            return Ok(Read::Sql(out.stderr.trim().to_owned()));
        }
        bail!("reading the data's checksum failed: {}", out.combined());
    }
    Ok(Read::Sums(parse(&out.stdout)?))
}

fn parse(stdout: &str) -> anyhow::Result<Vec<TableSum>> {
    let sums = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split('|');
            let (Some(table), Some(rows), Some(md5), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                bail!("unexpected checksum line `{line}`");
            };
            Ok(TableSum {
                table: table.to_owned(),
                rows: rows
                    .parse()
                    .with_context(|| format!("row count in `{line}`"))?,
                md5: md5.to_owned(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if sums.len() != TABLES.len() {
        bail!("expected {} checksum lines, got:\n{stdout}", TABLES.len());
    }
    Ok(sums)
}

/// One line per table, for evidence.
pub fn describe(sums: &[TableSum]) -> String {
    sums.iter()
        .map(|s| format!("{}: {} rows, md5 {}", s.table, s.rows, s.md5))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The verdict: the fingerprint after solution.sql equals the one before.
pub fn verdict(before: &[TableSum], after: &Read) -> Verdict {
    let hint = "The data differs after solution.sql (the tables and rows above): \
                postgres/README.md, \"Part A: the slow queries\", task 1 (\"It must not change \
                a single row\").";
    let after = match after {
        Read::Sums(sums) => sums,
        Read::Sql(message) => {
            return Verdict::fail(
                format!(
                    "after solution.sql the data can no longer be read as 00_init.sql defines it:\n\
                     {message}"
                ),
                hint,
            );
        }
    };
    let changed: Vec<String> = before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| {
            if b.rows == a.rows {
                format!(
                    "{}: same {} rows, but values changed (md5 {} before, {} after)",
                    b.table, b.rows, b.md5, a.md5
                )
            } else {
                format!(
                    "{}: {} rows before, {} after (md5 {} before, {} after)",
                    b.table, b.rows, a.rows, b.md5, a.md5
                )
            }
        })
        .collect();
    if changed.is_empty() {
        Verdict::pass(format!(
            "unchanged after solution.sql:\n{}",
            describe(after)
        ))
    } else {
        Verdict::fail(
            format!(
                "the data changed after solution.sql (expected every row and value unchanged):\n{}",
                changed.join("\n")
            ),
            hint,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(orders_rows: u64, orders_md5: &str) -> Vec<TableSum> {
        vec![
            TableSum {
                table: "customers".to_owned(),
                rows: 60000,
                md5: "aaa".to_owned(),
            },
            TableSum {
                table: "orders".to_owned(),
                rows: orders_rows,
                md5: orders_md5.to_owned(),
            },
        ]
    }

    #[test]
    fn the_sql_reads_each_table_in_key_order() {
        let sql = fingerprint_sql();
        assert!(sql.contains("ORDER BY id)), '') FROM customers UNION ALL"));
        assert!(sql.contains("concat_ws('|', id, customer_id, status"));
    }

    #[test]
    fn parses_psql_output() {
        let parsed = parse("customers|60000|aaa\norders|400000|bbb\n").unwrap();
        assert_eq!(parsed, sums(400000, "bbb"));
        assert!(parse("customers|60000\n").is_err());
    }

    #[test]
    fn unchanged_passes_and_changes_say_what_changed() {
        let before = sums(400000, "bbb");
        assert!(matches!(
            verdict(&before, &Read::Sums(before.clone())),
            Verdict::Pass { .. }
        ));
        let Verdict::Fail { evidence, .. } = verdict(&before, &Read::Sums(sums(300000, "ccc")))
        else {
            panic!("deleted rows must fail")
        };
        assert!(evidence.contains("orders: 400000 rows before, 300000 after"));
        let Verdict::Fail { evidence, .. } = verdict(&before, &Read::Sums(sums(400000, "ccc")))
        else {
            panic!("changed values must fail")
        };
        assert!(evidence.contains("same 400000 rows, but values changed"));
    }
}
