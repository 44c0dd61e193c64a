//! Background sync of the answers to sre-intake, for a candidate who came through an invite.
//!
//! The queue is the answers themselves: an answer waits to be sent while its text differs from
//! what the server holds (`storage::synced`), so the queue survives reloads, closed tabs and
//! crashes, and an edit made offline is sent when the server answers again.
//!
//! A pass: the first time, `GET /me` and reconcile each slot whose server version is not the one
//! this browser knows (another tab or device wrote); then `PUT` every waiting answer with
//! `If-Match: "<version it was based on>"` (`If-None-Match: *` for the first), so a write never
//! replaces text this browser has not seen. A 412 is reconciled the same way: the server's text
//! is taken over when this browser had no change of its own, else the candidate chooses
//! ([`Sync::keep_mine`], [`Sync::use_theirs`]). Network failures, 5xx and 429 retry with
//! exponential backoff (1 s doubling to 30 s, with jitter, at least `Retry-After`), and at once
//! when the browser comes back online.
//!
//! The engine belongs to the [`Sync`] context (no global): it watches [`Answers::changes`] and
//! the views call the context's methods, so the answers know nothing of the sync.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::answers::{AnswerState, Answers, SlotSync};
use crate::api::{Api, Failure, Put};
use crate::storage::{self, Invite, Synced, text_hash};

/// How long after a change the pass starts: one request per pause in typing, not per key.
const SEND_DELAY: Duration = Duration::from_millis(1500);
/// The first retry delay; it doubles on every failure up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: f64 = 1000.0;
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// Where the sync stands, for the header and the answers page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    /// No invite: answers stay in this browser.
    LocalOnly,
    /// Sending, or about to.
    Busy,
    /// The server has every answer.
    Synced,
    /// Some answers wait for the candidate: a conflict, or a text the server refused.
    NeedsYou,
    /// The server cannot be reached; the next try is automatic.
    Retrying(String),
    /// The server refuses the invite; the reason.
    Stopped(String),
    /// Submitted at this time (RFC 3339): answers are read-only.
    Submitted(String),
}

/// The sync: its state for the views, and the engine that sends the answers (when there is a
/// server). Copyable, provided as context by the editing app; views read its signals and call
/// its methods.
#[derive(Debug, Clone, Copy)]
pub struct Sync {
    /// Where it stands.
    pub status: RwSignal<SyncStatus>,
    /// The invited candidate's name, once the server said it.
    pub candidate: RwSignal<Option<String>>,
    /// The engine, when there is an invite; owned by the reactive owner the sync started under.
    engine: StoredValue<Option<Rc<Engine>>, LocalStorage>,
}

struct Engine {
    api: Api,
    answers: Answers,
    sync: Sync,
    /// `GET /me` and the reconciliation are done.
    connected: Cell<bool>,
    running: Cell<bool>,
    /// A change arrived during a pass: run another.
    again: Cell<bool>,
    failures: Cell<u32>,
    timer: Cell<Option<TimeoutHandle>>,
}

impl Sync {
    /// Starts syncing `answers` with the invite's server, or reports that answers stay local.
    /// Call under the owner that provides the context: the engine and its watch of the answers
    /// live as long as it.
    pub fn start(answers: &Answers, invite: Option<Invite>) -> Sync {
        let sync = Sync {
            status: RwSignal::new(SyncStatus::LocalOnly),
            candidate: RwSignal::new(None),
            engine: StoredValue::new_local(None),
        };
        let Some(invite) = invite else {
            return sync;
        };
        sync.status.set(SyncStatus::Busy);
        for (_, state) in answers.iter() {
            state.sync.set(SlotSync::Waiting);
        }
        let engine = Rc::new(Engine {
            api: Api::new(&invite),
            answers: answers.clone(),
            sync,
            connected: Cell::new(false),
            running: Cell::new(false),
            again: Cell::new(false),
            failures: Cell::new(0),
            timer: Cell::new(None),
        });
        sync.engine.set_value(Some(engine.clone()));
        // An answer saved in this browser: send it after a pause (or at the next retry). Not at
        // once: the first pass is scheduled below.
        let changes = answers.changes();
        Effect::watch(
            move || changes.track(),
            move |_, _, _| sync.changed(),
            false,
        );
        // Back online: try at once, whatever the backoff said.
        let _ = window_event_listener(leptos::ev::online, move |_| sync.retry_now());
        engine.schedule(Duration::ZERO);
        sync
    }

    /// Whether answers can still change.
    pub fn is_open(&self) -> bool {
        !matches!(self.status.get(), SyncStatus::Submitted(_))
    }

    /// Whether there is a server at all.
    pub fn has_server(&self) -> bool {
        self.status.get() != SyncStatus::LocalOnly
    }

    fn engine(&self) -> Option<Rc<Engine>> {
        self.engine.try_get_value().flatten()
    }

