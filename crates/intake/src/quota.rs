//! The storage quota of each candidate (issue 13.2): within the rate limit, one invite could store
//! 106 MB in 2.8 s (every answer version is kept), about 180 GB an hour. Each candidate may store
//! at most [`Limits::bytes`] (answer text of every version, report bodies and the archives of
//! submitted work), and at most [`Limits::answer_versions`] answer versions, [`Limits::reports`]
//! reports and [`Limits::submissions`] submissions.
//!
//! Usage is counted from the database the first time a candidate writes after the server starts,
//! then kept up to date in memory, so a write costs no extra query. Writes of one candidate that
//! run at the same moment are each checked against the usage before them: together they may go
//! over by at most those writes (each bounded by the body limits). Several servers on one
//! PostgreSQL database count separately, each from the database when it starts.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use serde_json::json;

use crate::error::ApiError;
use crate::store::Db;
use crate::store::usage::{self, Usage};

/// Most each candidate may store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Bytes of answer text (every version) plus report bodies plus submission archives.
    pub bytes: i64,
    /// Answer versions, all slots together.
    pub answer_versions: i64,
    /// Reports.
    pub reports: i64,
    /// Submissions of work (each up to the archive limit, 20 MiB by default).
    pub submissions: i64,
}

impl Default for Limits {
    /// Room to spare for a real candidate: the site saves a draft at most every few seconds of
    /// typing, so a long day of work is a few thousand versions of a few KiB; reports are tens
    /// of KiB, uploaded a few times an hour; work is sent with a report, and a few hundred KiB
    /// of it is typical (the byte limit bounds what the submissions hold together).
    fn default() -> Limits {
        Limits {
            bytes: 100 * 1024 * 1024,
            answer_versions: 20_000,
            reports: 1_000,
            submissions: 1_000,
        }
    }
}

/// What a write would add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// An answer version of this many bytes.
    Answer(i64),
    /// A report of this many bytes.
    Report(i64),
    /// A submission: an archive of this many bytes (its report is counted as a [`Write::Report`]
    /// when it is new).
    Submission(i64),
}

/// The limits, and each candidate's usage as far as this server knows.
#[derive(Debug, Default)]
pub struct Quota {
    limits: Limits,
    usage: Mutex<HashMap<String, Usage>>,
}

impl Quota {
    /// A quota with these limits.
    pub fn new(limits: Limits) -> Quota {
        Quota {
            limits,
            usage: Mutex::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What `candidate` has stored.
    pub async fn usage(&self, db: &Db, candidate: &str) -> sqlx::Result<Usage> {
        if let Some(known) = self.lock().get(candidate) {
            return Ok(*known);
        }
        let counted = usage::of(db, candidate).await?;
        Ok(*self.lock().entry(candidate.to_owned()).or_insert(counted))
    }

    /// Refuses a write that would take `candidate` over a limit: 413 for bytes, 429 for counts,
    /// with a JSON error naming the limit, the usage, and what to do.
    pub async fn check(&self, db: &Db, candidate: &str, write: Write) -> Result<(), ApiError> {
        let used = self.usage(db, candidate).await?;
        let limits = self.limits;
        let (bytes, (count_name, count, count_limit)) = match write {
            Write::Answer(bytes) => (
                bytes,
                (
                    "answer_versions",
                    used.answer_versions,
                    limits.answer_versions,
                ),
            ),
            Write::Report(bytes) => (bytes, ("reports", used.reports, limits.reports)),
            Write::Submission(bytes) => {
                (bytes, ("submissions", used.submissions, limits.submissions))
            }
        };
        let refusal = if used.bytes.saturating_add(bytes) > limits.bytes {
            Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota_bytes",
                format!(
                    "your invite has stored {} of its {} bytes and this write of {bytes} bytes \
                     would go over; ask whoever invited you (the server's operator sets the \
                     limit)",
                    used.bytes, limits.bytes
                ),
            ))
        } else if count >= count_limit {
            Some((
                StatusCode::TOO_MANY_REQUESTS,
                "quota_count",
                format!(
                    "your invite has stored {count} {}, its limit; ask whoever invited you (the \
                     server's operator sets the limit)",
                    count_name.replace('_', " ")
                ),
            ))
        } else {
            None
        };
        match refusal {
            None => Ok(()),
            Some((status, code, detail)) => Err(ApiError::new(status, code, detail)
                .with("usage", json!(used))
                .with("limits", json!(limits))),
        }
    }

    /// Counts a stored write.
    pub fn record(&self, candidate: &str, write: Write) {
        if let Some(used) = self.lock().get_mut(candidate) {
            match write {
                Write::Answer(bytes) => {
                    used.bytes = used.bytes.saturating_add(bytes);
                    used.answer_versions += 1;
                }
                Write::Report(bytes) => {
                    used.bytes = used.bytes.saturating_add(bytes);
                    used.reports += 1;
                }
                Write::Submission(bytes) => {
                    used.bytes = used.bytes.saturating_add(bytes);
                    used.submissions += 1;
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Usage>> {
        self.usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
