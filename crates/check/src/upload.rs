//! `sre-check upload`: sends the report of the last run to the challenge server (sre-intake,
//! `POST /api/v1/reports`).
//!
//! The report is validated before it leaves the machine. Uploads are idempotent on the server
//! (by the report's digest), so a network error is simply retried with growing waits; a reply
//! that says what is wrong (bad token, submitted, too large, invalid) stops at once with a message
//! that says what to do. The report file is never modified: it stays for the next attempt.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::Value;
use sre_model::Report;

use crate::cli::UploadArgs;
use crate::version_check::{self, Comparison};

/// The API path reports are posted to.
const REPORTS_PATH: &str = "/api/v1/reports";
/// The first wait between attempts; doubled after each, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
const MAX_WAIT: Duration = Duration::from_secs(8);

/// What `upload` decided from its arguments.
#[derive(Debug)]
pub struct UploadSettings {
    server: String,
    token: String,
    report_path: PathBuf,
    body: Vec<u8>,
    attempts: u32,
}

/// The server's answer to a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// `sha256:<hex>` of the report.
    pub digest: String,
    /// When the server first received it.
    pub received_at: String,
    /// Whether the server had it already.
    pub duplicate: bool,
    /// What the server wants the candidate to know (e.g. a challenge version mismatch).
    pub warnings: Vec<String>,
}

impl UploadSettings {
    /// Reads and validates the report, and works out the server and the token.
    pub fn from_args(args: UploadArgs) -> anyhow::Result<UploadSettings> {
        let Some(given) = args.token.filter(|t| !t.trim().is_empty()) else {
            bail!(
                "no token: pass --token <token> or set SRE_INTAKE_TOKEN (the token is the last \
                 part of your invite link; the whole link works too)"
            );
        };
        let (link_server, token) = split_invite(given.trim());
        let server = match (args.server, link_server) {
            (Some(server), _) => server,
            (None, Some(server)) => server,
            (None, None) => bail!(
                "no server: pass --server <URL> or set SRE_INTAKE_URL (or give your whole invite \
                 link as --token)"
            ),
        };
        let server = checked_server(&server)?;
        let body = std::fs::read(&args.report).with_context(|| {
            format!(
                "cannot read the report {}: run `sre-check run` first, or give --report",
                args.report.display()
            )
        })?;
        Report::from_json(&body).with_context(|| {
            format!(
                "{} is not a report this sre-check can upload; run `sre-check run` again",
                args.report.display()
            )
        })?;
        Ok(UploadSettings {
            server,
            token,
            report_path: args.report,
            body,
            attempts: args.attempts.max(1),
        })
    }

    /// The server reports go to.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The report file.
    pub fn report_path(&self) -> &Path {
        &self.report_path
    }
}

/// The server of `given`: a site address, or an invite link (`https://host/invite/<token>`).
pub fn server_of(given: &str) -> anyhow::Result<String> {
    match split_invite(given.trim()) {
        (Some(server), _) => checked_server(&server),
        (None, _) => checked_server(given),
    }
}

/// `https://host/invite/<token>` → (`https://host`, `<token>`); anything else is the token.
fn split_invite(given: &str) -> (Option<String>, String) {
    match given.rsplit_once("/invite/") {
        Some((server, token)) if given.contains("://") => (
            Some(server.to_owned()),
            token.trim_end_matches('/').to_owned(),
        ),
        _ => (None, given.to_owned()),
    }
}

fn checked_server(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(url.to_owned()),
        _ => bail!("the server `{url}` is not an http:// or https:// address"),
    }
}

/// One attempt's outcome.
enum Attempt {
    Done(Uploaded),
    /// Worth trying again: the network, a server error, or a rate limit (with the server's wait).
    Retry {
        reason: String,
        wait: Option<Duration>,
    },
}

/// Uploads the report, retrying transient failures; `note` receives a line per retry.
pub fn upload(settings: &UploadSettings, mut note: impl FnMut(&str)) -> anyhow::Result<Uploaded> {
    // An old sre-check is worth a warning, not a refusal: the report is still the candidate's.
    // A server without the site (API only) has no manifest to compare with: nothing to say.
    let mut outdated = match version_check::server_version(&settings.server) {
        Ok(version) => match version_check::compare(&settings.server, &version) {
            Comparison::Differs(message) => Some(message),
            Comparison::Same(_) => None,
        },
        Err(_) => None,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(120)))
        .user_agent(concat!("sre-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{}{REPORTS_PATH}", settings.server);
    let mut wait = FIRST_WAIT;
    let mut last = String::new();
    for attempt in 1..=settings.attempts {
        match attempt_once(&agent, &url, settings)? {
            Attempt::Done(mut uploaded) => {
                if let Some(message) = outdated.take() {
                    uploaded.warnings.insert(0, message);
                }
                return Ok(uploaded);
            }
            Attempt::Retry {
                reason,
                wait: asked,
            } => {
                last = reason;
                if attempt == settings.attempts {
                    break;
                }
                let pause = asked.unwrap_or_else(|| jittered(wait));
                note(&format!(
                    "upload attempt {attempt} of {}: {last}; trying again in {:.1} s",
                    settings.attempts,
                    pause.as_secs_f64()
                ));
                std::thread::sleep(pause);
                wait = (wait * 2).min(MAX_WAIT);
            }
        }
    }
    bail!(
        "could not upload after {} attempts: {last}. Your report is safe in {}; run `sre-check \
         upload` again when {} is reachable",
        settings.attempts,
        settings.report_path.display(),
        settings.server
    )
}

