//! Reviewers' scores: 1 to 4 and a note per evaluation criterion of the manifest.

use serde::{Deserialize, Serialize};

use super::{Db, now};

/// A score as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    /// Topic id, e.g. `iac`.
    pub topic: String,
    /// Criterion name exactly as in the manifest, e.g. "Understanding Errors".
    pub criterion: String,
    /// 1 to 4.
    pub score: i64,
    /// Why; may be empty.
    #[serde(default)]
    pub note: String,
}

/// A stored score with who gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Score {
    /// The candidate.
    pub candidate_id: String,
    /// The candidate's name (for exports).
    pub candidate_name: String,
    /// The reviewer's id.
    pub reviewer_id: String,
    /// The reviewer's name.
    pub reviewer: String,
    /// Topic id.
    pub topic: String,
    /// Criterion name.
    pub criterion: String,
    /// 1 to 4.
    pub score: i64,
    /// The reviewer's note.
    pub note: String,
    /// When last changed.
    pub updated_at: String,
}

/// Sets a reviewer's scores for a candidate, all or none; other criteria keep their scores.
/// The caller has validated them against the manifest.
pub async fn put(
    db: &Db,
    candidate: &str,
    reviewer: &str,
    scores: &[ScoreInput],
) -> sqlx::Result<()> {
    let at = now();
    let mut tx = db.write.begin().await?;
    for s in scores {
        sqlx::query(
            "INSERT INTO scores (candidate_id, reviewer_id, topic, criterion, score, note, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (candidate_id, reviewer_id, topic, criterion) \
             DO UPDATE SET score = excluded.score, note = excluded.note, updated_at = excluded.updated_at",
        )
        .bind(candidate)
        .bind(reviewer)
        .bind(&s.topic)
        .bind(&s.criterion)
        .bind(s.score)
        .bind(&s.note)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Every score, or those of one candidate, by candidate, topic, criterion and reviewer.
pub async fn list(db: &Db, candidate: Option<&str>) -> sqlx::Result<Vec<Score>> {
    sqlx::query_as(
        "SELECT s.candidate_id, c.name AS candidate_name, s.reviewer_id, r.name AS reviewer, \
                s.topic, s.criterion, s.score, s.note, s.updated_at \
         FROM scores s JOIN candidates c ON c.id = s.candidate_id \
                       JOIN reviewers r ON r.id = s.reviewer_id \
         WHERE ($1 IS NULL OR s.candidate_id = $1) \
         ORDER BY c.created_at, s.candidate_id, s.topic, s.criterion, r.name",
    )
    .bind(candidate)
    .fetch_all(&db.read)
    .await
}
