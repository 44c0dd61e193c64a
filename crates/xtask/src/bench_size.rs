//! `cargo xtask bench-size`: what a candidate downloads to see the home page.
//!
//! The first load is `index.html`, which carries the manifest and the README prerendered (see
//! `cargo xtask pages`), and every file of dist/ that it names (Trunk's JS loader, the wasm, CSS,
//! favicon). A page built without those (no `cargo xtask pages`) fetches the manifest and the
//! README fragment too; they are counted then. Files index.html does not name (topic fragments,
//! the preview worker's wasm) are loaded later and not counted. Sizes are gzip level 9 (zlib-rs; within 0.5% of `gzip -9 -n`), what a static
//! server with compression sends.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use sre_model::site;

/// One file of the first load.
#[derive(Debug, PartialEq)]
pub struct FileSize {
    /// Path relative to dist/.
    pub path: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes gzipped at level 9.
    pub gzip: u64,
}

/// Prints the size table; exits 1 when `wasm_gzip_budget` is given and exceeded.
pub fn bench_size(dist: &Path, wasm_gzip_budget: Option<u64>) -> Result<ExitCode> {
    let files = first_load(dist)?;
    let wasm = files
        .iter()
        .find(|f| f.path.ends_with(".wasm"))
        .with_context(|| {
            format!(
                "{}/index.html names no .wasm file: is it a Trunk build of the site?",
                dist.display()
            )
        })?;

    println!("{:<44} {:>10} {:>10}", "first load", "raw", "gzip -9");
    for f in &files {
        println!("{:<44} {:>10} {:>10}", f.path, f.raw, f.gzip);
    }
    let raw: u64 = files.iter().map(|f| f.raw).sum();
    let gzip: u64 = files.iter().map(|f| f.gzip).sum();
    println!("{:<44} {:>10} {:>10}", "total", raw, gzip);
    println!(
        "wasm: {} raw {:.1} KiB, gzip {:.1} KiB; first load gzip {:.1} KiB",
        wasm.path,
        kib(wasm.raw),
        kib(wasm.gzip),
        kib(gzip)
    );
    match wasm_gzip_budget {
        Some(budget) if wasm.gzip > budget => {
            eprintln!(
                "wasm gzip {} bytes is over the budget of {budget} bytes",
                wasm.gzip
            );
            Ok(ExitCode::from(1))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The files of the first load with their sizes, index.html first.
pub fn first_load(dist: &Path) -> Result<Vec<FileSize>> {
    let index = dist.join("index.html");
    let html = fs::read_to_string(&index).with_context(|| {
        format!(
            "cannot read {}: build the site first with `trunk build --release`",
            index.display()
        )
    })?;
    let mut paths = vec!["index.html".to_owned()];
    let mut assets: Vec<String> = fs::read_dir(dist)
        .with_context(|| format!("cannot list {}", dist.display()))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let is_file = entry.file_type().ok()?.is_file();
            (is_file && name != "index.html" && html.contains(&name)).then_some(name)
        })
        .collect();
    assets.sort();
    paths.extend(assets);
    if !html.contains(&format!("id=\"{}\"", site::element::PRERENDERED)) {
        paths.extend([
            site::MANIFEST_JSON.to_owned(),
            site::README_FRAGMENT.to_owned(),
        ]);
    }

    paths
        .into_iter()
        .map(|path| {
            let full = dist.join(&path);
            let bytes = fs::read(&full).with_context(|| {
                format!(
                    "cannot read {}: was dist/ built with the render hook (Trunk.toml)?",
                    full.display()
                )
            })?;
            Ok(FileSize {
                raw: bytes.len() as u64,
                gzip: gzip_len(&bytes)?,
                path,
            })
        })
        .collect()
}

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).context("gzip")?;
    let compressed = encoder.finish().context("gzip")?;
    if compressed.is_empty() {
        bail!("gzip produced nothing");
    }
    Ok(compressed.len() as u64)
}

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_index_html_names_and_the_home_fetches() -> Result<()> {
        let dist = tempfile::tempdir()?;
        let d = dist.path();
        fs::write(
            d.join("index.html"),
            "<script type=module>import init from '/app-1.js';init('/app-1_bg.wasm')</script>\
             <link rel=stylesheet href=\"/style-2.css\">",
        )?;
        fs::write(d.join("app-1.js"), "x".repeat(1000))?;
        fs::write(d.join("app-1_bg.wasm"), [0u8; 5000])?;
        fs::write(d.join("style-2.css"), "body{}")?;
        fs::write(d.join("worker_bg.wasm"), [1u8; 100])?;
        fs::create_dir(d.join("challenge"))?;
        fs::write(d.join(site::MANIFEST_JSON), "{}")?;
        fs::write(d.join(site::README_FRAGMENT), "<h1>x</h1>")?;

        let files = first_load(d)?;
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "index.html",
                "app-1.js",
                "app-1_bg.wasm",
                "style-2.css",
                "challenge/manifest.json",
                "challenge/readme.html"
            ]
        );
        let wasm = &files[2];
        assert_eq!(wasm.raw, 5000);
        assert!(wasm.gzip < 100, "zeros compress well: {}", wasm.gzip);
        assert_eq!(bench_size(d, Some(10))?, ExitCode::from(1));
        assert_eq!(bench_size(d, Some(10_000))?, ExitCode::SUCCESS);

        // A prerendered page carries both: nothing more to fetch.
        fs::write(
            d.join("index.html"),
            "<script src=\"/app-1.js\"></script><div id=\"prerendered\"><h1>x</h1></div>",
        )?;
        let names: Vec<String> = first_load(d)?.into_iter().map(|f| f.path).collect();
        assert_eq!(names, ["index.html", "app-1.js"]);
        Ok(())
    }

    #[test]
    fn without_a_build_it_says_what_to_run() {
        let dist = tempfile::tempdir().expect("temp dir");
        let err = first_load(dist.path()).expect_err("no index.html");
        assert!(err.to_string().contains("trunk build --release"), "{err}");
    }
}
