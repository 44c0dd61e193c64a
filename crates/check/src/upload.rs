//! `sre-check upload`'s conversation with the challenge server (sre-intake): the work with the
//! report (`POST /api/v1/submissions`, an archive made by `sre-work`), or the report alone
//! (`POST /api/v1/reports`, `--report-only`).
//!
//! The report is validated before it leaves the machine. Uploads are idempotent on the server
//! (by the report's digest, by the archive's digest), so a network error is simply retried with
//! growing waits; a reply that says what is wrong (bad token, submitted, too large, invalid) stops
//! at once with a message that says what to do. The report file is never modified: it stays for
//! the next attempt.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use sre_model::Report;

use crate::cli::UploadArgs;
use crate::version_check::{self, Comparison};

/// The API path reports are posted to.
const REPORTS_PATH: &str = "/api/v1/reports";
/// The API path work (archive with report) is posted to.
const SUBMISSIONS_PATH: &str = "/api/v1/submissions";
/// Bodies from this size on show a progress bar on a terminal.
const PROGRESS_FROM: usize = 1 << 20;
/// The slowest upload speed a whole upload is given time for (bytes per second) on top of
/// [`BASE_TIMEOUT`]: 20 MiB get 5 more minutes.
const SLOWEST_SPEED: u64 = 64 * 1024;
const BASE_TIMEOUT: Duration = Duration::from_secs(120);
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
    report: Report,
    attempts: u32,
}

/// What one upload sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// The report alone.
    Report,
    /// The work: an archive with the report.
    Work,
}

impl Sending {
    fn path(self) -> &'static str {
        match self {
            Sending::Report => REPORTS_PATH,
            Sending::Work => SUBMISSIONS_PATH,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Sending::Report => "application/json",
            Sending::Work => "application/gzip",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Sending::Report => "report",
            Sending::Work => "work",
        }
    }
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
    /// Work only: how many files the server stored.
    pub files: Option<u64>,
    /// Work only: the digest of the report stored with it.
    pub report_digest: Option<String>,
}

impl UploadSettings {
    /// Reads and validates the report, and works out the server and the token.
    pub fn from_args(args: &UploadArgs) -> anyhow::Result<UploadSettings> {
        let Some(given) = args.token.as_deref().filter(|t| !t.trim().is_empty()) else {
            bail!(
                "no token: pass --token <token> or set SRE_INTAKE_TOKEN (the token is the last \
                 part of your invite link; the whole link works too)"
            );
        };
        let (link_server, token) = split_invite(given.trim());
        let server = match (args.server.clone(), link_server) {
            (Some(server), _) => server,
            (None, Some(server)) => server,
            (None, None) => bail!(
                "no server: pass --server <URL> or set SRE_INTAKE_URL (or give your whole invite \
                 link as --token)"
            ),
        };
        let server = checked_server(&server)?;
        let report_path = args
            .report
            .clone()
            .unwrap_or_else(|| args.dir.join(".sre-check/report.json"));
        let body = std::fs::read(&report_path).with_context(|| {
            format!(
                "cannot read the report {}: run `sre-check run` first, or give --report",
                report_path.display()
            )
        })?;
        let report = Report::from_json(&body).with_context(|| {
            format!(
                "{} is not a report this sre-check can upload; run `sre-check run` again",
                report_path.display()
            )
        })?;
        Ok(UploadSettings {
            server,
            token,
            report_path,
            body,
            report,
            attempts: args.attempts.max(1),
        })
    }

    /// The report, as read from the file.
    pub fn report_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The report, parsed.
    pub fn report(&self) -> &Report {
        &self.report
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

/// Uploads the report alone, retrying transient failures; `note` receives a line per retry.
pub fn upload(settings: &UploadSettings, note: impl FnMut(&str)) -> anyhow::Result<Uploaded> {
    send(settings, Sending::Report, &settings.body, note)
}

/// Uploads the work: `archive` as `sre_work::pack` made it (with the report inside), retrying
/// transient failures like [`upload`]; a progress bar shows on a terminal for large archives.
pub fn upload_work(
    settings: &UploadSettings,
    archive: &[u8],
    note: impl FnMut(&str),
) -> anyhow::Result<Uploaded> {
    send(settings, Sending::Work, archive, note)
}

fn send(
    settings: &UploadSettings,
    what: Sending,
    body: &[u8],
    mut note: impl FnMut(&str),
) -> anyhow::Result<Uploaded> {
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
        .timeout_global(Some(
            BASE_TIMEOUT + Duration::from_secs(body.len() as u64 / SLOWEST_SPEED),
        ))
        .user_agent(concat!("sre-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{}{}", settings.server, what.path());
    let mut wait = FIRST_WAIT;
    let mut last = String::new();
    for attempt in 1..=settings.attempts {
        match attempt_once(&agent, &url, settings, what, body)? {
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
    what: Sending,
    body: &[u8],
) -> anyhow::Result<Attempt> {
    let bar = progress_bar(body.len());
    let mut plain = body;
    let mut shown;
    let reader: &mut dyn Read = match &bar {
        Some(bar) => {
            shown = bar.wrap_read(body);
            &mut shown
        }
        None => &mut plain,
    };
    let sent = agent
        .post(url)
        .header("authorization", &format!("Bearer {}", settings.token))
        .header("content-type", what.content_type())
        .header("content-length", &body.len().to_string())
        // The server answers a bad token or an oversized body before the body is sent.
        .header("expect", "100-continue")
        .send(ureq::SendBody::from_reader(reader));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
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
            files: reply["files"].as_u64(),
            report_digest: reply["report"]["digest"].as_str().map(str::to_owned),
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
            "this token cannot upload {}s ({detail}): use the token from your invite link",
            what.noun()
        ),
        404 => bail!(
            "{url} does not exist (404): check --server, it is the address of the challenge site"
        ),
        409 => bail!(
            "you have already submitted your answers, so the server accepts no new {} ({detail})",
            what.noun()
        ),
        // Over one of the server's limits (size, files, a file), which may be lower than
        // sre-check's own, or the candidate's quota: the server's detail says which and what to do.
        413 if what == Sending::Work => {
            bail!("the server does not accept this much work: {detail}")
        }
        413 => bail!(
            "the report is {} bytes, more than the server accepts ({detail})",
            body.len()
        ),
        422 if what == Sending::Work => bail!("the server refused the work: {detail}"),
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

/// A progress bar for a body of `len` bytes: on a terminal, for large bodies only.
fn progress_bar(len: usize) -> Option<ProgressBar> {
    if len < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "  sending {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
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
