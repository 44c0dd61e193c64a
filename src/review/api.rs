//! sre-intake's reviewer API (`/api/v1`, `Authorization: Bearer <reviewer token>`), as the
//! reviewer view uses it. The site's own origin serves it (sre-intake serves the site).

use miniserde::Deserialize;
use sre_model::site;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Headers, RequestInit, Response};

use super::data::{AnswerVersion, CandidateList, CandidatePage, History, ScoreInput, ScoresBody};
use super::work::data::{FileView, Submission, SubmissionList};
use crate::fetch::{Reply, request};

/// The reviewer API with one reviewer's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewApi {
    authorization: String,
}

/// Why a call failed, in words for the reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The token is unknown, expired, or a candidate's: the reviewer must log in again.
    Token(String),
    /// Anything else: network, server, a refused request.
    Other(String),
}

impl Failure {
    /// What to tell the reviewer.
    pub fn message(&self) -> &str {
        match self {
            Failure::Token(m) | Failure::Other(m) => m,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    detail: String,
}

/// An export format of every score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `scores.csv`.
    Csv,
    /// `scores.json`.
    Json,
}

impl ExportFormat {
    /// The file name the server gives it.
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Csv => "scores.csv",
            ExportFormat::Json => "scores.json",
        }
    }

    /// Its MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv",
            ExportFormat::Json => "application/json",
        }
    }
}

