//! `sre-intake probe`: a health check for containers, which have no curl. Sends one
//! `GET` to a plain-HTTP URL (normally `http://127.0.0.1:8080/readyz`) and succeeds only on 200.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Fetches `url` and returns `Ok` when it answers 200 within `timeout`.
pub async fn probe(url: &str, timeout: Duration) -> anyhow::Result<()> {
    tokio::time::timeout(timeout, fetch_status(url))
        .await
        .with_context(|| format!("{url} did not answer within {} s", timeout.as_secs()))?
}

async fn fetch_status(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("`{url}` is not an http:// URL (the probe speaks plain HTTP)"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(host)
        .await
        .with_context(|| format!("cannot connect to {host}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut reply).await?;
    let reply = String::from_utf8_lossy(&reply);
    let status = reply.split_whitespace().nth(1).unwrap_or("none");
    if status != "200" {
        let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").trim();
        bail!("{url} answered {status}: {body}");
    }
    Ok(())
}
