//! The part of the reviewer view that lives in the candidate's wasm: recognising a reviewer
//! address and fetching the reviewer app, a wasm of its own.
//!
//! The reviewer app (sre-markdown, the rubric, the scoring calls) would cost every candidate's
//! first load. Trunk builds it from the `review` binary without a content hash (`review.js` and
//! `review_bg.wasm`, wasm-bindgen's `no-modules` output, which also runs on a page) and copies
//! `review.css`; nothing in index.html loads them. On a `/review` address the site runs
//! [`load`] instead of its own app.

use leptos::prelude::document;

use crate::boot;

/// The route of the reviewer view, relative to the base URL; candidates are under `review/<id>`.
pub const REVIEW_ROUTE: &str = "review";

/// The reviewer app's script, relative to the base URL.
const APP_SCRIPT: &str = "review.js";
/// Its wasm.
const APP_WASM: &str = "review_bg.wasm";
/// Its stylesheet.
const APP_STYLESHEET: &str = "review.css";
/// The element that says the reviewer view is loading; the app removes it when it starts.
pub const PLACEHOLDER_ID: &str = "review-loading";

/// Whether the address bar shows a page of the reviewer view (`review`, `review/<candidate>`).
pub fn is_review_address(base: &str) -> bool {
    let path = leptos::prelude::window()
        .location()
        .pathname()
        .unwrap_or_default();
    path.strip_prefix(base).is_some_and(is_review_path)
}

/// Whether a path relative to the base URL is one of the reviewer view.
pub fn is_review_path(relative: &str) -> bool {
    relative
        .strip_prefix(REVIEW_ROUTE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Replaces the prerendered page with a loading message and starts the reviewer app.
pub fn load() {
    // sre-intake answers every page address with index.html, which carries the home page.
    boot::remove_prerendered();
    let document = document();
    document.set_title("Review — SRE Challenge");
    let Some(body) = document.body() else { return };
    if let Ok(note) = document.create_element("p") {
        note.set_id(PLACEHOLDER_ID);
        note.set_class_name("status");
        let _ = note.set_attribute("role", "status");
        note.set_text_content(Some("Loading the reviewer view…"));
        let _ = body.append_child(&note);
    }
    if let (Some(head), Ok(link)) = (document.head(), document.create_element("link")) {
        let _ = link.set_attribute("rel", "stylesheet");
        let _ = link.set_attribute("href", APP_STYLESHEET);
        let _ = head.append_child(&link);
    }
    crate::lazy_app::load(APP_SCRIPT, APP_WASM, failed);
}

/// Says in the placeholder why the reviewer view is not there.
fn failed(reason: &str) {
    if let Some(note) = document().get_element_by_id(PLACEHOLDER_ID) {
        note.set_class_name("status error");
        let _ = note.set_attribute("role", "alert");
        note.set_text_content(Some(&format!(
            "The reviewer view could not load: {reason}. Reload the page to try again."
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviewer_paths_are_recognised() {
        assert!(is_review_path("review"));
        assert!(is_review_path("review/"));
        assert!(is_review_path("review/c-123"));
        assert!(!is_review_path("reviews"));
        assert!(!is_review_path("topic/review"));
        assert!(!is_review_path(""));
    }
}
