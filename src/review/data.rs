//! What the reviewer app reads from sre-intake's reviewer API, as miniserde views of the fields it
//! shows (crates/intake/README.md documents the whole replies; other fields are ignored).

use miniserde::{Deserialize, Serialize};

use crate::results::TopicReport;

/// `GET /candidates`.
#[derive(Debug, Clone, Deserialize)]
pub struct CandidateList {
    /// Every candidate.
    pub candidates: Vec<CandidateRow>,
}

/// A candidate in the list, with progress.
#[derive(Debug, Clone, Deserialize)]
pub struct CandidateRow {
    /// Who.
    pub candidate: Person,
    /// `invited`, `in_progress`, `submitted` or `expired`.
    pub status: String,
    /// Their latest answer, report or submission (RFC 3339).
    pub last_activity_at: Option<String>,
    /// Answer slots written, of all.
    pub answers: Progress,
    /// The latest report, if any.
    pub report: Option<ReportSummary>,
    /// How far the scoring is.
    pub scores: ScoreProgress,
    /// The verification of their latest submission, if they sent work.
    pub verification: Option<VerificationSummary>,
}

/// Where the re-run of a candidate's latest submission on the team's own workers stands.
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationSummary {
    /// `pending`, `running`, `verified`, `disagreement` or `error`.
    pub state: String,
    /// Checks the candidate reported as passing that the worker did not find passing.
    pub disagreements: u64,
}

/// The verification of a candidate's latest submission, on their page.
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationDetail {
    /// `pending`, `running`, `verified`, `disagreement` or `error`.
    pub state: String,
    /// The worker that ran (or runs) it.
    pub worker: Option<String>,
    /// The container runtime it used (`runsc` is gVisor).
    pub runtime: Option<String>,
    /// Whether that runtime is a sandbox.
    pub sandboxed: Option<bool>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// Checks reported pass that the worker did not find passing.
    pub disagreements: u64,
    /// Why the worker could not verify, when it could not.
    pub error: Option<String>,
}

/// One check as the candidate reported it and as the worker verified it.
#[derive(Debug, Clone, Deserialize)]
pub struct VerifiedCheck {
    /// The check id.
    pub check: String,
    /// Its title.
    pub title: String,
    /// The candidate's status for it, when their report has the check.
    pub reported: Option<String>,
    /// The worker's status.
    pub verified: String,
    /// Reported pass, verified anything else.
    pub disagreement: bool,
    /// What the worker's run showed.
    pub evidence: String,
}

/// A candidate's identity and dates.
#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    /// Server id, used in addresses.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their email, if the invite has one.
    pub email: Option<String>,
    /// When the invite link stops working.
    pub expires_at: Option<String>,
    /// When they submitted.
    pub submitted_at: Option<String>,
}

/// Answer slots written, of all.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Progress {
    /// Written (at least one version).
    pub written: u64,
    /// In the challenge.
    pub total: u64,
}

/// A report's summary.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSummary {
    /// Its digest, which names it (`/candidates/{id}/reports/{digest}`).
    pub digest: String,
    /// When sre-intake received it.
    pub received_at: String,
    /// The worst status of its checks.
    pub overall: String,
    /// How many checks ended with each status.
    pub counts: Counts,
    /// Each topic's status, in report order.
    pub topics: Vec<TopicStatus>,
    /// The checker that made it (on the candidate page only).
    pub tool: Option<Tool>,
    /// Whether it was made for this version of the challenge (candidate page only).
    pub challenge_matches: Option<bool>,
}

/// A topic's status in a report.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicStatus {
    /// The topic id.
    pub id: String,
    /// `pass`, `fail`, `error` or `skipped`.
    pub status: String,
}

/// How many checks ended with each status.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Counts {
    /// Passed.
    pub pass: u64,
    /// Failed.
    pub fail: u64,
    /// The environment or the checker broke.
    pub error: u64,
    /// Skipped.
    pub skipped: u64,
}

