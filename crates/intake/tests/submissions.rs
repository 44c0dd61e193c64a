//! Submitted work (issue 16) against a real server, SQLite and PostgreSQL: `POST /submissions`
//! with archives built here, idempotent retries, 409 after the final submit, the quota, the
//! reviewer's routes (list, files, a diff checked against GNU diff's, raw download, the archive),
//! and hostile archives sent straight to the API (bypassing sre-check): each is a 4xx with a JSON
//! error naming the entry, nothing is written outside the database, and the server still serves.

mod work;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use sre_e2e::intake::{Backend, Http, Intake, Reply, invite, items, raw, reviewer};
use work::{Entry, WorkFile, content_dir, digest, entries, gzip, listing, noise, report_for};
use work::{sha256, tar_bytes, upload, valid};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

fn bin() -> &'static Path {
    Path::new(BIN)
}

#[test]
fn submissions_on_sqlite() {
    submissions(&Backend::sqlite());
}

#[test]
fn submissions_on_postgres() {
    submissions(&Backend::postgres());
}

#[test]
fn hostile_archives_on_sqlite() {
    hostile_archives(&Backend::sqlite());
}

#[test]
fn hostile_archives_on_postgres() {
    hostile_archives(&Backend::postgres());
}

#[test]
fn quota_on_sqlite() {
    quota(&Backend::sqlite());
}

#[test]
fn quota_on_postgres() {
    quota(&Backend::postgres());
}

/// The iac reference solution's playbook (a changed starter file), a new file, a binary file.
fn sample_work() -> Vec<WorkFile> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let playbook = std::fs::read(fixtures.join("iac/solution/infrastructure/playbook.yml"))
        .expect("the iac reference solution");
    vec![
        WorkFile::new("infrastructure/playbook.yml", playbook),
        WorkFile::new(
            "notes/<script>alert(1)</script>.md",
            "# Notes\n\nplain text\n",
        ),
        WorkFile::new("tools/blob.bin", vec![0u8, 159, 146, 150, 1, 2]),
    ]
}

fn get(http: &Http, server: &Intake, path: &str, token: &str) -> Reply {
    http.get(&server.url(&format!("/api/v1{path}")), token)
}

