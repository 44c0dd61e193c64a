//! Serving the built candidate site (Trunk's dist/): files as they are, and index.html for every
//! other path so deep links like /topic/iac work on reload.

use std::path::Path;

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// A router serving `dir`, falling back to its index.html.
pub fn router(dir: &Path) -> Router {
    let index = ServeFile::new(dir.join("index.html"));
    Router::new().fallback_service(ServeDir::new(dir).fallback(index))
}
