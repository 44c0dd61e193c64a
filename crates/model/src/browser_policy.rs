//! What browsers are told about the site and the reviewer view: the Content-Security-Policy
//! every page runs under, and the sre-intake servers the candidate site may send answers to.
//!
//! One policy for three places: sre-intake sends it as a header with every response (plus
//! `frame-ancestors`, which only a header can carry), `cargo xtask pages` writes it into every
//! page as a `<meta http-equiv>` for static hosts, and the tests check the pages work under it.

/// The variable that names the sre-intake servers, besides the site's own origin, that an invite
/// link may send the candidate's answers to with `?server=<origin>`: origins such as
/// `https://intake.example.com`, separated by spaces or commas. Read when the site is built
/// (`SRE_SITE_SERVERS=https://intake.example.com trunk build --release`): `cargo xtask pages`
/// writes the list into every page ([`SERVERS_META`]) and into the policy's `connect-src`, so the
/// list is part of the site, and a crafted link cannot add a server.
pub const SERVERS_ENV: &str = "SRE_SITE_SERVERS";

/// The `<meta name>` that carries the allowed servers in every page (its `content`: the origins,
/// separated by spaces). The site reads it; sre-intake reads it from the `index.html` it serves
/// for the `connect-src` of its header.
pub const SERVERS_META: &str = "sre-servers";

/// The `<meta>` element naming `servers`.
pub fn servers_meta(servers: &[&str]) -> String {
    format!(
        "<meta name=\"{SERVERS_META}\" content=\"{}\">",
        servers.join(" ")
    )
}

/// The start of the `<meta>` that carries a page's Content-Security-Policy, up to its `content`.
pub const POLICY_META_START: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"";

/// The servers a page's [`SERVERS_META`] names, those that are origins (none without one).
pub fn servers_in_page(html: &str) -> Vec<&str> {
    meta_content(html, &format!("<meta name=\"{SERVERS_META}\" content=\""))
        .map(|list| split_servers(list).filter(|s| is_origin(s)).collect())
        .unwrap_or_default()
}

/// The `content` of the first `<meta>` in `html` that starts with `start` (which ends with
/// `content="`).
fn meta_content<'a>(html: &'a str, start: &str) -> Option<&'a str> {
    let content = &html[html.find(start)? + start.len()..];
    content.find('"').map(|end| &content[..end])
}

/// Reads a [`SERVERS_ENV`] value: its origins, or which entry is not one.
pub fn parse_servers(list: &str) -> Result<Vec<&str>, String> {
    split_servers(list)
        .map(|server| {
            if is_origin(server) {
                Ok(server)
            } else {
                Err(format!(
                    "{SERVERS_ENV}: `{server}` is not an origin; write the server's scheme, host \
                     and port only, e.g. `https://intake.example.com` or `http://127.0.0.1:8080`"
                ))
            }
        })
        .collect()
}

fn split_servers(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

/// Whether `text` is an http(s) origin as browsers write it: `http[s]://host[:port]`, lowercase,
/// no path, no trailing slash (it is compared with `location.origin` and put in the policy).
pub fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    // `[v6]` or `name`, then `:port` or nothing.
    let (host_ok, after_host) = match rest.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((address, after)) => (
                !address.is_empty() && address.chars().all(|c| c.is_ascii_hexdigit() || c == ':'),
                after,
            ),
            None => (false, ""),
        },
        None => {
            let end = rest.find(':').unwrap_or(rest.len());
            let host = &rest[..end];
            (
                !host.is_empty()
                    && !host.starts_with(['.', '-'])
                    && host.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                    }),
                &rest[end..],
            )
        }
    };
    let port_ok = after_host.is_empty()
        || after_host.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit())
        });
    host_ok && port_ok
}

/// The Content-Security-Policy of every page, as a `<meta http-equiv>` can carry it.
///
/// - Script only from the site's own files: no inline script (Trunk's loader is a file,
///   `boot.js`), no `eval`; `'wasm-unsafe-eval'` lets the pages and the preview worker compile
///   their WebAssembly, and nothing else.
/// - Styles from the site, and the inline stylesheets whose SHA-256 digests are `style_hashes`
///   (base64; see [`style_hashes_in_page`]): the pages carry the site's stylesheet inline, so the
///   first heading shows after one request instead of two. No other inline style runs.
/// - Images from the site only: a remote image in an answer is not loaded.
/// - Requests (`fetch`) to the site's origin and the allowed `servers` only, so even a script
///   that got in could not send answers or tokens elsewhere.
/// - No plugins, frames, fonts or media (`default-src 'none'`); `<base>` and forms stay on the
///   site.
pub fn content_security_policy(servers: &[&str], style_hashes: &[&str]) -> String {
    let connect: String = servers.iter().map(|s| format!(" {s}")).collect();
    let styles: String = style_hashes
        .iter()
        .filter(|h| is_sha256_digest(h))
        .map(|h| format!(" 'sha256-{h}'"))
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'{styles}; \
         img-src 'self'; connect-src 'self'{connect}; worker-src 'self'; base-uri 'self'; \
         form-action 'self'"
    )
}

