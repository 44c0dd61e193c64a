//! The archive of a candidate's work, schema `sre-check.submission/1`: written by
//! `sre-check upload`, checked by `sre-intake` before it stores anything, unpacked by `sre-verify`.
//!
//! One implementation for all three, so client and server refuse the same things in the same words.
//!
//! The format is a gzip-compressed tar (ustar with GNU long names), written deterministically
//! (entries in a fixed order, mtime 0, uid/gid 0, mode 0644), so the same work packs to the same
//! bytes and its digest makes uploads idempotent. The entries, in this order and nothing else:
//!
//! 1. `submission.json`: the [`Listing`];
//! 2. `report.json`: the report the work was checked with, byte for byte;
//! 3. `work/<path>` for every listed file, in the listing's order.
//!
//! Reading never trusts the archive: only regular files, names that stay inside the working copy,
//! every limit of [`Limits`] (the expanded size is counted while decompressing, so a bomb stops at
//! the limit instead of filling memory), and every file equal to its listing entry.

use std::cell::Cell;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path};
use std::rc::Rc;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use sre_model::manifest::hex;
use sre_model::submission::{Limits, Listing, ListingError, check_path};
use sre_model::{Report, ReportError};

/// The listing's entry.
pub const LISTING_NAME: &str = "submission.json";
/// The report's entry.
pub const REPORT_NAME: &str = "report.json";
/// What every work file's entry name starts with.
pub const WORK_PREFIX: &str = "work/";
/// Most bytes of the listing or the report (the server's report limit).
pub const META_LIMIT: u64 = 5 * 1024 * 1024;

/// Most bytes after the tar's end: its record padding is at most 10 KiB.
const TRAILING_LIMIT: u64 = 64 * 1024;

/// Tar overhead an entry may add to the stream beyond its content: a header, a GNU long name of
/// up to [`sre_model::submission::PATH_LIMIT`] bytes, and padding.
const ENTRY_OVERHEAD: u64 = 3 * 1024;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The files given are not the ones the listing names.
    #[error("the files do not match the listing at `{0}`")]
    Mismatch(String),
    /// The tar or gzip writer failed.
    #[error("cannot write the archive: {0}")]
    Io(#[from] io::Error),
}

/// Why an archive is refused. Every message names the entry and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Over [`Limits::archive_bytes`].
    #[error(
        "the archive is {size} bytes, over the {limit} bytes a submission may have: leave out large files with .sre-check-ignore"
    )]
    ArchiveTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Expands past what its listing may hold.
    #[error("the archive expands past {limit} bytes: it is not an archive sre-check made")]
    ExpandsTooFar {
        /// Most bytes it may expand to.
        limit: u64,
    },
    /// Not gzip, not tar, cut short, or a checksum that does not match.
    #[error("the archive is damaged or cut short ({0}): make it again with `sre-check upload`")]
    Damaged(String),
    /// A symlink, hard link, directory, device or any entry that is not a regular file.
    #[error("`{path}` is a {kind} entry: a submission holds regular files only")]
    NotAFile {
        /// The entry's name.
        path: String,
        /// What it is.
        kind: String,
    },
    /// A name that is not UTF-8 or leaves the working copy.
    #[error(
        "`{0}` is not a name a submission may hold: use relative UTF-8 paths inside the working copy"
    )]
    BadName(String),
    /// An entry other than the listing, the report and `work/…`, or one of them out of place.
    #[error(
        "unexpected entry `{0}`: a submission holds submission.json, report.json and work/… in that order"
    )]
    Unexpected(String),
    /// The listing or the report is missing.
    #[error("the archive has no {0}: make it again with `sre-check upload`")]
    Missing(&'static str),
    /// The listing or the report is over [`META_LIMIT`].
    #[error("`{0}` is over {META_LIMIT} bytes")]
    MetaTooLarge(String),
    /// The listing is not JSON of the right shape.
    #[error("submission.json is not a valid listing: {0}")]
    ListingJson(String),
    /// The listing breaks a rule or a limit, or disagrees with the report.
    #[error(transparent)]
    Listing(#[from] ListingError),
    /// The report is not a valid report.
    #[error("report.json is not a valid report: {0}")]
    Report(#[from] ReportError),
    /// A file's entry is not what its listing says.
    #[error(
        "`{path}` does not match its listing ({what}): make the archive again with `sre-check upload`"
    )]
    Mismatch {
        /// The file.
        path: String,
        /// What differs.
        what: &'static str,
    },
    /// A file that is not listed.
    #[error("`{0}` is in the archive but not in its listing")]
    Unlisted(String),
    /// A listed file that is not in the archive.
    #[error("`{0}` is listed but not in the archive")]
    NotSent(String),
    /// Unpacking could not write a file.
    #[error("cannot write {path}: {error}")]
    Write {
        /// Where.
        path: String,
        /// The operating system's reason.
        error: String,
    },
}

