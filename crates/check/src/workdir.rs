//! The candidate's working copy: where it is, reading its files, remembering what was read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use sre_model::Manifest;
use sre_model::report::FileDigest;

/// A working copy of the challenge (made by `sre-check init` or unpacked from the starter kit).
pub struct WorkDir {
    root: PathBuf,
    read: Mutex<BTreeMap<String, FileDigest>>,
}

/// `--dir` does not point at a working copy.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is not a challenge working copy: {} missing. Create one with `sre-check init <dir>`, or pass \
     --dir with the folder you created",
    .dir.display(),
    .missing.join(", ")
)]
pub struct NotAWorkDir {
    dir: PathBuf,
    missing: Vec<String>,
}

impl WorkDir {
    /// Opens `dir` if it looks like a working copy: the main README and every topic folder exist.
    pub fn open(dir: &Path, manifest: &Manifest) -> Result<WorkDir, NotAWorkDir> {
        let mut expected: Vec<String> = vec![manifest.challenge.readme.clone()];
        for topic in &manifest.topics {
            for file in &topic.files {
                if let Some((folder, _)) = file.split_once('/') {
                    let folder = format!("{folder}/");
                    if !expected.contains(&folder) {
                        expected.push(folder);
                    }
                }
            }
        }
        let missing: Vec<String> = expected
            .into_iter()
            .filter(|p| !dir.join(p).exists())
            .collect();
        if !dir.is_dir() || !missing.is_empty() {
            let missing = if dir.is_dir() {
                missing
            } else {
                vec!["the folder itself is".to_owned()]
            };
            return Err(NotAWorkDir {
                dir: dir.to_path_buf(),
                missing,
            });
        }
        Ok(WorkDir {
            root: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            read: Mutex::new(BTreeMap::new()),
        })
    }

    /// The folder itself (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Absolute path of a file of the working copy, from its '/'-separated relative path.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a file of the working copy and records its digest for the report.
    /// `Ok(None)` when it does not exist.
    pub fn read(&self, rel: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.path(rel);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let digest = FileDigest {
            path: rel.to_owned(),
            sha256: sre_work::sha256_hex(&bytes),
            bytes: bytes.len() as u64,
        };
        if let Ok(mut read) = self.read.lock() {
            read.insert(rel.to_owned(), digest);
        }
        Ok(Some(bytes))
    }

    /// Reads a text file (invalid UTF-8 is replaced, not an error: the check reports it as text).
    pub fn read_text(&self, rel: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .read(rel)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Digests of every file read so far, sorted by path.
    pub fn digests(&self) -> Vec<FileDigest> {
        self.read
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }
}
