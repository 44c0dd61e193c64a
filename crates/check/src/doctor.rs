//! `sre-check doctor`: is this machine ready to run the checks? Each problem comes with its fix.

use std::path::Path;

use serde::Serialize;

use sre_model::debian::{self, DebianRelease};

use crate::docker::{self, ComposeCli, EngineUnavailable};
use crate::version_check::{self, Comparison};

/// Free disk space below which the images of all topics may not fit.
const MIN_FREE_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Ready.
    Ok,
    /// Works, with a caveat.
    Warn,
    /// Checks will not run until this is fixed.
    Problem,
}

/// One thing doctor looked at.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What was looked at.
    pub name: &'static str,
    /// Verdict.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn ok(name: &'static str, detail: String) -> Finding {
        Finding {
            name,
            level: Level::Ok,
            detail,
            fix: None,
        }
    }

    fn not_ok(name: &'static str, level: Level, detail: String, fix: &str) -> Finding {
        Finding {
            name,
            level,
            detail,
            fix: Some(fix.to_owned()),
        }
    }
}

/// Looks at the engine, Compose, disk space and base images of the machine, from `workdir`,
/// and, given the challenge site (or an invite link), whether this sre-check is for its challenge.
pub fn diagnose(workdir: &Path, server: Option<&str>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = server.map(challenge_version).into_iter().collect();
    findings.push(debian_support(
        crate::content::debian_releases(),
        time::OffsetDateTime::now_utc().date(),
    ));
    let info = match docker::probe() {
        Ok(info) => info,
        Err(err) => {
            let fix = match err {
                EngineUnavailable::NoCli => "Install Docker: https://docs.docker.com/get-docker/",
                EngineUnavailable::NoEngine(_) => {
                    "Start Docker Desktop, or on Linux `sudo systemctl start docker`; add your user \
                     to the `docker` group (then log in again) so that `docker info` works without sudo"
                }
            };
            findings.push(Finding::not_ok(
                "docker engine",
                Level::Problem,
                err.to_string(),
                fix,
            ));
            findings.push(disk(workdir, None));
            return findings;
        }
    };
    findings.push(Finding::ok(
        "docker engine",
        format!("Docker Engine {}", info.server_version),
    ));
    findings.push(Finding::ok(
        "builder",
        if info.buildkit {
            "BuildKit (docker buildx)".to_owned()
        } else {
            "legacy builder (no docker buildx); builds work, with plainer output".to_owned()
        },
    ));
    findings.push(match &info.compose {
        Some(ComposeCli::Plugin(v)) => Finding::ok("compose", format!("docker compose {v}")),
        Some(ComposeCli::Standalone(v)) => Finding::not_ok(
            "compose",
            Level::Warn,
            format!("only the old docker-compose {v} (v1)"),
            "Install the Compose v2 plugin (https://docs.docker.com/compose/install/); v1 works but \
             cannot wait for health checks as precisely",
        ),
        None => Finding::not_ok(
            "compose",
            Level::Problem,
            "neither `docker compose` nor `docker-compose` was found".to_owned(),
            "Install the Compose plugin: https://docs.docker.com/compose/install/",
        ),
    });
    findings.push(disk(workdir, info.root_dir.as_deref()));
    // The Debian releases the topics build on: the ones topic II packages for.
    let base_images: Vec<String> = crate::content::debian_releases()
        .iter()
        .map(|r| r.image())
        .collect();
    let absent: Vec<&str> = base_images
        .iter()
        .map(String::as_str)
        .filter(|image| !image_present(image))
        .collect();
    findings.push(if absent.is_empty() {
        Finding::ok("base images", base_images.join(", "))
    } else {
        Finding::not_ok(
            "base images",
            Level::Warn,
            format!("not yet on this machine: {}", absent.join(", ")),
            &format!(
                "They are pulled on first use; to do it now: `docker pull {}` (and the others)",
                absent[0]
            ),
        )
    });
    findings
}

