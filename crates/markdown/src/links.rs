//! Which link and image URLs survive, and where relative ones point once the document is on the site.
//!
//! A markdown file addresses other files relative to its own folder, the way GitHub shows it.
//! On the site every file of the content is published under one prefix (e.g. `content/`), and some
//! markdown documents (or sections of one) are shown as pages with their own route (e.g. the topic
//! page `topic/iac`). [`LinkMap`] turns the first kind of address into the second.
//!
//! Everything produced is relative to the site's base URL (the page's `<base href>`), never
//! absolute, so the site works wherever it is hosted.

use std::collections::BTreeMap;

/// Schemes a link or an image may use. Anything else (`javascript:`, `data:`, `vbscript:`,
/// `file:`…) is dropped.
const ALLOWED_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// How relative URLs of the content map to the site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkMap {
    files_prefix: String,
    pages: BTreeMap<String, String>,
    link_images: bool,
}

impl LinkMap {
    /// A map where a content file `a/b.png` is published at `{files_prefix}a/b.png`
    /// (e.g. `content/`; empty to leave paths as they are).
    pub fn new(files_prefix: &str) -> LinkMap {
        LinkMap {
            files_prefix: files_prefix.to_owned(),
            pages: BTreeMap::new(),
            link_images: false,
        }
    }

    /// Wraps every image that is not already inside a link in a link to the image itself, so a
    /// reader can open it at full size: with a keyboard, and without JavaScript too (the site
    /// turns the click into a zoomed view).
    pub fn with_image_links(mut self) -> LinkMap {
        self.link_images = true;
        self
    }

    /// Whether images get a link to themselves (see [`LinkMap::with_image_links`]).
    pub fn links_images(&self) -> bool {
        self.link_images
    }

    /// Declares that `document` (a content path such as `monitoring/README.md`, or
    /// `README.md#v-technical-leadership` for a section) is shown at the site route `route`
    /// (relative to the base URL, e.g. `topic/monitoring`, or `./` for the home page).
    pub fn with_page(mut self, document: &str, route: &str) -> LinkMap {
        self.pages.insert(document.to_owned(), route.to_owned());
        self
    }

    /// The route of the page that shows this document (or `document#section`), if any.
    pub fn page(&self, document: &str) -> Option<&str> {
        self.pages.get(document).map(String::as_str)
    }

    /// Where `url`, written in the markdown file `document`, points on the site; `None` when it
    /// must not be followed (a scheme other than http, https or mailto, a protocol-relative
    /// `//host`, a path that climbs out of the content).
    ///
    /// `here` says what the page being rendered shows: its route and whether a heading id is on
    /// it, so that `#section` links stay on the page when the target is there.
    pub fn resolve(&self, document: &str, url: &str, here: &Here<'_>) -> Option<String> {
        let url = clean(url);
        if url.is_empty() {
            return None;
        }
        match scheme(&url) {
            Some(scheme) => ALLOWED_SCHEMES
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme))
                .then_some(url),
            None => self.resolve_relative(document, &url, here),
        }
    }

    fn resolve_relative(&self, document: &str, url: &str, here: &Here<'_>) -> Option<String> {
        // `//host/x` is another site; `\` counts as `/` for browsers, so `/\host` is one too.
        if url.contains('\\') || url.starts_with("//") {
            return None;
        }
        let (rest, fragment) = match url.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (url, None),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let target = if path.is_empty() {
            document.to_owned()
        } else if let Some(from_root) = path.strip_prefix('/') {
            // Like GitHub: `/x` in a README means the repository root, here the content root.
            normalize("", from_root)?
        } else {
            normalize(folder_of(document), path)?
        };

        if target == document && query.is_none() {
            match fragment {
                Some(f) if here.route.is_empty() || here.has_id(f) => {
                    return Some(format!("{}#{f}", here.route));
                }
                None if !here.route.is_empty() => return Some(here.route.to_owned()),
                _ => {}
            }
        }
        if is_markdown(&target) && query.is_none() {
            if let Some(f) = fragment
                && let Some(route) = self.page(&format!("{target}#{f}"))
            {
                return Some(route.to_owned());
            }
            if let Some(route) = self.page(&target) {
                return Some(with_fragment(route, fragment));
            }
        }
        let mut out = format!("{}{target}", self.files_prefix);
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        Some(with_fragment(&out, fragment))
    }
}

