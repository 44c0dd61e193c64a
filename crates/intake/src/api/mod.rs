//! The HTTP application: the JSON API under `/api/v1`, operations endpoints, and the site.
//!
//! Candidate routes ([`candidate`]) take a candidate's token and reach only that candidate's
//! data; reviewer routes ([`review`], [`scores`]) take a reviewer token. Every error is JSON
//! (`crate::error::ApiError`), including those of axum's own extractors, unknown routes and
//! methods, timeouts and panics.

pub mod auth;
pub mod candidate;
pub mod conditional;
pub mod ops;
pub mod review;
pub mod scores;
pub mod submissions;
pub mod verification;
pub mod work;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::metrics::{self, Metrics};
use crate::ratelimit::RateLimiter;
use crate::store::Db;
use crate::token_cache::TokenCache;

/// Most bytes of answer text (UTF-8) one version may hold.
pub const ANSWER_TEXT_LIMIT: usize = 256 * 1024;
/// Most bytes of a `PUT /answers` body: the text limit plus room for JSON escaping.
pub const ANSWER_BODY_LIMIT: usize = 4 * ANSWER_TEXT_LIMIT;
/// Most bytes of a report upload.
pub const REPORT_BODY_LIMIT: usize = 5 * 1024 * 1024;
/// Most bytes of any other body (invites, scores, submit).
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The per-token rate limit.
    pub limiter: Arc<RateLimiter>,
    /// Owners of recently used tokens.
    pub tokens: Arc<TokenCache>,
    /// Base URL of the site, for invite links (`<public_url>/invite/<token>`).
    pub public_url: Arc<str>,
    /// Each candidate's storage quota.
    pub quota: Arc<crate::quota::Quota>,
    /// What a submission of work may hold (`--submission-max-mib` and the like).
    pub work_limits: Arc<sre_model::submission::Limits>,
}

/// How the application is put together, beyond its state.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The built site to serve for every path outside the API.
    pub site: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (a site hosted elsewhere).
    pub cors_origins: Vec<HeaderValue>,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Longest wait for the next piece of a request body before answering 408 (zero: no limit).
    pub body_timeout: Duration,
}

/// The whole application.
pub fn router(state: AppState, options: &Options) -> Router {
    let api = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/me", get(candidate::me))
        .route("/answers", get(candidate::answers))
        .route(
            "/answers/{slot}",
            limited(
                get(candidate::get_answer).put(candidate::put_answer),
                ANSWER_BODY_LIMIT,
            ),
        )
        .route(
            "/reports",
            limited(post(candidate::post_report), REPORT_BODY_LIMIT),
        )
        .route("/reports/latest", get(candidate::latest_report))
        .route(
            "/submissions",
            submission_limited(
                post(submissions::post).get(submissions::list),
                &state.work_limits,
            ),
        )
        .route(
            "/submit",
            limited(post(candidate::submit), SMALL_BODY_LIMIT),
        )
        .route("/invites", limited(post(review::invite), SMALL_BODY_LIMIT))
        .route("/candidates", get(review::candidates))
        .route("/candidates/{id}", get(review::candidate))
        .route("/candidates/{id}/answers/{slot}", get(review::history))
        .route(
            "/candidates/{id}/answers/{slot}/{version}",
            get(review::version),
        )
        .route("/candidates/{id}/reports", get(review::reports))
        .route("/candidates/{id}/reports/{digest}", get(review::report))
        .route("/candidates/{id}/submissions", get(work::list))
        .route("/candidates/{id}/submissions/{digest}", get(work::one))
        .route(
            "/candidates/{id}/submissions/{digest}/files/{*path}",
            get(work::file),
        )
        .route(
            "/candidates/{id}/submissions/{digest}/raw/{*path}",
            get(work::raw),
        )
        .route(
            "/candidates/{id}/submissions/{digest}/archive",
            get(work::archive),
        )
        .route(
            "/scores/{candidate}",
            limited(get(scores::get).put(scores::put), SMALL_BODY_LIMIT),
        )
        .route("/export/scores.csv", get(scores::export_csv))
        .route(
            "/worker/claim",
            limited(post(worker::claim), SMALL_BODY_LIMIT),
        )
        .route("/worker/jobs/{lease}/archive", get(worker::archive))
        .route(
            "/worker/jobs/{lease}/heartbeat",
            limited(post(worker::heartbeat), SMALL_BODY_LIMIT),
        )
        .route(
            "/worker/jobs/{lease}/finish",
            limited(post(worker::finish), REPORT_BODY_LIMIT * 2),
        )
        .route("/export/scores.json", get(scores::export_json))
        .route_layer(middleware::from_fn(metrics::label_route))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(SMALL_BODY_LIMIT))
        // API replies hold answers, tokens and personal data: no cache keeps them unless a
        // route says otherwise (answers allow revalidation with their ETag).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let api = match cors(&options.cors_origins) {
        Some(layer) => api.layer(layer),
        None => api,
    };
    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(middleware::from_fn(metrics::label_route));
    let app = Router::new().nest("/api/v1", api).merge(ops);
    let app = match &options.site {
        Some(dir) => app.merge(crate::site::router(dir, &state.public_url)),
        None => app.fallback(api_not_found),
    };
    let timeout = options.request_timeout;
    // Archives (sre-check's .tar.gz downloads) are compressed already: sent as they are, their
    // size matches the download page and their checksum the bytes on disk.
    let compress = DefaultPredicate::new().and(NotForContentType::const_new("application/gzip"));
    let body_timeout = options.body_timeout;
    app.layer(CompressionLayer::new().compress_when(compress))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            crate::connections::body_timeout(body_timeout, req, next)
        }))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            within(timeout, req, next)
        }))
        .layer(middleware::from_fn(crate::request_head::within_limits))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(middleware::from_fn_with_state(
            crate::browser_headers::policy(options.site.as_deref()),
            crate::browser_headers::add,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// A route whose request bodies are bounded by `limit` bytes: a body declared larger
/// (`Content-Length`) is refused with 413 before a byte of it is read, so a client that sent
/// `Expect: 100-continue` never sends it; a body that turns out larger is cut at the limit.
fn limited(route: MethodRouter<AppState>, limit: usize) -> MethodRouter<AppState> {
    bounded(
        route,
        limit,
        Arc::new(move |length| {
            ApiError::too_large(format!(
                "the request body is {length} bytes; this route accepts at most {limit} bytes"
            ))
        }),
    )
}

/// The `POST /submissions` route: bodies up to the archive limit, refused as
/// `submission_too_large` (naming the limits) when declared larger.
fn submission_limited(
    route: MethodRouter<AppState>,
    limits: &sre_model::submission::Limits,
) -> MethodRouter<AppState> {
    let limits = *limits;
    let limit = usize::try_from(limits.archive_bytes).unwrap_or(usize::MAX);
    bounded(
        route,
        limit,
        Arc::new(move |length| submissions::too_large(&limits, Some(length))),
    )
}

/// The refusal of a body declared larger than a route's limit, given its declared length.
type Refusal = Arc<dyn Fn(u64) -> ApiError + Send + Sync>;

/// A route whose request bodies are bounded by `limit` bytes, like [`limited`], with its own
/// refusal for a body declared larger.
fn bounded(
    route: MethodRouter<AppState>,
    limit: usize,
    refusal: Refusal,
) -> MethodRouter<AppState> {
    route
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            declared_within(limit, refusal.clone(), req, next)
        }))
}

