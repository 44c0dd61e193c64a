//! The home page: the challenge's main README (introduction and set-up) and the topics with the
//! candidate's progress.

use std::sync::Arc;

use leptos::prelude::*;
use sre_model::site;

use crate::challenge::Challenge;
use crate::fragment::Fragment;
use crate::topic_list::TopicList;

/// The home page.
#[component]
pub fn Home(
    /// The challenge.
    challenge: Arc<Challenge>,
) -> impl IntoView {
    view! {
        <div class="home">
            <Fragment url=site::README_FRAGMENT.to_owned() what="the README" />
            <TopicList challenge />
        </div>
    }
}
