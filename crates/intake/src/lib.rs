//! sre-intake: receives candidates' answers and sre-check reports, serves the candidate site, and
//! gives reviewers a scoring view.

pub mod app;
pub mod db;
pub mod site;
