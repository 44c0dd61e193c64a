//! Embeds the challenge into sre-intake: the manifest is validated here (a broken
//! `content/challenge.toml` fails the build, not the server at startup), and the starting text of
//! every answer file that is handed out is written to `$OUT_DIR/starters.rs` so the server knows
//! what a candidate was given (for "unchanged" markers and reviewer hints). Every file of the
//! starter kit is embedded too (`STARTER_FILES`), for the diffs of submitted work.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    println!("cargo:rerun-if-changed={}", content.display());
    let text = std::fs::read_to_string(content.join("challenge.toml"))
        .unwrap_or_else(|e| panic!("reading content/challenge.toml: {e}"));
    let manifest = sre_model::Manifest::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::from(
        "/// Starting text of each handed-out answer file, by answer slot id.\n\
         pub static STARTERS: &[(&str, &str)] = &[\n",
    );
    for (_, slot) in manifest.slots() {
        let handed_out = slot
            .files
            .iter()
            .map(|f| content.join(f))
            .find(|p| p.is_file());
        if let Some(path) = handed_out {
            let path = path
                .canonicalize()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            writeln!(out, "    ({:?}, include_str!({:?})),", slot.id, path)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    out.push_str("];\n");
    out.push_str(
        "/// Every file of the starter kit (as `sre-check init` lays it out), by path.\n\
         pub static STARTER_FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in manifest.starter_files() {
        let path = content.join(file);
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        writeln!(out, "    ({file:?}, include_bytes!({path:?})),")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}")))
        .join("starters.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
