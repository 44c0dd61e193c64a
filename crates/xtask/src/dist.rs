//! `cargo xtask dist`: the release builds of sre-check that candidates download.
//!
//! Cross-compiles sre-check for every [`TARGETS`] entry in one `cargo zigbuild` (Zig links the
//! static musl builds and the macOS ones, no SDK needed), packs each binary as
//! `sre-check-<version>-<target>.tar.gz`, and writes `SHA256SUMS`, `builds.json` (what the
//! download page lists) and `install.sh` next to them, in `OUT/download/`.
//!
//! Four release builds take minutes, so they happen only when an input changed: the sources of
//! sre-check and what it embeds, the lock file, the profile, the toolchain. A digest of those is
//! kept in `OUT/download/inputs.sha256`; when it matches, only `install.sh` is copied again.
//! The builds use their own target folder (`OUT/cargo`), so they neither wait for nor block the
//! cargo lock of the workspace's debug builds, and run beside them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A platform sre-check is published for.
pub struct Target {
    /// The Rust target triple.
    pub triple: &'static str,
    /// What a candidate calls it.
    pub label: &'static str,
}

/// The published platforms. `install.sh` maps `uname -s`/`uname -m` to these triples, and the
/// download page names them by `label`.
pub const TARGETS: [Target; 4] = [
    Target {
        triple: "x86_64-unknown-linux-musl",
        label: "Linux x86_64 (also Windows with WSL 2)",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        label: "Linux arm64",
    },
    Target {
        triple: "aarch64-apple-darwin",
        label: "macOS Apple silicon (M1 and later)",
    },
    Target {
        triple: "x86_64-apple-darwin",
        label: "macOS Intel",
    },
];

/// The cargo profile of the builds (the workspace's Cargo.toml: size-oriented, stripped).
const PROFILE: &str = "dist";
/// sre-check's version: the workspace version, which xtask shares.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// What the inputs' digest is kept in.
const STAMP: &str = "inputs.sha256";
/// The list of builds the download page reads.
pub const BUILDS_JSON: &str = "builds.json";

/// The archive's file name for `triple`.
pub fn archive_name(triple: &str) -> String {
    format!("sre-check-{VERSION}-{triple}.tar.gz")
}

/// Builds (when an input changed) and packs every target into `out/download`.
pub fn dist(root: &Path, out: &Path, force: bool) -> Result<()> {
    let download = out.join("download");
    let inputs = inputs_digest(root)?;
    let stamp = download.join(STAMP);
    let complete = TARGETS
        .iter()
        .all(|t| download.join(archive_name(t.triple)).is_file())
        && download.join(BUILDS_JSON).is_file();
    let unchanged = complete && fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == inputs);
    if unchanged && !force {
        eprintln!(
            "xtask dist: up to date in {} (inputs unchanged)",
            download.display()
        );
    } else {
        let started = Instant::now();
        build(root, &out.join("cargo"))?;
        let built = started.elapsed();
        // A stale stamp must not survive a half-written folder.
        let _ = fs::remove_file(&stamp);
        pack(&out.join("cargo"), &download)?;
        fs::write(&stamp, format!("{inputs}\n"))
            .with_context(|| format!("cannot write {}", stamp.display()))?;
        eprintln!(
            "xtask dist: built {} targets in {:.0} s, packed in {}",
            TARGETS.len(),
            built.as_secs_f64(),
            download.display()
        );
    }
    let script = root.join("scripts/install.sh");
    fs::copy(&script, download.join("install.sh"))
        .with_context(|| format!("cannot copy {}", script.display()))?;
    Ok(())
}

/// One `cargo zigbuild` for all targets: cargo runs their crates in parallel and builds the
/// host-side build scripts and proc macros once.
fn build(root: &Path, target_dir: &Path) -> Result<()> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args([
            "zigbuild",
            "--locked",
            "--profile",
            PROFILE,
            "-p",
            "sre-check",
        ])
        .env("CARGO_TARGET_DIR", target_dir);
    for t in &TARGETS {
        cmd.args(["--target", t.triple]);
    }
    eprintln!("xtask dist: cargo zigbuild for {} targets", TARGETS.len());
    let status = cmd.status().context(
        "cannot run `cargo zigbuild`: run scripts/setup, which installs cargo-zigbuild and zig \
         (from PyPI) into the tools folder",
    )?;
    ensure!(
        status.success(),
        "`cargo zigbuild` failed ({status}): see its output above; `scripts/setup` installs \
         cargo-zigbuild, zig and the rustup targets"
    );
    Ok(())
}

