//! "Your answers": every answer slot with where it stands, the export of all answers as one
//! archive, and (with an invite) the final submission, confirmed after listing what is unanswered.

use std::sync::Arc;

use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sre_model::site;

use crate::answers::{Answers, SlotSync};
use crate::challenge::Challenge;
use crate::export;
use crate::sync::{Sync, SyncStatus};

/// The answers page.
#[component]
pub fn AnswersPage(
    /// The challenge.
    challenge: Arc<Challenge>,
) -> impl IntoView {
    let answers = expect_context::<Answers>();
    let sync = expect_context::<Sync>();
    let rows = challenge
        .topics
        .iter()
        .flat_map(|topic| {
            let answers = answers.clone();
            topic.slots.iter().map(move |slot| {
                let (_, state) = answers.get(&slot.id).cloned()?;
                let file = slot.file.clone();
                let slot = slot.clone();
                let written = move || {
                    if state.text.with(|t| slot.is_answered(t)) {
                        "written"
                    } else {
                        "not written yet"
                    }
                };
                let server = move || match state.sync.get() {
                    SlotSync::Local => "",
                    SlotSync::Synced(_) => " · on the server",
                    SlotSync::Waiting => " · waiting to be sent",
                    SlotSync::Conflict { .. } => " · conflict: open the topic to choose",
                    SlotSync::Refused(_) => " · refused by the server",
                };
                Some(view! {
                    <li>
                        <a href=site::topic_route(&topic.id)>{topic.roman()} ". " {topic.title.clone()}</a>
                        " — " <code>{file}</code> ": " {written} {server}
                    </li>
                })
            })
        })
        .flatten()
        .collect_view();

    let export_error = RwSignal::new(None::<String>);
    let export_file = format!("sre-challenge-answers-{}.zip", challenge.version);
    let on_export = move |_| {
        answers.flush();
        let result = export::archive(&answers).and_then(|zip| export::download(&export_file, &zip));
        export_error.set(result.err());
    };

    view! {
        <div class="page answers-page">
            <h1>"Your answers"</h1>
            <ul class="answer-list">{rows}</ul>
            <section aria-labelledby="export-title">
                <h2 id="export-title">"Export"</h2>
                <p>"One .zip with every answer under the file name the challenge expects, to keep, \
                    to email, or to unzip over your working copy."</p>
                <button type="button" class="export" on:click=on_export>"Export all answers (.zip)"</button>
                {move || export_error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
            </section>
            {move || if sync.has_server() { submit_section(&challenge).into_any() } else {
                view! {
                    <p class="notice">"You opened the challenge without an invite link: your answers are \
                        kept in this browser only. Export them and send the archive to your contact."</p>
                }.into_any()
            }}
        </div>
    }
}

/// The submission, with its confirmation dialog.
fn submit_section(challenge: &Challenge) -> impl IntoView + use<> {
    let answers = expect_context::<Answers>();
    let sync = expect_context::<Sync>();
    let dialog = NodeRef::<Dialog>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let titles: Vec<(String, String)> = challenge
        .slots()
        .map(|s| (s.id.clone(), s.file.clone()))
        .collect();
    let unanswered = move || {
        titles
            .iter()
            .filter(|(id, _)| {
                answers
                    .get(id)
                    .is_some_and(|(slot, state)| !state.text.with(|t| slot.is_answered(t)))
            })
            .map(|(_, file)| view! { <li><code>{file.clone()}</code></li> })
            .collect_view()
    };
    let confirm = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = sync.submit().await;
            busy.set(false);
            match result {
                Ok(_) => {
                    if let Some(d) = dialog.get() {
                        d.close();
                    }
                }
                Err(reason) => error.set(Some(reason)),
            }
        });
    };
    move || {
        match sync.status.get() {
        SyncStatus::Submitted(at) => view! {
            <section aria-labelledby="submit-title">
                <h2 id="submit-title">"Submitted"</h2>
                <p class="notice" role="status">"You submitted your answers" {(!at.is_empty()).then(|| format!(" at {at}"))}
                    ". Thank you! They are read-only now."</p>
            </section>
        }
        .into_any(),
        _ => view! {
            <section aria-labelledby="submit-title">
                <h2 id="submit-title">"Submit"</h2>
                <p>"When you are done, submit: your answers become read-only and the reviewers are told."</p>
                <button type="button" class="primary submit" on:click=move |_| {
                    error.set(None);
                    if let Some(d) = dialog.get() { let _ = d.show_modal(); }
                }>"Submit…"</button>
                <dialog class="confirm" node_ref=dialog aria-labelledby="confirm-title">
                    <h2 id="confirm-title">"Submit your answers?"</h2>
                    <p>"After this you cannot change them."</p>
                    <p>"Not written yet:"</p>
                    <ul class="unanswered">{unanswered.clone()}</ul>
                    {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
                    <div class="dialog-buttons">
                        <button type="button" class="primary" disabled=move || busy.get() on:click=confirm>
                            {move || if busy.get() { "Submitting…" } else { "Submit now" }}
                        </button>
                        <form method="dialog"><button>"Cancel"</button></form>
                    </div>
                </dialog>
            </section>
        }
        .into_any(),
    }
    }
}
