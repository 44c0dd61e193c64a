//! The results page: the checks of the latest report the candidate uploaded with
//! `sre-check upload`, per topic, with evidence and hints. Evidence is shown as text, never HTML.

use std::sync::Arc;

use leptos::prelude::*;
use miniserde::Deserialize;

use crate::api::{Sent, SentSubmission};
use crate::challenge::Challenge;
use crate::sync::Sync;

/// The fields of an `sre-check.report/1` the site shows.
#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    /// The checker and its version.
    pub tool: Tool,
    /// When the run ended (RFC 3339).
    pub finished_at: String,
    /// One entry per topic run.
    pub topics: Vec<TopicReport>,
}

/// Name and version of the checker.
#[derive(Debug, Clone, Deserialize)]
pub struct Tool {
    /// `sre-check`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One topic's outcome.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicReport {
    /// The topic id.
    pub id: String,
    /// pass, fail, error or skipped.
    pub status: String,
    /// Its checks, in order.
    pub checks: Vec<Check>,
}

/// One check's outcome.
#[derive(Debug, Clone, Deserialize)]
pub struct Check {
    /// What it checks.
    pub title: String,
    /// pass, fail, error or skipped.
    pub status: String,
    /// How long it took.
    pub duration_ms: u64,
    /// What it saw.
    pub evidence: String,
    /// What to change, for a failure or an error.
    pub hint: Option<String>,
}

/// The latest report, loaded once per visit (`None`: no server, or nothing uploaded yet).
pub type LatestReport = LocalResource<Result<Option<Arc<Report>>, String>>;

/// Loads the latest report from the invite's server.
pub fn load_latest(sync: Sync) -> LatestReport {
    LocalResource::new(move || async move {
        let Some(json) = sync.latest_report().await? else {
            return Ok(None);
        };
        miniserde::json::from_str::<Report>(&json)
            .map(|r| Some(Arc::new(r)))
            .map_err(|_| "the server's report is not an sre-check report this site can read".into())
    })
}

/// The results page.
#[component]
pub fn ResultsPage(
    /// The challenge, for topic names and order.
    challenge: Arc<Challenge>,
) -> impl IntoView {
    let sync = expect_context::<Sync>();
    let report = expect_context::<LatestReport>();
    let body = move || {
        if !sync.has_server() {
            return view! {
                <p>"Check results show here when you opened the challenge with your invite link and \
                    uploaded a report with " <code>"sre-check upload"</code> ". Without an invite, \
                    " <code>"sre-check run"</code> " prints the same results on your computer."</p>
            }
            .into_any();
        }
        match report.get() {
            None => view! { <p class="status" role="status">"Loading the latest report…"</p> }
                .into_any(),
            Some(Err(reason)) => view! {
                <div class="status error" role="alert">
                    <p>"Could not load the report: " {reason}</p>
                    <button type="button" on:click=move |_| report.refetch()>"Try again"</button>
                </div>
            }
            .into_any(),
            Some(Ok(None)) => view! {
                <p>"No report uploaded yet. In your working copy, run " <code>"sre-check run"</code>
                    " then " <code>"sre-check upload"</code> "; the results show here."</p>
            }
            .into_any(),
            Some(Ok(Some(report))) => report_view(&challenge, &report).into_any(),
        }
    };
    view! {
        <div class="page results-page">
            <h1>"Check results"</h1>
            {body}
            {move || sync.has_server().then(|| view! { <FilesSent /> })}
        </div>
    }
}

/// The files of the latest submission (`sre-check upload` sends them with the report).
#[component]
fn FilesSent() -> impl IntoView {
    let sync = expect_context::<Sync>();
    let sent = LocalResource::new(move || sync.sent());
    let body = move || match sent.get() {
        None => {
            view! { <p class="status" role="status">"Loading the files you sent…"</p> }.into_any()
        }
        Some(Err(reason)) => view! {
            <div class="status error" role="alert">
                <p>"Could not load the files you sent: " {reason}</p>
                <button type="button" on:click=move |_| sent.refetch()>"Try again"</button>
            </div>
        }
        .into_any(),
        // A server without the route keeps no work: nothing to say.
        Some(Ok(None)) => ().into_any(),
        Some(Ok(Some(Sent { submissions }))) => match submissions.into_iter().next() {
            None => view! {
                <p>"No files sent yet: " <code>"sre-check upload"</code>
                    " sends the files you added or changed with the report."</p>
            }
            .into_any(),
            Some(latest) => sent_list(latest).into_any(),
        },
    };
    view! {
        <section class="files-sent">
            <h2>"Files sent"</h2>
            {body}
        </section>
    }
}

fn sent_list(latest: SentSubmission) -> impl IntoView {
    let count = latest.files.len();
    let items = latest
        .files
        .into_iter()
        .map(|f| {
            view! {
                <li data-path=f.path.clone() data-kind=f.kind.clone()>
                    <code>{f.path.clone()}</code> {format!(" — {}, {} bytes", f.kind, f.size)}
                </li>
            }
        })
        .collect_view();
    view! {
        <p>{format!("Your latest upload, received {}, sent {count} files (new or changed from the starter kit):", latest.received_at)}</p>
        <ul class="sent-files">{items}</ul>
    }
}

fn report_view(challenge: &Challenge, report: &Report) -> impl IntoView {
    let topics = challenge
        .topics
        .iter()
        .filter_map(|topic| {
            let run = report.topics.iter().find(|t| t.id == topic.id.as_str())?;
            let checks = run
                .checks
                .iter()
                .map(|check| {
                    let hint = check
                        .hint
                        .clone()
                        .map(|h| view! { <p class="hint">"Hint: " {h}</p> });
                    let evidence = (!check.evidence.is_empty()).then(|| {
                        view! {
                            <details><summary>"Evidence"</summary>
                                <pre class="evidence">{check.evidence.clone()}</pre></details>
                        }
                    });
                    view! {
                        <li class="check">
                            {badge(&check.status)} " " {check.title.clone()}
                            <span class="duration">" (" {seconds(check.duration_ms)} ")"</span>
                            {hint}
                            {evidence}
                        </li>
                    }
                })
                .collect_view();
            Some(view! {
                <section class="topic-result">
                    <h2>{topic.roman()} ". " {topic.title.clone()} " " {badge(&run.status)}</h2>
                    <ul class="checks">{checks}</ul>
                </section>
            })
        })
        .collect_view();
    view! {
        <p>"Latest report: " {report.tool.name.clone()} " " {report.tool.version.clone()}
            ", finished " {report.finished_at.clone()} "."</p>
        {topics}
    }
}

/// A check or topic status, with a symbol so that it does not rely on color.
pub fn badge(status: &str) -> impl IntoView + use<> {
    let symbol = match status {
        "pass" => "✓",
        "fail" => "✗",
        "error" => "!",
        _ => "–",
    };
    view! { <span class=format!("badge {status}")>{symbol} " " {status.to_owned()}</span> }
}

fn seconds(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
}
