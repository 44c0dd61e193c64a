//! `POST /submissions` and `GET /submissions`: the candidate's work, sent by `sre-check upload` as
//! one archive (`sre_work`'s format: the listing, the report, the files).
//!
//! The archive is untrusted: before anything is stored it is read through once, in memory
//! (`sre_work::verify`: entry types, names, counts, sizes, expanded total, truncation, the
//! listing's digests), its report is validated like `POST /reports`, and the listing must agree
//! with the report. Nothing is unpacked to disk.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use sre_model::submission::{Limits, ListingError};
use sre_work::{ReadError, Verified};

use super::auth::CandidateAuth;
use super::candidate::{challenge_warnings, submitted_error};
use super::{AppState, bytes_rejection, json_with};
use crate::challenge;
use crate::error::ApiError;
use crate::quota::Write;
use crate::store::reports::StatusCounts;
use crate::store::submissions::{self, NewSubmission, StoreOutcome};

/// `POST /submissions`: stores a verified archive with its report; 201 new, 200 `duplicate: true`
/// for an archive stored before (same digest).
pub async fn post(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let result = receive(
        &state,
        &candidate.id,
        &candidate.submitted_at,
        &headers,
        body,
    )
    .await;
    let outcome = match &result {
        Ok((_, true)) => "duplicate",
        Ok((_, false)) => "stored",
        Err(e) => match e.code() {
            "submitted" => "submitted",
            "quota_bytes" | "quota_count" => "quota",
            "invalid_submission" | "submission_too_large" | "unsupported_media_type" => "refused",
            _ => "error",
        },
    };
    state.metrics.submission_received(outcome);
    result.map(|(response, _)| response)
}

/// The reply, and whether the archive was a duplicate.
async fn receive(
    state: &AppState,
    candidate: &str,
    submitted_at: &Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Response, bool), ApiError> {
    let limits = *state.work_limits;
    if !is_gzip(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the work as the archive `sre-check upload` makes, with \
             `Content-Type: application/gzip`",
        ));
    }
    let archive = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(&limits, None)
        } else {
            bytes_rejection(&e)
        }
    })?;
    if archive.len() as u64 > limits.archive_bytes {
        return Err(too_large(&limits, Some(archive.len() as u64)));
    }
    let (digest, verified) = verify(archive.clone(), limits).await?;
    let (listing, report, report_bytes) =
        (verified.listing, verified.report, verified.report_bytes);
    report.check_topics(challenge::manifest()).map_err(|e| {
        invalid(format!(
            "report.json: {e}; update sre-check to the version of your invite and upload again"
        ))
    })?;
    let warnings = challenge_warnings(&report.challenge.version);
    let report_len = i64::try_from(report_bytes.len()).unwrap_or(i64::MAX);
    let archive_len = i64::try_from(archive.len()).unwrap_or(i64::MAX);
    let write = Write::Submission(archive_len.saturating_add(report_len));
    if let Err(refused) = state.quota.check(&state.db, candidate, write).await {
        // Sending stored work again (a retried upload) stores nothing: never refused.
        if !submissions::exists(&state.db, candidate, &digest).await? {
            return Err(refused);
        }
    }
    let new = NewSubmission {
        digest: &digest,
        archive: &archive,
        listing: &listing,
        report: &report,
    };
    let (status, meta, duplicate) = match submissions::store(&state.db, candidate, &new).await? {
        StoreOutcome::Stored { meta, report } => {
            state
                .quota
                .record(candidate, Write::Submission(archive_len));
            if report.is_some() {
                state.quota.record(candidate, Write::Report(report_len));
            }
            (StatusCode::CREATED, meta, false)
        }
        StoreOutcome::Duplicate(meta) => (StatusCode::OK, meta, true),
        StoreOutcome::Submitted => return Err(submitted_error(submitted_at)),
    };
    let response = json_with(
        status,
        [],
        json!({
            "digest": meta.digest,
            "received_at": meta.received_at,
            "bytes": meta.bytes,
            "files": meta.file_count,
            "report": {
                "digest": meta.report_digest,
                "overall": report.overall().as_str(),
                "counts": StatusCounts::of(&report),
            },
            "duplicate": duplicate,
            "warnings": warnings,
        }),
    );
    Ok((response, duplicate))
}

/// The archive's digest, and what `sre_work::verify` found reading it through (on a blocking
/// thread: decompressing up to the expanded limit takes a while). Over a size limit → 413
/// `submission_too_large`; any other fault → 422 `invalid_submission`; both name the entry.
async fn verify(archive: Bytes, limits: Limits) -> Result<(String, Verified), ApiError> {
    let checked = tokio::task::spawn_blocking(move || {
        let digest = sre_work::digest(&archive);
        sre_work::verify(&archive, &limits).map(|v| (digest, v))
    })
    .await
    .map_err(|e| ApiError::internal(&anyhow::anyhow!("verifying a submission: {e}")))?;
    checked.map_err(|e| {
        let detail = format!("{e}; nothing was stored");
        match e {
            ReadError::ArchiveTooLarge { .. }
            | ReadError::ExpandsTooFar { .. }
            | ReadError::Listing(
                ListingError::TooManyFiles { .. }
                | ListingError::FileTooLarge { .. }
                | ListingError::TooLarge { .. },
            ) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "submission_too_large",
                detail,
            ),
            _ => invalid(detail),
        }
    })
}

/// Whether the body is declared as a gzip archive.
fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "application/gzip" || v == "application/x-gzip")
}

/// 422 `invalid_submission`.
fn invalid(detail: String) -> ApiError {
    ApiError::unprocessable("invalid_submission", detail)
}

/// 413 `submission_too_large`, naming the server's limits.
pub fn too_large(limits: &Limits, bytes: Option<u64>) -> ApiError {
    let size = bytes.map_or_else(|| "larger than".to_owned(), |b| format!("{b} bytes; over"));
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "submission_too_large",
        format!(
            "the archive is {size} this server's limit of {} bytes ({} MiB compressed; at most {} \
             files of {} MiB each): leave large generated files out with `.sre-check-ignore`",
            limits.archive_bytes,
            limits.archive_bytes / 1024 / 1024,
            limits.files,
            limits.file_bytes / 1024 / 1024
        ),
    )
}

/// `GET /submissions`: the candidate's own submissions, newest first, with the files each held.
pub async fn list(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
) -> Result<Json<Value>, ApiError> {
    let stored = submissions::list(&state.db, &candidate.id).await?;
    let mut items = Vec::with_capacity(stored.len());
    for s in &stored {
        let listing = s.listing()?;
        items.push(json!({
            "digest": s.meta.digest,
            "received_at": s.meta.received_at,
            "bytes": s.meta.bytes,
            "files": listing.files,
        }));
    }
    Ok(Json(json!({ "submissions": items })))
}
