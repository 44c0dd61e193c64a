//! The candidate's work as sent by `sre-check upload`: the archive's bytes, its listing, and the
//! report it came with. Append-only, idempotent by the archive's digest per candidate.
//!
//! The archive and the report are stored in one transaction: a server killed at any moment leaves
//! both or neither, and a retried upload then stores them or finds them. The bytes live in the
//! database (not in files beside it) so that nothing else needs the same care: a backup of the
//! database holds the work, and the storage quota counts it like the rest.

use serde::Serialize;
use sqlx::Row;
use sre_model::Report;
use sre_model::submission::Listing;

use super::people::lock_unsubmitted;
use super::reports::{self, ReportMeta};
use super::{Db, now};
use crate::tokens;

/// A stored submission, without its archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmissionMeta {
    /// Random id, `s-<16 hex>` (for tables that refer to a submission).
    #[serde(skip)]
    pub id: String,
    /// `sha256:<hex>` of the archive's bytes.
    pub digest: String,
    /// When it first arrived.
    pub received_at: String,
    /// Size of the archive.
    pub bytes: i64,
    /// Files in the listing.
    pub file_count: i64,
    /// The digest of the report it came with.
    pub report_digest: String,
    /// The challenge edition the listing names.
    pub challenge_version: String,
    /// Its content digest.
    pub challenge_digest: String,
}

/// A stored submission's metadata with its listing.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The row.
    pub meta: SubmissionMeta,
    /// The listing, as stored (JSON).
    pub listing: String,
}

impl Stored {
    /// The listing, parsed. Listings were checked on arrival; one that no longer parses (a
    /// schema change) is an error for the caller to report.
    pub fn listing(&self) -> anyhow::Result<Listing> {
        serde_json::from_str(&self.listing).map_err(|e| {
            anyhow::anyhow!(
                "the stored listing of {} does not parse: {e}",
                self.meta.digest
            )
        })
    }
}

/// What to store: an archive that `sre_work::verify` accepted, and what it holds.
#[derive(Debug)]
pub struct NewSubmission<'a> {
    /// `sre_work::digest` of the archive.
    pub digest: &'a str,
    /// The archive as sent.
    pub archive: &'a [u8],
    /// Its listing.
    pub listing: &'a Listing,
    /// Its report, validated.
    pub report: &'a Report,
}

/// The outcome of storing a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// First time this archive arrives. `report` is the report's row when it was stored now too
    /// (it may have been uploaded before, alone or with other work).
    Stored {
        /// The new row.
        meta: SubmissionMeta,
        /// The report, when it was new.
        report: Option<ReportMeta>,
    },
    /// The same archive was stored earlier: nothing changed.
    Duplicate(SubmissionMeta),
    /// The candidate has submitted and this archive is new: refused.
    Submitted,
}

/// The columns of a [`SubmissionMeta`] and the listing, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, digest, received_at, bytes, file_count, report_digest, challenge_version, \
         challenge_digest, listing"
    };
}

fn stored(row: &sqlx::any::AnyRow) -> sqlx::Result<Stored> {
    Ok(Stored {
        meta: SubmissionMeta {
            id: row.try_get("id")?,
            digest: row.try_get("digest")?,
            received_at: row.try_get("received_at")?,
            bytes: row.try_get("bytes")?,
            file_count: row.try_get("file_count")?,
            report_digest: row.try_get("report_digest")?,
            challenge_version: row.try_get("challenge_version")?,
            challenge_digest: row.try_get("challenge_digest")?,
        },
        listing: row.try_get("listing")?,
    })
}

/// Stores a verified submission and its report in one transaction, unless the candidate already
/// has this archive.
pub async fn store(
    db: &Db,
    candidate: &str,
    new: &NewSubmission<'_>,
) -> anyhow::Result<StoreOutcome> {
    let at = now();
    let listing = serde_json::to_string(new.listing)?;
    let file_count = i64::try_from(new.listing.files.len())?;
    let bytes = i64::try_from(new.archive.len())?;
    let id = tokens::new_id("s")?;
    let mut tx = db.write.begin().await?;
    if !lock_unsubmitted(&mut tx, candidate).await? {
        tx.rollback().await?;
        return Ok(match one(db, candidate, new.digest).await? {
            Some(existing) => StoreOutcome::Duplicate(existing.meta),
            None => StoreOutcome::Submitted,
        });
    }
    // The same archive again: answer from the row, before writing anything.
    if let Some(existing) = one_in(&mut tx, candidate, new.digest).await? {
        tx.rollback().await?;
        return Ok(StoreOutcome::Duplicate(existing.meta));
    }
    let report = reports::insert(&mut tx, candidate, new.report, &at).await?;
    let meta = SubmissionMeta {
        id,
        digest: new.digest.to_owned(),
        received_at: at,
        bytes,
        file_count,
        report_digest: new.report.digest(),
        challenge_version: new.listing.challenge.version.clone(),
        challenge_digest: new.listing.challenge.digest.clone(),
    };
    sqlx::query(
        "INSERT INTO submissions (id, candidate_id, digest, received_at, bytes, file_count, \
         report_digest, challenge_version, challenge_digest, listing, archive) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&meta.id)
    .bind(candidate)
    .bind(&meta.digest)
    .bind(&meta.received_at)
    .bind(meta.bytes)
    .bind(meta.file_count)
    .bind(&meta.report_digest)
    .bind(&meta.challenge_version)
    .bind(&meta.challenge_digest)
    .bind(&listing)
    .bind(new.archive)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(StoreOutcome::Stored { meta, report })
}

/// Whether the candidate has a submission with this archive digest.
pub async fn exists(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<bool> {
    Ok(one(db, candidate, digest).await?.is_some())
}

/// One submission of a candidate, without its archive.
pub async fn one(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<Option<Stored>> {
    let mut conn = db.read.acquire().await?;
    one_in(&mut conn, candidate, digest).await
}

async fn one_in(
    conn: &mut sqlx::AnyConnection,
    candidate: &str,
    digest: &str,
) -> sqlx::Result<Option<Stored>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM submissions WHERE candidate_id = $1 AND digest = $2"
    );
    sqlx::query(sql)
        .bind(candidate)
        .bind(digest)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(stored)
        .transpose()
}

/// A candidate's submissions, newest first, without archives.
pub async fn list(db: &Db, candidate: &str) -> sqlx::Result<Vec<Stored>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM submissions WHERE candidate_id = $1 ORDER BY received_at DESC, digest"
    );
    sqlx::query(sql)
        .bind(candidate)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(stored)
        .collect()
}

/// The archive of one submission, as sent.
pub async fn archive(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT archive FROM submissions WHERE candidate_id = $1 AND digest = $2")
        .bind(candidate)
        .bind(digest)
        .fetch_optional(&db.read)
        .await
}

/// How many submissions a candidate has, and the newest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Submissions stored.
    pub count: i64,
    /// The newest one.
    pub latest: Option<SubmissionMeta>,
}

/// The [`Summary`] of a candidate's submissions (the reviewer's candidate page links to them).
pub async fn summary(db: &Db, candidate: &str) -> sqlx::Result<Summary> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE candidate_id = $1")
        .bind(candidate)
        .fetch_one(&db.read)
        .await?;
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM submissions WHERE candidate_id = $1 ORDER BY received_at DESC, digest LIMIT 1"
    );
    let latest = sqlx::query(sql)
        .bind(candidate)
        .fetch_optional(&db.read)
        .await?
        .as_ref()
        .map(stored)
        .transpose()?
        .map(|s| s.meta);
    Ok(Summary { count, latest })
}
