//! The challenge manifest, `content/challenge.toml`.
//!
//! Every component reads it: the site renders topics from it, `sre-check` embeds it to lay out the
//! starter kit and name its checks, and `sre-intake` builds the reviewer rubric from its criteria and
//! maps answer slots to file names.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audience::Audience;
use crate::hints::ExpectedPart;
use crate::topic::{TopicId, UnknownTopic, roman_numeral};

/// The whole challenge: its identity and its topics in order. The manifest is the registry of
/// topics: no list of them exists in code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Title, version and top-level files.
    pub challenge: Challenge,
    /// The topics, in the order the candidate reads them.
    #[serde(rename = "topic")]
    pub topics: Vec<Topic>,
}

/// What identifies this edition of the challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Shown as the site title.
    pub title: String,
    /// `MAJOR.MINOR.PATCH`; reports name the version they were made against.
    pub version: String,
    /// The main README, relative to the content root.
    pub readme: String,
    /// Top-level files handed out (README.md, feedback.txt).
    pub files: Vec<String>,
    /// The time the whole challenge asks of a candidate, in minutes, as the main README states
    /// it; the topics' time boxes add up to it.
    pub minutes: u16,
}

/// One topic of the challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Stable id, e.g. `iac`; its shape is checked when the manifest is read.
    pub id: TopicId,
    /// Position in the challenge, from 1 (shown as a Roman numeral).
    pub number: u8,
    /// Human title, e.g. "Infrastructure as Code".
    pub title: String,
    /// One sentence: what the candidate shows in this topic (overview cards).
    pub objective: String,
    /// The topic's instructions: a markdown file, optionally `#section` of it
    /// (topics V and VI live as sections of the main README).
    pub readme: String,
    /// Whether the machine checks of this topic need a Docker engine.
    #[serde(default)]
    pub docker: bool,
    /// The suggested time box, in minutes, as the topic's README states it. The boxes of the
    /// topics that state one add up to [`Challenge::minutes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u16>,
    /// How long the first build of this topic's images takes on an empty Docker cache, in
    /// minutes, as measured on a small machine; `sre-check run` announces it before a first build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_build_minutes: Option<u16>,
    /// Evaluation criteria, word for word as the challenge states them.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// Files of this topic handed out in the starter kit, relative to the content root.
    #[serde(default)]
    pub files: Vec<String>,
    /// Written answers the candidate gives for this topic.
    #[serde(default)]
    pub answers: Vec<AnswerSlot>,
    /// Machine checks `sre-check` runs for this topic, in order.
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    /// The Debian package the candidate builds, and the script interface the checker calls
    /// (topic II only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageSpec>,
    /// Options of this topic's checks that a candidate may set on the command line
    /// (`sre-check run --set <topic>.<name>=<value>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<TopicOption>,
}

/// An option of a topic's checks, set with `sre-check run --set <topic>.<name>=<value>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicOption {
    /// Name within the topic, e.g. `exporter-binary` (1-32 characters of a-z, 0-9 and '-').
    pub name: String,
    /// What the value is, so it can be checked before any check runs.
    pub kind: OptionKind,
    /// One or two sentences for the candidate: what the value is and what happens without it.
    pub help: String,
}

/// What kind of value a [`TopicOption`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionKind {
    /// The path of an existing file (resolved against the current folder).
    File,
    /// Any text.
    Text,
}

/// An evaluation criterion reviewers score from 1 to 4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Short name, e.g. "Understanding Errors".
    pub name: String,
    /// One line: what the reviewer looks for.
    pub description: String,
    /// Anchored descriptors: what an answer scored 1, 2, 3 and 4 looks like, in that order, shown
    /// next to each score in the reviewer's rubric. Reviewer material: the site's published
    /// manifest leaves them out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
}

/// Whether a manifest must hold the criteria's descriptors (a candidate's copy leaves them out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Descriptors {
    Required,
    LeftOut,
}

/// How many scores a criterion has (1 to 4), and so how many descriptors it needs.
pub const SCORE_LEVELS: usize = 4;

