//! Inviting a candidate: validation shared by `sre-intake invite create` and `POST /invites`, and
//! the link the candidate receives (`<public url>/invite/<token>`: the token is the last path
//! segment, which the site reads and keeps).

use time::{Duration, OffsetDateTime};

use crate::store::Db;
use crate::store::people::{self, Candidate, NewCandidate};

/// Days an invite works when no expiry is given.
pub const DEFAULT_EXPIRY_DAYS: u32 = 30;
/// Longest expiry accepted.
pub const MAX_EXPIRY_DAYS: u32 = 365;

/// A new invite: the candidate, their token (shown once) and their link.
#[derive(Debug, Clone)]
pub struct Invite {
    /// The candidate as stored.
    pub candidate: Candidate,
    /// The bearer token; not stored, only its hash.
    pub token: String,
    /// The link to send to the candidate.
    pub link: String,
}

/// Why an invite was refused.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The request is not acceptable; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// What a reviewer asks for.
#[derive(Debug, Clone)]
pub struct InviteRequest<'a> {
    /// The candidate's name.
    pub name: &'a str,
    /// Their email, if given.
    pub email: Option<&'a str>,
    /// Days until the link stops working.
    pub expires_days: Option<u32>,
    /// The reviewer sending it (API only).
    pub invited_by: Option<&'a str>,
}

/// Validates and stores an invite.
pub async fn create(
    db: &Db,
    public_url: &str,
    req: InviteRequest<'_>,
) -> Result<Invite, InviteError> {
    let name = req.name.trim();
    check_text("name", name, 200)?;
    let email = req.email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(email) = email {
        check_text("email", email, 320)?;
        if !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(InviteError::Invalid(format!(
                "email `{email}` is not an address"
            )));
        }
    }
    let days = req.expires_days.unwrap_or(DEFAULT_EXPIRY_DAYS);
    if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
        return Err(InviteError::Invalid(format!(
            "expires_days must be between 1 and {MAX_EXPIRY_DAYS} (found {days})"
        )));
    }
    let expires = OffsetDateTime::now_utc() + Duration::days(i64::from(days));
    let (candidate, token) = people::create_candidate(
        db,
        NewCandidate {
            name,
            email,
            expires_at: Some(crate::store::timestamp(expires)),
            invited_by: req.invited_by,
        },
    )
    .await?;
    let link = link(public_url, &token);
    Ok(Invite {
        candidate,
        token,
        link,
    })
}

/// Validates a reviewer's name for `sre-intake reviewer create`.
pub fn check_reviewer_name(name: &str) -> Result<(), InviteError> {
    check_text("name", name.trim(), 200)
}

/// The candidate's link: the site's URL, then `invite/<token>`.
pub fn link(public_url: &str, token: &str) -> String {
    format!("{}/invite/{token}", public_url.trim_end_matches('/'))
}

fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), InviteError> {
    if value.is_empty() {
        return Err(InviteError::Invalid(format!("{field} is empty")));
    }
    if value.chars().count() > max_chars {
        return Err(InviteError::Invalid(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(InviteError::Invalid(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_end_with_the_token() {
        assert_eq!(
            link("https://x.example/", "tok"),
            "https://x.example/invite/tok"
        );
        assert_eq!(
            link("https://x.example/sub", "tok"),
            "https://x.example/sub/invite/tok"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_text("name", "Ada Lovelace", 200).is_ok());
        assert!(check_text("name", "", 200).is_err());
        assert!(check_text("name", "a\u{0}b", 200).is_err());
        assert!(check_text("name", &"x".repeat(201), 200).is_err());
    }
}