/// A checked archive: its listing and the report it came with.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The listing, checked against every file.
    pub listing: Listing,
    /// The report, validated; the listing agrees with it.
    pub report: Report,
    /// The report's bytes as sent.
    pub report_bytes: Vec<u8>,
}

/// `sha256:<hex>` of the archive's bytes: the idempotency key of an upload.
pub fn digest(archive: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(archive)))
}

/// Lowercase hex sha256 of a file's content, as listings hold it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Packs the listing, the report and the files. `files` must be the listing's files, in its
/// order, with the sizes and digests it names.
pub fn pack(
    listing: &Listing,
    report: &[u8],
    files: &[(String, Vec<u8>)],
) -> Result<Vec<u8>, PackError> {
    if files.len() != listing.files.len() {
        let first_extra = files
            .get(listing.files.len())
            .map(|(p, _)| p.clone())
            .or_else(|| listing.files.get(files.len()).map(|f| f.path.clone()))
            .unwrap_or_default();
        return Err(PackError::Mismatch(first_extra));
    }
    for (listed, (path, bytes)) in listing.files.iter().zip(files) {
        if listed.path != *path
            || listed.size != bytes.len() as u64
            || listed.sha256 != sha256_hex(bytes)
        {
            return Err(PackError::Mismatch(path.clone()));
        }
    }
    let listing_json = serde_json::to_vec_pretty(listing).map_err(io::Error::other)?;
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    append(&mut builder, LISTING_NAME, &listing_json)?;
    append(&mut builder, REPORT_NAME, report)?;
    for (path, bytes) in files {
        append(&mut builder, &format!("{WORK_PREFIX}{path}"), bytes)?;
    }
    Ok(builder.into_inner()?.finish()?)
}

fn append<W: Write>(builder: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, path, bytes)
}

/// Streams through the whole archive, keeping no file in memory, and checks everything: entry
/// kinds and names, every limit, every file against the listing, the listing against the report.
pub fn verify(archive: &[u8], limits: &Limits) -> Result<Verified, ReadError> {
    let mut listing: Option<Listing> = None;
    let mut report: Option<(Report, Vec<u8>)> = None;
    let mut next = 0usize;
    walk(archive, limits, |entry, size, reader| {
        match entry {
            Entry::Listing => {
                let bytes = read_meta(LISTING_NAME, size, reader)?;
                let parsed: Listing = serde_json::from_slice(&bytes)
                    .map_err(|e| ReadError::ListingJson(e.to_string()))?;
                parsed.check(limits)?;
                listing = Some(parsed);
            }
            Entry::Report => {
                let bytes = read_meta(REPORT_NAME, size, reader)?;
                report = Some((Report::from_json(&bytes)?, bytes));
            }
            Entry::Work(path) => {
                let listed = listing.as_ref().ok_or(ReadError::Missing(LISTING_NAME))?;
                let expected = match listed.files.get(next) {
                    Some(f) if f.path == path => f,
                    _ if listed.files.iter().any(|f| f.path == path) => {
                        return Err(ReadError::Unexpected(format!("{WORK_PREFIX}{path}")));
                    }
                    _ => return Err(ReadError::Unlisted(path.to_owned())),
                };
                if expected.size != size {
                    return Err(ReadError::Mismatch {
                        path: path.to_owned(),
                        what: "size",
                    });
                }
                let mut hasher = Sha256::new();
                io::copy(reader, &mut hasher).map_err(|e| ReadError::Damaged(e.to_string()))?;
                if hex(&hasher.finalize()) != expected.sha256 {
                    return Err(ReadError::Mismatch {
                        path: path.to_owned(),
                        what: "sha256",
                    });
                }
                next += 1;
            }
        }
        Ok(Flow::Continue)
    })?;
    let listing = listing.ok_or(ReadError::Missing(LISTING_NAME))?;
    let (report, report_bytes) = report.ok_or(ReadError::Missing(REPORT_NAME))?;
    if let Some(unsent) = listing.files.get(next) {
        return Err(ReadError::NotSent(unsent.path.clone()));
    }
    listing.agrees_with(&report)?;
    Ok(Verified {
        listing,
        report,
        report_bytes,
    })
}

