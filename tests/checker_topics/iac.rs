//! Topic I (iac): its fixtures after a warm-up, the README's reproduction command, and Ctrl-C
//! while the second playbook run's container is running.
//!
//! The cases share Docker's cache: the Dockerfile's Ansible layer and the ansible-lint tool image.
//! Built by several cases at once on a cold cache, they would be built once per case, so the
//! trials of this topic take a lock file while they first build them (nextest runs trials in
//! parallel processes); after that the cases run in parallel and differ only by the playbook
//! layer.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use libtest_mimic::Trial;
use sre_e2e::checker::{self, BackgroundRun, Fixture, containers_with_label, docker_objects};

use crate::trial;

/// Cases run at once after the warm-up. Builds wait on the network and on dpkg more than on the
/// CPU, so three fit on two cores.
const JOBS: usize = 3;

/// Holds the lock that serialises the first builds of the shared layers.
fn shared_layers_lock() -> File {
    let path = std::env::temp_dir().join("sre-e2e-iac-shared-layers.lock");
    let file = File::create(&path).expect("creating the lock file");
    file.lock().expect("locking the lock file");
    file
}

/// The topic's own tests.
pub fn tests() -> Vec<Trial> {
    vec![trial(
        "iac::ctrl_c_during_the_second_playbook_run_removes_its_container",
        || {
            ctrl_c_during_the_second_playbook_run_removes_its_container();
            Ok(())
        },
    )]
}

/// The untouched starter first, under the lock (it warms the shared layers), then the README's
/// reproduction, then the other cases in parallel.
pub fn fixtures(fixtures: Vec<Fixture>) -> anyhow::Result<()> {
    let (starter, others): (Vec<_>, Vec<_>) = fixtures
        .into_iter()
        .partition(|f| f.name == "iac/broken/starter");
    anyhow::ensure!(starter.len() == 1, "the untouched starter is a fixture");
    {
        // The starter builds the Ansible layer and the lint image, and is quick once they exist.
        let _lock = shared_layers_lock();
        let started = Instant::now();
        checker::check_fixture("iac", &starter[0])?;
        eprintln!(
            "{:<40} ok ({:.0} s, warms the shared layers)",
            starter[0].name,
            started.elapsed().as_secs_f64()
        );
    }
    readme_reproduction_fails_on_the_apt_task();
    checker::check_fixtures("iac", &others, JOBS)
}

/// The README's "Reproduce the failure" commands, as written: `cd infrastructure`,
/// `docker build .`.
fn readme_reproduction_fails_on_the_apt_task() {
    let readme =
        std::fs::read_to_string(sre_e2e::repo_root().join("content/infrastructure/README.md"))
            .expect("reading the topic README");
    assert!(
        readme.contains("```sh\n   cd infrastructure\n   docker build .\n   ```"),
        "the README's reproduction commands changed: update this test"
    );
    let (_tmp, work) = checker::init_work().expect("a fresh working copy");
    let out = Command::new("docker")
        .args(["build", "."])
        .current_dir(work.join("infrastructure"))
        .output()
        .expect("docker build runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    remove_failed_build_container(&text);
    assert!(!out.status.success(), "the starter must not build:\n{text}");
    let failure = text
        .split("TASK [Install nginx]")
        .nth(1)
        .unwrap_or_else(|| panic!("the build reaches the apt task:\n{text}"));
    assert!(
        failure.contains("fatal: [localhost]: FAILED!") && failure.contains("Permission denied"),
        "the apt task fails with a permission error:\n{failure}"
    );
}

/// A failed legacy build keeps the container of its failed step: remove it (this test made it).
fn remove_failed_build_container(output: &str) {
    let Some(id) = output
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("---> Running in "))
    else {
        return;
    };
    let _ = Command::new("docker")
        .args(["rm", "--force", id.trim()])
        .output();
}

/// A playbook whose second run blocks until stopped: its first run (in the build) marks the
/// host, the second sees the mark and sleeps.
const HOLD_SECOND_RUN: &str = r#"---
- name: Hold the second run
  hosts: all
  gather_facts: false
  tasks:
    - name: Look for an earlier run
      ansible.builtin.stat:
        path: /home/deploy/first-run-done
      register: earlier

    - name: Wait until stopped, on the second run only
      ansible.builtin.command: sleep 600
      changed_when: false
      when: earlier.stat.exists

    - name: Mark the first run
      ansible.builtin.copy:
        dest: /home/deploy/first-run-done
        content: "done\n"
        mode: "0644"
"#;

fn ctrl_c_during_the_second_playbook_run_removes_its_container() {
    let _lock = shared_layers_lock();
    let (_tmp, work) = checker::init_work().expect("a fresh working copy");
    std::fs::write(work.join("infrastructure/playbook.yml"), HOLD_SECOND_RUN)
        .expect("writing the playbook");

    let mut run = BackgroundRun::start(&work, "iac");
    let run_label = run.run_label.clone();
    // The second run's container: labelled with the run, running ansible-playbook. On a cold
    // cache the build before it installs Ansible first.
    let second_run_running = || {
        docker_objects(
            &["ps", "--no-trunc", "--format", "{{.Command}}"],
            &run_label,
        )
        .iter()
        .any(|word| word.contains("ansible-playbook"))
    };
    run.wait_for(
        "the second playbook run",
        Duration::from_secs(15 * 60),
        second_run_running,
    );

    let (status, stderr) = run.interrupt(Duration::from_secs(60));
    let stderr = stderr.join("\n");
    assert_eq!(
        status.code(),
        Some(2),
        "an interrupted run exits 2; stderr:\n{stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        containers_with_label(&run_label),
        Vec::<String>::new(),
        "containers of the run remain"
    );
    for kind in [["image", "ls", "--quiet"], ["network", "ls", "--quiet"]] {
        assert_eq!(
            docker_objects(&kind, &run_label),
            Vec::<String>::new(),
            "{}s of the run remain",
            kind[0]
        );
    }
    assert_report_shows_the_interruption(&work);
}

fn assert_report_shows_the_interruption(work: &Path) {
    let report = std::fs::read(work.join(".sre-check/report.json"))
        .expect("an interrupted run still writes its report");
    let report = sre_model::Report::from_json(&report).expect("a valid report");
    let check = |id: &str| checker::first_topic_check(&report, id);
    assert_eq!(check("build").status, sre_model::Status::Pass);
    let second = check("idempotence");
    assert_eq!(second.status, sre_model::Status::Error, "{second:?}");
    assert!(second.evidence.contains("interrupted"), "{second:?}");
}
