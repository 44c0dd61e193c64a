//! Starting a second wasm app on the page: its script (wasm-bindgen's `no-modules` output, which
//! Trunk writes for a `data-type="worker"` binary, without a content hash) is added to the page,
//! then its init function fetches and starts its wasm, whose `main` mounts it.
//!
//! The site's first load holds only the reading app; the editing app comes this way once the
//! reading app runs (see [`crate::parts`]).

use js_sys::{Function, Object, Promise, Reflect};
use leptos::prelude::document;
use wasm_bindgen::prelude::*;

/// Adds `script` (relative to the base URL) to the page and starts its `wasm` with it; calls
/// `failed` with the reason when either does not load or start.
pub fn load(script: &'static str, wasm: &'static str, failed: fn(&str)) {
    let document = document();
    let (Some(body), Ok(element)) = (document.body(), document.create_element("script")) else {
        return failed("the browser refused to add a script");
    };
    let _ = element.set_attribute("src", script);
    let on_load = Closure::once_into_js(move || start(script, wasm, failed));
    let on_error = Closure::once_into_js(move || failed(&format!("{script} did not load")));
    let _ = element.add_event_listener_with_callback("load", on_load.unchecked_ref());
    let _ = element.add_event_listener_with_callback("error", on_error.unchecked_ref());
    let _ = body.append_child(&element);
}

#[wasm_bindgen]
extern "C" {
    /// The init function a `no-modules` script defines. It declares `let wasm_bindgen` at its top
    /// level: a global binding that is not a property of `window`, so the glue reads it by name
    /// (not with `Function`/`eval`, which the Content-Security-Policy refuses). Read once, after
    /// the script has loaded; absent (`None`) if the script is not a wasm-bindgen app.
    #[wasm_bindgen(thread_local_v2, js_name = wasm_bindgen)]
    static NO_MODULES_INIT: Option<Function>;
}

/// Runs `wasm_bindgen({module_or_path})`, the init function the script defines.
fn start(script: &str, wasm: &'static str, failed: fn(&str)) {
    let Some(init) = NO_MODULES_INIT.with(Clone::clone) else {
        return failed(&format!("{script} is not a wasm-bindgen app"));
    };
    let options = Object::new();
    let _ = Reflect::set(&options, &"module_or_path".into(), &wasm.into());
    let started = init
        .call1(&JsValue::NULL, &options)
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok());
    match started {
        Some(promise) => {
            let on_error =
                Closure::once(move |_: JsValue| failed(&format!("{wasm} did not start")));
            let _ = promise.catch(&on_error);
            // Called at most once, after this function returns.
            on_error.forget();
        }
        None => failed(&format!("{wasm} did not start")),
    }
}
