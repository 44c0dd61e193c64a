//! The export: every written answer in one `.zip`, under the file names the challenge expects
//! (`infrastructure/infra.txt`, `technical-leadership.md`…), so that a candidate without a server
//! can email it, or unzip it over their working copy.

use js_sys::{Array, Date, Uint8Array};
use leptos::prelude::GetUntracked;
use sre_archive::{Timestamp, ZipWriter};
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::answers::Answers;

/// The archive of every answer that is not blank, its files stamped with the current local time.
pub fn archive(answers: &Answers) -> Result<Vec<u8>, String> {
    let now = Date::new_0();
    let mut zip = ZipWriter::new(Timestamp {
        year: now.get_full_year() as u16,
        month: now.get_month() as u8 + 1,
        day: now.get_date() as u8,
        hour: now.get_hours() as u8,
        minute: now.get_minutes() as u8,
        second: now.get_seconds() as u8,
    });
    for (slot, state) in answers.iter() {
        let text = state.text.get_untracked();
        if !text.trim().is_empty() {
            zip.add(&slot.file, text.as_bytes())
                .map_err(|e| e.to_string())?;
        }
    }
    zip.finish().map_err(|e| e.to_string())
}

/// Hands `bytes` to the browser as a download named `name`.
pub fn download(name: &str, bytes: &[u8]) -> Result<(), String> {
    let fail = |_| "the browser refused the download".to_owned();
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type("application/zip");
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = leptos::prelude::document();
    let link: HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "the browser refused the download".to_owned())?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has started from the URL; it can go once the click is handled.
    leptos::prelude::set_timeout(
        move || {
            let _ = Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(10),
    );
    Ok(())
}
