//! The site's stylesheet inline in every page. Linked, it is a second request after the page:
//! on a 40 ms link the first heading waited for both. Inline (2.5 KB gzip, less than one round
//! trip at 10 Mbit/s) the page shows once its HTML is in.
//!
//! The Content-Security-Policy allows no inline style but this one, by its SHA-256 digest
//! ([`sre_model::browser_policy::content_security_policy`]); sre-intake reads the digest from the
//! page's policy for its header.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::html;

/// A page with its stylesheets inline.
#[derive(Debug, PartialEq)]
pub struct Inlined {
    /// The page.
    pub page: String,
    /// The base64 SHA-256 digests of its `<style>` elements, for the policy.
    pub digests: Vec<String>,
    /// The stylesheets now inline, which no page requests any more.
    pub files: Vec<String>,
}

/// `template` with each stylesheet it links from the built site in `out` written inline (a page
/// inlined by an earlier run keeps its `<style>`, and its digest is computed again).
pub fn inlined(template: &str, out: &Path) -> Result<Inlined> {
    let mut page = String::with_capacity(template.len());
    let mut files = Vec::new();
    let mut copied = 0;
    for tag in html::tags(template) {
        let rel = html::attribute(tag.attributes, "rel").unwrap_or_default();
        let href = html::attribute(tag.attributes, "href").unwrap_or_default();
        if tag.name != "link" || !rel.eq_ignore_ascii_case("stylesheet") {
            continue;
        }
        let Some(file) = href.strip_prefix('/').filter(|f| is_local_file(f)) else {
            continue;
        };
        let path = out.join(file);
        let css = fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}, which index.html links", path.display()))?;
        if css.to_ascii_lowercase().contains("</style") {
            bail!(
                "{} contains `</style`, which would end the inline <style> early",
                path.display()
            );
        }
        page.push_str(&template[copied..tag.span.start]);
        page.push_str(&format!("<style>{css}</style>"));
        copied = tag.span.end;
        files.push(file.to_owned());
    }
    page.push_str(&template[copied..]);
    let digests = style_texts(&page).map(digest).collect();
    Ok(Inlined {
        page,
        digests,
        files,
    })
}

/// A file name in the site's root (Trunk's `style-<hash>.css`), not a path or another origin.
fn is_local_file(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', ':', '?', '#']) && !name.starts_with('.')
}

/// The text of each `<style>` element.
fn style_texts(page: &str) -> impl Iterator<Item = &str> {
    html::tags(page)
        .filter(|t| t.name == "style")
        .filter_map(|t| {
            let text = &page[t.span.end..];
            text.find("</style>").map(|end| &text[..end])
        })
}

/// The digest a Content-Security-Policy names an inline style by: base64 of its SHA-256.
fn digest(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linked_stylesheet_goes_inline_with_its_digest() -> Result<()> {
        let out = tempfile::tempdir()?;
        fs::write(out.path().join("style-1.css"), "h1>a{color:red}")?;
        let template = "<head><link href=/favicon.svg rel=icon>\
            <link href=/style-1.css integrity=sha384-x rel=stylesheet><title>T</title></head>";
        let Inlined {
            page,
            digests,
            files,
        } = inlined(template, out.path())?;
        assert_eq!(files, ["style-1.css"]);
        assert_eq!(
            page,
            "<head><link href=/favicon.svg rel=icon><style>h1>a{color:red}</style>\
             <title>T</title></head>"
        );
        // `printf 'h1>a{color:red}' | openssl dgst -sha256 -binary | base64`
        assert_eq!(digests, ["IzJ/Pen3oCfxKcU1X+9W7Wq863PucoEI7tBPC0hxJeg="]);
        // Run again on the page it wrote: nothing to inline, the same digest.
        let again = inlined(&page, out.path())?;
        assert_eq!((again.page, again.digests), (page, digests));
        assert!(again.files.is_empty());
        Ok(())
    }

    #[test]
    fn only_the_sites_own_files_go_inline() -> Result<()> {
        let out = tempfile::tempdir()?;
        let template = "<link rel=stylesheet href=https://cdn.example/x.css>\
            <link rel=stylesheet href=/../secret.css><title>T</title>";
        assert_eq!(
            inlined(template, out.path())?,
            Inlined {
                page: template.to_owned(),
                digests: Vec::new(),
                files: Vec::new(),
            }
        );
        let missing = inlined("<link rel=stylesheet href=/style-2.css>", out.path());
        assert!(missing.unwrap_err().to_string().contains("style-2.css"));
        fs::write(
            out.path().join("style-3.css"),
            "p{}</STYLE><script>x()</script>",
        )?;
        let closing = inlined("<link rel=stylesheet href=/style-3.css>", out.path());
        assert!(closing.unwrap_err().to_string().contains("</style"));
        Ok(())
    }
}
