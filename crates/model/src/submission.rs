//! A submission: the candidate's work as `sre-check upload` sends it (schema
//! `sre-check.submission/1`).
//!
//! The work is the set of files of the working copy that are new or differ from the starter kit.
//! The [`Listing`] names each with its size and digest; the archive itself (crate `sre-work`)
//! carries the listing, the report it came with, and the files. Client and server check the same
//! [`Limits`] with the same code, so a refusal reads the same on both sides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::{ChallengeRef, Report};

/// The schema id every listing carries.
pub const SUBMISSION_SCHEMA: &str = "sre-check.submission/1";

/// Longest path, in bytes, a submitted file may have.
pub const PATH_LIMIT: usize = 1024;

const MIB: u64 = 1024 * 1024;

/// How much work one submission may hold. The server can lower or raise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of the compressed archive.
    pub archive_bytes: u64,
    /// Most bytes of one file.
    pub file_bytes: u64,
    /// Most files.
    pub files: usize,
    /// Most bytes of everything the archive expands to: a small archive can hold a bomb.
    pub expanded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            archive_bytes: 20 * MIB,
            file_bytes: 5 * MIB,
            files: 2_000,
            expanded_bytes: 200 * MIB,
        }
    }
}

/// Whether a file is new or a changed starter file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// Not part of the starter kit.
    New,
    /// A starter file whose content differs.
    Changed,
}

impl FileKind {
    /// `new` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::New => "new",
            FileKind::Changed => "changed",
        }
    }
}

/// One file of the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedFile {
    /// Relative to the working copy, '/'-separated; see [`check_path`].
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex sha256 of the content.
    pub sha256: String,
    /// New or changed.
    pub kind: FileKind,
}

/// What a submission holds: the files, and the report sent with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// Always [`SUBMISSION_SCHEMA`].
    pub schema: String,
    /// The edition of the challenge whose starter the files are compared with.
    pub challenge: ChallengeRef,
    /// [`Report::digest`] of the report in the same archive.
    pub report_digest: String,
    /// The files, sorted by path, each once.
    pub files: Vec<ListedFile>,
}

/// Why a path cannot be part of a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Empty, absolute, with an empty, `.` or `..` segment, or a `\`.
    #[error("`{0}` is not a relative path inside the working copy ('/'-separated, no '..')")]
    NotRelative(String),
    /// A NUL or another control character.
    #[error("`{}` has a control character in its name: rename it", .0.escape_debug())]
    ControlCharacter(String),
    /// Longer than [`PATH_LIMIT`].
    #[error("`{0}` is longer than {PATH_LIMIT} bytes: shorten it")]
    TooLong(String),
}

/// Checks that `path` is a plain relative path that stays inside the working copy wherever it is
/// unpacked: no absolute path, no `..`, no `\` (a separator on Windows), no control characters.
pub fn check_path(path: &str) -> Result<(), PathError> {
    if path.len() > PATH_LIMIT {
        return Err(PathError::TooLong(path.to_owned()));
    }
    if path.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter(path.to_owned()));
    }
    if !crate::manifest::is_safe_path(path) {
        return Err(PathError::NotRelative(path.to_owned()));
    }
    Ok(())
}

