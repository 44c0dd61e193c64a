//! A topic's page: its instructions (the readme, or readme section, rendered at build time), the
//! evaluation criteria, the files it hands out, and the editors of its answers (the files and the
//! editors are parts of the editing app, see [`crate::parts`]).

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::TopicSummary;
use crate::fragment::Fragment;
use crate::parts::Part;

/// The page of one topic.
#[component]
pub fn TopicPage(
    /// The topic, from the manifest.
    topic: TopicSummary,
) -> impl IntoView {
    let criteria = (!topic.criteria.is_empty()).then(|| {
        let items = topic
            .criteria
            .iter()
            .map(|(name, description)| {
                view! { <dt>{name.clone()}</dt><dd>{description.clone()}</dd> }
            })
            .collect_view();
        view! {
            <section class="criteria" aria-labelledby="criteria-title">
                <h2 id="criteria-title">"How we evaluate this topic"</h2>
                <dl>{items}</dl>
            </section>
        }
    });
    let files = (!topic.files.is_empty()).then(|| {
        let list = Part::Files(topic.id.clone());
        view! {
            <section class="files" aria-labelledby="files-title">
                <h2 id="files-title">"Files for this topic"</h2>
                <p>"They are in the starter kit too, in the same folders."</p>
                // The editing app mounts the list and its viewer here (`crate::editing`).
                <div data-edit=list.kind() data-topic=list.topic().map(str::to_owned)></div>
                <p class="status edit-loading" role="status">"Loading the list of files…"</p>
            </section>
        }
    });
    let editors = Part::Editors(topic.id.clone());
    let answers = (!topic.slots.is_empty()).then(|| {
        view! {
            <section class="answers" aria-labelledby="answers-title">
                <h2 id="answers-title">"Your answer"</h2>
                // The editing app mounts the editors here (`crate::editing`).
                <div data-edit=editors.kind() data-topic=editors.topic().map(str::to_owned)></div>
                <p class="status edit-loading" role="status">"Loading the editor…"</p>
            </section>
        }
    });
    view! {
        <div class="topic-page">
            <p class="breadcrumb">
                <a href=site::HOME_ROUTE>"All topics"</a>
                // The print view (style.css) keeps the instructions and the answers as text.
                <button type="button" class="link print" on:click=|_| {
                    let _ = window().print();
                }>"Print this topic"</button>
            </p>
            <Fragment url=site::topic_fragment(&topic.id) what="this topic" />
            {criteria}
            {files}
            {answers}
        </div>
    }
}