/// Debian's support of topic II's releases on `today`: a warning from a year before a release's
/// support ends, so whoever runs the challenge reviews its releases in time (a release whose
/// support already ended stays on purpose, and is only noted).
fn debian_support(releases: &[DebianRelease], today: time::Date) -> Finding {
    const NAME: &str = "debian releases";
    let labels: Vec<String> = releases.iter().map(DebianRelease::label).collect();
    let ending: Vec<String> = releases
        .iter()
        .filter(|r| debian::parse_date(r.end_of_support()).is_ok_and(|end| end >= today))
        .filter_map(|r| r.support_notice(today))
        .collect();
    let ended: Vec<String> = releases
        .iter()
        .filter(|r| debian::parse_date(r.end_of_support()).is_ok_and(|end| end < today))
        .filter_map(|r| r.support_notice(today))
        .collect();
    let mut detail = format!("topic II builds for {}", labels.join(", "));
    for note in &ended {
        detail.push_str(&format!("; {note}"));
    }
    if ending.is_empty() {
        return Finding::ok(NAME, detail);
    }
    Finding::not_ok(
        NAME,
        Level::Warn,
        format!("{}; {detail}", ending.join("; ")),
        "Whoever runs the challenge: review topic II's releases ([[topic.package.releases]] in \
         content/challenge.toml) and publish a new sre-check before that date",
    )
}

/// Whether the challenge `given` (a site address or an invite link) runs is the embedded one.
fn challenge_version(given: &str) -> Finding {
    const NAME: &str = "challenge version";
    let server = match crate::upload::server_of(given) {
        Ok(server) => server,
        Err(err) => {
            return Finding::not_ok(
                NAME,
                Level::Warn,
                err.to_string(),
                "Give --server the address of the challenge site, or your whole invite link",
            );
        }
    };
    match version_check::server_version(&server) {
        Ok(version) => match version_check::compare(&server, &version) {
            Comparison::Same(detail) => Finding::ok(NAME, detail),
            Comparison::Differs(detail) => Finding::not_ok(
                NAME,
                Level::Warn,
                detail,
                &format!("Re-run the installer: curl -fsSL {server}/install.sh | sh"),
            ),
        },
        Err(err) => Finding::not_ok(
            NAME,
            Level::Warn,
            format!("could not read the challenge version of {server}: {err:#}"),
            "Check the address (and that you are online); the checks themselves do not need it",
        ),
    }
}

fn image_present(image: &str) -> bool {
    let mut cmd = std::process::Command::new("docker");
    cmd.args(["image", "inspect", "--format", "{{.Id}}", image]);
    crate::process::run(cmd, std::time::Duration::from_secs(30)).is_ok_and(|o| o.success())
}

fn disk(workdir: &Path, docker_root: Option<&Path>) -> Finding {
    // Docker's own folder when it is on this machine (not inside a Docker Desktop VM).
    let path = docker_root.filter(|p| p.exists()).unwrap_or(workdir);
    match free_bytes(path) {
        Some(free) if free < MIN_FREE_BYTES => Finding::not_ok(
            "disk space",
            Level::Warn,
            format!("{} free at {}", gib(free), path.display()),
            "Free at least 10 GiB: `docker system prune` removes unused images and build cache",
        ),
        Some(free) => Finding::ok(
            "disk space",
            format!("{} free at {}", gib(free), path.display()),
        ),
        None => Finding::not_ok(
            "disk space",
            Level::Warn,
            format!("could not read the free space at {}", path.display()),
            "Make sure at least 10 GiB are free for the images",
        ),
    }
}

// The statvfs field types differ between platforms (u32 on macOS), hence the conversions.
#[allow(clippy::useless_conversion)]
fn free_bytes(path: &Path) -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    Some(u64::from(stat.blocks_available()) * u64::from(stat.fragment_size()))
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    /// A fixed clock: the shipped releases warn a year before bookworm's end of support.
    #[test]
    fn debian_support_warns_a_year_ahead() {
        let releases = crate::content::debian_releases();
        let quiet = super::debian_support(releases, date!(2027 - 01 - 15));
        assert_eq!(quiet.level, super::Level::Ok, "{quiet:?}");
        assert!(quiet.detail.contains("bullseye"), "{quiet:?}");
        let warned = super::debian_support(releases, date!(2027 - 07 - 15));
        assert_eq!(warned.level, super::Level::Warn, "{warned:?}");
        assert!(warned.detail.contains("ends on 2028-06-30"), "{warned:?}");
        assert!(
            warned
                .fix
                .is_some_and(|f| f.contains("[[topic.package.releases]]"))
        );
    }
}