fn submissions(backend: &Backend) {
    let grace = reviewer(bin(), backend, "Grace");
    let (_, ada) = invite(bin(), backend, "Ada");
    let server = Intake::start(bin(), backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();
    let id = get(&http, &server, "/me", &ada).json()["candidate"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    // Nothing yet.
    let page = get(&http, &server, &format!("/candidates/{id}"), &grace).json();
    assert_eq!(page["submissions"], json!({ "count": 0, "latest": null }));

    let files = sample_work();
    let archive = valid(&files, "first");
    let sent = upload(&http, &server, &ada, &archive);
    assert_eq!(sent.status, 201, "{}", sent.body);
    let body = sent.json();
    assert_eq!(body["digest"], digest(&archive), "{body}");
    assert_eq!(body["bytes"], archive.len(), "{body}");
    assert_eq!(body["files"], 3, "{body}");
    assert_eq!(body["duplicate"], false, "{body}");
    assert_eq!(body["report"]["overall"], "fail", "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");

    // A retry of the same archive stores nothing.
    let again = upload(&http, &server, &ada, &archive);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["received_at"], body["received_at"]);

    // The report came with it and is the latest.
    let reports = get(&http, &server, &format!("/candidates/{id}/reports"), &grace).json();
    assert_eq!(items(&reports["reports"]).len(), 1, "{reports}");
    assert_eq!(reports["reports"][0]["digest"], body["report"]["digest"]);

    // The candidate sees the files sent.
    let mine = get(&http, &server, "/submissions", &ada).json();
    assert_eq!(items(&mine["submissions"]).len(), 1, "{mine}");
    let listed: Vec<&str> = items(&mine["submissions"][0]["files"])
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(
        listed,
        [
            "infrastructure/playbook.yml",
            "notes/<script>alert(1)</script>.md",
            "tools/blob.bin"
        ]
    );

    // The reviewer: list, one, files.
    let base = format!("/candidates/{id}/submissions");
    let list = get(&http, &server, &base, &grace).json();
    let first = &list["submissions"][0];
    assert_eq!(first["digest"], digest(&archive), "{list}");
    assert_eq!(first["file_count"], 3, "{list}");
    assert_eq!(first["challenge_matches"], true, "{list}");
    let one_path = format!("{base}/{}", digest(&archive));
    let one = get(&http, &server, &one_path, &grace).json();
    let kinds: Vec<(&str, &str, bool)> = items(&one["files"])
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default(),
                f["kind"].as_str().unwrap_or_default(),
                f["binary"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("infrastructure/playbook.yml", "changed", false),
            ("notes/<script>alert(1)</script>.md", "new", false),
            ("tools/blob.bin", "new", true)
        ],
        "{one}"
    );

    // A changed file: its diff is GNU diff's.
    let playbook = get(
        &http,
        &server,
        &format!("{one_path}/files/infrastructure/playbook.yml"),
        &grace,
    )
    .json();
    assert_eq!(playbook["kind"], "changed");
    assert_eq!(playbook["binary"], false);
    assert_eq!(playbook["too_large"], false);
    assert_eq!(
        playbook["text"].as_str().map(str::as_bytes),
        Some(files[0].bytes.as_slice())
    );
    let starter = content_dir().join("infrastructure/playbook.yml");
    assert_eq!(
        playbook["diff"]["starter_bytes"],
        std::fs::metadata(&starter).expect("the starter").len()
    );
    assert_eq!(
        hunks_as_unified(&playbook["diff"]["hunks"]),
        gnu_diff(&starter, &files[0].bytes),
        "{playbook}"
    );
    // A new file: text, no diff; a binary one: neither.
    let note = get(
        &http,
        &server,
        &format!("{one_path}/files/notes/%3Cscript%3Ealert(1)%3C%2Fscript%3E.md"),
        &grace,
    )
    .json();
    assert_eq!(note["text"], "# Notes\n\nplain text\n", "{note}");
    assert_eq!(note["diff"], Value::Null);
    let blob = get(
        &http,
        &server,
        &format!("{one_path}/files/tools/blob.bin"),
        &grace,
    )
    .json();
    assert_eq!(
        (&blob["binary"], &blob["text"]),
        (&json!(true), &Value::Null)
    );

    // Raw download and the archive: attachments, never rendered.
    let raw = get(
        &http,
        &server,
        &format!("{one_path}/raw/tools/blob.bin"),
        &grace,
    );
    assert_eq!(raw.status, 200);
    assert_eq!(raw.bytes, *files[2].bytes);
    assert_eq!(raw.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        raw.header("content-disposition"),
        Some("attachment; filename=\"blob.bin\"")
    );
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    let hostile_name = get(
        &http,
        &server,
        &format!("{one_path}/raw/notes/%3Cscript%3Ealert(1)%3C%2Fscript%3E.md"),
        &grace,
    );
    assert_eq!(
        hostile_name.header("content-disposition"),
        Some("attachment; filename=\"script_.md\"")
    );
    let whole = get(&http, &server, &format!("{one_path}/archive"), &grace);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.bytes, archive);
    assert_eq!(whole.header("content-type"), Some("application/gzip"));
    assert!(
        whole
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment; filename=")),
        "{:?}",
        whole.headers
    );

    // Not found, bad paths.
    for (path, status) in [
        (format!("{one_path}/files/no/such/file"), 404),
        (format!("{base}/sha256:00"), 404),
        (format!("{one_path}/files/a/../b"), 400),
        ("/candidates/c-0000000000000000/submissions".to_owned(), 404),
    ] {
        let reply = get(&http, &server, &path, &grace);
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(reply.json()["error"].is_string());
    }

    // Reviewer routes refuse a candidate token; the candidate page links the work.
    for path in [
        base.clone(),
        one_path.clone(),
        format!("{one_path}/files/tools/blob.bin"),
        format!("{one_path}/raw/tools/blob.bin"),
        format!("{one_path}/archive"),
    ] {
        let refused = get(&http, &server, &path, &ada);
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
        assert_eq!(refused.json()["error"], "forbidden");
    }
    let page = get(&http, &server, &format!("/candidates/{id}"), &grace).json();
    assert_eq!(page["submissions"]["count"], 1, "{}", page["submissions"]);
    assert_eq!(page["submissions"]["latest"]["digest"], digest(&archive));
    assert_eq!(page["submissions"]["latest"]["file_count"], 3);
    assert!(page["storage"]["usage"]["bytes"].as_i64() > Some(archive.len() as i64));
    assert_eq!(page["storage"]["usage"]["submissions"], 1);

    // Newer work comes first.
    let mut changed = files.clone();
    changed[1] = WorkFile::new(&changed[1].path, "# Notes\n\nsecond thoughts\n");
    let second = valid(&changed, "second");
    assert_eq!(upload(&http, &server, &ada, &second).status, 201);
    let list = get(&http, &server, &base, &grace).json();
    assert_eq!(list["submissions"][0]["digest"], digest(&second), "{list}");
    assert_eq!(list["submissions"][1]["digest"], digest(&archive), "{list}");

    // After the final submit: new work is 409, a retry of stored work still 200.
    let auth = format!("Bearer {ada}");
    let submit = http
        .send(
            "POST",
            &server.url("/api/v1/submit"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"{}",
        )
        .expect("the server answers");
    assert_eq!(submit.status, 200, "{}", submit.body);
    let late = upload(&http, &server, &ada, &valid(&files, "late"));
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.json()["error"], "submitted");
    assert_eq!(upload(&http, &server, &ada, &archive).status, 200);

    let metrics = http
        .get(&server.url("/metrics"), "")
        .body
        .lines()
        .filter(|l| l.starts_with("intake_submissions_received_total"))
        .map(str::to_owned)
        .collect::<BTreeSet<_>>();
    for expected in [
        "intake_submissions_received_total{outcome=\"stored\"} 2",
        "intake_submissions_received_total{outcome=\"duplicate\"} 2",
        "intake_submissions_received_total{outcome=\"submitted\"} 1",
    ] {
        assert!(metrics.contains(expected), "{expected} in {metrics:?}");
    }
}

