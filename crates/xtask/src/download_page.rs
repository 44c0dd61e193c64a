//! The site's `download/` page and files: sre-check's archives from `cargo xtask dist`, the
//! checksums, the install script, and a page that lists them with the visitor's platform first.
//!
//! The page is prerendered like the others but runs without the app (the app has no route for
//! it): a small script of its own (`download/platform.js`: the site's policy allows no inline
//! script) fills in the site's address in the one-liner and moves the build for the visitor's
//! platform (or the one named by `?platform=<target>`) to the top.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sre_markdown::escape_text;
use sre_model::site;

use crate::dist::BUILDS_JSON;

/// What `cargo xtask dist` wrote in `builds.json`.
#[derive(Debug, Deserialize)]
pub struct Builds {
    /// sre-check's version.
    pub version: String,
    /// One archive per platform.
    pub builds: Vec<Build>,
}

/// One platform's archive.
#[derive(Debug, Deserialize)]
pub struct Build {
    /// The Rust target triple.
    pub target: String,
    /// The platform, for people.
    pub label: String,
    /// The archive's file name in `download/`.
    pub file: String,
    /// The archive's size in bytes.
    pub size: u64,
    /// The archive's SHA-256, hex.
    pub sha256: String,
}

/// Copies `built` (the output of `cargo xtask dist`, when there is one) into `out/download/`, and
/// `install.sh` also to `out/install.sh`. Returns what was published.
pub fn publish(built: &Path, out: &Path) -> Result<Option<Builds>> {
    let listing = built.join(BUILDS_JSON);
    if !listing.is_file() {
        eprintln!(
            "xtask pages: warning: no sre-check builds in {} (run `cargo xtask dist`); the \
             download page says none are published",
            built.display()
        );
        return Ok(None);
    }
    let builds: Builds = serde_json::from_str(
        &fs::read_to_string(&listing)
            .with_context(|| format!("cannot read {}", listing.display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not what `cargo xtask dist` writes",
            listing.display()
        )
    })?;
    let download = out.join(site::DOWNLOAD_ROUTE);
    // Archives of an older version must not linger next to the new ones.
    if download.exists() {
        fs::remove_dir_all(&download)
            .with_context(|| format!("cannot remove {}", download.display()))?;
    }
    fs::create_dir_all(&download)?;
    let mut files: Vec<&str> = builds.builds.iter().map(|b| b.file.as_str()).collect();
    files.extend(["SHA256SUMS", "install.sh", BUILDS_JSON]);
    for file in files {
        fs::copy(built.join(file), download.join(file))
            .with_context(|| format!("cannot copy {} from {}", file, built.display()))?;
    }
    fs::copy(built.join("install.sh"), out.join("install.sh")).context("cannot copy install.sh")?;
    Ok(Some(builds))
}

/// The page's script file, in `download/` beside the page.
pub const PLATFORM_SCRIPT_FILE: &str = "platform.js";

/// Writes the page's script into `out/download/`.
pub fn write_script(out: &Path) -> Result<()> {
    let dir = out.join(site::DOWNLOAD_ROUTE);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(PLATFORM_SCRIPT_FILE);
    fs::write(&path, PLATFORM_SCRIPT).with_context(|| format!("cannot write {}", path.display()))
}

/// The page's `<head>`: the template's head without the app (its scripts and preloads).
pub fn static_head(template: &str, title: &str) -> Result<String> {
    let Some(end) = template.find("</head>").or_else(|| template.find("<body")) else {
        bail!("index.html has no head");
    };
    let head = &template[..end];
    let mut kept = String::new();
    let mut rest = head;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..=start + len];
        let name = tag[1..]
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let keep = match name.as_str() {
            "meta" | "base" => true,
            "link" => !tag.contains("preload"),
            _ => false,
        };
        if keep {
            kept.push_str(tag);
        }
        rest = &rest[start + len + 1..];
        // The inline stylesheet, whole: its text is not tags (`>` is a CSS combinator).
        if name == "style" {
            let end = rest
                .find("</style>")
                .map_or(rest.len(), |e| e + "</style>".len());
            kept.push_str(tag);
            kept.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    Ok(format!(
        "<!doctype html><html lang=\"en\"><head>{kept}<title>{}</title></head>",
        escape_text(title)
    ))
}

