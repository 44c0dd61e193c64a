//! The prometheus-postgres-exporter binary that sre-check hands to the candidate's packaging
//! script, obtained in this order:
//!
//! 1. `--set os.exporter-binary=PATH`, when given;
//! 2. the upstream release pinned in the manifest (static), downloaded and verified by SHA-256;
//! 3. when that download is impossible (no network to GitHub), a static build of Debian trixie's
//!    source package (`CGO_ENABLED=0`) in a `debian:trixie` container.
//!
//! 2 and 3 are cached in the cache folder, so only the first run pays for them. Whatever the
//! source, the binary must run on the oldest supported release (a dynamically linked build does
//! not run on bullseye), and its `--version` gives the version the script is told.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use sre_model::UpstreamRelease;
use sre_model::debian::DebianRelease;

use crate::cancel;
use crate::docker::{Docker, RunSpec, tail};
use crate::process::RunError;

use crate::cache;

/// Where the binary is mounted in containers (the upstream tarball's name for it).
pub const MOUNT: &str = "/input/postgres_exporter";

/// A download that has not finished in this time is not going to.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Time to connect: an unreachable host must fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The release tarball is about 10 MB; anything far larger is not it.
const MAX_DOWNLOAD_BYTES: usize = 200_000_000;
/// `apt-get build-dep` plus a Go build; about 3 minutes on a laptop.
const SOURCE_BUILD_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// How long a run waits for another run that is obtaining the binary.
const LOCK_PATIENCE: Duration = Duration::from_secs(45 * 60);
/// Time for a container that prints a version.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The release whose source package is built when nothing else works.
const SOURCE_RELEASE: &str = "trixie";
/// The Debian source package.
const SOURCE_PACKAGE: &str = "prometheus-postgres-exporter";

/// Where the binary came from, for the report.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Given with `--set os.exporter-binary=PATH`.
    Given,
    /// The upstream release tarball, verified.
    Upstream {
        /// Its address.
        url: String,
    },
    /// Built from Debian's source package because the download failed.
    DebianPackage {
        /// The source package version, e.g. `0.17.1-1`.
        version: String,
        /// Why the upstream download was not used.
        download_failed: String,
    },
}

/// The binary, ready to mount.
#[derive(Debug, Clone)]
pub struct Exporter {
    /// Absolute path on this machine.
    pub path: PathBuf,
    /// The version it reports (`0.17.1`).
    pub version: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Where it came from.
    pub origin: Origin,
}

impl fmt::Display for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exporter binary: postgres_exporter {}, {} sha256:{}\n  ",
            self.version,
            self.path.display(),
            self.sha256
        )?;
        match &self.origin {
            Origin::Given => f.write_str("given with --set os.exporter-binary"),
            Origin::Upstream { url } => write!(f, "the upstream release {url}, SHA-256 verified"),
            Origin::DebianPackage {
                version,
                download_failed,
            } => write!(
                f,
                "built with CGO_ENABLED=0 from Debian {SOURCE_RELEASE}'s source package \
                 {SOURCE_PACKAGE} {version}; the upstream download failed: {download_failed}"
            ),
        }
    }
}

/// What obtaining the binary needs.
pub struct Needs<'a> {
    /// The Docker driver.
    pub docker: &'a Docker,
    /// The pinned upstream release.
    pub upstream: &'a UpstreamRelease,
    /// The Debian architecture of the engine (`amd64`).
    pub arch: &'a str,
    /// Progress notes.
    pub note: &'a (dyn Fn(&str) + Sync),
}

/// A binary found, not yet verified.
pub struct Located {
    path: PathBuf,
    origin: Origin,
}

/// Finds the binary: the given one, else the upstream release, else a build from source (cached;
/// slow only on the first run). Needs no image of sre-check's, so it can run while they build.
pub fn locate(given: Option<&Path>, needs: &Needs) -> anyhow::Result<Located> {
    let (path, origin) = match given {
        Some(path) => (path.to_path_buf(), Origin::Given),
        None => {
            let _lock = cache::lock("os-exporter", LOCK_PATIENCE)?;
            cached_or_fetched(needs)?
        }
    };
    Ok(Located { path, origin })
}

