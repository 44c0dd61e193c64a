//! The files a topic hands out: each with a download link and an in-page viewer (monospace, line
//! numbers; images shown as images) in a modal dialog.

use leptos::html::Dialog;
use leptos::prelude::*;
use sre_model::site;

use crate::fetch::FetchedText;

/// Beyond this many lines the viewer shows the start and points to the download.
const MAX_LINES: usize = 5000;

/// The list of `files` (content paths) with their viewer.
#[component]
pub fn FileList(
    /// Content paths, e.g. `postgres/00_init.sql`.
    files: Vec<String>,
) -> impl IntoView {
    let viewing = RwSignal::new(None::<String>);
    let dialog = NodeRef::<Dialog>::new();
    let items = files
        .into_iter()
        .map(|path| {
            let url = site::file_url(&path);
            let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
            let open = path.clone();
            view! {
                <li>
                    <code>{path}</code>
                    <button type="button" on:click=move |_| {
                        viewing.set(Some(open.clone()));
                        if let Some(d) = dialog.get() {
                            let _ = d.show_modal();
                        }
                    }>"View"</button>
                    <a href=url download=name>"Download"</a>
                </li>
            }
        })
        .collect_view();
    view! {
        <ul class="file-list">{items}</ul>
        <dialog class="viewer" node_ref=dialog aria-label=move || viewing.get()
            on:close=move |_| viewing.set(None)>
            {move || viewing.get().map(viewer)}
        </dialog>
    }
}

/// The viewer's content for one file.
fn viewer(path: String) -> impl IntoView {
    let url = site::file_url(&path);
    let body = if is_image(&path) {
        view! { <img src=url.clone() alt=format!("{path} (image)") /> }.into_any()
    } else {
        let text = FetchedText::new(url.clone());
        (move || match text.state.get() {
            None => view! { <p class="status" role="status">"Loading…"</p> }.into_any(),
            Some(Ok(text)) => numbered(&text).into_any(),
            Some(Err(error)) => {
                view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any()
            }
        })
        .into_any()
    };
    view! {
        <div class="viewer-bar">
            <h2>{path.clone()}</h2>
            <a href=url download=path.rsplit('/').next().unwrap_or(&path).to_owned()>"Download"</a>
            <form method="dialog"><button class="close">"Close"</button></form>
        </div>
        {body}
    }
}

/// The text with a line number before each line (CSS counters: the numbers are not copied with
/// the text). One HTML string rather than a view per line: a lighter wasm, and a faster viewer.
fn numbered(text: &str) -> impl IntoView {
    let total = text.lines().count();
    let mut html = String::with_capacity(text.len() + 32 * total.min(MAX_LINES));
    for line in text.lines().take(MAX_LINES) {
        html.push_str("<span class=\"line\">");
        escape_into(&mut html, line);
        html.push_str("</span>");
    }
    let cut = (total > MAX_LINES).then(|| {
        view! { <p class="status">"Showing " {MAX_LINES} " of " {total} " lines: download the file for the rest."</p> }
    });
    view! {
        // The file's text is escaped: it shows as text, whatever it holds.
        <pre class="numbered" tabindex="0"><code inner_html=html></code></pre>
        {cut}
    }
}

/// Appends `text` to `html` as HTML text.
fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            c => html.push(c),
        }
    }
}

fn is_image(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}
