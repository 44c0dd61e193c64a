//! Rebuilds sre-check when the challenge content changes (it is embedded with include_dir), and
//! refuses to build with a manifest that names missing files.

use std::path::Path;

fn main() {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    println!("cargo:rerun-if-changed={}", content.display());
    let text = std::fs::read_to_string(content.join("challenge.toml"))
        .unwrap_or_else(|e| panic!("reading content/challenge.toml: {e}"));
    let manifest = sre_model::Manifest::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    manifest
        .check_files(|p| content.join(p).is_file())
        .unwrap_or_else(|e| panic!("{e}"));
    // `sre-check --version` names the challenge it embeds.
    println!(
        "cargo:rustc-env=SRE_CHALLENGE_VERSION={}",
        manifest.challenge.version
    );
}
