//! Who may see a result: the candidate, or only the people who review the candidate's work.
//!
//! Every machine check and every automatic aid for written answers declares its audience in
//! `content/challenge.toml`. A candidate-facing result says whether something works ("the package
//! installs on bullseye"); a reviewer-only one is a judgement of practice or quality (least-privilege
//! scoping, action pinning) or an aid to reading an answer, which would hand over the answer if the
//! candidate saw it while working. `sre-check run` computes and prints only candidate results; the
//! reviewer view (and the verification worker) computes the rest where the candidate cannot read it.

use serde::{Deserialize, Serialize};

/// Who sees a check's result or an answer aid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Shown to the candidate by `sre-check run` and stored in their report.
    Candidate,
    /// Computed and shown only where reviewers work; never by the candidate's binary.
    Reviewer,
}

impl Audience {
    /// Whether someone in the audience `self` may see a result meant for `item`: a reviewer sees
    /// everything, a candidate only what is meant for candidates.
    pub fn sees(self, item: Audience) -> bool {
        self == Audience::Reviewer || item == Audience::Candidate
    }

    /// `candidate` or `reviewer`, as the manifest writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Candidate => "candidate",
            Audience::Reviewer => "reviewer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Audience;

    #[test]
    fn reviewers_see_everything_and_candidates_only_their_own() {
        assert!(Audience::Reviewer.sees(Audience::Reviewer));
        assert!(Audience::Reviewer.sees(Audience::Candidate));
        assert!(Audience::Candidate.sees(Audience::Candidate));
        assert!(!Audience::Candidate.sees(Audience::Reviewer));
    }
}
