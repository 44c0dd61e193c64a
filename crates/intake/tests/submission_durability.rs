//! SIGKILL of the server while large submissions are in flight, SQLite and PostgreSQL: after a
//! restart each submission is either wholly there (the archive as sent, its listing, its report)
//! or absent, every acknowledged one is there, and a retried upload of an absent one succeeds.

mod work;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sre_e2e::intake::{Backend, Http, Intake, invite, items, reviewer};
use work::{WorkFile, digest, noise, report_for, valid};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// No rate limit, and room for slow requests.
const SERVER_OPTIONS: &[&str] = &[
    "--rate-limit",
    "0",
    "--request-timeout",
    "300",
    "--body-timeout",
    "120",
];

/// Uploads at once in each round.
const IN_FLIGHT: usize = 5;

#[test]
fn sigkill_during_uploads_on_sqlite() {
    sigkill_during_uploads(&Backend::sqlite());
}

#[test]
fn sigkill_during_uploads_on_postgres() {
    sigkill_during_uploads(&Backend::postgres());
}

/// One candidate's upload in a round.
struct Upload {
    token: String,
    id: String,
    files: Vec<WorkFile>,
    run: String,
    archive: Vec<u8>,
}

fn sigkill_during_uploads(backend: &Backend) {
    let bin = Path::new(BIN);
    let grace = reviewer(bin, backend, "Grace");
    // What is tested is atomicity, not speed: a debug build verifying megabytes of noise on a busy
    // machine may take longer than the default timeouts.
    let http = Http::with_timeout(Duration::from_secs(300));
    let mut server = Intake::start(bin, backend, SERVER_OPTIONS).expect("sre-intake starts");
    // Kill sooner or later after the uploads start: while bodies arrive, while archives are
    // verified, while they are written.
    for (round, delay_ms) in [150u64, 600, 1_500].into_iter().enumerate() {
        let uploads: Vec<Upload> = (0..IN_FLIGHT)
            .map(|n| {
                let (_, token) = invite(bin, backend, &format!("Candidate {round}.{n}"));
                let id = http.get(&server.url("/api/v1/me"), &token).json()["candidate"]["id"]
                    .as_str()
                    .expect("an id")
                    .to_owned();
                // 8 to 16 MiB of noise in a few files: large, slow to verify and to store.
                let files: Vec<WorkFile> = (0..(2 + n % 3))
                    .map(|f| {
                        WorkFile::new(
                            &format!("data/part{f}.bin"),
                            noise(4 << 20, (round * 100 + n * 10 + f) as u64 + 1),
                        )
                    })
                    .collect();
                let run = format!("round {round} upload {n}");
                let archive = valid(&files, &run);
                Upload {
                    token,
                    id,
                    files,
                    run,
                    archive,
                }
            })
            .collect();
        let acknowledged: Vec<Option<u16>> = std::thread::scope(|scope| {
            let senders: Vec<_> = uploads
                .iter()
                .map(|u| {
                    let http = http.clone();
                    let url = server.url("/api/v1/submissions");
                    scope.spawn(move || {
                        let auth = format!("Bearer {}", u.token);
                        http.send(
                            "POST",
                            &url,
                            &[
                                ("authorization", &auth),
                                ("content-type", "application/gzip"),
                            ],
                            &u.archive,
                        )
                        .ok()
                        .map(|reply| reply.status)
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(delay_ms));
            server.kill();
            senders
                .into_iter()
                .map(|s| s.join().expect("an upload thread"))
                .collect()
        });
        server = Intake::start(bin, backend, SERVER_OPTIONS).expect("sre-intake restarts");
        let mut present = 0;
        for (upload, answer) in uploads.iter().zip(&acknowledged) {
            let base = format!("/api/v1/candidates/{}/submissions", upload.id);
            let list = http.get(&server.url(&base), &grace).json();
            let stored = items(&list["submissions"]);
            assert!(stored.len() <= 1, "{list}");
            match stored.first() {
                Some(row) => {
                    present += 1;
                    assert_eq!(row["digest"], digest(&upload.archive), "{list}");
                    whole(&http, &server, &grace, upload, row);
                }
                None => {
                    assert!(
                        !matches!(answer, Some(201 | 200)),
                        "round {round}: an acknowledged submission ({answer:?}) is missing"
                    );
                    let retried = upload_again(&http, &server, upload);
                    assert_eq!(retried, 201, "round {round}: the retry stores it");
                    let list = http.get(&server.url(&base), &grace).json();
                    whole(&http, &server, &grace, upload, &list["submissions"][0]);
                }
            }
        }
        eprintln!(
            "{} round {round} (kill after {delay_ms} ms): {present} of {IN_FLIGHT} stored before \
             the kill, replies {acknowledged:?}",
            backend.name()
        );
    }
}

fn upload_again(http: &Http, server: &Intake, upload: &Upload) -> u16 {
    work::upload(http, server, &upload.token, &upload.archive).status
}

/// Asserts that a stored submission is whole: the archive as sent, the listing of its files,
/// the report it came with.
fn whole(http: &Http, server: &Intake, grace: &str, upload: &Upload, row: &Value) {
    let one = format!(
        "/api/v1/candidates/{}/submissions/{}",
        upload.id,
        digest(&upload.archive)
    );
    let archive = http.get(&server.url(&format!("{one}/archive")), grace);
    assert_eq!(archive.status, 200, "{}", archive.body);
    assert!(
        archive.bytes == upload.archive,
        "the stored archive of {} differs from the one sent",
        upload.run
    );
    let detail = http.get(&server.url(&one), grace).json();
    let paths: Vec<&str> = items(&detail["files"])
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    let sent: Vec<&str> = upload.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, sent, "{detail}");
    for (file, sent) in items(&detail["files"]).iter().zip(&upload.files) {
        assert_eq!(file["sha256"], sent.sha256);
    }
    let report = report_for(&upload.files, &upload.run);
    assert_eq!(row["report_digest"], report.digest());
    let stored_report = http.get(
        &server.url(&format!(
            "/api/v1/candidates/{}/reports/{}",
            upload.id,
            report.digest()
        )),
        grace,
    );
    assert_eq!(stored_report.status, 200, "{}", stored_report.body);
}
