//! Answers: append-only versions per candidate and slot, written with a precondition on the
//! latest version (HTTP conditional requests, see `api::conditional`).
//!
//! On SQLite a write normally goes into a group commit ([`super::group_commit`]): one `INSERT … SELECT`
//! for every waiting write computes each next version and inserts it only when the candidate has
//! not submitted and the latest version is the expected one. When it inserts nothing,
//! `put_in_transaction` works out why (or handles what the statement cannot express) under the
//! candidate's row lock; on PostgreSQL every write takes that path.

use serde::Serialize;

use super::people::lock_unsubmitted;
use super::{Db, now};

/// A stored version, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct VersionMeta {
    /// 1 for the first saved version, then +1 for each.
    pub version: i64,
    /// When it was saved.
    pub created_at: String,
    /// Size of the text in bytes (UTF-8).
    pub bytes: i64,
}

/// Size of a text as stored in [`VersionMeta::bytes`]: its UTF-8 bytes.
pub fn text_bytes(text: &str) -> i64 {
    i64::try_from(text.len()).unwrap_or(i64::MAX)
}

/// A stored version with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Answer {
    /// Version, time and size.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub meta: VersionMeta,
    /// The text.
    #[sqlx(rename = "body")]
    pub text: String,
}

/// A slot's latest text, as [`latest_texts`] reads it.
#[derive(sqlx::FromRow)]
struct SlotAnswer {
    slot: String,
    #[sqlx(flatten)]
    answer: Answer,
}

/// The latest version of one slot of one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Latest {
    /// The candidate.
    pub candidate_id: String,
    /// The slot.
    pub slot: String,
    /// Its latest version.
    pub version: i64,
    /// When that version was saved.
    pub created_at: String,
}

/// What a write requires of the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-None-Match: *`: no version exists yet.
    NoneExists,
    /// `If-Match: *`: some version exists.
    AnyExists,
    /// `If-Match: "<v>", …`: the latest version is one of these.
    LatestIs(Vec<i64>),
}

/// The outcome of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new version was stored.
    Stored(VersionMeta),
    /// The precondition does not hold, but the latest version already has exactly this text:
    /// nothing stored. This is a retried write whose reply was lost, and it succeeds (RFC 9110
    /// §13.1.1 allows a 2xx when the change has already been applied).
    Unchanged(VersionMeta),
    /// The precondition does not hold; the current latest version, if any.
    PreconditionFailed(Option<VersionMeta>),
    /// The candidate has submitted: answers are read-only.
    Submitted,
}

/// The latest version of a slot, with its text.
pub async fn latest(db: &Db, candidate: &str, slot: &str) -> sqlx::Result<Option<Answer>> {
    sqlx::query_as(
        "SELECT version, created_at, bytes, body FROM answers \
         WHERE candidate_id = $1 AND slot = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(candidate)
    .bind(slot)
    .fetch_optional(&db.read)
    .await
}

/// One version of a slot, with its text.
pub async fn version(
    db: &Db,
    candidate: &str,
    slot: &str,
    version: i64,
) -> sqlx::Result<Option<Answer>> {
    sqlx::query_as(
        "SELECT version, created_at, bytes, body FROM answers \
         WHERE candidate_id = $1 AND slot = $2 AND version = $3",
    )
    .bind(candidate)
    .bind(slot)
    .bind(version)
    .fetch_optional(&db.read)
    .await
}

/// Every version of a slot, oldest first, without texts.
pub async fn history(db: &Db, candidate: &str, slot: &str) -> sqlx::Result<Vec<VersionMeta>> {
    sqlx::query_as(
        "SELECT version, created_at, bytes FROM answers \
         WHERE candidate_id = $1 AND slot = $2 ORDER BY version",
    )
    .bind(candidate)
    .bind(slot)
    .fetch_all(&db.read)
    .await
}

/// The latest version of every slot of every candidate, or of one candidate.
pub async fn latest_versions(db: &Db, candidate: Option<&str>) -> sqlx::Result<Vec<Latest>> {
    // Portable "greatest row per group": versions only grow, so MAX(version) is the latest and
    // its created_at is the greatest too.
    sqlx::query_as(
        "SELECT candidate_id, slot, MAX(version) AS version, MAX(created_at) AS created_at \
         FROM answers WHERE ($1 IS NULL OR candidate_id = $1) \
         GROUP BY candidate_id, slot ORDER BY candidate_id, slot",
    )
    .bind(candidate)
    .fetch_all(&db.read)
    .await
}

/// Every latest text of one candidate, by slot.
pub async fn latest_texts(db: &Db, candidate: &str) -> sqlx::Result<Vec<(String, Answer)>> {
    let rows: Vec<SlotAnswer> = sqlx::query_as(
        "SELECT a.slot, a.version, a.created_at, a.bytes, a.body FROM answers a \
         WHERE a.candidate_id = $1 AND a.version = \
           (SELECT MAX(b.version) FROM answers b WHERE b.candidate_id = a.candidate_id AND b.slot = a.slot) \
         ORDER BY a.slot",
    )
    .bind(candidate)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.into_iter().map(|row| (row.slot, row.answer)).collect())
}

