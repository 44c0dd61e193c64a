//! `cargo xtask bench-size`: what a candidate downloads to see each page.
//!
//! A page's first load is what the browser fetches before the page's `load` event: its HTML file
//! (`index.html`, `topic/iac/index.html`…, which carries the manifest and the page's readme
//! fragment prerendered, see `cargo xtask pages`) and the files of dist/ its tags request
//! (stylesheets, icons, preloads, scripts). A page built without `cargo xtask pages` fetches the
//! manifest and the README fragment too; they are counted then. The reading app (its JS and
//! wasm, which `boot.js` starts once the page has loaded) is listed apart, and so is what loads
//! later still: the editing app (`sre-edit.js`, `sre-edit_bg.wasm`, which the reading app adds
//! once it runs), the preview worker, the reviewer's app. The last table adds up what a candidate
//! downloads to read a topic and type an answer. Sizes are gzip level 9 (zlib-rs; within 0.5% of
//! `gzip -9 -n`), what a static server with compression sends.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use sre_model::{TopicId, site};

use crate::html::{self, Tag, tags};

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

/// What to fail on.
#[derive(Debug, Default, Clone, Copy)]
pub struct Budgets {
    /// The first load's wasm, gzipped.
    pub wasm_gzip: Option<u64>,
    /// The whole first load of any page, gzipped.
    pub first_load_gzip: Option<u64>,
}

/// Prints the home page's first load file by file, every page's total, the reading app, what
/// loads later, and what reading a topic and typing an answer costs; exits 1 when a budget is
/// exceeded.
pub fn bench_size(dist: &Path, budgets: Budgets) -> Result<ExitCode> {
    let files = first_load(dist, "index.html")?;
    let app = reading_app(dist, "index.html")?;
    let wasm = app
        .iter()
        .chain(&files)
        .find(|f| f.path.ends_with(".wasm"))
        .with_context(|| {
            format!(
                "{}/index.html starts no .wasm file: is it a Trunk build of the site?",
                dist.display()
            )
        })?;

    table("first load (home page)", &files);
    let (_, gzip) = totals(&files);
    println!(
        "reading app wasm: {} raw {:.1} KiB, gzip {:.1} KiB; first load gzip {:.1} KiB",
        wasm.path,
        kib(wasm.raw),
        kib(wasm.gzip),
        kib(gzip)
    );

    println!(
        "\n{:<44} {:>10} {:>10}",
        "first load per page", "raw", "gzip -9"
    );
    let mut heaviest = 0;
    for page in page_files(dist) {
        let (raw, gzip) = totals(&first_load(dist, &page)?);
        heaviest = heaviest.max(gzip);
        println!("{page:<44} {raw:>10} {gzip:>10}");
    }

    println!();
    table("reading app (started after the load event)", &app);
    println!();
    let later = loaded_later(dist)?;
    table("loaded later (named by no page)", &later);

    let mut topics = Vec::new();
    for page in page_files(dist)
        .into_iter()
        .filter(|p| p.starts_with("topic/"))
    {
        let (_, gzip) = totals(&first_load(dist, &page)?);
        topics.push((gzip, page));
    }
    // The heaviest topic page: the most a candidate downloads for this.
    if let Some((_, topic)) = topics.into_iter().max() {
        let mut to_answer = first_load(dist, &topic)?;
        to_answer.extend(reading_app(dist, &topic)?);
        to_answer.extend(
            later
                .into_iter()
                .filter(|f| EDITING_APP.contains(&f.path.as_str())),
        );
        println!();
        table(&format!("to read {topic} and type an answer"), &to_answer);
    }

    let mut code = ExitCode::SUCCESS;
    if let Some(budget) = budgets.wasm_gzip.filter(|b| wasm.gzip > *b) {
        eprintln!(
            "wasm gzip {} bytes is over the budget of {budget} bytes",
            wasm.gzip
        );
        code = ExitCode::from(1);
    }
    if let Some(budget) = budgets.first_load_gzip.filter(|b| heaviest > *b) {
        eprintln!("a first load of {heaviest} bytes gzip is over the budget of {budget} bytes");
        code = ExitCode::from(1);
    }
    Ok(code)
}

