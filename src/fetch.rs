//! Fetching files of the site with the browser's `fetch`, relative to the page's base URL.
//!
//! Raw web-sys rather than gloo-net: a dozen lines, and gloo-net would add about 2 KB gzip to a
//! wasm that every candidate downloads.

use std::fmt;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// Why a file of the site could not be loaded, in words for the candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The URL, as requested.
    pub url: String,
    /// What went wrong: an HTTP status, a network error, a malformed file.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.reason)
    }
}

/// The body of `url` as text; any status other than 2xx is an error.
pub async fn fetch_text(url: String) -> Result<String, LoadError> {
    let fail = |reason: String| LoadError {
        url: url.clone(),
        reason,
    };
    let window = web_sys::window().ok_or_else(|| fail("no browser window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|e| fail(network_error(&e)))?
        .dyn_into()
        .map_err(|_| fail("the answer is not an HTTP response".into()))?;
    if !response.ok() {
        return Err(fail(format!(
            "HTTP {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let body = response.text().map_err(|e| fail(network_error(&e)))?;
    JsFuture::from(body)
        .await
        .map_err(|e| fail(network_error(&e)))?
        .as_string()
        .ok_or_else(|| fail("the body is not text".into()))
}

fn network_error(error: &JsValue) -> String {
    let message = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_default();
    if message.is_empty() {
        "network error (are you offline?)".to_owned()
    } else {
        format!("{message} (are you offline?)")
    }
}
