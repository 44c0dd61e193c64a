//! The site's Content-Security-Policy in every page, as a `<meta http-equiv>`: a static host
//! sends no headers, and the pages must be as strict there as behind sre-intake, which sends the
//! same policy as a header (`sre_model::browser_policy`). A `<meta>` cannot carry
//! `frame-ancestors`: only a server's header keeps the site out of frames.
//!
//! With it, `<meta name="referrer" content="no-referrer">`. The servers an invite may name besides the site's own origin (`SRE_SITE_SERVERS` at build
//! time) go in with it, as `<meta name="sre-servers">`: the site reads them there, and they are
//! the policy's `connect-src`.
//!
//! The policy allows no inline script, so a page Trunk wrote with one (its default loader, an
//! inline module) is refused here rather than shipped broken.

use anyhow::{Result, bail};
use sre_model::browser_policy::{self, POLICY_META_START, SERVERS_META};

/// What a build writes into the pages.
#[derive(Debug, Default)]
pub struct PagePolicy {
    /// The servers an invite may name besides the site's own origin (`SRE_SITE_SERVERS`).
    pub servers: Vec<String>,
    /// Whether to write the Content-Security-Policy (not in Trunk's debug builds).
    pub enforce: bool,
    /// The base64 SHA-256 digests of the page's inline stylesheets (see `inline_style`).
    pub style_hashes: Vec<String>,
}

impl PagePolicy {
    /// From the environment of the build: `SRE_SITE_SERVERS` (refused when an entry is not an
    /// origin); no policy in Trunk's debug builds (`trunk serve` adds its live-reload script
    /// inline), a policy in release builds and when run by hand.
    pub fn from_env() -> Result<PagePolicy> {
        let servers = std::env::var(browser_policy::SERVERS_ENV).unwrap_or_default();
        let servers = browser_policy::parse_servers(&servers)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        let enforce = !std::env::var("TRUNK_PROFILE").is_ok_and(|p| p == "debug");
        if !enforce {
            eprintln!(
                "xtask pages: debug build, no Content-Security-Policy <meta> (Trunk's live \
                 reload is an inline script); release builds get one"
            );
        }
        Ok(PagePolicy {
            servers,
            enforce,
            style_hashes: Vec::new(),
        })
    }
}

/// No address leaves the site in a `Referer` (an invite link carries a token); unlike
/// `frame-ancestors`, a `<meta>` can say this.
const REFERRER: &str = "<meta name=\"referrer\" content=\"no-referrer\">";

/// `page` with the policy's, the referrer policy's and the allowed servers' `<meta>` as its first
/// elements that matter
/// (before any title, base, link, style or script), in place of those an earlier run wrote.
/// Fails when the policy is enforced and the page has an inline script, which it would block.
pub fn with_policy(page: &str, policy: &PagePolicy) -> Result<String> {
    let servers_start = format!("<meta name=\"{SERVERS_META}\" content=\"");
    let page = without(
        &without(&without(page, POLICY_META_START), &servers_start),
        REFERRER,
    );
    let servers: Vec<&str> = policy.servers.iter().map(String::as_str).collect();
    let styles: Vec<&str> = policy.style_hashes.iter().map(String::as_str).collect();
    let mut head = format!("{REFERRER}{}", browser_policy::servers_meta(&servers));
    if policy.enforce {
        if let Some(script) = inline_script(&page) {
            bail!(
                "index.html has an inline script ({script}…), which the site's \
                 Content-Security-Policy blocks: Trunk's loader must be a file (Trunk.toml's \
                 pattern_script loads boot.js)"
            );
        }
        // The policy is fixed text and origins: no `"` or `<` to escape.
        head = format!(
            "{POLICY_META_START}{}\">{head}",
            browser_policy::content_security_policy(&servers, &styles)
        );
    }
    let body = page.find("<body").unwrap_or(page.len());
    let Some(at) = ["<title", "<base", "<link", "<style", "<script"]
        .iter()
        .filter_map(|tag| page.find(tag))
        .min()
        .filter(|&at| at < body)
    else {
        bail!("index.html has no <title> in its head to put the Content-Security-Policy before");
    };
    Ok(format!("{}{head}{}", &page[..at], &page[at..]))
}

/// `page` without the element that starts with `start`.
fn without(page: &str, start: &str) -> String {
    match page.find(start) {
        Some(at) => match page[at..].find('>') {
            Some(end) => format!("{}{}", &page[..at], &page[at + end + 1..]),
            None => page.to_owned(),
        },
        None => page.to_owned(),
    }
}

/// The start of the first `<script>` that runs its own text: no `src`, and not a data block
/// (`type="application/json"`).
fn inline_script(page: &str) -> Option<String> {
    page.match_indices("<script").find_map(|(at, _)| {
        let tag = &page[at..at + page[at..].find('>')? + 1];
        let attribute = |name: &str| {
            tag.split(|c: char| c.is_whitespace() || c == '>')
                .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
                .map(|v| v.trim_matches(['"', '\'']))
        };
        let data = attribute("type").is_some_and(|t| t.eq_ignore_ascii_case("application/json"));
        (attribute("src").is_none() && !data).then(|| page[at..].chars().take(60).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "<!doctype html><html lang=en><meta charset=utf-8><title>T</title>\
        <base href=/><script type=module src=/boot.js data-wasm-app data-js=/app-1.js></script>\
        </head><body><script type=\"application/json\" id=m>{}</script></body></html>";

    fn enforced(servers: &[&str]) -> PagePolicy {
        PagePolicy {
            servers: servers.iter().map(|s| (*s).to_owned()).collect(),
            enforce: true,
            style_hashes: Vec::new(),
        }
    }

    #[test]
    fn the_policy_goes_before_anything_it_governs_and_replaces_an_earlier_one() -> Result<()> {
        let page = with_policy(CLEAN, &enforced(&["https://intake.example.com"]))?;
        let policy = browser_policy::content_security_policy(&["https://intake.example.com"], &[]);
        assert_eq!(
            page,
            CLEAN.replace(
                "<title>",
                &format!(
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
                     <meta name=\"referrer\" content=\"no-referrer\">\
                     <meta name=\"sre-servers\" content=\"https://intake.example.com\"><title>"
                )
            )
        );
        let again = with_policy(&page, &enforced(&[]))?;
        assert_eq!(again.matches("Content-Security-Policy").count(), 1);
        assert_eq!(again.matches("sre-servers").count(), 1);
        assert!(again.contains("connect-src 'self';"), "{again}");
        assert_eq!(again.matches("no-referrer").count(), 1);
        assert!(again.contains("<meta name=\"sre-servers\" content=\"\"><title>"));
        let debug = with_policy(&page, &PagePolicy::default())?;
        assert_eq!(
            debug,
            CLEAN.replace(
                "<title>",
                "<meta name=\"referrer\" content=\"no-referrer\">\
                 <meta name=\"sre-servers\" content=\"\"><title>"
            )
        );
        Ok(())
    }

    #[test]
    fn a_page_with_an_inline_script_is_refused() {
        for inline in [
            "<script type=module>import init from '/app.js';init()</script>",
            "<script>(function () { new WebSocket('ws://x') })()</script>",
            "<script type=\"text/javascript\">x()</script>",
        ] {
            let page = CLEAN.replace("</head>", &format!("{inline}</head>"));
            let err = with_policy(&page, &enforced(&[])).unwrap_err();
            assert!(err.to_string().contains("inline script"), "{err}");
            // A debug build (`trunk serve`) writes no policy, and keeps Trunk's live reload.
            assert!(with_policy(&page, &PagePolicy::default()).is_ok());
        }
    }
}
