//! Options of a topic's checks: declared in the topic's `[[topic.options]]` table of the
//! manifest, set on the command line with one generic form, `--set <topic>.<name>=<value>`
//! (e.g. `--set os.exporter-binary=./postgres_exporter`). The shared run settings carry them as a
//! map; only the topic that declared an option reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sre_model::{Manifest, OptionKind, TopicId};

/// The value of an option, checked against its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// An existing file, as an absolute path.
    File(PathBuf),
    /// Text, as given.
    Text(String),
}

/// Every option set for this run, by topic and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicOptions {
    values: BTreeMap<(TopicId, String), OptionValue>,
}

impl TopicOptions {
    /// Reads `--set` assignments (`<topic>.<name>=<value>`) against the options `manifest`
    /// declares. The error names the assignment and says what to write instead.
    pub fn from_assignments(
        manifest: &Manifest,
        assignments: &[String],
    ) -> anyhow::Result<TopicOptions> {
        let mut values = BTreeMap::new();
        for assignment in assignments {
            let (key, value) = assignment.split_once('=').with_context(|| {
                format!("--set {assignment}: expected <topic>.<option>=<value>")
            })?;
            let (topic_id, name) = key.split_once('.').with_context(|| {
                format!("--set {assignment}: expected <topic>.<option>=<value>")
            })?;
            let id = manifest
                .topic_id(topic_id)
                .with_context(|| format!("--set {assignment}"))?;
            let topic = manifest.topic(id.as_str()).context("a listed topic")?;
            let Some(option) = topic.option(name) else {
                let known: Vec<String> = topic
                    .options
                    .iter()
                    .map(|o| format!("{id}.{}", o.name))
                    .collect();
                bail!(
                    "--set {assignment}: topic {id} has no option `{name}`; its options are: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
            };
            let value = match option.kind {
                OptionKind::File => OptionValue::File(
                    Path::new(value)
                        .canonicalize()
                        .ok()
                        .filter(|p| p.is_file())
                        .with_context(|| format!("--set {assignment}: no such file"))?,
                ),
                OptionKind::Text => OptionValue::Text(value.to_owned()),
            };
            if values.insert((id, name.to_owned()), value).is_some() {
                bail!("--set {key} is given twice: give it once");
            }
        }
        Ok(TopicOptions { values })
    }

    /// The file set for option `name` of `topic`, if any.
    pub fn file(&self, topic: &TopicId, name: &str) -> Option<&Path> {
        match self.values.get(&(topic.clone(), name.to_owned())) {
            Some(OptionValue::File(path)) => Some(path),
            _ => None,
        }
    }

    /// The text set for option `name` of `topic`, if any.
    pub fn text(&self, topic: &TopicId, name: &str) -> Option<&str> {
        match self.values.get(&(topic.clone(), name.to_owned())) {
            Some(OptionValue::Text(text)) => Some(text),
            _ => None,
        }
    }
}

/// The help of `--set`: the generic form, then every option `manifest` declares.
pub fn help(manifest: &Manifest) -> String {
    let mut text = "Set an option of a topic's checks, as <topic>.<option>=<value>; repeat for \
                    several."
        .to_owned();
    for topic in &manifest.topics {
        for option in &topic.options {
            let value = match option.kind {
                OptionKind::File => "PATH",
                OptionKind::Text => "TEXT",
            };
            text.push_str(&format!(
                "\n  {}.{}={value}: {}",
                topic.id, option.name, option.help
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> &'static Manifest {
        &crate::content::get().manifest
    }

    fn set(assignments: &[&str]) -> anyhow::Result<TopicOptions> {
        let owned: Vec<String> = assignments.iter().map(|s| (*s).to_owned()).collect();
        TopicOptions::from_assignments(manifest(), &owned)
    }

    #[test]
    fn a_declared_file_option_is_read_as_an_absolute_path() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let given = format!("os.exporter-binary={}", file.path().display());
        let options = set(&[&given]).unwrap();
        let os = manifest().topic_id("os").unwrap();
        let path = options.file(&os, "exporter-binary").unwrap();
        assert!(path.is_absolute());
        assert_eq!(path, file.path().canonicalize().unwrap());
        assert_eq!(options.file(&os, "other"), None);
        assert_eq!(options.text(&os, "exporter-binary"), None);
    }

    #[test]
    fn mistakes_are_named_with_what_to_write() {
        let msg = |a: &[&str]| format!("{:#}", set(a).unwrap_err());
        assert!(msg(&["os"]).contains("expected <topic>.<option>=<value>"));
        assert!(msg(&["os=x"]).contains("expected <topic>.<option>=<value>"));
        assert!(msg(&["k8s.x=1"]).contains("unknown topic `k8s`"));
        assert!(msg(&["os.nope=1"]).contains("its options are: os.exporter-binary"));
        assert!(msg(&["iac.nope=1"]).contains("its options are: none"));
        assert_eq!(
            msg(&["os.exporter-binary=/nonexistent/postgres_exporter"]),
            "--set os.exporter-binary=/nonexistent/postgres_exporter: no such file"
        );
    }

    #[test]
    fn the_help_lists_the_declared_options() {
        let text = help(manifest());
        assert!(text.contains("os.exporter-binary=PATH: "), "{text}");
    }
}