/// The whole page.
pub fn page(
    template: &str,
    site_title: &str,
    challenge_version: &str,
    builds: Option<&Builds>,
) -> Result<String> {
    let title = format!("Get sre-check — {site_title}");
    let head = static_head(template, &title)?;
    let header = crate::pages::header(site_title);
    let body = match builds {
        Some(builds) => listing(builds, challenge_version),
        None => "<p class=\"status\">No builds of sre-check are published on this site yet. Ask \
                 your contact at the challenge for the build for your platform.</p>"
            .to_owned(),
    };
    Ok(format!(
        "{head}<body><div id=\"{}\">{header}<main id=\"main\" tabindex=\"-1\">\
         <div class=\"page download markdown\"><h1>Get sre-check</h1>\
         <p><code>sre-check</code> runs the machine checks of each topic on your computer, with \
         Docker, and tells you what passes.</p>{body}</div></main></div>\
         <script src=\"{dir}/{PLATFORM_SCRIPT_FILE}\"></script></body></html>",
        site::element::PRERENDERED,
        dir = site::DOWNLOAD_ROUTE,
    ))
}

fn listing(builds: &Builds, challenge_version: &str) -> String {
    let rows: String = builds
        .builds
        .iter()
        .map(|b| {
            format!(
                "<tr data-target=\"{target}\"><td>{label}</td>\
                 <td><a href=\"{dir}/{file}\" download>{file}</a></td>\
                 <td data-size=\"{size}\">{human}</td><td><code class=\"sha256\">{sha}</code></td></tr>",
                target = escape_text(&b.target),
                label = escape_text(&b.label),
                dir = site::DOWNLOAD_ROUTE,
                file = escape_text(&b.file),
                size = b.size,
                human = megabytes(b.size),
                sha = escape_text(&b.sha256),
            )
        })
        .collect();
    format!(
        "<p>Version {version}, for challenge version {challenge}.</p>\
         <h2>Install with one command</h2>\
         <pre><code>curl -fsSL <span class=\"site-url\">https://&lt;this site&gt;</span>/install.sh | sh</code></pre>\
         <p>It picks the build for your system, checks its SHA-256 before unpacking it and installs \
         <code>sre-check</code> into <code>~/.local/bin</code> (set <code>SRE_CHECK_INSTALL_DIR</code> \
         for another folder). Without curl: <code>wget -qO- <span class=\"site-url\">https://&lt;this \
         site&gt;</span>/install.sh | sh</code>. Then:</p>\
         <pre><code>sre-check doctor\nsre-check init sre-challenge\ncd sre-challenge\nsre-check run</code></pre>\
         <h2>Or download a build</h2>\
         <p id=\"platform-hint\" hidden>For your system: <a id=\"platform-file\" href=\"\"></a></p>\
         <table class=\"downloads\"><thead><tr><th>Platform</th><th>File</th><th>Size</th>\
         <th>SHA-256</th></tr></thead><tbody>{rows}</tbody></table>\
         <p>All checksums: <a href=\"{dir}/SHA256SUMS\">SHA256SUMS</a> (check with \
         <code>sha256sum -c --ignore-missing SHA256SUMS</code>, or <code>shasum -a 256</code> on \
         macOS). The install script: <a href=\"{dir}/install.sh\">install.sh</a>.</p>\
         <p>By hand: <code>tar -xzf &lt;file&gt;</code>, then move <code>sre-check</code> to a \
         folder on your <code>PATH</code>. On macOS, a build downloaded with a browser is \
         quarantined: run <code>xattr -d com.apple.quarantine sre-check</code> once (the one-liner \
         does not need it).</p>\
         <p><strong>Windows:</strong> use WSL 2 with Docker Desktop's WSL integration, and install \
         the Linux x86_64 build inside your WSL distribution with the one-liner above.</p>",
        version = escape_text(&builds.version),
        challenge = escape_text(challenge_version),
        dir = site::DOWNLOAD_ROUTE,
    )
}

