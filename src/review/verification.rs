//! What the team's own verification workers found when they re-ran the checks on the candidate's
//! latest submission (sre-verify), beside what the candidate's report says: the state in the
//! list, a flag at the top of the candidate's page when they disagree, and each topic's checks
//! side by side. The worker's evidence is the candidate's files and tools' output: shown as text,
//! its places linked into the Work page like the report's.

use std::sync::Arc;

use leptos::prelude::*;

use super::data::{VerificationDetail, VerificationSummary, VerifiedCheck};
use super::work::WorkSummary;
use super::work::evidence::evidence_view;
use crate::results::badge;

/// What a state means, in the reviewer's words.
fn state_text(state: &str) -> &'static str {
    match state {
        "pending" => "pending: no worker has re-run it yet",
        "running" => "running on a worker",
        "verified" => "verified: the worker agrees with the report",
        "disagreement" => "disagreement: the report claims passes the worker did not find",
        _ => "error: the worker could not re-run it",
    }
}

/// The list's cell: the state of the latest submission's verification, or that there is no work.
pub fn state_cell(v: Option<&VerificationSummary>) -> impl IntoView + use<> {
    match v {
        None => view! { <span class="muted">"no work sent"</span> }.into_any(),
        Some(v) if v.state == "disagreement" => view! {
            <strong class="verification-state disagreement">
                {format!("disagreement ({} check{})", v.disagreements, plural(v.disagreements))}
            </strong>
        }
        .into_any(),
        Some(v) => {
            view! { <span class=format!("verification-state {}", v.state)>{v.state.clone()}</span> }
                .into_any()
        }
    }
}

/// The flag at the top of the candidate's page when the worker disagrees with the report.
pub fn disagreement_flag(v: Option<&VerificationDetail>) -> Option<impl IntoView + use<>> {
    let v = v.filter(|v| v.disagreements > 0)?;
    Some(view! {
        <p class="verification-disagreement" role="alert">
            <strong>{format!(
                "The verification disagrees with the candidate's report: {} check{} reported as \
                 passing did not pass when the team's worker re-ran them on the submitted work.",
                v.disagreements,
                plural(v.disagreements)
            )}</strong>
            " The topics below show both."
        </p>
    })
}

/// The facts line: state, worker, runtime and whether it is a sandbox.
pub fn facts_line(v: Option<&VerificationDetail>) -> String {
    let Some(v) = v else {
        return "no work sent".to_owned();
    };
    let mut line = state_text(&v.state).to_owned();
    if let Some(worker) = &v.worker {
        line.push_str(&format!("; worker {worker}"));
    }
    if let Some(runtime) = &v.runtime {
        let sandbox = match v.sandboxed {
            Some(true) => " (sandboxed)",
            Some(false) => " (NOT sandboxed)",
            None => "",
        };
        line.push_str(&format!(", runtime {runtime}{sandbox}"));
    }
    if let Some(at) = &v.finished_at {
        line.push_str(&format!(", finished {at}"));
    }
    if let Some(error) = &v.error {
        line.push_str(&format!(": {error}"));
    }
    line
}

/// A topic's checks as reported and as verified, side by side; `None` before a worker ran them.
pub fn side_by_side(
    checks: &[VerifiedCheck],
    work: Signal<Option<Arc<WorkSummary>>>,
) -> Option<impl IntoView + use<>> {
    if checks.is_empty() {
        return None;
    }
    let rows = checks
        .iter()
        .map(|c| {
            let reported = match &c.reported {
                Some(status) => badge(status).into_any(),
                None => view! { <span class="muted">"not in the report"</span> }.into_any(),
            };
            let text = c.evidence.clone();
            let evidence = (!text.is_empty()).then(|| {
                let linked =
                    move || work.with(|w| evidence_view(&text, w.as_ref().map(|w| &w.links)));
                view! { <details><summary>"Worker's evidence"</summary><pre class="evidence">{linked}</pre></details> }
            });
            view! {
                <tr class=if c.disagreement { "verified-check disagreement" } else { "verified-check" }
                    data-check=c.check.clone()>
                    <th scope="row">{c.title.clone()}</th>
                    <td class="reported">{reported}</td>
                    <td class="verified">{badge(&c.verified)}</td>
                    <td>{c.disagreement.then_some("disagrees")}{evidence}</td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <table class="verified-checks">
            <caption>"Re-run by the team's worker on the submitted work"</caption>
            <thead><tr>
                <th scope="col">"Check"</th><th scope="col">"Reported"</th>
                <th scope="col">"Verified"</th><th scope="col">""</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
