//! Prometheus metrics (`GET /metrics`) and the access log.
//!
//! Requests are labelled by route template (`/api/v1/answers/{slot}`), never by raw path: raw
//! paths would make a series per candidate id and would put invite tokens in logs.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The route a response came from, set by [`label_route`] for matched API routes.
#[derive(Debug, Clone)]
struct RouteLabel(String);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    answers_stored: Counter,
    answer_conflicts: Counter,
    reports: Family<OutcomeLabels, Counter>,
    submissions: Family<OutcomeLabels, Counter>,
    verification: Verification,
}

/// The verification queue (issue 17): counters of claims and finishes, and gauges set from the
/// database at each scrape ([`Metrics::set_verification_queue`]).
struct Verification {
    claims: Counter,
    finishes: Family<OutcomeLabels, Counter>,
    pending: Gauge,
    running: Gauge,
    oldest_pending: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Verification {
    fn register(registry: &mut Registry) -> Verification {
        let v = Verification {
            claims: Counter::default(),
            finishes: Family::default(),
            pending: Gauge::default(),
            running: Gauge::default(),
            oldest_pending: Gauge::default(),
        };
        registry.register(
            "verification_claims",
            "Verification jobs claimed by workers",
            v.claims.clone(),
        );
        registry.register(
            "verification_finishes",
            "Verification jobs finished, by outcome (verified, error)",
            v.finishes.clone(),
        );
        registry.register(
            "verification_queue_pending",
            "Submissions waiting for a verification worker",
            v.pending.clone(),
        );
        registry.register(
            "verification_queue_running",
            "Submissions being verified under a live lease",
            v.running.clone(),
        );
        registry.register(
            "verification_oldest_pending_seconds",
            "Age of the oldest submission waiting for a verification worker (0: none waits)",
            v.oldest_pending.clone(),
        );
        v
    }
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("intake");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response headers, by route template and method",
            latency.clone(),
        );
        let answers_stored = Counter::default();
        registry.register(
            "answers_stored",
            "Answer versions stored",
            answers_stored.clone(),
        );
        let answer_conflicts = Counter::default();
        registry.register(
            "answer_conflicts",
            "Answer writes refused because their precondition did not hold (412)",
            answer_conflicts.clone(),
        );
        let reports = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reports_received",
            "sre-check reports received, by outcome (stored, duplicate)",
            reports.clone(),
        );
        let verification = Verification::register(&mut registry);
        let submissions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "submissions_received",
            "Submissions of work received, by outcome (stored, duplicate, refused: a bad or \
             oversized archive, submitted: after the final submit, quota, error)",
            submissions.clone(),
        );
        Metrics {
            verification,
            registry,
            submissions,
            requests,
            latency,
            answers_stored,
            answer_conflicts,
            reports,
        }
    }

    /// Counts a stored answer version.
    pub fn answer_stored(&self) {
        self.answers_stored.inc();
    }

    /// Counts an answer write refused by its precondition.
    pub fn answer_conflict(&self) {
        self.answer_conflicts.inc();
    }

    /// Counts a received report: `stored` or `duplicate`.
    pub fn report_received(&self, outcome: &'static str) {
        self.reports.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Counts a received submission: `stored`, `duplicate`, `refused`, `submitted`, `quota` or
    /// `error`.
    pub fn submission_received(&self, outcome: &'static str) {
        self.submissions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a verification job claimed.
    pub fn verification_claimed(&self) {
        self.verification.claims.inc();
    }

    /// Counts a verification job finished: `verified` or `error`.
    pub fn verification_finished(&self, outcome: &'static str) {
        self.verification
            .finishes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Sets the queue gauges (called at each scrape, from the database).
    pub fn set_verification_queue(&self, stats: crate::store::verification::QueueStats) {
        self.verification.pending.set(stats.pending);
        self.verification.running.set(stats.running);
        self.verification
            .oldest_pending
            .set(stats.oldest_pending_seconds);
    }

    /// The text exposition format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(seconds);
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Route layer of the API: passes the matched route template out with the response.
pub async fn label_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

/// Outer layer: times every request, counts it, and writes one access-log line.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let route = match response.extensions().get::<RouteLabel>() {
        Some(RouteLabel(route)) => route.clone(),
        None if path.starts_with("/api/") => "unmatched".to_owned(),
        None => "site".to_owned(),
    };
    let status = response.status().as_u16();
    metrics.observe(&route, &method, status, elapsed.as_secs_f64());
    let shown_path = if route == "site" {
        redact_tokens(&path)
    } else {
        route.clone()
    };
    tracing::info!(
        target: "access",
        method,
        path = shown_path,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
    );
    response
}

/// Segments of site paths that carry a token in the next segment (`/invite/<token>`,
/// `/review/<token>`), compared without case.
const TOKEN_ROUTES: [&str; 2] = ["invite", "review"];

/// Longest site path logged, in characters; the rest is cut (`…`).
const LOGGED_PATH_CHARS: usize = 200;

/// A site path as logged: without anything that is or may be a token.
///
/// The path is decoded first (`%69nvite`, `invite%2f<token>`) and split into segments, and a
/// segment is replaced by `…` for what it is, not how it was spelled: the one after a token route
/// in any case (`/INVITE/<t>`), and any segment shaped like a token (43 base64url characters or
/// longer, wherever it is).
fn redact_tokens(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut shown = Vec::new();
    let mut after_route = false;
    for segment in decoded.split(['/', '\\']) {
        let token_shaped = segment.len() >= crate::tokens::TOKEN_CHARS
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shown.push(if after_route || token_shaped {
            "…"
        } else {
            segment
        });
        after_route = TOKEN_ROUTES
            .iter()
            .any(|route| segment.trim().eq_ignore_ascii_case(route));
    }
    let shown = shown.join("/");
    match shown.char_indices().nth(LOGGED_PATH_CHARS) {
        Some((cut, _)) => format!("{}…", &shown[..cut]),
        None => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_tokens_never_reach_the_log() {
        assert_eq!(redact_tokens("/invite/abcdef"), "/invite/…");
        assert_eq!(redact_tokens("/sub/invite/abc/x"), "/sub/invite/…/x");
        assert_eq!(redact_tokens("/topic/iac"), "/topic/iac");
    }

    #[test]
    fn tokens_are_redacted_however_the_path_spells_them() {
        let t = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd";
        let t = &format!("{t}e");
        assert_eq!(t.len(), crate::tokens::TOKEN_CHARS);
        for path in [
            format!("/INVITE/{t}"),
            format!("/invite%2f{t}"),
            format!("/invite%2F{t}"),
            format!("/%69nvite/{t}"),
            format!("/%49%4e%56%49%54%45/{t}"),
            format!("/review/{t}"),
            format!("/Review/{t}/topic"),
            format!("/review\\{t}"),
            format!("/elsewhere/{t}"),
            format!("/a/{}", t.replace('A', "%41")),
        ] {
            let shown = redact_tokens(&path);
            assert!(!shown.contains(&t[..20]), "{path} logged as {shown}");
            assert!(shown.contains('…'), "{path} logged as {shown}");
        }
        assert_eq!(
            redact_tokens(&format!("/review/{t}/topic")),
            "/review/…/topic"
        );
        let long = format!("/{}", "x/".repeat(300));
        assert!(redact_tokens(&long).chars().count() <= LOGGED_PATH_CHARS + 1);
    }

    #[test]
    fn the_exposition_names_every_metric() {
        let m = Metrics::new();
        m.observe("/api/v1/answers/{slot}", "PUT", 200, 0.001);
        m.answer_stored();
        m.report_received("stored");
        let text = m.encode().unwrap();
        for name in [
            "intake_http_requests_total{route=\"/api/v1/answers/{slot}\",method=\"PUT\",status=\"200\"} 1",
            "intake_http_request_duration_seconds_bucket",
            "intake_answers_stored_total 1",
            "intake_answer_conflicts_total 0",
            "intake_reports_received_total{outcome=\"stored\"} 1",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
    }
}
