//! Plain HTTP GETs from inside the candidate's compose network, so the checker reaches
//! Prometheus and Alertmanager without publishing a host port (parallel runs would collide) and
//! without routing to container IPs (Docker Desktop cannot).
//!
//! A helper container joins the network namespace of the Prometheus container: there,
//! `localhost:9090` is Prometheus and service names resolve as they do for Prometheus itself.
//! It is the stack's own base image, `debian:bookworm`, so nothing is built or pulled for it; bash
//! speaks HTTP/1.0 through `/dev/tcp` (HTTP/1.0 so the answer is never chunked and the server
//! closes the connection at its end).

use std::time::Duration;

use anyhow::{Context, bail};

use crate::docker::{Docker, RunSpec};

/// The image of the helper container.
const IMAGE: &str = "debian:bookworm";

/// Opens the connection on fd 3, sends the request, prints the answer.
const SCRIPT: &str = r#"exec 3<>"/dev/tcp/$1/$2" && printf '%s' "$3" >&3 && cat <&3"#;

/// Longest time one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A helper container in the network namespace of a stack container.
pub struct Probe<'a> {
    docker: &'a Docker,
    container: String,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body, lossily decoded.
    pub body: String,
}

impl<'a> Probe<'a> {
    /// Starts the helper beside container `beside` (an id or name).
    pub fn start(docker: &'a Docker, beside: &str) -> anyhow::Result<Probe<'a>> {
        let spec = RunSpec::new(IMAGE)
            .network(&format!("container:{beside}"))
            .entrypoint("sleep")
            .args(["infinity"]);
        let container = docker
            .start(&spec, Duration::from_secs(120))
            .context("starting the checker's HTTP helper container")?;
        Ok(Probe { docker, container })
    }

    /// `GET url`. An `Err` when no HTTP answer came (connection refused, unknown host): the
    /// message says which.
    pub fn get(&self, url: &Url) -> anyhow::Result<Response> {
        let request = format!(
            "GET {} HTTP/1.0\r\nHost: {}:{}\r\nAccept: application/json\r\n\r\n",
            url.path, url.host, url.port
        );
        let port = url.port.to_string();
        let out = self.docker.exec(
            &self.container,
            &["bash", "-c", SCRIPT, "probe", &url.host, &port, &request],
            REQUEST_TIMEOUT,
        )?;
        if !out.success() || out.stdout.is_empty() {
            let reason = out
                .stderr
                .lines()
                .last()
                .map_or("no answer", str::trim)
                .trim_start_matches("bash: ");
            bail!("GET {url}: {reason}");
        }
        parse_response(&out.stdout).with_context(|| format!("GET {url}"))
    }

    /// Removes the helper container.
    pub fn remove(&self) -> anyhow::Result<()> {
        self.docker.remove_container(&self.container)
    }
}

fn parse_response(raw: &str) -> anyhow::Result<Response> {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .context("the answer has no end of headers")?;
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}

/// An `http://` URL: host, port and path with its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address.
    pub host: String,
    /// Port (80 when the URL has none).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// `http://host:port` with path `/`.
    pub fn new(host: &str, port: u16) -> Url {
        Url {
            host: host.to_owned(),
            port,
            path: "/".to_owned(),
        }
    }

    /// Parses `http://host[:port][/path]`. Other schemes are refused: the lab speaks plain HTTP.
    pub fn parse(text: &str) -> anyhow::Result<Url> {
        let rest = text
            .strip_prefix("http://")
            .with_context(|| format!("{text}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse()
                    .with_context(|| format!("{text}: bad port {port:?}"))?,
            ),
            None => (authority, 80),
        };
        if host.is_empty() {
            bail!("{text}: no host");
        }
        Ok(Url {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The same server with another path (and query).
    pub fn with_path(&self, path: &str) -> Url {
        Url {
            path: path.to_owned(),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

/// Percent-encodes a query parameter value (everything but RFC 3986's unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_and_without_port_and_path() {
        let url = Url::parse("http://alertmanager:9093/api/v2/alerts").unwrap();
        assert_eq!(
            url,
            Url {
                host: "alertmanager".into(),
                port: 9093,
                path: "/api/v2/alerts".into()
            }
        );
        assert_eq!(Url::parse("http://web").unwrap().port, 80);
        assert_eq!(Url::parse("http://web").unwrap().path, "/");
        assert!(Url::parse("https://web").is_err());
        assert!(Url::parse("http://web:x/").is_err());
        assert_eq!(
            url.with_path("/-/ready").to_string(),
            "http://alertmanager:9093/-/ready"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode(r#"up{job="a b"} == 0"#),
            "up%7Bjob%3D%22a%20b%22%7D%20%3D%3D%200"
        );
        assert_eq!(encode("rate(x[5m])"), "rate%28x%5B5m%5D%29");
    }

    #[test]
    fn responses_split_status_and_body() {
        let r =
            parse_response("HTTP/1.0 503 Service Unavailable\r\nA: b\r\n\r\nnot ready").unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.body, "not ready");
        assert!(parse_response("garbage").is_err());
    }
}