/// The hunks of the diff endpoint as the lines of a unified diff (`@@ -a,b +c,d @@`, then ` `,
/// `+`, `-` lines).
fn hunks_as_unified(hunks: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for hunk in items(hunks) {
        out.push(format!(
            "@@ -{},{} +{},{} @@",
            hunk["old_start"], hunk["old_lines"], hunk["new_start"], hunk["new_lines"]
        ));
        for line in items(&hunk["lines"]) {
            let sign = match line["op"].as_str() {
                Some("context") => ' ',
                Some("add") => '+',
                Some("remove") => '-',
                other => panic!("unknown op {other:?}"),
            };
            out.push(format!(
                "{sign}{}",
                line["text"].as_str().unwrap_or_default()
            ));
        }
    }
    out
}

/// GNU diff's unified diff (3 lines of context) of a starter file and new bytes, without its
/// file header, every hunk header with both counts.
fn gnu_diff(starter: &Path, new: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let new_file = dir.path().join("new");
    std::fs::write(&new_file, new).expect("writing a file");
    let out = Command::new("diff")
        .arg("-U3")
        .arg(starter)
        .arg(&new_file)
        .output()
        .expect("GNU diff runs");
    let text = String::from_utf8(out.stdout).expect("a text diff");
    text.lines()
        .skip(2)
        .filter(|l| !l.starts_with('\\'))
        .map(|l| {
            let Some(header) = l.strip_prefix("@@ -") else {
                return l.to_owned();
            };
            // `@@ -5 +5,2 @@` means one line: write the count out.
            let ranges = header.trim_end_matches(" @@");
            let (old, new) = ranges.split_once(" +").expect("a hunk header");
            let full = |r: &str| {
                if r.contains(',') {
                    r.to_owned()
                } else {
                    format!("{r},1")
                }
            };
            format!("@@ -{} +{} @@", full(old), full(new))
        })
        .collect()
}

/// A hostile archive, what the reply must say, and a marker that must not appear on disk.
struct Hostile {
    name: &'static str,
    archive: Vec<u8>,
    status: u16,
    /// Part of the error's detail (names the entry).
    detail: String,
}

