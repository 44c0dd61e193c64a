//! Where the built site (`dist/`) keeps the challenge, and the routes of its pages.
//!
//! One contract between three parties: the build step (`cargo xtask render`) writes these paths,
//! the site fetches them and links to the routes, and `sre-intake` serves them (answering a page
//! route with `index.html`). Every path is relative to the site's base URL, never absolute, so the
//! site works at any base path (`trunk build --public-url /sub/`).

use crate::topic::TopicId;

/// Folder holding every file of `content/` the site shows or offers for download, byte for byte
/// under its content path: `content/monitoring/screenshots/screenshot1.png`.
pub const FILES_DIR: &str = "content";

/// Folder holding what the build step derives from `content/`: the manifest as JSON and the
/// readmes as HTML fragments.
pub const RENDERED_DIR: &str = "challenge";

/// The manifest (`content/challenge.toml`) as JSON.
pub const MANIFEST_JSON: &str = "challenge/manifest.json";

/// The main README as an HTML fragment, shown on the home page.
pub const README_FRAGMENT: &str = "challenge/readme.html";

/// The route of the home page.
pub const HOME_ROUTE: &str = "./";

/// Where a content file is published, e.g. `content/feedback.txt`.
pub fn file_url(content_path: &str) -> String {
    format!("{FILES_DIR}/{content_path}")
}

/// The HTML fragment of a topic's readme (or readme section).
pub fn topic_fragment(id: TopicId) -> String {
    format!("{RENDERED_DIR}/topics/{id}.html")
}

/// The route of a topic's page, e.g. `topic/iac`.
pub fn topic_route(id: TopicId) -> String {
    format!("topic/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_and_inside_their_folders() {
        assert_eq!(file_url("a/b.png"), "content/a/b.png");
        assert_eq!(topic_fragment(TopicId::Iac), "challenge/topics/iac.html");
        assert_eq!(topic_route(TopicId::Postgres), "topic/postgres");
        for path in [MANIFEST_JSON, README_FRAGMENT] {
            assert!(path.starts_with(RENDERED_DIR) && !path.starts_with('/'));
        }
    }
}
