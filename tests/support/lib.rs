//! Helpers shared by the end-to-end tests.
//!
//! - [`checker`]: running sre-check on fixture working copies.
//! - [`site`]: the built site (dist/) and the challenge manifest the tests compare it with.
//! - [`static_server`]: serves a folder on a free loopback port, like any static host.
//! - [`browser`]: chromedriver + headless Chromium with this machine's flags, one per test.
//! - [`wait`]: polling the page until an element or a text appears.
//! - [`csp`]: the Content-Security-Policy's violations in a page, and injected script.
//! - [`page`]: clicking, typing, catching downloads and stray scripts in the site.
//! - [`answer_server`]: sre-intake's candidate API in miniature, serving the site too.
//! - [`postgres`]: a throwaway PostgreSQL server.
//! - [`intake`]: a real `sre-intake` with its database, and an HTTP client.

pub mod answer_server;
pub mod browser;
pub mod checker;
pub mod csp;
pub mod intake;
pub mod page;
pub mod postgres;
pub mod site;
pub mod static_server;
pub mod wait;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
