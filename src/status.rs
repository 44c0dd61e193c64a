//! What the candidate sees while something loads or when it failed: announced to screen readers
//! (`role="status"`, `role="alert"`), with a way to try again.

use leptos::prelude::*;

use crate::fetch::LoadError;

/// "Loading …", announced politely.
pub fn loading(what: &'static str) -> impl IntoView {
    view! { <p class="status" role="status" aria-live="polite">"Loading " {what} "…"</p> }
}

/// "Could not load …: <reason>", with a button that calls `retry`.
pub fn load_failed(
    what: &'static str,
    error: LoadError,
    retry: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="status error" role="alert">
            <p>"Could not load " {what} ": " {error.to_string()}</p>
            <button type="button" on:click=move |_| retry()>"Try again"</button>
        </div>
    }
}
