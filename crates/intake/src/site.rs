//! Serving the built candidate site (Trunk's dist/): files as they are, and index.html for every
//! other path so deep links like /topic/iac work on reload.
//!
//! - Precompressed files (`x.br`, `x.gz` next to `x`, made at build time) are sent to clients that
//!   accept them; other responses are compressed on the fly by the app's compression layer, which
//!   leaves already-encoded responses alone.
//! - Assets whose name carries a content hash (`sre-site-<16 hex>_bg.wasm`, as Trunk names them)
//!   never change under their name: cached for a year, `immutable`. Everything else, index.html
//!   first, must be revalidated (`no-cache`), so a deploy is seen on the next load.
//! - MIME types come from the file extension (`application/wasm` for .wasm, which browsers need
//!   for streaming compilation).
//! - `/install.sh` (and `/download/install.sh`) is the site's `download/install.sh` with this
//!   server's public address written in, so that `curl -fsSL <site>/install.sh | sh` downloads
//!   sre-check from the site it came from.

use std::path::Path;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The placeholder in `install.sh` that [`install_script`] replaces with the public address.
const SITE_URL_PLACEHOLDER: &str = "'@SITE_URL@'";

/// A router serving `dir`, falling back to its index.html; `public_url` goes into install.sh.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path, public_url: &str) -> Router<S> {
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let script = Arc::new(dir.join("download/install.sh"));
    let public_url: Arc<str> = public_url.into();
    let install = get(move || install_script(script.clone(), public_url.clone()));
    Router::new()
        .route("/install.sh", install.clone())
        .route("/download/install.sh", install)
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn(no_impossible_names))
}

/// Longest file name (Linux's `NAME_MAX`) and path (under `PATH_MAX`) a site file can have.
const LONGEST_NAME: usize = 255;
const LONGEST_PATH: usize = 4000;

/// 404 for a path no file can have: the file system refused to look it up (`ENAMETOOLONG`), which
/// was answered 500 with an ERROR log.
async fn no_impossible_names(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let decoded_len = |s: &str| percent_encoding::percent_decode_str(s).count();
    if decoded_len(path) > LONGEST_PATH || path.split('/').any(|s| decoded_len(s) > LONGEST_NAME) {
        return crate::error::ApiError::not_found("no such page").into_response();
    }
    next.run(request).await
}

/// The install script with `public_url` in place of its placeholder.
async fn install_script(path: Arc<PathBuf>, public_url: Arc<str>) -> Response {
    match tokio::fs::read_to_string(path.as_path()).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, "text/x-shellscript; charset=utf-8")],
            fill_in_site(&text, &public_url),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "no install script to serve");
            (
                StatusCode::NOT_FOUND,
                "This site publishes no sre-check builds: `cargo xtask dist` before the site build \
                 puts them in download/.\n",
            )
                .into_response()
        }
    }
}

/// `script` with its site placeholder replaced by `public_url`, quoted for sh (an address holds
/// no single quote; one that did is dropped rather than breaking the script).
pub fn fill_in_site(script: &str, public_url: &str) -> String {
    let quoted = format!("'{}'", public_url.replace('\'', ""));
    script.replacen(SITE_URL_PLACEHOLDER, &quoted, 1)
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_hashed_asset);
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().is_redirection() {
        let hashed_file = hashed && !is_html(&response);
        let value = if hashed_file { IMMUTABLE } else { REVALIDATE };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// A hashed asset answered with index.html (a miss) must not be cached for a year.
fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Whether a file name carries a content hash the way Trunk writes it: `-` then 16 lowercase hex
/// digits, then `.` or `_` (`index-0123456789abcdef.js`, `app-0123456789abcdef_bg.wasm`).
pub fn is_hashed_asset(name: &str) -> bool {
    name.match_indices('-').any(|(i, _)| {
        let rest = &name[i + 1..];
        rest.len() > 16
            && rest.as_bytes()[..16]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            && matches!(rest.as_bytes()[16], b'.' | b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_install_script_names_the_server() {
        let script = "#!/bin/sh\nSERVED_BY='@SITE_URL@'\necho '@SITE_URL@'\n";
        assert_eq!(
            fill_in_site(script, "https://challenge.example.com"),
            "#!/bin/sh\nSERVED_BY='https://challenge.example.com'\necho '@SITE_URL@'\n"
        );
        assert!(
            fill_in_site(script, "https://x'; rm -rf /; '")
                .contains("SERVED_BY='https://x; rm -rf /; '")
        );
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        for name in [
            "sre-site-0123456789abcdef_bg.wasm",
            "sre-site-0123456789abcdef.js",
            "style-fedcba9876543210.css",
        ] {
            assert!(is_hashed_asset(name), "{name}");
        }
        for name in [
            "index.html",
            "manifest.json",
            "screenshot-1.png",
            "sre-site-0123456789ABCDEF.js",
            "x-0123456789abcde.js",
            "x-0123456789abcdef",
        ] {
            assert!(!is_hashed_asset(name), "{name}");
        }
    }
}
