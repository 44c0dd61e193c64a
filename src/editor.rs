//! The editor of one written answer: a textarea, its word count, whether it is saved (in this
//! browser, on the server), a live preview for markdown answers, and the choice to make when the
//! server has another version.

use std::time::Duration;

use leptos::prelude::*;

use crate::answers::{AnswerState, Answers, Saved, SlotSync};
use crate::challenge::Slot;
use crate::preview::Preview;
use crate::sync::Sync;

/// How long typing must pause before the preview is rendered again.
const PREVIEW_DELAY: Duration = Duration::from_millis(150);

/// The editor of `slot`.
#[component]
pub fn AnswerEditor(
    /// The answer slot.
    answer: Slot,
) -> impl IntoView {
    let slot = answer;
    let answers = expect_context::<Answers>();
    let sync = expect_context::<Sync>();
    let Some((_, state)) = answers.get(&slot.id).cloned() else {
        return ().into_any();
    };
    let id = slot.id.clone();
    let input_id = format!("answer-{id}");
    let status_id = format!("answer-{id}-status");
    let preview = RwSignal::new(false);

    let on_input = {
        let id = id.clone();
        move |ev| answers.edit(&id, event_target_value(&ev))
    };
    let (title, file, markdown) = (slot.title.clone(), slot.file.clone(), slot.markdown);
    let words = move || state.text.with(|t| t.split_whitespace().count());
    let file_note = if slot.markdown {
        "Markdown"
    } else {
        "plain text"
    };

    let preview_button = slot.markdown.then(|| {
        view! {
            <button type="button" class="preview-toggle" aria-pressed=move || preview.get().to_string()
                aria-controls=format!("{input_id}-preview")
                on:click=move |_| preview.update(|p| *p = !*p)>
                "Preview"
            </button>
        }
    });
    let preview_panel = slot.markdown.then(|| preview_panel(&slot, state, preview));

    view! {
        <section class="answer" aria-labelledby=format!("{input_id}-title")>
            <h3 id=format!("{input_id}-title")>{title}</h3>
            <p class="answer-file">"Saved as " <code>{file}</code> " · " {file_note}</p>
            <div class="editor" class:with-preview=move || preview.get()>
                <textarea id=input_id.clone() class:plain=!markdown rows="14" spellcheck="true"
                    aria-labelledby=format!("{input_id}-title") aria-describedby=status_id.clone()
                    readonly=move || !sync.is_open()
                    prop:value=move || state.text.get() on:input=on_input></textarea>
                {preview_panel}
            </div>
            <div class="answer-bar">
                <span class="words">{words} " words"</span>
                <span id=status_id role="status">{move || saved_text(state)}</span>
                {preview_button}
            </div>
            {move || conflict(sync, &id, state)}
            <div class="print-only answer-print">{move || state.text.get()}</div>
        </section>
    }
    .into_any()
}

/// Where the text is kept, in words.
fn saved_text(state: AnswerState) -> String {
    let local = match state.saved.get() {
        Saved::Yes => "Saved in this browser",
        Saved::Pending => "Saving…",
        Saved::Failed(reason) => return format!("Not saved: {reason}. Export your answers now."),
    };
    match state.sync.get() {
        SlotSync::Local => format!("{local}."),
        SlotSync::Synced(version) => format!("{local} and on the server (version {version})."),
        SlotSync::Waiting => format!("{local}; waiting to be sent to the server."),
        SlotSync::Conflict { .. } => format!("{local}; the server has another version."),
        SlotSync::Refused(_) => format!("{local}; the server refused it."),
    }
}

/// The live preview: rendered in the worker while the panel is open.
fn preview_panel(slot: &Slot, state: AnswerState, open: RwSignal<bool>) -> impl IntoView {
    let renderer = expect_context::<Preview>();
    let html = RwSignal::new(None::<String>);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let file = slot.file.clone();
    Effect::new(move || {
        if !open.get() {
            return;
        }
        let text = state.text.get();
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        let file = file.clone();
        let delay = if html.get_untracked().is_none() {
            Duration::ZERO
        } else {
            PREVIEW_DELAY
        };
        let handle = set_timeout_with_handle(
            move || {
                let done = move |rendered| html.set(Some(rendered));
                if let Err(reason) = renderer.render(&file, &text, done) {
                    html.set(Some(format!("<p>{reason}</p>")));
                }
            },
            delay,
        )
        .ok();
        timer.set_value(handle);
    });
    let id = format!("answer-{}-preview", slot.id);
    move || {
        open.get().then(|| match html.get() {
            // The worker's HTML comes from sre-markdown: raw HTML escaped, unsafe URLs dropped.
            Some(rendered) => view! {
                <div id=id.clone() class="preview markdown" aria-label="Preview" inner_html=rendered></div>
            }
            .into_any(),
            None => view! { <p id=id.clone() class="preview status" role="status">"Loading the preview…"</p> }
                .into_any(),
        })
    }
}

/// The choice to make when the server has another version, or why it refused the text.
fn conflict(sync: Sync, id: &str, state: AnswerState) -> Option<AnyView> {
    match state.sync.get() {
        SlotSync::Conflict { version, text } => {
            let (keep, take) = (id.to_owned(), id.to_owned());
            Some(
                view! {
                    <div class="conflict" role="alert">
                        <p>"The server has another version of this answer (version " {version}
                            "), written in another tab or on another device. Which one do you keep?"</p>
                        <details>
                            <summary>"Show the server's text"</summary>
                            <pre class="server-text">{text}</pre>
                        </details>
                        <button type="button" class="keep-mine" on:click=move |_| sync.keep_mine(&keep)>"Keep mine"</button>
                        " "
                        <button type="button" class="use-theirs" on:click=move |_| sync.use_theirs(&take)>"Use the server's"</button>
                    </div>
                }
                .into_any(),
            )
        }
        SlotSync::Refused(reason) => Some(
            view! {
                <p class="status error" role="alert">"The server did not take this answer: " {reason}</p>
            }
            .into_any(),
        ),
        _ => None,
    }
}