/// The policy as sre-intake sends it, a header: [`content_security_policy`] plus
/// `frame-ancestors 'none'` (no site may frame a page; a `<meta>` policy cannot say this).
pub fn header_policy(servers: &[&str], style_hashes: &[&str]) -> String {
    format!(
        "{}; frame-ancestors 'none'",
        content_security_policy(servers, style_hashes)
    )
}

/// The inline stylesheet digests the policy in a page's `<meta http-equiv>` allows, for
/// sre-intake's header to allow the same (the build computed them from the page's `<style>`).
pub fn style_hashes_in_page(html: &str) -> Vec<&str> {
    meta_content(html, POLICY_META_START)
        .and_then(|policy| {
            policy
                .split(';')
                .find_map(|directive| directive.trim().strip_prefix("style-src "))
        })
        .map(|sources| {
            sources
                .split_ascii_whitespace()
                .filter_map(|s| s.strip_prefix("'sha256-")?.strip_suffix('\''))
                .filter(|h| is_sha256_digest(h))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `digest` is a SHA-256 digest in standard base64 (44 characters, one `=` of padding):
/// nothing else may enter the policy from a page.
fn is_sha256_digest(digest: &str) -> bool {
    digest.len() == 44
        && digest.ends_with('=')
        && digest[..43]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_recognised() {
        for origin in [
            "https://intake.example.com",
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "https://[::1]:8443",
            "https://[::1]",
        ] {
            assert!(is_origin(origin), "{origin}");
        }
        for text in [
            "",
            "intake.example.com",
            "https://",
            "https://intake.example.com/",
            "https://intake.example.com/api",
            "https://Intake.example.com",
            "https://user@intake.example.com",
            "ftp://intake.example.com",
            "https://intake.example.com:",
            "https://intake.example.com:123456",
            "https://intake.example.com?x",
            "javascript:alert(1)",
            "https://*.example.com",
            "https://example.com 'unsafe-inline'",
        ] {
            assert!(!is_origin(text), "{text}");
        }
    }

    #[test]
    fn a_server_list_is_read_or_refused_with_the_entry() {
        assert_eq!(
            parse_servers(" https://a.example, http://127.0.0.1:9000\n"),
            Ok(vec!["https://a.example", "http://127.0.0.1:9000"])
        );
        assert_eq!(parse_servers(""), Ok(vec![]));
        let err = parse_servers("https://a.example https://b.example/path").unwrap_err();
        assert!(
            err.contains("`https://b.example/path` is not an origin"),
            "{err}"
        );
    }

    #[test]
    fn the_servers_meta_is_read_back() {
        let page = format!(
            "<head>{}<title>x</title>",
            servers_meta(&["https://a.example", "http://127.0.0.1:9000"])
        );
        assert_eq!(
            servers_in_page(&page),
            ["https://a.example", "http://127.0.0.1:9000"]
        );
        assert!(servers_in_page("<head><title>x</title>").is_empty());
        let forged = "<meta name=\"sre-servers\" content=\"https://a.example/x 'unsafe-inline'\">";
        assert!(servers_in_page(forged).is_empty());
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_frames_nowhere() {
        let meta = content_security_policy(&["https://intake.example.com"], &[]);
        assert!(
            meta.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{meta}"
        );
        assert!(!meta.contains("unsafe-inline") && !meta.contains("'unsafe-eval'"));
        assert!(meta.contains("connect-src 'self' https://intake.example.com;"));
        // A <meta> policy cannot carry frame-ancestors (browsers ignore it there, with a warning).
        assert!(!meta.contains("frame-ancestors"));
        let header = header_policy(&[], &[]);
        assert!(header.contains("connect-src 'self';"), "{header}");
        assert!(header.ends_with("; frame-ancestors 'none'"), "{header}");
    }

    #[test]
    fn inline_styles_are_allowed_by_digest_only() {
        let digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let meta = content_security_policy(&[], &[digest]);
        assert!(
            meta.contains(&format!("style-src 'self' 'sha256-{digest}';")),
            "{meta}"
        );
        let page = format!("{POLICY_META_START}{meta}\"><title>x</title>");
        assert_eq!(style_hashes_in_page(&page), [digest]);
        assert_eq!(
            header_policy(&[], &style_hashes_in_page(&page)),
            format!("{meta}; frame-ancestors 'none'")
        );
        // Anything but a digest stays out, whether from the build or from a page.
        for forged in ["x' 'unsafe-inline", "'unsafe-inline'", "", &digest[1..]] {
            let policy = content_security_policy(&[], &[forged]);
            assert!(policy.contains("style-src 'self';"), "{policy}");
        }
        let forged = "<meta http-equiv=\"Content-Security-Policy\" \
            content=\"style-src 'self' 'unsafe-inline' 'sha256-x=' 'nonce-abc'\">";
        assert!(style_hashes_in_page(forged).is_empty());
        assert!(style_hashes_in_page("<title>no policy</title>").is_empty());
    }
}
