//! What the page hands the app when it starts (written by `cargo xtask pages`): the manifest and
//! the starting texts as inline JSON, and the page prerendered, which the app replaces.
//!
//! The prerendered readme fragment is kept so that the app's first render shows it without a
//! request ([`Prerendered`]); the same content is in the page already, so nothing moves.

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::{self, Challenge};

/// The prerendered page's readme fragment, provided as context by the reading app and taken by
/// the first page that shows it. Copyable.
#[derive(Debug, Clone, Copy)]
pub struct Prerendered {
    /// (its URL, e.g. `challenge/readme.html`, HTML), until taken.
    fragment: StoredValue<Option<(String, String)>>,
}

impl Prerendered {
    /// Keeps the page's prerendered readme fragment, which is the one at `fragment_url`. Call
    /// before the app replaces the prerendered page, under the owner that provides it.
    pub fn keep(fragment_url: Option<String>) -> Prerendered {
        let html = fragment_url.and_then(|url| {
            document()
                .query_selector(&format!("#{} article.markdown", site::element::PRERENDERED))
                .ok()
                .flatten()
                .map(|article| (url, article.inner_html()))
        });
        Prerendered {
            fragment: StoredValue::new(html),
        }
    }

    /// The prerendered fragment at `fragment_url`, once, if the page was prerendered with it.
    pub fn take(&self, fragment_url: &str) -> Option<String> {
        self.fragment
            .try_update_value(|kept| match kept {
                Some((url, _)) if url == fragment_url => kept.take().map(|(_, html)| html),
                _ => None,
            })
            .flatten()
    }
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
    document()
        .get_element_by_id(id)
        .and_then(|e| e.text_content())
}

/// Removes the prerendered page, once the app shows its own.
pub fn remove_prerendered() {
    if let Some(element) = document().get_element_by_id(site::element::PRERENDERED) {
        element.remove();
    }
}
