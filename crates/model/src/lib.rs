//! Shared types of the SRE Challenge.
//!
//! - [`manifest`]: `content/challenge.toml`, the single description of the challenge that the site,
//!   `sre-check` and `sre-intake` all read.
//! - [`report`]: the JSON report `sre-check` writes and `sre-intake` receives (`sre-check.report/1`).
//! - [`topic`]: topic ids (the manifest lists the topics) and their numerals.
//! - [`site`]: where the built site keeps the challenge, and the routes of its pages.
//! - [`browser_policy`]: the Content-Security-Policy of the site's pages, and the servers the
//!   site may send answers to.
//! - [`debian`]: the Debian releases topic II packages for.
//! - [`submission`]: the candidate's work as `sre-check upload` sends it: listing and limits.
//! - [`hints`]: which expected parts a written answer shows, for reviewers (never scores).
//! - [`audience`]: who may see a check's result or an answer aid (candidate or reviewer).
//!
//! No I/O here: callers read files and hand text in, so every function is deterministic and the
//! crate also compiles to wasm for the site.

pub mod audience;
pub mod browser_policy;
pub mod debian;
pub mod hints;
pub mod manifest;
pub mod report;
pub mod site;
pub mod submission;
pub mod topic;

pub use audience::Audience;
pub use hints::ExpectedPart;
pub use manifest::{
    AnswerSlot, CheckSpec, Criterion, Manifest, ManifestError, OptionKind, PackageSpec, ScriptArg,
    ScriptInterface, Topic, TopicOption, UpstreamRelease,
};
pub use report::{CheckResult, Report, ReportError, Status, TopicReport};
pub use topic::{BadTopicId, TopicId, UnknownTopic};
