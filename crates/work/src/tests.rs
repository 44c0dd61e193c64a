//! The archive against hostile input: every kind of entry a stranger could craft.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sre_model::submission::{FileKind, ListedFile, SUBMISSION_SCHEMA};

use super::*;

const REPORT: &str = r#"{"schema":"sre-check.report/1","tool":{"name":"sre-check","version":"0.1.0"},
"challenge":{"version":"1.0.0","digest":"sha256:00"},"host":{"os":"linux x86_64","docker":null,"compose":null},
"started_at":"2026-12-07T03:00:00.000Z","finished_at":"2026-12-07T03:01:00.000Z",
"files":[{"path":"infrastructure/playbook.yml","sha256":"SHA","bytes":5}],"topics":[]}"#;

fn report(playbook: &[u8]) -> Vec<u8> {
    REPORT.replace("SHA", &sha256_hex(playbook)).into_bytes()
}

/// Files as `pack` takes them.
type Files = Vec<(String, Vec<u8>)>;

fn work() -> Files {
    vec![
        (
            "infrastructure/playbook.yml".to_owned(),
            b"- hosts".to_vec(),
        ),
        ("notes/why.md".to_owned(), b"# Why\n".to_vec()),
    ]
}

fn listing_of(files: &[(String, Vec<u8>)], report: &[u8]) -> Listing {
    Listing {
        schema: SUBMISSION_SCHEMA.to_owned(),
        challenge: sre_model::report::ChallengeRef {
            version: "1.0.0".to_owned(),
            digest: "sha256:00".to_owned(),
        },
        report_digest: Report::from_json(report).expect("valid report").digest(),
        files: files
            .iter()
            .map(|(path, bytes)| ListedFile {
                path: path.clone(),
                size: bytes.len() as u64,
                sha256: sha256_hex(bytes),
                kind: FileKind::Changed,
            })
            .collect(),
    }
}

fn good() -> (Listing, Vec<u8>, Files) {
    let files = work();
    let report = report(&files[0].1);
    (listing_of(&files, &report), report, files)
}

/// A tar.gz written entry by entry, bypassing [`pack`]: what an attacker would send.
struct Raw(tar::Builder<GzEncoder<Vec<u8>>>);

impl Raw {
    fn new() -> Raw {
        Raw(tar::Builder::new(GzEncoder::new(
            Vec::new(),
            Compression::fast(),
        )))
    }

    fn file(mut self, name: &str, bytes: &[u8]) -> Raw {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // Written raw: `set_path` refuses `..` and absolute names, an attacker's tool does not.
        let field = &mut header.as_old_mut().name;
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        self.0.append(&header, bytes).expect("append");
        self
    }

    fn link(mut self, name: &str, kind: tar::EntryType, target: &str) -> Raw {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_entry_type(kind);
        header.set_link_name(target).expect("link name");
        let field = &mut header.as_old_mut().name;
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        self.0.append(&header, &[][..]).expect("append");
        self
    }

    fn start(listing: &Listing, report: &[u8]) -> Raw {
        Raw::new()
            .file(LISTING_NAME, &serde_json::to_vec(listing).expect("json"))
            .file(REPORT_NAME, report)
    }

    /// Ends the tar, then writes `trailing` into the same gzip stream.
    fn finish_with(self, trailing: &[u8]) -> Vec<u8> {
        let mut gzip = self.0.into_inner().expect("tar");
        gzip.write_all(trailing).expect("write");
        gzip.finish().expect("gzip")
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("tar").finish().expect("gzip")
    }
}

#[test]
fn what_pack_writes_verify_reads_and_unpack_restores() {
    let (listing, report, files) = good();
    let archive = pack(&listing, &report, &files).expect("packs");
    let verified = verify(&archive, &Limits::default()).expect("verifies");
    assert_eq!(verified.listing, listing);
    assert_eq!(verified.report_bytes, report);
    assert_eq!(
        read_file(&archive, "notes/why.md", &Limits::default()).expect("reads"),
        Some(b"# Why\n".to_vec())
    );
    assert_eq!(
        read_file(&archive, "absent", &Limits::default()).expect("reads"),
        None
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("infrastructure")).expect("mkdir");
    std::fs::write(dir.path().join("infrastructure/playbook.yml"), "starter").expect("write");
    unpack(&archive, dir.path(), &Limits::default()).expect("unpacks");
    assert_eq!(
        std::fs::read(dir.path().join("infrastructure/playbook.yml")).expect("read"),
        b"- hosts"
    );
    assert_eq!(
        std::fs::read(dir.path().join("notes/why.md")).expect("read"),
        b"# Why\n"
    );
}

