//! The challenge content, embedded in the binary at build time: the manifest and every file of the
//! starter kit. `sre-check` therefore always checks against the edition it was built with.

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use sre_model::Manifest;
use sre_model::manifest::content_digest;

/// content/ as build.rs stages it: with `challenge.toml` whole in the `reviewer` build, with the
/// candidates' `challenge.json` instead in the candidate's.
static CONTENT: Dir<'static> = include_dir!("$OUT_DIR/content");

/// The embedded challenge.
pub struct Content {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// [`content_digest`] of the starter kit.
    pub digest: String,
}

/// The embedded content, parsed once. The build script guarantees it is valid, so failure here
/// means a broken build of sre-check.
pub fn get() -> &'static Content {
    static PARSED: OnceLock<Content> = OnceLock::new();
    PARSED.get_or_init(|| {
        let manifest = embedded_manifest()
            .unwrap_or_else(|e| panic!("sre-check was built with an invalid manifest: {e}"));
        let digest = content_digest(
            manifest
                .starter_files()
                .into_iter()
                .map(|p| (p, file(p).unwrap_or_default())),
        );
        Content { manifest, digest }
    })
}

fn embedded_manifest() -> Result<Manifest, sre_model::manifest::ManifestError> {
    let text = |name| {
        file(name)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    };
    if cfg!(feature = "reviewer") {
        Manifest::from_toml(text("challenge.toml"))
    } else {
        Manifest::from_candidate_json(text("challenge.json"))
    }
}

/// The working copy as `sre-check init` lays it out: every starter file, then the template of
/// every answer slot whose file is not handed out (the texts the site's editor starts with), by
/// path. What differs from this is the candidate's work.
pub fn starter_kit() -> Vec<(&'static str, &'static [u8])> {
    let manifest = &get().manifest;
    let mut kit: Vec<(&'static str, &'static [u8])> = manifest
        .starter_files()
        .into_iter()
        .filter_map(|p| file(p).map(|bytes| (p, bytes)))
        .collect();
    for (_, slot) in manifest.slots() {
        let Some(template) = &slot.template else {
            continue;
        };
        let path = slot.canonical_file();
        if !kit.iter().any(|(p, _)| *p == path) {
            kit.push((path, template.as_bytes()));
        }
    }
    kit
}

/// The bytes of a content file, by path relative to the content root.
pub fn file(path: &str) -> Option<&'static [u8]> {
    CONTENT.get_file(path).map(|f| f.contents())
}

/// The Debian releases topic II packages for, newest first: the embedded manifest's
/// `[[topic.package.releases]]` (empty if no topic has a package, which validation prevents for
/// the shipped challenge).
pub fn debian_releases() -> &'static [sre_model::debian::DebianRelease] {
    get()
        .manifest
        .topics
        .iter()
        .find_map(|t| t.package.as_ref())
        .map_or(&[], |p| p.releases.as_slice())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_manifest_is_valid_and_complete() {
        let content = super::get();
        content
            .manifest
            .check_files(|p| super::file(p).is_some())
            .expect("every file the manifest names is embedded");
        assert!(content.digest.starts_with("sha256:"));
    }
}
