//! The containers the packages are built and installed in: per release, a checker-owned image
//! with apt's package lists ready (installs start at once, yet resolve every Depends against the
//! release's real archive) and, on top of it, one with the tools a packaging script may use.

use std::time::Duration;

use sre_model::debian::DebianRelease;

use crate::docker::Docker;

use super::cache;

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
    format!(
        "# sre-check: Debian {version} \"{codename}\" with its apt package lists, so installs start at once.\n\
         # Nothing else is installed: a Depends that {codename} cannot satisfy still fails.\n\
         FROM debian:{codename}\n\
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