/// Runs the binary on the oldest supported release (its apt image given) and reads its version.
pub fn verify(
    located: Located,
    docker: &Docker,
    oldest: (&DebianRelease, &str),
) -> anyhow::Result<Exporter> {
    let Located { path, origin } = located;
    let version = probe_version(&path, docker, oldest)?;
    let bytes = std::fs::read(&path)
        .with_context(|| format!("reading the exporter binary {}", path.display()))?;
    Ok(Exporter {
        sha256: hex(&Sha256::digest(&bytes)),
        path,
        version,
        origin,
    })
}

fn cached_or_fetched(needs: &Needs) -> anyhow::Result<(PathBuf, Origin)> {
    let root = cache::dir()?.join("exporter");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let upstream = needs.upstream;
    let url = upstream.expand(&upstream.url, needs.arch);
    let upstream_file = root
        .join(format!("upstream-{}-{}", upstream.version, needs.arch))
        .join("postgres_exporter");
    if upstream_file.is_file() {
        return Ok((upstream_file, Origin::Upstream { url }));
    }
    (needs.note)(&format!("downloading {url}"));
    let download_failed = match download(upstream, needs.arch, &upstream_file) {
        Ok(()) => return Ok((upstream_file, Origin::Upstream { url })),
        Err(Download::Impossible(reason)) => reason,
        Err(Download::Refused(err)) => return Err(err),
    };
    let source_dir = root.join(format!("debian-{SOURCE_RELEASE}-{}", needs.arch));
    let source_file = source_dir.join("prometheus-postgres-exporter");
    let version_file = source_dir.join("source-version");
    if !source_file.is_file() {
        build_from_source(needs, &source_dir)?;
    }
    let version = std::fs::read_to_string(&version_file)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    Ok((
        source_file,
        Origin::DebianPackage {
            version,
            download_failed,
        },
    ))
}

/// Why the download did not give a binary.
enum Download {
    /// No way to download here (no network, no pin for this architecture): build instead.
    Impossible(String),
    /// The download worked but must not be used (checksum mismatch): stop.
    Refused(anyhow::Error),
}

/// Downloads the pinned release tarball for `arch`, checks its SHA-256, and writes the binary in
/// it to `target`.
fn download(upstream: &UpstreamRelease, arch: &str, target: &Path) -> Result<(), Download> {
    let Some(expected) = upstream.sha256.get(arch) else {
        return Err(Download::Impossible(format!(
            "no pinned SHA-256 for {arch} in the manifest"
        )));
    };
    let url = upstream.expand(&upstream.url, arch);
    let bytes = fetch(&url)?;
    let found = hex(&Sha256::digest(&bytes));
    if !found.eq_ignore_ascii_case(expected) {
        return Err(Download::Refused(anyhow::anyhow!(
            "{url} has SHA-256 {found}, but the challenge pins {expected}: the download was \
             altered on its way (a proxy?). Download it yourself, check it, and pass the binary \
             with --set os.exporter-binary=PATH"
        )));
    }
    let member = upstream.expand(&upstream.member, arch);
    let dir = target.parent().unwrap_or(target);
    let work = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir.parent().unwrap_or(dir))
        .map_err(|e| Download::Refused(anyhow::anyhow!("creating a download folder: {e}")))?;
    let unpacked = work.path().join("postgres_exporter");
    unpack_member(&bytes, &member, &unpacked)
        .map_err(|e| Download::Refused(e.context(format!("unpacking {member} from {url}"))))?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::rename(&unpacked, target))
        .map_err(|e| Download::Refused(anyhow::anyhow!("caching {}: {e}", target.display())))
}

