//! The candidate's answers: one live text per answer slot, saved to localStorage on every change
//! (debounced), and the state of its copy on the server.
//!
//! An untouched answer is not stored: the editor shows the slot's starting text. From the first
//! change on, `storage` holds the text and is the copy that matters; a reload, a closed tab or a
//! crashed one finds it there.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;

use crate::challenge::{Challenge, Slot};
use crate::storage;

/// How long typing must pause before the text is written to localStorage. Short: a crash loses at
/// most this much typing; long enough not to rewrite a long answer on every key press.
const SAVE_DELAY: Duration = Duration::from_millis(300);

/// Whether the browser holds the text shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Stored (or untouched).
    Yes,
    /// A change waits for the typing to pause.
    Pending,
    /// The browser refused to store it; the reason.
    Failed(String),
}

/// Where the server's copy of an answer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotSync {
    /// No server: the candidate has no invite.
    Local,
    /// The server holds this text, as this version.
    Synced(i64),
    /// A change waits to be sent.
    Waiting,
    /// The server has another text (from another tab or device): the candidate chooses.
    Conflict {
        /// The server's version.
        version: i64,
        /// The server's text.
        text: String,
    },
    /// The server refused this text (e.g. too large); sent again after the next change.
    Refused(String),
}

/// One answer slot's live state.
#[derive(Debug, Clone, Copy)]
pub struct AnswerState {
    /// The text in the editor.
    pub text: RwSignal<String>,
    /// Whether it is saved in this browser.
    pub saved: RwSignal<Saved>,
    /// Whether the server has it.
    pub sync: RwSignal<SlotSync>,
    timer: StoredValue<Option<TimeoutHandle>>,
}

/// Every answer of the challenge.
#[derive(Debug, Clone)]
pub struct Answers {
    slots: Arc<Vec<(Slot, AnswerState)>>,
    /// Notified each time an answer is saved in this browser (see [`Answers::changes`]).
    changes: Trigger,
}

impl Answers {
    /// Reads every saved answer from this browser.
    pub fn load(challenge: &Challenge) -> Answers {
        let slots = challenge
            .slots()
            .map(|slot| {
                let text = storage::answer(&slot.id).unwrap_or_else(|| slot.start.clone());
                let state = AnswerState {
                    text: RwSignal::new(text),
                    saved: RwSignal::new(Saved::Yes),
                    sync: RwSignal::new(SlotSync::Local),
                    timer: StoredValue::new(None),
                };
                (slot.clone(), state)
            })
            .collect();
        Answers {
            slots: Arc::new(slots),
            changes: Trigger::new(),
        }
    }

    /// Notified each time an answer is saved in this browser: what the sync watches to send it.
    pub fn changes(&self) -> Trigger {
        self.changes
    }

    /// Every slot with its state, in challenge order.
    pub fn iter(&self) -> impl Iterator<Item = &(Slot, AnswerState)> {
        self.slots.iter()
    }

    /// The slot with this id and its state.
    pub fn get(&self, id: &str) -> Option<&(Slot, AnswerState)> {
        self.slots.iter().find(|(s, _)| s.id == id)
    }

    /// The candidate typed: show it, save it once typing pauses, and queue it for the server.
    pub fn edit(&self, id: &str, text: String) {
        let Some((_, state)) = self.get(id) else {
            return;
        };
        state.text.set(text);
        state.saved.set(Saved::Pending);
        if matches!(
            state.sync.get_untracked(),
            SlotSync::Synced(_) | SlotSync::Refused(_)
        ) {
            state.sync.set(SlotSync::Waiting);
        }
        if let Some(timer) = state.timer.get_value() {
            timer.clear();
        }
        let answers = self.clone();
        let id = id.to_owned();
        let timer = set_timeout_with_handle(move || answers.save(&id), SAVE_DELAY).ok();
        state.timer.set_value(timer);
    }

    /// Replaces the text at once (the server's copy, chosen by the candidate) and saves it.
    pub fn replace(&self, id: &str, text: String) {
        if let Some((_, state)) = self.get(id) {
            state.text.set(text);
            self.save(id);
        }
    }

    /// Saves every change that waits for a pause: the page is being hidden or closed.
    pub fn flush(&self) {
        for (slot, state) in self.slots.iter() {
            if state.saved.get_untracked() == Saved::Pending {
                self.save(&slot.id);
            }
        }
    }

    fn save(&self, id: &str) {
        let Some((_, state)) = self.get(id) else {
            return;
        };
        if let Some(timer) = state.timer.get_value() {
            timer.clear();
        }
        state.timer.set_value(None);
        let result = state
            .text
            .with_untracked(|text| storage::save_answer(id, text));
        state.saved.set(match result {
            Ok(()) => Saved::Yes,
            Err(reason) => Saved::Failed(reason),
        });
        self.changes.notify();
    }

    /// Whether the candidate changed this slot's text in this browser (so it is stored).
    pub fn is_stored(&self, id: &str) -> bool {
        storage::answer(id).is_some()
    }
}
