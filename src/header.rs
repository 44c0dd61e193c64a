//! The site header: the title (home), the pages, and where the answers are kept (a part of the
//! editing app, [`sync_status`]).

use leptos::prelude::*;
use sre_model::site;

use crate::parts::Part;
use crate::sync::{Sync, SyncStatus};

/// The header. Its markup is also written by `cargo xtask pages` (keep both alike).
#[component]
pub fn Header(
    /// The site title.
    title: String,
) -> impl IntoView {
    view! {
        <header class="site-header">
            // `#main` resolves against the base URL, not this page: the click is handled here.
            <a class="skip-link" href="#main" on:click=|event| {
                event.prevent_default();
                crate::route::focus_main();
            }>"Skip to content"</a>
            <a class="site-title" href=site::HOME_ROUTE>{title}</a>
            <nav class="site-nav" aria-label="Site">
                <a href=site::ANSWERS_ROUTE>"Your answers"</a>
                <a href=site::RESULTS_ROUTE>"Results"</a>
                <a href=site::DOWNLOAD_ROUTE>"Get sre-check"</a>
            </nav>
            <p class="sync-status" role="status" data-edit=Part::SyncStatus.kind()></p>
        </header>
    }
}

/// Where the answers are kept: in this browser, on the server, or why not (editing app).
pub fn sync_status() -> impl IntoView {
    let sync = expect_context::<Sync>();
    move || {
        let (class, text) = match sync.status.get() {
            SyncStatus::LocalOnly => ("local", "Answers are kept in this browser".to_owned()),
            SyncStatus::Busy => ("busy", "Saving to the server…".to_owned()),
            SyncStatus::Synced => ("synced", "All answers are on the server".to_owned()),
            SyncStatus::NeedsYou => ("attention", "An answer needs your choice".to_owned()),
            SyncStatus::Retrying(reason) => (
                "offline",
                format!("Not on the server yet: {reason}. Retrying…"),
            ),
            SyncStatus::Stopped(reason) => ("error", format!("Not syncing: {reason}")),
            SyncStatus::Submitted(_) => ("synced", "Submitted".to_owned()),
        };
        let retry = matches!(sync.status.get(), SyncStatus::Retrying(_)).then(|| {
            view! { <button type="button" class="link" on:click=move |_| sync.retry_now()>"Retry now"</button> }
        });
        view! { <span class=format!("sync {class}")>{text}</span> {retry} }
    }
}
