//! sre-check's cache folder (`$XDG_CACHE_HOME/sre-check`, else `~/.cache/sre-check`) and a lock
//! on it, so that parallel runs prepare a cached thing once and the others wait and reuse it.

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::cancel;

/// The cache folder, created if needed.
pub fn dir() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: sre-check has nowhere to cache files")?;
    let dir = base.join("sre-check");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// An exclusive lock on `<cache>/<name>.lock`, released when dropped.
pub struct CacheLock {
    _lock: Flock<File>,
}

/// Waits (at most `patience`) for the lock `name`; Ctrl-C stops the wait.
pub fn lock(name: &str, patience: Duration) -> anyhow::Result<CacheLock> {
    let path = dir()?.join(format!("{name}.lock"));
    let deadline = Instant::now() + patience;
    let mut file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(CacheLock { _lock: lock }),
            Err((back, Errno::EWOULDBLOCK | Errno::EINTR)) => file = back,
            Err((_, errno)) => bail!("locking {}: {errno}", path.display()),
        }
        if cancel::requested() {
            bail!("interrupted while waiting for {}", path.display());
        }
        if Instant::now() >= deadline {
            bail!(
                "another sre-check run has been preparing the cache for {} minutes (it holds {}); \
                 let it finish, or stop it, then run again",
                patience.as_secs() / 60,
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
