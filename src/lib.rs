//! The SRE Challenge candidate site: Leptos apps rendered in the browser.
//!
//! It shows what `cargo xtask render` published next to it (see `sre_model::site`): the manifest
//! and the readmes as HTML fragments, each page prerendered by `cargo xtask pages`. Markdown is
//! never parsed here: the answer preview runs sre-markdown in a worker loaded on first use
//! ([`preview`]). The site is two wasm modules built from this crate, to keep the first load
//! small: the reading app ([`start`], binary `sre-site`: header, routes, readmes, criteria) and the
//! editing app ([`editing::start`], binary `sre-edit`), which the reading app loads once it runs
//! and which mounts its parts into the reading app's pages ([`parts`], [`lazy_app`]).
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
pub mod editing;
pub mod editor;
pub mod export;
pub mod fetch;
pub mod files;
pub mod fragment;
pub mod header;
pub mod home;
pub mod invite;
pub mod lazy_app;
pub mod parts;
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

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::Challenge;
use crate::header::Header;
use crate::home::Home;
use crate::parts::Part;
use crate::route::{Route, Router};
use crate::topic_page::TopicPage;

/// Starts the reading app on the page: takes an invite from the address (the editing app reads it
/// from storage; one naming a server the site refuses is explained at the top of the page),
/// mounts the app, removes the prerendered page it replaces, then, once the page is painted,
/// loads the editing app.
pub fn start() {
    let base = route::base_path();
    if review::loader::is_review_address(&base) {
        review::loader::load();
        return;
    }
    let refused = invite::take_from_address(&base).err();
    let fragment_url = route::current_route(&base).fragment();
    let challenge = boot::challenge();
    let started = challenge.is_ok();
    leptos::mount::mount_to_body(move || {
        provide_context(boot::Prerendered::keep(fragment_url));
        view! { <App challenge /> }
    });
    boot::remove_prerendered();
    if let Some(refused) = refused {
        invite::tell_refused(&refused);
    }
    if started {
        // After the next frame is painted (a timeout set in the frame's callback runs after its
        // paint): the page shows its heading before the editing app is even asked for.
        request_animation_frame(|| {
            set_timeout(
                || lazy_app::load(parts::EDIT_SCRIPT, parts::EDIT_WASM, editing_failed),
                std::time::Duration::ZERO,
            );
        });
    }
}

/// Tells the candidate that the editors are not there, and what to do.
fn editing_failed(reason: &str) {
    let document = document();
    if let (Some(body), Ok(note)) = (document.body(), document.create_element("p")) {
        note.set_class_name("status error edit-failed");
        let _ = note.set_attribute("role", "alert");
        note.set_text_content(Some(&format!(
            "The answer editors could not load ({reason}). Reload the page to try again; your \
             answers saved in this browser are kept."
        )));
        let _ = body.append_child(&note);
    }
}

/// The reading app: a header, and the page the address names, with placeholders where the
/// editing app mounts its parts.
#[component]
pub fn App(
    /// The challenge, or why the page does not carry it.
    challenge: Result<Challenge, String>,
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
    let router = Router::start();

    let titled = challenge.clone();
    Effect::new(move || {
        document().set_title(&page_title(&titled, &router.route.get()));
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
        Route::Topic(id) => match challenge.topic(&id) {
            Some(topic) => view! { <TopicPage topic=topic.clone() /> }.into_any(),
            None => not_found().into_any(),
        },
        Route::Answers => editing_page(Part::AnswersPage, "your answers").into_any(),
        Route::Results => editing_page(Part::ResultsPage, "the results").into_any(),
        Route::NotFound => not_found().into_any(),
    }
}

/// A page of the editing app: its placeholder, and a note until it is mounted.
fn editing_page(part: Part, what: &'static str) -> impl IntoView {
    view! {
        <div data-edit=part.kind()></div>
        <p class="status edit-loading" role="status">"Loading " {what} "…"</p>
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
fn page_title(challenge: &Challenge, route: &Route) -> String {
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
