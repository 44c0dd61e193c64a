//! The worker routes of sre-intake (`/api/v1/worker/…`): claim, archive, heartbeat, finish.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};

/// Most bytes of an archive accepted from the server (its own limit is 20 MiB by default).
const ARCHIVE_LIMIT: u64 = 256 * 1024 * 1024;

/// A claimed job, as the server describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    /// The lease id.
    pub lease: String,
    /// Which claim of the submission this is.
    pub attempt: i64,
    /// The submission.
    pub submission: Submission,
}

/// The submission of a [`Job`].
#[derive(Debug, Clone, Deserialize)]
pub struct Submission {
    /// Its id.
    pub id: String,
    /// `sha256:<hex>` of its archive.
    pub digest: String,
    /// The challenge version its listing names.
    pub challenge_version: String,
    /// The challenge digest its listing names.
    pub challenge_digest: String,
}

/// What a heartbeat or a finish learned about the lease.
#[derive(Debug, PartialEq, Eq)]
pub enum Lease {
    /// Still ours.
    Held,
    /// Expired and taken by another worker, or finished: drop the job.
    Lost,
}

/// How the worker ran the checks, reported with each job.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    /// The engine's default runtime.
    pub name: String,
    /// Whether it is a sandbox.
    pub sandboxed: bool,
}

/// A client of one server with one worker token.
pub struct Server {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Server {
    /// A client of `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: &str) -> Server {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent(concat!("sre-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Server {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/worker/{path}", self.base)
    }

    fn post(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let response = self
            .agent
            .post(&self.url(path))
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(serde_json::to_vec(body)?.as_slice())
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status().as_u16();
        let mut text = String::new();
        response
            .into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_string(&mut text)
            .context("reading the server's reply")?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Claims the oldest unverified submission for `lease_seconds`; `None` when nothing waits.
    pub fn claim(&self, lease_seconds: u64) -> anyhow::Result<Option<Job>> {
        let (status, reply) = self.post("claim", &json!({ "lease_seconds": lease_seconds }))?;
        match status {
            200 => Ok(Some(
                serde_json::from_value(reply).context("the server's job is not understood")?,
            )),
            204 => Ok(None),
            _ => bail!("claiming a job: {}", refusal(status, &reply)),
        }
    }

    /// The archive of the job `lease`.
    pub fn archive(&self, lease: &str) -> anyhow::Result<Vec<u8>> {
        let response = self
            .agent
            .get(&self.url(&format!("jobs/{lease}/archive")))
            .header("authorization", &format!("Bearer {}", self.token))
            .call()
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(ARCHIVE_LIMIT)
            .read_to_end(&mut bytes)
            .context("downloading the archive")?;
        if status != 200 {
            let reply = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            bail!("downloading the archive: {}", refusal(status, &reply));
        }
        Ok(bytes)
    }

    /// Renews the lease.
    pub fn heartbeat(&self, lease: &str, lease_seconds: u64) -> anyhow::Result<Lease> {
        let (status, reply) = self.post(
            &format!("jobs/{lease}/heartbeat"),
            &json!({ "lease_seconds": lease_seconds }),
        )?;
        lease_outcome(status, &reply, "renewing the lease")
    }

    /// Finishes the job with the verified report (`Ok(report)`) or why there is none.
    pub fn finish(
        &self,
        lease: &str,
        runtime: &RuntimeInfo,
        outcome: Result<&Value, &str>,
    ) -> anyhow::Result<Lease> {
        let mut body = json!({ "runtime": runtime.name, "sandboxed": runtime.sandboxed });
        match outcome {
            Ok(report) => body["report"] = report.clone(),
            Err(error) => body["error"] = json!(error),
        }
        let (status, reply) = self.post(&format!("jobs/{lease}/finish"), &body)?;
        lease_outcome(status, &reply, "finishing the job")
    }
}

fn lease_outcome(status: u16, reply: &Value, doing: &str) -> anyhow::Result<Lease> {
    match status {
        200 => Ok(Lease::Held),
        409 => Ok(Lease::Lost),
        _ => bail!("{doing}: {}", refusal(status, reply)),
    }
}

fn refusal(status: u16, reply: &Value) -> String {
    let detail = reply["detail"].as_str().unwrap_or("no detail");
    match status {
        401 => format!(
            "the server refused the token (401): {detail}; make one with `sre-intake worker create`"
        ),
        403 => format!("this token is not a worker's (403): {detail}"),
        _ => format!("the server answered {status}: {detail}"),
    }
}
