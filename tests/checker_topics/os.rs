//! Topic II (os): its fixtures run the default way (three at a time; each builds for three
//! releases at once); its own tests check the exporter binary the checker hands to the script.

// Test code, where an unwrap's panic is the failure; clippy cannot tell without #[test].
#![allow(clippy::unwrap_used)]

use std::process::Command;

use libtest_mimic::Trial;
use sre_e2e::checker::{self, sre_check_bin};

use crate::trial;

/// The topic's own tests.
pub fn tests() -> Vec<Trial> {
    vec![
        trial("os::a_missing_exporter_binary_is_a_usage_error", || {
            a_missing_exporter_binary_is_a_usage_error();
            Ok(())
        }),
        trial("os::a_dynamically_linked_exporter_is_refused", || {
            a_dynamically_linked_exporter_is_refused();
            Ok(())
        }),
    ]
}

fn a_missing_exporter_binary_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    assert!(
        Command::new(sre_check_bin())
            .arg("init")
            .arg(&work)
            .status()
            .unwrap()
            .success()
    );
    let out = Command::new(sre_check_bin())
        .args([
            "run",
            "--topic",
            "os",
            "--set",
            "os.exporter-binary=/nonexistent/postgres_exporter",
            "--dir",
        ])
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--set os.exporter-binary=/nonexistent/postgres_exporter: no such file"),
        "{stderr}"
    );
}

/// Debian trixie's own binary is linked against glibc 2.34: the checker must refuse it (an
/// environment error naming the reason), not blame the candidate's package on bullseye.
fn a_dynamically_linked_exporter_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    // Debian's dynamically linked build. The download is this test's set-up, not what it
    // checks: a passing DNS or mirror hiccup gets two more tries.
    let fetch = || {
        Command::new("docker")
            .args(["run", "--rm", "--mount"])
            .arg(format!("type=bind,source={},target=/out", bin_dir.display()))
            .args([
                "debian:trixie",
                "sh",
                "-c",
                "set -e; apt-get update -qq; cd /tmp; apt-get download -qq prometheus-postgres-exporter; \
                 dpkg-deb -x prometheus-postgres-exporter_*.deb x; cp x/usr/bin/prometheus-postgres-exporter /out/",
            ])
            .output()
            .unwrap()
    };
    let mut fetched = fetch();
    for _ in 0..2 {
        if fetched.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
        fetched = fetch();
    }
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );

    let fixture = checker::fixtures("os")
        .unwrap()
        .into_iter()
        .find(|f| f.name == "os/solution")
        .expect("the os solution fixture");
    let work_tmp = checker::prepare(&fixture).unwrap();
    let binary = bin_dir.join("prometheus-postgres-exporter");
    let given = format!("os.exporter-binary={}", binary.display());
    let (out, report) =
        checker::run_topic(&work_tmp.path().join("work"), "os", &["--set", &given]).unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unusable binary is an environment error"
    );
    let build = checker::first_topic_check(&report, "build");
    assert_eq!(build.status, sre_model::Status::Error, "{build:?}");
    assert!(
        build
            .evidence
            .contains("does not run on Debian 11 (bullseye)"),
        "{}",
        build.evidence
    );
    assert!(build.evidence.contains("GLIBC"), "{}", build.evidence);
}
