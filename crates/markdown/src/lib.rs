//! The one markdown renderer of the SRE Challenge.
//!
//! The build step (`cargo xtask render`) uses it for the challenge's readmes, `sre-intake` for the
//! reviewer's view of answers, and the site's answer preview runs it in a Web Worker. Everywhere the
//! same dialect and the same safety rules apply:
//!
//! - CommonMark with GitHub's tables, footnotes, strikethrough and task lists ([`options`]).
//! - Raw HTML, block or inline, is escaped and shown as text: markdown can never add a tag or an
//!   attribute (`<script>`, `onerror=`, `<svg onload>`) to the page.
//! - Link and image URLs keep only the `http`, `https` and `mailto` schemes or are relative; any
//!   other URL (`javascript:`, `data:`, `vbscript:`, `file:`, `//other-host`) is dropped: a link
//!   keeps its text, an image leaves its alt text.
//! - Relative URLs are resolved against the markdown file's folder and mapped onto the site by a
//!   [`LinkMap`]: files go under one prefix, documents shown as pages link to their route.
//! - Headings get GitHub-style ids ([`slugify`]), so `README.md#v-technical-leadership` works
//!   the same here as on GitHub.
//!
//! Pure functions over strings: no I/O, so it builds natively and for `wasm32-unknown-unknown`.

mod events;
mod links;
mod slug;

pub use events::{Heading, options};
pub use links::{Here, LinkMap, content_path};
pub use slug::{Slugger, slugify};

/// Text as HTML text or attribute content: the five characters that mean something in HTML,
/// escaped. For the plain text around rendered markdown (page titles, text answers).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

use events::Parsed;
use pulldown_cmark::{Event, LinkType, Parser, Tag};

/// Renders a whole markdown document, written at `document` (its path relative to the content
/// root, e.g. `monitoring/README.md`), to an HTML fragment.
pub fn render(markdown: &str, document: &str, links: &LinkMap) -> String {
    let parsed = Parsed::new(markdown);
    let route = links.page(document).unwrap_or("");
    parsed.to_html(0..parsed.len(), document, route, links)
}

/// Renders one section of a document: the heading whose id is `id` and everything up to the next
/// heading of the same or a higher level. Heading ids are those of the whole document. `None` when
/// no heading has that id.
pub fn render_section(markdown: &str, document: &str, id: &str, links: &LinkMap) -> Option<String> {
    let parsed = Parsed::new(markdown);
    let range = parsed.section(id)?;
    let route = links
        .page(&format!("{document}#{id}"))
        .or_else(|| links.page(document))
        .unwrap_or("");
    Some(parsed.to_html(range, document, route, links))
}

/// The markdown source of one section (see [`render_section`]), exactly as written.
pub fn section<'a>(markdown: &'a str, id: &str) -> Option<&'a str> {
    let parsed = Parsed::new(markdown);
    let range = parsed.section(id)?;
    markdown.get(parsed.source_range(range, markdown.len()))
}

/// Every heading of a document with its id, in order.
pub fn headings(markdown: &str) -> Vec<Heading> {
    Parsed::new(markdown).headings().cloned().collect()
}

/// The content files a document links to or shows as images, resolved against its folder,
/// sorted and without repeats (see [`content_path`]). The build step publishes and checks them.
pub fn referenced_files(markdown: &str, document: &str) -> Vec<String> {
    let mut files: Vec<String> = Parser::new_ext(markdown, options())
        .filter_map(|event| match event {
            // An email autolink's destination is an address, not a path.
            Event::Start(Tag::Link {
                link_type: LinkType::Email,
                ..
            }) => None,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                content_path(document, &dest_url)
            }
            _ => None,
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests;
