//! `sre-check upload` sends the candidate's work to a real `sre-intake`: the reference solutions
//! of every Docker topic arrive as exactly their new and changed files (compared with a listing
//! computed here from the starter kit and the fixtures); every file that cannot be sent is refused
//! by name, with exit 2, before anything reaches the server; `.sre-check-ignore` and the default
//! exclusions are honoured; a second upload is a duplicate; `--report-only` still sends the report
//! alone.
//!
//! The reports come from `sre-check run` of the topics without Docker (feedback, leadership); the
//! Docker topics' files are added to the report's `files` as their checks would record them, so
//! no container runs here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sre_e2e::checker::{fixtures_root, init_work, overlay, run_answer_topics, sre_check_bin};
use sre_e2e::intake::{Backend, Http, Intake, built_binary, free_port, invite, reviewer};
use sre_model::Report;
use sre_model::report::FileDigest;

/// One file as the server lists it: path, size, sha256, kind.
type Listed = (String, u64, String, String);

fn upload(dir: &Path, args: &[&str]) -> Output {
    Command::new(sre_check_bin())
        .arg("upload")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("SRE_INTAKE_URL")
        .env_remove("SRE_INTAKE_TOKEN")
        .output()
        .expect("sre-check runs")
}

/// `sre-check upload` on a terminal (util-linux `script` gives it one), answering `answer`.
fn upload_on_terminal(dir: &Path, args: &[&str], answer: &str) -> Output {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut command = format!(
        "{} upload --dir {}",
        quote(&sre_check_bin().to_string_lossy()),
        quote(&dir.to_string_lossy())
    );
    for arg in args {
        command.push(' ');
        command.push_str(&quote(arg));
    }
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env_remove("SRE_INTAKE_URL")
        .env_remove("SRE_INTAKE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(answer.as_bytes())
        .expect("answers");
    child.wait_with_output().expect("script ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The topics whose checks need Docker, from the checker's embedded manifest.
fn docker_topics() -> Vec<String> {
    sre_check::content::get()
        .manifest
        .topics
        .iter()
        .filter(|t| t.docker)
        .map(|t| t.id.to_string())
        .collect()
}

/// Every file of a fixture overlay (its expected.json left out, as the overlay does), by path.
fn overlay_files(dir: &Path, prefix: &str, into: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("a fixture folder") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if entry.file_type().expect("a type").is_dir() {
            overlay_files(&entry.path(), &format!("{rel}/"), into);
        } else if rel != "expected.json" {
            into.insert(rel, std::fs::read(entry.path()).expect("a fixture file"));
        }
    }
}

/// What the work of these overlays must be: each file that is not what `init` wrote, new or
/// changed (the answer templates count as written by init).
fn expected_listing(files: &BTreeMap<String, Vec<u8>>) -> Vec<Listed> {
    files
        .iter()
        .filter_map(|(path, bytes)| {
            // What `sre-check init` wrote there: a handed-out file, or an answer template.
            let manifest = &sre_check::content::get().manifest;
            let template = manifest
                .slots()
                .find(|(_, slot)| slot.canonical_file() == path.as_str())
                .and_then(|(_, slot)| slot.template.as_deref())
                .map(str::as_bytes);
            let starter = sre_check::content::file(path)
                .filter(|_| manifest.starter_files().contains(&path.as_str()))
                .or(template);
            let kind = match starter {
                Some(s) if s == bytes.as_slice() => return None,
                Some(_) => "changed",
                None => "new",
            };
            Some((
                path.clone(),
                bytes.len() as u64,
                sha256(bytes),
                kind.to_owned(),
            ))
        })
        .collect()
}

fn listed(files: &Value) -> Vec<Listed> {
    files
        .as_array()
        .expect("a JSON array of files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("a path").to_owned(),
                f["size"].as_u64().expect("a size"),
                f["sha256"].as_str().expect("a sha256").to_owned(),
                f["kind"].as_str().expect("a kind").to_owned(),
            )
        })
        .collect()
}

/// Adds `paths` of `work` to the report's `files`, as the Docker topics' checks record what they
/// read.
fn record_in_report(report_path: &Path, work: &Path, paths: &[&str]) {
    let mut report =
        Report::from_json(&std::fs::read(report_path).expect("a report")).expect("valid");
    for path in paths {
        let bytes = std::fs::read(work.join(path)).expect("a file of the work");
        report.files.push(FileDigest {
            path: (*path).to_owned(),
            sha256: sha256(&bytes),
            bytes: bytes.len() as u64,
        });
    }
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    std::fs::write(
        report_path,
        serde_json::to_vec_pretty(&report).expect("encodes"),
    )
    .expect("writes the report");
}