/// Files `sre-check upload` leaves out without being told: its own state, version control, and
/// what editors and file browsers write next to the files.
pub fn is_excluded_by_default(path: &str) -> bool {
    let mut segments = path.split('/');
    let first = segments.next().unwrap_or_default();
    if first == ".sre-check" || path.split('/').any(|s| s == ".git") {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or_default();
    name == ".DS_Store"
        || name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#') && name.len() > 1)
}

/// Why a listing is refused. Each message names the file and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// Not [`SUBMISSION_SCHEMA`].
    #[error("unknown submission schema `{0}`: use an sre-check that matches this server")]
    Schema(String),
    /// A path breaks [`check_path`].
    #[error(transparent)]
    Path(#[from] PathError),
    /// Not sorted, or a path twice.
    #[error("`{0}` is listed out of order or twice")]
    Order(String),
    /// A digest that is not 64 lowercase hex digits.
    #[error("`{0}` has a sha256 that is not 64 lowercase hex digits")]
    Digest(String),
    /// More files than [`Limits::files`].
    #[error(
        "{count} files is more than the {limit} a submission may hold: list the ones that are not your work in .sre-check-ignore"
    )]
    TooManyFiles {
        /// Files listed.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A file over [`Limits::file_bytes`].
    #[error(
        "`{path}` is {size} bytes, over the {limit} bytes one file may have: leave it out with .sre-check-ignore"
    )]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Everything together over [`Limits::expanded_bytes`].
    #[error("the files add up to {total} bytes, over the {limit} bytes a submission may hold")]
    TooLarge {
        /// The sum of the sizes.
        total: u64,
        /// The limit.
        limit: u64,
    },
    /// The report in the archive is not the one the listing names.
    #[error("the listing names report {listed}, but the report sent with it is {actual}")]
    ReportDigest {
        /// [`Listing::report_digest`].
        listed: String,
        /// The report's own digest.
        actual: String,
    },
    /// The report read a different version of a file than the one sent.
    #[error("`{0}` changed since the report was made: run `sre-check run` again, then upload")]
    Stale(String),
}

impl Listing {
    /// Checks the schema, every path and digest, the order, and the limits.
    pub fn check(&self, limits: &Limits) -> Result<(), ListingError> {
        if self.schema != SUBMISSION_SCHEMA {
            return Err(ListingError::Schema(self.schema.clone()));
        }
        if self.files.len() > limits.files {
            return Err(ListingError::TooManyFiles {
                count: self.files.len(),
                limit: limits.files,
            });
        }
        let mut total: u64 = 0;
        let mut previous: Option<&str> = None;
        for file in &self.files {
            check_path(&file.path)?;
            if previous.is_some_and(|p| p >= file.path.as_str()) {
                return Err(ListingError::Order(file.path.clone()));
            }
            previous = Some(&file.path);
            if !is_sha256_hex(&file.sha256) {
                return Err(ListingError::Digest(file.path.clone()));
            }
            if file.size > limits.file_bytes {
                return Err(ListingError::FileTooLarge {
                    path: file.path.clone(),
                    size: file.size,
                    limit: limits.file_bytes,
                });
            }
            total = total.saturating_add(file.size);
        }
        if total > limits.expanded_bytes {
            return Err(ListingError::TooLarge {
                total,
                limit: limits.expanded_bytes,
            });
        }
        Ok(())
    }

    /// Checks that `report` is the report this listing names, and that wherever both name a path
    /// they agree on its content: the checks ran on the files that were sent.
    pub fn agrees_with(&self, report: &Report) -> Result<(), ListingError> {
        let actual = report.digest();
        if actual != self.report_digest {
            return Err(ListingError::ReportDigest {
                listed: self.report_digest.clone(),
                actual,
            });
        }
        let listed: BTreeMap<&str, &str> = self
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        for file in &report.files {
            if listed
                .get(file.path.as_str())
                .is_some_and(|sha| *sha != file.sha256)
            {
                return Err(ListingError::Stale(file.path.clone()));
            }
        }
        Ok(())
    }

