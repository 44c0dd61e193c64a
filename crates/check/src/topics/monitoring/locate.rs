//! Finding the line of a rule or a scrape job in the candidate's YAML, for `file:line` evidence.
//! A line scan rather than a parse: it works on files that do not parse, which is when the
//! location matters most.

use std::path::Path;

/// `path:line` of the first `key: value` line (also `- key: value`, quoted or not), or the
/// path alone when no line matches or the file cannot be read.
pub fn locate(path: &Path, shown: &str, key: &str, value: &str) -> String {
    let line = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| line_of(&text, key, value));
    match line {
        Some(n) => format!("{shown}:{n}"),
        None => shown.to_owned(),
    }
}

/// The 1-based line of `key: value` in `text`.
pub fn line_of(text: &str, key: &str, value: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches("- ").trim_start();
            line.strip_prefix(key)
                .and_then(|rest| rest.trim_start().strip_prefix(':'))
                .map(|rest| rest.split(" #").next().unwrap_or(rest).trim())
                .map(|found| found.trim_matches(|c| c == '"' || c == '\''))
                == Some(value)
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "groups:\n  - name: db\n    rules:\n      - alert: PostgresDown\n        expr: pg_up == 0\n      - alert: \"Quoted\" # comment\n";

    #[test]
    fn finds_list_items_and_quoted_values() {
        assert_eq!(line_of(RULES, "alert", "PostgresDown"), Some(4));
        assert_eq!(line_of(RULES, "alert", "Quoted"), Some(6));
        assert_eq!(line_of(RULES, "name", "db"), Some(2));
        assert_eq!(line_of(RULES, "alert", "Postgres"), None);
        assert_eq!(
            line_of("  - job_name: 'node'\n", "job_name", "node"),
            Some(1)
        );
    }
}
