//! The containers the packages are built and installed in: per release, a checker-owned image
//! with apt's package lists ready (installs start at once, yet resolve every Depends against the
//! release's real archive) and, on top of it, one with the tools a packaging script may use.

use std::time::Duration;

use sre_model::debian::DebianRelease;

use crate::docker::Docker;

use crate::cache;

/// A tool image build runs apt-get update and installs a few packages.
const IMAGE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How long a run waits for another run that is building the same images.
const LOCK_PATIENCE: Duration = Duration::from_secs(30 * 60);

/// Images for one release.
#[derive(Debug, Clone)]
pub struct ReleaseImages {
    /// `debian:<codename>` with apt lists only: where packages are inspected and installed.
    pub apt: String,
    /// The apt image plus dpkg-dev and fakeroot: where the candidate's script runs.
    pub build: String,
}

/// Tools the packaging script finds installed; anything else it installs itself.
pub const BUILD_TOOLS: &str = "dpkg-dev fakeroot";

fn apt_dockerfile(release: &DebianRelease) -> String {
    // A release Debian has moved to archive.debian.org (the manifest says so) gets its packages
    // from there; the Dockerfile of the others stays as it was, so their cached images stay valid.
    let archive = release
        .archive_sources()
        .map(|sources| {
            format!(
                "# Debian moved {codename} to the archive: apt reads it from there.\n\
                 RUN rm -f /etc/apt/sources.list.d/debian.sources \\\n \
                 && printf '{}' > /etc/apt/sources.list \\\n \
                 && echo 'Acquire::Check-Valid-Until \"false\";' > /etc/apt/apt.conf.d/99archive\n",
                sources.replace('\n', "\\n"),
                codename = release.codename
            )
        })
        .unwrap_or_default();
    format!(
        "# sre-check: Debian {version} \"{codename}\" with its apt package lists, so installs start at once.\n\
         # Nothing else is installed: a Depends that {codename} cannot satisfy still fails.\n\
         FROM debian:{codename}\n\
         {archive}\
         RUN apt-get update\n",
        version = release.version,
        codename = release.codename
    )
}

fn build_dockerfile(apt_image: &str) -> String {
    format!(
        "# sre-check: where the candidate's packaging script runs; the apt lists stay, so the script\n\
         # can install more with apt-get.\n\
         FROM {apt_image}\n\
         RUN DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {BUILD_TOOLS}\n"
    )
}

/// Builds (once, cached across runs) the images of every release, in parallel.
pub fn prepare(
    docker: &Docker,
    releases: &[DebianRelease],
    note: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Vec<ReleaseImages>> {
    let _lock = cache::lock("os-images", LOCK_PATIENCE)?;
    let results: Vec<anyhow::Result<ReleaseImages>> = std::thread::scope(|scope| {
        let handles: Vec<_> = releases
            .iter()
            .map(|release| {
                scope.spawn(move || {
                    note(&format!("{}: preparing the apt image", release.codename));
                    let apt = docker.tool_image(
                        &format!("os-apt-{}", release.codename),
                        &apt_dockerfile(release),
                        IMAGE_TIMEOUT,
                    )?;
                    let build = docker.tool_image(
                        &format!("os-build-{}", release.codename),
                        &build_dockerfile(&apt),
                        IMAGE_TIMEOUT,
                    )?;
                    Ok(ReleaseImages { apt, build })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("preparing an image panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use sre_model::debian::Support;

    use super::*;

    #[test]
    fn an_archived_release_installs_from_the_archive() {
        let mut bullseye = DebianRelease {
            codename: "bullseye".into(),
            version: 11,
            support: Support::Ended {
                ended: "2026-08-31".into(),
            },
            archived: false,
        };
        let current = apt_dockerfile(&bullseye);
        assert!(!current.contains("archive"), "{current}");
        assert!(
            current.ends_with("FROM debian:bullseye\nRUN apt-get update\n"),
            "{current}"
        );
        bullseye.archived = true;
        let archived = apt_dockerfile(&bullseye);
        assert!(
            archived.contains(
                "printf 'deb http://archive.debian.org/debian bullseye main\\ndeb \
                 http://archive.debian.org/debian-security bullseye-security main\\n' > \
                 /etc/apt/sources.list"
            ),
            "{archived}"
        );
        assert!(archived.contains("Check-Valid-Until"), "{archived}");
        assert!(archived.ends_with("RUN apt-get update\n"), "{archived}");
    }
}
