//! A topic's part of the latest check report: each check's status, evidence and hint. Evidence
//! is the candidate's files and tools' output: shown as text, never as HTML.

use leptos::prelude::*;

use super::data::Counts;
use crate::results::{TopicReport, badge};

/// "3 pass, 1 fail, 0 error, 2 skipped".
pub fn counts_text(counts: &Counts) -> String {
    format!(
        "{} pass, {} fail, {} error, {} skipped",
        counts.pass, counts.fail, counts.error, counts.skipped
    )
}

/// The checks of one topic, or why there are none.
pub fn topic_checks(checks: Option<TopicReport>) -> impl IntoView {
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
            let evidence = (!check.evidence.is_empty())
                .then(|| view! { <pre class="evidence">{check.evidence}</pre> });
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
