//! A full disk (issue 13.2): writes are answered 507 with a JSON error (was 500), `/readyz` says
//! not ready, and what was acknowledged before is still there.
//!
//! The SQLite database lives on a 4 MiB tmpfs mounted for the test (root, or passwordless sudo as
//! on CI runners; without either the test fails saying so).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use sre_e2e::intake::{Backend, Http, Intake, cli};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let opts = format!("size={size}");
        let args = ["mount", "-t", "tmpfs", "-o", &opts, "tmpfs"];
        let direct = Command::new(args[0])
            .args(&args[1..])
            .arg(dir.path())
            .status();
        let mounted = direct.is_ok_and(|s| s.success())
            || Command::new("sudo")
                .arg("-n")
                .args(args)
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            mounted,
            "cannot mount a tmpfs for the disk-full test: run the tests as root or with passwordless sudo"
        );
        SmallDisk { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let path = self.dir.path();
        let unmounted = Command::new("umount").arg(path).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("sudo")
                .args(["-n", "umount"])
                .arg(path)
                .status();
        }
    }
}

#[test]
fn a_full_disk_answers_507_and_is_not_ready() {
    let disk = SmallDisk::mount("4m");
    let data = tempfile::TempDir::new_in(disk.path()).expect("a folder on the small disk");
    let backend = Backend::Sqlite(data);
    let bin = Path::new(BIN);
    let link = cli(bin, &backend, &["invite", "create", "--name", "Ada"]).expect("invite create");
    let token = link.rsplit('/').next().expect("a link").to_owned();
    let server = Intake::start(bin, &backend, &["--rate-limit", "0"]).expect("sre-intake starts");
    let http = Http::new();
    let url = server.url("/api/v1/answers/feedback");

    let mut acked: Vec<(i64, String)> = Vec::new();
    let mut refused = None;
    for n in 0..200 {
        let text = format!("{n} {}", "y".repeat(200_000));
        let precondition = match acked.last() {
            Some((v, _)) => ("if-match", format!("\"{v}\"")),
            None => ("if-none-match", "*".to_owned()),
        };
        let reply = http.json(
            "PUT",
            &url,
            &token,
            &[(precondition.0, &precondition.1)],
            &json!({ "text": text }),
        );
        match reply.status {
            200 | 201 => acked.push((reply.json()["version"].as_i64().expect("a version"), text)),
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let refused = refused.expect("a 4 MiB disk fills up with 40 MB of answers");
    assert_eq!(refused.status, 507, "{}\n{}", refused.body, server.log());
    assert_eq!(
        refused.json()["error"],
        "insufficient_storage",
        "{}",
        refused.body
    );
    assert!(
        !acked.is_empty(),
        "nothing was stored before the disk filled"
    );

    let ready = http.get(&server.url("/readyz"), "");
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.json()["error"], "not_ready", "{}", ready.body);

    // What was acknowledged is still served.
    let (version, text) = acked.last().expect("one at least");
    let latest = http.get(&url, &token);
    assert_eq!(latest.status, 200, "{}", latest.body);
    assert_eq!(latest.json()["version"], *version);
    assert_eq!(latest.json()["text"], *text);
    eprintln!(
        "{} versions stored before the disk was full, then 507",
        acked.len()
    );
    drop(server);
}
