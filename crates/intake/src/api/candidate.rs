//! Candidate routes: who am I, answers (read, and write with preconditions), report upload,
//! submission. A candidate's token reaches only that candidate's data: every query is keyed by
//! the id the token resolved to, never by an id from the request.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sre_model::{AnswerSlot, Manifest, Report, Topic};

use super::auth::CandidateAuth;
use super::conditional::{self, etag};
use super::{ANSWER_TEXT_LIMIT, ApiJson, ApiPath, AppState, bytes_rejection, json_text, json_with};
use crate::challenge;
use crate::error::ApiError;
use crate::quota::Write;
use crate::store::answers::{self, PutOutcome, VersionMeta};
use crate::store::reports::{self, StoreOutcome};

/// The answer slot named in the path; an unknown slot is 422 (the request is well-formed, but the
/// challenge has no such answer). The slot comes from the manifest, so its id is safe anywhere.
pub struct SlotParam {
    /// The slot's topic.
    pub topic: &'static Topic,
    /// The slot.
    pub slot: &'static AnswerSlot,
}

impl<S: Send + Sync> FromRequestParts<S> for SlotParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath(name) = ApiPath::<String>::from_request_parts(parts, state).await?;
        known_slot(&name)
    }
}

/// The embedded manifest's slot with this id, or the 422 that lists the valid ones.
pub fn known_slot(name: &str) -> Result<SlotParam, ApiError> {
    slot_of(challenge::manifest(), name)
}

/// `manifest`'s slot with this id, or the 422 that lists the valid ones. Slots are data of the
/// manifest: a topic added there is accepted without a change here.
pub fn slot_of(manifest: &'static Manifest, name: &str) -> Result<SlotParam, ApiError> {
    manifest
        .slot(name)
        .map(|(topic, slot)| SlotParam { topic, slot })
        .ok_or_else(|| {
            let known: Vec<&str> = manifest.slots().map(|(_, s)| s.id.as_str()).collect();
            ApiError::unprocessable(
                "unknown_slot",
                format!(
                    "the challenge has no answer slot `{}`; slots are: {}",
                    name.escape_debug(),
                    known.join(", ")
                ),
            )
        })
}

/// The body of `PUT /answers/{slot}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The whole text of the answer.
    pub text: String,
}

/// `GET /me`: the candidate, and the latest version of each answer slot.
pub async fn me(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
) -> Result<Json<Value>, ApiError> {
    let latest = answers::latest_versions(&state.db, Some(&candidate.id)).await?;
    let reports = reports::list(&state.db, Some(&candidate.id)).await?;
    let manifest = challenge::manifest();
    let slots: Vec<Value> = manifest
        .slots()
        .map(|(topic, slot)| {
            let saved = latest.iter().find(|l| l.slot == slot.id);
            json!({
                "slot": slot.id,
                "topic": topic.id,
                "file": slot.canonical_file(),
                "version": saved.map(|l| l.version),
                "updated_at": saved.map(|l| &l.created_at),
            })
        })
        .collect();
    Ok(Json(json!({
        "candidate": {
            "id": candidate.id,
            "name": candidate.name,
            "email": candidate.email,
            "created_at": candidate.created_at,
            "expires_at": candidate.expires_at,
            "submitted_at": candidate.submitted_at,
        },
        "challenge": { "title": manifest.challenge.title, "version": manifest.challenge.version },
        "answers": slots,
        "reports": { "count": reports.len(), "latest": reports.first() },
    })))
}

/// `GET /answers`: the latest text of every slot written so far.
pub async fn answers(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
) -> Result<Json<Value>, ApiError> {
    let texts = answers::latest_texts(&state.db, &candidate.id).await?;
    let items: Vec<Value> = texts
        .into_iter()
        .map(|(slot, answer)| {
            json!({ "slot": slot, "version": answer.meta.version,
            "created_at": answer.meta.created_at, "bytes": answer.meta.bytes, "text": answer.text })
        })
        .collect();
    Ok(Json(json!({ "answers": items })))
}

/// `GET /answers/{slot}`: the latest version with its `ETag`; 304 when `If-None-Match` has it;
/// 404 before the first write.
pub async fn get_answer(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
    param: SlotParam,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(answer) = answers::latest(&state.db, &candidate.id, &param.slot.id).await? else {
        return Err(ApiError::not_found(format!(
            "no answer saved for `{}` yet: create it with PUT and `If-None-Match: *`",
            param.slot.id
        )));
    };
    let tag = etag(answer.meta.version);
    let private = HeaderValue::from_static("private, no-cache");
    if conditional::not_modified(&headers, answer.meta.version)? {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, tag);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, private);
        return Ok(response);
    }
    Ok(json_with(
        StatusCode::OK,
        [(header::ETAG, tag), (header::CACHE_CONTROL, private)],
        json!({ "slot": param.slot.id, "version": answer.meta.version,
            "created_at": answer.meta.created_at, "bytes": answer.meta.bytes, "text": answer.text }),
    ))
}