/// The content file a relative `url` written in `document` names (percent-decoded, without query
/// or fragment), for the build step to check and publish; `None` for absolute, unsafe and
/// fragment-only URLs.
pub fn content_path(document: &str, url: &str) -> Option<String> {
    let url = clean(url);
    if scheme(&url).is_some() || url.contains('\\') || url.starts_with("//") {
        return None;
    }
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let path = match path.strip_prefix('/') {
        Some(from_root) => normalize("", from_root)?,
        None if path.is_empty() => return None,
        None => normalize(folder_of(document), path)?,
    };
    Some(percent_decode(&path))
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the page being rendered shows, for links into the same page.
#[derive(Debug, Clone, Copy)]
pub struct Here<'a> {
    /// The page's route relative to the base URL (`./`, `topic/iac`), or empty when the HTML is
    /// shown without a `<base>` (then `#id` already means this page).
    pub route: &'a str,
    /// Heading and footnote ids present on the page.
    pub ids: &'a [String],
}

impl Here<'_> {
    fn has_id(&self, id: &str) -> bool {
        self.ids.iter().any(|i| i == id)
    }
}

fn with_fragment(base: &str, fragment: Option<&str>) -> String {
    match fragment {
        Some(f) => format!("{base}#{f}"),
        None => base.to_owned(),
    }
}

/// What a browser ignores in a URL: ASCII tab and newlines anywhere, control characters and
/// spaces at both ends. Removing them first means `java\tscript:` is seen as `javascript:`.
fn clean(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// The scheme of an absolute URL: whatever comes before a `:` that precedes any `/`, `?` or `#`.
/// Being strict here (`a:b.png` counts as a scheme) can only drop a link, never let one through.
fn scheme(url: &str) -> Option<&str> {
    let end = url.find([':', '/', '?', '#'])?;
    (url.as_bytes()[end] == b':').then(|| &url[..end])
}

fn folder_of(document: &str) -> &str {
    document.rsplit_once('/').map_or("", |(folder, _)| folder)
}

fn is_markdown(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("md"))
}

/// Joins `path` onto `folder` and removes `.` and `..` segments (also percent-encoded ones, which
/// browsers honour). `None` when the result would leave the content root.
fn normalize(folder: &str, path: &str) -> Option<String> {
    let mut segments: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
    let trailing_slash = path.ends_with('/');
    for segment in path.split('/') {
        match dots(segment) {
            Some(1) => {}
            Some(_) => {
                segments.pop()?;
            }
            None if segment.is_empty() => {}
            None => segments.push(segment),
        }
    }
    let mut joined = segments.join("/");
    if trailing_slash && !joined.is_empty() {
        joined.push('/');
    }
    Some(joined)
}

