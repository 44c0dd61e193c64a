//! `sre-check upload --report-only` against a real `sre-intake`: a report made by `sre-check run`
//! arrives once whatever the number of uploads, and each failure a candidate can meet (bad token,
//! server not there yet or at all, report too large, already submitted) ends with a message saying
//! what to do. (The work sent with the report: tests/work_upload.rs.)

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;
use sre_e2e::checker::{run_answer_topics, sre_check_bin};
use sre_e2e::intake::{Backend, Http, Intake, built_binary, free_port, invite, reviewer};
use sre_model::Report;

fn upload(args: &[&str]) -> Output {
    Command::new(sre_check_bin())
        .args(["upload", "--report-only"])
        .args(args)
        .env_remove("SRE_INTAKE_URL")
        .env_remove("SRE_INTAKE_TOKEN")
        .output()
        .expect("sre-check runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A working copy with a report of the topics that need no Docker.
fn working_copy_with_report(dir: &Path) -> std::path::PathBuf {
    let init = Command::new(sre_check_bin())
        .arg("init")
        .arg(dir)
        .output()
        .expect("sre-check runs");
    assert!(init.status.success(), "{}", text(&init.stderr));
    std::fs::write(
        dir.join("feedback.txt"),
        "It took me about six hours; the README was clear.\n",
    )
    .expect("writing feedback.txt");
    run_answer_topics(dir)
}

#[test]
fn reports_upload_once_and_failures_say_what_to_do() {
    let intake = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let grace = reviewer(&intake, &backend, "Grace");
    let (_, token) = invite(&intake, &backend, "Ada");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let link = format!("{base}/invite/{token}");
    let tmp = tempfile::tempdir().unwrap();
    let report_path = working_copy_with_report(&tmp.path().join("work"));
    let report = report_path.to_str().unwrap();
    let report_digest = Report::from_json(&std::fs::read(&report_path).expect("a valid report"))
        .unwrap()
        .digest();

    // The server is not up yet: the upload retries with backoff and succeeds once it is.
    let pending = std::thread::spawn({
        let (link, report) = (link.clone(), report.to_owned());
        move || upload(&["--token", &link, "--report", &report, "--attempts", "8"])
    });
    std::thread::sleep(Duration::from_millis(1500));
    let server = Intake::start_at(&intake, &backend, &format!("127.0.0.1:{port}"), &[])
        .expect("sre-intake starts");
    let first = pending.join().expect("a thread");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("trying again"),
        "{}",
        text(&first.stderr)
    );
    assert!(
        text(&first.stdout).contains(&report_digest),
        "{}",
        text(&first.stdout)
    );

    // Again: idempotent.
    let again = upload(&["--server", &base, "--token", &token, "--report", report]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("already uploaded"),
        "{}",
        text(&again.stdout)
    );
    let http = Http::new();
    let list = http.get(&server.url("/api/v1/candidates"), &grace).json();
    let ada = &list["candidates"][0];
    assert_eq!(ada["report"]["digest"], report_digest.as_str());
    let id = ada["candidate"]["id"].as_str().expect("a JSON string");
    let page = http
        .get(&server.url(&format!("/api/v1/candidates/{id}")), &grace)
        .json();
    let reports = http
        .get(
            &server.url(&format!("/api/v1/candidates/{id}/reports")),
            &grace,
        )
        .json();
    assert_eq!(
        reports["reports"].as_array().expect("a JSON array").len(),
        1
    );
    let feedback = page["topics"]
        .as_array()
        .expect("a JSON array")
        .iter()
        .find(|t| t["id"] == "feedback")
        .expect("present");
    assert_eq!(feedback["checks"]["status"], "pass");

    // A forged token.
    let forged = upload(&[
        "--server",
        &base,
        "--token",
        &"A".repeat(43),
        "--report",
        report,
    ]);
    assert_eq!(forged.status.code(), Some(2));
    assert!(
        text(&forged.stderr).contains("does not accept your token"),
        "{}",
        text(&forged.stderr)
    );

    // No server at all: a bounded number of attempts, and the report is safe.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let offline = upload(&[
        "--server",
        &nowhere,
        "--token",
        &token,
        "--report",
        report,
        "--attempts",
        "2",
    ]);
    assert_eq!(offline.status.code(), Some(2));
    let stderr = text(&offline.stderr);
    assert!(stderr.contains("upload attempt 1 of 2"), "{stderr}");
    assert!(
        stderr.contains("cannot reach") && stderr.contains("is safe in"),
        "{stderr}"
    );

    // Too large for the server (valid locally: many file entries).
    let mut big = Report::from_json(&std::fs::read(&report_path).expect("a valid report")).unwrap();
    let file = json!({ "path": "a/very/long/path/to/some/file/of/the/working/copy.txt", "sha256": "a".repeat(64), "bytes": 1 });
    big.files = (0..60_000)
        .map(|_| serde_json::from_value(file.clone()).unwrap())
        .collect();
    let big_path = tmp.path().join("big.json");
    std::fs::write(&big_path, serde_json::to_vec(&big).unwrap()).unwrap();
    let too_large = upload(&[
        "--server",
        &base,
        "--token",
        &token,
        "--report",
        big_path.to_str().unwrap(),
    ]);
    assert_eq!(too_large.status.code(), Some(2));
    assert!(
        text(&too_large.stderr).contains("more than the server accepts"),
        "{}",
        text(&too_large.stderr)
    );

    // After submission, a new report is refused with a reason; the one already there stays fine.
    let submitted = http.json(
        "POST",
        &server.url("/api/v1/submit"),
        &token,
        &[],
        &json!({}),
    );
    assert_eq!(submitted.status, 200);
    let mut later =
        Report::from_json(&std::fs::read(&report_path).expect("a valid report")).unwrap();
    later.host.os = format!("{} (another run)", later.host.os);
    let later_path = tmp.path().join("later.json");
    std::fs::write(&later_path, serde_json::to_vec(&later).unwrap()).unwrap();
    let refused = upload(&[
        "--server",
        &base,
        "--token",
        &token,
        "--report",
        later_path.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("already submitted"),
        "{}",
        text(&refused.stderr)
    );

    // No report at all.
    let absent = upload(&[
        "--server",
        &base,
        "--token",
        &token,
        "--report",
        "/nonexistent/report.json",
    ]);
    assert_eq!(absent.status.code(), Some(2));
    assert!(
        text(&absent.stderr).contains("run `sre-check run` first"),
        "{}",
        text(&absent.stderr)
    );
}
