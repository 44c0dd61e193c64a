//! `sre-check init DIR`: lays out the starter kit from the content embedded in the binary.

use std::path::Path;

use anyhow::{Context, bail};

use crate::content;

/// Writes every starter file into `dir`. Refuses a non-empty folder unless `force`, in which case
/// the starter files are replaced and every other file is left alone. Returns the paths written.
pub fn init(dir: &Path, force: bool) -> anyhow::Result<Vec<&'static str>> {
    let non_empty = dir.is_dir()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some();
    if dir.exists() && !dir.is_dir() {
        bail!("{} exists and is not a folder", dir.display());
    }
    if non_empty && !force {
        bail!(
            "{} is not empty. Choose a new folder, or pass --force to write the starter files into \
             it (starter files that exist are replaced; your other files are kept)",
            dir.display()
        );
    }
    let files = content::get().manifest.starter_files();
    for path in &files {
        let bytes =
            content::file(path).with_context(|| format!("{path} is not embedded in sre-check"))?;
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(files)
}
