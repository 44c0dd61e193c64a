//! sre-check reports as received, idempotent by digest.

use serde::Serialize;
use sre_model::{Report, Status};

use super::people::lock_unsubmitted;
use super::{Db, now};

/// What the list of reports shows, without the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportMeta {
    /// The candidate who uploaded it.
    #[serde(skip)]
    pub candidate_id: String,
    /// `sha256:<hex>` of the canonical JSON.
    pub digest: String,
    /// When it first arrived.
    pub received_at: String,
    /// The worst status of its checks.
    pub overall: String,
    /// Checks by status.
    pub counts: StatusCounts,
    /// Each topic's status, in report order.
    pub topics: Vec<TopicStatus>,
}

/// A topic's status in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicStatus {
    /// The topic id.
    pub id: String,
    /// Its status: the worst of its checks.
    pub status: String,
}

impl TopicStatus {
    /// The statuses of a report's topics.
    pub fn of(report: &Report) -> Vec<TopicStatus> {
        report
            .topics
            .iter()
            .map(|t| TopicStatus {
                id: t.id.as_str().to_owned(),
                status: t.status.as_str().to_owned(),
            })
            .collect()
    }

    /// The `topics` column: `iac=pass os=fail`.
    fn encode(topics: &[TopicStatus]) -> String {
        let pairs: Vec<String> = topics
            .iter()
            .map(|t| format!("{}={}", t.id, t.status))
            .collect();
        pairs.join(" ")
    }

    /// Reads the `topics` column; a malformed pair is left out.
    fn decode(column: &str) -> Vec<TopicStatus> {
        column
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(id, status)| TopicStatus {
                id: id.to_owned(),
                status: status.to_owned(),
            })
            .collect()
    }
}

/// How many checks ended with each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StatusCounts {
    /// Passed.
    #[sqlx(rename = "passed")]
    pub pass: i64,
    /// Failed: the submission needs a change.
    #[sqlx(rename = "failed")]
    pub fail: i64,
    /// Errored: the environment or the checker broke.
    #[sqlx(rename = "errors")]
    pub error: i64,
    /// Skipped.
    pub skipped: i64,
}

impl StatusCounts {
    /// The counts of a report's checks.
    pub fn of(report: &Report) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for check in report.topics.iter().flat_map(|t| &t.checks) {
            match check.status {
                Status::Pass => counts.pass += 1,
                Status::Fail => counts.fail += 1,
                Status::Error => counts.error += 1,
                Status::Skipped => counts.skipped += 1,
            }
        }
        counts
    }
}

/// The outcome of storing a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// First time this report arrives.
    Stored(ReportMeta),
    /// Already stored earlier (same digest): nothing changed.
    Duplicate(ReportMeta),
    /// The candidate has submitted and this report is new: refused.
    Submitted,
}

/// The columns of a [`MetaRow`], as a literal for `concat!` (sqlx takes only static SQL).
macro_rules! meta_columns {
    () => {
        "candidate_id, digest, received_at, overall, passed, failed, errors, skipped, topics"
    };
}

/// A [`ReportMeta`] as stored: the topics still in their column's text.
#[derive(sqlx::FromRow)]
struct MetaRow {
    candidate_id: String,
    digest: String,
    received_at: String,
    overall: String,
    #[sqlx(flatten)]
    counts: StatusCounts,
    topics: String,
}

impl From<MetaRow> for ReportMeta {
    fn from(row: MetaRow) -> Self {
        ReportMeta {
            candidate_id: row.candidate_id,
            digest: row.digest,
            received_at: row.received_at,
            overall: row.overall,
            counts: row.counts,
            topics: TopicStatus::decode(&row.topics),
        }
    }
}

/// Stores a validated report for a candidate, unless it is already there.
pub async fn store(db: &Db, candidate: &str, report: &Report) -> anyhow::Result<StoreOutcome> {
    let digest = report.digest();
    let at = now();
    let mut tx = db.write.begin().await?;
    if !lock_unsubmitted(&mut tx, candidate).await? {
        tx.rollback().await?;
        return Ok(match one(db, candidate, &digest).await? {
            Some(existing) => StoreOutcome::Duplicate(existing),
            None => StoreOutcome::Submitted,
        });
    }
    let Some(meta) = insert(&mut tx, candidate, report, &at).await? else {
        tx.rollback().await?;
        let existing = one(db, candidate, &digest)
            .await?
            .ok_or_else(|| anyhow::anyhow!("report {digest} conflicted but cannot be read back"))?;
        return Ok(StoreOutcome::Duplicate(existing));
    };
    tx.commit().await?;
    Ok(StoreOutcome::Stored(meta))
}