fn hostile_cases(marker: &str) -> Vec<Hostile> {
    let files = vec![WorkFile::new("app/main.sh", "echo hi\n")];
    let report = report_for(&files, "hostile");
    let good_listing = listing(&files, &report);
    // An archive of the well-formed entries plus `extra` (listed or not, as the case says).
    let with = |listing: &Value, extra: Vec<Entry>| {
        let mut all = entries(listing, &report, &files);
        all.extend(extra);
        gzip(&tar_bytes(&all))
    };
    let listed_as = |path: &str, bytes: &[u8]| {
        let mut l = good_listing.clone();
        l["files"].as_array_mut().expect("files").push(
            json!({"path": path, "size": bytes.len(), "sha256": sha256(bytes), "kind": "new"}),
        );
        l
    };
    let escape = format!("work/../../../../../../tmp/{marker}");
    let absolute = format!("/tmp/{marker}");
    let mut cases = vec![
        Hostile {
            name: "`../` entry",
            archive: with(&good_listing, vec![Entry::file(&escape, b"owned\n")]),
            status: 422,
            detail: marker.to_owned(),
        },
        Hostile {
            name: "absolute path",
            archive: with(&good_listing, vec![Entry::file(&absolute, b"owned\n")]),
            status: 422,
            detail: marker.to_owned(),
        },
        Hostile {
            name: "symlink",
            archive: with(
                &listed_as("app/link", b""),
                vec![Entry::link(
                    "work/app/link",
                    tar::EntryType::Symlink,
                    "/etc/passwd",
                )],
            ),
            status: 422,
            detail: "app/link".to_owned(),
        },
        Hostile {
            name: "hardlink",
            archive: with(
                &listed_as("app/hard", b""),
                vec![Entry::link(
                    "work/app/hard",
                    tar::EntryType::Link,
                    "/etc/passwd",
                )],
            ),
            status: 422,
            detail: "app/hard".to_owned(),
        },
        Hostile {
            name: "character device",
            archive: with(
                &listed_as("app/dev", b""),
                vec![Entry {
                    name: b"work/app/dev".to_vec(),
                    kind: tar::EntryType::Char,
                    data: Vec::new(),
                    link: None,
                }],
            ),
            status: 422,
            detail: "app/dev".to_owned(),
        },
        Hostile {
            name: "unlisted file",
            archive: with(
                &good_listing,
                vec![Entry::file("work/app/extra.sh", b"x\n")],
            ),
            status: 422,
            detail: "app/extra.sh".to_owned(),
        },
        Hostile {
            name: "listed file missing",
            archive: gzip(&tar_bytes(&entries(
                &listed_as("app/ghost.sh", b"boo\n"),
                &report,
                &files,
            ))),
            status: 422,
            detail: "app/ghost.sh".to_owned(),
        },
    ];
    // The listing's digest differs from the file's.
    let mut lying = good_listing.clone();
    lying["files"][0]["sha256"] = json!(sha256(b"something else"));
    cases.push(Hostile {
        name: "listing disagrees with its file",
        archive: gzip(&tar_bytes(&entries(&lying, &report, &files))),
        status: 422,
        detail: "app/main.sh".to_owned(),
    });
    // The report's digest of a file differs from the listing's (and the file's).
    let mut other = report.clone();
    other.files[0].sha256 = sha256(b"what the checks saw");
    let other_listing = {
        let mut l = listing(&files, &other);
        l["report_digest"] = json!(other.digest());
        l
    };
    cases.push(Hostile {
        name: "listing disagrees with the report",
        archive: gzip(&tar_bytes(&entries(&other_listing, &other, &files))),
        status: 422,
        detail: "app/main.sh".to_owned(),
    });
    // 10,001 small files.
    let many: Vec<WorkFile> = (0..10_001)
        .map(|n| WorkFile::new(&format!("many/f{n:05}.txt"), format!("{n}\n")))
        .collect();
    cases.push(Hostile {
        name: "10,001 files",
        archive: valid(&many, "many"),
        status: 413,
        detail: "10001".to_owned(),
    });
    // One file of 6 MiB.
    let big = vec![WorkFile::new("data/big.bin", noise(6 * 1024 * 1024, 7))];
    cases.push(Hostile {
        name: "a file of 6 MiB",
        archive: valid(&big, "big"),
        status: 413,
        detail: "data/big.bin".to_owned(),
    });
    // A decompression bomb: about 18 MiB of noise and 40 files of 5 MiB of zeros, which
    // compress to almost nothing: an archive under 20 MiB that expands to 218 MiB.
    let mut bomb: Vec<WorkFile> = (0..4)
        .map(|n| WorkFile::new(&format!("bomb/noise{n}.bin"), noise(4_500 * 1024, 100 + n)))
        .collect();
    let zeros = WorkFile::new("bomb/zeros.bin", vec![0u8; 5 << 20]);
    bomb.extend((0..40).map(|n| zeros.renamed(&format!("bomb/zeros{n:02}.bin"))));
    let bomb_archive = valid(&bomb, "bomb");
    assert!(
        bomb_archive.len() < 20 << 20,
        "the bomb is {} bytes",
        bomb_archive.len()
    );
    cases.push(Hostile {
        name: "decompression bomb",
        archive: bomb_archive,
        status: 413,
        detail: "add up to".to_owned(),
    });
    // The same bomb whose listing says each file of zeros is one byte: refused at the first
    // entry whose size differs, before it is inflated.
    let small_lies: Vec<WorkFile> = bomb
        .iter()
        .map(|f| WorkFile::new(&f.path, &f.bytes[..1]))
        .collect();
    let lie_report = report_for(&small_lies, "bomb lies");
    let lie_listing = listing(&small_lies, &lie_report);
    cases.push(Hostile {
        name: "decompression bomb with a lying listing",
        archive: gzip(&tar_bytes(&entries(&lie_listing, &lie_report, &bomb))),
        status: 422,
        detail: "bomb/noise0.bin".to_owned(),
    });
    // Truncated: a valid archive cut in half.
    let whole = valid(&files, "truncated");
    cases.push(Hostile {
        name: "truncated archive",
        archive: whole[..whole.len() / 2].to_vec(),
        status: 422,
        detail: String::new(),
    });
    cases.push(Hostile {
        name: "not gzip",
        archive: b"PK\x03\x04 a zip file".to_vec(),
        status: 422,
        detail: String::new(),
    });
    cases
}

