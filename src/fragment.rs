//! An HTML fragment that the build step rendered from markdown, fetched and shown as it is.
//!
//! `inner_html` is safe here only because the fragment is ours: `cargo xtask render` made it with
//! sre-markdown, which escapes raw HTML and drops unsafe URLs. Never use it for text a candidate
//! or a server typed.

use leptos::prelude::*;

use crate::fetch::fetch_text;
use crate::status::{load_failed, loading};

/// Fetches `url` (relative to the base URL) and shows it as an article.
#[component]
pub fn Fragment(
    /// The fragment, e.g. `challenge/readme.html`.
    url: String,
    /// What it is, for the loading and error messages ("the README").
    what: &'static str,
) -> impl IntoView {
    let html = LocalResource::new(move || fetch_text(url.clone()));
    move || match html.get() {
        None => loading(what).into_any(),
        Some(Ok(html)) => view! { <article class="markdown" inner_html=html></article> }.into_any(),
        Some(Err(error)) => load_failed(what, error, move || html.refetch()).into_any(),
    }
}
