//! The answer preview worker: renders a candidate's markdown with sre-markdown, off the main
//! thread and outside the site's first-load bundle (pulldown-cmark is most of this wasm).
//!
//! Protocol (plain JS arrays, no serde): once started, the worker posts the string `"ready"`;
//! messages sent before that are lost, so the page waits for it. The page then posts
//! `[id, document, markdown]` (`document` is the answer's file, e.g. `postgres/postgres.md`, so
//! relative links and images resolve against its folder on the site); the worker answers
//! `[id, html]`. The HTML follows sre-markdown's rules: raw HTML escaped, only http, https and
//! mailto URLs or relative ones.

use js_sys::Array;
use sre_markdown::LinkMap;
use sre_model::site::FILES_DIR;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // Answers link to challenge files the way the readmes do: under `content/`, relative to the
    // site's base URL (the page applies it when it inserts the HTML).
    let links = LinkMap::new(&format!("{FILES_DIR}/"));
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let request = Array::from(&event.data());
        let id = request.get(0);
        let document = request.get(1).as_string().unwrap_or_default();
        let markdown = request.get(2).as_string().unwrap_or_default();
        let html = sre_markdown::render(&markdown, &document, &links);
        let reply = Array::of2(&id, &JsValue::from_str(&html));
        // A failed post means the page is gone; nothing to tell.
        let _ = reply_to.post_message(&reply);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page: its handler is never dropped.
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str("ready"));
}
