//! sre-intake: receives candidates' answers and sre-check reports, serves the candidate site, and
//! gives reviewers a scoring API.
//!
//! Pipeline of a request: [`api`] (routes, auth, limits, JSON errors) → [`store`] (SQLite or
//! PostgreSQL through the same SQL) → JSON. What the challenge is comes from [`challenge`]
//! (embedded at build time); answers are rendered for reviewers by [`render`].

pub mod api;
pub mod browser_headers;
pub mod challenge;
pub mod cli;
pub mod connections;
pub mod diff;
pub mod error;
pub mod invites;
pub mod metrics;
pub mod probe;
pub mod quota;
pub mod ratelimit;
pub mod render;
pub mod request_head;
pub mod serve;
pub mod site;
pub mod store;
pub mod token_cache;
pub mod tokens;
pub mod work_files;
