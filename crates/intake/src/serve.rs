//! `sre-intake serve`: settings derived from the command line, the listener, and graceful
//! shutdown.
//!
//! On SIGTERM or SIGINT the server stops accepting connections and lets in-flight requests finish
//! (a write that started is committed and answered), then closes the database pools. If requests
//! are still running after the shutdown timeout, it exits anyway and says so.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderValue;
use tokio::sync::watch;

use crate::api::{self, AppState, Options};
use crate::cli::ServeArgs;
use crate::connections;
use crate::metrics::Metrics;
use crate::quota::{self, Quota};
use crate::ratelimit::RateLimiter;
use crate::store::{self, Location};

/// What `serve` decided from its arguments.
#[derive(Debug)]
pub struct Settings {
    listen: SocketAddr,
    database: Option<String>,
    data_dir: PathBuf,
    database_wait: Duration,
    public_url: String,
    options: Options,
    rate_limit: f64,
    rate_burst: u32,
    shutdown_timeout: Duration,
    connections: connections::Limits,
    quota: quota::Limits,
    work: sre_model::submission::Limits,
}

impl Settings {
    /// Validates the arguments before anything starts.
    pub fn from_args(args: ServeArgs, data_dir: PathBuf) -> anyhow::Result<Settings> {
        if let Some(site) = &args.site {
            anyhow::ensure!(
                site.join("index.html").is_file(),
                "{} has no index.html: build the site first (`trunk build --release`)",
                site.display()
            );
        }
        let public_url = match args.public_url {
            Some(url) => checked_url(&url)?,
            None => format!("http://{}", args.listen),
        };
        let cors_origins = args
            .cors_origins
            .iter()
            .map(|o| {
                let origin = checked_url(o)?;
                HeaderValue::from_str(&origin)
                    .with_context(|| format!("`{o}` cannot be sent as an origin header"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            args.rate_limit.is_finite() && args.rate_limit >= 0.0,
            "--rate-limit must be 0 (off) or a positive number of requests per second"
        );
        Ok(Settings {
            listen: args.listen,
            database: args.db.database,
            data_dir,
            database_wait: Duration::from_secs(args.db.database_wait),
            public_url,
            options: Options {
                site: args.site,
                cors_origins,
                request_timeout: Duration::from_secs(args.request_timeout.max(1)),
                body_timeout: Duration::from_secs(args.body_timeout),
            },
            connections: connections::Limits {
                max_connections: args.max_connections,
                header_timeout: Duration::from_secs(args.header_timeout),
            },
            quota: quota::Limits {
                bytes: i64::from(args.quota_mib).saturating_mul(1024 * 1024),
                answer_versions: i64::from(args.quota_answer_versions),
                reports: i64::from(args.quota_reports),
                submissions: i64::from(args.quota_submissions),
            },
            work: work_limits(
                args.submission_max_mib,
                args.submission_max_file_mib,
                args.submission_max_files,
            ),
            rate_limit: args.rate_limit,
            rate_burst: args.rate_burst,
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        })
    }
}

/// What a submission may hold, from the options: the archive and file sizes in MiB, the file
/// count; the files may expand to ten times the archive limit (200 MiB for the default 20).
pub fn work_limits(archive_mib: u32, file_mib: u32, files: u32) -> sre_model::submission::Limits {
    const MIB: u64 = 1024 * 1024;
    let archive_bytes = u64::from(archive_mib) * MIB;
    sre_model::submission::Limits {
        archive_bytes,
        file_bytes: u64::from(file_mib) * MIB,
        files: usize::try_from(files).unwrap_or(usize::MAX),
        expanded_bytes: archive_bytes * 10,
    }
}

/// An `http(s)://host[:port][/path]` URL without a trailing slash.
pub fn checked_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(trimmed.to_owned())
        }
        _ => anyhow::bail!("`{url}` is not an http:// or https:// URL"),
    }
}

