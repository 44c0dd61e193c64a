//! The Work page of a candidate (`review/<id>/work`): the files they submitted with
//! `sre-check upload` — the tree of new and changed files, and the selected file's diff against
//! the starter or its text — and their older submissions (the latest is shown first). Also the
//! links from a check's evidence to the file and line it names ([`evidence`]).
//!
//! Everything here is the candidate's: file names and contents are text nodes and attribute
//! values, never HTML, so a hostile file (or file name) cannot run script.

pub mod data;
pub mod evidence;
pub mod rows;
pub mod tree;
pub mod viewer;

use std::sync::Arc;

use leptos::prelude::*;

use self::data::{Submission, SubmissionSummary};
use self::evidence::EvidenceLinks;
use self::tree::{size_text, tree_view};
use self::viewer::FileViewer;
use super::api::{Failure, ReviewApi};
use super::export::save_blob;
use super::failure_view;
use super::nav::{WorkQuery, candidate_href, work_href};
use super::session::Session;

/// The Work page.
#[component]
pub fn WorkPage(
    /// The candidate's server id.
    id: String,
    /// Which submission, file and line the address names.
    query: Memo<WorkQuery>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    document().set_title("Work — Review — SRE Challenge");
    let list_id = id.clone();
    let list = LocalResource::new(move || {
        let (api, id) = (session.api(), list_id.clone());
        async move {
            match api {
                Some(api) => api.submissions(&id).await.map(|l| Arc::new(l.submissions)),
                None => Err(Failure::Token("logged out".to_owned())),
            }
        }
    });
    let back = candidate_href(&id);
    let body = move || match list.get() {
        None => view! { <p class="status" role="status">"Loading the submissions…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || list.refetch()),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="no-work">"No work submitted yet: the candidate sends it with "
                <code>"sre-check upload"</code> "."</p>
        }
        .into_any(),
        Some(Ok(list)) => submissions(id.clone(), list, query).into_any(),
    };
    view! {
        <div class="page review-work">
            <p class="breadcrumb"><a href=back>"← Candidate"</a></p>
            <h1>"Submitted work"</h1>
            {body}
        </div>
    }
}

