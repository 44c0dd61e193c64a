//! The six topics of the challenge, by id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A topic of the challenge. The ids are stable: they appear in the manifest, in reports, in URLs
/// (`/topic/<id>`) and on the `sre-check --topic` command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopicId {
    /// I — Infrastructure as Code (Ansible).
    Iac,
    /// II — Operating system: a `.deb` pipeline in GitHub Actions.
    Os,
    /// III — Monitoring and observability.
    Monitoring,
    /// IV — PostgreSQL management and a production incident.
    Postgres,
    /// V — Technical leadership: a cloud migration plan.
    Leadership,
    /// VI — Feedback on the challenge.
    Feedback,
}

impl TopicId {
    /// Every topic, in the challenge's order.
    pub const ALL: [TopicId; 6] = [
        TopicId::Iac,
        TopicId::Os,
        TopicId::Monitoring,
        TopicId::Postgres,
        TopicId::Leadership,
        TopicId::Feedback,
    ];

    /// The id as written in the manifest, reports and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicId::Iac => "iac",
            TopicId::Os => "os",
            TopicId::Monitoring => "monitoring",
            TopicId::Postgres => "postgres",
            TopicId::Leadership => "leadership",
            TopicId::Feedback => "feedback",
        }
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A topic id that is not one of [`TopicId::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic `{0}`: expected one of iac, os, monitoring, postgres, leadership, feedback")]
pub struct UnknownTopic(pub String);

impl FromStr for TopicId {
    type Err = UnknownTopic;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TopicId::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTopic(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_serde() {
        for id in TopicId::ALL {
            assert_eq!(id.as_str().parse::<TopicId>(), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{id}\""));
        }
    }

    #[test]
    fn unknown_topic_names_the_valid_ones() {
        let err = "kubernetes".parse::<TopicId>().unwrap_err();
        assert!(err.to_string().contains("`kubernetes`"));
        assert!(err.to_string().contains("iac, os, monitoring"));
    }
}