/// The body of `url`. A network or HTTP failure makes the download impossible (the source build
/// takes over); Ctrl-C stops it within one read.
fn fetch(url: &str) -> Result<Vec<u8>, Download> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(CONNECT_TIMEOUT))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .user_agent(concat!("sre-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| Download::Impossible(format!("downloading {url}: {e}")))?;
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        if cancel::requested() {
            return Err(Download::Refused(
                RunError::Interrupted {
                    command: format!("download of {url}"),
                }
                .into(),
            ));
        }
        let n = reader
            .read(&mut chunk)
            .map_err(|e| Download::Impossible(format!("downloading {url}: {e}")))?;
        if n == 0 {
            return Ok(bytes);
        }
        if bytes.len() + n > MAX_DOWNLOAD_BYTES {
            return Err(Download::Impossible(format!(
                "{url} is larger than {} MB: not the release tarball",
                MAX_DOWNLOAD_BYTES / 1_000_000
            )));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Writes the file `member` of the gzip-compressed tarball `tarball` to `to`, with its mode.
fn unpack_member(tarball: &[u8], member: &str, to: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path.strip_prefix("./").unwrap_or(&path) == Path::new(member) {
            entry.unpack(to)?;
            return Ok(());
        }
    }
    bail!("the tarball has no {member}")
}

/// The build, run as root in `debian:trixie`; `/out` receives the binary and the source version.
const SOURCE_BUILD: &str = r#"set -eu
export DEBIAN_FRONTEND=noninteractive
mkdir /build && cd /build
quiet() { "$@" >/build/step.log 2>&1 || { tail -60 /build/step.log; exit 1; }; }
echo "deb-src http://deb.debian.org/debian $1 main" > /etc/apt/sources.list.d/sre-check-src.list
quiet apt-get update
quiet apt-get install -y --no-install-recommends dpkg-dev
echo "installing the build dependencies of $2"
quiet apt-get build-dep -y --no-install-recommends "$2"
quiet apt-get source "$2"
cd "$2"-*/
echo "building $2 $(dpkg-parsechangelog -S Version) with CGO_ENABLED=0"
export CGO_ENABLED=0 DEB_BUILD_OPTIONS="nocheck noddebs"
quiet dpkg-buildpackage -us -uc -b
dpkg-deb -x /build/"$2"_*.deb /build/root
install -m 0755 /build/root/usr/bin/"$2" /out/
dpkg-parsechangelog -S Version > /out/source-version
chown -R "$3" /out
"#;

fn build_from_source(needs: &Needs, target: &Path) -> anyhow::Result<()> {
    (needs.note)(&format!(
        "building postgres_exporter from Debian {SOURCE_RELEASE}'s source (once, a few minutes)"
    ));
    let parent = target.parent().unwrap_or(target);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".source-build-")
        .tempdir_in(parent)
        .context("creating a build folder in the cache")?;
    let spec = RunSpec::new(&format!("debian:{SOURCE_RELEASE}"))
        .mount_rw(work.path(), "/out")
        .args(["sh", "-c", SOURCE_BUILD, "build"])
        .args([SOURCE_RELEASE, SOURCE_PACKAGE, &owner(parent)?]);
    let out = needs
        .docker
        .run_with_lines(&spec, SOURCE_BUILD_TIMEOUT, needs.note)?;
    if !out.success() {
        bail!(
            "the upstream download failed and building postgres_exporter from Debian \
             {SOURCE_RELEASE}'s source failed too. Pass a static Linux build with \
             --set os.exporter-binary=PATH (e.g. the upstream release tarball's \
             postgres_exporter).\n{}",
            tail(&out.combined(), 40)
        );
    }
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("replacing {}", target.display()))?;
    }
    let kept = work.keep();
    std::fs::rename(&kept, target).with_context(|| format!("caching {}", target.display()))?;
    Ok(())
}

