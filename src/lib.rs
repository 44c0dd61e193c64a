//! The SRE Challenge candidate site: a Leptos app rendered in the browser.
//!
//! It shows what `cargo xtask render` published next to it (see `sre_model::site`): the manifest
//! and the readmes as HTML fragments, each page prerendered by `cargo xtask pages`. Markdown is
//! never parsed in this wasm: the answer preview runs sre-markdown in a worker loaded on first
//! use ([`preview`]). That keeps the first load small.
//!
//! - [`boot`]: what the page hands the app; [`route`]: which page the address names.
//! - Pages: [`home`], [`topic_page`], [`answers_page`], [`results`]; their parts: [`header`],
//!   [`topic_list`], [`fragment`], [`files`], [`editor`], [`status`].
//! - The candidate's answers: [`answers`] (live state, autosave), [`storage`] (localStorage),
//!   [`sync`] and [`api`] (sre-intake), [`invite`], [`export`], [`preview`].
//! - [`challenge`], [`fetch`]: what the build step published, and loading it.
//! - [`review`]: the reviewer's view (`/review`), a wasm of its own; only its small loader is
//!   part of this one.

pub mod answers;
pub mod answers_page;
pub mod api;
pub mod boot;
pub mod challenge;
pub mod editor;
pub mod export;
pub mod fetch;
pub mod files;
pub mod fragment;
pub mod header;
pub mod home;
pub mod invite;
pub mod preview;
pub mod results;
pub mod review;
pub mod route;
pub mod status;
pub mod storage;
pub mod sync;
pub mod topic_list;
pub mod topic_page;

use std::sync::Arc;

use leptos::ev;
use leptos::prelude::*;
use sre_model::site;

use crate::answers::Answers;
use crate::answers_page::AnswersPage;
use crate::challenge::Challenge;
use crate::header::Header;
use crate::home::Home;
use crate::results::ResultsPage;
use crate::route::{Route, Router};
use crate::storage::Invite;
use crate::topic_page::TopicPage;

/// Starts the site on the page: takes an invite from the address, mounts the app, and removes the
/// prerendered page it replaces.
pub fn start() {
    let base = route::base_path();
    if review::loader::is_review_address(&base) {
        review::loader::load();
        return;
    }
    let invite = invite::take_from_address(&base);
    if let Some(url) = route::current_route(&base).fragment() {
        boot::keep_prerendered(url);
    }
    let challenge = boot::challenge();
    leptos::mount::mount_to_body(move || view! { <App challenge invite /> });
    boot::remove_prerendered();
}

/// The whole site: a header, and the page the address names.
#[component]
pub fn App(
    /// The challenge, or why the page does not carry it.
    challenge: Result<Challenge, String>,
    /// The invite this browser holds, if any.
    invite: Option<Invite>,
) -> impl IntoView {
    let challenge = match challenge {
        Ok(challenge) => Arc::new(challenge),
        Err(reason) => {
            return view! {
                <main id="main" class="status error" role="alert">
                    <h1>"The challenge could not start"</h1>
                    <p>{reason}</p>
                </main>
            }
            .into_any();
        }
    };
    let answers = Answers::load(&challenge);
    let sync = sync::start(&answers, invite);
    provide_context(answers.clone());
    provide_context(sync);
    provide_context(results::load_latest());
    let router = Router::start();

    // Typing that waits for its pause is saved before the page goes away.
    let flush = answers.clone();
    let _ = window_event_listener(ev::pagehide, move |_| flush.flush());
    let _ = window_event_listener(ev::visibilitychange, move |_| {
        if document().hidden() {
            answers.flush();
        }
    });

    let titled = challenge.clone();
    Effect::new(move || {
        document().set_title(&page_title(&titled, router.route.get()));
    });
    let title = challenge.title.clone();
    let page = move || page(challenge.clone(), router.route.get());
    view! {
        <Header title />
        <main id="main" tabindex="-1">{page}</main>
    }
    .into_any()
}

fn page(challenge: Arc<Challenge>, route: Route) -> AnyView {
    match route {
        Route::Home => view! { <Home challenge /> }.into_any(),
        Route::Topic(id) => match challenge.topic(id) {
            Some(topic) => view! { <TopicPage topic=topic.clone() /> }.into_any(),
            None => not_found().into_any(),
        },
        Route::Answers => view! { <AnswersPage challenge /> }.into_any(),
        Route::Results => view! { <ResultsPage challenge /> }.into_any(),
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

/// The document title: the page's (a topic, answers, results), then the challenge's. The build
/// step writes the same titles into the prerendered pages.
fn page_title(challenge: &Challenge, route: Route) -> String {
    let title = &challenge.title;
    match route {
        Route::Topic(id) => challenge.topic(id).map_or_else(
            || title.clone(),
            |t| format!("{}. {} — {title}", t.roman(), t.title),
        ),
        Route::Answers => format!("Your answers — {title}"),
        Route::Results => format!("Check results — {title}"),
        Route::Home | Route::NotFound => title.clone(),
    }
}
