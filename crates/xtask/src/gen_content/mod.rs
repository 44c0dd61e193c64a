//! `cargo xtask gen-content`: generates the challenge's images (and any other generated file)
//! into content/, deterministically: the same source gives the same bytes, and a test keeps the
//! committed files equal to a fresh generation.

mod chart;
mod glyphs;
mod monitoring;
mod postgres;
mod terminal;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A generated file and where it goes, relative to content/.
pub struct GeneratedFile {
    /// Path under content/, '/'-separated.
    pub path: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl GeneratedFile {
    /// A file for `path` under content/.
    pub fn new(path: &'static str, bytes: Vec<u8>) -> GeneratedFile {
        GeneratedFile { path, bytes }
    }
}

/// Options of `gen-content`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only compare: fail if a committed file differs from a fresh generation.
    #[arg(long)]
    pub check: bool,
}

/// Every generated file of the challenge, by topic.
pub fn generate() -> anyhow::Result<Vec<GeneratedFile>> {
    let mut files = Vec::new();
    files.extend(postgres::files().context("generating the postgres images")?);
    files.extend(monitoring::files().context("generating the monitoring screenshots")?);
    Ok(files)
}

/// The content/ folder of the repository.
pub fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// Writes (or, with `--check`, compares) every generated file.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let root = content_dir();
    let files = generate()?;
    let stale = stale_files(&root, &files)?;
    if args.check {
        if !stale.is_empty() {
            bail!(
                "generated files differ from a fresh generation (run `cargo xtask gen-content`):\n{}",
                stale.join("\n")
            );
        }
        println!("{} generated files are up to date", files.len());
        return Ok(());
    }
    for file in files.iter().filter(|f| stale.contains(&f.path.to_owned())) {
        let path = root.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &file.bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote content/{} ({} bytes)", file.path, file.bytes.len());
    }
    println!("{} generated files, {} rewritten", files.len(), stale.len());
    Ok(())
}

/// Paths whose committed bytes differ from `files` (or that are missing).
fn stale_files(root: &Path, files: &[GeneratedFile]) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for file in files {
        let path = root.join(file.path);
        let committed = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if committed.as_deref() != Some(file.bytes.as_slice()) {
            stale.push(file.path.to_owned());
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_files_equal_a_fresh_generation() {
        let files = generate().unwrap();
        let stale = stale_files(&content_dir(), &files).unwrap();
        assert!(
            stale.is_empty(),
            "stale generated files (run `cargo xtask gen-content` and commit): {stale:?}"
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let first = generate().unwrap();
        let second = generate().unwrap();
        for (a, b) in first.iter().zip(&second) {
            assert!(a.bytes == b.bytes, "{} differs between two runs", a.path);
        }
    }
}
