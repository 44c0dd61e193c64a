//! Candidates (invited by a link with a token) and reviewers (who score them).

use serde::Serialize;

use super::{Db, now};
use crate::tokens;

/// A candidate as stored (without the token hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Candidate {
    /// Random id, `c-<16 hex>`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Contact address, when given.
    pub email: Option<String>,
    /// When the invite was made.
    pub created_at: String,
    /// When the invite stops working, if ever.
    pub expires_at: Option<String>,
    /// When the candidate submitted; answers are read-only afterwards.
    pub submitted_at: Option<String>,
}

/// A reviewer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reviewer {
    /// Random id, `r-<16 hex>`.
    pub id: String,
    /// Display name, shown next to scores.
    pub name: String,
}

/// What to invite.
#[derive(Debug, Clone)]
pub struct NewCandidate<'a> {
    /// Display name.
    pub name: &'a str,
    /// Contact address.
    pub email: Option<&'a str>,
    /// Expiry time, RFC 3339.
    pub expires_at: Option<String>,
    /// The reviewer who invites, when done through the API.
    pub invited_by: Option<&'a str>,
}

/// A record found by token, with the stored hash for the constant-time check.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ByToken<T> {
    /// The record.
    #[sqlx(flatten)]
    pub record: T,
    /// Its stored token hash.
    pub token_hash: String,
}

/// The columns of a [`Candidate`], as a literal for `concat!` (sqlx takes only static SQL).
macro_rules! candidate_columns {
    () => {
        "id, name, email, created_at, expires_at, submitted_at"
    };
}

/// Creates a candidate and returns it with its token (shown once, never stored).
pub async fn create_candidate(
    db: &Db,
    new: NewCandidate<'_>,
) -> anyhow::Result<(Candidate, String)> {
    let (token, hash) = tokens::generate()?;
    let candidate = Candidate {
        id: tokens::new_id("c")?,
        name: new.name.to_owned(),
        email: new.email.map(str::to_owned),
        created_at: now(),
        expires_at: new.expires_at,
        submitted_at: None,
    };
    sqlx::query(
        "INSERT INTO candidates (id, name, email, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&candidate.id)
    .bind(&candidate.name)
    .bind(&candidate.email)
    .bind(&hash)
    .bind(new.invited_by)
    .bind(&candidate.created_at)
    .bind(&candidate.expires_at)
    .execute(&db.write)
    .await?;
    Ok((candidate, token))
}

/// Creates a reviewer and returns it with its token (shown once, never stored).
pub async fn create_reviewer(db: &Db, name: &str) -> anyhow::Result<(Reviewer, String)> {
    let (token, hash) = tokens::generate()?;
    let reviewer = Reviewer {
        id: tokens::new_id("r")?,
        name: name.to_owned(),
    };
    sqlx::query("INSERT INTO reviewers (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&reviewer.id)
        .bind(&reviewer.name)
        .bind(&hash)
        .bind(now())
        .execute(&db.write)
        .await?;
    Ok((reviewer, token))
}

/// The candidate whose token has this hash.
pub async fn candidate_by_token(db: &Db, hash: &str) -> sqlx::Result<Option<ByToken<Candidate>>> {
    let sql = concat!(
        "SELECT ",
        candidate_columns!(),
        ", token_hash FROM candidates WHERE token_hash = $1"
    );
    sqlx::query_as(sql)
        .bind(hash)
        .fetch_optional(&db.read)
        .await
}

/// The reviewer whose token has this hash.
pub async fn reviewer_by_token(db: &Db, hash: &str) -> sqlx::Result<Option<ByToken<Reviewer>>> {
    sqlx::query_as("SELECT id, name, token_hash FROM reviewers WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(&db.read)
        .await
}

/// One candidate by id.
pub async fn candidate_by_id(db: &Db, id: &str) -> sqlx::Result<Option<Candidate>> {
    let sql = concat!(
        "SELECT ",
        candidate_columns!(),
        " FROM candidates WHERE id = $1"
    );
    sqlx::query_as(sql).bind(id).fetch_optional(&db.read).await
}

/// Every candidate, newest invite first.
pub async fn all_candidates(db: &Db) -> sqlx::Result<Vec<Candidate>> {
    let sql = concat!(
        "SELECT ",
        candidate_columns!(),
        " FROM candidates ORDER BY created_at DESC, id"
    );
    sqlx::query_as(sql).fetch_all(&db.read).await
}

/// Marks the candidate submitted, once; returns the submission time (the first one when the
/// candidate had already submitted).
pub async fn submit(db: &Db, id: &str) -> sqlx::Result<String> {
    let at = now();
    sqlx::query("UPDATE candidates SET submitted_at = $1 WHERE id = $2 AND submitted_at IS NULL")
        .bind(&at)
        .bind(id)
        .execute(&db.write)
        .await?;
    let submitted: Option<String> =
        sqlx::query_scalar("SELECT submitted_at FROM candidates WHERE id = $1")
            .bind(id)
            .fetch_one(&db.write)
            .await?;
    Ok(submitted.unwrap_or(at))
}

/// Inside a write transaction: locks the candidate's row if the candidate has not submitted, and
/// says whether that is so (`false`: refuse the write). The `UPDATE` changes nothing (it sets a
/// NULL column to NULL) but, being a write, it takes PostgreSQL's row lock until the transaction
/// ends, so one candidate's writes are serialized and a concurrent submission is either seen or
/// waits; it is the portable `SELECT … FOR UPDATE` (which SQLite lacks). On SQLite it takes the
/// database's write lock at the first statement, so the transaction never has to upgrade.
pub async fn lock_unsubmitted(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    let locked = sqlx::query(
        "UPDATE candidates SET submitted_at = NULL WHERE id = $1 AND submitted_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(locked.rows_affected() == 1)
}
