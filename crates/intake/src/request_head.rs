//! Requests refused before the API sees them get the API's JSON error too (issue 13.7): before,
//! 14 kinds of protocol-level rejection (bad framing, 414, 431) answered with an empty body.
//!
//! Two parts:
//! - [`within_limits`]: the server's own limits on a request's head (URI length, header count
//!   and size), answered by the API with a JSON error that names the limit. hyper's limits are
//!   set well above them ([`configure`]), so hyper never refuses a head the server would accept
//!   and the server's answer comes first.
//! - [`JsonRefusals`]: what hyper still refuses by itself (a request line, header or
//!   `Content-Length`/`Transfer-Encoding` it cannot parse, or a head beyond its raised limits)
//!   it answers with a fixed empty reply before any service runs, and hyper 1.x has no hook to
//!   change that reply. So the connection's writer recognises that exact reply and sends the
//!   JSON error in its place, with the same status and `Connection: close`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// Longest request target (path and query) the server reads; the API's are under 200 bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header fields in a request.
pub const MAX_HEADERS: usize = 100;
/// Most bytes of header fields in a request (names and values).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// hyper's own limits, far above the server's so that the server answers first: header fields
/// it parses, and bytes of a request head it buffers.
const HYPER_MAX_HEADERS: usize = 1000;
const HYPER_MAX_HEAD_BYTES: usize = 256 * 1024;

/// Sets hyper's limits above the server's (see the module's documentation), and has hyper write
/// each reply from one buffer, which [`JsonRefusals`] relies on to recognise its own refusals.
pub fn configure(builder: &mut http1::Builder) {
    builder
        .max_headers(HYPER_MAX_HEADERS)
        .max_header_size(HYPER_MAX_HEAD_BYTES)
        .max_buf_size(HYPER_MAX_HEAD_BYTES + 64 * 1024)
        .writev(false);
}

/// Middleware: 414 or 431 with a JSON error for a request head over the server's limits.
pub async fn within_limits(request: Request, next: Next) -> Response {
    let uri = request.uri().to_string().len();
    if uri > MAX_URI_BYTES {
        return too_long_uri(format!(
            "the request's path and query are {uri} bytes, more than the {MAX_URI_BYTES} this \
             server reads; the API's URLs are short: check the URL"
        ))
        .into_response();
    }
    let headers = request.headers();
    let count = headers.len();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if count > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return headers_too_large(format!(
            "the request has {count} header fields of {bytes} bytes; this server reads at most \
             {MAX_HEADERS} fields of {MAX_HEADER_BYTES} bytes in all: send fewer or shorter ones"
        ))
        .into_response();
    }
    next.run(request).await
}

fn too_long_uri(detail: String) -> ApiError {
    ApiError::new(StatusCode::URI_TOO_LONG, "uri_too_long", detail)
}

fn headers_too_large(detail: String) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        detail,
    )
}

/// The JSON error that replaces hyper's empty refusal with this status.
fn refusal(status: StatusCode) -> Option<ApiError> {
    Some(match status {
        StatusCode::BAD_REQUEST => ApiError::bad_request(
            "malformed_request",
            "the request is not well-formed HTTP/1.1: its request line, a header name or \
             value, or its Content-Length or Transfer-Encoding could not be read; fix the \
             client (or the proxy in front of it) that sent it",
        ),
        StatusCode::URI_TOO_LONG => too_long_uri(format!(
            "the request's path and query are far longer than the {MAX_URI_BYTES} bytes this \
             server reads; the API's URLs are short: check the URL"
        )),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => headers_too_large(format!(
            "the request's head is far over this server's limits ({MAX_HEADERS} header fields, \
             {MAX_HEADER_BYTES} bytes of them): send fewer or shorter ones"
        )),
        _ => return None,
    })
}

/// If `written` is exactly hyper's automatic refusal of a request it could not parse, the bytes
/// to send instead: the same status line, the JSON error, `Connection: close`.
///
/// hyper writes that refusal as a bare head (`connection: close`, `content-length: 0` and
/// `date`, nothing else) in one write, when no response is in progress. No response of the
/// server's own looks like it: every one carries `x-content-type-options` (set by the router
/// for every route), so a write of only those three fields is hyper's.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written)
        .ok()?
        .strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code = status_line.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    let status = StatusCode::from_bytes(code.as_bytes()).ok()?;
    let mut date = None;
    for line in lines {
        match line.split_once(": ")? {
            ("connection", "close") | ("content-length", "0") => {}
            ("date", value) => date = Some(value),
            _ => return None,
        }
    }
    let body = refusal(status)?.body().to_string();
    let mut reply = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n",
        body.len()
    );
    if let Some(date) = date {
        reply.push_str(&format!("date: {date}\r\n"));
    }
    reply.push_str("\r\n");
    let mut reply = reply.into_bytes();
    reply.extend_from_slice(body.as_bytes());
    Some(reply)
}

/// A connection's byte stream, with hyper's empty refusals replaced by JSON errors (see
/// [`replacement`]).
pub struct JsonRefusals<S> {
    inner: S,
    /// The reply being sent in place of hyper's, how much of it is sent, and how many bytes of
    /// hyper's it stands for.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<S> JsonRefusals<S> {
    /// Wraps a connection's stream.
    pub fn new(inner: S) -> JsonRefusals<S> {
        JsonRefusals {
            inner,
            replacing: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRefusals<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            this.replacing = replacement(buf).map(|reply| (reply, 0, buf.len()));
        }
        match &mut this.replacing {
            Some((reply, sent, stands_for)) if *sent < reply.len() => {
                // hyper calls again with the same bytes until they are reported written.
                while *sent < reply.len() {
                    let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &reply[*sent..]))?;
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    *sent += n;
                }
                Poll::Ready(Ok(*stands_for))
            }
            _ => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_refusals_are_replaced() {
        let hyper = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\
                      date: Mon, 07 Dec 2026 02:25:39 GMT\r\n\r\n";
        let reply = String::from_utf8(replacement(hyper).expect("replaced")).unwrap();
        assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
        assert!(reply.contains("connection: close\r\n"), "{reply}");
        assert!(
            reply.contains("date: Mon, 07 Dec 2026 02:25:39 GMT\r\n"),
            "{reply}"
        );
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{reply}"
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"], "malformed_request");
        for kept in [
            // A response of the server's own.
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-content-type-options: nosniff\r\n\r\n"[..],
            // A status hyper never refuses with.
            b"HTTP/1.1 500 Internal Server Error\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            // A head followed by a body.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"{\"text\": \"HTTP/1.1 400 Bad Request\"}",
        ] {
            assert!(replacement(kept).is_none(), "{}", String::from_utf8_lossy(kept));
        }
    }
}
