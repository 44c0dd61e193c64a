//! The list of candidates: status, answers written, the latest report's summary with each
//! topic's status, how far the scoring is, and the export of all scores.

use leptos::prelude::*;

use super::data::{CandidateRow, ReportSummary};
use super::export::Export;
use super::nav::candidate_href;
use super::session::Session;
use super::{checks, failure_view, verification};
use crate::results::badge;

/// The list page.
#[component]
pub fn CandidateList() -> impl IntoView {
    let session = expect_context::<Session>();
    let list = LocalResource::new(move || {
        let api = session.api();
        async move {
            match api {
                Some(api) => api.candidates().await.map(|l| l.candidates),
                None => Ok(Vec::new()),
            }
        }
    });
    let body = move || {
        match list.get() {
        None => view! { <p class="status" role="status">"Loading the candidates…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || list.refetch()),
        Some(Ok(rows)) if rows.is_empty() => view! {
            <p>"No candidates yet. Invite one with " <code>"sre-intake invite create --name …"</code> "."</p>
        }
        .into_any(),
        Some(Ok(rows)) => view! {
            <table class="candidates">
                <thead><tr>
                    <th scope="col">"Candidate"</th><th scope="col">"Status"</th>
                    <th scope="col">"Answers"</th><th scope="col">"Checks"</th>
                    <th scope="col">"Verified"</th><th scope="col">"Your scores"</th><th scope="col">"Last activity"</th>
                </tr></thead>
                <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
            </table>
        }
        .into_any(),
    }
    };
    view! {
        <div class="page review-list">
            <h1>"Candidates"</h1>
            {body}
            <Export />
        </div>
    }
}

fn row(row: CandidateRow) -> impl IntoView {
    let report = match &row.report {
        Some(report) => report_cell(report).into_any(),
        None => view! { <span class="muted">"no report"</span> }.into_any(),
    };
    let scores = format!("{} of {}", row.scores.scored_by_me, row.scores.criteria);
    let others = (!row.scores.reviewers.is_empty())
        .then(|| format!(" (scored by {})", row.scores.reviewers.join(", ")));
    view! {
        <tr class="candidate" data-id=row.candidate.id.clone()>
            <th scope="row"><a href=candidate_href(&row.candidate.id)>{row.candidate.name.clone()}</a>
                {row.candidate.email.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}</th>
            <td class=format!("candidate-status {}", row.status)>{row.status.replace('_', " ")}</td>
            <td class="progress">{format!("{} of {}", row.answers.written, row.answers.total)}</td>
            <td class="check-summary">{report}</td>
            <td class="verification">{verification::state_cell(row.verification.as_ref())}</td>
            <td>{scores}{others}</td>
            <td>{row.last_activity_at.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// The latest report of a candidate: its overall status and counts, then each topic's status.
fn report_cell(report: &ReportSummary) -> impl IntoView + use<> {
    let per_topic = report
        .topics
        .iter()
        .map(|t| view! { <li><span class="topic-id">{t.id.clone()}</span> " " {badge(&t.status)}</li> })
        .collect_view();
    view! {
        <div>{badge(&report.overall)} " " {checks::counts_text(&report.counts)}</div>
        <ul class="topic-statuses">{per_topic}</ul>
    }
}
