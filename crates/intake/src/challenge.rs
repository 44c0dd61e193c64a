//! The challenge this server collects answers for, embedded at build time.
//!
//! Why embedded and not read from the built site's `manifest.json`: the server must know the answer
//! slots and the evaluation criteria even when it serves no site (the site can be hosted
//! elsewhere), and a binary that carries its manifest cannot disagree with itself after a partial
//! deploy. `build.rs` validates the manifest, so a bad one fails the build, not the server.

use std::sync::OnceLock;

use sre_model::{AnswerSlot, Manifest, Topic};

include!(concat!(env!("OUT_DIR"), "/starters.rs"));

const MANIFEST: &str = include_str!("../../../content/challenge.toml");

/// The embedded manifest, parsed once.
pub fn manifest() -> &'static Manifest {
    static PARSED: OnceLock<Manifest> = OnceLock::new();
    PARSED.get_or_init(|| {
        Manifest::from_toml(MANIFEST)
            .unwrap_or_else(|e| panic!("sre-intake was built with an invalid challenge.toml: {e}"))
    })
}

/// The answer slot with this id and its topic, if the challenge has one.
pub fn slot(id: &str) -> Option<(&'static Topic, &'static AnswerSlot)> {
    manifest().slot(id)
}

/// What the candidate was given to start this answer: the handed-out file, else the slot's
/// template, else nothing.
pub fn starter(slot: &AnswerSlot) -> &str {
    STARTERS
        .iter()
        .find(|(id, _)| *id == slot.id)
        .map(|(_, text)| *text)
        .or(slot.template.as_deref())
        .unwrap_or("")
}

/// Whether `text` is what was handed out, ignoring differences of whitespace.
pub fn is_unchanged(slot: &AnswerSlot, text: &str) -> bool {
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    words(text) == words(starter(slot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_manifest_parses_and_knows_the_starters() {
        let feedback = slot("feedback")
            .expect("the challenge has a feedback slot")
            .1;
        assert!(
            starter(feedback).contains("improve"),
            "{}",
            starter(feedback)
        );
        assert!(is_unchanged(
            feedback,
            &format!("  {}\n", starter(feedback))
        ));
        let leadership = slot("leadership").expect("topic V has a slot").1;
        assert!(starter(leadership).contains("## Strategy"));
        assert!(slot("../etc/passwd").is_none());
    }
}
