//! An HTML fragment that the build step rendered from markdown, shown as it is, with its images
//! opening in a zoomed view.
//!
//! `inner_html` is safe here only because the fragment is ours: `cargo xtask render` made it with
//! sre-markdown, which escapes raw HTML and drops unsafe URLs. Never use it for text a candidate
//! or a server typed.
//!
//! The build links every image to its own file, so an image is a link a keyboard reaches and that
//! works without JavaScript; a click on such a link opens the image in a modal dialog instead.

use leptos::html::Dialog;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, HtmlImageElement, MouseEvent};

use crate::boot::Prerendered;
use crate::fetch::FetchedText;
use crate::status::{load_failed, loading};

/// Shows the fragment at `url` (relative to the base URL) as an article: the prerendered one
/// when the page was built with it, else fetched.
#[component]
pub fn Fragment(
    /// The fragment, e.g. `challenge/readme.html`.
    url: String,
    /// What it is, for the loading and error messages ("the README").
    what: &'static str,
) -> impl IntoView {
    if let Some(html) = use_context::<Prerendered>().and_then(|p| p.take(&url)) {
        return article(html).into_any();
    }
    let html = FetchedText::new(url);
    (move || match html.state.get() {
        None => loading(what).into_any(),
        Some(Ok(html)) => article(html).into_any(),
        Some(Err(error)) => load_failed(what, error, move || html.reload()).into_any(),
    })
    .into_any()
}

fn article(html: String) -> impl IntoView {
    let zoomed = RwSignal::new(None::<(String, String)>);
    let dialog = NodeRef::<Dialog>::new();
    let on_click = move |event: MouseEvent| {
        if let Some(image) = image_link(&event) {
            event.prevent_default();
            zoomed.set(Some((image.src(), image.alt())));
            if let Some(dialog) = dialog.get() {
                let _ = dialog.show_modal();
            }
        }
    };
    view! {
        <article class="markdown" inner_html=html on:click=on_click></article>
        <dialog class="zoom" node_ref=dialog aria-label=move || zoomed.get().map(|(_, alt)| alt)
            on:close=move |_| zoomed.set(None)>
            <form method="dialog"><button class="close">"Close"</button></form>
            {move || zoomed.get().map(|(src, alt)| view! { <img src=src alt=alt /> })}
        </dialog>
    }
}

/// The image of a click on a link to that very image (what the build step writes).
fn image_link(event: &MouseEvent) -> Option<HtmlImageElement> {
    if event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() {
        return None;
    }
    let target: web_sys::Element = event.target()?.dyn_into().ok()?;
    let link: HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    let image: HtmlImageElement = link.query_selector("img").ok()??.dyn_into().ok()?;
    (image.src() == link.href()).then_some(image)
}