async fn declared_within(limit: usize, refusal: Refusal, request: Request, next: Next) -> Response {
    // A compressed body would be parsed as if it were plain JSON: refuse it rather than guess.
    let encoding = request
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .find(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    if let Some(encoding) = encoding {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_encoding",
            format!(
                "request bodies are read as sent; `Content-Encoding: {}` is not accepted: send \
                 the body uncompressed",
                encoding.escape_debug()
            ),
        )
        .into_response();
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > u64::try_from(limit).unwrap_or(u64::MAX) => {
            refusal(length).into_response()
        }
        _ => next.run(request).await,
    }
}

fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::PUT, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
            ])
            .expose_headers([header::ETAG, header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    )
}

async fn within(timeout: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} s; try again",
                timeout.as_secs()
            ),
        )
        .into_response(),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(&anyhow::anyhow!("a request handler panicked")).into_response()
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API route; the API lives under /api/v1")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
    )
}

/// A JSON body whose rejections are API errors: 400 malformed JSON or invalid UTF-8, 415 without
/// `Content-Type: application/json`, 413 over the route's size limit, 422 wrong shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(value)| ApiJson(value))
            .map_err(json_rejection)
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::unprocessable("invalid_body", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(e) => bytes_rejection(&e),
        other => ApiError::new(other.status(), "bad_body", other.body_text()),
    }
}

/// The API error for a body that could not be read (too large, or cut short).
pub fn bytes_rejection(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the request body is larger than this route accepts (answers: {} KiB of text, \
             reports: {} MiB, other bodies: {} KiB)",
            ANSWER_TEXT_LIMIT / 1024,
            REPORT_BODY_LIMIT / 1024 / 1024,
            SMALL_BODY_LIMIT / 1024
        ))
    } else if crate::connections::is_body_timeout(rejection) {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "the request body stopped arriving before it was complete (is Content-Length \
             right?); send the whole body again",
        )
    } else {
        ApiError::bad_request("unreadable_body", rejection.body_text())
    }
}

/// Path parameters whose rejections are API errors (400, e.g. invalid UTF-8 after decoding).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|e: PathRejection| ApiError::bad_request("bad_path", e.body_text()))
    }
}

/// A reply whose body is JSON already serialized (a stored report, as it was uploaded).
pub fn json_text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A JSON response with extra headers.
pub fn json_with(
    status: StatusCode,
    headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
    body: serde_json::Value,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().extend(headers);
    response
}
