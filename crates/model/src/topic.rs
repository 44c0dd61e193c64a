//! Topic ids: short names that the manifest declares, checked when it is loaded.
//!
//! There is no list of topics in code: `content/challenge.toml` is the registry. A [`TopicId`]
//! only guarantees its shape (safe in URLs, file names and command lines); whether a topic of that
//! id exists is the manifest's answer ([`crate::Manifest::topic_id`]).

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a topic of the challenge, e.g. `iac`. The ids are stable: they appear in the
/// manifest, in reports, in URLs (`/topic/<id>`) and on the `sre-check --topic` command line.
/// Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(Arc<str>);

/// Longest topic id accepted.
pub const MAX_TOPIC_ID_LEN: usize = 32;

impl TopicId {
    /// Checks the shape of `id`: 1 to 32 characters of `a-z`, `0-9` and `-`, starting with a
    /// letter.
    pub fn new(id: &str) -> Result<TopicId, BadTopicId> {
        let shaped = (1..=MAX_TOPIC_ID_LEN).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if shaped {
            Ok(TopicId(Arc::from(id)))
        } else {
            Err(BadTopicId(id.to_owned()))
        }
    }

    /// The id as written in the manifest, reports and URLs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TopicId({:?})", &*self.0)
    }
}

impl Borrow<str> for TopicId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TopicId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for TopicId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl FromStr for TopicId {
    type Err = BadTopicId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TopicId::new(s)
    }
}

impl Serialize for TopicId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TopicId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TopicId::new(&text).map_err(serde::de::Error::custom)
    }
}

/// A string that cannot be a topic id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a topic id: use 1-32 characters of a-z, 0-9 and '-', starting with a letter")]
pub struct BadTopicId(pub String);

/// A topic id the manifest does not list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic `{id}`: expected one of {known}")]
pub struct UnknownTopic {
    /// What was asked for.
    pub id: String,
    /// The manifest's topic ids, comma-separated, in order.
    pub known: String,
}

/// `number` written as the challenge writes topic numbers: a Roman numeral (1 → `I`, 14 → `XIV`).
/// Zero has no numeral and is written `0`.
pub fn roman_numeral(number: u8) -> String {
    const DIGITS: [(u8, &str); 9] = [
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    if number == 0 {
        return "0".to_owned();
    }
    let mut rest = number;
    let mut out = String::new();
    for (value, digits) in DIGITS {
        while rest >= value {
            out.push_str(digits);
            rest -= value;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_serde() {
        for text in [
            "iac",
            "os",
            "monitoring",
            "postgres",
            "leadership",
            "feedback",
            "on-call2",
        ] {
            let id: TopicId = text.parse().unwrap();
            assert_eq!(id.as_str(), text);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{id}\""));
            assert_eq!(serde_json::from_str::<TopicId>(&json).unwrap(), id);
        }
    }

    #[test]
    fn malformed_ids_are_rejected_with_the_rule() {
        for bad in ["", "Iac", "2fa", "a b", "../x", &"x".repeat(33)] {
            let err = bad.parse::<TopicId>().unwrap_err();
            assert!(err.to_string().contains("a-z, 0-9"), "{err}");
        }
        let err = serde_json::from_str::<TopicId>("\"K8s\"").unwrap_err();
        assert!(err.to_string().contains("`K8s` is not a topic id"), "{err}");
    }

    #[test]
    fn numerals_do_not_stop_at_six() {
        let numerals: Vec<String> = (1..=9).map(roman_numeral).collect();
        assert_eq!(
            numerals,
            ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
        );
        assert_eq!(roman_numeral(14), "XIV");
        assert_eq!(roman_numeral(255), "CCLV");
        assert_eq!(roman_numeral(0), "0");
    }
}
