//! The reviewer view's pages and History API navigation between them: the list (`review`), a
//! candidate (`review/<id>`) and their submitted work (`review/<id>/work`, the submission, file and
//! line in the query), relative to the base URL like every page of the site.

use leptos::ev;
use leptos::prelude::*;
use web_sys::{MouseEvent, UrlSearchParams};

use super::loader::REVIEW_ROUTE;
use crate::route::{base_path, site_link};

/// The last segment of a Work page's path.
const WORK_SEGMENT: &str = "work";

/// A page of the reviewer view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Every candidate, and the export.
    List,
    /// One candidate, by server id.
    Candidate(String),
    /// One candidate's submitted work, by server id.
    Work(String),
    /// Anything else under `review/`.
    NotFound,
}

impl Page {
    /// The page of a path relative to the base URL (`review`, `review/<id>`, `review/<id>/work`).
    pub fn parse(relative: &str) -> Page {
        let Some(rest) = relative.strip_prefix(REVIEW_ROUTE) else {
            return Page::NotFound;
        };
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Page::NotFound;
        }
        let rest = rest.trim_matches('/');
        if rest.is_empty() {
            return Page::List;
        }
        match rest.split_once('/') {
            None => Page::Candidate(decoded(rest)),
            Some((id, WORK_SEGMENT)) if !id.is_empty() => Page::Work(decoded(id)),
            Some(_) => Page::NotFound,
        }
    }
}

fn decoded(segment: &str) -> String {
    js_sys::decode_uri_component(segment).map_or_else(|_| segment.to_owned(), String::from)
}

fn encoded(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

/// What a Work page shows, from its query: which submission (`None`: the latest), which file,
/// which line of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkQuery {
    /// The submission's digest.
    pub submission: Option<String>,
    /// The file's path in the working copy.
    pub file: Option<String>,
    /// A line of the file (1-based, in the submitted file) to scroll to and highlight.
    pub line: Option<u32>,
}

impl WorkQuery {
    fn from_search(search: &str) -> WorkQuery {
        let Ok(params) = UrlSearchParams::new_with_str(search) else {
            return WorkQuery::default();
        };
        let get = |name: &str| params.get(name).filter(|v| !v.is_empty());
        WorkQuery {
            submission: get("submission"),
            file: get("file"),
            line: get("line").and_then(|l| l.parse().ok()),
        }
    }
}

/// The address of a candidate's page, relative to the base URL.
pub fn candidate_href(id: &str) -> String {
    format!("{REVIEW_ROUTE}/{}", encoded(id))
}

/// The address of a candidate's Work page showing `query`, relative to the base URL.
pub fn work_href(id: &str, query: &WorkQuery) -> String {
    let mut href = format!("{REVIEW_ROUTE}/{}/{WORK_SEGMENT}", encoded(id));
    let mut separator = '?';
    let mut add = |name: &str, value: &str| {
        href.push(separator);
        href.push_str(name);
        href.push('=');
        href.push_str(&encoded(value));
        separator = '&';
    };
    if let Some(digest) = &query.submission {
        add("submission", digest);
    }
    if let Some(file) = &query.file {
        add("file", file);
    }
    if let Some(line) = query.line {
        add("line", &line.to_string());
    }
    href
}

/// Where the reviewer is: the page, and the Work page's query.
#[derive(Debug, Clone, Copy)]
pub struct Location {
    /// The page (changes only when the page does, not with the query).
    pub page: Memo<Page>,
    /// The query of the address (what a Work page shows).
    pub query: Memo<WorkQuery>,
}

/// Where the address bar is, kept in step with it.
pub fn start() -> Location {
    let base = base_path();
    let (now, set_now) = signal(current(&base));
    let popstate_base = base.clone();
    // The app lives as long as the page: the handles are dropped on purpose.
    let _ = window_event_listener(ev::popstate, move |_| set_now.set(current(&popstate_base)));
    let _ = window_event_listener(ev::click, move |event| {
        if let Some(href) = review_link(&event, &base) {
            event.prevent_default();
            let _ = window()
                .history()
                .and_then(|h| h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href)));
            let next = current(&base);
            // Another file of the same Work page keeps the place; another page starts at its top.
            if next.0 != now.get_untracked().0 {
                window().scroll_to_with_x_and_y(0.0, 0.0);
            }
            set_now.set(next);
        }
    });
    Location {
        page: Memo::new(move |_| now.with(|n| n.0.clone())),
        query: Memo::new(move |_| now.with(|n| n.1.clone())),
    }
}

fn current(base: &str) -> (Page, WorkQuery) {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let page = path.strip_prefix(base).map_or(Page::NotFound, Page::parse);
    let query = WorkQuery::from_search(&location.search().unwrap_or_default());
    (page, query)
}

/// The address of a plain click on a link to another page of the reviewer view.
fn review_link(event: &MouseEvent, base: &str) -> Option<String> {
    let (href, relative) = site_link(event, base)?;
    (Page::parse(&relative) != Page::NotFound).then_some(href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_parse_from_paths() {
        assert_eq!(Page::parse("review"), Page::List);
        assert_eq!(Page::parse("review/"), Page::List);
        assert_eq!(Page::parse("topic/iac"), Page::NotFound);
        assert_eq!(Page::parse("reviews"), Page::NotFound);
        assert_eq!(Page::parse("review/a/b"), Page::NotFound);
    }
}
