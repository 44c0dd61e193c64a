//! The challenge content, embedded in the binary at build time: the manifest and every file of the
//! starter kit. `sre-check` therefore always checks against the edition it was built with.

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use sre_model::Manifest;
use sre_model::manifest::content_digest;

static CONTENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../content");

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
        let text = file("challenge.toml")
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default();
        let manifest = Manifest::from_toml(text)
            .unwrap_or_else(|e| panic!("sre-check was built with an invalid challenge.toml: {e}"));
        let digest = content_digest(
            manifest
                .starter_files()
                .into_iter()
                .map(|p| (p, file(p).unwrap_or_default())),
        );
        Content { manifest, digest }
    })
}

/// The bytes of a content file, by path relative to the content root.
pub fn file(path: &str) -> Option<&'static [u8]> {
    CONTENT.get_file(path).map(|f| f.contents())
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
