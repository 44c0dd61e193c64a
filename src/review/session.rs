//! The reviewer's session: the token, entered once, kept in localStorage (through
//! `crate::storage`), never logged or shown; checked with the server before it is kept; forgotten
//! on log out.

use leptos::prelude::*;

use super::api::{Failure, ReviewApi};
use crate::storage;

/// The logged-in reviewer's token, if any.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    token: RwSignal<Option<String>>,
}

impl Session {
    /// The session this browser keeps.
    pub fn load() -> Session {
        Session {
            token: RwSignal::new(storage::reviewer_token()),
        }
    }

    /// The API with the session's token; `None` when logged out.
    pub fn api(&self) -> Option<ReviewApi> {
        self.token.with(|t| t.as_deref().map(ReviewApi::new))
    }

    /// Whether a reviewer is logged in.
    pub fn logged_in(&self) -> bool {
        self.token.with(Option::is_some)
    }

    /// Forgets the token.
    pub fn log_out(&self) {
        storage::forget_reviewer_token();
        self.token.set(None);
    }

    fn log_in(&self, token: String) -> Result<(), String> {
        storage::set_reviewer_token(&token)?;
        self.token.set(Some(token));
        Ok(())
    }
}

/// The login form: the token is tried with the server (`GET /candidates`) and kept only when
/// the server accepts it as a reviewer's.
#[component]
pub fn LoginForm(
    /// Why the reviewer sees the form again (a kept token was refused), if so.
    #[prop(optional)]
    reason: Option<String>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(reason);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let entered = token.get_untracked().trim().to_owned();
        if entered.is_empty() {
            error.set(Some("Enter your reviewer token.".to_owned()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let outcome = ReviewApi::new(&entered).candidates().await;
            busy.set(false);
            match outcome {
                Ok(_) => match session.log_in(entered) {
                    Ok(()) => token.set(String::new()),
                    Err(reason) => error.set(Some(format!("Could not keep the token: {reason}."))),
                },
                Err(Failure::Token(reason)) => error.set(Some(format!(
                    "This token does not open the reviewer view: {reason}. Check that you \
                     copied the whole token that `sre-intake reviewer create` printed."
                ))),
                Err(Failure::Other(reason)) => {
                    error.set(Some(format!("Could not check the token: {reason}.")));
                }
            }
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <h1>"Review candidates"</h1>
            <p>"Enter the reviewer token that " <code>"sre-intake reviewer create"</code>
                " printed for you. This browser keeps it until you log out."</p>
            <label for="reviewer-token">"Reviewer token"</label>
            <input id="reviewer-token" type="password" autocomplete="off" spellcheck="false"
                prop:value=move || token.get()
                on:input=move |e| token.set(event_target_value(&e)) />
            <button type="submit" disabled=move || busy.get()>"Log in"</button>
            {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        </form>
    }
}

/// A button that forgets the token.
#[component]
pub fn LogOut() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <button type="button" class="log-out" on:click=move |_| session.log_out()>"Log out"</button>
    }
}
