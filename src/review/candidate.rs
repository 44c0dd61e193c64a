//! One candidate's page: who and where they are, the latest report, then each topic with its
//! answers (and their history and hints), its checks and its rubric.

use std::sync::Arc;

use leptos::prelude::*;

use super::answer::AnswerBlock;
use super::checks::{counts_text, topic_checks};
use super::data::{CandidatePage as Page, ReportSummary, Storage, TopicView};
use super::failure_view;
use super::loader::REVIEW_ROUTE;
use super::nav::candidate_href;
use super::rubric::Rubric;
use super::session::Session;
use crate::results::badge;

/// The candidate page.
#[component]
pub fn CandidatePage(
    /// The candidate's server id.
    id: String,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let loaded_id = id.clone();
    let page = LocalResource::new(move || {
        let (api, id) = (session.api(), loaded_id.clone());
        async move {
            match api {
                Some(api) => api.candidate(&id).await.map(Arc::new),
                None => Err(super::api::Failure::Token("logged out".to_owned())),
            }
        }
    });
    let body = move || match page.get() {
        None => view! { <p class="status" role="status">"Loading the candidate…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || page.refetch()),
        Some(Ok(page)) => whole(&id, &page).into_any(),
    };
    view! {
        <div class="page review-candidate">
            <p class="breadcrumb"><a href=REVIEW_ROUTE>"← All candidates"</a></p>
            {body}
        </div>
    }
}

fn whole(id: &str, page: &Page) -> impl IntoView {
    let person = &page.candidate;
    document().set_title(&format!("{} — Review — SRE Challenge", person.name));
    let contents = page
        .topics
        .iter()
        // The page's own address before the anchor: a bare `#…` would resolve against the base URL.
        .map(|t| view! { <li><a href=format!("{}#topic-{}", candidate_href(id), t.id)>{format!("{}. {}", t.roman, t.title)}</a></li> })
        .collect_view();
    let topics = page
        .topics
        .iter()
        .map(|t| topic(id, t.clone()))
        .collect_view();
    view! {
        <h1>{person.name.clone()}</h1>
        <dl class="facts">
            <dt>"Status"</dt><dd class="candidate-status">{page.status.replace('_', " ")}</dd>
            {person.email.clone().map(|e| view! { <dt>"Email"</dt><dd>{e}</dd> })}
            {person.submitted_at.clone().map(|s| view! { <dt>"Submitted"</dt><dd>{s}</dd> })}
            {person.expires_at.clone().map(|s| view! { <dt>"Invite expires"</dt><dd>{s}</dd> })}
            <dt>"Last activity"</dt><dd>{page.last_activity_at.clone().unwrap_or_else(|| "none".to_owned())}</dd>
            <dt>"Reports"</dt><dd>{report_line(page.reports, page.report.as_ref())}</dd>
            {page.storage.as_ref().map(|s| view! { <dt>"Storage"</dt><dd>{storage_line(s)}</dd> })}
        </dl>
        <nav class="topic-index" aria-label="Topics"><ol>{contents}</ol></nav>
        {topics}
    }
}

/// "1.2 of 100 MiB, 340 of 20000 answer versions, 3 of 1000 reports".
fn storage_line(storage: &Storage) -> String {
    let (used, limits) = (&storage.usage, &storage.limits);
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "{:.1} of {:.0} MiB, {} of {} answer versions, {} of {} reports",
        mib(used.bytes),
        mib(limits.bytes),
        used.answer_versions,
        limits.answer_versions,
        used.reports,
        limits.reports
    )
}

fn report_line(count: u64, latest: Option<&ReportSummary>) -> AnyView {
    let Some(latest) = latest else {
        return "none uploaded".into_any();
    };
    let tool = latest
        .tool
        .as_ref()
        .map(|t| format!(" by {} {}", t.name, t.version))
        .unwrap_or_default();
    let stale = (latest.challenge_matches == Some(false)).then(|| {
        view! { <strong class="warning">" Made for another version of the challenge."</strong> }
    });
    view! {
        {format!("{count} uploaded; latest received {}{tool}: ", latest.received_at)}
        {badge(&latest.overall)} " " {counts_text(&latest.counts)} {stale}
    }
    .into_any()
}

fn topic(id: &str, topic: TopicView) -> impl IntoView {
    let answers = topic
        .answers
        .iter()
        .map(|a| view! { <AnswerBlock candidate=id.to_owned() answer=a.clone() /> })
        .collect_view();
    let none = topic.answers.is_empty().then(|| {
        view! { <p class="muted">"This topic has no written answer: the checks show the work."</p> }
    });
    view! {
        <section class="review-topic" id=format!("topic-{}", topic.id)>
            <h2>{format!("{}. {}", topic.roman, topic.title)}</h2>
            {answers}
            {none}
            <h3>"Checks"</h3>
            {topic_checks(topic.checks.clone())}
            <Rubric candidate=id.to_owned() topic=topic.id.clone() criteria=topic.criteria.clone() />
        </section>
    }
}
