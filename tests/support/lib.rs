//! Helpers shared by the end-to-end tests.
//!
//! - [`checker`]: running `sre-check` on fixture folders.
//! - [`postgres`]: a throwaway PostgreSQL server.
//! - [`intake`]: a real `sre-intake` with its database, and an HTTP client.

pub mod checker;
pub mod intake;
pub mod postgres;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