/// The page files of the site that exist in `dist`: home, each topic (every folder under
/// `topic/`, so whatever topics the manifest lists), answers, results.
fn page_files(dist: &Path) -> Vec<String> {
    let mut topics: Vec<String> = std::fs::read_dir(dist.join("topic"))
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.parse::<TopicId>().ok())
        .map(|id| site::topic_route(&id))
        .collect();
    topics.sort();
    let routes = [site::HOME_ROUTE.to_owned()]
        .into_iter()
        .chain(topics)
        .chain([
            site::ANSWERS_ROUTE.to_owned(),
            site::RESULTS_ROUTE.to_owned(),
        ]);
    routes
        .map(|route| site::page_file(&route))
        .filter(|page| dist.join(page).is_file())
        .collect()
}

/// The editing app's files, which the reading app adds to the page (`src/parts.rs`).
const EDITING_APP: [&str; 2] = ["sre-edit.js", "sre-edit_bg.wasm"];

/// The files of dist/'s top folder a page asks for: `during` its load (what its tags request) and
/// `after` it (the reading app that `boot.js` starts, named by its script's `data-js` and
/// `data-wasm`). Trunk writes references with the public URL before the name (`/app-1.js`,
/// `/challenge/app-1.js`); a name in text or a comment is not a request.
#[derive(Debug, Default, PartialEq)]
struct Requests {
    during: Vec<String>,
    after: Vec<String>,
}

fn requests(html: &str, top: &[String]) -> Requests {
    let file = |url: &str| {
        let name = url.rsplit('/').next().unwrap_or_default();
        top.iter().find(|t| *t == name).cloned()
    };
    let html = html::without_comments(html);
    let mut found = Requests::default();
    for Tag {
        name: tag,
        attributes,
        ..
    } in tags(&html)
    {
        let rel = html::attribute(attributes, "rel").unwrap_or_default();
        let fetched = match tag.as_str() {
            "link"
                if ["stylesheet", "icon", "preload", "modulepreload"]
                    .iter()
                    .any(|r| rel.split_ascii_whitespace().any(|w| w == *r)) =>
            {
                html::attribute(attributes, "href")
            }
            "script" | "img" => html::attribute(attributes, "src"),
            _ => None,
        };
        found.during.extend(fetched.and_then(file));
        if tag == "script" && html::attribute(attributes, "data-wasm-app").is_some() {
            for name in ["data-js", "data-wasm"] {
                found
                    .after
                    .extend(html::attribute(attributes, name).and_then(file));
            }
        }
    }
    found.during.sort();
    found.during.dedup();
    found.after.retain(|f| !found.during.contains(f));
    found
}

fn page_requests(dist: &Path, page: &str) -> Result<Requests> {
    let index = dist.join(page);
    let html = fs::read_to_string(&index).with_context(|| {
        format!(
            "cannot read {}: build the site first with `trunk build --release`",
            index.display()
        )
    })?;
    let mut top = top_files(dist)?;
    top.retain(|name| name != "index.html");
    let mut found = requests(&html, &top);
    if !html.contains(&format!("id=\"{}\"", site::element::PRERENDERED)) {
        found.during.extend([
            site::MANIFEST_JSON.to_owned(),
            site::README_FRAGMENT.to_owned(),
        ]);
    }
    Ok(found)
}

/// The files of the first load of `page` (a page file, e.g. `index.html`) with their sizes,
/// the page first.
pub fn first_load(dist: &Path, page: &str) -> Result<Vec<FileSize>> {
    let found = page_requests(dist, page)?;
    std::iter::once(page.to_owned())
        .chain(found.during)
        .map(|path| size(dist, path))
        .collect()
}

/// The reading app `page` starts once it has loaded, with sizes.
pub fn reading_app(dist: &Path, page: &str) -> Result<Vec<FileSize>> {
    let found = page_requests(dist, page)?;
    found
        .after
        .into_iter()
        .map(|path| size(dist, path))
        .collect()
}

fn table(title: &str, files: &[FileSize]) {
    println!("{title:<44} {:>10} {:>10}", "raw", "gzip -9");
    for f in files {
        println!("{:<44} {:>10} {:>10}", f.path, f.raw, f.gzip);
    }
    let (raw, gzip) = totals(files);
    println!("{:<44} {raw:>10} {gzip:>10}", "total");
}