#[test]
fn the_same_work_packs_to_the_same_bytes() {
    let (listing, report, files) = good();
    let a = pack(&listing, &report, &files).expect("packs");
    let b = pack(&listing, &report, &files).expect("packs");
    assert_eq!(digest(&a), digest(&b));
    assert!(digest(&a).starts_with("sha256:"));
}

#[test]
fn pack_refuses_files_that_are_not_the_listing() {
    let (listing, report, mut files) = good();
    files[1].1 = b"edited after listing".to_vec();
    assert!(matches!(
        pack(&listing, &report, &files),
        Err(PackError::Mismatch(p)) if p == "notes/why.md"
    ));
    files.pop();
    assert!(matches!(
        pack(&listing, &report, &files),
        Err(PackError::Mismatch(_))
    ));
}

#[test]
fn long_paths_survive_the_round_trip() {
    let files = vec![(format!("{}/x.txt", "d".repeat(300)), b"x".to_vec())];
    let report = report(b"- hosts");
    let listing = listing_of(&files, &report);
    let archive = pack(&listing, &report, &files).expect("packs");
    verify(&archive, &Limits::default()).expect("verifies");
}

#[test]
fn names_that_leave_the_working_copy_are_refused() {
    let (listing, report, _) = good();
    for name in [
        "work/../../etc/passwd",
        "/etc/passwd",
        "work//x",
        "work/a/./b",
    ] {
        let archive = Raw::start(&listing, &report).file(name, b"x").finish();
        let error = verify(&archive, &Limits::default()).expect_err(name);
        assert!(
            matches!(error, ReadError::BadName(_) | ReadError::Unexpected(_)),
            "{name}: {error}"
        );
    }
}

#[test]
fn links_and_other_entries_are_refused() {
    let (listing, report, _) = good();
    for (kind, label) in [
        (tar::EntryType::Symlink, "symlink"),
        (tar::EntryType::Link, "hard link"),
        (tar::EntryType::Directory, "directory"),
        (tar::EntryType::Char, "device"),
        (tar::EntryType::Fifo, "FIFO"),
    ] {
        let archive = Raw::start(&listing, &report)
            .link("work/infrastructure/playbook.yml", kind, "/etc/passwd")
            .finish();
        let error = verify(&archive, &Limits::default()).expect_err(label);
        assert!(
            matches!(&error, ReadError::NotAFile { kind, .. } if kind == label),
            "{label}: {error}"
        );
    }
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let limits = Limits {
        expanded_bytes: 1024 * 1024,
        file_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    };
    // Honestly listed: the listing's sizes add up past the limit.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let files = vec![("big".to_owned(), zeros.clone())];
    let report = report(b"- hosts");
    let listing = listing_of(&files, &report);
    let archive = Raw::start(&listing, &report)
        .file("work/big", &zeros)
        .finish();
    assert!(archive.len() < 256 * 1024, "{}", archive.len());
    let error = verify(&archive, &limits).expect_err("bomb");
    assert!(
        matches!(error, ReadError::Listing(ListingError::TooLarge { .. })),
        "{error}"
    );
    // Hidden: zeros after the end of the tar, inside the same gzip stream.
    let (listing, report, files) = good();
    let mut tail = Raw::start(&listing, &report);
    for (path, bytes) in &files {
        tail = tail.file(&format!("work/{path}"), bytes);
    }
    let archive = tail.finish_with(&zeros);
    assert!(archive.len() < 256 * 1024, "{}", archive.len());
    let error = verify(&archive, &limits).expect_err("bomb");
    assert!(matches!(error, ReadError::ExpandsTooFar { .. }), "{error}");
}