/// `2.3 MB` (decimal megabytes, as browsers and `ls -h --si` show downloads).
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Fills in the site's address and puts the visitor's build first. Without script the page
/// still lists every build.
const PLATFORM_SCRIPT: &str = r#"(function () {
  var site = new URL(".", document.baseURI).href.replace(/\/$/, "");
  document.querySelectorAll(".site-url").forEach(function (e) { e.textContent = site; });
  function guess() {
    var ua = navigator.userAgent, p = navigator.platform || "";
    var arm = /aarch64|arm64|armv8/i.test(ua + " " + p);
    // Browsers on a Mac report "MacIntel" on Apple silicon too; most Macs in use are Apple silicon.
    if (/Mac/.test(p) || /Mac OS X/.test(ua)) return /Intel Mac OS X 10_(1[0-4]|[0-9])_/.test(ua) ? "x86_64-apple-darwin" : "aarch64-apple-darwin";
    // Windows: the Linux build, in WSL 2.
    return (arm ? "aarch64" : "x86_64") + "-unknown-linux-musl";
  }
  function choose(target) {
    var row = document.querySelector('tr[data-target="' + target + '"]');
    if (!row) return;
    row.parentNode.insertBefore(row, row.parentNode.firstChild);
    row.classList.add("recommended");
    var link = row.querySelector("a"), hint = document.getElementById("platform-file");
    hint.href = link.getAttribute("href");
    hint.textContent = link.textContent + " (" + row.cells[0].textContent + ")";
    document.getElementById("platform-hint").hidden = false;
  }
  var asked = new URLSearchParams(location.search).get("platform");
  if (asked) { choose(asked); return; }
  choose(guess());
  var data = navigator.userAgentData;
  if (data && data.getHighEntropyValues) {
    data.getHighEntropyValues(["architecture"]).then(function (v) {
      var arm = v.architecture === "arm";
      if (data.platform === "macOS") choose(arm ? "aarch64-apple-darwin" : "x86_64-apple-darwin");
      else if (data.platform === "Linux" || data.platform === "Windows") choose((arm ? "aarch64" : "x86_64") + "-unknown-linux-musl");
    }).catch(function () {});
  }
})();"#;

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "<!doctype html><html lang=en><head><meta charset=utf-8>\
        <title>SRE Challenge</title><base href=\"/\">\
        <link rel=\"stylesheet\" href=\"/style-0123456789abcdef.css\">\
        <link rel=\"modulepreload\" href=\"/sre-site-0123456789abcdef.js\">\
        <script type=module>import init from '/app.js';init()</script></head>\
        <body><noscript>JS</noscript></body></html>";

    fn builds() -> Builds {
        Builds {
            version: "0.1.0".to_owned(),
            builds: vec![Build {
                target: "x86_64-unknown-linux-musl".to_owned(),
                label: "Linux x86_64".to_owned(),
                file: "sre-check-0.1.0-x86_64-unknown-linux-musl.tar.gz".to_owned(),
                size: 2_345_678,
                sha256: "ab".repeat(32),
            }],
        }
    }

    #[test]
    fn the_page_keeps_the_style_and_drops_the_app() -> Result<()> {
        let html = page(TEMPLATE, "SRE Challenge", "1.0.0", Some(&builds()))?;
        assert!(html.contains("<link rel=\"stylesheet\" href=\"/style-0123456789abcdef.css\">"));
        assert!(html.contains("<base href=\"/\">"));
        assert!(!html.contains("modulepreload"));
        assert!(!html.contains("app.js"));
        assert!(html.contains("<title>Get sre-check — SRE Challenge</title>"));
        assert!(html.contains(
            "<a href=\"download/sre-check-0.1.0-x86_64-unknown-linux-musl.tar.gz\" download>"
        ));
        assert!(html.contains("<td data-size=\"2345678\">2.3 MB</td>"));
        assert!(html.contains(&"ab".repeat(32)));
        assert!(html.contains("for challenge version 1.0.0"));
        assert!(html.contains("WSL 2"));
        // The stylesheet the pages carry inline stays, text and all.
        let inline = TEMPLATE.replace(
            "<link rel=\"stylesheet\" href=\"/style-0123456789abcdef.css\">",
            "<style>main>h1{color:red}</style>",
        );
        let html = page(&inline, "SRE Challenge", "1.0.0", Some(&builds()))?;
        assert!(
            html.contains("<style>main>h1{color:red}</style><title>"),
            "{html}"
        );
        Ok(())
    }

    #[test]
    fn without_builds_the_page_says_so() -> Result<()> {
        let html = page(TEMPLATE, "SRE Challenge", "1.0.0", None)?;
        assert!(html.contains("No builds of sre-check are published"));
        Ok(())
    }
}
