//! A topic's part of the latest check report: each check's status, evidence and hint. Evidence
//! is the candidate's files and tools' output: shown as text, never as HTML; the places it names
//! in submitted files are links to the Work page.

use std::sync::Arc;

use leptos::prelude::*;

use super::data::{Counts, PendingCheck};
use super::work::WorkSummary;
use super::work::evidence::evidence_view;
use crate::results::{TopicReport, badge};

/// "3 pass, 1 fail, 0 error, 2 skipped".
pub fn counts_text(counts: &Counts) -> String {
    format!(
        "{} pass, {} fail, {} error, {} skipped",
        counts.pass, counts.fail, counts.error, counts.skipped
    )
}

/// The reviewer-only checks of a topic, which wait for the verification worker.
pub fn pending_checks(pending: &[PendingCheck]) -> Option<impl IntoView + use<>> {
    if pending.is_empty() {
        return None;
    }
    let items = pending
        .iter()
        .map(|c| view! { <li class="check pending">"pending " <span class="check-title">{c.title.clone()}</span></li> })
        .collect_view();
    Some(view! {
        <div class="pending-checks">
            <p>"Reviewer-only checks (never run on the candidate's machine; pending until the verification worker runs them):"</p>
            <ul class="checks">{items}</ul>
        </div>
    })
}

/// The checks of one topic, or why there are none.
pub fn topic_checks(
    checks: Option<TopicReport>,
    work: Signal<Option<Arc<WorkSummary>>>,
) -> impl IntoView {
    let Some(run) = checks else {
        return view! { <p class="muted">"No uploaded report covers this topic."</p> }.into_any();
    };
    let items = run
        .checks
        .into_iter()
        .map(|check| {
            let hint = check
                .hint
                .map(|h| view! { <p class="hint">"Hint to the candidate: " {h}</p> });
            let evidence = (!check.evidence.is_empty()).then(|| {
                let text = check.evidence;
                let linked =
                    move || work.with(|w| evidence_view(&text, w.as_ref().map(|w| &w.links)));
                view! { <pre class="evidence">{linked}</pre> }
            });
            view! {
                <li class=format!("check {}", check.status)>
                    {badge(&check.status)} " " <span class="check-title">{check.title}</span>
                    <span class="duration">{format!(" ({} ms)", check.duration_ms)}</span>
                    {hint}
                    {evidence}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="topic-checks">
            <p>"Checks: " {badge(&run.status)}</p>
            <ul class="checks">{items}</ul>
        </div>
    }
    .into_any()
}
