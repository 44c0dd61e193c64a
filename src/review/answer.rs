//! One written answer on the candidate page: its latest version rendered safely, the hints about
//! it, and its history (every saved version, each viewable).
//!
//! Markdown goes through sre-markdown, the renderer of the candidate's own preview: raw HTML is
//! escaped (a `<script>` or `onerror=` in an answer is text), only http, https and mailto URLs or
//! relative ones survive (`javascript:` links keep their text only); images from other sites are
//! not loaded. Its output is the only HTML this view inserts; plain-text answers and everything
//! else are text nodes.

use leptos::prelude::*;
use sre_markdown::LinkMap;
use sre_model::site::FILES_DIR;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlTemplateElement};

use super::data::{AnswerVersion, AnswerView, Hint};
use super::session::Session;

/// An answer with its hints and history.
#[component]
pub fn AnswerBlock(
    /// The candidate's server id.
    candidate: String,
    /// The answer.
    answer: AnswerView,
) -> impl IntoView {
    let markdown = answer.format == "markdown";
    let file = answer.file.clone();
    let Some(latest) = answer.latest.clone() else {
        return view! {
            <article class="answer" data-slot=answer.slot.clone()>
                <h3>{answer.title.clone()} " " <code>{answer.file.clone()}</code></h3>
                <p class="muted">"Not written."</p>
            </article>
        }
        .into_any();
    };
    let unchanged = (latest.unchanged == Some(true))
        .then(|| view! { <strong class="warning">" Still the handed-out text."</strong> });
    let words = latest.text.split_whitespace().count();
    view! {
        <article class="answer" data-slot=answer.slot.clone()>
            <h3>{answer.title.clone()} " " <code>{answer.file.clone()}</code></h3>
            <p class="muted">{format!("Version {} of {}, saved {}, {words} words.", latest.version, answer.versions, latest.created_at)}
                {unchanged}</p>
            {hints(&answer.hints)}
            <div class="answer-body">{rendered(&latest.text, &file, markdown)}</div>
            {history(candidate, answer.slot.clone(), file, markdown, answer.versions)}
        </article>
    }
    .into_any()
}

/// The answer's text as the reviewer reads it: markdown rendered by sre-markdown, text as text.
fn rendered(text: &str, file: &str, markdown: bool) -> AnyView {
    if markdown {
        // Links to challenge files resolve like the readmes': under `content/`, against the
        // answer file's folder.
        let html = sre_markdown::render(text, file, &LinkMap::new(&format!("{FILES_DIR}/")));
        view! { <div class="markdown" inner_html=without_remote_images(html)></div> }.into_any()
    } else {
        view! { <pre class="answer-text">{text.to_owned()}</pre> }.into_any()
    }
}

/// The HTML with every image from another site replaced by a note naming it: a remote image
/// would tell its host when the reviewer reads the answer (a tracking pixel). The HTML is parsed
/// in a `<template>`, whose content loads nothing; the challenge's own images stay.
fn without_remote_images(html: String) -> String {
    let Some(template) = document()
        .create_element("template")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlTemplateElement>().ok())
    else {
        return html;
    };
    template.set_inner_html(&html);
    let Ok(images) = template.content().query_selector_all("img") else {
        return html;
    };
    for index in 0..images.length() {
        let Some(image) = images
            .item(index)
            .and_then(|n| n.dyn_into::<Element>().ok())
        else {
            continue;
        };
        let src = image.get_attribute("src").unwrap_or_default();
        if !(src.starts_with("http:") || src.starts_with("https:")) {
            continue;
        }
        let alt = image.get_attribute("alt").unwrap_or_default();
        if let Ok(note) = document().create_element("span") {
            note.set_class_name("remote-image");
            note.set_text_content(Some(&format!("[image not loaded: {alt} — {src}]")));
            let _ = image.replace_with_with_node_1(&note);
        }
    }
    template.inner_html()
}

/// Which expected parts the text shows: an automatic aid for reading (keyword matching, computed
/// here from the answer, never shown to the candidate), never a score.
fn hints(hints: &[Hint]) -> Option<impl IntoView + use<>> {
    if hints.is_empty() {
        return None;
    }
    let items = hints
        .iter()
        .map(|h| {
            let (class, mark) = if h.present {
                ("present", "✓")
            } else {
                ("absent", "–")
            };
            view! { <li class=class>{mark} " " {h.label.clone()}</li> }
        })
        .collect_view();
    Some(view! {
        <div class="hints">
            <p>"Automatic aid (keyword matching; what the text seems to cover, not a score):"</p>
            <ul>{items}</ul>
        </div>
    })
}

/// Every saved version, loaded when opened; a version shows when picked.
fn history(
    candidate: String,
    slot: String,
    file: String,
    markdown: bool,
    count: u64,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let opened = RwSignal::new(false);
    let shown = RwSignal::new(None::<Result<AnswerVersion, String>>);
    let (history_id, history_slot) = (candidate.clone(), slot.clone());
    let versions = LocalResource::new(move || {
        let (api, id, slot, open) = (
            session.api(),
            history_id.clone(),
            history_slot.clone(),
            opened.get(),
        );
        async move {
            match api {
                Some(api) if open => api
                    .history(&id, &slot)
                    .await
                    .map(|h| h.versions)
                    .map_err(|f| f.message().to_owned()),
                _ => Ok(Vec::new()),
            }
        }
    });
    let show = move |version: u64| {
        let (api, id, slot) = (session.api(), candidate.clone(), slot.clone());
        leptos::task::spawn_local(async move {
            if let Some(api) = api {
                shown.set(Some(
                    api.version(&id, &slot, version)
                        .await
                        .map_err(|f| f.message().to_owned()),
                ));
            }
        });
    };
    let list = move || {
        match versions.get() {
        None => view! { <p class="status" role="status">"Loading the history…"</p> }.into_any(),
        Some(Err(reason)) => view! { <p class="status error" role="alert">"Could not load the history: " {reason}</p> }.into_any(),
        Some(Ok(list)) => list
            .into_iter()
            .rev()
            .map(|v| {
                let show = show.clone();
                view! {
                    <li><button type="button" class="link" on:click=move |_| show(v.version)>
                        {format!("Version {}", v.version)}</button>
                        {format!(" — {}, {} bytes", v.created_at, v.bytes)}</li>
                }
            })
            .collect_view()
            .into_any(),
    }
    };
    let version_view = move || {
        shown.get().map(|v| match v {
            Ok(v) => view! {
                <div class="old-version">
                    <p><strong>{format!("Version {}, saved {}", v.version, v.created_at)}</strong></p>
                    {rendered(&v.text, &file, markdown)}
                </div>
            }
            .into_any(),
            Err(reason) => view! { <p class="status error" role="alert">"Could not load it: " {reason}</p> }.into_any(),
        })
    };
    view! {
        <details class="history" on:toggle=move |_| opened.set(true)>
            <summary>{format!("History ({count} versions)")}</summary>
            <ul>{list}</ul>
            {version_view}
        </details>
    }
}
