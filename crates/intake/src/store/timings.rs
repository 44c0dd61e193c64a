//! Timing events for finding where the latency of answer writes comes from: how long each group
//! commit's writes waited and how long its statement took, and when each checkpoint held the
//! writer. Debug events on the target [`TARGET`], off unless the log filter enables them
//! (`RUST_LOG=info,sre_intake::timings=debug`, as `scripts/bench-intake --timings` does); times are
//! microseconds since [`micros`]' epoch, so events of both kinds line up.

use std::sync::OnceLock;
use std::time::Instant;

/// The tracing target of the timing events.
pub const TARGET: &str = "sre_intake::timings";

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `at` in microseconds since the process's first timing (a common clock for every event).
pub fn micros(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_micros()).unwrap_or(u64::MAX)
}

/// Whether the timing events are enabled (so nothing is measured or formatted for nothing).
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
}
