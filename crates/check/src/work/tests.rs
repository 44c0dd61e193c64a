//! Collection on real folders: a fresh `init`, then the candidate's changes.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sre_model::report::{FileDigest, Host, REPORT_SCHEMA, Tool};

use super::*;

/// A working copy as `sre-check init` makes it.
fn starter() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    crate::init::init(dir.path(), true).expect("init writes the starter");
    dir
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn paths(work: &Work) -> Vec<(&str, FileKind)> {
    work.files
        .iter()
        .map(|f| (f.path.as_str(), f.kind))
        .collect()
}

fn small(files: usize, file_bytes: u64) -> Limits {
    Limits {
        files,
        file_bytes,
        ..Limits::default()
    }
}

fn report(files: Vec<FileDigest>) -> Report {
    Report {
        schema: REPORT_SCHEMA.to_owned(),
        tool: Tool {
            name: "sre-check".to_owned(),
            version: "0.1.0".to_owned(),
        },
        challenge: ChallengeRef {
            version: "1.0.0".to_owned(),
            digest: "sha256:00".to_owned(),
        },
        host: Host {
            os: "linux x86_64".to_owned(),
            docker: None,
            compose: None,
        },
        started_at: "2026-11-29T06:00:00.000Z".to_owned(),
        finished_at: "2026-11-29T06:02:00.000Z".to_owned(),
        files,
        topics: vec![],
    }
}

fn digest_of(path: &str, bytes: &[u8]) -> FileDigest {
    FileDigest {
        path: path.to_owned(),
        sha256: sha256_hex(bytes),
        bytes: bytes.len() as u64,
    }
}

#[test]
fn only_new_and_changed_files_are_collected_sorted_by_path() {
    let dir = starter();
    let root = dir.path();
    assert!(
        collect(root, &Limits::default(), None)
            .expect("collects")
            .files
            .is_empty(),
        "a fresh working copy has no work"
    );
    write(root, "feedback.txt", b"Six hours.\n");
    write(root, "postgres/solution.sql", b"CREATE INDEX ...;\n");
    write(root, "a.txt", b"a");
    write(root, "a/b", b"b");
    let work = collect(root, &Limits::default(), None).expect("collects");
    assert_eq!(
        paths(&work),
        [
            ("a.txt", FileKind::New),
            ("a/b", FileKind::New),
            ("feedback.txt", FileKind::Changed),
            ("postgres/solution.sql", FileKind::New),
        ]
    );
    let sql = &work.files[3];
    assert_eq!(sql.size, 18);
    assert_eq!(sql.sha256, sha256_hex(b"CREATE INDEX ...;\n"));
    assert_eq!(work.contents[3].1, b"CREATE INDEX ...;\n");
    assert_eq!(
        work.contents
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        ["a.txt", "a/b", "feedback.txt", "postgres/solution.sql"]
    );
    assert_eq!(work.total_bytes(), 1 + 1 + 11 + 18);
}

#[test]
fn tool_state_version_control_and_editor_files_are_left_out() {
    let dir = starter();
    let root = dir.path();
    for rel in [
        ".sre-check/report.json",
        ".sre-check/os/bookworm/prometheus-postgres-exporter_0.1_amd64.deb",
        ".sre-check/postgres-x1/solution.sql",
        ".git/config",
        "infrastructure/.git/HEAD",
        "infrastructure/.playbook.yml.swp",
        "notes.md~",
        "monitoring/.#answers.md",
        "#draft#",
        ".DS_Store",
    ] {
        write(root, rel, b"x");
    }
    write(root, "kept.md", b"mine");
    let work = collect(root, &Limits::default(), None).expect("collects");
    assert_eq!(paths(&work), [("kept.md", FileKind::New)]);
}

#[test]
fn the_report_file_travels_on_its_own() {
    let dir = starter();
    let root = dir.path();
    write(root, "my-report.json", b"{}");
    write(root, "kept.md", b"mine");
    let work =
        collect(root, &Limits::default(), Some(&root.join("my-report.json"))).expect("collects");
    assert_eq!(paths(&work), [("kept.md", FileKind::New)]);
}

