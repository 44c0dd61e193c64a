//! The places in the reading app's pages where the editing app mounts its parts.
//!
//! The site is two wasm modules: the reading app (this crate's `sre-site` binary: header, routes,
//! readmes, criteria) in the first load, and the editing app (`sre-edit`: answers, autosave, sync,
//! submit, results, export, the file lists and their viewer) that [`crate::lazy_app`] fetches once the page is interactive. The
//! reading app leaves an empty element with a `data-edit` attribute ([`KIND_ATTR`]) where an
//! editing part goes; the editing app ([`crate::editing`]) mounts the part into each such element
//! as it appears, and drops it when the reading app removes the element (a navigation).

use sre_model::TopicId;

/// The attribute that names the part a placeholder holds.
pub const KIND_ATTR: &str = "data-edit";
/// The attribute that names the topic of a per-topic part.
pub const TOPIC_ATTR: &str = "data-topic";
/// Set by the editing app on a placeholder it has mounted its part into.
pub const MOUNTED_ATTR: &str = "data-edit-mounted";
/// The placeholders the editing app has not mounted yet.
pub const UNMOUNTED_SELECTOR: &str = "[data-edit]:not([data-edit-mounted])";

/// The editing app's script and wasm (wasm-bindgen's `no-modules` output, see index.html),
/// relative to the base URL.
pub const EDIT_SCRIPT: &str = "sre-edit.js";
/// The editing app's wasm.
pub const EDIT_WASM: &str = "sre-edit_bg.wasm";

/// A part of the editing app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Where the answers are kept (header).
    SyncStatus,
    /// A topic's progress on the home page's topic cards.
    Progress(TopicId),
    /// A topic's answer editors.
    Editors(TopicId),
    /// The files a topic hands out, with their viewer (about 9 KB gzip: not in the first load).
    Files(TopicId),
    /// The "Your answers" page: list, export, submit.
    AnswersPage,
    /// The check results page.
    ResultsPage,
}

impl Part {
    /// The value of [`KIND_ATTR`].
    pub fn kind(&self) -> &'static str {
        match self {
            Part::SyncStatus => "sync-status",
            Part::Progress(_) => "progress",
            Part::Editors(_) => "editors",
            Part::Files(_) => "files",
            Part::AnswersPage => "answers-page",
            Part::ResultsPage => "results-page",
        }
    }

    /// The value of [`TOPIC_ATTR`], for a per-topic part.
    pub fn topic(&self) -> Option<&str> {
        match self {
            Part::Progress(id) | Part::Editors(id) | Part::Files(id) => Some(id.as_str()),
            Part::SyncStatus | Part::AnswersPage | Part::ResultsPage => None,
        }
    }

    /// The part a placeholder's attributes name.
    pub fn parse(kind: &str, topic: Option<&str>) -> Option<Part> {
        let topic = || topic.and_then(|t| t.parse::<TopicId>().ok());
        match kind {
            "sync-status" => Some(Part::SyncStatus),
            "progress" => topic().map(Part::Progress),
            "editors" => topic().map(Part::Editors),
            "files" => topic().map(Part::Files),
            "answers-page" => Some(Part::AnswersPage),
            "results-page" => Some(Part::ResultsPage),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(id: &str) -> TopicId {
        id.parse().unwrap()
    }

    #[test]
    fn every_part_reads_back_from_its_attributes() {
        for part in [
            Part::SyncStatus,
            Part::Progress(topic("iac")),
            Part::Editors(topic("postgres")),
            Part::Files(topic("os")),
            Part::AnswersPage,
            Part::ResultsPage,
        ] {
            assert_eq!(Part::parse(part.kind(), part.topic()), Some(part.clone()));
        }
        assert_eq!(Part::parse("editors", None), None);
        assert_eq!(Part::parse("editors", Some("kubernetes")), None);
        assert_eq!(Part::parse("menu", None), None);
    }
}