/// A written answer: a short id used by the API and the file the challenge expects it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSlot {
    /// Short id, e.g. `infra`, `feedback` (`PUT /api/v1/answers/{id}`).
    pub id: String,
    /// What the answer is about, shown above the editor.
    pub title: String,
    /// Accepted file names relative to the working copy; the first is the canonical one,
    /// used for exports. Topic V accepts `technical-leadership.md` or `.txt`.
    pub files: Vec<String>,
    /// How the answer is written; markdown answers get a preview.
    #[serde(default)]
    pub format: AnswerFormat,
    /// Starting text of the editor when the file is not handed out (e.g. expected headings);
    /// `sre-check init` writes it into the working copy with the same text.
    #[serde(default)]
    pub template: Option<String>,
    /// Whether the answer may be left unwritten (the feedback): an unchanged or absent file is
    /// "not written", never a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Automatic aids for reading the answer: the parts a reader expects it to cover (see
    /// [`crate::hints`]), each with its audience; empty when the answer has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<ExpectedPart>,
}

/// The format of a written answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerFormat {
    /// Markdown, previewed as HTML.
    #[default]
    Markdown,
    /// Plain text.
    Text,
}

/// A machine check, as listed to the candidate before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Id unique within the topic, e.g. `build`, `idempotence`.
    pub id: String,
    /// One line shown in progress and in the report.
    pub title: String,
    /// Who sees the result: `candidate` checks say whether the work works and run in
    /// `sre-check run`; `reviewer` checks judge practice and run only for reviewers.
    pub audience: Audience,
}

/// A Debian package the candidate builds with a script of their own (topic II): what the package
/// must contain and how the checker calls the script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// Package name, e.g. `prometheus-postgres-exporter`.
    pub name: String,
    /// Absolute path of the program the package installs, e.g. `/usr/bin/prometheus-postgres-exporter`.
    pub binary: String,
    /// The systemd unit the package ships, e.g. `prometheus-postgres-exporter.service`.
    pub service: String,
    /// The defaults file the unit reads, shipped as a conffile: `/etc/default/<name>`.
    pub defaults: String,
    /// The packaging script and its arguments.
    pub script: ScriptInterface,
    /// The upstream release the workflow packages.
    pub upstream: UpstreamRelease,
    /// The Debian releases the package is built for, newest first (`[[topic.package.releases]]`).
    pub releases: Vec<crate::debian::DebianRelease>,
}

/// A script of the candidate that the checker runs, and the arguments it takes, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptInterface {
    /// Path in the working copy, e.g. `packaging/build-deb.sh`; run from the top of the working copy.
    pub path: String,
    /// The positional arguments, in order.
    pub args: Vec<ScriptArg>,
}

/// A positional argument of the packaging script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptArg {
    /// The Debian release to build for: `trixie`, `bookworm`, `bullseye`.
    Codename,
    /// The upstream version of the binary, e.g. `0.17.1`.
    Version,
    /// Path of the upstream binary to package.
    Binary,
    /// Folder the script writes the `.deb` into (it exists and is empty).
    Outdir,
}

impl ScriptArg {
    /// The placeholder shown in usage lines: `<codename>`.
    pub fn placeholder(self) -> &'static str {
        match self {
            ScriptArg::Codename => "<codename>",
            ScriptArg::Version => "<version>",
            ScriptArg::Binary => "<exporter-binary>",
            ScriptArg::Outdir => "<outdir>",
        }
    }
}

impl PackageSpec {
    /// Checks what the checker relies on: a safe script path, every argument exactly once,
    /// absolute installed paths, SHA-256 digests, a valid list of Debian releases.
    fn validate(&self) -> Result<(), String> {
        crate::debian::validate(&self.releases)?;
        if !is_safe_path(&self.script.path) {
            return Err(format!(
                "script path `{}` must be relative and stay inside the working copy",
                self.script.path
            ));
        }
        let all = [
            ScriptArg::Codename,
            ScriptArg::Version,
            ScriptArg::Binary,
            ScriptArg::Outdir,
        ];
        for arg in all {
            let count = self.script.args.iter().filter(|a| **a == arg).count();
            if count != 1 {
                return Err(format!(
                    "script args must name {} exactly once (found {count})",
                    arg.placeholder()
                ));
            }
        }
        for path in [&self.binary, &self.defaults] {
            if !path.starts_with('/') {
                return Err(format!("`{path}` must be an absolute path"));
            }
        }
        for (arch, digest) in &self.upstream.sha256 {
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("upstream sha256 for {arch} is not 64 hex digits"));
            }
        }
        Ok(())
    }
}

