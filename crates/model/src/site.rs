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

/// The starting text of every answer slot as JSON, `{"<slot>": "<text>"}`: the handed-out file
/// when the slot's file is in the starter kit, else the manifest's template, else empty. The site
/// starts an editor with it and counts an answer as written once it differs.
pub const STARTING_TEXTS_JSON: &str = "challenge/answers.json";

/// The folder every file of the starter kit sits in inside its archive (the README's
/// `sre-check init sre-challenge` makes the same folder).
pub const STARTER_KIT_FOLDER: &str = "sre-challenge";

/// The starter kit as one `.zip`, built at build time, named after the challenge version.
pub fn starter_kit(version: &str) -> String {
    format!("{RENDERED_DIR}/{STARTER_KIT_FOLDER}-{version}.zip")
}

/// The answer preview worker's loader (Trunk's `data-loader-shim` for the `preview` binary). The
/// site creates the worker only when a candidate first asks for a preview.
pub const PREVIEW_WORKER: &str = "preview_loader.js";

/// Ids of the elements the build step writes into every page (`cargo xtask pages`): the manifest
/// JSON, the starting texts JSON, and the page's content rendered ahead of the app, which the
/// app replaces when it starts.
pub mod element {
    /// `<script type="application/json">` holding [`super::MANIFEST_JSON`]'s content.
    pub const MANIFEST: &str = "challenge-manifest";
    /// `<script type="application/json">` holding [`super::STARTING_TEXTS_JSON`]'s content.
    pub const STARTING_TEXTS: &str = "starting-texts";
    /// The prerendered page: header and content, readable before (and without) the wasm.
    pub const PRERENDERED: &str = "prerendered";
}

/// The route of the home page.
pub const HOME_ROUTE: &str = "./";

/// The route of the page that lists every answer, with the export and the submission.
pub const ANSWERS_ROUTE: &str = "answers";

/// The route of the page that shows the checks of the reports uploaded with `sre-check upload`.
pub const RESULTS_ROUTE: &str = "results";

/// The route of the page offering sre-check's builds, and the folder that holds them (archives,
/// `SHA256SUMS`, `install.sh`). `cargo xtask pages` writes it as a page of its own, without the
/// app (which has no route for it: a click on its link loads it from the server).
pub const DOWNLOAD_ROUTE: &str = "download";

/// How an invite link names its token: `<site>/invite/<token>` (what sre-intake prints), or
/// `?invite=<token>` on any page (for a static host, where `/invite/…` is not a file).
pub const INVITE_PATH: &str = "invite/";

/// The query parameter of an invite token; see [`INVITE_PATH`].
pub const INVITE_QUERY: &str = "invite";

/// The query parameter naming the sre-intake server when it is not the site's own origin (the
/// server must then allow the site's origin with `--cors-origin`). The site accepts only its own
/// origin or a server it was built to allow (`crate::browser_policy::SERVERS_ENV`).
pub const SERVER_QUERY: &str = "server";

/// The path of sre-intake's API on its origin.
pub const API_ROOT: &str = "/api/v1";

/// The file that holds a route's prerendered page in dist/: `index.html` for the home page,
/// `topic/iac/index.html` for a topic, so any static host serves deep links.
pub fn page_file(route: &str) -> String {
    let route = route.trim_start_matches("./").trim_end_matches('/');
    if route.is_empty() {
        "index.html".to_owned()
    } else {
        format!("{route}/index.html")
    }
}

/// Where a content file is published, e.g. `content/feedback.txt`.
pub fn file_url(content_path: &str) -> String {
    format!("{FILES_DIR}/{content_path}")
}

/// The HTML fragment of a topic's readme (or readme section).
pub fn topic_fragment(id: &TopicId) -> String {
    format!("{RENDERED_DIR}/topics/{id}.html")
}

/// The route of a topic's page, e.g. `topic/iac`.
pub fn topic_route(id: &TopicId) -> String {
    format!("topic/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_and_inside_their_folders() {
        assert_eq!(file_url("a/b.png"), "content/a/b.png");
        assert_eq!(
            topic_fragment(&"iac".parse().unwrap()),
            "challenge/topics/iac.html"
        );
        assert_eq!(topic_route(&"postgres".parse().unwrap()), "topic/postgres");
        for path in [MANIFEST_JSON, README_FRAGMENT, STARTING_TEXTS_JSON] {
            assert!(path.starts_with(RENDERED_DIR) && !path.starts_with('/'));
        }
        assert_eq!(starter_kit("1.0.0"), "challenge/sre-challenge-1.0.0.zip");
        assert_eq!(page_file(HOME_ROUTE), "index.html");
        assert_eq!(
            page_file(&topic_route(&"iac".parse().unwrap())),
            "topic/iac/index.html"
        );
        assert_eq!(page_file(ANSWERS_ROUTE), "answers/index.html");
    }
}