impl ReviewApi {
    /// The API with this token.
    pub fn new(token: &str) -> ReviewApi {
        ReviewApi {
            authorization: format!("Bearer {token}"),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Result<Reply, Failure> {
        let mut headers = vec![("authorization", self.authorization.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let url = format!("{}/{path}", site::API_ROOT);
        let reply = request(method, &url, &headers, body)
            .await
            .map_err(|reason| Failure::Other(format!("the server cannot be reached: {reason}")))?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        Err(refusal(reply.status, &reply.body))
    }

    async fn get<T: Deserialize>(&self, path: &str) -> Result<T, Failure> {
        let reply = self.call("GET", path, None).await?;
        parse(&reply)
    }

    /// `GET /candidates`.
    pub async fn candidates(&self) -> Result<CandidateList, Failure> {
        self.get("candidates").await
    }

    /// `GET /candidates/{id}`.
    pub async fn candidate(&self, id: &str) -> Result<CandidatePage, Failure> {
        self.get(&format!("candidates/{}", segment(id))).await
    }

    /// `GET /candidates/{id}/answers/{slot}`: every version of an answer.
    pub async fn history(&self, id: &str, slot: &str) -> Result<History, Failure> {
        self.get(&format!(
            "candidates/{}/answers/{}",
            segment(id),
            segment(slot)
        ))
        .await
    }

    /// `GET /candidates/{id}/answers/{slot}/{version}`: one version with its text.
    pub async fn version(
        &self,
        id: &str,
        slot: &str,
        version: u64,
    ) -> Result<AnswerVersion, Failure> {
        self.get(&format!(
            "candidates/{}/answers/{}/{version}",
            segment(id),
            segment(slot)
        ))
        .await
    }

    /// `PUT /scores/{candidate}`: sets the calling reviewer's scores of these criteria.
    pub async fn put_scores(&self, id: &str, scores: Vec<ScoreInput>) -> Result<(), Failure> {
        let body = miniserde::json::to_string(&ScoresBody { scores });
        self.call("PUT", &format!("scores/{}", segment(id)), Some(&body))
            .await
            .map(drop)
    }

    /// `GET /candidates/{id}/submissions`: the candidate's submitted work, newest first.
    pub async fn submissions(&self, id: &str) -> Result<SubmissionList, Failure> {
        self.get(&format!("candidates/{}/submissions", segment(id)))
            .await
    }

    /// `GET /candidates/{id}/submissions/{digest}`: one submission with its files.
    pub async fn submission(&self, id: &str, digest: &str) -> Result<Submission, Failure> {
        self.get(&submission_path(id, digest)).await
    }

    /// `GET /candidates/{id}/submissions/{digest}/files/{*path}`: a file with its diff.
    pub async fn file(&self, id: &str, digest: &str, path: &str) -> Result<FileView, Failure> {
        self.get(&format!(
            "{}/files/{}",
            submission_path(id, digest),
            file_path(path)
        ))
        .await
    }

    /// `GET /candidates/{id}/submissions/{digest}/raw/{*path}`: a file's bytes.
    pub async fn raw(&self, id: &str, digest: &str, path: &str) -> Result<Blob, Failure> {
        self.blob(&format!(
            "{}/raw/{}",
            submission_path(id, digest),
            file_path(path)
        ))
        .await
    }

    /// `GET /candidates/{id}/submissions/{digest}/archive`: the archive as it was sent.
    pub async fn archive(&self, id: &str, digest: &str) -> Result<Blob, Failure> {
        self.blob(&format!("{}/archive", submission_path(id, digest)))
            .await
    }

    /// A download as a blob. Fetched rather than linked, since the token goes in a header.
    async fn blob(&self, path: &str) -> Result<Blob, Failure> {
        let unreachable = |e: wasm_bindgen::JsValue| {
            Failure::Other(format!(
                "the server cannot be reached: {}",
                e.as_string().unwrap_or_else(|| "network error".to_owned())
            ))
        };
        let init = RequestInit::new();
        init.set_method("GET");
        let headers = Headers::new().map_err(unreachable)?;
        headers
            .set("authorization", &self.authorization)
            .map_err(unreachable)?;
        init.set_headers(&headers);
        let window = web_sys::window().ok_or_else(|| Failure::Other("no window".to_owned()))?;
        let url = format!("{}/{path}", site::API_ROOT);
        let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(unreachable)?
            .dyn_into()
            .map_err(|_| Failure::Other("the answer is not an HTTP response".to_owned()))?;
        if !response.ok() {
            let body = JsFuture::from(response.text().map_err(unreachable)?)
                .await
                .map_err(unreachable)?
                .as_string()
                .unwrap_or_default();
            return Err(refusal(response.status(), &body));
        }
        JsFuture::from(response.blob().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .dyn_into()
            .map_err(|_| Failure::Other("the answer is not a file".to_owned()))
    }

    /// `GET /export/scores.csv` or `.json`: every score of every candidate, as text.
    pub async fn export(&self, format: ExportFormat) -> Result<String, Failure> {
        let reply = self
            .call("GET", &format!("export/{}", format.file_name()), None)
            .await?;
        Ok(reply.body)
    }
}

/// The failure of a reply that is not a success, with the server's `detail`.
fn refusal(status: u16, body: &str) -> Failure {
    let detail = miniserde::json::from_str::<ErrorBody>(body)
        .map(|e| e.detail)
        .unwrap_or_else(|_| format!("HTTP {status}"));
    match status {
        401 => Failure::Token(format!("the server does not accept this token: {detail}")),
        403 => Failure::Token(format!(
            "this is not a reviewer token (a candidate's invite?): {detail}"
        )),
        status => Failure::Other(format!("the server answered {status}: {detail}")),
    }
}

/// `candidates/{id}/submissions/{digest}`, encoded.
fn submission_path(id: &str, digest: &str) -> String {
    format!("candidates/{}/submissions/{}", segment(id), segment(digest))
}

/// A file's path in an address: each part percent-encoded, the `/` between them kept.
fn file_path(path: &str) -> String {
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// A path segment, percent-encoded: ids come from the server, but never go into a path raw.
fn segment(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

fn parse<T: Deserialize>(reply: &Reply) -> Result<T, Failure> {
    miniserde::json::from_str(&reply.body).map_err(|_| {
        Failure::Other(format!(
            "the server's answer (HTTP {}) is not what this page expects: is it sre-intake, \
             of the same version as the site?",
            reply.status
        ))
    })
}