/// `Some(1)` for a `.` segment, `Some(2)` for `..`, in any mix of `.` and `%2e`.
fn dots(segment: &str) -> Option<usize> {
    let lower = segment.to_ascii_lowercase();
    match lower.replace("%2e", ".").as_str() {
        "." => Some(1),
        ".." => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> LinkMap {
        LinkMap::new("content/")
            .with_page("README.md", "./")
            .with_page("README.md#v-technical-leadership", "topic/leadership")
            .with_page("infrastructure/README.md", "topic/iac")
            .with_page("monitoring/README.md", "topic/monitoring")
    }

    fn resolve(document: &str, url: &str) -> Option<String> {
        let ids = ["context".to_owned()];
        let route = site().page(document).unwrap_or("").to_owned();
        site().resolve(
            document,
            url,
            &Here {
                route: &route,
                ids: &ids,
            },
        )
    }

    #[test]
    fn allowed_schemes_pass_unchanged() {
        for url in [
            "https://docs.docker.com/get-docker/",
            "http://example.com/a?b=c#d",
            "mailto:jobs@example.com",
            "HTTPS://EXAMPLE.COM",
        ] {
            assert_eq!(resolve("README.md", url).as_deref(), Some(url));
        }
    }

    #[test]
    fn other_schemes_and_other_hosts_are_dropped() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:image/svg+xml;base64,PHN2Zz4=",
            "file:///etc/passwd",
            "//evil.example/x.png",
            "/\\evil.example/x.png",
            "\\\\evil.example/x.png",
            "../../etc/passwd",
            "%2e%2e/%2E./x",
            "",
            "   ",
        ] {
            assert_eq!(resolve("monitoring/README.md", url), None, "{url:?}");
        }
    }

    #[test]
    fn relative_files_resolve_against_the_documents_folder() {
        let r = |url| resolve("monitoring/README.md", url);
        assert_eq!(
            r("screenshots/screenshot1.png").as_deref(),
            Some("content/monitoring/screenshots/screenshot1.png")
        );
        assert_eq!(
            r("./screenshots/../screenshots/s.png").as_deref(),
            Some("content/monitoring/screenshots/s.png")
        );
        assert_eq!(
            r("../postgres/00_init.sql").as_deref(),
            Some("content/postgres/00_init.sql")
        );
        assert_eq!(r("/feedback.txt").as_deref(), Some("content/feedback.txt"));
        assert_eq!(
            r("docker-compose.yml?raw=1#L3").as_deref(),
            Some("content/monitoring/docker-compose.yml?raw=1#L3")
        );
        assert_eq!(
            resolve("README.md", "feedback.txt").as_deref(),
            Some("content/feedback.txt")
        );
    }

    #[test]
    fn markdown_files_shown_as_pages_link_to_their_route() {
        assert_eq!(
            resolve("README.md", "infrastructure/README.md").as_deref(),
            Some("topic/iac")
        );
        assert_eq!(
            resolve("monitoring/README.md", "../infrastructure/README.md#tasks").as_deref(),
            Some("topic/iac#tasks")
        );
        assert_eq!(
            resolve(
                "monitoring/README.md",
                "../README.md#v-technical-leadership"
            )
            .as_deref(),
            Some("topic/leadership")
        );
        assert_eq!(
            resolve("monitoring/README.md", "../README.md#set-up").as_deref(),
            Some("./#set-up")
        );
        // Not a page: the raw file.
        assert_eq!(
            resolve("postgres/README.md", "postgres.md").as_deref(),
            Some("content/postgres/postgres.md")
        );
    }

    #[test]
    fn content_paths_are_what_the_build_step_publishes() {
        let p = |url| content_path("monitoring/README.md", url);
        assert_eq!(
            p("screenshots/screenshot%201.png?x#y").as_deref(),
            Some("monitoring/screenshots/screenshot 1.png")
        );
        assert_eq!(p("../README.md#set-up").as_deref(), Some("README.md"));
        assert_eq!(p("/feedback.txt").as_deref(), Some("feedback.txt"));
        for url in [
            "#x",
            "https://a.example/b.png",
            "javascript:x",
            "//h/x",
            "../../x",
        ] {
            assert_eq!(p(url), None, "{url}");
        }
    }

    #[test]
    fn fragments_stay_on_the_page_that_has_them() {
        // On the topic page, `#context` is there: stay.
        assert_eq!(
            resolve("monitoring/README.md", "#context").as_deref(),
            Some("topic/monitoring#context")
        );
        // `#elsewhere` is not on this page but the whole file is: same page.
        assert_eq!(
            resolve("README.md", "#objectives").as_deref(),
            Some("./#objectives")
        );
        // Without a page for the document (e.g. a reviewer page), a fragment stays a fragment.
        let plain = LinkMap::default();
        let here = Here {
            route: "",
            ids: &[],
        };
        assert_eq!(
            plain.resolve("answers.md", "#x", &here).as_deref(),
            Some("#x")
        );
        assert_eq!(
            plain.resolve("a/answers.md", "img.png", &here).as_deref(),
            Some("a/img.png")
        );
    }
}
