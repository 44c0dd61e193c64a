//! At start and before each job: removes what runs of dead workers left on the engine, as
//! `sre-check clean` would, but only for runs whose process is gone, so that other workers sharing
//! the engine keep theirs.
//!
//! A run's checks normally clean up after themselves, even when the worker is killed (they get
//! SIGTERM then, see `job`); this catches the rest (the whole machine stopped, SIGKILL of the
//! checks themselves). sre-check's run id ends with the pid of the process that ran the checks
//! (`run_command::run_id`), which is alive exactly while the run may still use its objects. Only
//! meaningful for an engine on this machine (a `unix://` DOCKER_HOST or none).

use std::collections::BTreeSet;
use std::process::Command;

use sre_check::docker::{LABEL_MANAGED, LABEL_RUN, PROJECT_PREFIX, sweep as sweep_label};

/// Removes the objects of dead runs; returns how many runs it cleaned.
pub fn sweep() -> usize {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    if !(host.is_empty() || host.starts_with("unix://")) {
        return 0;
    }
    let mut runs = BTreeSet::new();
    let format = format!("{{{{.Label \"{LABEL_RUN}\"}}}}");
    let filter = format!("label={LABEL_MANAGED}");
    for list in [
        &["ps", "--all"][..],
        &["network", "ls"][..],
        &["volume", "ls"][..],
    ] {
        let mut args = list.to_vec();
        args.extend(["--filter", &filter, "--format", &format]);
        runs.extend(lines(&args));
    }
    let dead: Vec<String> = runs.into_iter().filter(|r| !alive(r)).collect();
    for run in &dead {
        sweep_label(&format!("{LABEL_RUN}={run}"), false);
        // Compose makes its networks and volumes without our labels: by project name
        // (`sre-check-<topic>-<first 8 characters of the run id>`).
        let short: String = run.chars().take(8).collect();
        for (list, remove) in [
            (&["network", "ls"][..], &["network", "rm"][..]),
            (&["volume", "ls"][..], &["volume", "rm", "--force"][..]),
        ] {
            let mut args = list.to_vec();
            let name = format!("name={short}");
            args.extend(["--filter", &name, "--format", "{{.Name}}"]);
            let names: Vec<String> = lines(&args)
                .into_iter()
                .filter(|n| n.starts_with(PROJECT_PREFIX) && n.contains(&format!("-{short}")))
                .collect();
            if !names.is_empty() {
                let _ = Command::new("docker").args(remove).args(&names).output();
            }
        }
    }
    dead.len()
}

/// Removes the job folders under `root` whose worker is gone (a worker killed mid-job leaves its
/// folder); returns how many.
pub fn sweep_folders(root: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let owned = entry
            .file_name()
            .to_string_lossy()
            .starts_with("sre-verify-");
        let owner = std::fs::read_to_string(path.join(crate::job::OWNER_FILE)).ok();
        let dead = owner
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if owned && dead && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether the process that made run `run` still runs (the last six hex digits are its pid).
fn alive(run: &str) -> bool {
    let Some(pid) = run
        .get(run.len().saturating_sub(6)..)
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
    else {
        // Not a run id of ours: leave it alone.
        return true;
    };
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn lines(args: &[&str]) -> Vec<String> {
    Command::new("docker")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && *l != "<no value>")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
