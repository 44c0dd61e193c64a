//! The answer preview's renderer: a Web Worker running sre-markdown (the `sre-preview` crate),
//! created the first time a candidate opens a preview, so pulldown-cmark is never part of the
//! first load.
//!
//! The worker posts `"ready"` once its wasm runs; requests made before are queued until then
//! (a message sent earlier would be lost). Each request carries a number; the worker answers
//! `[number, html]` and the callback registered for that number gets the HTML.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::Array;
use leptos::prelude::*;
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

/// The preview's renderer, provided as context by the editing app: one worker for the page,
/// started on first use. Copyable.
#[derive(Debug, Clone, Copy)]
pub struct Preview {
    /// Shared with the worker's message handler, which outlives any one render.
    client: StoredValue<Rc<RefCell<Client>>, LocalStorage>,
}

impl Default for Preview {
    fn default() -> Self {
        Self::new()
    }
}

impl Preview {
    /// A renderer whose worker is not started yet.
    pub fn new() -> Self {
        Preview {
            client: StoredValue::new_local(Rc::default()),
        }
    }

    /// Renders `markdown`, written in the answer file `document`, to safe HTML and hands it to
    /// `done`. Starts the worker on first use. An error means the worker could not start, or the
    /// page is going away.
    pub fn render(
        &self,
        document: &str,
        markdown: &str,
        done: impl FnOnce(String) + 'static,
    ) -> Result<(), String> {
        let shared = self
            .client
            .try_get_value()
            .ok_or("the preview is closed: reload the page")?;
        let mut client = shared.borrow_mut();
        if client.worker.is_none() {
            client.worker = Some(start(Rc::downgrade(&shared))?);
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
    }
}

fn post(client: &Client, request: &Array) {
    if let Some(worker) = &client.worker {
        let _ = worker.post_message(request);
    }
}

/// Starts the worker, whose replies go to `client` (weak: the handler must not keep the client
/// alive, the worker holds the handler).
fn start(client: std::rc::Weak<RefCell<Client>>) -> Result<Worker, String> {
    // A classic worker: Trunk's loader shim uses importScripts. Its URL is relative to the page's
    // base URL, like every file of the site.
    let worker = Worker::new(site::PREVIEW_WORKER)
        .map_err(|_| "the preview could not start (Web Workers are disabled?)".to_owned())?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(client) = client.upgrade() else {
            return;
        };
        let data = event.data();
        if data.as_string().as_deref() == Some("ready") {
            let mut client = client.borrow_mut();
            client.ready = true;
            for request in std::mem::take(&mut client.queued) {
                post(&client, &request);
            }
            return;
        }
        let reply = Array::from(&data);
        let id = reply.get(0).as_f64().map_or(u32::MAX, |n| n as u32);
        let html = reply.get(1).as_string().unwrap_or_default();
        // Take the callback out before calling it: it may ask for another render.
        let callback = client.borrow_mut().callbacks.remove(&id);
        if let Some(callback) = callback {
            callback(html);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page.
    on_message.forget();
    Ok(worker)
}
