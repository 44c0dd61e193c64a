//! Applying the candidate's solution.sql to the running database.
//!
//! First in one transaction (`psql --single-transaction`), so a failing file leaves nothing
//! behind. Some statements refuse to run in a transaction block: `CREATE INDEX CONCURRENTLY`
//! (what a production primary needs), `VACUUM`, `ALTER SYSTEM`. When PostgreSQL says so, the
//! first attempt has been rolled back and the file is applied again statement by statement, as
//! `psql -f` would; the evidence says which way it went.

use std::time::Duration;

use super::stack::{MOUNT, SOLUTION, Session, Stack, sql_args};
use crate::process::CommandOutput;
use crate::runner::Verdict;

/// PostgreSQL's message for statements that cannot run in a transaction block
/// (`PreventInTransactionBlock`, SQLSTATE 25001).
const NOT_IN_TRANSACTION: &str = "cannot run inside a transaction block";

/// psql's exit status when a script statement failed with ON_ERROR_STOP set.
const SCRIPT_ERROR: i32 = 3;

/// Building indexes on 400 000 rows takes seconds; this is for slow machines and odd solutions.
const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How solution.sql went in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In one transaction.
    Transaction,
    /// Statement by statement, because a statement cannot run in a transaction.
    Statements,
}

/// What applying gave: how it went in and psql's output, or the verdict on a failed file.
pub type Applied = Result<(Mode, String), Verdict>;

/// Applies solution.sql (already in the stack's folder; `solution` is its text, to point at the
/// line of an error). `Ok(Err(verdict))` is a failed submission; `Err` an environment problem.
pub fn apply(stack: &Stack, solution: &str) -> anyhow::Result<Applied> {
    let file = format!("--file={MOUNT}/solution.sql");
    let first = stack.psql(
        Session::Superuser,
        &["--single-transaction", "--echo-errors", &file],
        TIMEOUT,
    )?;
    if first.success() {
        return Ok(Ok((Mode::Transaction, first.combined())));
    }
    let first_output = in_candidate_terms(&first.combined());
    if first.status.code() == Some(SCRIPT_ERROR) && first_output.contains(NOT_IN_TRANSACTION) {
        let second = stack.psql(Session::Superuser, &["--echo-errors", &file], TIMEOUT)?;
        if second.success() {
            return Ok(Ok((Mode::Statements, second.combined())));
        }
        return failed(
            &second,
            solution,
            "It was applied statement by statement, because it contains a statement that cannot              run in a transaction: the statements before the error stay applied.",
        );
    }
    failed(
        &first,
        solution,
        "It was applied in one transaction, which was rolled back.",
    )
}

fn failed(out: &CommandOutput, solution: &str, how: &str) -> anyhow::Result<Applied> {
    let output = in_candidate_terms(&out.combined());
    if out.status.code() != Some(SCRIPT_ERROR) && !output.contains(SOLUTION) {
        anyhow::bail!("psql could not apply solution.sql: {output}");
    }
    let location = match error_line(&output, solution) {
        Some(line) => format!("{SOLUTION}:{line}"),
        None => SOLUTION.to_owned(),
    };
    let message = output
        .lines()
        .find_map(|l| l.split_once("ERROR:").map(|(_, m)| m.trim()))
        .unwrap_or("psql stopped");
    Ok(Err(Verdict::fail(
        format!("{location}: {message}\n{how}\npsql printed:\n{output}"),
        format!(
            "psql stopped at {location}: {message}. postgres/README.md, \"Part A: the slow \
             queries\", shows how to run the file on a fresh copy of the database."
        ),
    )))
}

/// The line of solution.sql where the error is. psql names the line where the statement it sent
/// ends, which is far from the mistake when an unclosed parenthesis or quote made it read on;
/// the server names the line within the statement (`LINE 2:`). With the statement's text that
/// `--echo-errors` prints, the two give the line in the file.
fn error_line(output: &str, solution: &str) -> Option<usize> {
    let prefix = format!("psql:{SOLUTION}:");
    let psql_line: usize = output
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.split(':').next()?.parse().ok())?;
    let in_statement = output.lines().find_map(|l| {
        l.strip_prefix("LINE ")?
            .split(':')
            .next()?
            .parse::<usize>()
            .ok()
    });
    let first_statement_line = output
        .lines()
        .find_map(|l| l.split_once("STATEMENT:").map(|(_, s)| s.trim()))
        .filter(|s| !s.is_empty());
    let (Some(offset), Some(first)) = (in_statement, first_statement_line) else {
        return Some(psql_line);
    };
    let start = solution
        .lines()
        .take(psql_line)
        .enumerate()
        .filter(|(_, l)| l.trim() == first)
        .map(|(i, _)| i + 1)
        .last();
    Some(start.map_or(psql_line, |start| start + offset - 1))
}