fn hostile_archives(backend: &Backend) {
    let (_, ada) = invite(bin(), backend, "Ada");
    // The server's temporary folder is one of its own, to see that nothing is unpacked there.
    let server_tmp = tempfile::tempdir().expect("a temporary folder");
    let server = Intake::start_with_env(
        bin(),
        backend,
        &["--rate-limit", "0", "--request-timeout", "300"],
        &[("TMPDIR", server_tmp.path())],
    )
    .expect("sre-intake starts");
    // The bomb and the 6 MiB file are read through by a debug build: allow for a busy machine.
    let http = Http::with_timeout(std::time::Duration::from_secs(300));
    let marker = format!("sre-intake-escape-{}", std::process::id());
    let data_before = data_files(backend);
    let started = std::time::Instant::now();
    let cases = hostile_cases(&marker);
    eprintln!("built the hostile archives in {:?}", started.elapsed());
    for case in cases {
        let started = std::time::Instant::now();
        let reply = upload(&http, &server, &ada, &case.archive);
        eprintln!("{}: {} in {:?}", case.name, reply.status, started.elapsed());
        assert_eq!(
            reply.status, case.status,
            "{}: {} {}",
            case.name, reply.status, reply.body
        );
        let body = reply.json();
        let code = if case.status == 413 {
            "submission_too_large"
        } else {
            "invalid_submission"
        };
        assert_eq!(body["error"], code, "{}: {body}", case.name);
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&case.detail),
            "{}: the detail names {:?}: {detail}",
            case.name,
            case.detail
        );
    }
    // Too large before a byte is read, and the wrong media type.
    let auth = format!("Bearer {ada}");
    // Declared larger than the limit: refused from the headers, the body is never sent.
    let (status, reply) = raw(
        server.addr(),
        format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
             Content-Type: application/gzip\r\nContent-Length: {}\r\n\r\n",
            (20 << 20) + 1
        )
        .as_bytes(),
    )
    .expect("the server answers");
    assert_eq!(status, 413, "{reply}");
    assert!(reply.contains("\"submission_too_large\""), "{reply}");
    let json_body = http
        .send(
            "POST",
            &server.url("/api/v1/submissions"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"{}",
        )
        .expect("the server answers");
    assert_eq!(json_body.status, 415, "{}", json_body.body);

    // Nothing written outside the database: no escaped file, nothing new in the data folder,
    // nothing left in the server's temporary folder.
    for place in [
        "/tmp".into(),
        std::env::temp_dir(),
        server_tmp.path().to_owned(),
    ] {
        assert!(
            !place.join(&marker).exists(),
            "{} escaped the store",
            place.join(&marker).display()
        );
    }
    assert_eq!(
        data_files(backend),
        data_before,
        "new files in the data folder"
    );
    let leftovers: Vec<_> = std::fs::read_dir(server_tmp.path())
        .expect("the server's temporary folder")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Still healthy, and nothing was stored.
    let ready = http.get(&server.url("/readyz"), "");
    assert_eq!(ready.status, 200, "{}", ready.body);
    let mine = get(&http, &server, "/submissions", &ada).json();
    assert_eq!(mine["submissions"], json!([]));
    let ok = upload(&http, &server, &ada, &valid(&sample_work(), "after"));
    assert_eq!(ok.status, 201, "{}", ok.body);
    let metrics = http.get(&server.url("/metrics"), "").body;
    assert!(
        metrics.contains("intake_submissions_received_total{outcome=\"refused\"}"),
        "{metrics}"
    );
}

