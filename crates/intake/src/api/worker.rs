//! Worker routes (issue 17): a verification worker (`sre-verify`, with a token from
//! `sre-intake worker create`) claims the oldest unverified submission under a lease, downloads
//! its archive, renews the lease while it runs the checks, and finishes with the verified report
//! or an error. The token reaches nothing else; the lease id in the path is checked against the
//! worker that holds it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sre_model::Report;

use super::auth::WorkerAuth;
use super::{ApiJson, ApiPath, AppState};
use crate::error::ApiError;
use crate::store::reports;
use crate::store::verification::{self, Outcome, Runtime};

/// Lease length when the worker does not ask for one.
const DEFAULT_LEASE_SECONDS: u64 = 120;

/// Most bytes of an error message a worker reports.
const ERROR_LIMIT: usize = 4096;

/// The body of `POST /worker/claim` and of a heartbeat.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseBody {
    /// How long the lease lasts unless renewed (5 to 3,600 s; default 120).
    #[serde(default)]
    pub lease_seconds: Option<u64>,
}

impl LeaseBody {
    fn seconds(&self) -> Result<u64, ApiError> {
        let seconds = self.lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
        if !verification::LEASE_SECONDS.contains(&seconds) {
            return Err(ApiError::unprocessable(
                "invalid_lease",
                format!(
                    "lease_seconds is {seconds}; ask for {} to {} seconds",
                    verification::LEASE_SECONDS.start(),
                    verification::LEASE_SECONDS.end()
                ),
            ));
        }
        Ok(seconds)
    }
}

/// `POST /worker/claim`: 200 with the job, or 204 when nothing waits.
pub async fn claim(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    ApiJson(body): ApiJson<LeaseBody>,
) -> Result<Response, ApiError> {
    let seconds = body.seconds()?;
    match verification::claim(&state.db, &worker.id, seconds).await? {
        Some(job) => {
            state.metrics.verification_claimed();
            tracing::info!(worker = %worker.name, submission = %job.submission.id, attempt = job.attempt, "verification claimed");
            Ok(Json(json!(job)).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// `GET /worker/jobs/{lease}/archive`: the submission's archive, as the candidate sent it.
pub async fn archive(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    ApiPath(lease): ApiPath<String>,
) -> Result<Response, ApiError> {
    let bytes = verification::archive(&state.db, &worker.id, &lease)
        .await?
        .ok_or_else(lease_lost)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/gzip"),
        )],
        bytes,
    )
        .into_response())
}

/// `POST /worker/jobs/{lease}/heartbeat`: renews the lease.
pub async fn heartbeat(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    ApiPath(lease): ApiPath<String>,
    ApiJson(body): ApiJson<LeaseBody>,
) -> Result<Json<Value>, ApiError> {
    let seconds = body.seconds()?;
    let expires = verification::heartbeat(&state.db, &worker.id, &lease, seconds)
        .await?
        .ok_or_else(lease_lost)?;
    Ok(Json(json!({ "lease_expires_at": expires })))
}

/// The body of `POST /worker/jobs/{lease}/finish`: the verified report, or why there is none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishBody {
    /// The default runtime of the worker's Docker engine (e.g. `runsc`).
    pub runtime: String,
    /// Whether that runtime is a sandbox; `false` only for a worker started with `--unsandboxed`.
    pub sandboxed: bool,
    /// The report the checks produced.
    #[serde(default)]
    pub report: Option<Value>,
    /// Why the checks could not run.
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /worker/jobs/{lease}/finish`: stores the verified report (or the error) once; 409 when
/// the lease expired and another worker took the job.
pub async fn finish(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    ApiPath(lease): ApiPath<String>,
    ApiJson(body): ApiJson<FinishBody>,
) -> Result<Json<Value>, ApiError> {
    if body.runtime.is_empty() || body.runtime.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_finish",
            "runtime is the engine's default runtime, 1 to 100 characters",
        ));
    }
    let held = verification::held(&state.db, &worker.id, &lease)
        .await?
        .ok_or_else(lease_lost)?;
    let runtime = Runtime {
        name: &body.runtime,
        sandboxed: body.sandboxed,
    };
    let finished = match (&body.report, &body.error) {
        (Some(value), None) => {
            let bytes = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
            let report = Report::from_json(&bytes)
                .map_err(|e| ApiError::unprocessable("invalid_report", e.to_string()))?;
            let claimed = reports::body(&state.db, &held.candidate_id, &held.report_digest)
                .await?
                .ok_or_else(|| {
                    ApiError::internal(&anyhow::anyhow!(
                        "the report of submission {} is missing",
                        held.submission_id
                    ))
                })?;
            let claimed = Report::from_json(claimed.as_bytes())
                .map_err(|e| ApiError::internal(&anyhow::anyhow!("stored report: {e}")))?;
            let disagreements = verification::disagreements(&claimed, &report);
            let outcome = Outcome::Verified {
                report: &report,
                disagreements,
            };
            let done =
                verification::finish(&state.db, &worker.id, &lease, &runtime, &outcome).await?;
            tracing::info!(worker = %worker.name, submission = %held.submission_id, overall = report.overall().as_str(), disagreements, runtime = %body.runtime, "verification finished");
            done
        }
        (None, Some(error)) => {
            let error: String = error.chars().take(ERROR_LIMIT).collect();
            let outcome = Outcome::Error(&error);
            let done =
                verification::finish(&state.db, &worker.id, &lease, &runtime, &outcome).await?;
            tracing::warn!(worker = %worker.name, submission = %held.submission_id, error = %error, "verification failed");
            done
        }
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_finish",
                "send either `report` (the verified report) or `error` (why there is none)",
            ));
        }
    };
    if !finished {
        return Err(lease_lost());
    }
    state
        .metrics
        .verification_finished(if body.error.is_some() {
            "error"
        } else {
            "verified"
        });
    Ok(Json(
        json!({ "submission": held.submission_id, "state": if body.error.is_some() { "error" } else { "verified" } }),
    ))
}

fn lease_lost() -> ApiError {
    ApiError::conflict(
        "lease_lost",
        "this lease is not held by this worker any more (it expired and another worker took the \
         job, or the job finished): drop the job and claim the next",
    )
}
