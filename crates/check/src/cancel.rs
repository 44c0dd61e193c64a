//! Ctrl-C and SIGTERM: the first one asks the run to stop and clean up, the second one exits at once.
//!
//! Long work (every external command) polls [`requested`], so a stop request ends the current
//! command within milliseconds; the runner then removes every Docker object of the run.

use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Set while the run removes its Docker objects: those commands must run even after a stop
/// request (a second Ctrl-C still exits at once).
static CLEANING_UP: AtomicBool = AtomicBool::new(false);

/// Exit code when a second interrupt arrives during cleanup (128 + SIGINT, the shell convention).
const EXIT_ON_SECOND_INTERRUPT: i32 = 130;

/// Installs the SIGINT/SIGTERM handler: a thread that receives the signals (so it may print and
/// exit, which a signal handler may not). Call early in a run; a second call changes nothing.
pub fn install() -> anyhow::Result<()> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("sre-check-signals".to_owned())
        .spawn(move || {
            for _ in signals.forever() {
                if REQUESTED.swap(true, Ordering::SeqCst) {
                    eprintln!(
                        "\nsre-check: interrupted twice, exiting without cleanup; run `sre-check \
                         clean` to remove leftover containers"
                    );
                    std::process::exit(EXIT_ON_SECOND_INTERRUPT);
                }
                eprintln!(
                    "\nsre-check: interrupted, stopping and cleaning up (press Ctrl-C again to quit \
                     now)"
                );
            }
        })?;
    Ok(())
}

/// Whether the current work should stop: the user asked the run to stop, and the run is not
/// cleaning up.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst) && !CLEANING_UP.load(Ordering::SeqCst)
}

/// Whether the user asked the run to stop (also during the cleanup that follows).
pub fn interrupted() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Marks the start of the cleanup: from now on commands run to their end.
pub fn begin_cleanup() {
    CLEANING_UP.store(true, Ordering::SeqCst);
}
