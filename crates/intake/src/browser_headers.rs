//! The headers that tell browsers how to treat every response: the site's
//! Content-Security-Policy with `frame-ancestors 'none'` ([`sre_model::browser_policy`]),
//! `X-Frame-Options: DENY` for browsers without `frame-ancestors`, and
//! `Referrer-Policy: no-referrer`, so that no address (an invite link carries a token) leaves
//! in a `Referer` header.
//!
//! On every response, API replies included: a JSON error opened as a page runs nothing either,
//! and one layer covers the site, the reviewer view (`/review`) and the invite links alike.

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use sre_model::browser_policy;

/// The Content-Security-Policy of an app serving the site in `site` (if any): its `connect-src`
/// is the server's own origin plus the servers the built site allows (its `index.html` names
/// them, from `SRE_SITE_SERVERS` at build time), so the pages reach what they were built to; its
/// `style-src` allows the inline stylesheet the pages' own policy allows (by digest).
pub fn policy(site: Option<&Path>) -> HeaderValue {
    let page = site
        .and_then(|dir| std::fs::read_to_string(dir.join("index.html")).ok())
        .unwrap_or_default();
    let policy = browser_policy::header_policy(
        &browser_policy::servers_in_page(&page),
        &browser_policy::style_hashes_in_page(&page),
    );
    // Origins (checked by `servers_in_page`) and fixed text always make a header value; were it
    // not so, the strictest policy rather than none.
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(
        "default-src 'none'; frame-ancestors 'none'",
    ))
}

/// Middleware: sets the browser headers, with [`policy`], on the response, replacing any a
/// handler set.
pub async fn add(State(policy): State<HeaderValue>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_servers_the_served_site_allows() -> std::io::Result<()> {
        let strict = browser_policy::header_policy(&[], &[]);
        assert_eq!(policy(None), strict.as_str());
        let site = tempfile::tempdir()?;
        // No index.html (yet): the site's own origin only.
        assert_eq!(policy(Some(site.path())), strict.as_str());
        let servers = browser_policy::servers_meta(&["https://intake.example.com"]);
        let digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let page_policy = browser_policy::content_security_policy(&[], &[digest]);
        std::fs::write(
            site.path().join("index.html"),
            format!(
                "<!doctype html><html>{}{page_policy}\">{servers}<title>x</title>",
                browser_policy::POLICY_META_START
            ),
        )?;
        let allowing = policy(Some(site.path()));
        let allowing = allowing.to_str().unwrap_or_default();
        assert!(
            allowing.contains("connect-src 'self' https://intake.example.com;"),
            "{allowing}"
        );
        assert!(
            allowing.contains(&format!("style-src 'self' 'sha256-{digest}';")),
            "{allowing}"
        );
        assert!(allowing.ends_with("frame-ancestors 'none'"), "{allowing}");
        Ok(())
    }
}
