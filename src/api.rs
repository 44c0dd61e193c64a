//! sre-intake's candidate API (`/api/v1`, `Authorization: Bearer <token>`), as the site uses it.
//!
//! Every failure is sorted by what the site should do about it ([`Failure`]): try again later,
//! stop, or tell the candidate. Replies are read with miniserde views of the fields used.

use miniserde::Deserialize;
use sre_model::site;

use crate::fetch::{Reply, request};
use crate::storage::Invite;

/// The API of the server an invite names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    root: String,
    authorization: String,
}

/// Why a call did not do its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth trying again later: no network, a timeout, the server busy or restarting (5xx, 429).
    Retry {
        /// What happened, for the candidate.
        reason: String,
        /// The server's `Retry-After`, in seconds.
        after: Option<u32>,
    },
    /// The token is not accepted (unknown, expired): nothing works until a new invite.
    Unauthorized(String),
    /// The candidate has submitted: answers are read-only.
    Submitted(String),
    /// This request cannot succeed as it is (too large, invalid); the server says why.
    Refused(String),
}

/// The server's copy of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerAnswer {
    /// Its version.
    pub version: i64,
    /// Its text.
    pub text: String,
}

/// `GET /me`, the fields the site reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// Who the invite is for.
    pub candidate: Candidate,
    /// The latest version of each slot (`None`: never written).
    pub answers: Vec<SlotVersion>,
}

/// The candidate of an invite.
#[derive(Debug, Clone, Deserialize)]
pub struct Candidate {
    /// Their name.
    pub name: String,
    /// When they submitted, if they did (RFC 3339).
    pub submitted_at: Option<String>,
}

/// A slot's latest version on the server.
#[derive(Debug, Clone, Deserialize)]
pub struct SlotVersion {
    /// The slot id.
    pub slot: String,
    /// Its latest version, `None` before the first write.
    pub version: Option<i64>,
}

/// What became of a `PUT /answers/{slot}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// Stored (or already there): the version that holds the text.
    Stored(i64),
    /// The server's latest version is not the one the request named: another tab or device
    /// wrote in between. `None`: the server has no version.
    Conflict(Option<i64>),
}

#[derive(Deserialize)]
struct Stored {
    version: i64,
}

#[derive(Deserialize)]
struct PreconditionFailed {
    current: Option<Stored>,
}

#[derive(Deserialize)]
struct Submitted {
    submitted_at: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    detail: String,
}

impl Api {
    /// The API of an invite's server: its `server` origin, or the site's own.
    pub fn new(invite: &Invite) -> Api {
        let origin = invite.server.as_deref().unwrap_or("").trim_end_matches('/');
        Api {
            root: format!("{origin}{}", site::API_ROOT),
            authorization: format!("Bearer {}", invite.token),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        precondition: Option<(&str, &str)>,
        body: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut headers = vec![("authorization", self.authorization.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        headers.extend(precondition);
        let url = format!("{}/{path}", self.root);
        let reply = request(method, &url, &headers, body)
            .await
            .map_err(|reason| Failure::Retry {
                reason: format!("the server cannot be reached: {reason}"),
                after: None,
            })?;
        let detail = || {
            miniserde::json::from_str::<ErrorBody>(&reply.body)
                .map(|e| e.detail)
                .unwrap_or_else(|_| format!("HTTP {}", reply.status))
        };
        match reply.status {
            200..=299 | 304 | 404 | 412 => Ok(reply),
            401 => Err(Failure::Unauthorized(detail())),
            409 => Err(Failure::Submitted(detail())),
            408 | 429 | 500.. => Err(Failure::Retry {
                reason: format!("the server is busy: {}", detail()),
                after: reply.retry_after,
            }),
            _ => Err(Failure::Refused(detail())),
        }
    }

    /// `GET /me`.
    pub async fn me(&self) -> Result<Me, Failure> {
        let reply = self.call("GET", "me", None, None).await?;
        parse(&reply)
    }

    /// `GET /answers/{slot}`; `None` before the first write.
    pub async fn answer(&self, slot: &str) -> Result<Option<ServerAnswer>, Failure> {
        let reply = self
            .call("GET", &format!("answers/{slot}"), None, None)
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        parse(&reply).map(Some)
    }

    /// `PUT /answers/{slot}` with `If-Match: "<base>"`, or `If-None-Match: *` without a base.
    pub async fn put_answer(
        &self,
        slot: &str,
        text: &str,
        base: Option<i64>,
    ) -> Result<Put, Failure> {
        let tag = base.map(|v| format!("\"{v}\""));
        let precondition = match &tag {
            Some(tag) => ("if-match", tag.as_str()),
            None => ("if-none-match", "*"),
        };
        let body = miniserde::json::to_string(&AnswerBody { text });
        let reply = self
            .call(
                "PUT",
                &format!("answers/{slot}"),
                Some(precondition),
                Some(&body),
            )
            .await?;
        match reply.status {
            412 => {
                let failed: PreconditionFailed = parse(&reply)?;
                Ok(Put::Conflict(failed.current.map(|c| c.version)))
            }
            404 => Err(Failure::Refused(format!(
                "the server has no answer slot `{slot}`"
            ))),
            _ => parse::<Stored>(&reply).map(|s| Put::Stored(s.version)),
        }
    }

    /// `POST /submit`: the time of the submission.
    pub async fn submit(&self) -> Result<String, Failure> {
        let reply = self.call("POST", "submit", None, Some("{}")).await?;
        parse::<Submitted>(&reply).map(|s| s.submitted_at)
    }

    /// `GET /reports/latest`: the latest sre-check report as uploaded (its JSON), `None` before
    /// the first upload.
    pub async fn latest_report(&self) -> Result<Option<String>, Failure> {
        let reply = self.call("GET", "reports/latest", None, None).await?;
        Ok((reply.status == 200).then_some(reply.body))
    }

    /// `GET /submissions`: the work sent, newest first; `None` from a server without the route.
    pub async fn sent(&self) -> Result<Option<Sent>, Failure> {
        let reply = self.call("GET", "submissions", None, None).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        parse(&reply).map(Some)
    }
}

/// `GET /submissions`: the work the candidate sent with `sre-check upload`, newest first.
#[derive(Debug, Clone, Deserialize)]
pub struct Sent {
    /// Every submission, newest first.
    pub submissions: Vec<SentSubmission>,
}

/// One submission the candidate sent.
#[derive(Debug, Clone, Deserialize)]
pub struct SentSubmission {
    /// When the server received it (RFC 3339).
    pub received_at: String,
    /// Its files.
    pub files: Vec<SentFile>,
}

/// A file the candidate sent.
#[derive(Debug, Clone, Deserialize)]
pub struct SentFile {
    /// Its path in the working copy.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// `new` (not in the starter kit) or `changed`.
    pub kind: String,
}

/// `{"text": …}`.
#[derive(miniserde::Serialize)]
struct AnswerBody<'a> {
    text: &'a str,
}

fn parse<T: Deserialize>(reply: &Reply) -> Result<T, Failure> {
    miniserde::json::from_str(&reply.body).map_err(|_| Failure::Retry {
        reason: format!(
            "the server's answer (HTTP {}) is not what this site expects: is it sre-intake?",
            reply.status
        ),
        after: None,
    })
}