/// Inserts a validated report within the caller's transaction (which has locked the candidate,
/// see [`lock_unsubmitted`]); `None` when the candidate already has it. Also used by
/// `super::submissions`, which stores a report with the work it came with.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    candidate: &str,
    report: &Report,
    at: &str,
) -> anyhow::Result<Option<ReportMeta>> {
    let digest = report.digest();
    let body = serde_json::to_string(report)?;
    let counts = StatusCounts::of(report);
    let topics = TopicStatus::of(report);
    let inserted = sqlx::query(
        "INSERT INTO reports (candidate_id, digest, received_at, overall, passed, failed, errors, skipped, topics, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (candidate_id, digest) DO NOTHING",
    )
    .bind(candidate)
    .bind(&digest)
    .bind(at)
    .bind(report.overall().as_str())
    .bind(counts.pass)
    .bind(counts.fail)
    .bind(counts.error)
    .bind(counts.skipped)
    .bind(TopicStatus::encode(&topics))
    .bind(&body)
    .execute(&mut *conn)
    .await?;
    Ok((inserted.rows_affected() == 1).then(|| ReportMeta {
        candidate_id: candidate.to_owned(),
        digest,
        received_at: at.to_owned(),
        overall: report.overall().as_str().to_owned(),
        counts,
        topics,
    }))
}

/// The length of a report's body as stored, which the storage quota counts.
pub fn stored_length(report: &Report) -> i64 {
    serde_json::to_string(report).map_or(0, |b| i64::try_from(b.len()).unwrap_or(i64::MAX))
}

/// Whether the candidate has a report with this digest.
pub async fn exists(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<bool> {
    Ok(one(db, candidate, digest).await?.is_some())
}

async fn one(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<Option<ReportMeta>> {
    let sql = concat!(
        "SELECT ",
        meta_columns!(),
        " FROM reports WHERE candidate_id = $1 AND digest = $2"
    );
    let row: Option<MetaRow> = sqlx::query_as(sql)
        .bind(candidate)
        .bind(digest)
        .fetch_optional(&db.write)
        .await?;
    Ok(row.map(ReportMeta::from))
}

/// The reports of one candidate, or of everyone, newest first.
pub async fn list(db: &Db, candidate: Option<&str>) -> sqlx::Result<Vec<ReportMeta>> {
    let sql = concat!(
        "SELECT ",
        meta_columns!(),
        " FROM reports WHERE ($1 IS NULL OR candidate_id = $1) ORDER BY received_at DESC, digest"
    );
    let rows: Vec<MetaRow> = sqlx::query_as(sql)
        .bind(candidate)
        .fetch_all(&db.read)
        .await?;
    Ok(rows.into_iter().map(ReportMeta::from).collect())
}

/// The stored JSON of a candidate's newest report.
pub async fn latest_body(db: &Db, candidate: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT body FROM reports WHERE candidate_id = $1 ORDER BY received_at DESC, digest LIMIT 1",
    )
    .bind(candidate)
    .fetch_optional(&db.read)
    .await
}

/// The stored JSON of one report.
pub async fn body(db: &Db, candidate: &str, digest: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT body FROM reports WHERE candidate_id = $1 AND digest = $2")
        .bind(candidate)
        .bind(digest)
        .fetch_optional(&db.read)
        .await
}

/// Fills in the `topics` column of reports stored before it existed (migration 0002), from their
/// bodies. Runs when the database is opened; a body that no longer parses is left as it is, with
/// a warning. Returns how many reports were filled in.
pub async fn fill_topic_statuses(db: &Db) -> anyhow::Result<u64> {
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT candidate_id, digest FROM reports WHERE topics = ''")
            .fetch_all(&db.write)
            .await?;
    let mut filled = 0;
    // One body at a time: reports are up to 5 MiB each.
    for (candidate, digest) in &keys {
        let Some(text) = body(db, candidate, digest).await? else {
            continue;
        };
        let report: Report = match serde_json::from_str(&text) {
            Ok(report) => report,
            Err(e) => {
                tracing::warn!(%candidate, %digest, error = %e, "a stored report no longer parses; its topics stay unknown");
                continue;
            }
        };
        let topics = TopicStatus::encode(&TopicStatus::of(&report));
        if topics.is_empty() {
            continue;
        }
        sqlx::query("UPDATE reports SET topics = $1 WHERE candidate_id = $2 AND digest = $3")
            .bind(&topics)
            .bind(candidate)
            .bind(digest)
            .execute(&db.write)
            .await?;
        filled += 1;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_statuses_round_trip_through_their_column() {
        let topics = vec![
            TopicStatus {
                id: "iac".to_owned(),
                status: "pass".to_owned(),
            },
            TopicStatus {
                id: "os".to_owned(),
                status: "fail".to_owned(),
            },
        ];
        assert_eq!(TopicStatus::encode(&topics), "iac=pass os=fail");
        assert_eq!(TopicStatus::decode("iac=pass os=fail"), topics);
        assert_eq!(TopicStatus::decode(""), vec![]);
        assert_eq!(
            TopicStatus::decode("iac=pass garbage"),
            topics[..1].to_vec()
        );
    }
}