#[test]
fn sre_check_ignore_is_honoured_in_gitignore_syntax() {
    let dir = starter();
    let root = dir.path();
    write(
        root,
        IGNORE_FILE,
        b"# build outputs\ndist/\n*.log\n!keep.log\n/top.tmp\n",
    );
    write(root, "dist/pkg.deb", b"deb");
    write(root, "packaging/dist/other.deb", b"deb");
    write(root, "a.log", b"log");
    write(root, "keep.log", b"kept");
    write(root, "top.tmp", b"t");
    write(root, "sub/top.tmp", b"t");
    // What is ignored may be anything: a link, a name that is not UTF-8.
    std::os::unix::fs::symlink("/etc/passwd", root.join("dist/link")).expect("symlink");
    let odd = std::ffi::OsStr::from_bytes(b"dist/\xff.bin");
    std::fs::write(root.join(odd), b"x").expect("write");
    let work = collect(root, &Limits::default(), None).expect("collects");
    assert_eq!(
        paths(&work),
        [
            (IGNORE_FILE, FileKind::New),
            ("keep.log", FileKind::New),
            ("sub/top.tmp", FileKind::New),
        ]
    );
}

#[test]
fn a_bad_ignore_pattern_is_named() {
    let dir = starter();
    write(dir.path(), IGNORE_FILE, b"{a,b\n");
    let err = collect(dir.path(), &Limits::default(), None).expect_err("refused");
    assert!(matches!(err, CollectError::IgnoreFile(_)), "{err}");
    assert!(err.to_string().contains(IGNORE_FILE), "{err}");
}

