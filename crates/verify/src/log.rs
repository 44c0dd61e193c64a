//! The worker's log: one JSON object per line on stderr (`time`, `level`, `event`, then the
//! event's fields), for log collectors.

use serde_json::{Map, Value, json};

/// Writes one log line. `fields` is a JSON object whose keys are added to the line.
pub fn event(level: &str, event: &str, fields: Value) {
    let mut line = Map::new();
    let now = time::OffsetDateTime::now_utc();
    line.insert("time".into(), json!(sre_model::report::format_time(now)));
    line.insert("level".into(), json!(level));
    line.insert("event".into(), json!(event));
    if let Value::Object(extra) = fields {
        line.extend(extra);
    }
    eprintln!("{}", Value::Object(line));
}

/// An `info` line.
pub fn info(event_name: &str, fields: Value) {
    event("info", event_name, fields);
}

/// A `warn` line.
pub fn warn(event_name: &str, fields: Value) {
    event("warn", event_name, fields);
}

/// An `error` line.
pub fn error(event_name: &str, fields: Value) {
    event("error", event_name, fields);
}