/// `PUT /answers/{slot}`: stores a new version if the precondition holds (see
/// [`conditional::precondition`]). 201 for the first version, 200 after; 412 with the current
/// version on mismatch; 409 after submission.
pub async fn put_answer(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
    param: SlotParam,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, ApiError> {
    let precondition = conditional::precondition(&headers)?;
    if body.text.len() > ANSWER_TEXT_LIMIT {
        return Err(ApiError::too_large(format!(
            "the answer is {} bytes; an answer holds at most {} bytes ({} KiB)",
            body.text.len(),
            ANSWER_TEXT_LIMIT,
            ANSWER_TEXT_LIMIT / 1024
        )));
    }
    if body.text.contains('\0') {
        return Err(ApiError::unprocessable(
            "invalid_text",
            "the text contains a NUL character (\\u0000), which no answer file can hold",
        ));
    }
    let slot = &param.slot.id;
    let write = Write::Answer(i64::try_from(body.text.len()).unwrap_or(i64::MAX));
    state.quota.check(&state.db, &candidate.id, write).await?;
    let outcome = answers::put(&state.db, &candidate.id, slot, &precondition, &body.text).await?;
    match outcome {
        PutOutcome::Stored(meta) => {
            state.quota.record(&candidate.id, write);
            state.metrics.answer_stored();
            let status = if meta.version == 1 {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(saved(status, slot, &meta, false))
        }
        PutOutcome::Unchanged(meta) => Ok(saved(StatusCode::OK, slot, &meta, true)),
        PutOutcome::PreconditionFailed(current) => {
            state.metrics.answer_conflict();
            let detail = match &current {
                Some(c) => format!(
                    "the answer `{slot}` is at version {}; read it, merge your text, and retry \
                     with `If-Match: \"{}\"`",
                    c.version, c.version
                ),
                None => format!(
                    "the answer `{slot}` has no version yet; create it with `If-None-Match: *`"
                ),
            };
            let mut err = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                detail,
            )
            .with("current", json!(current));
            if let Some(c) = &current {
                err = err.header(header::ETAG, etag(c.version));
            }
            Err(err)
        }
        PutOutcome::Submitted => Err(submitted_error(&candidate.submitted_at)),
    }
}

fn saved(status: StatusCode, slot: &str, meta: &VersionMeta, unchanged: bool) -> Response {
    json_with(
        status,
        [(header::ETAG, etag(meta.version))],
        json!({ "slot": slot, "version": meta.version, "created_at": meta.created_at,
            "bytes": meta.bytes, "unchanged": unchanged }),
    )
}

/// 409 `submitted`: the candidate's answers, reports and work are frozen.
pub fn submitted_error(submitted_at: &Option<String>) -> ApiError {
    let when = submitted_at.as_deref().unwrap_or("earlier");
    ApiError::conflict(
        "submitted",
        format!("you submitted at {when}: answers and reports are read-only now"),
    )
}

/// `POST /reports`: an sre-check report, validated against the report schema; idempotent by its
/// digest (201 the first time, 200 with `duplicate: true` after).
pub async fn post_report(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the report as JSON with `Content-Type: application/json`",
        ));
    }
    let body = body.map_err(|e| bytes_rejection(&e))?;
    let manifest = challenge::manifest();
    let report = Report::from_json(&body)
        .and_then(|r| r.check_topics(manifest).map(|()| r))
        .map_err(|e| ApiError::unprocessable("invalid_report", e.to_string()))?;
    let warnings = challenge_warnings(&report.challenge.version);
    let write = Write::Report(i64::try_from(body.len()).unwrap_or(i64::MAX));
    if let Err(refused) = state.quota.check(&state.db, &candidate.id, write).await {
        // Sending a stored report again (a retried upload) stores nothing: never refused.
        if !reports::exists(&state.db, &candidate.id, &report.digest()).await? {
            return Err(refused);
        }
    }
    let (status, meta, duplicate) = match reports::store(&state.db, &candidate.id, &report).await? {
        StoreOutcome::Stored(meta) => {
            state.quota.record(&candidate.id, write);
            state.metrics.report_received("stored");
            (StatusCode::CREATED, meta, false)
        }
        StoreOutcome::Duplicate(meta) => {
            state.metrics.report_received("duplicate");
            (StatusCode::OK, meta, true)
        }
        StoreOutcome::Submitted => return Err(submitted_error(&candidate.submitted_at)),
    };
    Ok(json_with(
        status,
        [],
        json!({ "digest": meta.digest, "received_at": meta.received_at, "overall": meta.overall,
            "counts": meta.counts, "duplicate": duplicate, "warnings": warnings }),
    ))
}

/// The warning for a report made for another edition of the challenge than the server's.
pub fn challenge_warnings(version: &str) -> Vec<String> {
    let manifest = challenge::manifest();
    if version == manifest.challenge.version {
        return Vec::new();
    }
    vec![format!(
        "this report was made for challenge {version} but this server runs challenge {}: \
         update sre-check to the version of your invite",
        manifest.challenge.version
    )]
}

/// `GET /reports/latest`: the candidate's newest report as it was uploaded, for the site's results
/// page; 404 before the first upload.
pub async fn latest_report(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
) -> Result<Response, ApiError> {
    let body = reports::latest_body(&state.db, &candidate.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "no report uploaded yet: run `sre-check upload` in your working copy",
            )
        })?;
    Ok(json_text(body))
}

/// `POST /submit`: freezes the candidate's answers and reports. Idempotent: submitting again
/// answers with the first submission time.
pub async fn submit(
    State(state): State<AppState>,
    CandidateAuth(candidate): CandidateAuth,
) -> Result<Json<Value>, ApiError> {
    let submitted_at = crate::store::people::submit(&state.db, &candidate.id).await?;
    state.tokens.forget_candidate(&candidate.id);
    Ok(Json(json!({ "submitted_at": submitted_at })))
}
