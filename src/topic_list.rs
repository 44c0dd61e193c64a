//! The topics as cards: Roman numeral, title (a link to the topic's page), objective, and the
//! candidate's progress: answers written, and the checks of the latest uploaded report.

use std::sync::Arc;

use leptos::prelude::*;
use sre_model::site;

use crate::answers::Answers;
use crate::challenge::{Challenge, TopicSummary};
use crate::parts::Part;
use crate::results::{LatestReport, badge};

/// The list of topics, in challenge order.
#[component]
pub fn TopicList(
    /// The challenge.
    challenge: Arc<Challenge>,
) -> impl IntoView {
    let items = challenge
        .topics
        .iter()
        .map(|topic| {
            view! {
                <li class="topic">
                    <a href=site::topic_route(&topic.id)>
                        <span class="roman">{topic.roman()} "."</span>
                        " "
                        <span class="topic-title">{topic.title.clone()}</span>
                    </a>
                    <p>{topic.objective.clone()}</p>
                    // Filled by the editing app: [`progress`].
                    <p class="progress" data-edit=Part::Progress(topic.id.clone()).kind()
                        data-topic=topic.id.to_string()></p>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="topics" aria-labelledby="topic-list-title">
            <h2 id="topic-list-title">"Topics"</h2>
            <ol class="topic-list">{items}</ol>
            <p><a class="button" href=site::starter_kit(&challenge.version) download="">
                "Download the starter kit (.zip)"</a></p>
        </nav>
    }
}

/// "1 of 1 answer written · ✓ pass" (editing app).
pub fn progress(topic: &TopicSummary) -> impl IntoView + use<> {
    let answers = expect_context::<Answers>();
    let report = expect_context::<LatestReport>();
    let ids: Vec<String> = topic.slots.iter().map(|s| s.id.clone()).collect();
    let total = ids.len();
    let written = move || {
        ids.iter()
            .filter_map(|id| answers.get(id))
            .filter(|(slot, state)| state.text.with(|t| slot.is_answered(t)))
            .count()
    };
    let id = topic.id.to_string();
    let checks = move || {
        let report = report.get()?.ok()??;
        let run = report.topics.iter().find(|t| t.id == id)?;
        Some(view! { " · checks " {badge(&run.status)} })
    };
    view! { {written} " of " {total} " written" {checks} }
}
