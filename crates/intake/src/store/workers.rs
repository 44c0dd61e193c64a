//! Verification workers (`sre-verify`): named, with a token that can only claim and report jobs.

use serde::Serialize;

use super::people::ByToken;
use super::{Db, is_unique_violation, now};
use crate::tokens;

/// A worker as stored (without the token hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Worker {
    /// Random id, `w-<16 hex>`.
    pub id: String,
    /// Its name, shown next to what it verified (e.g. the host it runs on).
    pub name: String,
}

/// Why a worker could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Names are unique: they tell the reviewer which machine verified a submission.
    #[error("a worker named {0:?} exists already: choose another name")]
    Taken(String),
    /// The name is empty or too long.
    #[error("a worker's name is 1 to 100 characters, without control characters")]
    BadName,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Creates a worker and returns it with its token (shown once, never stored).
pub async fn create(db: &Db, name: &str) -> Result<(Worker, String), CreateError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(CreateError::BadName);
    }
    let (token, hash) = tokens::generate()?;
    let worker = Worker {
        id: tokens::new_id("w")?,
        name: name.to_owned(),
    };
    let inserted = sqlx::query(
        "INSERT INTO workers (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&worker.id)
    .bind(&worker.name)
    .bind(&hash)
    .bind(now())
    .execute(&db.write)
    .await;
    match inserted {
        Ok(_) => Ok((worker, token)),
        Err(err) if is_unique_violation(&err) => Err(CreateError::Taken(worker.name)),
        Err(err) => Err(CreateError::Store(err.into())),
    }
}

/// The worker whose token has this hash.
pub async fn by_token(db: &Db, hash: &str) -> sqlx::Result<Option<ByToken<Worker>>> {
    sqlx::query_as("SELECT id, name, token_hash FROM workers WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(&db.read)
        .await
}
