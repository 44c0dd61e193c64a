//! Stages the challenge content that sre-check embeds (with include_dir) and refuses to build with
//! a manifest that names missing files.
//!
//! The candidate's build (without the `reviewer` feature) embeds the manifest as candidates may
//! read it, `challenge.json` from [`Manifest::for_candidates`]: the criteria's descriptors and the
//! reviewer-only answer aids are not in the binary. With `reviewer` (sre-verify, the tests), it
//! embeds `challenge.toml` whole.

use std::fs;
use std::path::{Path, PathBuf};

use sre_model::Manifest;

fn main() {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    println!("cargo:rerun-if-changed={}", content.display());
    let text = fs::read_to_string(content.join("challenge.toml"))
        .unwrap_or_else(|e| panic!("reading content/challenge.toml: {e}"));
    let manifest = Manifest::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    manifest
        .check_files(|p| content.join(p).is_file())
        .unwrap_or_else(|e| panic!("{e}"));
    // `sre-check --version` names the challenge it embeds.
    println!(
        "cargo:rustc-env=SRE_CHALLENGE_VERSION={}",
        manifest.challenge.version
    );

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let stage = out.join("content");
    if stage.exists() {
        fs::remove_dir_all(&stage).unwrap_or_else(|e| panic!("clearing {}: {e}", stage.display()));
    }
    copy_tree(&content, &stage);
    if std::env::var_os("CARGO_FEATURE_REVIEWER").is_none() {
        fs::remove_file(stage.join("challenge.toml")).expect("staged challenge.toml");
        let json =
            serde_json::to_string(&manifest.for_candidates()).expect("a manifest serializes");
        fs::write(stage.join("challenge.json"), json).expect("writing challenge.json");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display())) {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
        }
    }
}
