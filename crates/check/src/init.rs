//! `sre-check init DIR`: lays out the starter kit from the content embedded in the binary, and
//! the answer templates of the manifest, the same texts the site's editor starts with.

use std::path::Path;

use anyhow::{Context, bail};

use crate::content;

/// Writes every starter file into `dir`, then the template of every answer that has one and is
/// not handed out. Refuses a non-empty folder unless `force`, in which case the starter files
/// are replaced, an answer that exists in any of its accepted files is kept (it is the
/// candidate's work), and every other file is left alone. Returns the paths written.
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
    let manifest = &content::get().manifest;
    let starter = manifest.starter_files();
    let mut files = Vec::new();
    for (path, bytes) in content::starter_kit() {
        let handed_out = starter.contains(&path);
        // A template is written only where the candidate has no answer yet, in any of the files
        // the slot accepts: with --force, an answer is their work.
        let answered = !handed_out
            && manifest
                .slots()
                .find(|(_, slot)| slot.canonical_file() == path)
                .is_some_and(|(_, slot)| slot.files.iter().any(|f| dir.join(f).exists()));
        if answered {
            continue;
        }
        write(&dir.join(path), bytes)?;
        files.push(path);
    }
    if files.len() < starter.len() {
        bail!("sre-check was built without every starter file: reinstall it");
    }
    Ok(files)
}

/// Writes `bytes` to `target`, creating its folder.
fn write(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(target, bytes).with_context(|| format!("cannot write {}", target.display()))
}
