//! The `answers` check every topic has: each written answer of the topic exists and differs from
//! what was handed out. Only presence is checked; people read the content. It is the whole check
//! of a topic with only written answers, so such a topic needs no module of its own. An optional
//! answer (the feedback) that is absent or unchanged is "not written", never a failure.

use sre_model::{AnswerSlot, hints};

use crate::content;
use crate::runner::{CheckCtx, TopicRun, Verdict};

/// Id of the check in the manifest.
pub const CHECK_ID: &str = "answers";

/// Runs the `answers` check for every answer slot of the topic.
pub fn check(run: &mut TopicRun) {
    run.check(CHECK_ID, |ctx| {
        let mut found = Vec::new();
        for slot in &ctx.topic.answers {
            match slot_answer(ctx, slot)? {
                SlotAnswer::Written { file, words } => {
                    found.push(format!("{file}: {words} words"));
                }
                SlotAnswer::Missing | SlotAnswer::Unchanged { .. } if slot.optional => {
                    found.push(format!("{}: not written (optional)", slot.files[0]));
                }
                SlotAnswer::Missing => {
                    return Ok(Verdict::fail(
                        format!("expected {}; found none of them", slot.files.join(" or ")),
                        format!("Write your answer ({}) in {}.", slot.title, slot.files[0]),
                    ));
                }
                SlotAnswer::Unchanged { file } => {
                    return Ok(Verdict::fail(
                        format!("{file} is unchanged from the handed-out version"),
                        format!("Write your answer ({}) in {file}.", slot.title),
                    ));
                }
            }
        }
        Ok(Verdict::pass(found.join("\n")))
    });
}

/// Adds the aids of `sre_model::hints` the run's audience may see for each written answer of the
/// topic as signals (which of the parts its slot's `signals` in the manifest the text shows).
/// Reviewer-only aids are not computed at all in a candidate's run. Never pass/fail: an absent
/// answer adds none, and the `answers` check already reports it.
pub fn hint_signals(run: &mut TopicRun) {
    let topic = run.topic();
    let workdir = run.env().workdir;
    let audience = run.env().audience;
    for slot in &topic.answers {
        let parts = slot.signals_for(audience);
        if parts.is_empty() {
            continue;
        }
        let texts: Vec<(&String, String)> = slot
            .files
            .iter()
            .filter_map(|file| Some((file, workdir.read_text(file).ok().flatten()?)))
            .collect();
        let written = texts
            .iter()
            .find(|(file, text)| !is_unchanged(file, slot, text))
            .or(texts.first());
        if let Some((file, text)) = written {
            for signal in hints::signals(&parts, text, &handed_out(file, slot)) {
                run.signal(&signal.id, &signal.label, signal.present);
            }
        }
    }
}

enum SlotAnswer {
    Written { file: String, words: usize },
    Missing,
    Unchanged { file: String },
}

/// The first of the slot's files that says more than what was handed out; else the first that
/// exists unchanged (`sre-check init` writes the template into the first file, and the candidate
/// may answer in another one the slot accepts).
fn slot_answer(ctx: &CheckCtx, slot: &AnswerSlot) -> anyhow::Result<SlotAnswer> {
    let mut unchanged = None;
    for file in &slot.files {
        let Some(text) = ctx.workdir().read_text(file)? else {
            continue;
        };
        if is_unchanged(file, slot, &text) {
            unchanged.get_or_insert_with(|| file.clone());
            continue;
        }
        let words = text.split_whitespace().count();
        return Ok(SlotAnswer::Written {
            file: file.clone(),
            words,
        });
    }
    Ok(unchanged.map_or(SlotAnswer::Missing, |file| SlotAnswer::Unchanged { file }))
}

fn is_unchanged(file: &str, slot: &AnswerSlot, text: &str) -> bool {
    normalized(text) == normalized(&handed_out(file, slot))
}

/// What the candidate was handed for this answer: the starter file, else the slot's template.
fn handed_out(file: &str, slot: &AnswerSlot) -> String {
    content::file(file)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .or_else(|| slot.template.clone())
        .unwrap_or_default()
}

/// Text without differences of whitespace, so re-saving a template is still "unchanged".
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
