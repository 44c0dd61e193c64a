//! The `answers` check every topic has: each written answer of the topic exists and differs from
//! what was handed out. Only presence is checked; people read the content. It is the whole check
//! of a topic with only written answers, so such a topic needs no module of its own.

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

/// Adds the reviewer hints of `sre_model::hints` for each written answer of the topic as signals
/// (which of the parts its slot's `signals` in the manifest the text shows). Never pass/fail: an
/// absent answer adds none, and the `answers` check already reports it.
pub fn hint_signals(run: &mut TopicRun) {
    let topic = run.topic();
    let workdir = run.env().workdir;
    for slot in topic.answers.iter().filter(|s| !s.signals.is_empty()) {
        let written = slot
            .files
            .iter()
            .find_map(|file| Some((file, workdir.read_text(file).ok().flatten()?)));
        if let Some((file, text)) = written {
            for signal in hints::signals(&slot.signals, &text, &handed_out(file, slot)) {
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

fn slot_answer(ctx: &CheckCtx, slot: &AnswerSlot) -> anyhow::Result<SlotAnswer> {
    for file in &slot.files {
        let Some(text) = ctx.workdir().read_text(file)? else {
            continue;
        };
        if normalized(&text) == normalized(&handed_out(file, slot)) {
            return Ok(SlotAnswer::Unchanged { file: file.clone() });
        }
        let words = text.split_whitespace().count();
        return Ok(SlotAnswer::Written {
            file: file.clone(),
            words,
        });
    }
    Ok(SlotAnswer::Missing)
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
