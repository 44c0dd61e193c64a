//! The verification fields of the reviewer routes (issue 17): `GET /candidates` shows each
//! candidate's verification state (of their latest submission), `GET /candidates/{id}` the
//! verified status of every check beside the reported one, disagreements flagged.

use std::collections::HashMap;

use serde_json::{Value, json};
use sre_model::Report;

use crate::store::Db;
use crate::store::verification::{self, Stored};

/// A candidate's latest submission.
#[derive(Debug, sqlx::FromRow)]
struct Latest {
    candidate_id: String,
    id: String,
    digest: String,
    received_at: String,
    report_digest: String,
}

const LATEST: &str = "SELECT s.candidate_id, s.id, s.digest, s.received_at, s.report_digest \
     FROM submissions s WHERE s.id = (SELECT s2.id FROM submissions s2 \
     WHERE s2.candidate_id = s.candidate_id ORDER BY s2.received_at DESC, s2.id DESC LIMIT 1)";

/// `verification` of each candidate with a submission, by candidate id, for the list:
/// `{state, submission, received_at, disagreements}`.
pub async fn for_list(db: &Db) -> sqlx::Result<HashMap<String, Value>> {
    let latest: Vec<Latest> = sqlx::query_as(LATEST).fetch_all(&db.read).await?;
    let stored = verification::of_submissions(db, None).await?;
    Ok(latest
        .into_iter()
        .map(|l| {
            let v = stored.iter().find(|v| v.submission_id == l.id);
            let summary = json!({
                "state": verification::state_of(v),
                "submission": l.digest,
                "received_at": l.received_at,
                "disagreements": v.and_then(|v| v.disagreements).unwrap_or(0),
            });
            (l.candidate_id, summary)
        })
        .collect())
}

/// `verification` of one candidate's latest submission, with every verified check beside the
/// reported one; `None` when they sent no work.
pub async fn for_candidate(db: &Db, candidate: &str) -> anyhow::Result<Option<Value>> {
    let latest: Option<Latest> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{LATEST} AND s.candidate_id = $1"
    )))
    .bind(candidate)
    .fetch_optional(&db.read)
    .await?;
    let Some(latest) = latest else {
        return Ok(None);
    };
    let stored = verification::of_submissions(db, Some(candidate)).await?;
    let v = stored.iter().find(|v| v.submission_id == latest.id);
    let checks = match v.and_then(|v| v.report.as_deref()) {
        Some(verified) => {
            let reported =
                crate::store::reports::body(db, candidate, &latest.report_digest).await?;
            compared(reported.as_deref(), verified)?
        }
        None => Vec::new(),
    };
    Ok(Some(detail(&latest, v, checks)))
}

fn compared(reported: Option<&str>, verified: &str) -> anyhow::Result<Vec<Value>> {
    let verified = Report::from_json(verified.as_bytes())?;
    let reported = match reported {
        Some(text) => Report::from_json(text.as_bytes())?,
        None => return Ok(Vec::new()),
    };
    Ok(verification::compare(&reported, &verified)
        .into_iter()
        .map(|c| json!(c))
        .collect())
}

fn detail(latest: &Latest, v: Option<&Stored>, checks: Vec<Value>) -> Value {
    json!({
        "state": verification::state_of(v),
        "submission": latest.digest,
        "received_at": latest.received_at,
        "worker": v.map(|v| &v.worker),
        "attempts": v.map_or(0, |v| v.attempts),
        "claimed_at": v.map(|v| &v.claimed_at),
        "finished_at": v.and_then(|v| v.finished_at.as_ref()),
        "runtime": v.and_then(|v| v.runtime.as_ref()),
        "sandboxed": v.and_then(|v| v.sandboxed).map(|s| s != 0),
        "overall": v.and_then(|v| v.overall.as_ref()),
        "disagreements": v.and_then(|v| v.disagreements).unwrap_or(0),
        "error": v.and_then(|v| v.error.as_ref()),
        "checks": checks,
    })
}
