//! What a playbook run really changed on the host, read from the container's filesystem instead of
//! Ansible's `changed=` count, which a task can silence (`changed_when: false`).
//!
//! `docker diff` lists the paths the second run touched; a path only rewritten with the same
//! content, mode and owner is no change, so the paths listed as changed are compared with the
//! built image (as root, with `stat` and `sha256sum`). Caches, logs, temporary files and Ansible's
//! own working files are not the host's state and are left out.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::docker::{Docker, RunSpec};

/// Paths compared at most; more changes than this are listed by path only.
const MAX_COMPARED: usize = 200;
/// Changes shown in the evidence.
pub const MAX_SHOWN: usize = 20;
/// Running `stat` and `sha256sum` in a container.
const FINGERPRINT_TIMEOUT: Duration = Duration::from_secs(120);

/// A change a run made to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute path in the container.
    pub path: String,
    /// What happened to it: `created`, `deleted`, or what differs.
    pub what: String,
}

/// Folders and names whose changes are not the host's configuration.
fn is_noise(path: &str) -> bool {
    const FOLDERS: [&str; 11] = [
        "/tmp",
        "/var/tmp",
        "/run",
        "/var/run",
        "/var/log",
        "/var/cache",
        "/proc",
        "/sys",
        "/dev",
        "/var/lib/apt/lists",
        "/var/lib/dpkg/triggers",
    ];
    const FILES: [&str; 4] = [
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/mtab",
    ];
    FOLDERS
        .iter()
        .any(|f| path == *f || path.strip_prefix(f).is_some_and(|r| r.starts_with('/')))
        || FILES.contains(&path)
        // dpkg's lock files, rewritten by every apt call even when nothing is installed.
        || path.starts_with("/var/lib/dpkg/lock")
        || path
            .split('/')
            .any(|part| matches!(part, ".ansible" | ".ansible_async" | "__pycache__" | ".cache"))
}

/// The entries of `docker diff` output that are not noise: (`A`/`C`/`D`, path).
pub fn entries(diff: &str) -> Vec<(char, String)> {
    diff.lines()
        .filter_map(|l| {
            let (kind, path) = l.trim().split_once(' ')?;
            let kind = kind.chars().next().filter(|_| kind.len() == 1)?;
            Some((kind, path.trim().to_owned()))
        })
        .filter(|(_, path)| !is_noise(path))
        .collect()
}

/// What changed between the `before` and `after` fingerprints of the compared paths.
pub fn compare(
    entries: &[(char, String)],
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (kind, path) in entries {
        let what = match kind {
            'A' => Some("created by the second run".to_owned()),
            'D' => Some("deleted by the second run".to_owned()),
            _ => match (before.get(path), after.get(path)) {
                (Some(b), Some(a)) if b != a => Some(format!("changed: {b} → {a}")),
                _ => None,
            },
        };
        if let Some(what) = what {
            changes.push(Change {
                path: path.clone(),
                what,
            });
        }
    }
    changes
}

/// One `path\tfingerprint` line per existing path, as printed by [`FINGERPRINT`].
fn parse_fingerprints(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, f)| (p.to_owned(), f.to_owned()))
        .collect()
}

/// Prints, for each path argument, its type, mode, owner and (for files) content digest.
const FINGERPRINT: &str = r#"for p do
  if [ -L "$p" ]; then printf '%s\tlink to %s\n' "$p" "$(readlink "$p")"
  elif [ -d "$p" ]; then printf '%s\tfolder %s\n' "$p" "$(stat -c '%a %U:%G' "$p")"
  elif [ -e "$p" ]; then printf '%s\tfile %s sha256 %.12s\n' "$p" "$(stat -c '%a %U:%G' "$p")" "$(sha256sum < "$p")"
  fi
done"#;

fn fingerprints(
    docker: &Docker,
    image: &str,
    paths: &[&str],
) -> anyhow::Result<BTreeMap<String, String>> {
    let spec = RunSpec::new(image)
        .user("0")
        .entrypoint("sh")
        .args(["-c", FINGERPRINT, "sh"])
        .args(paths.iter().copied());
    let out = docker.run(&spec, FINGERPRINT_TIMEOUT)?;
    anyhow::ensure!(
        out.success(),
        "reading the files of {image} failed: {}",
        out.combined()
    );
    Ok(parse_fingerprints(&out.stdout))
}

/// What the stopped `container` (a run of `image`) changed on the host, noise left out.
pub fn changes(docker: &Docker, container: &str, image: &str) -> anyhow::Result<Vec<Change>> {
    let entries = entries(&docker.diff(container)?);
    let compared: Vec<&str> = entries
        .iter()
        .filter(|(k, _)| *k == 'C')
        .map(|(_, p)| p.as_str())
        .take(MAX_COMPARED)
        .collect();
    if compared.is_empty() {
        return Ok(compare(&entries, &BTreeMap::new(), &BTreeMap::new()));
    }
    let after_image = format!("{image}-second-run");
    docker.commit(container, &after_image)?;
    let before = fingerprints(docker, image, &compared)?;
    let after = fingerprints(docker, &after_image, &compared)?;
    Ok(compare(&entries, &before, &after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_left_out() {
        let diff = "C /home\nC /home/deploy\nA /home/deploy/.ansible/tmp/x\nC /var/lib/apt/lists/lock\n\
                    C /var/cache/apt/pkgcache.bin\nA /var/log/nginx/status.log\nC /tmp\n\
                    A /usr/lib/python3/dist-packages/apt/__pycache__/x.pyc\nC /var/lib/dpkg/lock-frontend\n\
                    A /home/deploy/visits.log\nD /etc/nginx/sites-enabled/default\n";
        let found = entries(diff);
        assert_eq!(
            found,
            [
                ('C', "/home".to_owned()),
                ('C', "/home/deploy".to_owned()),
                ('A', "/home/deploy/visits.log".to_owned()),
                ('D', "/etc/nginx/sites-enabled/default".to_owned()),
            ]
        );
    }

    #[test]
    fn a_rewrite_with_the_same_content_is_no_change() {
        let entries = vec![
            ('C', "/srv/status".to_owned()),
            ('C', "/srv/status/index.html".to_owned()),
            ('C', "/etc/motd".to_owned()),
            ('A', "/srv/new".to_owned()),
        ];
        let before = parse_fingerprints(
            "/srv/status\tfolder 755 status:status\n/srv/status/index.html\tfile 644 status:status sha256 aaaa\n/etc/motd\tfile 644 root:root sha256 bbbb\n",
        );
        let after = parse_fingerprints(
            "/srv/status\tfolder 755 status:status\n/srv/status/index.html\tfile 644 status:status sha256 aaaa\n/etc/motd\tfile 644 root:root sha256 cccc\n",
        );
        let changes = compare(&entries, &before, &after);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/etc/motd", "/srv/new"]);
        assert!(
            changes[0]
                .what
                .contains("bbbb → file 644 root:root sha256 cccc")
        );
    }
}
