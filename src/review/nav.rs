//! The reviewer view's pages and History API navigation between them: the list (`review`) and
//! a candidate (`review/<id>`), relative to the base URL like every page of the site.

use leptos::ev;
use leptos::prelude::*;
use web_sys::MouseEvent;

use super::loader::REVIEW_ROUTE;
use crate::route::{base_path, site_link};

/// A page of the reviewer view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Every candidate, and the export.
    List,
    /// One candidate, by server id.
    Candidate(String),
    /// Anything else under `review/`.
    NotFound,
}

impl Page {
    /// The page of a path relative to the base URL (`review`, `review/<id>`).
    pub fn parse(relative: &str) -> Page {
        let Some(rest) = relative.strip_prefix(REVIEW_ROUTE) else {
            return Page::NotFound;
        };
        let rest = rest.trim_matches('/');
        if rest.is_empty() {
            Page::List
        } else if !rest.contains('/') {
            let id =
                js_sys::decode_uri_component(rest).map_or_else(|_| rest.to_owned(), String::from);
            Page::Candidate(id)
        } else {
            Page::NotFound
        }
    }
}

/// The address of a candidate's page, relative to the base URL.
pub fn candidate_href(id: &str) -> String {
    format!("{REVIEW_ROUTE}/{}", js_sys::encode_uri_component(id))
}

/// The page the address bar shows, kept in step with it.
pub fn start() -> ReadSignal<Page> {
    let base = base_path();
    let (page, set_page) = signal(current(&base));
    let popstate_base = base.clone();
    // The app lives as long as the page: the handles are dropped on purpose.
    let _ = window_event_listener(ev::popstate, move |_| set_page.set(current(&popstate_base)));
    let _ = window_event_listener(ev::click, move |event| {
        if let Some((href, next)) = review_link(&event, &base) {
            event.prevent_default();
            let _ = window()
                .history()
                .and_then(|h| h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href)));
            set_page.set(next);
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
    });
    page
}

fn current(base: &str) -> Page {
    let path = window().location().pathname().unwrap_or_default();
    path.strip_prefix(base).map_or(Page::NotFound, Page::parse)
}

/// A plain click on a link to another page of the reviewer view.
fn review_link(event: &MouseEvent, base: &str) -> Option<(String, Page)> {
    let (href, relative) = site_link(event, base)?;
    let page = Page::parse(&relative);
    (page != Page::NotFound).then_some((href, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_parse_from_paths() {
        assert_eq!(Page::parse("review"), Page::List);
        assert_eq!(Page::parse("review/"), Page::List);
        assert_eq!(Page::parse("topic/iac"), Page::NotFound);
        assert_eq!(Page::parse("review/a/b"), Page::NotFound);
    }
}
