//! The answer preview's renderer: a Web Worker running sre-markdown (the `sre-preview` crate),
//! created the first time a candidate opens a preview, so pulldown-cmark is never part of the
//! first load.
//!
//! The worker posts `"ready"` once its wasm runs; requests made before are queued until then
//! (a message sent earlier would be lost). Each request carries a number; the worker answers
//! `[number, html]` and the callback registered for that number gets the HTML.

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::Array;
use sre_model::site;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker};

type Callback = Box<dyn FnOnce(String)>;

#[derive(Default)]
struct Client {
    worker: Option<Worker>,
    ready: bool,
    /// Requests made before the worker was ready.
    queued: Vec<Array>,
    callbacks: BTreeMap<u32, Callback>,
    next: u32,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new(Client::default());
}

/// Renders `markdown`, written in the answer file `document`, to safe HTML and hands it to `done`.
/// Starts the worker on first use. An error means the worker could not start.
pub fn render(
    document: &str,
    markdown: &str,
    done: impl FnOnce(String) + 'static,
) -> Result<(), String> {
    CLIENT.with(|client| {
        let mut client = client.borrow_mut();
        if client.worker.is_none() {
            client.worker = Some(start()?);
        }
        let id = client.next;
        client.next = client.next.wrapping_add(1);
        client.callbacks.insert(id, Box::new(done));
        let request = Array::of3(
            &JsValue::from(id),
            &JsValue::from_str(document),
            &JsValue::from_str(markdown),
        );
        if client.ready {
            post(&client, &request);
        } else {
            client.queued.push(request);
        }
        Ok(())
    })
}

fn post(client: &Client, request: &Array) {
    if let Some(worker) = &client.worker {
        let _ = worker.post_message(request);
    }
}

fn start() -> Result<Worker, String> {
    // A classic worker: Trunk's loader shim uses importScripts. Its URL is relative to the page's
    // base URL, like every file of the site.
    let worker = Worker::new(site::PREVIEW_WORKER)
        .map_err(|_| "the preview could not start (Web Workers are disabled?)".to_owned())?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        if data.as_string().as_deref() == Some("ready") {
            CLIENT.with(|client| {
                let mut client = client.borrow_mut();
                client.ready = true;
                for request in std::mem::take(&mut client.queued) {
                    post(&client, &request);
                }
            });
            return;
        }
        let reply = Array::from(&data);
        let id = reply.get(0).as_f64().map_or(u32::MAX, |n| n as u32);
        let html = reply.get(1).as_string().unwrap_or_default();
        // Take the callback out before calling it: it may ask for another render.
        let callback = CLIENT.with(|client| client.borrow_mut().callbacks.remove(&id));
        if let Some(callback) = callback {
            callback(html);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page.
    on_message.forget();
    Ok(worker)
}