/// Runs the server until a shutdown signal, then drains it.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let location = Location {
        url: settings.database.as_deref(),
        data_dir: &settings.data_dir,
    };
    let db = store::open(&location, settings.database_wait).await?;
    let state = AppState {
        db: db.clone(),
        metrics: Arc::new(Metrics::new()),
        limiter: Arc::new(RateLimiter::new(settings.rate_limit, settings.rate_burst)),
        tokens: Arc::default(),
        public_url: settings.public_url.clone().into(),
        quota: Arc::new(Quota::new(settings.quota)),
        work_limits: Arc::new(settings.work),
    };
    let app = api::router(state, &settings.options);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        backend = ?db.backend,
        database = %location.url.map_or_else(|| settings.data_dir.join("intake.sqlite3").display().to_string(), store::redact),
        site = ?settings.options.site,
        version = env!("CARGO_PKG_VERSION"),
        "listening on http://{addr}"
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    // Kept to be awaited before the pools close: a checkpoint still running then failed with
    // "closed pool" at every shutdown that caught one in flight.
    let checkpoints = (db.backend == store::Backend::Sqlite)
        .then(|| tokio::spawn(checkpoint_regularly(db.clone(), stop_rx.clone())));
    tokio::spawn(async move {
        let signal = shutdown_signal().await;
        tracing::info!(
            signal,
            "shutting down: no new connections, finishing in-flight requests"
        );
        stop_tx.send_replace(true);
    });
    let server = connections::serve(listener, app, settings.connections, stop_rx.clone());
    let mut deadline = stop_rx;
    let timeout = settings.shutdown_timeout;
    tokio::select! {
        () = server => {}
        () = async move {
            deadline.wait_for(|stop| *stop).await.ok();
            tokio::time::sleep(timeout).await;
        } => tracing::warn!("requests still running {} s after the shutdown signal; exiting anyway", timeout.as_secs()),
    }
    // The stop signal is set by now (or the server ended on its own: stop it too), so the
    // checkpoint task ends after the checkpoint it may be running; only then may the pools close.
    if let Some(checkpoints) = checkpoints {
        checkpoints.await.ok();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// How often the SQLite WAL is checkpointed (see [`store::Db::checkpoint`]). Half a second of
/// writes at full speed is about 40 MB of WAL, under the 64 MiB it is cut back to on a restart
/// (so the file is reused, not regrown); each checkpoint holds writes for a few milliseconds.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Keeps the SQLite WAL from growing without bound under steady load, until shutdown.
async fn checkpoint_regularly(db: store::Db, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(CHECKPOINT_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // Stop first: a tick that is also due must not start a checkpoint after the signal.
            biased;
            _ = stop.wait_for(|stop| *stop) => return,
            _ = every.tick() => {}
        }
        let started = std::time::Instant::now();
        match db.checkpoint().await {
            Ok(done) => {
                tracing::debug!(?done, "SQLite WAL checkpointed");
                if let Some(done) = done.filter(|_| store::timings::enabled()) {
                    // The restart step (which holds the writer) follows the passive step.
                    tracing::debug!(
                        target: store::timings::TARGET,
                        at_us = store::timings::micros(started),
                        passive_us = done.passive.as_micros(),
                        restart_us = done.restart.as_micros(),
                        passes = done.passes,
                        restart_frames = done.restart_frames,
                        "checkpoint"
                    );
                }
            }
            Err(err) => tracing::warn!(error = format!("{err:#}"), "SQLite WAL checkpoint failed"),
        }
    }
}

/// Waits for SIGTERM (what `docker stop` and systemd send) or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let Ok(mut term) = term else {
        tracing::warn!("cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
        tokio::signal::ctrl_c().await.ok();
        return "SIGINT";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_work_limits_are_the_models() {
        assert_eq!(
            work_limits(20, 5, 2_000),
            sre_model::submission::Limits::default()
        );
    }

    #[test]
    fn urls_are_checked_and_normalized() {
        assert_eq!(
            checked_url("https://x.example/").unwrap(),
            "https://x.example"
        );
        assert_eq!(
            checked_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["x.example", "ftp://x", "https://", "http://a b"] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
    }
}
