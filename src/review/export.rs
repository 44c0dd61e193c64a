//! The export of every score of every candidate, as CSV or JSON. The export routes need the
//! reviewer's token in a header, so a plain link cannot fetch them: the page fetches the file,
//! hands it to the browser as a download, and keeps a link to it for saving again.

use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use super::api::ExportFormat;
use super::session::Session;

/// A fetched export: its format and the object URL that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fetched {
    format: ExportFormat,
    url: String,
}

/// The export buttons, and a link to each file fetched.
#[component]
pub fn Export() -> impl IntoView {
    let session = expect_context::<Session>();
    let fetched = RwSignal::new(Vec::<Fetched>::new());
    let error = RwSignal::new(None::<String>);
    let export = move |format: ExportFormat| {
        let api = session.api();
        leptos::task::spawn_local(async move {
            let Some(api) = api else { return };
            let outcome = match api.export(format).await {
                Ok(text) => object_url(&text, format.mime()),
                Err(failure) => Err(failure.message().to_owned()),
            };
            match outcome {
                Ok(url) => {
                    error.set(None);
                    save(&url, format.file_name());
                    fetched.update(|all| {
                        // One link per format: the newest replaces the older one.
                        if let Some(old) = all.iter().position(|f| f.format == format) {
                            let _ = Url::revoke_object_url(&all.remove(old).url);
                        }
                        all.push(Fetched { format, url });
                    });
                }
                Err(reason) => error.set(Some(reason)),
            }
        });
    };
    let links = move || {
        fetched
            .get()
            .into_iter()
            .map(|f| {
                let name = f.format.file_name();
                view! { <li><a class="export-file" href=f.url download=name>{name}</a>" (save again)"</li> }
            })
            .collect_view()
    };
    view! {
        <section class="export">
            <h2>"Export all scores"</h2>
            <p>"Every score of every candidate by every reviewer, one row per criterion."</p>
            <button type="button" class="export-csv" on:click=move |_| export(ExportFormat::Csv)>"Download CSV"</button>
            " "
            <button type="button" class="export-json" on:click=move |_| export(ExportFormat::Json)>"Download JSON"</button>
            <ul class="export-files">{links}</ul>
            {move || error.get().map(|e| view! { <p class="status error" role="alert">"Could not export: " {e} "."</p> })}
        </section>
    }
}

/// An object URL holding `text` with this MIME type.
fn object_url(text: &str, mime: &str) -> Result<String, String> {
    let fail = |_| "the browser refused to hold the file".to_owned();
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&Array::of1(&text.into()), &options)
        .map_err(fail)?;
    Url::create_object_url_with_blob(&blob).map_err(fail)
}

/// Hands a fetched file to the browser as a download named `name`.
pub fn save_blob(blob: &Blob, name: &str) -> Result<(), String> {
    let url = Url::create_object_url_with_blob(blob)
        .map_err(|_| "the browser refused to hold the file".to_owned())?;
    save(&url, name);
    // The browser has read the file by then; the URL would otherwise hold it for the page's life.
    set_timeout(
        move || {
            let _ = Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

/// Starts the download of an object URL under `name`.
fn save(url: &str, name: &str) {
    let link = document()
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlAnchorElement>().ok());
    if let Some(link) = link {
        link.set_href(url);
        link.set_download(name);
        link.click();
    }
}
