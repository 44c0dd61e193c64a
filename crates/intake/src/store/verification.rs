//! The verification queue: stored submissions waiting for a worker, the leases of the ones being
//! verified, and the verified reports.
//!
//! Claiming is safe under concurrency on both backends. On PostgreSQL the claim's `SELECT … FOR
//! UPDATE OF s SKIP LOCKED` lets concurrent claimers pass over a submission another one is taking,
//! and the insert's `ON CONFLICT … WHERE` (evaluated against the latest committed row) refuses a
//! submission whose lease is still alive, whatever snapshot the `SELECT` saw: such a claim takes
//! nothing and tries the next one. On SQLite every write goes through one connection, so claims
//! are serialized. A lease is renewed by its holder's heartbeats; once it has expired the next
//! claim takes the job again, and the old holder's finish is refused (its lease id is no longer
//! the row's): a job is verified exactly once unless its lease expired.

use serde::Serialize;
use sre_model::{Report, Status};

use super::{Backend, Db, now, timestamp};
use crate::tokens;

/// Claims of one job before it is given up as `error` (a submission that kills every worker).
pub const MAX_ATTEMPTS: i64 = 3;

/// Shortest and longest lease a worker may ask for, in seconds.
pub const LEASE_SECONDS: std::ops::RangeInclusive<u64> = 5..=3600;

/// A claimed job: what the worker needs to verify a submission.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// The lease id: the job's handle for heartbeats and the finish.
    pub lease: String,
    /// When the lease ends unless renewed.
    pub lease_expires_at: String,
    /// Which claim of this submission this is (1 for the first).
    pub attempt: i64,
    /// The submission.
    pub submission: JobSubmission,
}

/// The submission of a [`Job`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobSubmission {
    /// Its id.
    pub id: String,
    /// The candidate's id.
    pub candidate_id: String,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
    /// When it was received.
    pub received_at: String,
    /// The challenge version its listing names.
    pub challenge_version: String,
    /// The challenge digest its listing names.
    pub challenge_digest: String,
}

#[derive(Debug, sqlx::FromRow)]
struct Candidate {
    #[sqlx(flatten)]
    submission: JobSubmission,
    attempts: Option<i64>,
}

const PENDING: &str = "FROM submissions s LEFT JOIN verifications v ON v.submission_id = s.id \
     WHERE v.submission_id IS NULL OR (v.state = 'running' AND v.lease_expires_at < $1)";

/// Claims the oldest submission nobody verified and nobody holds a live lease on, for
/// `lease_seconds`. `None`: the queue is empty.
pub async fn claim(db: &Db, worker_id: &str, lease_seconds: u64) -> anyhow::Result<Option<Job>> {
    // Each pass either claims, gives up a job that used all its attempts, or finds a race lost
    // (another claimer committed first): a few passes always suffice, the bound is a safeguard.
    for _ in 0..32 {
        let mut tx = db.write.begin().await?;
        let at = now();
        let select = match db.backend {
            Backend::Postgres => format!(
                "SELECT s.id, s.candidate_id, s.digest, s.received_at, s.challenge_version, \
                 s.challenge_digest, v.attempts {PENDING} ORDER BY s.received_at, s.id LIMIT 1 \
                 FOR UPDATE OF s SKIP LOCKED"
            ),
            Backend::Sqlite => format!(
                "SELECT s.id, s.candidate_id, s.digest, s.received_at, s.challenge_version, \
                 s.challenge_digest, v.attempts {PENDING} ORDER BY s.received_at, s.id LIMIT 1"
            ),
        };
        let Some(found) = sqlx::query_as::<_, Candidate>(sqlx::AssertSqlSafe(select))
            .bind(&at)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.commit().await?;
            return Ok(None);
        };
        if found.attempts.unwrap_or(0) >= MAX_ATTEMPTS {
            sqlx::query(
                "UPDATE verifications SET state = 'error', finished_at = $1, error = $2 \
                 WHERE submission_id = $3 AND state = 'running' AND lease_expires_at < $1",
            )
            .bind(&at)
            .bind(format!(
                "no worker finished this submission in {MAX_ATTEMPTS} claims (each lease \
                 expired): look at the workers' logs for this submission id"
            ))
            .bind(&found.submission.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            continue;
        }
        let lease = tokens::new_id("l")?;
        let expires = expiry(lease_seconds);
        let claimed = sqlx::query(
            "INSERT INTO verifications (submission_id, state, lease, worker_id, attempts, \
             claimed_at, lease_expires_at) VALUES ($1, 'running', $2, $3, 1, $4, $5) \
             ON CONFLICT (submission_id) DO UPDATE SET state = 'running', lease = excluded.lease, \
             worker_id = excluded.worker_id, attempts = verifications.attempts + 1, \
             claimed_at = excluded.claimed_at, lease_expires_at = excluded.lease_expires_at \
             WHERE verifications.state = 'running' \
             AND verifications.lease_expires_at < excluded.claimed_at",
        )
        .bind(&found.submission.id)
        .bind(&lease)
        .bind(worker_id)
        .bind(&at)
        .bind(&expires)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if claimed.rows_affected() == 1 {
            return Ok(Some(Job {
                lease,
                lease_expires_at: expires,
                attempt: found.attempts.unwrap_or(0) + 1,
                submission: found.submission,
            }));
        }
    }
    anyhow::bail!("the verification queue kept changing under 32 claims in a row; retry")
}