fn submissions(http: &Http, server: &Intake, token: &str) -> Vec<Value> {
    let reply = http.get(&server.url("/api/v1/submissions"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["submissions"]
        .as_array()
        .expect("a JSON array")
        .clone()
}

#[test]
fn reference_solutions_arrive_as_exactly_their_new_and_changed_files() {
    let intake = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let grace = reviewer(&intake, &backend, "Grace");
    let (_, token) = invite(&intake, &backend, "Ada");
    let (_tmp, work) = init_work().expect("sre-check init");
    let mut files = BTreeMap::new();
    let mut topics = docker_topics();
    assert!(topics.len() >= 4, "the Docker topics: {topics:?}");
    topics.extend(["feedback".to_owned(), "leadership".to_owned()]);
    for topic in &topics {
        let solution = fixtures_root().join(topic).join("solution");
        overlay(&solution, &work).expect("overlaying the solution");
        overlay_files(&solution, "", &mut files);
    }
    let report_path = run_answer_topics(&work);
    record_in_report(
        &report_path,
        &work,
        &[
            "infrastructure/playbook.yml",
            "packaging/build-deb.sh",
            "monitoring/docker-compose.yml",
            "postgres/solution.sql",
        ],
    );
    let report_digest = Report::from_json(&std::fs::read(&report_path).expect("a report"))
        .expect("valid")
        .digest();
    let expected = expected_listing(&files);
    assert!(
        expected.iter().any(|f| f.3 == "changed") && expected.iter().any(|f| f.3 == "new"),
        "the solutions both change starter files and add new ones: {expected:?}"
    );

    // The server is not up yet: the upload retries with backoff, as reports do, and succeeds.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // The first retry note says the client found no server; only then does it start.
    let mut client = Command::new(sre_check_bin())
        .arg("upload")
        .arg("--dir")
        .arg(&work)
        .args(["--yes", "--token", &format!("{base}/invite/{token}")])
        .args(["--attempts", "8"])
        .env_remove("SRE_INTAKE_URL")
        .env_remove("SRE_INTAKE_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sre-check runs");
    let mut notes = BufReader::new(client.stderr.take().expect("a stderr"));
    let mut note = String::new();
    notes.read_line(&mut note).expect("reads stderr");
    assert!(note.contains("trying again"), "{note}");
    let server = Intake::start_at(&intake, &backend, &format!("127.0.0.1:{port}"), &[])
        .expect("sre-intake starts");
    let mut rest = String::new();
    notes.read_to_string(&mut rest).expect("reads stderr");
    let first = client.wait_with_output().expect("sre-check ends");
    let stdout = text(&first.stdout);
    assert_eq!(first.status.code(), Some(0), "{note}{rest}");
    assert!(
        stdout.contains(&format!("{} files (", expected.len())),
        "the summary counts the files: {stdout}"
    );
    assert!(stdout.contains("Uploaded your work"), "{stdout}");
    assert!(stdout.contains(&report_digest), "{stdout}");

    let http = Http::new();
    let sent = submissions(&http, &server, &token);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(listed(&sent[0]["files"]), expected);
    let digest = sent[0]["digest"].as_str().expect("a digest").to_owned();
    assert!(stdout.contains(&digest), "{stdout}");

    // The reviewer sees the same files, and the report came with them.
    let list = http.get(&server.url("/api/v1/candidates"), &grace).json();
    let ada = &list["candidates"][0];
    assert_eq!(ada["report"]["digest"], report_digest.as_str());
    let id = ada["candidate"]["id"].as_str().expect("an id");
    let detail = http
        .get(
            &server.url(&format!("/api/v1/candidates/{id}/submissions/{digest}")),
            &grace,
        )
        .json();
    assert_eq!(detail["report_digest"], report_digest.as_str());
    assert_eq!(listed(&detail["files"]), expected);

    // Again: the same archive, a duplicate, nothing new stored.
    let again = upload(&work, &["--yes", "--server", &base, "--token", &token]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("already uploaded"),
        "{}",
        text(&again.stdout)
    );
    assert!(
        text(&again.stdout).contains(&digest),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(submissions(&http, &server, &token).len(), 1);

    // The report alone, as before work was sent: a new report, no new submission.
    let mut later = Report::from_json(&std::fs::read(&report_path).expect("a report")).unwrap();
    later.host.os = format!("{} (another run)", later.host.os);
    let later_path = work.join("later-report.json");
    std::fs::write(&later_path, serde_json::to_vec(&later).unwrap()).unwrap();
    let alone = upload(
        &work,
        &[
            "--report-only",
            "--server",
            &base,
            "--token",
            &token,
            "--report",
            later_path.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone.stderr));
    assert!(
        text(&alone.stdout).contains(&later.digest()),
        "{}",
        text(&alone.stdout)
    );
    assert_eq!(submissions(&http, &server, &token).len(), 1);
    let reports = http
        .get(
            &server.url(&format!("/api/v1/candidates/{id}/reports")),
            &grace,
        )
        .json();
    assert_eq!(reports["reports"].as_array().expect("an array").len(), 2);
}

/// A file of `len` bytes that gzip cannot shrink.
fn incompressible(path: &Path, len: u64) {
    let mut random = std::fs::File::open("/dev/urandom")
        .expect("/dev/urandom")
        .take(len);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    let mut file = std::fs::File::create(path).expect("creates");
    std::io::copy(&mut random, &mut file).expect("writes");
}

#[test]
fn work_that_cannot_be_sent_is_refused_by_name_and_nothing_is_sent() {
    let intake = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let (_, token) = invite(&intake, &backend, "Ada");
    let server = Intake::start(&intake, &backend, &[]).expect("sre-intake starts");
    let http = Http::new();
    let (_tmp, work) = init_work().expect("sre-check init");
    overlay(&fixtures_root().join("postgres/solution"), &work).expect("overlay");
    std::fs::write(work.join("feedback.txt"), "About six hours.\n").expect("writes");
    let report_path = run_answer_topics(&work);
    record_in_report(&report_path, &work, &["postgres/solution.sql"]);
    let solution_sql = std::fs::read_to_string(work.join("postgres/solution.sql")).expect("reads");
    let send = |extra: &[&str]| {
        let mut args = vec!["--server", server.base.as_str(), "--token", token.as_str()];
        args.extend_from_slice(extra);
        upload(&work, &args)
    };
    let refused = |what: &str, wanted: &[&str]| {
        let out = send(&["--yes"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        for part in wanted {
            assert!(
                stderr.contains(part),
                "{what}: expected `{part}` in: {stderr}"
            );
        }
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{what}: a one-line error: {stderr}"
        );
    };

    std::os::unix::fs::symlink("/etc/passwd", work.join("postgres/passwd")).expect("symlink");
    refused(
        "a symlink",
        &["`postgres/passwd` is a symbolic link", ".sre-check-ignore"],
    );
    std::fs::remove_file(work.join("postgres/passwd")).expect("rm");

    let odd = std::ffi::OsStr::from_bytes(b"notes-\xe9t\xe9.txt");
    std::fs::write(work.join(odd), "x").expect("writes");
    refused(
        "a name that is not UTF-8",
        &["notes-", "not valid UTF-8", "rename it"],
    );
    std::fs::remove_file(work.join(odd)).expect("rm");

    let big = std::fs::File::create(work.join("postgres/dump.sql")).expect("creates");
    big.set_len(5 * 1024 * 1024 + 1).expect("sparse");
    refused(
        "a file over 5 MiB",
        &["`postgres/dump.sql` is 5242881 bytes", ".sre-check-ignore"],
    );
    std::fs::remove_file(work.join("postgres/dump.sql")).expect("rm");

    for i in 0..2001 {
        std::fs::create_dir_all(work.join("vendor")).expect("mkdir");
        std::fs::write(work.join(format!("vendor/{i}.txt")), i.to_string()).expect("writes");
    }
    refused(
        "too many files",
        &["more than the 2000", "`vendor/`", ".sre-check-ignore"],
    );
    std::fs::remove_dir_all(work.join("vendor")).expect("rm");

    for i in 0..5 {
        incompressible(&work.join(format!("blobs/{i}.bin")), 4_500_000);
    }
    refused(
        "an archive over 20 MiB",
        &[
            "packs into",
            "over the 20.0 MiB",
            "blobs/",
            ".sre-check-ignore",
        ],
    );

    std::fs::remove_dir_all(work.join("blobs")).expect("rm");

    std::fs::write(
        work.join("postgres/solution.sql"),
        "-- edited after the run\n",
    )
    .expect("writes");
    refused(
        "work changed since the report",
        &[
            "`postgres/solution.sql` changed since the report",
            "sre-check run",
        ],
    );

    std::fs::write(work.join("postgres/solution.sql"), solution_sql.as_bytes()).expect("writes");
    let server_args = ["--server", server.base.as_str(), "--token", token.as_str()];
    let no_terminal = send(&[]);
    assert_eq!(no_terminal.status.code(), Some(2));
    assert!(
        text(&no_terminal.stderr).contains("pass --yes"),
        "{}",
        text(&no_terminal.stderr)
    );
    let declined = upload_on_terminal(&work, &server_args, "n\n");
    let shown = text(&declined.stdout);
    assert_eq!(declined.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("3 files (") && shown.contains("postgres/solution.sql (new)"),
        "the summary: {shown}"
    );
    assert!(
        shown.contains("Send these 3 files ("),
        "the question: {shown}"
    );
    assert!(shown.contains("Nothing was sent."), "{shown}");

    assert!(
        submissions(&http, &server, &token).is_empty(),
        "nothing reached the server"
    );

    // Everything above, listed in .sre-check-ignore, and editor files left out by default: sent
    // after a yes on the terminal.
    std::fs::create_dir_all(work.join("blobs")).expect("mkdir");
    let ignored_big = std::fs::File::create(work.join("blobs/dump.bin")).expect("creates");
    ignored_big.set_len(6 * 1024 * 1024).expect("sparse");
    std::fs::write(
        work.join(".sre-check-ignore"),
        "# not my work\nblobs/\n*.sql.bak\n/local-link\n",
    )
    .expect("writes");
    std::os::unix::fs::symlink("/etc/passwd", work.join("local-link")).expect("symlink");
    std::fs::write(work.join("postgres/solution.sql.bak"), "old").expect("writes");
    std::fs::write(work.join("postgres/.solution.sql.swp"), "vim").expect("writes");
    std::fs::write(work.join("postgres/postgres.md~"), "emacs").expect("writes");
    let sent = upload_on_terminal(&work, &server_args, "y\n");
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stdout));
    assert!(
        text(&sent.stdout).contains("Uploaded your work"),
        "{}",
        text(&sent.stdout)
    );
    let stored = submissions(&http, &server, &token);
    assert_eq!(stored.len(), 1);
    let paths: Vec<String> = listed(&stored[0]["files"])
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(
        paths,
        [
            ".sre-check-ignore",
            "feedback.txt",
            "postgres/postgres.md",
            "postgres/solution.sql",
        ]
    );
}

#[test]
fn the_servers_own_limits_and_a_final_submit_refuse_work_with_a_reason() {
    let intake = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let (_, token) = invite(&intake, &backend, "Ada");
    // Lower than sre-check's own limit of 2,000 files: the server's word counts.
    let server = Intake::start(&intake, &backend, &["--submission-max-files", "2"])
        .expect("sre-intake starts");
    let http = Http::new();
    let (_tmp, work) = init_work().expect("sre-check init");
    overlay(&fixtures_root().join("postgres/solution"), &work).expect("overlay");
    std::fs::write(work.join("feedback.txt"), "About six hours.\n").expect("writes");
    run_answer_topics(&work);
    let args = [
        "--yes",
        "--server",
        server.base.as_str(),
        "--token",
        token.as_str(),
    ];

    let over = upload(&work, &args);
    let stderr = text(&over.stderr);
    assert_eq!(over.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not accept this much work") && stderr.contains(".sre-check-ignore"),
        "{stderr}"
    );
    assert!(submissions(&http, &server, &token).is_empty());

    // Within the limit it goes through; after the final submit, nothing more is taken.
    std::fs::write(
        work.join(".sre-check-ignore"),
        "postgres/postgres.md\n.sre-check-ignore\n",
    )
    .expect("writes");
    let within = upload(&work, &args);
    assert_eq!(within.status.code(), Some(0), "{}", text(&within.stderr));
    let submitted = http.json(
        "POST",
        &server.url("/api/v1/submit"),
        &token,
        &[],
        &serde_json::json!({}),
    );
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    std::fs::write(work.join("postgres/solution.sql"), "-- one more thing\n").expect("writes");
    let late = upload(&work, &args);
    let stderr = text(&late.stderr);
    assert_eq!(late.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("already submitted"), "{stderr}");
    assert_eq!(submissions(&http, &server, &token).len(), 1);
}
