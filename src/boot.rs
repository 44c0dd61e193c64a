//! What the page hands the app when it starts (written by `cargo xtask pages`): the manifest and
//! the starting texts as inline JSON, and the page prerendered, which the app replaces.
//!
//! The prerendered readme fragment is kept so that the app's first render shows it without a
//! request ([`take_prerendered`]); the same content is in the page already, so nothing moves.

use std::cell::RefCell;

use sre_model::site;

use crate::challenge::{self, Challenge};

thread_local! {
    /// The prerendered page's readme fragment: (its URL, e.g. `challenge/readme.html`, HTML).
    static PRERENDERED: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Reads the challenge from the page. The error is for the candidate: the page was not built by
/// the project's build (a stale or hand-made index.html).
pub fn challenge() -> Result<Challenge, String> {
    let manifest = script_text(site::element::MANIFEST);
    let starts = script_text(site::element::STARTING_TEXTS);
    match (manifest, starts) {
        (Some(manifest), Some(starts)) => challenge::parse(&manifest, &starts),
        _ => Err(format!(
            "this page does not carry the challenge (no #{} element): rebuild the site with \
             `trunk build`, whose post-build hook writes it",
            site::element::MANIFEST
        )),
    }
}

fn script_text(id: &str) -> Option<String> {
    leptos::prelude::document()
        .get_element_by_id(id)
        .and_then(|e| e.text_content())
}

/// Keeps the page's prerendered readme fragment, which is the one at `fragment_url`, for
/// [`take_prerendered`]. Call before mounting the app.
pub fn keep_prerendered(fragment_url: String) {
    let html = leptos::prelude::document()
        .query_selector(&format!("#{} article.markdown", site::element::PRERENDERED))
        .ok()
        .flatten()
        .map(|article| article.inner_html());
    if let Some(html) = html {
        PRERENDERED.with(|p| *p.borrow_mut() = Some((fragment_url, html)));
    }
}

/// The prerendered fragment at `fragment_url`, once, if the page was prerendered with it.
pub fn take_prerendered(fragment_url: &str) -> Option<String> {
    PRERENDERED.with(|p| {
        let mut p = p.borrow_mut();
        match p.as_ref() {
            Some((url, _)) if url == fragment_url => p.take().map(|(_, html)| html),
            _ => None,
        }
    })
}

/// Removes the prerendered page, once the app shows its own.
pub fn remove_prerendered() {
    if let Some(element) = leptos::prelude::document().get_element_by_id(site::element::PRERENDERED)
    {
        element.remove();
    }
}