impl ScriptInterface {
    /// The usage line: `packaging/build-deb.sh <codename> <version> <exporter-binary> <outdir>`.
    pub fn usage(&self) -> String {
        std::iter::once(self.path.as_str())
            .chain(self.args.iter().map(|a| a.placeholder()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A pinned upstream release: version, download address and checksums per architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamRelease {
    /// The version, e.g. `0.17.1`.
    pub version: String,
    /// The release tarball's address; `{version}` and `{arch}` (Debian architecture) are replaced.
    pub url: String,
    /// The binary's path inside the tarball, with the same placeholders.
    pub member: String,
    /// SHA-256 of the tarball, by Debian architecture (`amd64`, `arm64`).
    pub sha256: std::collections::BTreeMap<String, String>,
}

impl UpstreamRelease {
    /// `template` with `{version}` and `{arch}` replaced.
    pub fn expand(&self, template: &str, arch: &str) -> String {
        template
            .replace("{version}", &self.version)
            .replace("{arch}", arch)
    }
}

/// Why a manifest was rejected. Each message names the field and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The TOML does not parse or does not match the schema (this includes malformed topic ids).
    #[error("challenge.toml does not parse: {0}")]
    Parse(String),
    /// The version is not `MAJOR.MINOR.PATCH`.
    #[error("challenge version `{0}` is not MAJOR.MINOR.PATCH (e.g. 1.0.0)")]
    BadVersion(String),
    /// A topic is listed twice.
    #[error("topic `{0}` is listed twice")]
    DuplicateTopic(TopicId),
    /// The manifest lists no topic.
    #[error("the manifest lists no topic: add at least one [[topic]]")]
    NoTopics,
    /// Topic numbers are not 1, 2, 3… in order.
    #[error(
        "topic `{topic}` has number {found}, expected {expected} (topics are numbered in order from 1)"
    )]
    BadNumber {
        /// The topic.
        topic: TopicId,
        /// Its number in the file.
        found: u8,
        /// The number its position implies.
        expected: u8,
    },
    /// An answer slot id is used twice across the manifest.
    #[error("answer slot `{0}` is defined twice: slot ids are unique across topics")]
    DuplicateSlot(String),
    /// An answer slot id is not a short lowercase word.
    #[error("answer slot id `{0}` must be 1-32 characters of a-z, 0-9 and '-'")]
    BadSlotId(String),
    /// An answer slot names no file.
    #[error("answer slot `{0}` names no file: give at least one in `files`")]
    SlotWithoutFile(String),
    /// A check id is used twice within one topic.
    #[error("check `{check}` is listed twice in topic `{topic}`")]
    DuplicateCheck {
        /// The topic.
        topic: TopicId,
        /// The repeated check id.
        check: String,
    },
    /// A path is absolute, climbs out with `..`, or is otherwise unsafe to write.
    #[error("path `{0}` must be relative, use '/', and stay inside the challenge (no '..')")]
    BadPath(String),
    /// A topic's `package` table is inconsistent.
    #[error("topic `{topic}`: package: {reason}")]
    BadPackage {
        /// The topic.
        topic: TopicId,
        /// What is wrong, and what to write instead.
        reason: String,
    },
    /// An answer slot's `signals` are inconsistent.
    #[error("answer slot `{slot}`: signals: {reason}")]
    BadSignal {
        /// The answer slot.
        slot: String,
        /// What is wrong, and what to write instead.
        reason: String,
    },
    /// A topic's `options` are inconsistent.
    #[error("topic `{topic}`: option `{option}` {reason}")]
    BadOption {
        /// The topic.
        topic: TopicId,
        /// The option's name.
        option: String,
        /// What is wrong, and what to write instead.
        reason: String,
    },
    /// A criterion's anchored descriptors are missing or empty.
    #[error(
        "topic `{topic}`: criterion `{criterion}` needs {SCORE_LEVELS} `levels`, what a 1, 2, 3 and 4 look like ({reason})"
    )]
    BadLevels {
        /// The topic.
        topic: TopicId,
        /// The criterion's name.
        criterion: String,
        /// What is wrong.
        reason: String,
    },
    /// The topics' time boxes do not add up to the challenge's total.
    #[error(
        "the topics' time boxes add up to {sum} minutes but [challenge] minutes = {total}: make them agree (and the READMEs that state them)"
    )]
    BadTimeBoxes {
        /// The sum of the topics' `minutes`.
        sum: u32,
        /// `challenge.minutes`.
        total: u16,
    },
    /// A file the manifest names does not exist in the content folder.
    #[error("{path} is named by the manifest ({owner}) but does not exist in the content folder")]
    MissingFile {
        /// Which part of the manifest names it.
        owner: String,
        /// The path.
        path: String,
    },
}

