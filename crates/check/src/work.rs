//! The candidate's work as `sre-check upload` sends it: the files of the working copy that are new
//! or differ from the starter kit embedded in this sre-check, within the submission [`Limits`].
//!
//! Left out without being asked ([`is_excluded_by_default`]): `.sre-check/`, `.git/` and editor
//! swap files. `.sre-check/` is also where `sre-check run` writes everything it makes in the
//! working copy — the report, the topic II packages (`.sre-check/os/<release>/*.deb`) and the
//! topic IV scratch folders (`.sre-check/postgres-*`) — so none of the checker's own output is
//! ever sent as the candidate's work; its caches live outside the working copy. The candidate
//! leaves out more with `.sre-check-ignore` (gitignore syntax).
//!
//! The walk never follows a symlink. Anything that is not a regular file or a folder, a name that
//! is not UTF-8, and every limit ends collection with a one-line error that names the file and
//! says what to do: nothing is sent unless everything can be.

use std::collections::BTreeMap;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sre_model::report::{ChallengeRef, Report};
use sre_model::submission::{
    FileKind, Limits, ListedFile, Listing, ListingError, PathError, SUBMISSION_SCHEMA, check_path,
    is_excluded_by_default,
};

use crate::content;
use sre_work::sha256_hex;

/// The candidate's own exclusions, at the top of the working copy, in gitignore syntax.
pub const IGNORE_FILE: &str = ".sre-check-ignore";

/// How many of the biggest files the summary names.
const BIGGEST_SHOWN: usize = 5;

/// The collected work: the listed files and their bytes, both sorted by path.
#[derive(Debug)]
pub struct Work {
    /// Path, size, digest and kind of each file.
    pub files: Vec<ListedFile>,
    /// The bytes of each file, in the same order (what `sre_work::pack` takes).
    pub contents: Vec<(String, Vec<u8>)>,
    /// Starter files found unchanged, with their digest (not sent; compared with the report).
    unchanged: BTreeMap<String, String>,
}

/// Why the work cannot be sent. Each message is one line naming the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A symbolic link (never followed: it may point outside the working copy).
    #[error(
        "`{0}` is a symbolic link, and sre-check sends regular files only: replace it with a copy \
         of the file it points to, or add it to {IGNORE_FILE}"
    )]
    Symlink(String),
    /// A device, FIFO or socket.
    #[error("`{0}` is a {1}, not a regular file: remove it, or add it to {IGNORE_FILE}")]
    Special(String, &'static str),
    /// A name that is not valid UTF-8 (shown with replacement characters).
    #[error("`{0}` has a name that is not valid UTF-8: rename it, or add it to {IGNORE_FILE}")]
    NotUtf8(String),
    /// A path the listing cannot hold (control characters, too long).
    #[error("{0} (or add it to {IGNORE_FILE})")]
    Path(PathError),
    /// A limit of the listing: one file, the total.
    #[error(transparent)]
    Limit(ListingError),
    /// More files than [`Limits::files`], with the folder holding most of them.
    #[error("{error}; most of them are in `{folder}/` ({in_folder} files)")]
    TooManyFiles {
        /// The limit's own message.
        error: ListingError,
        /// The top-level folder with the most files.
        folder: String,
        /// How many files it holds.
        in_folder: usize,
    },
    /// A file or folder that cannot be read.
    #[error("cannot read `{0}`: {1}. Make it readable, or add it to {IGNORE_FILE}")]
    Unreadable(String, String),
    /// A line of `.sre-check-ignore` that is not a gitignore pattern.
    #[error("{IGNORE_FILE}: {0}. Fix that line (gitignore syntax)")]
    IgnoreFile(String),
    /// A file changed (or went away) since the report was made.
    #[error(
        "`{0}` changed since the report was made: run `sre-check run` again, then upload \
         (the report must describe the files you send)"
    )]
    Stale(String),
}

impl Work {
    /// The listing of this work, for the report with digest `report_digest`.
    pub fn listing(&self, challenge: ChallengeRef, report_digest: String) -> Listing {
        Listing {
            schema: SUBMISSION_SCHEMA.to_owned(),
            challenge,
            report_digest,
            files: self.files.clone(),
        }
    }

