//! One candidate's page: who and where they are, the latest report, then each topic with its
//! answers (and their history and hints), its checks and its rubric.

use std::sync::Arc;

use leptos::prelude::*;

use super::answer::AnswerBlock;
use super::checks::{counts_text, pending_checks, topic_checks};
use super::data::{CandidatePage as Page, ReportSummary, Storage, TopicView};
use super::failure_view;
use super::loader::REVIEW_ROUTE;
use super::nav::{WorkQuery, candidate_href, work_href};
use super::rubric::Rubric;
use super::session::Session;
use super::verification;
use super::work::{WorkSummary, work_summary};
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
    // The submitted work, once the page says which report it shows: the summary, and where the
    // checks' evidence links to.
    let work_id = id.clone();
    let work = LocalResource::new(move || {
        let (api, id) = (session.api(), work_id.clone());
        let report = page.with(|p| match p {
            Some(Ok(page)) => Some(page.report.as_ref().map(|r| r.digest.clone())),
            _ => None,
        });
        async move {
            match (api, report) {
                (Some(api), Some(report)) => work_summary(api, id, report).await,
                _ => None,
            }
        }
    });
    let work = Signal::derive(move || work.get().flatten());
    let body = move || match page.get() {
        None => view! { <p class="status" role="status">"Loading the candidate…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || page.refetch()),
        Some(Ok(page)) => whole(&id, &page, work).into_any(),
    };
    view! {
        <div class="page review-candidate">
            <p class="breadcrumb"><a href=REVIEW_ROUTE>"← All candidates"</a></p>
            {body}
        </div>
    }
}

fn whole(id: &str, page: &Page, work: Signal<Option<Arc<WorkSummary>>>) -> impl IntoView {
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
        .map(|t| topic(id, t.clone(), work))
        .collect_view();
    view! {
        <h1>{person.name.clone()}</h1>
        {verification::disagreement_flag(page.verification.as_ref())}
        <dl class="facts">
            <dt>"Status"</dt><dd class="candidate-status">{page.status.replace('_', " ")}</dd>
            {person.email.clone().map(|e| view! { <dt>"Email"</dt><dd>{e}</dd> })}
            {person.submitted_at.clone().map(|s| view! { <dt>"Submitted"</dt><dd>{s}</dd> })}
            {person.expires_at.clone().map(|s| view! { <dt>"Invite expires"</dt><dd>{s}</dd> })}
            <dt>"Last activity"</dt><dd>{page.last_activity_at.clone().unwrap_or_else(|| "none".to_owned())}</dd>
            <dt>"Reports"</dt><dd>{report_line(page.reports, page.report.as_ref())}</dd>
            <dt>"Work"</dt><dd class="work-summary">{work_line(id, work)}</dd>
            <dt>"Verification"</dt><dd class="verification-summary">{verification::facts_line(page.verification.as_ref())}</dd>
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

/// "2 submissions; latest received …, 14 files. Read the work", or that there is none.
fn work_line(id: &str, work: Signal<Option<Arc<WorkSummary>>>) -> impl IntoView + use<> {
    let href = work_href(id, &WorkQuery::default());
    move || match work.get() {
        None => view! { <span class="muted">"none sent"</span> }.into_any(),
        Some(work) => view! {
            {format!(
                "{} submission{}; latest received {}, {} files. ",
                work.count,
                if work.count == 1 { "" } else { "s" },
                work.latest.0,
                work.latest.1
            )}
            <a class="work-link" href=href.clone()>"Read the work"</a>
        }
        .into_any(),
    }
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

fn topic(id: &str, topic: TopicView, work: Signal<Option<Arc<WorkSummary>>>) -> impl IntoView {
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
            {topic_checks(topic.checks.clone(), work)}
            {verification::side_by_side(&topic.verified, work)}
            {pending_checks(&topic.pending_checks)}
            <Rubric candidate=id.to_owned() topic=topic.id.clone() criteria=topic.criteria.clone() />
        </section>
    }
}
