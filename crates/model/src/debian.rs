//! The Debian releases topic II packages for, as the manifest lists them
//! (`[[topic.package.releases]]` in content/challenge.toml, newest first).
//!
//! They are data, not code, so a hiring team updates them where Debian's calendar is: when Debian
//! publishes a release, ends support for one, or moves one to archive.debian.org. `sre-check`
//! checks that a candidate's workflow covers every release listed and builds and installs the
//! package in a `debian:<codename>` container of each; `sre-check doctor` warns a year before a
//! release's support ends, so the challenge is reviewed in time.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, Duration};

/// How Debian supports a release, with the last day of that support (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Support {
    /// The current stable release: full security support, then LTS until `until`.
    Stable {
        /// Last day of support (LTS included).
        until: String,
    },
    /// Regular security support has ended; Debian LTS supports it until `until`.
    LongTerm {
        /// Last day of LTS support.
        until: String,
    },
    /// No support from Debian any more (not even LTS) since `ended`.
    Ended {
        /// Last day of support.
        ended: String,
    },
}

/// One Debian release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebianRelease {
    /// The codename, as in `debian:<codename>` images and apt sources: `trixie`.
    pub codename: String,
    /// The major version number: `13`.
    pub version: u8,
    /// Debian's support for it.
    pub support: Support,
    /// Whether Debian has moved the release to archive.debian.org: the checker's containers then
    /// install packages from there (deb.debian.org no longer serves it).
    #[serde(default)]
    pub archived: bool,
}

/// The mirror of releases Debian has archived.
pub const ARCHIVE_MIRROR: &str = "http://archive.debian.org";

/// How long before the end of a release's support `sre-check doctor` starts to warn.
pub const NOTICE: Duration = Duration::days(365);

/// `YYYY-MM-DD` as a date.
pub fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("`{text}` is not a date written YYYY-MM-DD"))
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

    /// The last day of Debian's support (LTS included), as written in the manifest.
    pub fn end_of_support(&self) -> &str {
        match &self.support {
            Support::Stable { until } | Support::LongTerm { until } => until,
            Support::Ended { ended } => ended,
        }
    }

    /// A warning to show next to the release when Debian no longer supports it.
    pub fn warning(&self) -> Option<String> {
        match &self.support {
            Support::Ended { ended } => Some(format!(
                "Debian {} \"{}\" is no longer supported: its long-term support ended on {ended}. \
                 It stays in the challenge because many servers still run it.",
                self.version, self.codename
            )),
            Support::Stable { .. } | Support::LongTerm { .. } => None,
        }
    }

    /// On `today`, a notice for whoever maintains the challenge when the release's support ends
    /// within [`NOTICE`] or has ended (then the release may soon move to archive.debian.org);
    /// `None` while it is further away.
    pub fn support_notice(&self, today: Date) -> Option<String> {
        let end = parse_date(self.end_of_support()).ok()?;
        let days = (end - today).whole_days();
        if days > NOTICE.whole_days() {
            return None;
        }
        Some(if days >= 0 {
            format!(
                "Debian {} \"{}\": support ends on {end} (in {days} days)",
                self.version, self.codename
            )
        } else if self.archived {
            format!(
                "Debian {} \"{}\": support ended on {end}; packages come from {ARCHIVE_MIRROR}",
                self.version, self.codename
            )
        } else {
            format!(
                "Debian {} \"{}\": support ended on {end}; when Debian moves it to \
                 {ARCHIVE_MIRROR}, set `archived = true` for it",
                self.version, self.codename
            )
        })
    }

    /// apt's sources for the archive, when [`DebianRelease::archived`]: the release and its
    /// security updates, with the expired Release files accepted (archived suites are no longer
    /// re-signed).
    pub fn archive_sources(&self) -> Option<String> {
        self.archived.then(|| {
            format!(
                "deb {ARCHIVE_MIRROR}/debian {c} main\ndeb {ARCHIVE_MIRROR}/debian-security \
                 {c}-security main\n",
                c = self.codename
            )
        })
    }
}

