//! What the Work page reads from sre-intake's submission routes (crates/intake/README.md), as
//! miniserde views of the fields it shows. Everything in them is the candidate's: untrusted text.

use miniserde::Deserialize;

/// `GET /candidates/{id}/submissions`.
#[derive(Debug, Clone, Deserialize)]
pub struct SubmissionList {
    /// Newest first.
    pub submissions: Vec<SubmissionSummary>,
}

/// One submission in the list.
#[derive(Debug, Clone, Deserialize)]
pub struct SubmissionSummary {
    /// `sha256:<hex>` of the archive: names it.
    pub digest: String,
    /// When sre-intake received it (RFC 3339).
    pub received_at: String,
    /// The archive's size.
    pub bytes: u64,
    /// How many files it holds.
    pub file_count: u64,
    /// The report it came with.
    pub report_digest: String,
    /// Whether it was made for the challenge version the server runs.
    pub challenge_matches: Option<bool>,
}

/// `GET /candidates/{id}/submissions/{digest}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Submission {
    /// `sha256:<hex>` of the archive.
    pub digest: String,
    /// When sre-intake received it.
    pub received_at: String,
    /// The archive's size.
    pub bytes: u64,
    /// The report it came with.
    pub report_digest: String,
    /// Whether it was made for the challenge version the server runs.
    pub challenge_matches: Option<bool>,
    /// Its files, sorted by path.
    pub files: Vec<SubmittedFile>,
}

/// A file of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubmittedFile {
    /// Its path in the working copy (`/`-separated, relative).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// `new` (not in the starter kit) or `changed`.
    pub kind: String,
    /// Not UTF-8 text, or has a NUL: offered as a download only.
    pub binary: Option<bool>,
}

/// `GET /candidates/{id}/submissions/{digest}/files/{*path}`.
#[derive(Debug, Clone, Deserialize)]
pub struct FileView {
    /// Its path.
    pub path: String,
    /// `new` or `changed`.
    pub kind: String,
    /// Its size in bytes.
    pub size: u64,
    /// `sha256` of its bytes (hex).
    pub sha256: String,
    /// Not text: offered as a download only.
    pub binary: bool,
    /// Too large to show: offered as a download only.
    pub too_large: bool,
    /// The whole file, when it is text that can be shown.
    pub text: Option<String>,
    /// For a changed text file, its diff against the starter.
    pub diff: Option<Diff>,
}

/// A changed file's diff against the starter file.
#[derive(Debug, Clone, Deserialize)]
pub struct Diff {
    /// The starter file's size.
    pub starter_bytes: u64,
    /// The changed regions with 3 lines of context, in file order; unchanged runs between them
    /// are folded away.
    pub hunks: Vec<Hunk>,
}

/// A changed region, as a unified diff's `@@ -a,b +c,d @@`.
#[derive(Debug, Clone, Deserialize)]
pub struct Hunk {
    /// First starter line.
    pub old_start: u64,
    /// Starter lines in it.
    pub old_lines: u64,
    /// First submitted line.
    pub new_start: u64,
    /// Submitted lines in it.
    pub new_lines: u64,
    /// Its lines.
    pub lines: Vec<DiffLine>,
}

/// A line of a hunk.
#[derive(Debug, Clone, Deserialize)]
pub struct DiffLine {
    /// `context`, `add` or `remove`.
    pub op: String,
    /// Its number in the starter, unless added.
    pub old: Option<u64>,
    /// Its number in the submitted file, unless removed.
    pub new: Option<u64>,
    /// The line, without its ending.
    pub text: String,
}
