//! `cargo xtask`: project tasks.
//!
//! - `render`: the site's build step (run by Trunk's pre-build hook): content → manifest JSON,
//!   HTML fragments and published files.
//! - `pages`: the site's post-build step: one prerendered HTML file per page.
//! - `bench-size`: what the built site weighs, raw and gzipped.
//! - `gen-content`: the challenge's generated files (images), byte-for-byte reproducible.
//! - `dist`: sre-check's release builds for candidates, with checksums and the install script.

mod bench_size;
mod dist;
mod download_page;
mod gen_content;
mod html;
mod inline_style;
mod pages;
mod policy_meta;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project tasks of the SRE Challenge.
#[derive(Parser)]
#[command(name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Render content/ for the site (Trunk's pre-build hook runs it).
    ///
    /// Validates challenge.toml (and that every file it names exists), writes
    /// OUT/challenge/manifest.json, the readmes as HTML fragments (OUT/challenge/readme.html,
    /// OUT/challenge/topics/<id>.html) and copies the published files to OUT/content/<path>.
    /// OUT/challenge and OUT/content are replaced. The output is deterministic.
    ///
    /// Trunk runs it before every build (Trunk.toml) with OUT = its staging folder, so all of it
    /// lands in dist/.
    Render {
        /// The challenge content folder (holds challenge.toml) [default: <repo>/content].
        #[arg(long)]
        content: Option<PathBuf>,
        /// Output folder; Trunk's staging folder when run as a Trunk hook
        /// [default: <repo>/target/site-content].
        #[arg(long, env = "TRUNK_STAGING_DIR")]
        out: Option<PathBuf>,
    },
    /// Write one HTML file per page of the site (Trunk's post-build hook runs it).
    ///
    /// Each is OUT/index.html (Trunk's page) with the page's title, the manifest and starting
    /// texts as inline JSON, and the page prerendered: OUT/index.html (home),
    /// OUT/topic/<id>/index.html, OUT/answers/index.html, OUT/results/index.html. Needs `render`'s
    /// output in OUT. Also publishes sre-check's builds (`cargo xtask dist`'s output) in
    /// OUT/download/ with their page, OUT/download/index.html, and OUT/install.sh.
    Pages {
        /// The built site; Trunk's staging folder when run as a Trunk hook.
        #[arg(long, env = "TRUNK_STAGING_DIR")]
        out: PathBuf,
        /// sre-check's builds [default: $XDG_CACHE_HOME/sre-challenge/dist/download, where `dist` writes them].
        #[arg(long)]
        builds: Option<PathBuf>,
    },
    /// Print the size of the built site: the wasm, and each page's whole first load.
    ///
    /// Run `trunk build --release` first. Prints the wasm raw and gzipped (level 9), every file
    /// of the home page's first load (index.html and what it names: JS, wasm, CSS, favicon; the
    /// manifest JSON and the README fragment when the page is not prerendered) with the total,
    /// each page's total, and the files loaded later (the editing app, the preview worker).
    BenchSize {
        /// The built site [default: <repo>/dist].
        #[arg(long)]
        dist: Option<PathBuf>,
        /// Fail (exit 1) when the wasm, gzipped, is larger than this many bytes.
        #[arg(long, value_name = "BYTES")]
        wasm_gzip_budget: Option<u64>,
        /// Fail (exit 1) when a page's first load, gzipped, is larger than this many bytes.
        #[arg(long, value_name = "BYTES")]
        first_load_gzip_budget: Option<u64>,
    },
    /// Build sre-check for every published platform into OUT/download (skipped when unchanged).
    ///
    /// Cross-compiles with `cargo zigbuild` (scripts/setup installs it) for Linux x86_64 and arm64
    /// (static, musl) and macOS x86_64 and arm64, and writes `sre-check-<version>-<target>.tar.gz`,
    /// `SHA256SUMS`, `builds.json` and `install.sh`. When sre-check's sources, the content, the
    /// lock file and the toolchain are unchanged since the last build, nothing is rebuilt.
    /// `cargo xtask pages` copies the result into the site's `download/`.
    Dist {
        /// Output folder [default: $XDG_CACHE_HOME/sre-challenge/dist, shared by every checkout].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Build even when the inputs are unchanged.
        #[arg(long)]
        force: bool,
    },
    /// Generate the challenge's images into content/ (deterministic; `--check` only compares).
    GenContent(gen_content::Args),
}

fn main() -> ExitCode {
    match try_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn try_main() -> anyhow::Result<ExitCode> {
    match Cli::parse().task {
        Task::Render { content, out } => {
            let content = content.unwrap_or_else(|| repo_root().join("content"));
            let out = out.unwrap_or_else(|| repo_root().join("target/site-content"));
            render::render(&content, &out)?;
            Ok(ExitCode::SUCCESS)
        }
        Task::Pages { out, builds } => {
            let builds = builds.unwrap_or_else(|| dist_out().join("download"));
            pages::pages(&out, &builds)?;
            Ok(ExitCode::SUCCESS)
        }
        Task::BenchSize {
            dist,
            wasm_gzip_budget,
            first_load_gzip_budget,
        } => {
            let dist = dist.unwrap_or_else(|| repo_root().join("dist"));
            let budgets = bench_size::Budgets {
                wasm_gzip: wasm_gzip_budget,
                first_load_gzip: first_load_gzip_budget,
            };
            bench_size::bench_size(&dist, budgets)
        }
        Task::Dist { out, force } => {
            let root = repo_root();
            let out = out.unwrap_or_else(dist_out);
            dist::dist(&root, &out, force)?;
            Ok(ExitCode::SUCCESS)
        }
        Task::GenContent(args) => {
            gen_content::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where `dist` writes and `pages` reads sre-check's builds by default:
/// `$XDG_CACHE_HOME/sre-challenge/dist` (`~/.cache/…`), not the checkout's `target/`. Another
/// checkout on the same machine (CI's fresh clone) then finds the builds up to date when their
/// inputs are the same, and the cross-compiled dependencies when they are not.
fn dist_out() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| repo_root().join("target"));
    cache.join("sre-challenge/dist")
}

/// The repository root, so that the defaults work from any directory.
fn repo_root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask
        .ancestors()
        .nth(2)
        .map_or_else(|| xtask.clone(), PathBuf::from)
}