    /// An answer was saved in this browser: send it after a pause (or at the next retry).
    fn changed(&self) {
        if let Some(engine) = self.engine() {
            if engine.running.get() {
                engine.again.set(true);
            } else if engine.failures.get() == 0 {
                engine.schedule(SEND_DELAY);
            }
        }
    }

    /// Tries at once, forgetting the backoff (the candidate asked, or the network came back).
    pub fn retry_now(&self) {
        if let Some(engine) = self.engine() {
            engine.failures.set(0);
            engine.schedule(Duration::ZERO);
        }
    }

    /// The candidate keeps their text over the server's version: it is sent to replace that
    /// version.
    pub fn keep_mine(&self, id: &str) {
        if let Some((state, _, _)) = self.resolve_conflict(id) {
            state.sync.set(SlotSync::Waiting);
            self.retry_now();
        }
    }

    /// The candidate takes the server's text: it replaces theirs in this browser.
    pub fn use_theirs(&self, id: &str) {
        if let Some((state, version, text)) = self.resolve_conflict(id) {
            if let Some(engine) = self.engine() {
                engine.answers.replace(id, text);
            }
            state.sync.set(SlotSync::Synced(version));
        }
    }

    /// Ends the conflict of slot `id`, if it has one: the server's version becomes the one this
    /// browser knows (the next write is based on it). Returns the slot's state and the server's
    /// version and text.
    fn resolve_conflict(&self, id: &str) -> Option<(AnswerState, i64, String)> {
        let engine = self.engine()?;
        let (_, state) = engine.answers.get(id)?;
        let SlotSync::Conflict { version, text } = state.sync.get_untracked() else {
            return None;
        };
        let hash = text_hash(&text);
        storage::set_synced(id, Some(Synced { version, hash }));
        Some((*state, version, text))
    }

    /// Sends what waits, then submits. The error says what stops the submission.
    pub async fn submit(self) -> Result<String, String> {
        let engine = self
            .engine()
            .ok_or("there is no server to submit to: export your answers instead")?;
        engine.answers.flush();
        engine.failures.set(0);
        engine.pass().await.map_err(|f| describe(&f))?;
        let waiting: Vec<String> = engine
            .answers
            .iter()
            .filter(|(slot, state)| {
                engine.answers.is_stored(&slot.id)
                    && !matches!(state.sync.get_untracked(), SlotSync::Synced(_))
            })
            .map(|(slot, _)| slot.file.clone())
            .collect();
        if !waiting.is_empty() {
            return Err(format!(
                "these answers are not on the server yet: {}. Resolve what they show, then submit",
                waiting.join(", ")
            ));
        }
        let at = engine.api.submit().await.map_err(|f| describe(&f))?;
        self.status.set(SyncStatus::Submitted(at.clone()));
        Ok(at)
    }

    /// The latest uploaded report's JSON, if the candidate has a server and uploaded one.
    pub async fn latest_report(self) -> Result<Option<String>, String> {
        let Some(engine) = self.engine() else {
            return Ok(None);
        };
        engine.api.latest_report().await.map_err(|f| describe(&f))
    }

    /// The work the candidate sent (`GET /submissions`), if they have a server that keeps it.
    pub async fn sent(self) -> Result<Option<crate::api::Sent>, String> {
        let Some(engine) = self.engine() else {
            return Ok(None);
        };
        engine.api.sent().await.map_err(|f| describe(&f))
    }
}

/// The delay before retry number `failures + 1`: doubling from 1 s, at most 30 s, 0-20% jitter
/// so that many tabs do not retry in step; never less than the server's `Retry-After`.
fn backoff(failures: u32, retry_after: Option<u32>) -> Duration {
    let base = (FIRST_BACKOFF_MS * f64::from(1u32 << failures.min(5))).min(MAX_BACKOFF_MS);
    let jittered = base * (1.0 + 0.2 * js_sys::Math::random());
    let floor = f64::from(retry_after.unwrap_or(0)) * 1000.0;
    Duration::from_millis(jittered.max(floor) as u64)
}

impl Engine {
    /// Starts a pass after `delay`, replacing the one scheduled before.
    fn schedule(self: &Rc<Self>, delay: Duration) {
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
        let engine = self.clone();
        let timer = set_timeout_with_handle(move || spawn_local(engine.run()), delay).ok();
        self.timer.set(timer);
    }

    /// Runs passes until one finds nothing new to send, then decides when to look again.
    async fn run(self: Rc<Self>) {
        if self.running.replace(true) {
            self.again.set(true);
            return;
        }
        let outcome = loop {
            self.again.set(false);
            self.sync.status.set(SyncStatus::Busy);
            let outcome = self.pass().await;
            if outcome.is_err() || !self.again.get() {
                break outcome;
            }
        };
        self.running.set(false);
        let status = match outcome {
            Ok(()) => {
                self.failures.set(0);
                let waiting = self.answers.iter().any(|(_, s)| {
                    matches!(
                        s.sync.get_untracked(),
                        SlotSync::Conflict { .. } | SlotSync::Refused(_)
                    )
                });
                if waiting {
                    SyncStatus::NeedsYou
                } else {
                    SyncStatus::Synced
                }
            }
            Err(Failure::Retry { reason, after }) => {
                let failures = self.failures.get();
                self.failures.set(failures + 1);
                self.schedule(backoff(failures, after));
                SyncStatus::Retrying(reason)
            }
            Err(Failure::Submitted(_)) => {
                // The server knows when; `GET /me` tells on the next visit.
                SyncStatus::Submitted(String::new())
            }
            Err(Failure::Unauthorized(reason) | Failure::Refused(reason)) => {
                SyncStatus::Stopped(reason)
            }
        };
        if !matches!(self.sync.status.get_untracked(), SyncStatus::Submitted(_)) {
            self.sync.status.set(status);
        }
    }

