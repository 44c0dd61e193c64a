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

/// The bytes of a starter kit file (`infrastructure/playbook.yml`), as the candidate was given it:
/// a handed-out file, or the answer template `sre-check init` writes at that path.
pub fn starter_file(path: &str) -> Option<&'static [u8]> {
    STARTER_FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
        .or_else(|| {
            manifest()
                .slots()
                .find(|(_, slot)| slot.canonical_file() == path)
                .and_then(|(_, slot)| slot.template.as_deref())
                .map(str::as_bytes)
        })
}

/// The starter kit's content digest (`sre_model::manifest::content_digest`), as `sre-check`
/// built from the same content computes it: work sent for another digest was not made from the
/// files this server diffs against.
pub fn content_digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        sre_model::manifest::content_digest(
            manifest()
                .starter_files()
                .into_iter()
                .map(|p| (p, starter_file(p).unwrap_or_default())),
        )
    })
}

/// Whether work or a report made for the edition `version` with content `digest` was made from
/// the challenge this server embeds.
pub fn matches(version: &str, digest: &str) -> bool {
    version == manifest().challenge.version && digest == content_digest()
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
        for file in manifest().starter_files() {
            assert!(starter_file(file).is_some(), "{file} is embedded");
        }
        assert!(starter_file("../Cargo.toml").is_none());
    }
}