fn attempt_once(
    agent: &ureq::Agent,
    url: &str,
    settings: &UploadSettings,
) -> anyhow::Result<Attempt> {
    let sent = agent
        .post(url)
        .header("authorization", &format!("Bearer {}", settings.token))
        .header("content-type", "application/json")
        // The server answers a bad token or an oversized report before the body is sent.
        .header("expect", "100-continue")
        .send(&settings.body[..]);
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            return Ok(Attempt::Retry {
                reason: format!("cannot reach {}: {err}", settings.server),
                wait: None,
            });
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(60)));
    let mut text = String::new();
    // A reply cut short is as good as no reply: retry.
    if let Err(err) = response
        .into_body()
        .into_reader()
        .take(1 << 20)
        .read_to_string(&mut text)
    {
        return Ok(Attempt::Retry {
            reason: format!("the reply was cut short: {err}"),
            wait: None,
        });
    }
    let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let detail = reply["detail"].as_str().unwrap_or(text.trim()).to_owned();
    match status {
        200 | 201 => Ok(Attempt::Done(Uploaded {
            digest: reply["digest"].as_str().unwrap_or_default().to_owned(),
            received_at: reply["received_at"].as_str().unwrap_or_default().to_owned(),
            duplicate: reply["duplicate"].as_bool().unwrap_or(status == 200),
            warnings: reply["warnings"]
                .as_array()
                .map(|w| {
                    w.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })),
        401 => bail!(
            "the server does not accept your token ({detail}). Check that --token is the last part \
             of your invite link; if the invite expired, ask for a new one"
        ),
        403 => bail!(
            "this token cannot upload reports ({detail}): use the token from your invite link"
        ),
        404 => bail!(
            "{url} does not exist (404): check --server, it is the address of the challenge site"
        ),
        409 => bail!(
            "you have already submitted your answers, so the server accepts no new report ({detail})"
        ),
        413 => bail!(
            "the report is {} bytes, more than the server accepts ({detail})",
            settings.body.len()
        ),
        422 => bail!(
            "the server rejected the report: {detail}. Run `sre-check run` again with the \
             sre-check of your invite"
        ),
        429 => Ok(Attempt::Retry {
            reason: "the server asks to slow down (429)".to_owned(),
            wait: retry_after,
        }),
        500..=599 => Ok(Attempt::Retry {
            reason: format!("the server failed ({status}: {detail})"),
            wait: retry_after,
        }),
        _ => bail!("unexpected reply {status} from {url}: {detail}"),
    }
}

/// `wait` ± 25 %, so that many clients cut off together do not all come back at once.
fn jittered(wait: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let factor = 0.75 + f64::from(nanos % 1000) / 2000.0;
    wait.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_link_gives_the_server_and_the_token() {
        assert_eq!(
            split_invite("https://challenge.example.com/invite/abc_DEF-123"),
            (
                Some("https://challenge.example.com".to_owned()),
                "abc_DEF-123".to_owned()
            )
        );
        assert_eq!(
            split_invite("http://127.0.0.1:8080/sub/invite/tok/"),
            (
                Some("http://127.0.0.1:8080/sub".to_owned()),
                "tok".to_owned()
            )
        );
        assert_eq!(
            split_invite("abc_DEF-123"),
            (None, "abc_DEF-123".to_owned())
        );
    }

    #[test]
    fn servers_must_be_http_urls() {
        assert_eq!(
            checked_server("https://x.example/").unwrap(),
            "https://x.example"
        );
        assert!(checked_server("x.example").is_err());
        assert!(checked_server("https://").is_err());
    }

    #[test]
    fn waits_are_jittered_within_a_quarter() {
        for _ in 0..20 {
            let w = jittered(Duration::from_secs(2));
            assert!(
                w >= Duration::from_millis(1500) && w <= Duration::from_millis(2500),
                "{w:?}"
            );
        }
    }
}
