//! Just enough of systemd's unit file syntax to read `[Service]` settings.

/// A parsed unit file: `(section, key, value)` in file order.
pub struct Unit {
    entries: Vec<(String, String, String)>,
}

impl Unit {
    /// Parses the text of a unit file; comments, blank lines and line continuations handled.
    pub fn parse(text: &str) -> Unit {
        let mut entries = Vec::new();
        let mut section = String::new();
        let mut pending = String::new();
        for raw in text.lines() {
            let line = raw.trim();
            if pending.is_empty() && (line.is_empty() || line.starts_with(['#', ';'])) {
                continue;
            }
            if let Some(continued) = line.strip_suffix('\\') {
                pending.push_str(continued.trim_end());
                pending.push(' ');
                continue;
            }
            let line = format!("{pending}{line}");
            pending.clear();
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_owned();
            } else if let Some((key, value)) = line.split_once('=') {
                entries.push((
                    section.clone(),
                    key.trim().to_owned(),
                    value.trim().to_owned(),
                ));
            }
        }
        Unit { entries }
    }

    /// Every value of `key` in `section`, in order.
    pub fn all(&self, section: &str, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    /// The last value of `key` in `section` (later settings override earlier ones).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.all(section, key).pop()
    }
}

#[cfg(test)]
mod tests {
    use super::Unit;

    #[test]
    fn service_settings_are_read() {
        let unit = Unit::parse(
            "[Unit]\nDescription=x\n# User=root\n[Service]\nUser=prometheus\n\
             EnvironmentFile=-/etc/default/a\nExecStart=/usr/bin/a \\\n  $ARGS\n",
        );
        assert_eq!(unit.get("Service", "User"), Some("prometheus"));
        assert_eq!(unit.get("Service", "ExecStart"), Some("/usr/bin/a $ARGS"));
        assert_eq!(unit.get("Unit", "User"), None);
        assert_eq!(unit.all("Service", "EnvironmentFile").len(), 1);
    }
}
