//! API errors. Every error is JSON `{"error": <code>, "detail": <what to do>}` with the status
//! that says whose problem it is; some add fields (e.g. `current` on a 412).
//!
//! Internal errors are logged with their cause and answered with a generic detail: database
//! messages never reach clients.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    extra: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with a status, a short machine-readable code and a sentence for a person.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a field to the JSON body.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401: no token, or one that is not accepted.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            .header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 403: a valid token that may not do this.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409: the state of the resource forbids it (e.g. submitted answers).
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", detail)
    }

    /// 422: well-formed but not acceptable (unknown slot, score out of range…).
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// 500: logs the cause, tells the client only that it is the server's fault.
    pub fn internal(err: &anyhow::Error) -> ApiError {
        tracing::error!(error = format!("{err:#}"), "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; it has been logged, try again later",
        )
    }

    /// The machine-readable code (`submitted`, `quota_bytes`…).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body this error answers with.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".to_owned(), json!(self.code));
        body.insert("detail".to_owned(), json!(self.detail));
        body.extend(self.extra.clone());
        Value::Object(body)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        if err.chain().any(disk_full::is_disk_full) {
            return disk_full::refusal(&err);
        }
        ApiError::internal(&err)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        ApiError::from(anyhow::Error::new(err).context("database"))
    }
}

/// The database's disk is full: writes are answered 507, and `/readyz` is not ready for a while.
pub mod disk_full {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use axum::http::StatusCode;

    use super::ApiError;

    /// How long `/readyz` says not ready after a write found the disk full (a write that
    /// succeeds afterwards does not end it sooner: space freed by a checkpoint can fill again).
    pub const NOT_READY_FOR: Duration = Duration::from_secs(30);

    /// When a write last found the disk full, in milliseconds since the Unix epoch; 0: never.
    static LAST: AtomicU64 = AtomicU64::new(0);

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Whether an error (one link of a chain) says the disk is full: SQLite's `SQLITE_FULL`
    /// (13, in the low byte of extended codes), PostgreSQL's `disk_full` (53100), or `ENOSPC`.
    pub fn is_disk_full(err: &(dyn std::error::Error + 'static)) -> bool {
        if let Some(sqlx::Error::Database(db)) = err.downcast_ref::<sqlx::Error>() {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            return code == "53100" || code.parse::<i64>().is_ok_and(|c| c & 0xff == 13);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28);
        }
        false
    }

    /// 507, logged once per write, and `/readyz` not ready for [`NOT_READY_FOR`].
    pub fn refusal(err: &anyhow::Error) -> ApiError {
        LAST.store(now_ms(), Ordering::SeqCst);
        tracing::error!(error = format!("{err:#}"), "the database's disk is full");
        ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient_storage",
            "the server's disk is full: nothing was stored; keep your text and try again later",
        )
    }

    /// Whether a write found the disk full less than [`NOT_READY_FOR`] ago.
    pub fn recently() -> bool {
        let last = LAST.load(Ordering::SeqCst);
        last != 0 && now_ms().saturating_sub(last) < NOT_READY_FOR.as_millis() as u64
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
