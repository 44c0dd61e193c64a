//! A small stand-in for sre-intake's candidate API, serving the built site on the same origin:
//! enough to test the site's sync (versions, preconditions, conflicts, submission, outages)
//! without building the real server.
//!
//! It follows the contract of `/api/v1` (docs/ARCHITECTURE.md, crates/intake/README.md): bearer token
//! on every call; `GET /me`; `GET /answers/{slot}` with its `ETag`; `PUT /answers/{slot}` with
//! `If-None-Match: *` for the first version and `If-Match: "<version>"` after, 412 with
//! `{current: {version}}` on a mismatch, 428 without a precondition, 409 after submission, a
//! replay of the latest text answered with its version; `POST /submit`; and
//! `GET /reports/latest`, the latest uploaded report as the site's results page reads it.
//!
//! The answers live in an [`AnswerStore`] outside the server, so a test can stop the server
//! (every connection dropped at once, as when a process dies) and start it again on the same
//! port with nothing lost, or write an answer "from another device".

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

/// Every version of every answer, and whether the candidate submitted.
#[derive(Debug, Default)]
pub struct Answers {
    /// Slot id → its versions' texts, oldest first (version n is at index n-1).
    pub versions: BTreeMap<String, Vec<String>>,
    /// When the candidate submitted.
    pub submitted_at: Option<String>,
    /// How many `PUT`s were answered (any status).
    pub puts: usize,
    /// The latest sre-check report uploaded, as JSON.
    pub report: Option<String>,
}

impl Answers {
    /// The latest text of `slot`.
    pub fn latest(&self, slot: &str) -> Option<&str> {
        self.versions.get(slot)?.last().map(String::as_str)
    }
}

/// The server's data, shared by every start of the server and by the test.
#[derive(Debug, Clone)]
pub struct AnswerStore {
    token: String,
    slots: Vec<String>,
    answers: Arc<Mutex<Answers>>,
}

impl AnswerStore {
    /// A store that accepts `token` and knows the answer slots `slots`.
    pub fn new(token: &str, slots: Vec<String>) -> AnswerStore {
        AnswerStore {
            token: token.to_owned(),
            slots,
            answers: Arc::default(),
        }
    }

