//! Client-side routing on the History API, relative to the page's base URL.
//!
//! A few lines instead of leptos_router, which would add about 42 KB gzip. Paths are relative to
//! the `<base href>` Trunk writes (`--public-url`, `/` by default), so the site works at any base
//! path. Every route has a file in dist/ (`topic/iac/index.html`, see `cargo xtask pages`), so a
//! plain static server serves deep links too. New pages (e.g. the reviewer's `/review`) add a
//! variant here, a case in [`Route::parse`] and a case in `crate::page`.

use leptos::ev;
use leptos::prelude::*;
use sre_model::{TopicId, site};
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, HtmlElement, MouseEvent, Url};

/// A page of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The main README and the list of topics.
    Home,
    /// One topic's instructions (`topic/<id>`).
    Topic(TopicId),
    /// Every answer, the export and the submission (`answers`).
    Answers,
    /// The checks of the uploaded reports (`results`).
    Results,
    /// Anything else.
    NotFound,
}

impl Route {
    /// The route of a path relative to the base URL (`""`, `topic/iac`).
    pub fn parse(relative: &str) -> Route {
        // `topic/iac/` and `topic/iac/index.html` are the files a static host serves.
        let path = relative.strip_suffix("index.html").unwrap_or(relative);
        let path = path.trim_end_matches('/');
        match path.split_once('/') {
            None if path.is_empty() => Route::Home,
            None if path == site::ANSWERS_ROUTE => Route::Answers,
            None if path == site::RESULTS_ROUTE => Route::Results,
            Some(("topic", id)) => id.parse().map_or(Route::NotFound, Route::Topic),
            _ => Route::NotFound,
        }
    }

    /// The readme fragment this page shows, if any.
    pub fn fragment(&self) -> Option<String> {
        match self {
            Route::Home => Some(site::README_FRAGMENT.to_owned()),
            Route::Topic(id) => Some(site::topic_fragment(id)),
            Route::Answers | Route::Results | Route::NotFound => None,
        }
    }
}

/// The current route, kept in step with the address bar.
#[derive(Debug, Clone, Copy)]
pub struct Router {
    /// The page to show.
    pub route: ReadSignal<Route>,
}

impl Router {
    /// Reads the route from the address bar and follows it: back/forward buttons, and clicks on
    /// links to a page of the site, which change the address without reloading.
    pub fn start() -> Router {
        let base = base_path();
        let (route, set_route) = signal(current_route(&base));

        let popstate_base = base.clone();
        // The handles are dropped on purpose: the app lives as long as the page.
        let _ = window_event_listener(ev::popstate, move |_| {
            set_route.set(current_route(&popstate_base));
        });
        let _ = window_event_listener(ev::click, move |event| {
            if let Some((href, next)) = page_link(&event, &base) {
                event.prevent_default();
                // A link to the page already shown (the header title on the home page) adds no
                // history entry.
                if window().location().href().ok().as_deref() != Some(href.as_str()) {
                    let _ = window().history().and_then(|h| {
                        h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href))
                    });
                    set_route.set(next);
                }
                window().scroll_to_with_x_and_y(0.0, 0.0);
                focus_main();
            }
        });
        Router { route }
    }
}

/// Moves the focus to the page's content (after a navigation, and for the skip link), so that
/// keyboard and screen reader users start there instead of at a link that no longer exists.
pub fn focus_main() {
    if let Some(main) = document()
        .get_element_by_id("main")
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

/// The path of the base URL, e.g. `/` or `/challenge/`.
pub fn base_path() -> String {
    document()
        .base_uri()
        .ok()
        .flatten()
        .and_then(|base| Url::new(&base).ok())
        .map_or_else(|| "/".to_owned(), |url| url.pathname())
}

/// The route the address bar names now.
pub fn current_route(base: &str) -> Route {
    let path = window().location().pathname().unwrap_or_default();
    path.strip_prefix(base)
        .map_or(Route::NotFound, Route::parse)
}

/// The address and route of a click on a link to another page of the site, or `None` when the
/// browser should handle the click itself (new tab, download, another site, a file, an anchor on
/// this page).
fn page_link(event: &MouseEvent, base: &str) -> Option<(String, Route)> {
    let (href, relative) = site_link(event, base)?;
    let route = Route::parse(&relative);
    (route != Route::NotFound).then_some((href, route))
}

/// The address and the path relative to the base URL of a plain click on a link to another page
/// of this site, or `None` when the browser should handle the click itself (see [`page_link`];
/// the reviewer view's navigation uses it too).
pub fn site_link(event: &MouseEvent, base: &str) -> Option<(String, String)> {
    if event.default_prevented()
        || event.button() != 0
        || event.ctrl_key()
        || event.meta_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let target: web_sys::Element = event.target()?.dyn_into().ok()?;
    let anchor: HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    if !anchor.target().is_empty() || anchor.has_attribute("download") {
        return None;
    }
    // `#main` (the skip link) names a place on this page, whatever the base URL resolves it to.
    if anchor.get_attribute("href")?.starts_with('#') {
        return None;
    }
    let href = anchor.href();
    let url = Url::new(&href).ok()?;
    let location = window().location();
    if url.origin() != location.origin().ok()? {
        return None;
    }
    let path = url.pathname();
    if path == location.pathname().ok()? && !url.hash().is_empty() {
        // An anchor on this page: the browser scrolls to it.
        return None;
    }
    let relative = path.strip_prefix(base)?.to_owned();
    Some((href, relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(id: &str) -> TopicId {
        id.parse().unwrap()
    }

    #[test]
    fn routes_parse_from_paths_relative_to_the_base() {
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("index.html"), Route::Home);
        assert_eq!(Route::parse("topic/iac"), Route::Topic(topic("iac")));
        assert_eq!(
            Route::parse("topic/postgres/"),
            Route::Topic(topic("postgres"))
        );
        // Any well-formed id is a topic route; a page of a topic the challenge lacks is "not
        // found" (see `crate::page`).
        assert_eq!(
            Route::parse("topic/kubernetes"),
            Route::Topic(topic("kubernetes"))
        );
        assert_eq!(Route::parse("topic/Kubernetes!"), Route::NotFound);
        assert_eq!(Route::parse("content/feedback.txt"), Route::NotFound);
        assert_eq!(Route::parse("topic"), Route::NotFound);
        assert_eq!(Route::parse("topic/iac/"), Route::Topic(topic("iac")));
        assert_eq!(
            Route::parse("topic/iac/index.html"),
            Route::Topic(topic("iac"))
        );
        assert_eq!(Route::parse("answers"), Route::Answers);
        assert_eq!(Route::parse("results/"), Route::Results);
        assert_eq!(Route::parse("invite/abc"), Route::NotFound);
        assert_eq!(
            Route::Home.fragment().as_deref(),
            Some("challenge/readme.html")
        );
        assert_eq!(Route::Answers.fragment(), None);
    }
}