    async fn pass(&self) -> Result<(), Failure> {
        if !self.connected.get() {
            let me = self.api.me().await?;
            self.sync.candidate.set(Some(me.candidate.name));
            if let Some(at) = me.candidate.submitted_at {
                self.sync.status.set(SyncStatus::Submitted(at));
            }
            for (slot, state) in self.answers.iter() {
                let server = me
                    .answers
                    .iter()
                    .find(|a| a.slot == slot.id)
                    .and_then(|a| a.version);
                let known = storage::synced(&slot.id).map(|s| s.version);
                if server != known {
                    self.reconcile(&slot.id, *state, server).await?;
                }
            }
            self.connected.set(true);
        }
        if matches!(self.sync.status.get_untracked(), SyncStatus::Submitted(_)) {
            self.mark_all();
            return Ok(());
        }
        for (slot, state) in self.answers.iter() {
            if matches!(
                state.sync.get_untracked(),
                SlotSync::Conflict { .. } | SlotSync::Refused(_)
            ) {
                continue;
            }
            self.push(&slot.id, *state).await?;
        }
        Ok(())
    }

    /// Sends one answer if the server does not have its text.
    async fn push(&self, id: &str, state: AnswerState) -> Result<(), Failure> {
        let known = storage::synced(id);
        let text = state.text.get_untracked();
        let hash = text_hash(&text);
        if known.map(|s| s.hash) == Some(hash) || !self.answers.is_stored(id) {
            state.sync.set(match known {
                Some(s) => SlotSync::Synced(s.version),
                None => SlotSync::Local,
            });
            return Ok(());
        }
        state.sync.set(SlotSync::Waiting);
        match self
            .api
            .put_answer(id, &text, known.map(|s| s.version))
            .await
        {
            Ok(Put::Stored(version)) => {
                storage::set_synced(id, Some(Synced { version, hash }));
                let current = state.text.with_untracked(|t| text_hash(t));
                state.sync.set(if current == hash {
                    SlotSync::Synced(version)
                } else {
                    SlotSync::Waiting
                });
                Ok(())
            }
            Ok(Put::Conflict(server)) => self.reconcile(id, state, server).await,
            Err(Failure::Refused(reason)) => {
                state.sync.set(SlotSync::Refused(reason));
                Ok(())
            }
            Err(failure) => Err(failure),
        }
    }

    /// The server has `server` (a version, or none) where this browser expected another: take
    /// the server's text when this browser has nothing of its own to add, else ask.
    async fn reconcile(
        &self,
        id: &str,
        state: AnswerState,
        server: Option<i64>,
    ) -> Result<(), Failure> {
        if server.is_none() {
            // The server has nothing: the next push creates the first version.
            storage::set_synced(id, None);
            return Ok(());
        }
        let Some(theirs) = self.api.answer(id).await? else {
            storage::set_synced(id, None);
            return Ok(());
        };
        let theirs_hash = text_hash(&theirs.text);
        let mine = state.text.get_untracked();
        let mine_hash = text_hash(&mine);
        let unchanged_here =
            !self.answers.is_stored(id) || storage::synced(id).map(|s| s.hash) == Some(mine_hash);
        let synced = Synced {
            version: theirs.version,
            hash: theirs_hash,
        };
        if mine_hash == theirs_hash || unchanged_here {
            if mine_hash != theirs_hash {
                self.answers.replace(id, theirs.text);
            }
            storage::set_synced(id, Some(synced));
            state.sync.set(SlotSync::Synced(theirs.version));
        } else {
            state.sync.set(SlotSync::Conflict {
                version: theirs.version,
                text: theirs.text,
            });
        }
        Ok(())
    }

    /// After a submission: every slot shows what the server holds.
    fn mark_all(&self) {
        for (slot, state) in self.answers.iter() {
            state.sync.set(match storage::synced(&slot.id) {
                Some(s) => SlotSync::Synced(s.version),
                None => SlotSync::Local,
            });
        }
    }
}

/// A failure in words for the candidate.
pub fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Retry { reason, .. } => reason.clone(),
        Failure::Unauthorized(reason) => {
            format!("the server does not accept this invite: {reason}")
        }
        Failure::Submitted(reason) | Failure::Refused(reason) => reason.clone(),
    }
}