    /// The sum of the files' sizes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Checks that every file the report read is still as it was: sent with the same digest,
    /// an unchanged starter file with the same digest, or left out on purpose (ignored, excluded).
    /// A file the report read that is gone, or a starter file that was reverted, means the report
    /// describes other work.
    pub fn check_report(&self, report: &Report, root: &Path) -> Result<(), CollectError> {
        let sent: BTreeMap<&str, &str> = self
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        for read in &report.files {
            let now = sent
                .get(read.path.as_str())
                .copied()
                .or_else(|| self.unchanged.get(&read.path).map(String::as_str));
            let agrees = match now {
                Some(sha) => sha == read.sha256,
                // Not sent and not an unchanged starter file: ignored or excluded if it is
                // still there (the candidate chose not to send it), deleted if not.
                None => root.join(&read.path).symlink_metadata().is_ok(),
            };
            if !agrees {
                return Err(CollectError::Stale(read.path.clone()));
            }
        }
        Ok(())
    }
}

/// Collects the work in `root`, leaving out `skip` (the report file, which travels on its own).
pub fn collect(root: &Path, limits: &Limits, skip: Option<&Path>) -> Result<Work, CollectError> {
    let ignore = ignore_rules(root)?;
    // The starter files and the answer templates `sre-check init` writes: unchanged, they are
    // not work.
    let starter: BTreeMap<&str, &[u8]> = content::starter_kit().into_iter().collect();
    // The report's path relative to the working copy, when it lies inside.
    let skip: Option<PathBuf> = skip.and_then(|p| {
        let (p, r) = (p.canonicalize().ok()?, root.canonicalize().ok()?);
        p.strip_prefix(r).ok().map(Path::to_path_buf)
    });
    let mut work = Work {
        files: Vec::new(),
        contents: Vec::new(),
        unchanged: BTreeMap::new(),
    };
    let mut total: u64 = 0;
    // Past the file limit only paths are counted, to say where most of them are.
    let mut over_limit: Vec<String> = Vec::new();
    let mut walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| {
            let at = e
                .path()
                .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
            CollectError::Unreadable(shown(&at, root), e.to_string())
        })?;
        let kind = entry.file_type();
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        // The candidate's rules come first: they may leave out a name that is not UTF-8 or a link.
        let left_out = ignore.matched(rel, kind.is_dir()).is_ignore()
            || rel
                .to_str()
                .is_some_and(|p| is_excluded_by_default(&slashed(p)))
            || skip.as_deref() == Some(rel);
        if left_out {
            if kind.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        let Some(path) = rel.to_str().map(slashed) else {
            return Err(CollectError::NotUtf8(shown(entry.path(), root)));
        };
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() {
            return Err(CollectError::Symlink(path));
        }
        if !kind.is_file() {
            return Err(CollectError::Special(path, special_name(kind)));
        }
        check_path(&path).map_err(CollectError::Path)?;
        let original = starter.get(path.as_str()).copied();
        let room = work.files.len() + over_limit.len() < limits.files;
        // A file the size of its starter original is read to compare (an unchanged one is not
        // sent, whatever its size); any other file only while there is room for it.
        let same_size = original.map(|o| o.len() as u64);
        if !room && same_size.is_none() {
            over_limit.push(path);
            continue;
        }
        let bytes = read_within(entry.path(), &path, limits, same_size)?;
        if original == Some(bytes.as_slice()) {
            work.unchanged.insert(path, sha256_hex(&bytes));
            continue;
        }
        if bytes.len() as u64 > limits.file_bytes {
            return Err(CollectError::Limit(ListingError::FileTooLarge {
                path,
                size: bytes.len() as u64,
                limit: limits.file_bytes,
            }));
        }
        if !room {
            over_limit.push(path);
            continue;
        }
        total += bytes.len() as u64;
        if total > limits.expanded_bytes {
            return Err(CollectError::Limit(ListingError::TooLarge {
                total,
                limit: limits.expanded_bytes,
            }));
        }
        work.files.push(ListedFile {
            kind: if original.is_some() {
                FileKind::Changed
            } else {
                FileKind::New
            },
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            path: path.clone(),
        });
        work.contents.push((path, bytes));
    }
    if !over_limit.is_empty() {
        return Err(too_many(&work, over_limit, limits));
    }
    // The walk sorts names within a folder (`a/` comes before `a.txt`); the listing wants whole
    // paths in byte order (`a.txt` < `a/b`).
    work.files.sort_by(|a, b| a.path.cmp(&b.path));
    work.contents.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(work)
}