/// The checker's name and version.
#[derive(Debug, Clone, Deserialize)]
pub struct Tool {
    /// `sre-check`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// How far the scoring of a candidate is.
#[derive(Debug, Clone, Deserialize)]
pub struct ScoreProgress {
    /// Criteria in the challenge.
    pub criteria: u64,
    /// Scored by the calling reviewer.
    pub scored_by_me: u64,
    /// Everyone who scored.
    pub reviewers: Vec<String>,
}

/// `GET /candidates/{id}`: the whole candidate page.
#[derive(Debug, Clone, Deserialize)]
pub struct CandidatePage {
    /// Who.
    pub candidate: Person,
    /// `invited`, `in_progress`, `submitted` or `expired`.
    pub status: String,
    /// Their latest write.
    pub last_activity_at: Option<String>,
    /// The latest report.
    pub report: Option<ReportSummary>,
    /// How many reports they uploaded.
    pub reports: u64,
    /// The re-run of their latest submission, when they sent work.
    pub verification: Option<VerificationDetail>,
    /// What they stored against their quota (absent from servers before it).
    pub storage: Option<Storage>,
    /// Every topic, in challenge order.
    pub topics: Vec<TopicView>,
}

/// A candidate's storage: what they stored and the server's limits.
#[derive(Debug, Clone, Deserialize)]
pub struct Storage {
    /// Stored so far.
    pub usage: StorageCounts,
    /// The per-candidate limits.
    pub limits: StorageCounts,
}

/// Bytes (answers and reports), answer versions and reports.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageCounts {
    /// Bytes of answer text (every version) and report bodies.
    pub bytes: u64,
    /// Answer versions.
    pub answer_versions: u64,
    /// Reports.
    pub reports: u64,
}

/// One topic of the candidate page.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicView {
    /// Topic id.
    pub id: String,
    /// I to VI.
    pub roman: String,
    /// Its title.
    pub title: String,
    /// Its written answers.
    pub answers: Vec<AnswerView>,
    /// The latest report's part for this topic (its candidate checks).
    pub checks: Option<TopicReport>,
    /// The reviewer-only checks, which the candidate's machine never runs: pending until the
    /// verification worker runs them.
    pub pending_checks: Vec<PendingCheck>,
    /// Each check of the worker's re-run beside the candidate's report (empty until verified).
    pub verified: Vec<VerifiedCheck>,
    /// The evaluation criteria with the scores given.
    pub criteria: Vec<CriterionView>,
}

/// An answer slot with its latest version.
#[derive(Debug, Clone, Deserialize)]
pub struct AnswerView {
    /// Slot id.
    pub slot: String,
    /// What it is about.
    pub title: String,
    /// The file the challenge expects it in (relative links resolve against its folder).
    pub file: String,
    /// `markdown` or `text`.
    pub format: String,
    /// How many versions were saved.
    pub versions: u64,
    /// The latest version, if any.
    pub latest: Option<AnswerVersion>,
    /// Which expected parts the text shows (hints, never scores).
    pub hints: Vec<Hint>,
}

/// A saved version of an answer.
#[derive(Debug, Clone, Deserialize)]
pub struct AnswerVersion {
    /// 1, 2, …
    pub version: u64,
    /// When it was saved.
    pub created_at: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Whether it is still the handed-out text (latest only).
    pub unchanged: Option<bool>,
    /// Its text, untrusted.
    pub text: String,
}

/// A reviewer-only check not run yet.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingCheck {
    /// Its title, as in the manifest.
    pub title: String,
}

/// One expected part of a written answer, and whether the text shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Hint {
    /// What the reviewer reads.
    pub label: String,
    /// Whether the text shows it.
    pub present: bool,
}

/// A criterion of the rubric and the scores given.
#[derive(Debug, Clone, Deserialize)]
pub struct CriterionView {
    /// As in the manifest (scores name it).
    pub name: String,
    /// One line.
    pub description: String,
    /// What a 1, 2, 3 and 4 look like (anchored descriptors), in that order.
    pub levels: Vec<String>,
    /// The calling reviewer's score.
    pub mine: Option<GivenScore>,
    /// Other reviewers' scores.
    pub others: Vec<OtherScore>,
}

/// A score and its note.
#[derive(Debug, Clone, Deserialize)]
pub struct GivenScore {
    /// 1 to 4.
    pub score: i64,
    /// Why.
    pub note: String,
}

/// Another reviewer's score.
#[derive(Debug, Clone, Deserialize)]
pub struct OtherScore {
    /// Who.
    pub reviewer: String,
    /// 1 to 4.
    pub score: i64,
    /// Why.
    pub note: String,
}

/// `GET /candidates/{id}/answers/{slot}`: every version, without texts.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// Oldest first.
    pub versions: Vec<VersionMeta>,
}

/// A version's number, time and size.
#[derive(Debug, Clone, Deserialize)]
pub struct VersionMeta {
    /// 1, 2, …
    pub version: u64,
    /// When it was saved.
    pub created_at: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The body of `PUT /scores/{candidate}`.
#[derive(Debug, Clone, Serialize)]
pub struct ScoresBody {
    /// The scores to set.
    pub scores: Vec<ScoreInput>,
}

/// One criterion's score.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreInput {
    /// Topic id.
    pub topic: String,
    /// Criterion name, as in the manifest.
    pub criterion: String,
    /// 1 to 4.
    pub score: i64,
    /// Why.
    pub note: String,
}
