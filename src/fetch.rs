//! HTTP with the browser's `fetch`: files of the site (relative to the page's base URL) and
//! sre-intake's API.
//!
//! Raw web-sys rather than gloo-net: a few dozen lines, and gloo-net would add about 2 KB gzip to
//! a wasm that every candidate downloads.

use std::fmt;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

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
    let reply = request("GET", &url, &[], None).await.map_err(fail)?;
    if !(200..300).contains(&reply.status) {
        return Err(fail(format!("HTTP {}", reply.status)));
    }
    Ok(reply.body)
}

/// A file of the site fetched in the background into a signal. A plain signal and task rather
/// than Leptos's `LocalResource`, whose async machinery would weigh on the reading app's wasm.
#[derive(Debug, Clone, Copy)]
pub struct FetchedText {
    /// `None` while loading, then the text or why it did not load.
    pub state: RwSignal<Option<Result<String, LoadError>>>,
    url: StoredValue<String>,
}

impl FetchedText {
    /// Starts fetching `url` (relative to the base URL).
    pub fn new(url: String) -> FetchedText {
        let fetched = FetchedText {
            state: RwSignal::new(None),
            url: StoredValue::new(url),
        };
        fetched.reload();
        fetched
    }

    /// Fetches the file again.
    pub fn reload(self) {
        let Some(url) = self.url.try_get_value() else {
            return;
        };
        self.state.set(None);
        spawn_local(async move {
            let text = fetch_text(url).await;
            // The page may have gone meanwhile, with its signal.
            let _ = self.state.try_set(Some(text));
        });
    }
}

/// An HTTP answer: status, body, and the one header the site reads (`Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// `Retry-After`, in seconds, when the server sent one.
    pub retry_after: Option<u32>,
}

/// One request; the error is a network failure (no HTTP answer), in words for the candidate.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let init = RequestInit::new();
    init.set_method(method);
    if !headers.is_empty() {
        let list = Headers::new().map_err(|e| network_error(&e))?;
        for (name, value) in headers {
            list.set(name, value).map_err(|e| network_error(&e))?;
        }
        init.set_headers(&list);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| network_error(&e))?
        .dyn_into()
        .map_err(|_| "the answer is not an HTTP response".to_owned())?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    let text = response.text().map_err(|e| network_error(&e))?;
    let body = JsFuture::from(text)
        .await
        .map_err(|e| network_error(&e))?
        .as_string()
        .ok_or("the body is not text")?;
    Ok(Reply {
        status: response.status(),
        body,
        retry_after,
    })
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
