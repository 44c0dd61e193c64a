//! `Authorization: Bearer <token>` on every call: extractors that find the candidate or the
//! reviewer a token belongs to, check an invite's expiry, and apply the per-token rate limit.
//!
//! Statuses: no token, a malformed, unknown or expired one → 401; a valid token of another kind
//! (a candidate on a reviewer route, a worker's anywhere but the worker routes…) → 403; over the
//! rate limit → 429. Workers are not rate limited: they call only to claim, renew and finish.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use crate::error::ApiError;
use crate::store::people::{self, ByToken, Candidate, Reviewer};
use crate::store::workers::{self, Worker};
use crate::token_cache::Owner;
use crate::tokens;

/// The candidate a request's token belongs to.
#[derive(Debug, Clone)]
pub struct CandidateAuth(pub Candidate);

/// The reviewer a request's token belongs to.
#[derive(Debug, Clone)]
pub struct ReviewerAuth(pub Reviewer);

/// The verification worker a request's token belongs to.
#[derive(Debug, Clone)]
pub struct WorkerAuth(pub Worker);

impl FromRequestParts<AppState> for CandidateAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = bearer_hash(parts)?;
        match owner(state, &hash).await? {
            Some(Owner::Candidate(candidate)) => {
                check_expiry(&candidate)?;
                rate_limit(state, &hash)?;
                Ok(CandidateAuth(candidate))
            }
            Some(Owner::Reviewer(_)) => Err(ApiError::forbidden(
                "this is a reviewer token; this route takes a candidate's token",
            )),
            Some(Owner::Worker(_)) => Err(worker_elsewhere()),
            None => Err(unknown_token(state, parts)),
        }
    }
}

impl FromRequestParts<AppState> for ReviewerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = bearer_hash(parts)?;
        match owner(state, &hash).await? {
            Some(Owner::Reviewer(reviewer)) => {
                rate_limit(state, &hash)?;
                Ok(ReviewerAuth(reviewer))
            }
            Some(Owner::Candidate(_)) => Err(ApiError::forbidden(
                "reviewer routes need a reviewer token; a candidate's token reaches only their own answers",
            )),
            Some(Owner::Worker(_)) => Err(worker_elsewhere()),
            None => Err(unknown_token(state, parts)),
        }
    }
}

impl FromRequestParts<AppState> for WorkerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = bearer_hash(parts)?;
        match owner(state, &hash).await? {
            Some(Owner::Worker(worker)) => Ok(WorkerAuth(worker)),
            Some(_) => Err(ApiError::forbidden(
                "worker routes need a worker token (sre-intake worker create)",
            )),
            None => Err(unknown_token(state, parts)),
        }
    }
}

/// A worker's token can only claim and report verification jobs.
fn worker_elsewhere() -> ApiError {
    ApiError::forbidden("this is a verification worker's token; it can only claim and report jobs")
}

/// Who the token with this hash belongs to: remembered for a few seconds ([`crate::token_cache`]),
/// else looked up (candidates first: they make nearly every call).
async fn owner(state: &AppState, hash: &str) -> Result<Option<Owner>, ApiError> {
    if let Some(owner) = state.tokens.get(hash) {
        return Ok(Some(owner));
    }
    let owner = match verified(people::candidate_by_token(&state.db, hash).await?, hash) {
        Some(candidate) => Some(Owner::Candidate(candidate)),
        None => match verified(people::reviewer_by_token(&state.db, hash).await?, hash) {
            Some(reviewer) => Some(Owner::Reviewer(reviewer)),
            None => verified(workers::by_token(&state.db, hash).await?, hash).map(Owner::Worker),
        },
    };
    if let Some(owner) = &owner {
        state.tokens.put(hash, owner.clone());
    }
    Ok(owner)
}

/// The stored hash of the request's bearer token, if it has a well-formed one.
fn bearer_hash(parts: &Parts) -> Result<String, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "send your token as `Authorization: Bearer <token>` (the token is the last part of your invite link)",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| tokens::is_well_formed(t))
        .ok_or_else(|| {
            ApiError::unauthorized(
                "the Authorization header is not `Bearer <token>` with a 43-character token",
            )
        })?;
    Ok(tokens::hash(token))
}

/// The record when its stored hash equals `hash` (compared in constant time).
fn verified<T>(found: Option<ByToken<T>>, hash: &str) -> Option<T> {
    found
        .filter(|f| tokens::hashes_match(&f.token_hash, hash))
        .map(|f| f.record)
}

/// 401 for a well-formed token that belongs to no one; 429 once the client has sent too many
/// (guessing tokens cost nothing before: about 2,100 lookups a second from one client). Such
/// requests count against the client's address, at the same rate as a token's requests.
fn unknown_token(state: &AppState, parts: &Parts) -> ApiError {
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
        && let Err(limited) = rate_limit(state, &format!("unknown tokens from {}", peer.ip()))
    {
        return limited;
    }
    ApiError::unauthorized("this token is not valid here: check that you copied all of it")
}

fn check_expiry(candidate: &Candidate) -> Result<(), ApiError> {
    let Some(expires_at) = &candidate.expires_at else {
        return Ok(());
    };
    let expired = OffsetDateTime::parse(expires_at, &Rfc3339)
        .map(|t| t <= OffsetDateTime::now_utc())
        // An unreadable expiry is treated as expired: fail closed.
        .unwrap_or(true);
    if expired {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invite_expired",
            format!(
                "this invite expired at {expires_at}; ask the person who invited you for a new link"
            ),
        )
        .header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
    }
    Ok(())
}

fn rate_limit(state: &AppState, key: &str) -> Result<(), ApiError> {
    state.limiter.check(key).map_err(|wait| {
        let seconds = u64::try_from(wait.as_millis().div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests with this token; retry in {seconds} s"),
        )
        .header(header::RETRY_AFTER, HeaderValue::from(seconds))
    })
}
