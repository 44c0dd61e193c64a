//! The report `sre-check` writes and `sre-intake` receives: schema `sre-check.report/1`.
//!
//! Both ends validate it with [`Report::validate`]; the evidence of each check is bounded by
//! [`EVIDENCE_LIMIT`] so a runaway build log cannot make a report unbounded.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::manifest::hex;
use crate::topic::TopicId;

/// The schema id every report carries; a new incompatible shape gets a new number.
pub const REPORT_SCHEMA: &str = "sre-check.report/1";

/// Most bytes of evidence one check may carry. [`truncate_evidence`] keeps the head and the tail.
pub const EVIDENCE_LIMIT: usize = 16 * 1024;

/// Most bytes of a hint.
pub const HINT_LIMIT: usize = 2 * 1024;

/// A complete run of `sre-check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// The checker that wrote the report.
    pub tool: Tool,
    /// The edition of the challenge the candidate worked on.
    pub challenge: ChallengeRef,
    /// Where the checks ran.
    pub host: Host,
    /// RFC 3339 UTC timestamp.
    pub started_at: String,
    /// RFC 3339 UTC timestamp, not before `started_at`.
    pub finished_at: String,
    /// The candidate's files the checks read, with their digests.
    pub files: Vec<FileDigest>,
    /// One entry per topic that was run.
    pub topics: Vec<TopicReport>,
}

/// Name and version of the checker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `sre-check`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The challenge edition: manifest version and content digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRef {
    /// The manifest's `challenge.version`.
    pub version: String,
    /// [`crate::manifest::content_digest`] of the handed-out files.
    pub digest: String,
}

/// The machine the checks ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Operating system and architecture, e.g. `linux x86_64`.
    pub os: String,
    /// Docker engine version, when one answered.
    pub docker: Option<String>,
    /// Compose version (`v2.40.3`, or `1.29.2` for the old docker-compose), when present.
    pub compose: Option<String>,
}

/// A file of the working copy, identified by content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Relative to the working copy, '/'-separated.
    pub path: String,
    /// Lowercase hex sha256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The outcome of one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicReport {
    /// Which topic.
    pub id: TopicId,
    /// Derived from the checks, see [`Status::of_checks`].
    pub status: Status,
    /// Every check that was run or skipped, in order.
    pub checks: Vec<CheckResult>,
    /// Observations for the reviewer that are never pass/fail (e.g. sections found in a text).
    #[serde(default)]
    pub signals: Vec<Signal>,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    /// The check id from the manifest.
    pub id: String,
    /// The check title from the manifest.
    pub title: String,
    /// Pass, fail, error or skipped.
    pub status: Status,
    /// Wall time the check took.
    pub duration_ms: u64,
    /// What the check saw: command output, the offending line. At most [`EVIDENCE_LIMIT`] bytes.
    pub evidence: String,
    /// For a failure: what to change. For an error: how to fix the environment.
    #[serde(default)]
    pub hint: Option<String>,
}

/// A reviewer-facing observation: present or absent, never a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Short id, e.g. `rollback`.
    pub id: String,
    /// Human label, e.g. "Risks and rollback".
    pub label: String,
    /// Whether the answer shows it.
    pub present: bool,
}

/// The status of a check or a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The submission does what was asked.
    Pass,
    /// The check did not apply or could not run because an earlier one failed.
    Skipped,
    /// The submission is wrong; the evidence shows where and the hint says what to change.
    Fail,
    /// The checker or the environment broke (Docker missing, a timeout); not the candidate's fault.
    Error,
}

impl Status {
    /// A topic's status from its checks: any error makes it `error`, else any failure `fail`,
    /// else any pass `pass`; a topic whose checks were all skipped is `skipped`.
    pub fn of_checks<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> Status {
        let worst = checks.into_iter().map(|c| c.status).max();
        worst.unwrap_or(Status::Skipped)
    }

    /// Lowercase name as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skipped => "skipped",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// Why a report was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not JSON, or not the shape of `sre-check.report/1`.
    #[error("report does not parse as {REPORT_SCHEMA}: {0}")]
    Parse(String),
    /// `schema` names another version.
    #[error(
        "report schema `{0}` is not supported: expected `{REPORT_SCHEMA}` (upgrade sre-check or sre-intake)"
    )]
    Schema(String),
    /// A timestamp is not RFC 3339, or the run finishes before it starts.
    #[error("report timestamp {field} = `{value}` is not an RFC 3339 time after the start")]
    Timestamp {
        /// `started_at` or `finished_at`.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A topic is reported twice.
    #[error("topic `{0}` appears twice in the report")]
    DuplicateTopic(TopicId),
    /// A topic's status does not follow from its checks.
    #[error("topic `{topic}` says {found} but its checks make it {expected}")]
    TopicStatus {
        /// The topic.
        topic: TopicId,
        /// Status in the report.
        found: &'static str,
        /// Status derived from the checks.
        expected: &'static str,
    },
    /// A check's evidence or hint exceeds its bound.
    #[error(
        "check `{topic}/{check}` carries {bytes} bytes of {field}, more than the {limit} allowed"
    )]
    Oversize {
        /// The topic.
        topic: TopicId,
        /// The check.
        check: String,
        /// `evidence` or `hint`.
        field: &'static str,
        /// Its size.
        bytes: usize,
        /// The bound.
        limit: usize,
    },
    /// A topic the challenge's manifest does not list.
    #[error("the report names a topic this challenge does not have: {0}")]
    UnknownTopic(#[from] crate::topic::UnknownTopic),
    /// A file digest is not 64 lowercase hex digits, or a path is unsafe.
    #[error("file entry `{0}` has an unsafe path or a sha256 that is not 64 lowercase hex digits")]
    BadFile(String),
}

