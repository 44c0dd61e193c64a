//! The SRE Challenge candidate site: a Leptos app rendered in the browser.
//!
//! It shows what `cargo xtask render` published next to it (see `sre_model::site`): the manifest
//! and the readmes as HTML fragments. Markdown is never parsed here; that keeps the wasm small.
//!
//! - [`route`]: which page the address bar names, on the History API.
//! - [`home`], [`topic_page`]: one module per page; [`topic_list`], [`fragment`], [`status`]:
//!   their parts.
//! - [`challenge`], [`fetch`]: loading what the build step published.

pub mod challenge;
pub mod fetch;
pub mod fragment;
pub mod home;
pub mod route;
pub mod status;
pub mod topic_list;
pub mod topic_page;

use std::sync::Arc;

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::{Challenge, load_manifest};
use crate::home::Home;
use crate::route::{Route, Router};
use crate::status::{load_failed, loading};
use crate::topic_page::TopicPage;

/// The whole site: a header, and the page the address names once the manifest is loaded.
#[component]
pub fn App() -> impl IntoView {
    let router = Router::start();
    let challenge = LocalResource::new(load_manifest);
    let loaded = move || challenge.get().and_then(Result::ok);

    Effect::new(move || {
        if let Some(m) = loaded() {
            document().set_title(&page_title(&m, router.route.get()));
        }
    });

    let title = move || loaded().map_or_else(|| "SRE Challenge".to_owned(), |m| m.title.clone());
    let page = move || match challenge.get() {
        None => loading("the challenge").into_any(),
        Some(Err(error)) => {
            load_failed("the challenge", error, move || challenge.refetch()).into_any()
        }
        Some(Ok(m)) => page(m, router.route.get()),
    };

    view! {
        <header class="site-header">
            <a class="site-title" href=site::HOME_ROUTE>{title}</a>
        </header>
        <main id="main" tabindex="-1">{page}</main>
    }
}

fn page(challenge: Arc<Challenge>, route: Route) -> AnyView {
    match route {
        Route::Home => view! { <Home challenge /> }.into_any(),
        Route::Topic(id) => match challenge.topic(id) {
            Some(topic) => view! { <TopicPage topic=topic.clone() /> }.into_any(),
            None => not_found().into_any(),
        },
        Route::NotFound => not_found().into_any(),
    }
}

fn not_found() -> impl IntoView {
    view! {
        <div class="status" role="alert">
            <h1>"Page not found"</h1>
            <p>"This address is not a page of the challenge. "
                <a href=site::HOME_ROUTE>"Go to the start"</a> "."</p>
        </div>
    }
}

/// The document title: the topic's (when on a topic page), then the challenge's.
fn page_title(challenge: &Challenge, route: Route) -> String {
    let title = &challenge.title;
    match route {
        Route::Topic(id) => challenge.topic(id).map_or_else(
            || title.clone(),
            |t| format!("{}. {} — {title}", t.roman(), t.title),
        ),
        Route::Home | Route::NotFound => title.clone(),
    }
}