fn expiry(lease_seconds: u64) -> String {
    let seconds = lease_seconds.clamp(*LEASE_SECONDS.start(), *LEASE_SECONDS.end());
    timestamp(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds as i64))
}

/// The job a worker holds under `lease`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    /// The submission's id.
    pub submission_id: String,
    /// The candidate's id.
    pub candidate_id: String,
    /// The report the candidate sent with the submission.
    pub report_digest: String,
}

/// The running job `lease` of `worker_id`, if the lease is still the job's.
pub async fn held(db: &Db, worker_id: &str, lease: &str) -> sqlx::Result<Option<Held>> {
    sqlx::query_as(
        "SELECT v.submission_id, s.candidate_id, s.report_digest FROM verifications v \
         JOIN submissions s ON s.id = v.submission_id \
         WHERE v.lease = $1 AND v.worker_id = $2 AND v.state = 'running'",
    )
    .bind(lease)
    .bind(worker_id)
    .fetch_optional(&db.write)
    .await
}

/// The archive of the running job `lease`.
pub async fn archive(db: &Db, worker_id: &str, lease: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT s.archive FROM verifications v JOIN submissions s ON s.id = v.submission_id \
         WHERE v.lease = $1 AND v.worker_id = $2 AND v.state = 'running'",
    )
    .bind(lease)
    .bind(worker_id)
    .fetch_optional(&db.read)
    .await
}

/// Renews a lease for `lease_seconds` from now; `None` when it is no longer the job's (expired
/// and claimed by another worker, or finished).
pub async fn heartbeat(
    db: &Db,
    worker_id: &str,
    lease: &str,
    lease_seconds: u64,
) -> sqlx::Result<Option<String>> {
    let expires = expiry(lease_seconds);
    let renewed = sqlx::query(
        "UPDATE verifications SET lease_expires_at = $1 \
         WHERE lease = $2 AND worker_id = $3 AND state = 'running'",
    )
    .bind(&expires)
    .bind(lease)
    .bind(worker_id)
    .execute(&db.write)
    .await?;
    Ok((renewed.rows_affected() == 1).then_some(expires))
}

/// What a worker found.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// It ran the checks: the verified report, and how many of the candidate's passing checks it
    /// did not verify as passing.
    Verified {
        /// The report.
        report: &'a Report,
        /// See [`disagreements`].
        disagreements: i64,
    },
    /// It could not run them (the submission cannot be laid out, another challenge version).
    Error(&'a str),
}

/// How the worker ran the checks.
#[derive(Debug, Clone)]
pub struct Runtime<'a> {
    /// The engine's default runtime (e.g. `runsc`).
    pub name: &'a str,
    /// Whether it is a sandbox.
    pub sandboxed: bool,
}

/// Finishes the job `lease` with `outcome`; `false` when the lease is no longer the job's.
pub async fn finish(
    db: &Db,
    worker_id: &str,
    lease: &str,
    runtime: &Runtime<'_>,
    outcome: &Outcome<'_>,
) -> anyhow::Result<bool> {
    let (state, overall, disagreements, report, error) = match outcome {
        Outcome::Verified {
            report,
            disagreements,
        } => (
            "verified",
            Some(report.overall().as_str()),
            Some(*disagreements),
            Some(serde_json::to_string(report)?),
            None,
        ),
        Outcome::Error(error) => ("error", None, None, None, Some(*error)),
    };
    let done = sqlx::query(
        "UPDATE verifications SET state = $1, finished_at = $2, runtime = $3, sandboxed = $4, \
         overall = $5, disagreements = $6, report = $7, error = $8 \
         WHERE lease = $9 AND worker_id = $10 AND state = 'running'",
    )
    .bind(state)
    .bind(now())
    .bind(runtime.name)
    .bind(i64::from(runtime.sandboxed))
    .bind(overall)
    .bind(disagreements)
    .bind(report)
    .bind(error)
    .bind(lease)
    .bind(worker_id)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Checks the candidate reported as passing that the verified report does not show passing, in
/// the topics the worker verified (a worker may be limited to some topics).
pub fn disagreements(reported: &Report, verified: &Report) -> i64 {
    compare(reported, verified)
        .iter()
        .filter(|c| c.disagrees())
        .count() as i64
}

/// One check, as reported and as verified.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    /// The topic.
    pub topic: String,
    /// The check id.
    pub check: String,
    /// What the candidate's report says (absent when it did not run the check).
    pub reported: Option<Status>,
    /// What the worker found.
    pub verified: Status,
    /// Reported pass, verified anything else.
    pub disagreement: bool,
    /// The check's title.
    pub title: String,
    /// What the worker's run of the check showed.
    pub evidence: String,
}