/// Checks a release list: at least one, newest first, distinct, codenames that are safe in image
/// names, dates that are dates.
pub fn validate(releases: &[DebianRelease]) -> Result<(), String> {
    if releases.is_empty() {
        return Err("topic.package.releases lists no Debian release".to_owned());
    }
    for r in releases {
        if r.codename.is_empty() || !r.codename.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(format!(
                "Debian codename `{}` must be lowercase letters",
                r.codename
            ));
        }
        parse_date(r.end_of_support())
            .map_err(|e| format!("Debian {}: end of support {e}", r.codename))?;
    }
    if !releases.windows(2).all(|w| w[0].version > w[1].version) {
        return Err(
            "topic.package.releases must list Debian releases newest first, each once".to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn release(codename: &str, version: u8, support: Support) -> DebianRelease {
        DebianRelease {
            codename: codename.to_owned(),
            version,
            support,
            archived: false,
        }
    }

    fn three() -> Vec<DebianRelease> {
        vec![
            release(
                "trixie",
                13,
                Support::Stable {
                    until: "2030-06-30".into(),
                },
            ),
            release(
                "bookworm",
                12,
                Support::LongTerm {
                    until: "2028-06-30".into(),
                },
            ),
            release(
                "bullseye",
                11,
                Support::Ended {
                    ended: "2026-08-31".into(),
                },
            ),
        ]
    }

    #[test]
    fn lists_are_validated() {
        assert_eq!(validate(&three()), Ok(()));
        let mut reversed = three();
        reversed.reverse();
        assert!(validate(&reversed).is_err());
        assert!(validate(&[]).is_err());
        let mut bad = three();
        bad[1].support = Support::LongTerm {
            until: "June 2028".into(),
        };
        assert!(validate(&bad).unwrap_err().contains("bookworm"));
        let mut bad = three();
        bad[0].codename = "Trixie;rm".into();
        assert!(validate(&bad).is_err());
    }

    #[test]
    fn only_unsupported_releases_carry_a_warning() {
        let warned: Vec<String> = three()
            .into_iter()
            .filter(|r| r.warning().is_some())
            .map(|r| r.codename)
            .collect();
        assert_eq!(warned, ["bullseye"]);
        assert!(
            three()[2]
                .warning()
                .is_some_and(|w| w.contains("2026-08-31"))
        );
    }

    /// A fixed clock: a year ahead of an end of support, the notice starts.
    #[test]
    fn support_notices_start_a_year_ahead() {
        let [trixie, bookworm, bullseye] = <[DebianRelease; 3]>::try_from(three()).unwrap();
        let today = date!(2027 - 06 - 29);
        assert_eq!(trixie.support_notice(today), None);
        assert_eq!(bookworm.support_notice(today), None, "366 days ahead");
        let notice = bookworm.support_notice(date!(2027 - 07 - 01)).unwrap();
        assert!(
            notice.contains("ends on 2028-06-30 (in 365 days)"),
            "{notice}"
        );
        let ended = bullseye.support_notice(today).unwrap();
        assert!(ended.contains("ended on 2026-08-31"), "{ended}");
        assert!(ended.contains("set `archived = true`"), "{ended}");
        let archived = DebianRelease {
            archived: true,
            ..bullseye
        };
        assert!(
            archived
                .support_notice(today)
                .unwrap()
                .contains("packages come from http://archive.debian.org")
        );
    }

    #[test]
    fn archived_releases_get_archive_sources() {
        let mut bullseye = three().remove(2);
        assert_eq!(bullseye.archive_sources(), None);
        bullseye.archived = true;
        let sources = bullseye.archive_sources().unwrap();
        assert!(sources.contains("deb http://archive.debian.org/debian bullseye main"));
        assert!(sources.contains("debian-security bullseye-security main"));
    }

    #[test]
    fn serializes_for_the_site() {
        let json = serde_json::to_value(&three()[2]).expect("serializable");
        assert_eq!(json["codename"], "bullseye");
        assert_eq!(json["support"]["status"], "ended");
        assert_eq!(json["support"]["ended"], "2026-08-31");
    }
}