/// The settings that differ from PostgreSQL's defaults as the application's sessions see them,
/// one line each (`work_mem = 16MB (configuration file)`), to show what solution.sql changed.
/// A setting that needs a restart shows its value in effect and says that a new one waits.
pub fn settings(stack: &Stack) -> anyhow::Result<Vec<String>> {
    let sql = "SELECT name || ' = ' || current_setting(name) || ' (' || source || ')' \
               || CASE WHEN pending_restart \
                       THEN '; a new value waits for a restart, so it is not measured' \
                       ELSE '' END \
               FROM pg_settings \
               WHERE source NOT IN ('default', 'override', 'client', 'session', \
                                    'environment variable') \
               ORDER BY name";
    let out = stack.psql(Session::App, &sql_args(&[sql]), Duration::from_secs(60))?;
    if !out.success() {
        anyhow::bail!("reading pg_settings failed: {}", out.combined());
    }
    Ok(out.stdout.lines().map(str::to_owned).collect())
}

/// The settings lines of `after` that are not in `before`, for evidence.
pub fn changed_settings(before: &[String], after: &[String]) -> String {
    let changed: Vec<&str> = after
        .iter()
        .filter(|s| !before.contains(s))
        .map(String::as_str)
        .collect();
    if changed.is_empty() {
        "settings: none changed".to_owned()
    } else {
        format!("settings changed:\n{}", changed.join("\n"))
    }
}

/// psql names the file by its path in the container; the candidate knows it as
/// `postgres/solution.sql`.
fn in_candidate_terms(output: &str) -> String {
    output.replace(&format!("{MOUNT}/solution.sql"), SOLUTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What psql printed for an unclosed parenthesis on line 7 of a 15-line file.
    const UNCLOSED: &str = "CREATE INDEX\n\
        psql:postgres/solution.sql:15: ERROR:  syntax error at or near \";\"\n\
        LINE 2:     ON customers (lower(email);\n\
        \x20                                 ^\n\
        psql:postgres/solution.sql:15: STATEMENT:  CREATE INDEX CONCURRENTLY customers_lower_email_idx\n\
        \x20   ON customers (lower(email);\n";

    const FILE: &str = "-- indexes\n\nCREATE INDEX CONCURRENTLY a\n    ON orders (x);\n\n\
        CREATE INDEX CONCURRENTLY customers_lower_email_idx\n    ON customers (lower(email);\n\n\
        CREATE INDEX b ON orders (y);\n\n\n\n\nANALYZE;\n\n";

    #[test]
    fn the_error_line_is_where_the_mistake_is_not_where_psql_stopped_reading() {
        assert_eq!(error_line(UNCLOSED, FILE), Some(7));
        // Without the statement's text, psql's own line is the best there is.
        assert_eq!(
            error_line(
                "psql:postgres/solution.sql:4: ERROR:  relation \"nope\" does not exist",
                FILE
            ),
            Some(4)
        );
        assert_eq!(error_line("could not connect", FILE), None);
    }

    #[test]
    fn changed_settings_lists_only_what_is_new() {
        let before = vec!["work_mem = 8MB (configuration file)".to_owned()];
        assert_eq!(changed_settings(&before, &before), "settings: none changed");
        let after = vec![
            "shared_buffers = 256MB (configuration file); a new value waits".to_owned(),
            "work_mem = 16MB (configuration file)".to_owned(),
        ];
        assert_eq!(
            changed_settings(&before, &after),
            "settings changed:\nshared_buffers = 256MB (configuration file); a new value \
             waits\nwork_mem = 16MB (configuration file)"
        );
    }

    #[test]
    fn container_paths_become_working_copy_paths() {
        assert_eq!(
            in_candidate_terms(
                "psql:/challenge/solution.sql:4: ERROR:  syntax error at or near \"INDEXX\""
            ),
            "psql:postgres/solution.sql:4: ERROR:  syntax error at or near \"INDEXX\""
        );
    }
}