/// Stores `text` as the next version of the slot if `precondition` holds.
pub async fn put(
    db: &Db,
    candidate: &str,
    slot: &str,
    precondition: &Precondition,
    text: &str,
) -> sqlx::Result<PutOutcome> {
    // On PostgreSQL a single statement could miss a submission committed while it runs (it
    // reads the candidate from its snapshot); on SQLite every write goes through one connection,
    // one statement at a time (a group's is one statement), so nothing can commit in between.
    if let Some(writer) = &db.answer_writer
        && let Some(expected) = expected_latest(precondition)
        && let Some(stored) = writer
            .insert_if_latest(candidate, slot, expected, text)
            .await?
    {
        return Ok(PutOutcome::Stored(stored));
    }
    put_in_transaction(db, candidate, slot, precondition, text).await
}

/// The latest version a precondition expects, as
/// [`super::group_commit::Writer::insert_if_latest`] takes it: 0 for none, -1 for any; `None` for
/// a list of versions (handled by the transaction).
fn expected_latest(precondition: &Precondition) -> Option<i64> {
    match precondition {
        Precondition::NoneExists => Some(0),
        Precondition::AnyExists => Some(-1),
        Precondition::LatestIs(versions) => match versions.as_slice() {
            [one] => Some(*one),
            _ => None,
        },
    }
}

/// The general write: under the candidate's row lock, checks submission and the precondition,
/// and stores the next version or says why not.
async fn put_in_transaction(
    db: &Db,
    candidate: &str,
    slot: &str,
    precondition: &Precondition,
    text: &str,
) -> sqlx::Result<PutOutcome> {
    let mut tx = db.write.begin().await?;
    if !lock_unsubmitted(&mut tx, candidate).await? {
        return Ok(PutOutcome::Submitted);
    }
    let current: Option<Answer> = sqlx::query_as(
        "SELECT version, created_at, bytes, body FROM answers \
         WHERE candidate_id = $1 AND slot = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(candidate)
    .bind(slot)
    .fetch_optional(&mut *tx)
    .await?;
    let holds = match (precondition, &current) {
        (Precondition::NoneExists, None) | (Precondition::AnyExists, Some(_)) => true,
        (Precondition::LatestIs(versions), Some(current)) => {
            versions.contains(&current.meta.version)
        }
        _ => false,
    };
    if !holds {
        tx.rollback().await?;
        return Ok(match current {
            Some(current) if current.text == text => PutOutcome::Unchanged(current.meta),
            other => PutOutcome::PreconditionFailed(other.map(|c| c.meta)),
        });
    }
    let stored = VersionMeta {
        version: current.map_or(1, |c| c.meta.version + 1),
        created_at: now(),
        bytes: text_bytes(text),
    };
    sqlx::query(
        "INSERT INTO answers (candidate_id, slot, version, body, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(candidate)
    .bind(slot)
    .bind(stored.version)
    .bind(text)
    .bind(stored.bytes)
    .bind(&stored.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PutOutcome::Stored(stored))
}
