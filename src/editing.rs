//! The editing app: the second wasm (`sre-edit`), started by the reading app once the page is
//! interactive ([`crate::lazy_app`]). It loads the candidate's answers, starts the sync, and
//! mounts each editing part ([`Part`]) into the placeholders the reading app leaves in its pages,
//! as they appear (a MutationObserver); a part whose placeholder left the page is dropped.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, MutationObserver, MutationObserverInit};

use crate::answers::Answers;
use crate::answers_page::AnswersPage;
use crate::challenge::Challenge;
use crate::editor::AnswerEditor;
use crate::files::FileList;
use crate::parts::{self, Part};
use crate::preview::Preview;
use crate::results::{self, ResultsPage};
use crate::sync::Sync;
use crate::{boot, header, invite, topic_list};

/// The mounted parts: each placeholder with its mount (dropping it unmounts the part).
type Mounted = RefCell<Vec<(Element, Box<dyn Any>)>>;

/// Starts the editing app on the reading app's page.
pub fn start() {
    // The reading app says why when the page carries no challenge.
    let Ok(challenge) = boot::challenge() else {
        return;
    };
    let challenge = Arc::new(challenge);
    let _ = any_spawner::Executor::init_wasm_bindgen();
    // The owner of the answers, the sync, the report and the preview, for as long as the page
    // lives; every part is mounted under it and finds them as contexts.
    let root = Owner::new();
    root.with(|| {
        let answers = Answers::load(&challenge);
        // An invite whose server is refused leaves the answers local (the reading app says why).
        let sync = Sync::start(&answers, invite::stored().ok().flatten());
        provide_context(answers.clone());
        provide_context(sync);
        provide_context(results::load_latest(sync));
        provide_context(Preview::new());
        // Typing that waits for its pause is saved before the page goes away.
        let flush = answers.clone();
        let _ = window_event_listener(ev::pagehide, move |_| flush.flush());
        let _ = window_event_listener(ev::visibilitychange, move |_| {
            if document().hidden() {
                answers.flush();
            }
        });
    });

    let mounted = Mounted::default();
    let mount = move || mount_parts(&root, &challenge, &mounted);
    mount();
    let on_change = Closure::<dyn Fn()>::new(mount);
    let Ok(observer) = MutationObserver::new(on_change.as_ref().unchecked_ref()) else {
        return;
    };
    // Lives as long as the page.
    on_change.forget();
    let options = MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    if let Some(body) = document().body() {
        let _ = observer.observe_with_options(&body, &options);
    }
}

/// Drops the parts whose placeholder left the page and mounts one into each new placeholder.
fn mount_parts(root: &Owner, challenge: &Arc<Challenge>, mounted: &Mounted) {
    // Taken out first: unmounting runs the parts' cleanups, which must not find `mounted`
    // borrowed.
    let gone: Vec<_> = {
        let mut m = mounted.borrow_mut();
        let (kept, gone) = m.drain(..).partition(|(element, _)| element.is_connected());
        *m = kept;
        gone
    };
    drop(gone);

    let Ok(found) = document().query_selector_all(parts::UNMOUNTED_SELECTOR) else {
        return;
    };
    for index in 0..found.length() {
        let Some(element) = found
            .item(index)
            .and_then(|n| n.dyn_into::<HtmlElement>().ok())
        else {
            continue;
        };
        let _ = element.set_attribute(parts::MOUNTED_ATTR, "");
        let kind = element.get_attribute(parts::KIND_ATTR).unwrap_or_default();
        let topic = element.get_attribute(parts::TOPIC_ATTR);
        let Some(part) = Part::parse(&kind, topic.as_deref()) else {
            continue;
        };
        let challenge = challenge.clone();
        let handle = root
            .with(|| leptos::mount::mount_to(element.clone(), move || part_view(part, challenge)));
        mounted
            .borrow_mut()
            .push((element.into(), Box::new(handle)));
    }
}

/// The view of one part.
fn part_view(part: Part, challenge: Arc<Challenge>) -> AnyView {
    match part {
        Part::SyncStatus => header::sync_status().into_any(),
        Part::Progress(id) => challenge.topic(&id).map(topic_list::progress).into_any(),
        Part::Editors(id) => challenge
            .topic(&id)
            .map(|topic| {
                topic
                    .slots
                    .iter()
                    .map(|slot| view! { <AnswerEditor answer=slot.clone() /> })
                    .collect_view()
            })
            .into_any(),
        Part::Files(id) => challenge
            .topic(&id)
            .map(|topic| view! { <FileList files=topic.files.clone() /> })
            .into_any(),
        Part::AnswersPage => view! { <AnswersPage challenge /> }.into_any(),
        Part::ResultsPage => view! { <ResultsPage challenge /> }.into_any(),
    }
}