/// Runs `--version` on the oldest supported release: proves the binary is usable everywhere and
/// gives its version.
fn probe_version(
    path: &Path,
    docker: &Docker,
    (release, image): (&DebianRelease, &str),
) -> anyhow::Result<String> {
    let spec = RunSpec::new(image)
        .mount_ro(path, MOUNT)
        .args([MOUNT, "--version"]);
    let out = docker.run(&spec, PROBE_TIMEOUT)?;
    let text = out.combined();
    let version = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()));
    match version {
        Some(v) if out.success() => Ok(v.trim_end_matches(',').to_owned()),
        _ => bail!(
            "the exporter binary {} does not run on Debian {} ({}) — it must be a static Linux \
             build for this machine's architecture (CGO_ENABLED=0, like the upstream release):\n{}",
            path.display(),
            release.version,
            release.codename,
            tail(&text, 10)
        ),
    }
}

/// `uid:gid` of `dir`: files a container (running as root) writes there are handed back to
/// the folder's owner, so the user can delete them.
pub fn owner(dir: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("reading the owner of {}", dir.display()))?;
    Ok(format!("{}:{}", meta.uid(), meta.gid()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;

    use super::*;

    const MEMBER: &str = "postgres_exporter-9.9.9.linux-amd64/postgres_exporter";

    /// A release tarball holding an executable `MEMBER` and a license next to it.
    fn tarball() -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (path, mode, body) in [
            (
                "postgres_exporter-9.9.9.linux-amd64/LICENSE",
                0o644,
                &b"MIT"[..],
            ),
            (MEMBER, 0o755, &b"#!/bin/sh\necho exporter\n"[..]),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(mode);
            header.set_cksum();
            tar.append_data(&mut header, path, body).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    /// Serves `body` with `status` to one request on a loopback port; returns the base address.
    fn serve_once(status: &'static str, body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        });
        format!("http://{addr}")
    }

    fn release(base: &str, sha256: &str) -> UpstreamRelease {
        UpstreamRelease {
            version: "9.9.9".to_owned(),
            url: format!("{base}/v{{version}}/postgres_exporter-{{version}}.linux-{{arch}}.tar.gz"),
            member: "postgres_exporter-{version}.linux-{arch}/postgres_exporter".to_owned(),
            sha256: [("amd64".to_owned(), sha256.to_owned())].into(),
        }
    }

    #[test]
    fn the_pinned_tarball_is_downloaded_checked_and_unpacked() {
        use std::os::unix::fs::PermissionsExt;
        let body = tarball();
        let sha = hex(&Sha256::digest(&body));
        let base = serve_once("200 OK", body);
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("upstream/postgres_exporter");
        match download(&release(&base, &sha), "amd64", &target) {
            Ok(()) => {}
            Err(Download::Impossible(reason)) => panic!("impossible: {reason}"),
            Err(Download::Refused(err)) => panic!("refused: {err:#}"),
        }
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "#!/bin/sh\necho exporter\n"
        );
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn an_altered_download_is_refused_and_a_missing_one_is_impossible() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("upstream/postgres_exporter");
        let base = serve_once("200 OK", tarball());
        let Err(Download::Refused(err)) =
            download(&release(&base, &"0".repeat(64)), "amd64", &target)
        else {
            panic!("a checksum mismatch must be refused");
        };
        assert!(err.to_string().contains("the challenge pins"), "{err}");
        let base = serve_once("404 Not Found", b"no such release".to_vec());
        let Err(Download::Impossible(reason)) = download(&release(&base, "x"), "amd64", &target)
        else {
            panic!("a 404 makes the download impossible");
        };
        assert!(reason.contains("404"), "{reason}");
        assert!(matches!(
            download(&release(&base, "x"), "arm64", &target),
            Err(Download::Impossible(_))
        ));
        assert!(!target.exists());
    }

    #[test]
    fn a_tarball_without_the_member_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = unpack_member(&tarball(), "other/postgres_exporter", &tmp.path().join("x"))
            .unwrap_err();
        assert!(
            err.to_string().contains("no other/postgres_exporter"),
            "{err}"
        );
    }
}
