//! Reviewer routes for a candidate's submitted work: the submissions, one submission's files, one
//! file with its diff against the starter kit, a file's raw bytes, and the archive as sent.
//!
//! Everything a candidate sent is data: texts go out as JSON strings for the viewer to show as
//! text, raw bytes only as attachments (`application/octet-stream`, `nosniff` on every reply), so
//! no file is ever rendered or run by a reviewer's browser.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sre_model::submission::{FileKind, Limits, ListedFile, Listing, check_path};

use super::auth::ReviewerAuth;
use super::review::existing;
use super::{ApiPath, AppState};
use crate::error::ApiError;
use crate::store::submissions::{self, Stored};
use crate::{challenge, diff, work_files};

/// A file over this many bytes is not shown in the viewer (the reviewer downloads it instead).
pub const DISPLAY_LIMIT: u64 = 1024 * 1024;

/// `GET /candidates/{id}/submissions`: every submission, newest first.
pub async fn list(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    existing(&state, &id).await?;
    let stored = submissions::list(&state.db, &id).await?;
    let items: Vec<Value> = stored
        .iter()
        .map(|s| {
            json!({
                "digest": s.meta.digest,
                "received_at": s.meta.received_at,
                "bytes": s.meta.bytes,
                "file_count": s.meta.file_count,
                "report_digest": s.meta.report_digest,
                "challenge": challenge_of(s),
                "challenge_matches": matches(s),
            })
        })
        .collect();
    Ok(Json(json!({ "submissions": items })))
}

/// `GET /candidates/{id}/submissions/{digest}`: one submission with its files, sorted by path.
pub async fn one(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, digest)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stored = submission(&state, &id, &digest).await?;
    let listing = stored.listing()?;
    let archive = archive_of(&state, &id, &digest).await?;
    let limits = stored_limits(&state.work_limits);
    let binary = tokio::task::spawn_blocking(move || work_files::binary_paths(&archive, &limits))
        .await
        .map_err(|e| anyhow::anyhow!("reading a stored archive: {e}"))??;
    let mut files: Vec<&ListedFile> = listing.files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "kind": f.kind,
                "binary": binary.contains(&f.path),
            })
        })
        .collect();
    Ok(Json(json!({
        "digest": stored.meta.digest,
        "received_at": stored.meta.received_at,
        "bytes": stored.meta.bytes,
        "report_digest": stored.meta.report_digest,
        "challenge": challenge_of(&stored),
        "challenge_matches": matches(&stored),
        "files": files,
    })))
}

/// `GET /candidates/{id}/submissions/{digest}/files/{*path}`: one file, its text when it can be
/// shown, and for a changed file its diff against the starter.
pub async fn file(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, digest, path)): ApiPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (listed, bytes) = file_bytes(&state, &id, &digest, &path).await?;
    let too_large = listed.size > DISPLAY_LIMIT;
    let binary = work_files::is_binary(&bytes);
    let text = (!binary && !too_large).then(|| String::from_utf8_lossy(&bytes).into_owned());
    let starter = challenge::starter_file(&listed.path)
        .filter(|b| !work_files::is_binary(b))
        .map(String::from_utf8_lossy);
    let diff = match (&text, &listed.kind, starter) {
        (Some(text), FileKind::Changed, Some(starter)) => {
            let (starter, text) = (starter.into_owned(), text.clone());
            Some(
                tokio::task::spawn_blocking(move || diff::unified(&starter, &text))
                    .await
                    .map_err(|e| anyhow::anyhow!("diffing a file: {e}"))?,
            )
        }
        _ => None,
    };
    Ok(Json(json!({
        "path": listed.path,
        "kind": listed.kind,
        "size": listed.size,
        "sha256": listed.sha256,
        "binary": binary,
        "too_large": too_large,
        "text": text,
        "diff": diff,
    })))
}

/// `GET /candidates/{id}/submissions/{digest}/raw/{*path}`: the file's bytes as an attachment.
pub async fn raw(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, digest, path)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (listed, bytes) = file_bytes(&state, &id, &digest, &path).await?;
    let name = listed.path.rsplit('/').next().unwrap_or("file");
    Ok(attachment("application/octet-stream", name, bytes))
}

/// `GET /candidates/{id}/submissions/{digest}/archive`: the archive as the candidate sent it.
pub async fn archive(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, digest)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let stored = submission(&state, &id, &digest).await?;
    let bytes = archive_of(&state, &id, &digest).await?;
    let hex = stored.meta.digest.trim_start_matches("sha256:");
    let name = format!("{id}-{}.tar.gz", &hex[..hex.len().min(12)]);
    Ok(attachment("application/gzip", &name, bytes))
}

/// The limits for reading a stored archive: it passed `sre_work::verify` under the limits of its
/// day, which may have been higher than today's (`--submission-max-mib` lowered since), so each
/// is at least the default and at least the configured one.
fn stored_limits(configured: &Limits) -> Limits {
    let default = Limits::default();
    Limits {
        archive_bytes: configured.archive_bytes.max(default.archive_bytes),
        file_bytes: configured.file_bytes.max(default.file_bytes),
        files: configured.files.max(default.files),
        expanded_bytes: configured.expanded_bytes.max(default.expanded_bytes),
    }
}

/// A download: the browser saves it and never renders it.
fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    // Only characters that need no quoting or encoding in the header; the rest become `_`.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The submission, or 404.
async fn submission(state: &AppState, id: &str, digest: &str) -> Result<Stored, ApiError> {
    existing(state, id).await?;
    submissions::one(&state.db, id, digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no submission `{}`", digest.escape_debug())))
}

async fn archive_of(state: &AppState, id: &str, digest: &str) -> Result<Vec<u8>, ApiError> {
    submissions::archive(&state.db, id, digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no submission `{}`", digest.escape_debug())))
}

/// A listed file of a submission and its bytes; 400 for a path no file can have, 404 for one
/// the submission does not hold.
async fn file_bytes(
    state: &AppState,
    id: &str,
    digest: &str,
    path: &str,
) -> Result<(ListedFile, Vec<u8>), ApiError> {
    check_path(path).map_err(|e| {
        ApiError::bad_request("bad_path", format!("`{}`: {e}", path.escape_debug()))
    })?;
    let stored = submission(state, id, digest).await?;
    let listing: Listing = stored.listing()?;
    let listed = listing
        .files
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "submission {digest} has no file `{}`",
                path.escape_debug()
            ))
        })?;
    let archive = archive_of(state, id, digest).await?;
    let limits = stored_limits(&state.work_limits);
    let wanted = listed.path.clone();
    let bytes =
        tokio::task::spawn_blocking(move || sre_work::read_file(&archive, &wanted, &limits))
            .await
            .map_err(|e| anyhow::anyhow!("reading a stored archive: {e}"))?
            .map_err(|e| anyhow::anyhow!("a stored archive no longer reads: {e}"))?
            .ok_or_else(|| anyhow::anyhow!("{path} is listed but not in the stored archive"))?;
    Ok((listed, bytes))
}

fn challenge_of(stored: &Stored) -> Value {
    json!({ "version": stored.meta.challenge_version, "digest": stored.meta.challenge_digest })
}

fn matches(stored: &Stored) -> bool {
    challenge::matches(
        &stored.meta.challenge_version,
        &stored.meta.challenge_digest,
    )
}
