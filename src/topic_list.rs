//! The six topics as the manifest lists them: Roman numeral, title (a link to the topic's page)
//! and objective.

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::Challenge;

/// The list of topics, in challenge order.
#[component]
pub fn TopicList(
    /// The challenge.
    challenge: std::sync::Arc<Challenge>,
) -> impl IntoView {
    let items = challenge
        .topics
        .iter()
        .map(|topic| {
            view! {
                <li class="topic">
                    <a href=site::topic_route(topic.id)>
                        <span class="roman">{topic.roman()} "."</span>
                        " "
                        <span class="topic-title">{topic.title.clone()}</span>
                    </a>
                    <p>{topic.objective.clone()}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="topics" aria-labelledby="topic-list-title">
            <h2 id="topic-list-title">"Topics"</h2>
            <ol class="topic-list">{items}</ol>
        </nav>
    }
}
