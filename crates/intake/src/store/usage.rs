//! What a candidate has stored, for the storage quota (`crate::quota`).

use sqlx::Row;

use super::Db;

/// A candidate's stored answers, reports and submitted work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Bytes of answer text (every version) plus characters of report bodies plus bytes of
    /// submission archives.
    pub bytes: i64,
    /// Answer versions, all slots together.
    pub answer_versions: i64,
    /// Reports (duplicates are not stored, so not counted).
    pub reports: i64,
    /// Submissions of work (duplicates are not stored, so not counted).
    pub submissions: i64,
}

/// Counts what `candidate` has stored. Reads every version's size: done once per candidate per
/// server start, then kept up to date in memory (see `crate::quota`).
pub async fn of(db: &Db, candidate: &str) -> sqlx::Result<Usage> {
    // SUM of BIGINT is NUMERIC on PostgreSQL: cast back so both backends decode an i64.
    let row = sqlx::query(
        "SELECT CAST((SELECT COALESCE(SUM(bytes), 0) FROM answers WHERE candidate_id = $1) AS BIGINT), \
                (SELECT COUNT(*) FROM answers WHERE candidate_id = $1), \
                CAST((SELECT COALESCE(SUM(LENGTH(body)), 0) FROM reports WHERE candidate_id = $1) AS BIGINT), \
                (SELECT COUNT(*) FROM reports WHERE candidate_id = $1), \
                CAST((SELECT COALESCE(SUM(bytes), 0) FROM submissions WHERE candidate_id = $1) AS BIGINT), \
                (SELECT COUNT(*) FROM submissions WHERE candidate_id = $1)",
    )
    .bind(candidate)
    .fetch_one(&db.read)
    .await?;
    let (answer_bytes, answer_versions, report_bytes, reports): (i64, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    let (work_bytes, submissions): (i64, i64) = (row.try_get(4)?, row.try_get(5)?);
    Ok(Usage {
        bytes: answer_bytes
            .saturating_add(report_bytes)
            .saturating_add(work_bytes),
        answer_versions,
        reports,
        submissions,
    })
}
