//! Queries of the candidate's Grafana dashboards (JSON files under monitoring/), made ready to
//! evaluate against Prometheus: Grafana's variables are replaced by values Prometheus accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::files;

/// Dashboards larger than this are not read (an export with data, not a dashboard).
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// A dashboard's PromQL queries.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// The JSON file.
    pub path: PathBuf,
    /// Its title.
    pub title: String,
    /// Every query of every panel, in order.
    pub queries: Vec<Query>,
}

/// One panel query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The panel's title.
    pub panel: String,
    /// The expression as written.
    pub expr: String,
    /// The expression with variables replaced, ready to evaluate.
    pub resolved: String,
    /// Its line in the file (1-based), when found.
    pub line: Option<usize>,
}

/// Every Grafana dashboard under `dir`, sorted by path.
pub fn find(dir: &Path) -> Vec<Dashboard> {
    files::with_extensions(dir, &[".json"])
        .into_iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= MAX_BYTES))
        .filter_map(|p| read(&p))
        .collect()
}

/// A dashboard from a file, or `None` when the file is not one.
pub fn read(path: &Path) -> Option<Dashboard> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: Value = serde_json::from_str(&text).ok()?;
    // Exports through the HTTP API wrap the dashboard in {"dashboard": …}.
    let dashboard = json.get("dashboard").unwrap_or(&json);
    let panels = dashboard.get("panels")?.as_array()?;
    let variables = variables(dashboard);
    let mut queries = Vec::new();
    collect(panels, &variables, &text, &mut queries);
    Some(Dashboard {
        path: path.to_path_buf(),
        title: dashboard
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("untitled")
            .to_owned(),
        queries,
    })
}

fn collect(
    panels: &[Value],
    variables: &BTreeMap<String, String>,
    text: &str,
    out: &mut Vec<Query>,
) {
    for panel in panels {
        let title = panel
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("untitled panel");
        for target in panel
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(expr) = target.get("expr").and_then(Value::as_str) else {
                continue;
            };
            if expr.trim().is_empty() {
                continue;
            }
            out.push(Query {
                panel: title.to_owned(),
                expr: expr.to_owned(),
                resolved: substitute(expr, variables),
                line: line_of_json_string(text, expr),
            });
        }
        // Rows hold their panels (collapsed rows) in `panels`.
        if let Some(inner) = panel.get("panels").and_then(Value::as_array) {
            collect(inner, variables, text, out);
        }
    }
}

/// Current values of the dashboard's template variables; "All" and unset become `.*`.
fn variables(dashboard: &Value) -> BTreeMap<String, String> {
    let list = dashboard
        .pointer("/templating/list")
        .and_then(Value::as_array);
    let mut out = BTreeMap::new();
    for var in list.into_iter().flatten() {
        let Some(name) = var.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = match var.pointer("/current/value") {
            Some(Value::String(v)) if !v.starts_with('$') && !v.is_empty() => v.clone(),
            Some(Value::Array(values)) => {
                let values: Vec<&str> = values
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|v| !v.starts_with('$'))
                    .collect();
                if values.is_empty() {
                    ".*".to_owned()
                } else {
                    values.join("|")
                }
            }
            _ => ".*".to_owned(),
        };
        out.insert(name.to_owned(), value);
    }
    out
}

/// Grafana's built-in variables, as Prometheus needs them (durations, seconds, milliseconds).
fn builtin(name: &str) -> Option<&'static str> {
    Some(match name {
        "__rate_interval" | "__interval" | "interval" => "1m",
        "__range" => "1h",
        "__range_s" => "3600",
        "__range_ms" | "__interval_ms" => "60000",
        _ => return None,
    })
}

/// Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` with their values.
pub fn substitute(expr: &str, variables: &BTreeMap<String, String>) -> String {
    let value = |name: &str| -> String {
        builtin(name)
            .map(str::to_owned)
            .or_else(|| variables.get(name).cloned())
            .unwrap_or_else(|| ".*".to_owned())
    };
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(i) = rest.find(['$', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (name, used) = if let Some(braced) = tail.strip_prefix("${") {
            match braced.find('}') {
                Some(end) => (braced[..end].split(':').next().unwrap_or(""), end + 3),
                None => ("", 0),
            }
        } else if let Some(bracketed) = tail.strip_prefix("[[") {
            match bracketed.find("]]") {
                Some(end) if bracketed[..end].chars().all(is_name) => (&bracketed[..end], end + 4),
                _ => ("", 0),
            }
        } else if let Some(plain) = tail.strip_prefix('$') {
            let end = plain.find(|c: char| !is_name(c)).unwrap_or(plain.len());
            (&plain[..end], end + 1)
        } else {
            ("", 0)
        };
        if name.is_empty() {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        } else {
            out.push_str(&value(name));
            rest = &tail[used..];
        }
    }
    out.push_str(rest);
    out
}

/// The line where `value` appears as a JSON string in `text`.
fn line_of_json_string(text: &str, value: &str) -> Option<usize> {
    let encoded = serde_json::to_string(value).ok()?;
    let at = text.find(&encoded)?;
    Some(text[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("instance", "node-1"), ("job", ".*")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn grafana_variables_are_replaced() {
        assert_eq!(
            substitute(
                r#"rate(x{instance=~"$instance"}[$__rate_interval])"#,
                &vars()
            ),
            r#"rate(x{instance=~"node-1"}[1m])"#
        );
        assert_eq!(
            substitute(
                r#"x{job=~"${job:regex}", a="[[instance]]"}[${__range}]"#,
                &vars()
            ),
            r#"x{job=~".*", a="node-1"}[1h]"#
        );
        assert_eq!(substitute("x{a=~\"$unknown\"}", &vars()), "x{a=~\".*\"}");
        assert_eq!(
            substitute("sum(x[5m]) by (a)", &vars()),
            "sum(x[5m]) by (a)"
        );
        assert_eq!(substitute("x$", &vars()), "x$");
    }

    #[test]
    fn panels_in_rows_are_read_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.json");
        let json = r#"{
  "title": "Shop",
  "templating": {"list": [{"name": "instance", "current": {"value": "$__all"}}]},
  "panels": [
    {"type": "row", "title": "r", "panels": [
      {"title": "inner", "targets": [{"expr": "up{instance=~\"$instance\"}"}]}
    ]},
    {"title": "text panel"},
    {"title": "outer", "targets": [{"expr": "sum(rate(x[$__interval]))"}, {"expr": ""}]}
  ]
}"#;
        std::fs::write(&path, json).unwrap();
        let d = read(&path).unwrap();
        assert_eq!(d.title, "Shop");
        let got: Vec<(&str, &str, Option<usize>)> = d
            .queries
            .iter()
            .map(|q| (q.panel.as_str(), q.resolved.as_str(), q.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("inner", "up{instance=~\".*\"}", Some(6)),
                ("outer", "sum(rate(x[1m]))", Some(9)),
            ]
        );
        std::fs::write(dir.path().join("other.json"), r#"{"a": 1}"#).unwrap();
        assert_eq!(find(dir.path()).len(), 1);
    }
}
