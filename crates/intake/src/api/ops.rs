//! Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use crate::error::ApiError;

/// `GET /healthz`: the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers within 2 s and no write found its disk full in the last
/// 30 s; 503 otherwise, so a load balancer stops sending traffic while the database is away.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if crate::error::disk_full::recently() {
        return Err(not_ready(
            "the database's disk was full a moment ago: writes fail; free space on it",
        ));
    }
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "readiness: database unreachable"
            );
            Err(not_ready("the database does not answer"))
        }
        Err(_) => Err(not_ready("the database did not answer within 2 s")),
    }
}

fn not_ready(detail: &str) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", detail)
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The queue lives in the database (several servers may share it): counted at each scrape.
    match crate::store::verification::queue_stats(&state.db).await {
        Ok(stats) => state.metrics.set_verification_queue(stats),
        Err(err) => tracing::warn!(error = %err, "counting the verification queue failed"),
    }
    let text = state
        .metrics
        .encode()
        .map_err(|e| ApiError::internal(&anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}
