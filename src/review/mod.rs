//! The reviewer's view (`/review`): every candidate with progress and check summary, and one
//! candidate's page with answers, history, check report, hints and the rubric to score; the
//! export of all scores.
//!
//! It is a wasm of its own (the `review` binary, `src/review/main.rs`): the candidate's wasm holds
//! only [`loader`], which fetches it on a reviewer address, so sre-markdown and the reviewer code
//! never weigh on a candidate's first load. Answers are untrusted text: markdown is rendered with
//! sre-markdown (raw HTML escaped, URL allowlist) exactly as the candidate's preview shows it,
//! plain text is shown as text, check evidence too.
//!
//! - [`loader`] (in the candidate's wasm), [`main`](self) entry: `start`.
//! - [`session`]: the token; [`api`], [`data`]: sre-intake's reviewer API; [`nav`]: pages.
//! - Pages: [`list`], [`candidate`]; their parts: [`answer`], [`checks`], [`verification`],
//!   [`rubric`], [`export`].

pub mod answer;
pub mod api;
pub mod candidate;
pub mod checks;
pub mod data;
pub mod export;
pub mod list;
pub mod loader;
pub mod nav;
pub mod rubric;
pub mod session;
pub mod verification;
pub mod work;

use leptos::prelude::*;

use self::candidate::CandidatePage;
use self::list::CandidateList;
use self::nav::Page;
use self::session::{LogOut, LoginForm, Session};
use self::work::WorkPage;

/// Starts the reviewer app (the `review` binary's `main`): removes the loader's message and
/// mounts the app.
pub fn start() {
    if let Some(note) = document().get_element_by_id(loader::PLACEHOLDER_ID) {
        note.remove();
    }
    leptos::mount::mount_to_body(ReviewApp);
}

/// The reviewer view: a header with the log out button, then the login form or the page the
/// address names.
#[component]
pub fn ReviewApp() -> impl IntoView {
    let session = Session::load();
    provide_context(session);
    let location = nav::start();
    let query = location.query;
    let body = move || {
        if !session.logged_in() {
            return view! { <LoginForm /> }.into_any();
        }
        match location.page.get() {
            Page::List => view! { <CandidateList /> }.into_any(),
            Page::Candidate(id) => view! { <CandidatePage id /> }.into_any(),
            Page::Work(id) => view! { <WorkPage id query /> }.into_any(),
            Page::NotFound => view! {
                <div class="status" role="alert">
                    <h1>"Page not found"</h1>
                    <p><a href=loader::REVIEW_ROUTE>"Go to the candidates"</a></p>
                </div>
            }
            .into_any(),
        }
    };
    view! {
        <header class="site-header review-header">
            <a class="site-title" href=loader::REVIEW_ROUTE>"SRE Challenge — review"</a>
            {move || session.logged_in().then(|| view! { <LogOut /> })}
        </header>
        <main id="main" class="review" tabindex="-1">{body}</main>
    }
}

/// A failure of the reviewer API as a page element: a refused token leads back to the login
/// form, anything else offers to try again.
pub fn failure_view(failure: api::Failure, retry: impl Fn() + Send + Sync + 'static) -> AnyView {
    let session = expect_context::<Session>();
    match failure {
        api::Failure::Token(reason) => view! {
            <div class="status error" role="alert">
                <p>"Your reviewer token no longer works: " {reason} "."</p>
                <button type="button" on:click=move |_| session.log_out()>"Enter another token"</button>
            </div>
        }
        .into_any(),
        api::Failure::Other(reason) => view! {
            <div class="status error" role="alert">
                <p>"Could not load it: " {reason} "."</p>
                <button type="button" on:click=move |_| retry()>"Try again"</button>
            </div>
        }
        .into_any(),
    }
}