/// The content of one work file, by its path in the working copy; `None` when it is not there.
/// For an archive that was [`verify`]-ed when it arrived; the limits still bound what is read.
pub fn read_file(
    archive: &[u8],
    path: &str,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut found = None;
    walk(archive, limits, |entry, _size, reader| {
        if let Entry::Work(p) = entry
            && p == path
        {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| ReadError::Damaged(e.to_string()))?;
            found = Some(bytes);
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    })?;
    Ok(found)
}

/// Verifies the archive, then writes its work files into `dir` (a working copy laid out by the
/// caller, e.g. a fresh starter kit), replacing the files there. Nothing is written outside `dir`:
/// every name passed [`check_path`], and a path through a symlink is refused.
pub fn unpack(archive: &[u8], dir: &Path, limits: &Limits) -> Result<Listing, ReadError> {
    let verified = verify(archive, limits)?;
    walk(archive, limits, |entry, _size, reader| {
        if let Entry::Work(path) = entry {
            write_inside(dir, path, reader)?;
        }
        Ok(Flow::Continue)
    })?;
    Ok(verified.listing)
}

fn write_inside(dir: &Path, path: &str, reader: &mut dyn Read) -> Result<(), ReadError> {
    let failed = |error: io::Error| ReadError::Write {
        path: path.to_owned(),
        error: error.to_string(),
    };
    let relative = Path::new(path);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(ReadError::BadName(path.to_owned()));
    }
    // Each existing ancestor must be a real directory: a symlink planted in `dir` must not carry
    // a write outside it.
    let mut current = dir.to_path_buf();
    let components: Vec<_> = relative.components().collect();
    for component in &components[..components.len().saturating_sub(1)] {
        current.push(component);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(ReadError::BadName(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&current).map_err(failed)?
            }
            Err(e) => return Err(failed(e)),
        }
    }
    let target = dir.join(relative);
    match fs::symlink_metadata(&target) {
        Ok(meta) if meta.is_file() => fs::remove_file(&target).map_err(failed)?,
        Ok(_) => return Err(ReadError::BadName(path.to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(failed)?;
    io::copy(reader, &mut file).map_err(failed)?;
    Ok(())
}

/// An entry of a submission archive, by role.
enum Entry<'a> {
    Listing,
    Report,
    Work(&'a str),
}

/// Whether [`walk`] goes on after an entry.
enum Flow {
    Continue,
    Stop,
}

/// Calls `visit` for each entry after checking its kind, name, place and size limit; counts what
/// the archive expands to as it is decompressed. A visitor that does not read an entry's content
/// has it skipped.
fn walk(
    archive: &[u8],
    limits: &Limits,
    mut visit: impl FnMut(Entry<'_>, u64, &mut dyn Read) -> Result<Flow, ReadError>,
) -> Result<(), ReadError> {
    if archive.len() as u64 > limits.archive_bytes {
        return Err(ReadError::ArchiveTooLarge {
            size: archive.len() as u64,
            limit: limits.archive_bytes,
        });
    }
    let stream_limit = limits
        .expanded_bytes
        .saturating_add(2 * META_LIMIT)
        .saturating_add((limits.files as u64 + 8) * ENTRY_OVERHEAD);
    let tripped = Rc::new(Cell::new(false));
    let bounded = Bounded {
        inner: GzDecoder::new(archive),
        left: stream_limit,
        tripped: Rc::clone(&tripped),
    };
    let damaged = |e: io::Error| {
        if tripped.get() {
            ReadError::ExpandsTooFar {
                limit: stream_limit,
            }
        } else {
            ReadError::Damaged(e.to_string())
        }
    };
    let mut tar = tar::Archive::new(bounded);
    let mut index = 0usize;
    let mut work_files = 0usize;
    for entry in tar.entries().map_err(&damaged)? {
        let mut entry = entry.map_err(&damaged)?;
        let raw_name = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw_name)
            .map_err(|e| ReadError::BadName(String::from_utf8_lossy(e.as_bytes()).into_owned()))?;
        let kind = entry.header().entry_type();
        if kind != tar::EntryType::Regular {
            return Err(ReadError::NotAFile {
                path: name,
                kind: entry_kind(kind),
            });
        }
        let size = entry.size();
        let role = match (index, name.as_str()) {
            (0, LISTING_NAME) => Entry::Listing,
            (1, REPORT_NAME) => Entry::Report,
            (i, n) if i >= 2 && n.starts_with(WORK_PREFIX) => {
                let path = &n[WORK_PREFIX.len()..];
                check_path(path).map_err(|_| ReadError::BadName(name.clone()))?;
                work_files += 1;
                if work_files > limits.files {
                    return Err(ListingError::TooManyFiles {
                        count: work_files,
                        limit: limits.files,
                    }
                    .into());
                }
                if size > limits.file_bytes {
                    return Err(ListingError::FileTooLarge {
                        path: path.to_owned(),
                        size,
                        limit: limits.file_bytes,
                    }
                    .into());
                }
                Entry::Work(path)
            }
            (0, _) => return Err(ReadError::Missing(LISTING_NAME)),
            (1, _) => return Err(ReadError::Missing(REPORT_NAME)),
            _ => return Err(ReadError::Unexpected(name)),
        };
        index += 1;
        match visit(role, size, &mut entry) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => return Ok(()),
            Err(ReadError::Damaged(_)) if tripped.get() => {
                return Err(ReadError::ExpandsTooFar {
                    limit: stream_limit,
                });
            }
            Err(e) => return Err(e),
        }
    }
    if index == 0 {
        return Err(ReadError::Missing(LISTING_NAME));
    }
    // The tar ended; read the gzip stream to its end so its length and CRC are checked and a cut
    // or altered archive is refused. Only the tar's record padding may follow, not a payload.
    let trailing = io::copy(
        &mut tar.into_inner().take(TRAILING_LIMIT + 1),
        &mut io::sink(),
    )
    .map_err(&damaged)?;
    if trailing > TRAILING_LIMIT {
        return Err(ReadError::ExpandsTooFar {
            limit: stream_limit,
        });
    }
    Ok(())
}

fn read_meta(name: &str, size: u64, reader: &mut dyn Read) -> Result<Vec<u8>, ReadError> {
    if size > META_LIMIT {
        return Err(ReadError::MetaTooLarge(name.to_owned()));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Damaged(e.to_string()))?;
    Ok(bytes)
}

fn entry_kind(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "symlink".to_owned(),
        tar::EntryType::Link => "hard link".to_owned(),
        tar::EntryType::Directory => "directory".to_owned(),
        tar::EntryType::Char | tar::EntryType::Block => "device".to_owned(),
        tar::EntryType::Fifo => "FIFO".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// A reader that fails once more than `left` bytes came through: the decompression bomb guard.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.tripped.set(true);
            return Err(io::Error::other("expands past the limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
