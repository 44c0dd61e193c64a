//! Who a token belongs to, remembered for a few seconds.
//!
//! Every API call starts by looking its token up. On SQLite each query is a round trip to sqlx's
//! database thread, and those handoffs, not SQLite, were most of the cost of an answer write
//! (scripts/bench-intake): remembering the owner of a token that just authenticated saves one of
//! the two round trips of a write.
//!
//! What is remembered never decides anything the database must decide: a submission is checked
//! by the write statement itself, and the submitting process forgets the candidate at once, so
//! `GET /me` shows it. Another process behind the same PostgreSQL may show a submission up to
//! [`TTL`] late. Only tokens that authenticated are kept, so the map is bounded by the number of
//! candidates and reviewers, not by what an attacker sends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::people::{Candidate, Reviewer};
use crate::store::workers::Worker;

/// How long an owner is remembered.
pub const TTL: Duration = Duration::from_secs(5);

/// The owner of a token.
#[derive(Debug, Clone)]
pub enum Owner {
    /// A candidate's invite token.
    Candidate(Candidate),
    /// A reviewer's token.
    Reviewer(Reviewer),
    /// A verification worker's token.
    Worker(Worker),
}

/// Owners by token hash, each with the time it was looked up.
#[derive(Debug, Default)]
pub struct TokenCache {
    owners: Mutex<HashMap<String, (Instant, Owner)>>,
}

impl TokenCache {
    /// The owner of the token with this hash, if it was looked up less than [`TTL`] ago.
    pub fn get(&self, hash: &str) -> Option<Owner> {
        let owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners
            .get(hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, owner)| owner.clone())
    }

    /// Remembers the owner of a token that just authenticated.
    pub fn put(&self, hash: &str, owner: Owner) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners.retain(|_, (at, _)| at.elapsed() < TTL);
        owners.insert(hash.to_owned(), (Instant::now(), owner));
    }

    /// Forgets a candidate whose record changed (a submission).
    pub fn forget_candidate(&self, id: &str) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners.retain(|_, (_, owner)| !matches!(owner, Owner::Candidate(c) if c.id == id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str) -> Owner {
        Owner::Candidate(Candidate {
            id: id.into(),
            name: "Ada".into(),
            email: None,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            expires_at: None,
            submitted_at: None,
        })
    }

    #[test]
    fn remembers_until_forgotten() {
        let cache = TokenCache::default();
        assert!(cache.get("h1").is_none());
        cache.put("h1", candidate("c-1"));
        cache.put("h2", candidate("c-2"));
        assert!(matches!(cache.get("h1"), Some(Owner::Candidate(c)) if c.id == "c-1"));
        cache.forget_candidate("c-1");
        assert!(cache.get("h1").is_none());
        assert!(cache.get("h2").is_some());
    }
}
