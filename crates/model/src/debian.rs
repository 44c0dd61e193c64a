//! The Debian releases topic II packages for: the three latest, newest first.
//!
//! This list is the one place to update when Debian publishes a release or ends support for one:
//! `sre-check` checks that a candidate's workflow covers every release here and builds and installs
//! the package in a `debian:<codename>` container of each; the site and the reviewer view show it.

use serde::Serialize;

/// How Debian supports a release today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Support {
    /// The current stable release: full security support.
    Stable,
    /// Regular security support has ended; Debian LTS supports it until `until` (YYYY-MM-DD).
    LongTerm {
        /// Last day of LTS support.
        until: &'static str,
    },
    /// No support from Debian any more (not even LTS) since `ended` (YYYY-MM-DD).
    Ended {
        /// Last day of support.
        ended: &'static str,
    },
}

/// One Debian release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DebianRelease {
    /// The codename, as in `debian:<codename>` images and apt sources: `trixie`.
    pub codename: &'static str,
    /// The major version number: `13`.
    pub version: u8,
    /// Debian's support for it today.
    pub support: Support,
}

/// The three latest Debian releases, newest first.
pub const RELEASES: [DebianRelease; 3] = [
    DebianRelease {
        codename: "trixie",
        version: 13,
        support: Support::Stable,
    },
    DebianRelease {
        codename: "bookworm",
        version: 12,
        support: Support::LongTerm {
            until: "2028-06-30",
        },
    },
    DebianRelease {
        codename: "bullseye",
        version: 11,
        support: Support::Ended {
            ended: "2026-08-31",
        },
    },
];

/// The release with this codename, if it is one of [`RELEASES`].
pub fn release(codename: &str) -> Option<&'static DebianRelease> {
    RELEASES.iter().find(|r| r.codename == codename)
}

impl DebianRelease {
    /// The Docker image of this release: `debian:trixie`.
    pub fn image(&self) -> String {
        format!("debian:{}", self.codename)
    }

    /// `trixie (13)`, for messages.
    pub fn label(&self) -> String {
        format!("{} ({})", self.codename, self.version)
    }

    /// A warning to show next to the release when Debian no longer supports it.
    pub fn warning(&self) -> Option<String> {
        match self.support {
            Support::Ended { ended } => Some(format!(
                "Debian {} \"{}\" is no longer supported: its long-term support ended on {ended}. \
                 It stays in the challenge because many servers still run it.",
                self.version, self.codename
            )),
            Support::Stable | Support::LongTerm { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_newest_first_and_distinct() {
        let versions: Vec<u8> = RELEASES.iter().map(|r| r.version).collect();
        assert!(versions.windows(2).all(|w| w[0] > w[1]), "{versions:?}");
        assert_eq!(release("bookworm").map(|r| r.version), Some(12));
        assert!(release("buster").is_none());
        assert_eq!(RELEASES[0].image(), "debian:trixie");
    }

    #[test]
    fn only_unsupported_releases_carry_a_warning() {
        let warned: Vec<&str> = RELEASES
            .iter()
            .filter(|r| r.warning().is_some())
            .map(|r| r.codename)
            .collect();
        assert_eq!(warned, ["bullseye"]);
        let warning = release("bullseye").and_then(DebianRelease::warning);
        assert!(warning.is_some_and(|w| w.contains("2026-08-31")));
    }

    #[test]
    fn serializes_for_the_site() {
        let json = serde_json::to_value(RELEASES[2]).expect("serializable");
        assert_eq!(json["codename"], "bullseye");
        assert_eq!(json["support"]["status"], "ended");
        assert_eq!(json["support"]["ended"], "2026-08-31");
    }
}