impl Manifest {
    /// Parses and validates `challenge.toml` (structure only; see [`Manifest::check_files`]).
    pub fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| ManifestError::Parse(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The manifest as a candidate's copy holds it (the candidate's sre-check): without the
    /// criteria's anchored descriptors and the written answers' reviewer-only aids, which are
    /// reviewer material.
    pub fn for_candidates(&self) -> Manifest {
        let mut copy = self.clone();
        for topic in &mut copy.topics {
            for slot in &mut topic.answers {
                slot.signals.retain(|p| p.audience == Audience::Candidate);
            }
            for criterion in &mut topic.criteria {
                criterion.levels.clear();
            }
        }
        copy
    }

    /// Parses the JSON of a [`Manifest::for_candidates`] copy, and validates all of it but the
    /// descriptors it leaves out.
    pub fn from_candidate_json(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| ManifestError::Parse(e.to_string()))?;
        manifest.validate_with(Descriptors::LeftOut)?;
        Ok(manifest)
    }

    /// Checks what can be checked without reading files: version, topics numbered in order,
    /// unique ids, safe paths, well-formed signals, options and descriptors.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.validate_with(Descriptors::Required)
    }

    fn validate_with(&self, descriptors: Descriptors) -> Result<(), ManifestError> {
        if !is_version(&self.challenge.version) {
            return Err(ManifestError::BadVersion(self.challenge.version.clone()));
        }
        if self.topics.is_empty() {
            return Err(ManifestError::NoTopics);
        }
        let mut seen = BTreeSet::new();
        for (i, topic) in self.topics.iter().enumerate() {
            if !seen.insert(&topic.id) {
                return Err(ManifestError::DuplicateTopic(topic.id.clone()));
            }
            let expected = u8::try_from(i + 1).unwrap_or(u8::MAX);
            if topic.number != expected {
                return Err(ManifestError::BadNumber {
                    topic: topic.id.clone(),
                    found: topic.number,
                    expected,
                });
            }
            if let Some(package) = &topic.package {
                package
                    .validate()
                    .map_err(|reason| ManifestError::BadPackage {
                        topic: topic.id.clone(),
                        reason,
                    })?;
            }
            let mut checks = BTreeSet::new();
            for check in &topic.checks {
                if !checks.insert(check.id.as_str()) {
                    return Err(ManifestError::DuplicateCheck {
                        topic: topic.id.clone(),
                        check: check.id.clone(),
                    });
                }
            }
            topic.validate_options()?;
            if descriptors == Descriptors::Required {
                topic.validate_levels()?;
            }
        }
        let sum: u32 = self
            .topics
            .iter()
            .filter_map(|t| t.minutes)
            .map(u32::from)
            .sum();
        if sum != u32::from(self.challenge.minutes) {
            return Err(ManifestError::BadTimeBoxes {
                sum,
                total: self.challenge.minutes,
            });
        }
        let mut slots = BTreeSet::new();
        for slot in self.slots().map(|(_, s)| s) {
            if !is_slot_id(&slot.id) {
                return Err(ManifestError::BadSlotId(slot.id.clone()));
            }
            if !slots.insert(slot.id.as_str()) {
                return Err(ManifestError::DuplicateSlot(slot.id.clone()));
            }
            if slot.files.is_empty() {
                return Err(ManifestError::SlotWithoutFile(slot.id.clone()));
            }
            slot.validate_signals()
                .map_err(|reason| ManifestError::BadSignal {
                    slot: slot.id.clone(),
                    reason,
                })?;
        }
        for (_, path) in self.content_paths().chain(self.answer_paths()) {
            if !is_safe_path(path) {
                return Err(ManifestError::BadPath(path.to_owned()));
            }
        }
        Ok(())
    }

    /// Checks that every file the manifest hands out or reads exists, using `exists` to ask
    /// (the caller decides where the content lives: a folder, an embedded copy).
    pub fn check_files(&self, exists: impl Fn(&str) -> bool) -> Result<(), ManifestError> {
        for (owner, path) in self.content_paths() {
            if !exists(path) {
                return Err(ManifestError::MissingFile {
                    owner,
                    path: path.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The topic with this id, if the manifest lists it.
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// The id of the topic named `id`, or an error that lists the topics there are.
    pub fn topic_id(&self, id: &str) -> Result<TopicId, UnknownTopic> {
        self.topic(id)
            .map(|t| t.id.clone())
            .ok_or_else(|| UnknownTopic {
                id: id.to_owned(),
                known: self
                    .topics
                    .iter()
                    .map(|t| t.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Every answer slot with its topic, in challenge order.
    pub fn slots(&self) -> impl Iterator<Item = (&Topic, &AnswerSlot)> {
        self.topics
            .iter()
            .flat_map(|t| t.answers.iter().map(move |s| (t, s)))
    }

    /// The answer slot with this id, and its topic.
    pub fn slot(&self, id: &str) -> Option<(&Topic, &AnswerSlot)> {
        self.slots().find(|(_, s)| s.id == id)
    }

    /// Every file of the starter kit: the top-level files, then each topic's, without repeats.
    pub fn starter_files(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.challenge
            .files
            .iter()
            .chain(self.topics.iter().flat_map(|t| t.files.iter()))
            .map(String::as_str)
            .filter(|p| seen.insert(*p))
            .collect()
    }

    /// Every path handed out or read (readmes, starter files), with the part of the manifest
    /// that names it.
    fn content_paths(&self) -> impl Iterator<Item = (String, &str)> {
        let top = std::iter::once((
            "challenge readme".to_owned(),
            self.challenge.readme.as_str(),
        ))
        .chain(
            self.challenge
                .files
                .iter()
                .map(|f| ("challenge files".to_owned(), f.as_str())),
        );
        let topics = self.topics.iter().flat_map(|t| {
            std::iter::once((format!("topic {} readme", t.id), t.readme_file())).chain(
                t.files
                    .iter()
                    .map(move |f| (format!("topic {} files", t.id), f.as_str())),
            )
        });
        top.chain(topics)
    }

    /// Every file an answer may be written to (these need not be handed out).
    fn answer_paths(&self) -> impl Iterator<Item = (String, &str)> {
        self.slots().flat_map(|(_, s)| {
            s.files
                .iter()
                .map(move |f| (format!("answer slot {}", s.id), f.as_str()))
        })
    }
}

impl Topic {
    /// The readme file, without any `#section`.
    pub fn readme_file(&self) -> &str {
        self.readme.split_once('#').map_or(&self.readme, |(f, _)| f)
    }

    /// The section of the readme file this topic is about, when it is only a part of a file.
    pub fn readme_section(&self) -> Option<&str> {
        self.readme.split_once('#').map(|(_, s)| s)
    }

    /// The topic number as a Roman numeral, as the challenge writes it.
    pub fn roman(&self) -> String {
        roman_numeral(self.number)
    }

    /// The option of this topic named `name`.
    pub fn option(&self, name: &str) -> Option<&TopicOption> {
        self.options.iter().find(|o| o.name == name)
    }

    fn validate_options(&self) -> Result<(), ManifestError> {
        let mut names = BTreeSet::new();
        for option in &self.options {
            let bad = |reason: &str| ManifestError::BadOption {
                topic: self.id.clone(),
                option: option.name.clone(),
                reason: reason.to_owned(),
            };
            if !is_slot_id(&option.name) {
                return Err(bad("must be 1-32 characters of a-z, 0-9 and '-'"));
            }
            if !names.insert(option.name.as_str()) {
                return Err(bad("is listed twice"));
            }
            if option.help.trim().is_empty() {
                return Err(bad("needs a `help` text for the candidate"));
            }
        }
        Ok(())
    }

    /// The check spec with this id.
    pub fn check(&self, id: &str) -> Option<&CheckSpec> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The checks someone in `audience` may see, in order.
    pub fn checks_for(&self, audience: Audience) -> impl Iterator<Item = &CheckSpec> {
        self.checks
            .iter()
            .filter(move |c| audience.sees(c.audience))
    }

    fn validate_levels(&self) -> Result<(), ManifestError> {
        for criterion in &self.criteria {
            let reason = if criterion.levels.len() != SCORE_LEVELS {
                Some(format!("found {}", criterion.levels.len()))
            } else {
                criterion
                    .levels
                    .iter()
                    .position(|l| l.trim().is_empty())
                    .map(|i| format!("level {} is empty", i + 1))
            };
            if let Some(reason) = reason {
                return Err(ManifestError::BadLevels {
                    topic: self.id.clone(),
                    criterion: criterion.name.clone(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

impl AnswerSlot {
    /// The file name used when exporting this answer.
    pub fn canonical_file(&self) -> &str {
        self.files.first().map_or("", String::as_str)
    }

    /// The aids someone in `audience` may see.
    pub fn signals_for(&self, audience: Audience) -> Vec<ExpectedPart> {
        self.signals
            .iter()
            .filter(|p| audience.sees(p.audience))
            .cloned()
            .collect()
    }

    fn validate_signals(&self) -> Result<(), String> {
        let mut ids = BTreeSet::new();
        for part in &self.signals {
            if !is_slot_id(&part.id) {
                return Err(format!(
                    "id `{}` must be 1-32 characters of a-z, 0-9 and '-'",
                    part.id
                ));
            }
            if !ids.insert(part.id.as_str()) {
                return Err(format!("`{}` is listed twice", part.id));
            }
            part.validate()?;
        }
        Ok(())
    }
}

/// A digest of the handed-out content: sha256 over each file's path and bytes, in the order given.
/// Reports carry it so a reviewer knows exactly which edition the candidate worked on.
pub fn content_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut hasher = Sha256::new();
    for (path, bytes) in files {
        hasher.update((path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// Lowercase hex of `bytes`, the form every digest in reports and listings takes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_slot_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Relative, '/'-separated, no empty, `.` or `..` components: safe to join onto a directory.
pub fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT: &str = include_str!("../../../content/challenge.toml");

    fn manifest() -> Manifest {
        Manifest::from_toml(CONTENT).expect("content/challenge.toml is valid")
    }

    #[test]
    fn the_real_manifest_has_six_topics_in_order() {
        let m = manifest();
        let ids: Vec<&str> = m.topics.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "iac",
                "os",
                "monitoring",
                "postgres",
                "leadership",
                "feedback"
            ]
        );
        assert_eq!(m.topics[3].roman(), "IV");
    }

    #[test]
    fn the_real_manifest_criteria_match_the_challenge() {
        let m = manifest();
        let names = |id: &str| -> Vec<&str> {
            m.topic(id)
                .unwrap()
                .criteria
                .iter()
                .map(|c| c.name.as_str())
                .collect()
        };
        assert_eq!(
            names("iac"),
            [
                "Understanding Errors",
                "Problem-Solving",
                "Best Practices with Ansible"
            ]
        );
        assert_eq!(names("os"), ["Accuracy", "Complexity", "Best Practices"]);
        assert_eq!(
            names("monitoring"),
            [
                "Comprehensiveness",
                "Customization",
                "Effectiveness",
                "Understanding"
            ]
        );
        assert_eq!(
            names("postgres"),
            [
                "Technical Depth",
                "Problem-Solving",
                "Communication",
                "Practical Application",
                "Troubleshooting",
                "Crisis management"
            ]
        );
        assert_eq!(
            names("leadership"),
            [
                "Strategic Thinking",
                "Depth of Knowledge",
                "Clear Communication",
                "Informed Decisions",
                "Trade-off Management"
            ]
        );
        assert!(m.topic("feedback").unwrap().criteria.is_empty());
    }

    #[test]
    fn slots_map_to_the_files_the_challenge_expects() {
        let m = manifest();
        assert_eq!(
            m.slot("feedback").unwrap().1.canonical_file(),
            "feedback.txt"
        );
        let leadership = m.slot("leadership").unwrap().1;
        assert_eq!(
            leadership.files,
            ["technical-leadership.md", "technical-leadership.txt"]
        );
        assert_eq!(m.slot("infra").unwrap().0.id, "iac");
        assert_eq!(m.topic_id("iac").map(|id| id.to_string()), Ok("iac".into()));
        assert!(m.slot("nope").is_none());
    }

    #[test]
    fn round_trips_through_json_for_the_site() {
        let m = manifest();
        let json = serde_json::to_string(&m).unwrap();
        let back: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn unknown_topic_is_rejected_with_the_valid_ids() {
        let err = manifest().topic_id("kubernetes").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("kubernetes"), "{msg}");
        assert!(msg.contains("feedback"), "{msg}");
        let text = CONTENT.replacen("id = \"feedback\"", "id = \"Feed back\"", 1);
        let msg = Manifest::from_toml(&text).unwrap_err().to_string();
        assert!(msg.contains("`Feed back` is not a topic id"), "{msg}");
    }

    #[test]
    fn a_manifest_without_topics_or_with_a_repeated_one_is_rejected() {
        let mut m = manifest();
        m.topics.clear();
        assert_eq!(m.validate(), Err(ManifestError::NoTopics));
        let mut m = manifest();
        let first = m.topics[0].clone();
        m.topics.push(first);
        assert_eq!(
            m.validate(),
            Err(ManifestError::DuplicateTopic("iac".parse().unwrap()))
        );
    }

    #[test]
    fn a_seventh_topic_is_numbered_like_the_others() {
        let mut m = manifest();
        let mut topic = m.topics[5].clone();
        topic.id = "oncall".parse().unwrap();
        topic.number = 7;
        topic.answers.clear();
        m.topics.push(topic);
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(m.topics[6].roman(), "VII");
    }

    #[test]
    fn malformed_signals_and_options_are_rejected() {
        let mut m = manifest();
        let leadership = m.topics.iter_mut().find(|t| t.id == "leadership").unwrap();
        leadership.answers[0].signals[0]
            .keywords
            .push("Road-map".into());
        let msg = m.validate().unwrap_err().to_string();
        assert!(
            msg.starts_with("answer slot `leadership`: signals:"),
            "{msg}"
        );
        assert!(msg.contains("`Road-map`"), "{msg}");

        let mut m = manifest();
        let os = m.topics.iter_mut().find(|t| t.id == "os").unwrap();
        let option = os.options[0].clone();
        os.options.push(option);
        let msg = m.validate().unwrap_err().to_string();
        assert_eq!(msg, "topic `os`: option `exporter-binary` is listed twice");
    }

    #[test]
    fn every_check_and_aid_has_an_audience_and_reviewers_see_all() {
        let m = manifest();
        let iac = m.topic("iac").unwrap();
        let candidate: Vec<&str> = iac
            .checks_for(Audience::Candidate)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(candidate, ["answers", "build", "idempotence", "service"]);
        assert_eq!(iac.checks_for(Audience::Reviewer).count(), iac.checks.len());
        for (_, slot) in m.slots() {
            assert!(
                slot.signals_for(Audience::Candidate).is_empty(),
                "slot {}: the shipped aids are reviewer-only",
                slot.id
            );
        }
        let text = CONTENT.replacen("audience = \"candidate\"\n", "", 1);
        let msg = Manifest::from_toml(&text).unwrap_err().to_string();
        assert!(msg.contains("missing field `audience`"), "{msg}");
        let text = CONTENT.replacen("audience = \"candidate\"", "audience = \"everyone\"", 1);
        let msg = Manifest::from_toml(&text).unwrap_err().to_string();
        assert!(msg.contains("unknown variant `everyone`"), "{msg}");
    }

    #[test]
    fn the_candidates_copy_has_no_reviewer_material_and_round_trips() {
        let m = manifest();
        let copy = m.for_candidates();
        let json = serde_json::to_string(&copy).unwrap();
        for topic in &m.topics {
            for level in topic.criteria.iter().flat_map(|c| &c.levels) {
                let escaped = serde_json::to_string(level).unwrap();
                assert!(!json.contains(escaped.trim_matches('"')), "{level}");
            }
            for part in topic.answers.iter().flat_map(|s| &s.signals) {
                let present = json.contains(&format!("\"id\":\"{}\"", part.id));
                assert_eq!(present, part.audience == Audience::Candidate, "{}", part.id);
            }
        }
        assert_eq!(Manifest::from_candidate_json(&json).unwrap(), copy);
        // The full manifest keeps requiring them.
        assert!(Manifest::from_toml(&toml::to_string(&copy).unwrap()).is_err());
    }

    #[test]
    fn every_criterion_has_four_anchored_descriptors() {
        let m = manifest();
        for topic in &m.topics {
            for criterion in &topic.criteria {
                assert_eq!(criterion.levels.len(), SCORE_LEVELS, "{}", criterion.name);
            }
        }
        let mut m = manifest();
        m.topics[0].criteria[1].levels.pop();
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "topic `iac`: criterion `Problem-Solving` needs 4 `levels`, what a 1, 2, 3 and 4 \
             look like (found 3)"
        );
        let mut m = manifest();
        m.topics[4].criteria[0].levels[2] = " ".into();
        let msg = m.validate().unwrap_err().to_string();
        assert!(msg.ends_with("(level 3 is empty)"), "{msg}");
    }

    #[test]
    fn the_time_boxes_add_up_to_the_total() {
        let m = manifest();
        assert_eq!(m.challenge.minutes, 360, "README.md: about six hours");
        let boxes: Vec<(&str, Option<u16>)> = m
            .topics
            .iter()
            .map(|t| (t.id.as_str(), t.minutes))
            .collect();
        assert_eq!(
            boxes,
            [
                ("iac", Some(45)),
                ("os", Some(90)),
                ("monitoring", Some(105)),
                ("postgres", Some(75)),
                ("leadership", Some(45)),
                ("feedback", None),
            ]
        );
        let mut m = manifest();
        m.topics[2].minutes = Some(120);
        assert_eq!(
            m.validate(),
            Err(ManifestError::BadTimeBoxes {
                sum: 375,
                total: 360
            })
        );
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("add up to 375 minutes but [challenge] minutes = 360")
        );
    }

    #[test]
    fn feedback_is_optional_and_the_other_answers_are_not() {
        let m = manifest();
        let optional: Vec<&str> = m
            .slots()
            .filter(|(_, s)| s.optional)
            .map(|(_, s)| s.id.as_str())
            .collect();
        assert_eq!(optional, ["feedback"]);
    }

    #[test]
    fn bad_version_is_rejected() {
        for bad in ["1.0", "v1.0.0", "1.0.0-rc1", "", "1..0"] {
            let mut m = manifest();
            m.challenge.version = bad.to_owned();
            assert_eq!(m.validate(), Err(ManifestError::BadVersion(bad.to_owned())));
        }
    }

    #[test]
    fn unsafe_paths_are_rejected() {
        for bad in ["../etc/passwd", "/etc/passwd", "a//b", "a\\b", "./a"] {
            let mut m = manifest();
            m.topics[0].files.push(bad.to_owned());
            assert_eq!(m.validate(), Err(ManifestError::BadPath(bad.to_owned())));
        }
    }

    #[test]
    fn duplicate_slots_and_checks_are_rejected() {
        let mut m = manifest();
        let slot = m.topics[0].answers[0].clone();
        m.topics[1].answers.push(slot.clone());
        assert_eq!(m.validate(), Err(ManifestError::DuplicateSlot(slot.id)));

        let mut m = manifest();
        let check = m.topics[0].checks[0].clone();
        m.topics[0].checks.push(check.clone());
        assert!(matches!(
            m.validate(),
            Err(ManifestError::DuplicateCheck { .. })
        ));
    }

    #[test]
    fn missing_files_are_named() {
        let m = manifest();
        assert_eq!(m.check_files(|_| true), Ok(()));
        let err = m.check_files(|p| p != "feedback.txt").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("feedback.txt is named by the manifest"),
            "{err}"
        );
    }

    #[test]
    fn answer_files_need_not_be_handed_out() {
        let m = manifest();
        let absent = ["technical-leadership.md", "technical-leadership.txt"];
        assert_eq!(m.check_files(|p| !absent.contains(&p)), Ok(()));
    }

    #[test]
    fn the_os_topic_names_its_script_interface() {
        let m = manifest();
        let package = m.topic("os").unwrap().package.as_ref().unwrap();
        assert_eq!(
            package.script.usage(),
            "packaging/build-deb.sh <codename> <version> <exporter-binary> <outdir>"
        );
        let upstream = &package.upstream;
        assert_eq!(
            upstream.expand(&upstream.member, "arm64"),
            "postgres_exporter-0.17.1.linux-arm64/postgres_exporter"
        );
        assert!(upstream.sha256.contains_key("amd64"));
    }

    #[test]
    fn a_package_script_takes_each_argument_once() {
        let mut m = manifest();
        let os = m.topics.iter_mut().find(|t| t.id == "os").unwrap();
        let package = os.package.as_mut().unwrap();
        package.script.args.pop();
        let err = m.validate().unwrap_err();
        assert!(err.to_string().contains("<outdir> exactly once"), "{err}");
    }

    #[test]
    fn sections_and_digests() {
        let m = manifest();
        let leadership = m.topic("leadership").unwrap();
        assert_eq!(leadership.readme_file(), "README.md");
        assert!(leadership.readme_section().is_some());
        let a = content_digest([("a", &b"1"[..]), ("b", &b"2"[..])]);
        let b = content_digest([("a", &b"12"[..]), ("b", &b""[..])]);
        assert_ne!(a, b, "path and length framing keeps digests apart");
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
    }
}