/// Packs each built binary, then writes `SHA256SUMS` and `builds.json`.
fn pack(target_dir: &Path, download: &Path) -> Result<()> {
    fs::create_dir_all(download)
        .with_context(|| format!("cannot create {}", download.display()))?;
    let mut sums = String::new();
    let mut builds = Vec::new();
    for t in &TARGETS {
        let binary = target_dir.join(t.triple).join(PROFILE).join("sre-check");
        let bytes = fs::read(&binary)
            .with_context(|| format!("cannot read the built {}", binary.display()))?;
        let archive = tar_gz("sre-check", &bytes)?;
        let name = archive_name(t.triple);
        let path = download.join(&name);
        fs::write(&path, &archive).with_context(|| format!("cannot write {}", path.display()))?;
        let sha256 = hex(&Sha256::digest(&archive));
        sums.push_str(&format!("{sha256}  {name}\n"));
        builds.push(json!({
            "target": t.triple,
            "label": t.label,
            "file": name,
            "size": archive.len(),
            "binary_size": bytes.len(),
            "sha256": sha256,
        }));
        eprintln!(
            "  {:<28} binary {:>9} B, archive {:>9} B",
            t.triple,
            bytes.len(),
            archive.len()
        );
    }
    fs::write(download.join("SHA256SUMS"), sums).context("cannot write SHA256SUMS")?;
    let listing = json!({ "version": VERSION, "builds": builds });
    fs::write(
        download.join(BUILDS_JSON),
        serde_json::to_string_pretty(&listing)?,
    )
    .context("cannot write builds.json")?;
    Ok(())
}

/// A gzipped tar holding one executable, with fixed owner and time so the same binary gives
/// the same archive (and checksum).
fn tar_gz(name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o755);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::best()));
    tar.append_data(&mut header, name, bytes)?;
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    Ok(gz.finish()?)
}

/// The digest of everything the binaries are made from.
fn inputs_digest(root: &Path) -> Result<String> {
    let mut files = Vec::new();
    for dir in ["crates/check", "crates/model", "content", ".cargo"] {
        collect_files(&root.join(dir), &mut files)?;
    }
    files.push(root.join("Cargo.toml"));
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        let bytes = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    for tool in [["rustc", "-vV"], ["cargo-zigbuild", "--version"]] {
        hasher.update(tool_version(&tool)?.as_bytes());
    }
    for t in &TARGETS {
        hasher.update(t.triple.as_bytes());
    }
    Ok(hex(&hasher.finalize()))
}

fn tool_version(command: &[&str; 2]) -> Result<String> {
    let output = Command::new(command[0])
        .arg(command[1])
        .output()
        .with_context(|| {
            format!(
                "cannot run `{}`: run scripts/setup, which installs it",
                command.join(" ")
            )
        })?;
    if !output.status.success() {
        bail!("`{}` failed: {}", command.join(" "), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn an_archive_holds_the_executable_and_is_reproducible() -> Result<()> {
        let archive = tar_gz("sre-check", b"\x7fELF binary")?;
        assert_eq!(archive, tar_gz("sre-check", b"\x7fELF binary")?);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&archive[..]));
        let mut entries = tar.entries()?;
        let mut entry = entries.next().context("one entry")??;
        assert_eq!(entry.path()?.to_string_lossy(), "sre-check");
        assert_eq!(entry.header().mode()?, 0o755);
        let mut content = Vec::new();
        entry.read_to_end(&mut content)?;
        assert_eq!(content, b"\x7fELF binary");
        drop(entry);
        assert!(entries.next().is_none());
        Ok(())
    }

    #[test]
    fn archive_names_carry_version_and_target() {
        assert_eq!(
            archive_name("aarch64-apple-darwin"),
            format!("sre-check-{VERSION}-aarch64-apple-darwin.tar.gz")
        );
    }
}