#[test]
fn symlinks_are_refused_by_name_never_followed() {
    let dir = starter();
    let root = dir.path();
    std::fs::create_dir_all(root.join("infrastructure/files")).expect("mkdir");
    std::os::unix::fs::symlink("/etc", root.join("infrastructure/files/etc")).expect("symlink");
    let err = collect(root, &Limits::default(), None).expect_err("refused");
    assert!(
        matches!(&err, CollectError::Symlink(p) if p == "infrastructure/files/etc"),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("add it to .sre-check-ignore"), "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
}

#[test]
fn fifos_and_devices_are_refused() {
    let dir = starter();
    let root = dir.path();
    nix::unistd::mkfifo(&root.join("pipe"), nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let err = collect(root, &Limits::default(), None).expect_err("refused");
    assert!(
        matches!(&err, CollectError::Special(p, what) if p == "pipe" && what.contains("FIFO")),
        "{err}"
    );
}

#[test]
fn names_that_are_not_utf8_are_refused() {
    let dir = starter();
    let root = dir.path();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(root.join(name), b"x").expect("write");
    let err = collect(root, &Limits::default(), None).expect_err("refused");
    assert!(
        matches!(&err, CollectError::NotUtf8(p) if p == "caf\u{fffd}.txt"),
        "{err}"
    );
    assert!(err.to_string().contains("rename it"), "{err}");
}

#[test]
fn control_characters_in_names_are_refused() {
    let dir = starter();
    write(dir.path(), "a\nb", b"x");
    let err = collect(dir.path(), &Limits::default(), None).expect_err("refused");
    assert!(matches!(err, CollectError::Path(_)), "{err}");
}

#[test]
fn a_file_over_the_limit_is_refused_without_reading_it() {
    let dir = starter();
    let root = dir.path();
    // Sparse: 5 MiB + 1 byte on disk costs nothing.
    let big = std::fs::File::create(root.join("postgres/dump.sql")).expect("create");
    big.set_len(5 * 1024 * 1024 + 1).expect("set_len");
    let err = collect(root, &Limits::default(), None).expect_err("refused");
    assert!(
        matches!(&err, CollectError::Limit(ListingError::FileTooLarge { path, .. }) if path == "postgres/dump.sql"),
        "{err}"
    );
    assert!(err.to_string().contains(".sre-check-ignore"), "{err}");
    // Exactly at the limit is fine.
    big.set_len(5 * 1024 * 1024).expect("set_len");
    let work = collect(root, &Limits::default(), None).expect("collects");
    assert_eq!(work.files[0].size, 5 * 1024 * 1024);
}

#[test]
fn too_many_files_names_the_folder_holding_most() {
    let dir = starter();
    let root = dir.path();
    for i in 0..6 {
        write(root, &format!("node_modules/m{i}/index.js"), b"x");
    }
    write(root, "mine.md", b"mine");
    write(root, "feedback.txt", b"changed");
    let err = collect(root, &small(5, 1024), None).expect_err("refused");
    match &err {
        CollectError::TooManyFiles {
            error: ListingError::TooManyFiles { count, limit },
            folder,
            in_folder,
        } => {
            assert_eq!((*count, *limit), (8, 5));
            assert_eq!((folder.as_str(), *in_folder), ("node_modules", 6));
        }
        other => panic!("{other}"),
    }
    // Unchanged starter files count for nothing, whatever their size: the same work fits in 8.
    assert_eq!(
        collect(root, &small(8, 10), None)
            .expect("fits")
            .files
            .len(),
        8
    );
}

#[test]
fn the_expanded_total_is_bounded() {
    let dir = starter();
    let root = dir.path();
    write(root, "a", &[1; 600]);
    write(root, "b", &[2; 600]);
    let limits = Limits {
        expanded_bytes: 1000,
        ..Limits::default()
    };
    let err = collect(root, &limits, None).expect_err("refused");
    assert!(
        matches!(
            err,
            CollectError::Limit(ListingError::TooLarge { total: 1200, .. })
        ),
        "{err}"
    );
}

#[test]
fn the_report_must_describe_the_files_sent() {
    let dir = starter();
    let root = dir.path();
    write(root, "feedback.txt", b"mine");
    write(root, "postgres/solution.sql", b"select 1;");
    write(root, IGNORE_FILE, b"private.txt\n");
    write(root, "private.txt", b"ignored");
    let readme = content::file("README.md").expect("embedded");
    let work = collect(root, &Limits::default(), None).expect("collects");
    let fine = report(vec![
        digest_of("README.md", readme),
        digest_of("feedback.txt", b"mine"),
        digest_of("private.txt", b"an older version, not sent anyway"),
    ]);
    work.check_report(&fine, root).expect("agrees");

    let changed = report(vec![digest_of("feedback.txt", b"before")]);
    assert!(
        matches!(work.check_report(&changed, root), Err(CollectError::Stale(p)) if p == "feedback.txt")
    );
    // A starter file the report saw changed, now back to the starter's text.
    let reverted = report(vec![digest_of("README.md", b"my edits")]);
    assert!(
        matches!(work.check_report(&reverted, root), Err(CollectError::Stale(p)) if p == "README.md")
    );
    // A file the report read is gone.
    let gone = report(vec![digest_of("postgres/old.sql", b"x")]);
    let err = work.check_report(&gone, root).expect_err("stale");
    assert!(
        err.to_string().contains("run `sre-check run` again"),
        "{err}"
    );
}

#[test]
fn the_summary_shows_count_total_and_the_five_biggest() {
    let dir = starter();
    let root = dir.path();
    for (i, size) in [10usize, 3000, 20, 2_000_000, 5, 700, 1].iter().enumerate() {
        write(root, &format!("f{i}"), &vec![b'x'; *size]);
    }
    write(root, "feedback.txt", b"changed");
    let work = collect(root, &Limits::default(), None).expect("collects");
    let text = summary(&work);
    let expected = "\
8 files (1.9 MiB) new or changed since the starter kit will be sent with the report of your last run:
     1.9 MiB  f3 (new)
     2.9 KiB  f1 (new)
   700 bytes  f5 (new)
    20 bytes  f2 (new)
    10 bytes  f0 (new)
  and 3 more files";
    assert_eq!(text, expected);
    assert_eq!(question(&work), "Send these 8 files (1.9 MiB)? [y/N] ");
    for yes in ["y", "Y\n", " yes "] {
        assert!(is_yes(yes), "{yes}");
    }
    for no in ["", "\n", "n", "no", "yep"] {
        assert!(!is_yes(no), "{no}");
    }
}

#[test]
fn the_summary_of_no_work_says_only_the_report_goes() {
    let dir = starter();
    let work = collect(dir.path(), &Limits::default(), None).expect("collects");
    assert!(summary(&work).starts_with("No file differs"));
    assert_eq!(question(&work), "Send the report alone? [y/N] ");
}

#[test]
fn a_changed_starter_file_over_the_limit_is_refused_even_at_its_original_size() {
    let dir = starter();
    let root = dir.path();
    let original = content::file("README.md").expect("embedded");
    let mut edited = original.to_vec();
    edited[0] = if edited[0] == b'#' { b'=' } else { b'#' };
    write(root, "README.md", &edited);
    let err = collect(root, &small(10, 100), None).expect_err("refused");
    assert!(
        matches!(&err, CollectError::Limit(ListingError::FileTooLarge { path, .. }) if path == "README.md"),
        "{err}"
    );
}
