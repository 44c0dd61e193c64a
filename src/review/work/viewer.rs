//! One submitted file: a changed file as a unified diff against the starter (line numbers, added
//! and removed lines coloured and signed, unchanged runs folded, or the whole file), a new file
//! as its text with line numbers, a binary or too large file as a download. Every line is a text
//! node: a hostile file shows as the text it is.

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::super::export::save_blob;
use super::super::session::Session;
use super::data::FileView;
use super::rows::{Row, diff_rows, shows_line, text_rows};
use super::tree::{file_name, size_text};

/// The file viewer's element id (the render time is written on it, see [`RENDER_MS_ATTRIBUTE`]).
const VIEWER_ID: &str = "file-view";
/// The attribute that holds how long the last render of the rows took, in milliseconds: from
/// before the rows are built to after the browser laid them out (`scripts/bench-work` reads it).
const RENDER_MS_ATTRIBUTE: &str = "data-render-ms";

/// A submitted file, as the server describes it.
#[component]
pub fn FileViewer(
    /// The candidate's server id.
    candidate: String,
    /// The submission's digest.
    submission: String,
    /// The file.
    file: Arc<FileView>,
    /// A line of the submitted file to show and highlight.
    line: Memo<Option<u32>>,
) -> impl IntoView {
    let kind = file.kind.clone();
    let heading = view! {
        <h2 class="file-path"><code>{file.path.clone()}</code></h2>
        <p class="file-facts">
            <span class=format!("kind {kind}")>{kind.clone()}</span>
            {format!(" — {}, sha256 {}", size_text(file.size), file.sha256)}
            {file.diff.as_ref().map(|d| format!(", starter {}", size_text(d.starter_bytes)))}
        </p>
    };
    let download = download_button(candidate, submission, file.path.clone());
    let path = file.path.clone();
    let body = if file.binary || file.too_large || file.text.is_none() {
        let why = if file.binary {
            "This file is not text (binary, or not UTF-8): download it to read it."
        } else {
            "This file is too large to show here: download it to read it."
        };
        view! { <p class="status file-download-only">{why}</p> }.into_any()
    } else {
        view! { <Lines file line /> }.into_any()
    };
    view! {
        <section id=VIEWER_ID class="file-view" data-path=path>
            {heading}
            <p>{download}</p>
            {body}
        </section>
    }
}

/// The download of the file's bytes (fetched with the token, then saved).
fn download_button(candidate: String, submission: String, path: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let fetch = move |_| {
        let (api, id, digest, path) = (
            session.api(),
            candidate.clone(),
            submission.clone(),
            path.clone(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            let Some(api) = api else { return };
            let outcome = match api.raw(&id, &digest, &path).await {
                Ok(blob) => save_blob(&blob, file_name(&path)),
                Err(failure) => Err(failure.message().to_owned()),
            };
            busy.set(false);
            error.set(outcome.err());
        });
    };
    view! {
        <button type="button" class="download-file" on:click=fetch disabled=move || busy.get()>
            "Download the file"</button>
        {move || error.get().map(|e| view! { <span class="status error" role="alert">" Could not download it: " {e} "."</span> })}
    }
}

/// The file's lines: the diff (folded or whole) of a changed file, the text of a new one.
///
/// The rows are made with the DOM directly, as text nodes, rather than one Leptos view per line:
/// a file has thousands of lines, and the viewer times its render (see [`RENDER_MS_ATTRIBUTE`]).
#[component]
fn Lines(file: Arc<FileView>, line: Memo<Option<u32>>) -> impl IntoView {
    let changed = file.diff.is_some();
    // A line to show that a fold hides opens the whole file.
    let hidden = line.get_untracked().is_some_and(|n| {
        file.diff.as_ref().is_some_and(|diff| {
            !shows_line(&diff_rows(diff, file.text.as_deref(), false), u64::from(n))
        })
    });
    let whole = RwSignal::new(hidden);
    let count = RwSignal::new(None::<usize>);
    let body = NodeRef::<leptos::html::Tbody>::new();
    Effect::new(move |_| {
        let whole = whole.get();
        let target = line.get();
        let Some(body) = body.get() else { return };
        let started = now();
        let rows = match &file.diff {
            Some(diff) => diff_rows(diff, file.text.as_deref(), whole),
            None => text_rows(file.text.as_deref().unwrap_or_default()),
        };
        fill(&body, &rows);
        // Reading a layout property makes the browser lay the rows out now, inside the timing.
        let _ = body.offset_height();
        let took = now() - started;
        if let Some(viewer) = document().get_element_by_id(VIEWER_ID) {
            let _ = viewer.set_attribute(RENDER_MS_ATTRIBUTE, &format!("{took:.1}"));
            highlight(&viewer, target);
        }
        count.set(Some(rows.len()));
    });
    // A fold's button opens the whole file (one listener for every row).
    let unfold = move |event: leptos::ev::MouseEvent| {
        let on_fold = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button.unfold").ok().flatten())
            .is_some();
        if on_fold {
            whole.set(true);
        }
    };
    let toggle = changed.then(|| {
        view! {
            <button type="button" class="toggle-whole" on:click=move |_| whole.update(|w| *w = !*w)>
                {move || if whole.get() { "Fold unchanged lines" } else { "Show the whole file" }}
            </button>
        }
    });
    let empty = move || {
        (count.get() == Some(0)).then(|| {
            let why = if changed {
                "No line differs from the starter (only the bytes, e.g. line endings)."
            } else {
                "The file is empty."
            };
            view! { <p class="muted">{why}</p> }
        })
    };
    let class = if changed { "code diff" } else { "code text" };
    view! {
        {toggle}
        <table class=class on:click=unfold><tbody node_ref=body></tbody></table>
        {empty}
    }
}