#[test]
fn limits_on_size_and_count_hold_without_trusting_the_listing() {
    let (listing, report, _) = good();
    let limits = Limits {
        file_bytes: 10,
        files: 2,
        ..Limits::default()
    };
    let big = Raw::start(&listing, &report)
        .file("work/infrastructure/playbook.yml", &[b'x'; 11])
        .finish();
    assert!(matches!(
        verify(&big, &limits),
        Err(ReadError::Listing(ListingError::FileTooLarge { .. }))
    ));
    let many = Raw::start(&listing, &report)
        .file("work/a", b"1")
        .file("work/b", b"1")
        .file("work/c", b"1")
        .finish();
    assert!(matches!(
        verify(&many, &limits),
        Err(ReadError::Listing(ListingError::TooManyFiles { .. })) | Err(ReadError::Unlisted(_))
    ));
    let (listing, report, files) = good();
    let archive = pack(&listing, &report, &files).expect("packs");
    let small = Limits {
        archive_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        verify(&archive, &small),
        Err(ReadError::ArchiveTooLarge { .. })
    ));
}

#[test]
fn files_must_be_exactly_the_listing() {
    let (listing, report, files) = good();
    let altered = Raw::start(&listing, &report)
        .file("work/infrastructure/playbook.yml", b"- host!")
        .file("work/notes/why.md", &files[1].1)
        .finish();
    assert!(matches!(
        verify(&altered, &Limits::default()),
        Err(ReadError::Mismatch { what: "sha256", .. })
    ));
    let missing = Raw::start(&listing, &report)
        .file("work/infrastructure/playbook.yml", &files[0].1)
        .finish();
    assert!(matches!(
        verify(&missing, &Limits::default()),
        Err(ReadError::NotSent(p)) if p == "notes/why.md"
    ));
    let extra = Raw::start(&listing, &report)
        .file("work/infrastructure/playbook.yml", &files[0].1)
        .file("work/notes/why.md", &files[1].1)
        .file("work/zzz", b"1")
        .finish();
    assert!(matches!(
        verify(&extra, &Limits::default()),
        Err(ReadError::Unlisted(p)) if p == "zzz"
    ));
    let no_listing = Raw::new().file(REPORT_NAME, &report).finish();
    assert!(matches!(
        verify(&no_listing, &Limits::default()),
        Err(ReadError::Missing(LISTING_NAME))
    ));
}

#[test]
fn the_report_must_be_the_listed_one_and_agree_with_the_files() {
    let (mut listing, report, files) = good();
    // The report read another version of the playbook than the one sent.
    let stale_report = REPORT.replace("SHA", &"b".repeat(64)).into_bytes();
    listing.report_digest = Report::from_json(&stale_report).expect("valid").digest();
    let archive = pack(&listing, &stale_report, &files).expect("packs");
    assert!(matches!(
        verify(&archive, &Limits::default()),
        Err(ReadError::Listing(ListingError::Stale(p))) if p == "infrastructure/playbook.yml"
    ));
    let (listing, _, files) = good();
    let other = REPORT
        .replace("03:01", "03:02")
        .replace("SHA", &sha256_hex(&files[0].1));
    let archive = pack(&listing, other.as_bytes(), &files).expect("packs");
    assert!(matches!(
        verify(&archive, &Limits::default()),
        Err(ReadError::Listing(ListingError::ReportDigest { .. }))
    ));
    let _ = report;
}

#[test]
fn damaged_archives_are_refused_not_half_read() {
    let (listing, report, files) = good();
    let archive = pack(&listing, &report, &files).expect("packs");
    for cut in [0, 10, archive.len() / 2, archive.len() - 4] {
        let error = verify(&archive[..cut], &Limits::default()).expect_err("cut");
        assert!(
            matches!(error, ReadError::Damaged(_) | ReadError::Missing(_)),
            "cut at {cut}: {error}"
        );
    }
    let mut flipped = archive.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    assert!(verify(&flipped, &Limits::default()).is_err());
    let mut not_gzip = Vec::new();
    not_gzip
        .write_all(b"PK\x03\x04 not a tar.gz")
        .expect("write");
    assert!(matches!(
        verify(&not_gzip, &Limits::default()),
        Err(ReadError::Damaged(_))
    ));
}

#[test]
fn unpack_never_writes_through_a_symlink() {
    let (listing, report, files) = good();
    let archive = pack(&listing, &report, &files).expect("packs");
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("notes")).expect("symlink");
    let error = unpack(&archive, dir.path(), &Limits::default()).expect_err("symlink");
    assert!(matches!(error, ReadError::BadName(_)), "{error}");
    assert_eq!(std::fs::read_dir(outside.path()).expect("ls").count(), 0);
}