    /// The sum of the files' sizes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> ListedFile {
        ListedFile {
            path: path.to_owned(),
            size,
            sha256: "a".repeat(64),
            kind: FileKind::New,
        }
    }

    fn listing(files: Vec<ListedFile>) -> Listing {
        Listing {
            schema: SUBMISSION_SCHEMA.to_owned(),
            challenge: ChallengeRef {
                version: "1.0.0".to_owned(),
                digest: "sha256:00".to_owned(),
            },
            report_digest: "sha256:00".to_owned(),
            files,
        }
    }

    #[test]
    fn paths_stay_inside_the_working_copy() {
        for good in [
            "a",
            "infrastructure/playbook.yml",
            ".sre-check-ignore",
            "a b/ç.txt",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "C:\\x",
        ] {
            assert!(
                matches!(check_path(bad), Err(PathError::NotRelative(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_path("a\nb"),
            Err(PathError::ControlCharacter(_))
        ));
        assert!(matches!(
            check_path(&"a".repeat(PATH_LIMIT + 1)),
            Err(PathError::TooLong(_))
        ));
    }

    #[test]
    fn default_exclusions_cover_tool_state_and_editor_files() {
        for excluded in [
            ".sre-check/report.json",
            ".git/config",
            "sub/.git/HEAD",
            "infrastructure/.playbook.yml.swp",
            "notes.md~",
            "a/.#lock",
            "#draft#",
            ".DS_Store",
        ] {
            assert!(is_excluded_by_default(excluded), "{excluded}");
        }
        for kept in ["infrastructure/playbook.yml", "git/notes", "a#b", "#"] {
            assert!(!is_excluded_by_default(kept), "{kept}");
        }
    }

    #[test]
    fn a_listing_is_sorted_unique_and_within_the_limits() {
        let limits = Limits {
            files: 2,
            file_bytes: 10,
            expanded_bytes: 15,
            ..Limits::default()
        };
        assert_eq!(
            listing(vec![file("a", 5), file("b", 10)]).check(&limits),
            Ok(())
        );
        assert!(matches!(
            listing(vec![file("b", 1), file("a", 1)]).check(&limits),
            Err(ListingError::Order(p)) if p == "a"
        ));
        assert!(matches!(
            listing(vec![file("a", 1), file("a", 1)]).check(&limits),
            Err(ListingError::Order(_))
        ));
        assert!(matches!(
            listing(vec![file("a", 11)]).check(&limits),
            Err(ListingError::FileTooLarge { .. })
        ));
        assert!(matches!(
            listing(vec![file("a", 10), file("b", 10)]).check(&limits),
            Err(ListingError::TooLarge { total: 20, .. })
        ));
        assert!(matches!(
            listing(vec![file("a", 1), file("b", 1), file("c", 1)]).check(&limits),
            Err(ListingError::TooManyFiles { count: 3, .. })
        ));
        let mut bad_digest = listing(vec![file("a", 1)]);
        bad_digest.files[0].sha256 = "A".repeat(64);
        assert!(matches!(
            bad_digest.check(&limits),
            Err(ListingError::Digest(_))
        ));
        let mut schema = listing(vec![]);
        schema.schema = "other/1".to_owned();
        assert!(matches!(
            schema.check(&limits),
            Err(ListingError::Schema(_))
        ));
    }

    #[test]
    fn the_listing_must_name_its_report_and_agree_on_shared_paths() {
        let report = crate::report::tests::sample();
        let mut listed = listing(vec![file("infrastructure/playbook.yml", 812)]);
        listed.report_digest = report.digest();
        assert_eq!(listed.agrees_with(&report), Ok(()));
        listed.files[0].sha256 = "b".repeat(64);
        assert!(matches!(
            listed.agrees_with(&report),
            Err(ListingError::Stale(p)) if p == "infrastructure/playbook.yml"
        ));
        // A path only one side names is no disagreement.
        listed.files[0].path = "notes.md".to_owned();
        assert_eq!(listed.agrees_with(&report), Ok(()));
        listed.report_digest = "sha256:ff".to_owned();
        assert!(matches!(
            listed.agrees_with(&report),
            Err(ListingError::ReportDigest { .. })
        ));
    }

    #[test]
    fn kinds_serialize_in_lowercase() {
        let json = serde_json::to_string(&file("a", 1)).expect("serializes");
        assert!(json.contains(r#""kind":"new""#), "{json}");
        assert_eq!(FileKind::Changed.as_str(), "changed");
    }
}