/// The list of submissions and the one the address names (the latest by default).
fn submissions(
    id: String,
    list: Arc<Vec<SubmissionSummary>>,
    query: Memo<WorkQuery>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let latest = list.first().map(|s| s.digest.clone()).unwrap_or_default();
    let digest = Memo::new(move |_| {
        query
            .with(|q| q.submission.clone())
            .unwrap_or(latest.clone())
    });
    let file = Memo::new(move |_| query.with(|q| q.file.clone()));
    let line = Memo::new(move |_| query.with(|q| q.line));

    let (detail_id, file_id) = (id.clone(), id.clone());
    let detail = LocalResource::new(move || {
        let (api, id, digest) = (session.api(), detail_id.clone(), digest.get());
        async move {
            call(api, |api| async move {
                api.submission(&id, &digest).await.map(Arc::new)
            })
            .await
        }
    });
    let shown = LocalResource::new(move || {
        let (api, id, digest, path) = (session.api(), file_id.clone(), digest.get(), file.get());
        async move {
            let Some(path) = path else { return Ok(None) };
            call(api, |api| async move {
                api.file(&id, &digest, &path)
                    .await
                    .map(|f| Some(Arc::new(f)))
            })
            .await
        }
    });

    let list_id = id.clone();
    let older = move || {
        let current = digest.get();
        list.iter()
            .enumerate()
            .map(|(i, s)| submission_item(&list_id, s, i == 0, s.digest == current))
            .collect_view()
    };
    let page_id = id.clone();
    let files = move || match detail.get() {
        None => view! { <p class="status" role="status">"Loading the files…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || detail.refetch()),
        Some(Ok(submission)) => {
            let selected = file.get();
            let view_id = page_id.clone();
            view! {
                {submission_facts(&view_id, &submission)}
                <div class="work-layout">
                    <nav class="work-files" aria-label="Files">
                        {tree_view(&view_id, &submission.digest, &submission.files, selected.as_deref())}
                    </nav>
                    <div class="work-file">{file_view(view_id.clone(), submission.digest.clone(), shown, line)}</div>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="submissions">
            <h2>"Submissions"</h2>
            <ol class="submission-list">{older}</ol>
        </section>
        {files}
    }
}

/// Calls the API with the session's token.
async fn call<T, F>(api: Option<ReviewApi>, f: impl FnOnce(ReviewApi) -> F) -> Result<T, Failure>
where
    F: std::future::Future<Output = Result<T, Failure>>,
{
    match api {
        Some(api) => f(api).await,
        None => Err(Failure::Token("logged out".to_owned())),
    }
}

/// A submission in the list, a link unless it is the one shown.
fn submission_item(
    id: &str,
    summary: &SubmissionSummary,
    latest: bool,
    current: bool,
) -> impl IntoView + use<> {
    let text = format!(
        "{}{} — {} files, {}",
        summary.received_at,
        if latest { " (latest)" } else { "" },
        summary.file_count,
        size_text(summary.bytes)
    );
    let stale = (summary.challenge_matches == Some(false)).then(
        || view! { <strong class="warning">" Made for another version of the challenge."</strong> },
    );
    let href = work_href(
        id,
        &WorkQuery {
            submission: Some(summary.digest.clone()),
            ..WorkQuery::default()
        },
    );
    let entry = if current {
        view! { <strong aria-current="page">{text}</strong> }.into_any()
    } else {
        view! { <a href=href>{text}</a> }.into_any()
    };
    view! { <li class="submission" data-digest=summary.digest.clone()>{entry}{stale}</li> }
}

/// What the shown submission is, and its archive as a download.
fn submission_facts(id: &str, submission: &Submission) -> impl IntoView + use<> {
    let session = expect_context::<Session>();
    let error = RwSignal::new(None::<String>);
    let (archive_id, digest) = (id.to_owned(), submission.digest.clone());
    let download = move |_| {
        let (api, id, digest) = (session.api(), archive_id.clone(), digest.clone());
        leptos::task::spawn_local(async move {
            let Some(api) = api else { return };
            let outcome = match api.archive(&id, &digest).await {
                Ok(blob) => save_blob(&blob, "submission.tar.gz"),
                Err(failure) => Err(failure.message().to_owned()),
            };
            error.set(outcome.err());
        });
    };
    let (new, changed) = submission.files.iter().fold((0, 0), |(n, c), f| {
        if f.kind == "new" {
            (n + 1, c)
        } else {
            (n, c + 1)
        }
    });
    let stale = (submission.challenge_matches == Some(false)).then(|| {
        view! { <strong class="warning">" Made for another version of the challenge: the diffs are against this server's starter."</strong> }
    });
    view! {
        <p class="submission-facts">
            {format!(
                "Received {}: {} files ({new} new, {changed} changed), archive {}, sent with the report {}.",
                submission.received_at,
                submission.files.len(),
                size_text(submission.bytes),
                submission.report_digest
            )}
            {stale}
            " " <button type="button" class="link download-archive" on:click=download>"Download the archive"</button>
            {move || error.get().map(|e| view! { <span class="status error" role="alert">" Could not download it: " {e} "."</span> })}
        </p>
    }
}

/// The selected file, or a word on choosing one.
fn file_view(
    id: String,
    digest: String,
    shown: LocalResource<Result<Option<Arc<data::FileView>>, Failure>>,
    line: Memo<Option<u32>>,
) -> impl IntoView {
    move || {
        match shown.get() {
        None => view! { <p class="status" role="status">"Loading the file…"</p> }.into_any(),
        Some(Err(failure)) => failure_view(failure, move || shown.refetch()),
        Some(Ok(None)) => view! { <p class="muted">"Choose a file to read it: a changed file shows its diff against the starter kit, a new one its text."</p> }.into_any(),
        Some(Ok(Some(file))) => view! { <FileViewer candidate=id.clone() submission=digest.clone() file line /> }.into_any(),
    }
    }
}

/// The candidate page's view of the work: how many submissions, the latest, and where the
/// evidence of its checks links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkSummary {
    /// Submissions received.
    pub count: usize,
    /// When the latest arrived, and how many files it has.
    pub latest: (String, u64),
    /// The submission sent with the report shown (or else the latest), with its files.
    pub links: EvidenceLinks,
}

/// The summary of a candidate's work; `None` when they sent none (or the server keeps none).
pub async fn work_summary(
    api: ReviewApi,
    id: String,
    report: Option<String>,
) -> Option<Arc<WorkSummary>> {
    let list = api.submissions(&id).await.ok()?.submissions;
    let latest = list.first()?;
    let chosen = list
        .iter()
        .find(|s| Some(&s.report_digest) == report.as_ref())
        .unwrap_or(latest);
    let submission = api.submission(&id, &chosen.digest).await.ok()?;
    Some(Arc::new(WorkSummary {
        count: list.len(),
        latest: (latest.received_at.clone(), latest.file_count),
        links: EvidenceLinks {
            candidate: id,
            submission: submission.digest,
            files: submission.files.into_iter().map(|f| f.path).collect(),
        },
    }))
}