impl Report {
    /// Parses and validates a report from JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Report, ReportError> {
        let report: Report =
            serde_json::from_slice(bytes).map_err(|e| ReportError::Parse(e.to_string()))?;
        report.validate()?;
        Ok(report)
    }

    /// Checks everything the schema promises beyond its shape.
    pub fn validate(&self) -> Result<(), ReportError> {
        if self.schema != REPORT_SCHEMA {
            return Err(ReportError::Schema(self.schema.clone()));
        }
        let started = parse_time("started_at", &self.started_at)?;
        let finished = parse_time("finished_at", &self.finished_at)?;
        if finished < started {
            return Err(ReportError::Timestamp {
                field: "finished_at",
                value: self.finished_at.clone(),
            });
        }
        for file in &self.files {
            let hex_ok = file.sha256.len() == 64
                && file
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok || !crate::manifest::is_safe_path(&file.path) {
                return Err(ReportError::BadFile(file.path.clone()));
            }
        }
        let mut seen = BTreeSet::new();
        for topic in &self.topics {
            if !seen.insert(&topic.id) {
                return Err(ReportError::DuplicateTopic(topic.id.clone()));
            }
            let expected = Status::of_checks(&topic.checks);
            if topic.status != expected {
                return Err(ReportError::TopicStatus {
                    topic: topic.id.clone(),
                    found: topic.status.as_str(),
                    expected: expected.as_str(),
                });
            }
            for check in &topic.checks {
                let hint = check.hint.as_deref().unwrap_or("");
                for (field, text, limit) in [
                    ("evidence", check.evidence.as_str(), EVIDENCE_LIMIT),
                    ("hint", hint, HINT_LIMIT),
                ] {
                    if text.len() > limit {
                        return Err(ReportError::Oversize {
                            topic: topic.id.clone(),
                            check: check.id.clone(),
                            field,
                            bytes: text.len(),
                            limit,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks that every topic of the report is one `manifest` lists (ids are data of the
    /// manifest, so the schema alone cannot know them).
    pub fn check_topics(&self, manifest: &crate::Manifest) -> Result<(), ReportError> {
        for topic in &self.topics {
            manifest.topic_id(topic.id.as_str())?;
        }
        Ok(())
    }

    /// The worst status over all topics: what the run's exit code reflects.
    pub fn overall(&self) -> Status {
        Status::of_checks(self.topics.iter().flat_map(|t| &t.checks))
    }

    /// `sha256:<hex>` of the canonical JSON encoding; uploads are idempotent by this digest.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", hex(&Sha256::digest(json)))
    }
}

impl TopicReport {
    /// A topic report whose status is derived from its checks.
    pub fn new(id: TopicId, checks: Vec<CheckResult>, signals: Vec<Signal>) -> TopicReport {
        TopicReport {
            id,
            status: Status::of_checks(&checks),
            checks,
            signals,
        }
    }
}

/// Formats a time as the RFC 3339 UTC string reports use.
pub fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn parse_time(field: &'static str, value: &str) -> Result<OffsetDateTime, ReportError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| ReportError::Timestamp {
        field,
        value: value.to_owned(),
    })
}

/// Bounds evidence to `limit` bytes, keeping the head and the tail (where build errors usually
/// are) and saying how much was cut. Cuts fall on character boundaries.
pub fn truncate_evidence(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let marker_room = 64;
    let keep = limit.saturating_sub(marker_room);
    let head_end = floor_char_boundary(text, keep / 3);
    let tail_start = ceil_char_boundary(text, text.len() - (keep - keep / 3));
    let cut = tail_start - head_end;
    format!(
        "{}\n[… {cut} bytes cut …]\n{}",
        &text[..head_end],
        &text[tail_start..]
    )
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn check(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.to_owned(),
            title: format!("{id} title"),
            status,
            duration_ms: 12,
            evidence: "docker build: ok".to_owned(),
            hint: None,
        }
    }

    /// A valid report, for tests elsewhere in the crate.
    pub(crate) fn sample() -> Report {
        Report {
            schema: REPORT_SCHEMA.to_owned(),
            tool: Tool {
                name: "sre-check".to_owned(),
                version: "0.1.0".to_owned(),
            },
            challenge: ChallengeRef {
                version: "1.0.0".to_owned(),
                digest: "sha256:00".to_owned(),
            },
            host: Host {
                os: "linux x86_64".to_owned(),
                docker: Some("20.10.24".to_owned()),
                compose: Some("v2.40.3".to_owned()),
            },
            started_at: "2026-11-29T06:00:00.000Z".to_owned(),
            finished_at: "2026-11-29T06:01:30.250Z".to_owned(),
            files: vec![FileDigest {
                path: "infrastructure/playbook.yml".to_owned(),
                sha256: "a".repeat(64),
                bytes: 812,
            }],
            topics: vec![
                TopicReport::new(
                    "iac".parse().unwrap(),
                    vec![
                        check("build", Status::Pass),
                        check("idempotence", Status::Fail),
                    ],
                    vec![],
                ),
                TopicReport::new(
                    "leadership".parse().unwrap(),
                    vec![check("answers", Status::Pass)],
                    vec![Signal {
                        id: "rollback".to_owned(),
                        label: "Risks and rollback".to_owned(),
                        present: true,
                    }],
                ),
            ],
        }
    }

    #[test]
    fn round_trips_through_json() {
        let report = sample();
        let json = serde_json::to_vec_pretty(&report).unwrap();
        let back = Report::from_json(&json).unwrap();
        assert_eq!(back, report);
        assert_eq!(back.digest(), report.digest());
    }

    #[test]
    fn topic_status_is_the_worst_check() {
        let r = sample();
        assert_eq!(r.topics[0].status, Status::Fail);
        assert_eq!(r.topics[1].status, Status::Pass);
        assert_eq!(r.overall(), Status::Fail);
        let errored = [check("a", Status::Fail), check("b", Status::Error)];
        assert_eq!(Status::of_checks(&errored), Status::Error);
        let skipped = [check("a", Status::Skipped)];
        assert_eq!(Status::of_checks(&skipped), Status::Skipped);
        assert_eq!(Status::of_checks(&[]), Status::Skipped);
    }

    #[test]
    fn malformed_reports_are_rejected_with_a_reason() {
        let err = Report::from_json(b"{\"schema\": 1}").unwrap_err();
        assert!(matches!(err, ReportError::Parse(_)), "{err}");

        let mut json = serde_json::to_value(sample()).unwrap();
        json["topics"][0]["id"] = "kubernetes".into();
        let report = Report::from_json(json.to_string().as_bytes()).unwrap();
        let manifest = crate::Manifest::from_toml(include_str!("../../../content/challenge.toml"))
            .expect("content/challenge.toml is valid");
        let err = report.check_topics(&manifest).unwrap_err();
        assert!(err.to_string().contains("kubernetes"), "{err}");
        assert!(sample().check_topics(&manifest).is_ok());
        json["topics"][0]["id"] = "Kubernetes!".into();
        let err = Report::from_json(json.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("Kubernetes!"), "{err}");

        let mut json = serde_json::to_value(sample()).unwrap();
        json["surprise"] = true.into();
        assert!(matches!(
            Report::from_json(json.to_string().as_bytes()),
            Err(ReportError::Parse(_))
        ));
    }

    #[test]
    fn wrong_schema_version_is_rejected() {
        let mut r = sample();
        r.schema = "sre-check.report/2".to_owned();
        assert_eq!(
            r.validate(),
            Err(ReportError::Schema("sre-check.report/2".to_owned()))
        );
    }

    #[test]
    fn inconsistent_reports_are_rejected() {
        let mut r = sample();
        r.topics[0].status = Status::Pass;
        assert!(matches!(r.validate(), Err(ReportError::TopicStatus { .. })));

        let mut r = sample();
        r.finished_at = "2026-11-29T05:00:00Z".to_owned();
        assert!(matches!(r.validate(), Err(ReportError::Timestamp { .. })));

        let mut r = sample();
        r.started_at = "yesterday".to_owned();
        assert!(matches!(r.validate(), Err(ReportError::Timestamp { .. })));

        let mut r = sample();
        r.topics.push(r.topics[0].clone());
        assert_eq!(
            r.validate(),
            Err(ReportError::DuplicateTopic("iac".parse().unwrap()))
        );

        let mut r = sample();
        r.files[0].path = "../../etc/shadow".to_owned();
        assert!(matches!(r.validate(), Err(ReportError::BadFile(_))));

        let mut r = sample();
        r.topics[0].checks[0].evidence = "x".repeat(EVIDENCE_LIMIT + 1);
        assert!(matches!(r.validate(), Err(ReportError::Oversize { .. })));
    }

    #[test]
    fn evidence_is_truncated_keeping_head_and_tail() {
        let log = format!("START{}ÉEND", "é".repeat(20_000));
        let short = truncate_evidence(&log, EVIDENCE_LIMIT);
        assert!(short.len() <= EVIDENCE_LIMIT, "{}", short.len());
        assert!(short.starts_with("START"));
        assert!(short.ends_with("ÉEND"));
        assert!(short.contains("bytes cut"));
        assert_eq!(truncate_evidence("small", EVIDENCE_LIMIT), "small");
    }

    #[test]
    fn times_are_formatted_in_utc_with_milliseconds() {
        let t = time::macros::datetime!(2026-11-29 07:00:00.123456 +01:00);
        assert_eq!(format_time(t), "2026-11-29T06:00:00.123Z");
    }
}