impl Compared {
    fn disagrees(&self) -> bool {
        self.disagreement
    }
}

/// Every check of the verified report beside the candidate's status for it.
pub fn compare(reported: &Report, verified: &Report) -> Vec<Compared> {
    let mut out = Vec::new();
    for topic in &verified.topics {
        let theirs = reported.topics.iter().find(|t| t.id == topic.id);
        for check in &topic.checks {
            let claim = theirs
                .and_then(|t| t.checks.iter().find(|c| c.id == check.id))
                .map(|c| c.status);
            out.push(Compared {
                topic: topic.id.to_string(),
                check: check.id.clone(),
                reported: claim,
                verified: check.status,
                disagreement: claim == Some(Status::Pass) && check.status != Status::Pass,
                title: check.title.clone(),
                evidence: check.evidence.clone(),
            });
        }
    }
    out
}

/// A submission's verification, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    /// The submission.
    pub submission_id: String,
    /// `running`, `verified` or `error`.
    pub state: String,
    /// The worker's name.
    pub worker: String,
    /// Claims so far.
    pub attempts: i64,
    /// Last claim.
    pub claimed_at: String,
    /// When the running lease ends.
    pub lease_expires_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
    /// The runtime the worker used.
    pub runtime: Option<String>,
    /// Whether that runtime is a sandbox (1) or not (0).
    pub sandboxed: Option<i64>,
    /// The verified report's overall status.
    pub overall: Option<String>,
    /// See [`disagreements`].
    pub disagreements: Option<i64>,
    /// The verified report.
    pub report: Option<String>,
    /// Why there is no report.
    pub error: Option<String>,
}

/// The verifications of one candidate's submissions, or of everyone's (`None`: for the list of
/// candidates, without the reports' bodies).
pub async fn of_submissions(db: &Db, candidate: Option<&str>) -> sqlx::Result<Vec<Stored>> {
    const COLUMNS: &str = "SELECT v.submission_id, v.state, w.name AS worker, v.attempts, \
         v.claimed_at, v.lease_expires_at, v.finished_at, v.runtime, v.sandboxed, v.overall, \
         v.disagreements, v.error";
    const FROM: &str = "FROM verifications v JOIN workers w ON w.id = v.worker_id \
         JOIN submissions s ON s.id = v.submission_id";
    match candidate {
        Some(id) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS}, v.report {FROM} WHERE s.candidate_id = $1"
            )))
            .bind(id)
            .fetch_all(&db.read)
            .await
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS}, CAST(NULL AS TEXT) AS report {FROM}"
            )))
            .fetch_all(&db.read)
            .await
        }
    }
}

/// The state a reviewer sees for a submission: `pending`, `running`, `verified`, `disagreement`
/// or `error` (a lease that expired without a new claim is `pending` again).
pub fn state_of(verification: Option<&Stored>) -> &'static str {
    let Some(v) = verification else {
        return "pending";
    };
    match v.state.as_str() {
        "running" if v.lease_expires_at < now() => "pending",
        "running" => "running",
        "verified" if v.disagreements.unwrap_or(0) > 0 => "disagreement",
        "verified" => "verified",
        _ => "error",
    }
}

/// The queue, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueStats {
    /// Submissions waiting for a worker (never claimed, or their lease expired).
    pub pending: i64,
    /// Submissions under a live lease.
    pub running: i64,
    /// Seconds since the oldest pending submission arrived (0 when none waits).
    pub oldest_pending_seconds: f64,
}

/// Counts the queue.
pub async fn queue_stats(db: &Db) -> anyhow::Result<QueueStats> {
    let at = now();
    let (pending, oldest): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), MIN(s.received_at) {PENDING}"
    )))
    .bind(&at)
    .fetch_one(&db.read)
    .await?;
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM verifications WHERE state = 'running' AND lease_expires_at >= $1",
    )
    .bind(&at)
    .fetch_one(&db.read)
    .await?;
    let oldest_pending_seconds = oldest
        .and_then(|t| {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(0.0, |t| {
            (time::OffsetDateTime::now_utc() - t)
                .as_seconds_f64()
                .max(0.0)
        });
    Ok(QueueStats {
        pending,
        running,
        oldest_pending_seconds,
    })
}