/// The files of a SQLite data folder other than the database's own (none on PostgreSQL).
fn data_files(backend: &Backend) -> BTreeSet<String> {
    let Backend::Sqlite(dir) = backend else {
        return BTreeSet::new();
    };
    std::fs::read_dir(dir.path())
        .expect("the data folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("intake.sqlite3"))
        .collect()
}

fn quota(backend: &Backend) {
    let (_, ada) = invite(bin(), backend, "Ada");
    let server = Intake::start(
        bin(),
        backend,
        &[
            "--rate-limit",
            "0",
            "--quota-mib",
            "1",
            "--quota-submissions",
            "3",
        ],
    )
    .expect("sre-intake starts");
    let http = Http::new();
    // 600 KiB of noise: the second is over the MiB.
    let heavy = |n: u64| vec![WorkFile::new("data/noise.bin", noise(600 * 1024, n))];
    let first = valid(&heavy(1), "heavy 1");
    assert_eq!(upload(&http, &server, &ada, &first).status, 201);
    let refused = upload(&http, &server, &ada, &valid(&heavy(2), "heavy 2"));
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert_eq!(refused.json()["error"], "quota_bytes");
    assert!(refused.json()["usage"]["bytes"].as_i64() > Some(600 * 1024));
    // A retry of stored work is never refused.
    assert_eq!(upload(&http, &server, &ada, &first).status, 200);
    // Counts: two more small ones, then 429.
    for n in 0..2 {
        let small = vec![WorkFile::new("notes.md", format!("note {n}\n"))];
        let reply = upload(&http, &server, &ada, &valid(&small, &format!("small {n}")));
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let small = vec![WorkFile::new("notes.md", "note 3\n")];
    let counted = upload(&http, &server, &ada, &valid(&small, "small 3"));
    assert_eq!(counted.status, 429, "{}", counted.body);
    assert_eq!(counted.json()["error"], "quota_count");
    assert_eq!(counted.json()["limits"]["submissions"], 3);

    // Counted again from the database after a restart.
    drop(server);
    let server = Intake::start(
        bin(),
        backend,
        &[
            "--rate-limit",
            "0",
            "--quota-mib",
            "1",
            "--quota-submissions",
            "3",
        ],
    )
    .expect("sre-intake starts again");
    let again = upload(&http, &server, &ada, &valid(&small, "small 4"));
    assert_eq!(again.status, 429, "{}", again.body);
    assert_eq!(again.json()["usage"]["submissions"], 3);
}
