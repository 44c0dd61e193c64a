//! The HTTP application: the JSON API under /api/v1 and the site.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sqlx::AnyPool;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: AnyPool,
}

/// The whole application: API routes, then the site for everything else.
pub fn router(state: AppState, site: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .with_state(state);
    let app = Router::new().nest("/api/v1", api);
    match site {
        Some(dir) => app.merge(crate::site::router(&dir)),
        None => app,
    }
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match sqlx::query("SELECT 1").execute(&state.db).await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "database unreachable", "detail": e.to_string()})),
        ),
    }
}
