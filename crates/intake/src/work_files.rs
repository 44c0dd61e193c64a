//! What the reviewer's file list needs from a stored archive beyond its listing: which files are
//! binary. The archive was read through by `sre_work::verify` when it arrived (types, names,
//! sizes, expanded total), so this pass only reads the `work/` files' bytes, one at a time, in
//! memory, each cut at the file limit.

use std::collections::HashSet;
use std::io::Read;

use anyhow::Context;
use sre_model::submission::Limits;

/// Where the work's files are inside the archive.
const WORK_PREFIX: &str = "work/";

/// Whether the viewer shows these bytes as a download rather than text: not UTF-8, or holding a
/// NUL.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0) || std::str::from_utf8(bytes).is_err()
}

/// The paths (as listed, without `work/`) of the binary files in a stored archive.
pub fn binary_paths(archive: &[u8], limits: &Limits) -> anyhow::Result<HashSet<String>> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut binary = HashSet::new();
    let mut buffer = Vec::new();
    for entry in tar.entries().context("reading a stored archive")? {
        let entry = entry.context("reading a stored archive")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = name.strip_prefix(WORK_PREFIX) else {
            continue;
        };
        buffer.clear();
        entry
            .take(limits.file_bytes.saturating_add(1))
            .read_to_end(&mut buffer)
            .with_context(|| format!("reading {name} in a stored archive"))?;
        if is_binary(&buffer) {
            binary.insert(path.to_owned());
        }
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_nul() {
        assert!(!is_binary("héllo\n".as_bytes()));
        assert!(is_binary(b"a\0b"));
        assert!(is_binary(&[0xff, 0xfe, b'a']));
        assert!(!is_binary(b""));
    }
}