/// The scripts, wasm and stylesheets of dist/'s top folder that no page asks for, during or after
/// its load: what the apps load later, when they need it.
pub fn loaded_later(dist: &Path) -> Result<Vec<FileSize>> {
    let mut named = Vec::new();
    for page in page_files(dist) {
        let found = page_requests(dist, &page)?;
        named.extend(found.during);
        named.extend(found.after);
    }
    let mut later: Vec<String> = top_files(dist)?
        .into_iter()
        .filter(|name| {
            [".js", ".wasm", ".css"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .filter(|name| !named.contains(name))
        .collect();
    later.sort();
    later.into_iter().map(|path| size(dist, path)).collect()
}

/// The names of the files in dist/'s top folder.
fn top_files(dist: &Path) -> Result<Vec<String>> {
    Ok(fs::read_dir(dist)
        .with_context(|| format!("cannot list {}", dist.display()))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            entry.file_type().ok()?.is_file().then_some(name)
        })
        .collect())
}

fn size(dist: &Path, path: String) -> Result<FileSize> {
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
}

fn totals(files: &[FileSize]) -> (u64, u64) {
    (
        files.iter().map(|f| f.raw).sum(),
        files.iter().map(|f| f.gzip).sum(),
    )
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
    fn counts_what_a_page_requests_and_what_it_starts_after_loading() -> Result<()> {
        let dist = tempfile::tempdir()?;
        let d = dist.path();
        fs::write(
            d.join("index.html"),
            "<link rel=stylesheet href=\"/style-2.css\"><link rel=icon href=/icon.svg>\
             <script type=module src=/boot.js data-wasm-app data-js=/app-1.js \
             data-wasm='/app-1_bg.wasm'></script><p>curl /install.sh | sh</p>",
        )?;
        fs::write(d.join("boot.js"), "start")?;
        fs::write(d.join("icon.svg"), "<svg/>")?;
        fs::write(d.join("install.sh"), "#!/bin/sh")?;
        fs::write(d.join("app-1.js"), "x".repeat(1000))?;
        fs::write(d.join("app-1_bg.wasm"), [0u8; 5000])?;
        fs::write(d.join("style-2.css"), "body{}")?;
        fs::write(d.join("worker_bg.wasm"), [1u8; 100])?;
        fs::write(d.join("sre-edit.js"), "x")?;
        fs::create_dir(d.join("challenge"))?;
        fs::write(d.join(site::MANIFEST_JSON), "{}")?;
        fs::write(d.join(site::README_FRAGMENT), "<h1>x</h1>")?;

        let files = first_load(d, "index.html")?;
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        // A name in text (install.sh) is no request; the app starts after the load event.
        assert_eq!(
            names,
            [
                "index.html",
                "boot.js",
                "icon.svg",
                "style-2.css",
                "challenge/manifest.json",
                "challenge/readme.html"
            ]
        );
        let app = reading_app(d, "index.html")?;
        let names: Vec<&str> = app.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["app-1.js", "app-1_bg.wasm"]);
        assert_eq!(app[1].raw, 5000);
        assert!(app[1].gzip < 100, "zeros compress well: {}", app[1].gzip);
        let budget = |wasm, total| Budgets {
            wasm_gzip: Some(wasm),
            first_load_gzip: Some(total),
        };
        assert_eq!(bench_size(d, budget(10, 100_000))?, ExitCode::from(1));
        assert_eq!(bench_size(d, budget(10_000, 10))?, ExitCode::from(1));
        assert_eq!(bench_size(d, budget(10_000, 100_000))?, ExitCode::SUCCESS);
        let later: Vec<String> = loaded_later(d)?.into_iter().map(|f| f.path).collect();
        assert_eq!(later, ["sre-edit.js", "worker_bg.wasm"]);

        // A prerendered page carries both: nothing more to fetch. A preloaded app is part of the
        // first load.
        fs::create_dir_all(d.join("topic/iac"))?;
        fs::write(
            d.join("topic/iac/index.html"),
            "<!-- <script src=/sre-edit.js> --><link rel=modulepreload href=/app-1.js>\
             <script src=\"/boot.js\" data-wasm-app data-js=/app-1.js data-wasm=/app-1_bg.wasm>\
             </script><div id=\"prerendered\"><h1>x</h1></div>",
        )?;
        let names: Vec<String> = first_load(d, "topic/iac/index.html")?
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(names, ["topic/iac/index.html", "app-1.js", "boot.js"]);
        let app: Vec<String> = reading_app(d, "topic/iac/index.html")?
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(app, ["app-1_bg.wasm"]);
        assert_eq!(page_files(d), ["index.html", "topic/iac/index.html"]);
        Ok(())
    }

    #[test]
    fn without_a_build_it_says_what_to_run() {
        let dist = tempfile::tempdir().expect("temp dir");
        let err = first_load(dist.path(), "index.html").expect_err("no index.html");
        assert!(err.to_string().contains("trunk build --release"), "{err}");
    }
}