    /// The answers, for the test to read or change.
    pub fn lock(&self) -> MutexGuard<'_, Answers> {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The API and the site on one loopback port; stops (dropping every connection) when dropped.
pub struct AnswerServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AnswerServer {
    /// Serves the API over `store`, and `site` if given, on `port` (0: a free one). Any origin
    /// may call the API (CORS), as sre-intake allows the site's origin with `--cors-origin`.
    pub fn start(site: Option<&Path>, store: AnswerStore, port: u16) -> Result<AnswerServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("binding 127.0.0.1:{port} for the answer server"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = router(site.map(Path::to_path_buf), store);
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the answer server's runtime")?;
        let thread = std::thread::Builder::new()
            .name(format!("answer-server-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    // Not a graceful shutdown: a stop drops every connection, like a crash.
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
            })
            .context("starting the answer server thread")?;
        Ok(AnswerServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for AnswerServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn router(site: Option<PathBuf>, store: AnswerStore) -> Router {
    let api = Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/answers/{slot}", get(get_answer).put(put_answer))
        .route("/api/v1/submit", axum::routing::post(submit))
        .route("/api/v1/reports/latest", get(latest_report))
        .with_state(store)
        .layer(CorsLayer::permissive());
    match site {
        Some(site) => api.fallback_service(ServeDir::new(site)),
        None => api,
    }
}

fn error(status: StatusCode, code: &str, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": code, "detail": detail }).to_string(),
    )
        .into_response()
}

fn ok(status: StatusCode, version: Option<usize>, body: Value) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(v) = version
        && let Ok(tag) = format!("\"{v}\"").parse()
    {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// Whether the request carries the store's token.
fn authorized(store: &AnswerStore, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", store.token);
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given == expected)
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "unauthorized", "no valid token")
}

async fn me(State(store): State<AnswerStore>, headers: HeaderMap) -> Response {
    if !authorized(&store, &headers) {
        return unauthorized();
    }
    let answers = store.lock();
    let slots: Vec<Value> = store
        .slots
        .iter()
        .map(|slot| {
            let version = answers.versions.get(slot).map(Vec::len);
            json!({ "slot": slot, "version": version })
        })
        .collect();
    ok(
        StatusCode::OK,
        None,
        json!({
            "candidate": { "id": "c1", "name": "Ada", "submitted_at": answers.submitted_at },
            "answers": slots,
        }),
    )
}

async fn get_answer(
    State(store): State<AnswerStore>,
    UrlPath(slot): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&store, &headers) {
        return unauthorized();
    }
    let answers = store.lock();
    match answers.versions.get(&slot) {
        Some(versions) if !versions.is_empty() => ok(
            StatusCode::OK,
            Some(versions.len()),
            json!({ "slot": slot, "version": versions.len(), "text": versions[versions.len() - 1] }),
        ),
        _ => error(StatusCode::NOT_FOUND, "not_found", "no answer saved yet"),
    }
}

async fn put_answer(
    State(store): State<AnswerStore>,
    UrlPath(slot): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&store, &headers) {
        return unauthorized();
    }
    let mut answers = store.lock();
    answers.puts += 1;
    if !store.slots.contains(&slot) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_slot", &slot);
    }
    if answers.submitted_at.is_some() {
        return error(
            StatusCode::CONFLICT,
            "submitted",
            "answers are read-only now",
        );
    }
    let Some(text) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("text")?.as_str().map(str::to_owned))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_json",
            "body is not {\"text\": …}",
        );
    };
    let header_text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let expected: Option<usize> = match (header_text("if-match"), header_text("if-none-match")) {
        (Some(tag), _) => match tag.trim_matches('"').parse() {
            Ok(v) => Some(v),
            Err(_) => return error(StatusCode::BAD_REQUEST, "bad_precondition", tag),
        },
        (None, Some("*")) => None,
        _ => {
            return error(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "send If-Match or If-None-Match: *",
            );
        }
    };
    let versions = answers.versions.entry(slot.clone()).or_default();
    let current = versions.len();
    if expected.unwrap_or(0) != current {
        // A replay of a write that was applied answers with its version.
        if versions.last() == Some(&text) {
            return ok(
                StatusCode::OK,
                Some(current),
                json!({ "slot": slot, "version": current, "unchanged": true }),
            );
        }
        let current_json = (current > 0).then(|| json!({ "version": current }));
        return ok(
            StatusCode::PRECONDITION_FAILED,
            (current > 0).then_some(current),
            json!({ "error": "precondition_failed", "detail": "another version exists",
                "current": current_json }),
        );
    }
    versions.push(text);
    let version = versions.len();
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    ok(
        status,
        Some(version),
        json!({ "slot": slot, "version": version, "unchanged": false }),
    )
}

async fn submit(State(store): State<AnswerStore>, headers: HeaderMap) -> Response {
    if !authorized(&store, &headers) {
        return unauthorized();
    }
    let mut answers = store.lock();
    let at = answers
        .submitted_at
        .get_or_insert_with(|| "2026-11-29T10:00:00Z".to_owned())
        .clone();
    ok(StatusCode::OK, None, json!({ "submitted_at": at }))
}

async fn latest_report(State(store): State<AnswerStore>, headers: HeaderMap) -> Response {
    if !authorized(&store, &headers) {
        return unauthorized();
    }
    match &store.lock().report {
        Some(report) => ok(
            StatusCode::OK,
            None,
            serde_json::from_str(report).unwrap_or_default(),
        ),
        None => error(StatusCode::NOT_FOUND, "not_found", "no report uploaded yet"),
    }
}
