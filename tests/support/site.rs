//! The built site and the manifest it was built from.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sre_model::{Manifest, site};

use crate::repo_root;

/// The site as `trunk build --release` left it in dist/. Fails (never skips) when it is missing:
/// a browser test that silently passes without a site tests nothing.
pub fn built_dist() -> Result<PathBuf> {
    let dist = repo_root().join("dist");
    if !dist.join("index.html").is_file() {
        bail!(
            "{} has no index.html: build the site first with `trunk build --release` \
             (scripts/test does it)",
            dist.display()
        );
    }
    if !dist.join(site::MANIFEST_JSON).is_file() {
        bail!(
            "{} has no {}: the render hook did not run; rebuild with `trunk build --release` \
             from the repository root (Trunk.toml runs `cargo xtask render`)",
            dist.display(),
            site::MANIFEST_JSON
        );
    }
    Ok(dist)
}

/// The challenge manifest, `content/challenge.toml`.
pub fn manifest() -> Result<Manifest> {
    let path = repo_root().join("content/challenge.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Manifest::from_toml(&text).with_context(|| format!("parsing {}", path.display()))
}

/// A copy of `dist` in a temporary folder, for a test that breaks something (removes a file).
pub fn copy_of(dist: &Path) -> Result<tempfile::TempDir> {
    let copy = tempfile::tempdir().context("creating a temporary folder")?;
    copy_dir(dist, copy.path())?;
    Ok(copy)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A copy of the built site whose challenge is rendered again from a copy of content/ that
/// `edit` changed (e.g. a README with hostile markdown), through the real build steps
/// (`cargo xtask render`, then `cargo xtask pages`).
pub fn rebuilt_with_content(edit: impl FnOnce(&Path) -> Result<()>) -> Result<tempfile::TempDir> {
    let site = copy_of(&built_dist()?)?;
    let content = copy_of(&repo_root().join("content"))?;
    edit(content.path())?;
    let out = site.path().to_str().context("site path is not UTF-8")?;
    let content_arg = content
        .path()
        .to_str()
        .context("content path is not UTF-8")?;
    xtask(&["render", "--content", content_arg, "--out", out], &[])?;
    xtask(&["pages", "--out", out], &[])?;
    Ok(site)
}

/// A copy of the built site whose pages allow invites to name `servers` (origins, separated by
/// spaces) besides the site's own, as `SRE_SITE_SERVERS=<servers> trunk build` makes them (the
/// real build step, `cargo xtask pages`, writes the list and the policy).
pub fn rebuilt_with_servers(servers: &str) -> Result<tempfile::TempDir> {
    let site = copy_of(&built_dist()?)?;
    let out = site.path().to_str().context("site path is not UTF-8")?;
    xtask(
        &["pages", "--out", out],
        &[(sre_model::browser_policy::SERVERS_ENV, servers)],
    )?;
    Ok(site)
}

/// The challenge as the site's build step renders it (`cargo xtask render` of content/ into a
/// temporary folder): `challenge/manifest.json`, the starting texts of the editors, fragments.
pub fn rendered_challenge() -> Result<tempfile::TempDir> {
    let out = tempfile::tempdir().context("creating a temporary folder")?;
    let path = out.path().to_str().context("temp path is not UTF-8")?;
    xtask(&["render", "--out", path], &[])?;
    Ok(out)
}

/// Runs `cargo xtask <args>` at the repository root with `env` added.
fn xtask(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let status = std::process::Command::new(env!("CARGO"))
        .arg("xtask")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo_root())
        .status()
        .with_context(|| format!("running cargo xtask {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo xtask {} failed: {status}", args.join(" "));
    }
    Ok(())
}