/// Replaces the rows of `body` with `rows`: every text a text node.
fn fill(body: &web_sys::HtmlElement, rows: &[Row<'_>]) {
    let document = document();
    let fragment = document.create_document_fragment();
    let cell = |row: &web_sys::Element, class: &str, text: &str| {
        if let Ok(td) = document.create_element("td") {
            td.set_class_name(class);
            td.set_text_content(Some(text));
            let _ = row.append_child(&td);
            return Some(td);
        }
        None
    };
    for row in rows {
        let Ok(tr) = document.create_element("tr") else {
            return;
        };
        match row {
            Row::Header(header) => {
                tr.set_class_name("hunk-header");
                if let Some(td) = cell(&tr, "", header) {
                    let _ = td.set_attribute("colspan", "4");
                }
            }
            Row::Fold(count) => {
                tr.set_class_name("fold");
                if let (Some(td), Ok(button)) =
                    (cell(&tr, "", ""), document.create_element("button"))
                {
                    let _ = td.set_attribute("colspan", "4");
                    let _ = button.set_attribute("type", "button");
                    button.set_class_name("link unfold");
                    button.set_text_content(Some(&format!("⋯ {count} unchanged lines")));
                    let _ = td.append_child(&button);
                }
            }
            Row::Line { op, old, new, text } => {
                let number = |n: &Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
                let (old, new) = (number(old), number(new));
                tr.set_class_name(&format!("line {}", op.class()));
                let _ = tr.set_attribute("data-op", op.class());
                let _ = tr.set_attribute("data-old", &old);
                let _ = tr.set_attribute("data-new", &new);
                cell(&tr, "num old", &old);
                cell(&tr, "num new", &new);
                cell(&tr, "sign", op.sign());
                cell(&tr, "code-line", text);
            }
        }
        let _ = fragment.append_child(&tr);
    }
    body.set_text_content(None);
    let _ = body.append_child(&fragment);
}

/// Marks the row of line `target` of the submitted file and scrolls it into the middle of the
/// view (the previous mark goes).
fn highlight(viewer: &web_sys::Element, target: Option<u32>) {
    if let Ok(Some(old)) = viewer.query_selector("tr.target") {
        old.set_class_name(&old.class_name().replace(" target", ""));
    }
    let Some(target) = target else { return };
    let selector = format!("tr.line[data-new=\"{target}\"]:not([data-op=\"remove\"])");
    if let Ok(Some(row)) = viewer.query_selector(&selector) {
        row.set_class_name(&format!("{} target", row.class_name()));
        // `scrollIntoView({block: "center"})`, called through JS: web-sys's bindings for its
        // options would be features of their own, and a rebuild of web-sys for every wasm.
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"block".into(), &"center".into());
        if let Ok(scroll) = js_sys::Reflect::get(&row, &"scrollIntoView".into())
            .and_then(|f| f.dyn_into::<js_sys::Function>())
        {
            let _ = scroll.call1(&row, &options);
        }
    }
}

/// `performance.now()`, through JS for the same reason.
fn now() -> f64 {
    js_sys::Reflect::get(&window(), &"performance".into())
        .and_then(|p| {
            let now = js_sys::Reflect::get(&p, &"now".into())?.dyn_into::<js_sys::Function>()?;
            now.call0(&p)
        })
        .ok()
        .and_then(|t| t.as_f64())
        .unwrap_or(0.0)
}
