//! Archives of submitted work built by hand for the submission tests: well-formed ones in the
//! format `sre-check upload` sends (gzip-compressed ustar: `submission.json`, `report.json`, then
//! `work/<path>` for each listed file), and hostile ones no honest client makes (`../` names,
//! links, bombs, lies in the listing). Built with the `tar` and `flate2` crates directly, not with
//! `sre_work::pack`, which refuses to make the hostile ones.

#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
#[allow(unused_imports)] // used by some of the test files that include this module
pub use sre_e2e::intake::noise;
use sre_e2e::intake::{Http, Intake, Reply, sample_report};
use sre_model::Manifest;
use sre_model::report::{FileDigest, Report};

/// The repository's content folder (the starter kit the server embeds).
pub fn content_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// The challenge as the server embeds it: version and content digest.
pub fn challenge() -> (String, String) {
    let dir = content_dir();
    let text = std::fs::read_to_string(dir.join("challenge.toml")).expect("challenge.toml");
    let manifest = Manifest::from_toml(&text).expect("a valid manifest");
    let files: Vec<(&str, Vec<u8>)> = manifest
        .starter_files()
        .into_iter()
        .map(|p| (p, std::fs::read(dir.join(p)).expect("a starter file")))
        .collect();
    let digest = sre_model::manifest::content_digest(files.iter().map(|(p, b)| (*p, b.as_slice())));
    (manifest.challenge.version.clone(), digest)
}

/// Lowercase hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` of an archive, as the server names it.
pub fn digest(archive: &[u8]) -> String {
    format!("sha256:{}", sha256(archive))
}

/// One tar entry, written as given (no check of its name).
pub struct Entry {
    /// The name as raw bytes (ustar: up to 100 bytes).
    pub name: Vec<u8>,
    /// Its type.
    pub kind: tar::EntryType,
    /// Its bytes (regular files).
    pub data: Vec<u8>,
    /// The link target (symlinks, hardlinks).
    pub link: Option<Vec<u8>>,
}

impl Entry {
    /// A regular file.
    pub fn file(name: &str, data: &[u8]) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            data: data.to_vec(),
            link: None,
        }
    }

    /// A link of `kind` to `target`.
    pub fn link(name: &str, kind: tar::EntryType, target: &str) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            kind,
            data: Vec::new(),
            link: Some(target.as_bytes().to_vec()),
        }
    }
}

/// The tar stream of `entries` (not compressed), each name written into the header as is.
pub fn tar_bytes(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        {
            let ustar = header.as_ustar_mut().expect("a ustar header");
            assert!(
                entry.name.len() <= 100,
                "test names fit the ustar name field"
            );
            ustar.name = [0; 100];
            ustar.name[..entry.name.len()].copy_from_slice(&entry.name);
            if let Some(link) = &entry.link {
                ustar.linkname = [0; 100];
                ustar.linkname[..link.len()].copy_from_slice(link);
            }
        }
        header.set_entry_type(entry.kind);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(entry.data.len() as u64);
        header.set_cksum();
        builder
            .append(&header, entry.data.as_slice())
            .expect("appending to a tar in memory");
    }
    builder.into_inner().expect("finishing a tar in memory")
}

/// gzip of `bytes`. Large ones go through the system's gzip: flate2 in a debug build took
/// minutes for the 218 MiB of the bomb on a busy machine.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() < 1 << 20 {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).expect("gzip in memory");
        return encoder.finish().expect("gzip in memory");
    }
    let mut child = Command::new("gzip")
        .args(["-c", "-1", "-n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut stdin = child.stdin.take().expect("gzip's stdin");
    std::thread::scope(|scope| {
        scope.spawn(move || stdin.write_all(bytes).expect("feeding gzip"));
        let out = child.wait_with_output().expect("gzip finishes");
        assert!(out.status.success(), "gzip failed");
        out.stdout
    })
}

/// A file of the work: path, bytes, `new` or `changed`.
#[derive(Clone)]
pub struct WorkFile {
    /// Relative path in the working copy.
    pub path: String,
    /// Content (shared: the bomb holds the same 5 MiB forty times).
    pub bytes: Arc<Vec<u8>>,
    /// Lowercase hex SHA-256 of the content, computed once.
    pub sha256: String,
    /// `new` or `changed` (relative to the starter kit).
    pub kind: &'static str,
}

impl WorkFile {
    /// A file; `changed` when the starter kit has this path, else `new`.
    pub fn new(path: &str, bytes: impl Into<Vec<u8>>) -> WorkFile {
        let bytes: Vec<u8> = bytes.into();
        WorkFile {
            path: path.to_owned(),
            sha256: sha256(&bytes),
            bytes: Arc::new(bytes),
            kind: kind_of(path),
        }
    }

    /// The same content under another path.
    pub fn renamed(&self, path: &str) -> WorkFile {
        WorkFile {
            path: path.to_owned(),
            kind: kind_of(path),
            ..self.clone()
        }
    }
}

fn kind_of(path: &str) -> &'static str {
    if content_dir().join(path).is_file() {
        "changed"
    } else {
        "new"
    }
}

/// A valid report naming each file with its digest; `run` makes reports with distinct digests.
pub fn report_for(files: &[WorkFile], run: &str) -> Report {
    let mut report = sample_report(run);
    let (version, digest) = challenge();
    report.challenge.version = version;
    report.challenge.digest = digest;
    report.files = files
        .iter()
        .map(|f| FileDigest {
            path: f.path.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes.len() as u64,
        })
        .collect();
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    report
}

/// The listing (`submission.json`) of `files` for `report`.
pub fn listing(files: &[WorkFile], report: &Report) -> Value {
    let mut sorted: Vec<&WorkFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    json!({
        "schema": "sre-check.submission/1",
        "challenge": { "version": report.challenge.version, "digest": report.challenge.digest },
        "report_digest": report.digest(),
        "files": sorted.iter().map(|f| json!({
            "path": f.path, "size": f.bytes.len(), "sha256": f.sha256, "kind": f.kind,
        })).collect::<Vec<_>>(),
    })
}

/// The entries of a well-formed submission with this listing, report and files.
pub fn entries(listing: &Value, report: &Report, files: &[WorkFile]) -> Vec<Entry> {
    let mut sorted: Vec<&WorkFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut entries = vec![
        Entry::file(
            "submission.json",
            &serde_json::to_vec(listing).expect("JSON"),
        ),
        Entry::file(
            "report.json",
            &serde_json::to_vec(report).expect("a report serializes"),
        ),
    ];
    entries.extend(
        sorted
            .iter()
            .map(|f| Entry::file(&format!("work/{}", f.path), &f.bytes)),
    );
    entries
}

/// A well-formed archive of `files` with a report of its own (`run` tells reports apart).
pub fn valid(files: &[WorkFile], run: &str) -> Vec<u8> {
    let report = report_for(files, run);
    let listing = listing(files, &report);
    gzip(&tar_bytes(&entries(&listing, &report, files)))
}

/// `POST /submissions` of `archive`.
pub fn upload(http: &Http, server: &Intake, token: &str, archive: &[u8]) -> Reply {
    try_upload(http, server, token, archive).expect("the server answers")
}

/// `POST /submissions`; `Err` when no reply came (the server was killed).
pub fn try_upload(
    http: &Http,
    server: &Intake,
    token: &str,
    archive: &[u8],
) -> anyhow::Result<Reply> {
    let auth = format!("Bearer {token}");
    http.send(
        "POST",
        &server.url("/api/v1/submissions"),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/gzip"),
        ],
        archive,
    )
}
