//! Accepting connections, with limits a server on the open internet needs (issue 13): axum's own
//! `serve` sets no timer, so a client that sent its headers slowly, or sat idle on a keep-alive
//! connection, held it open for as long as it liked, and nothing capped how many it held.
//!
//! - At most [`Limits::max_connections`] connections are served at once. When all are taken the
//!   server stops accepting (new connections wait in the kernel's backlog) until one closes.
//! - A connection is closed when a request's head (request line and headers) has not arrived
//!   [`Limits::header_timeout`] after the server began waiting for it. The server waits for a
//!   head as soon as a connection opens and again after every response, so the same timeout ends
//!   slow headers and idle keep-alive connections.
//! - A body that stops arriving is cut by [`body_timeout`] (408).
//! - A request hyper refuses to parse is answered with a JSON error, as the API's are
//!   ([`request_head`]).
//!
//! On shutdown the server stops accepting, asks each connection to close after its in-flight
//! request, and returns when every connection has closed.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::request_head::{self, JsonRefusals};

/// The connection limits of `serve`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most connections served at once.
    pub max_connections: u32,
    /// Longest wait for a request's head, on a new connection or between requests.
    pub header_timeout: Duration,
}

/// Serves `app` on `listener` within `limits` until `stop` turns true, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin.
                tracing::warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        stream.set_nodelay(true).ok();
        // The client's address, for limits by client (axum's `ConnectInfo` extractor reads it).
        let service = TowerToHyperService::new(
            app.clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            request_head::configure(&mut builder);
            let stream = TokioIo::new(JsonRefusals::new(stream));
            let mut conn = pin!(builder.serve_connection(stream, service));
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(error = %err, "connection closed");
                    }
                    return;
                }
                _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
            }
            conn.await.ok();
        });
    }
    drop(listener);
    // Every connection holds a slot until it closes.
    slots.acquire_many(limits.max_connections).await.ok();
}

/// Middleware: each piece of a request body must arrive within `timeout` of the one before, or
/// reading the body fails with [`TimeoutError`] (answered 408 by [`is_body_timeout`]'s callers).
/// Without it, a body declared longer than sent held the request until the request timeout.
pub async fn body_timeout(timeout: Duration, request: Request, next: Next) -> Response {
    if timeout.is_zero() {
        return next.run(request).await;
    }
    next.run(request.map(|body| Body::new(TimeoutBody::new(timeout, body))))
        .await
}

/// Whether an error reading a body, or one of its causes, is [`body_timeout`]'s.
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}