/// The rules of `.sre-check-ignore`, if there is one.
fn ignore_rules(root: &Path) -> Result<Gitignore, CollectError> {
    let mut builder = GitignoreBuilder::new(root);
    let file = root.join(IGNORE_FILE);
    if file.is_file()
        && let Some(err) = builder.add(&file)
    {
        return Err(CollectError::IgnoreFile(err.to_string()));
    }
    builder
        .build()
        .map_err(|e| CollectError::IgnoreFile(e.to_string()))
}

/// Reads a file whose size is within the limit, or is `allowed` (its starter original's size);
/// a bigger one is refused before it is read.
fn read_within(
    file: &Path,
    path: &str,
    limits: &Limits,
    allowed: Option<u64>,
) -> Result<Vec<u8>, CollectError> {
    let unreadable = |e: std::io::Error| CollectError::Unreadable(path.to_owned(), e.to_string());
    let size = file.symlink_metadata().map_err(unreadable)?.len();
    let limit = limits.file_bytes.max(allowed.unwrap_or(0));
    let too_large = |size| {
        CollectError::Limit(ListingError::FileTooLarge {
            path: path.to_owned(),
            size,
            limit: limits.file_bytes,
        })
    };
    if size > limit {
        return Err(too_large(size));
    }
    let bytes = std::fs::read(file).map_err(unreadable)?;
    // It may have grown since it was measured.
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The error for more files than the limit, naming the top-level folder that holds the most.
fn too_many(work: &Work, over_limit: Vec<String>, limits: &Limits) -> CollectError {
    let paths = work.files.iter().map(|f| f.path.clone()).chain(over_limit);
    let mut per_folder: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = 0;
    for path in paths {
        count += 1;
        let folder = path.split_once('/').map_or(".", |(top, _)| top).to_owned();
        *per_folder.entry(folder).or_default() += 1;
    }
    let (folder, in_folder) = per_folder
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap_or_else(|| (".".to_owned(), 0));
    CollectError::TooManyFiles {
        error: ListingError::TooManyFiles {
            count,
            limit: limits.files,
        },
        folder,
        in_folder,
    }
}

/// `rel` with '/' separators whatever the platform's.
fn slashed(rel: &str) -> String {
    rel.replace(std::path::MAIN_SEPARATOR, "/")
}

/// A path for a message, relative to the working copy, with invalid UTF-8 replaced.
fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn special_name(kind: std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "named pipe (FIFO)"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

/// What the confirmation shows: how many files, how much, and the biggest ones.
pub fn summary(work: &Work) -> String {
    let mut text = match work.files.len() {
        0 => "No file differs from the starter kit: only the report of your last run will be sent."
            .to_owned(),
        n => format!(
            "{} ({}) new or changed since the starter kit will be sent with the report of your \
             last run:",
            files(n),
            size(work.total_bytes())
        ),
    };
    for file in biggest(&work.files, BIGGEST_SHOWN) {
        text.push_str(&format!(
            "\n  {:>10}  {} ({})",
            size(file.size),
            file.path,
            file.kind.as_str()
        ));
    }
    if work.files.len() > BIGGEST_SHOWN {
        let more = work.files.len() - BIGGEST_SHOWN;
        let noun = if more == 1 { "file" } else { "files" };
        text.push_str(&format!("\n  and {more} more {noun}"));
    }
    text
}

/// The `n` biggest of `files`, biggest first (ties by path).
pub fn biggest(files: &[ListedFile], n: usize) -> Vec<&ListedFile> {
    let mut sorted: Vec<&ListedFile> = files.iter().collect();
    sorted.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    sorted.truncate(n);
    sorted
}

/// The question asked on a terminal before sending.
pub fn question(work: &Work) -> String {
    match work.files.len() {
        0 => "Send the report alone? [y/N] ".to_owned(),
        1 => format!("Send this file ({})? [y/N] ", size(work.total_bytes())),
        n => format!(
            "Send these {n} files ({})? [y/N] ",
            size(work.total_bytes())
        ),
    }
}

/// Whether an answer to [`question`] is a yes.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{n} files")
    }
}

/// Bytes for people: `812 bytes`, `36.2 KiB`, `19.8 MiB` (the units of the limits).
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests;
