//! A topic's page: its instructions, rendered from its readme (or readme section).

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::TopicSummary;

use crate::fragment::Fragment;

/// The page of one topic.
#[component]
pub fn TopicPage(
    /// The topic, from the manifest.
    topic: TopicSummary,
) -> impl IntoView {
    view! {
        <div class="topic-page">
            <p class="breadcrumb">
                <a href=site::HOME_ROUTE>"All topics"</a>
            </p>
            <Fragment url=site::topic_fragment(topic.id) what="this topic" />
        </div>
    }
}
