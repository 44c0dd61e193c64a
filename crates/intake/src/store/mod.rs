//! Storage: an embedded SQLite file by default, PostgreSQL when given a `postgres://` URL. The same
//! migrations (portable SQL in `migrations/`) and the same queries run on both, through sqlx's
//! `Any` driver; the differences are confined to [`open`].
//!
//! Write transactions start with a write (usually an `UPDATE` of the candidate's row). On
//! PostgreSQL that row lock serializes the writes of one candidate, so "read the latest version,
//! insert the next" cannot race, and a concurrent `submit` is seen. On SQLite every write goes
//! through one connection ([`Db::write`]), so writers never wait on each other's locks (SQLite's
//! busy handler sleeps in steps of milliseconds, which would ruin latency); readers use a separate
//! pool and, in WAL mode, never block the writer. Answer writes, the bulk of the traffic, are
//! stored in groups on SQLite ([`group_commit`]).

pub mod answers;
pub mod group_commit;
pub mod people;
pub mod reports;
pub mod scores;
pub mod submissions;
pub mod timings;
pub mod usage;
pub mod verification;
pub mod workers;

use std::fs::File;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Which database is behind the pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The database: a pool for reads and one for writes (the same pool on PostgreSQL).
#[derive(Debug, Clone)]
pub struct Db {
    /// Reads. Several connections.
    pub read: AnyPool,
    /// Writes. On SQLite a single connection: SQLite has one writer at a time anyway.
    pub write: AnyPool,
    /// Which database this is.
    pub backend: Backend,
    /// SQLite only: the queue of answer writes, stored in groups (see [`group_commit`]).
    pub answer_writer: Option<group_commit::Writer>,
    /// SQLite only: a descriptor of the database file, to sync it (`None` in memory).
    sqlite_file: Option<Arc<File>>,
}

/// What [`Db::checkpoint`] did.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint {
    /// Frames in the WAL at the last passive pass.
    pub wal_frames: i64,
    /// Frames the passive step copied.
    pub passive_frames: i64,
    /// How many passive passes it took to leave little for the restart.
    pub passes: u32,
    /// How long the passive step took (writes go on meanwhile).
    pub passive: Duration,
    /// Frames left for the restart step, which holds writes.
    pub restart_frames: i64,
    /// How long the restart step held writes.
    pub restart: Duration,
}

/// Where the database is.
#[derive(Debug, Clone)]
pub struct Location<'a> {
    /// A `postgres://` or `sqlite:` URL; when absent, `<data_dir>/intake.sqlite3`.
    pub url: Option<&'a str>,
    /// Folder of the default SQLite file.
    pub data_dir: &'a Path,
}

/// SQLite settings every connection gets. `synchronous = NORMAL` in WAL mode: a commit survives
/// the process being killed (the WAL is written before the reply), and a power cut may lose only
/// the last commits since the last checkpoint, never corrupt the file. `FULL` would fsync on every
/// commit and cap writes at the disk's fsync rate. `journal_size_limit`: a WAL that grew during a
/// burst is cut back to 64 MiB when it restarts. `wal_autocheckpoint = 0`: the server checkpoints
/// on its own schedule, off the write path (see [`Db::checkpoint`]); a CLI command's last
/// connection checkpoints when it closes.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864; \
     PRAGMA wal_autocheckpoint = 0;";

/// How many connections read at once.
const READ_CONNECTIONS: u32 = 8;

/// A passive checkpoint pass or a sync this short leaves little for the restart, which holds
/// writes.
const SHORT_PASS: Duration = Duration::from_millis(5);

/// At most this many passive passes before the restart: on a disk slower than the writes, the
/// passes would never get short.
const MAX_PASSIVE_PASSES: u32 = 12;

/// At most this many rounds of passes and a sync before the restart.
const MAX_SYNC_ROUNDS: u32 = 4;

/// The frames in the WAL and the frames checkpointed, from `PRAGMA wal_checkpoint`'s row (its
/// first column says whether readers kept it from finishing).
fn checkpoint_frames(row: &sqlx::any::AnyRow) -> anyhow::Result<(i64, i64)> {
    Ok((sqlx::Row::try_get(row, 1)?, sqlx::Row::try_get(row, 2)?))
}

/// Opens (creating if needed) the database and brings its schema up to date. A PostgreSQL server
/// that is still starting is retried for up to `wait`.
pub async fn open(location: &Location<'_>, wait: Duration) -> anyhow::Result<Db> {
    install_default_drivers();
    let url = match location.url {
        Some(url) => url.to_owned(),
        None => create_sqlite_file(location.data_dir).await?,
    };
    let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        anyhow::bail!(
            "unsupported database URL {}: use postgres://user:password@host/db or sqlite:///path",
            redact(&url)
        );
    };
    let write_connections = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 16,
    };
    let write = connect(&url, write_connections, wait).await?;
    sqlx::migrate!("./migrations")
        .run(&write)
        .await
        .context("applying database migrations")?;
    let (read, answer_writer, sqlite_file) = match backend {
        Backend::Sqlite => (
            connect(&url, READ_CONNECTIONS, wait).await?,
            Some(group_commit::Writer::start(write.clone())),
            sqlite_file(&url)?
                .map(|file| sync_handle(&file))
                .transpose()?,
        ),
        Backend::Postgres => (write.clone(), None, None),
    };
    let db = Db {
        read,
        write,
        backend,
        answer_writer,
        sqlite_file,
    };
    let filled = reports::fill_topic_statuses(&db)
        .await
        .context("filling in the topic statuses of earlier reports")?;
    if filled > 0 {
        tracing::info!(filled, "filled in the topic statuses of earlier reports");
    }
    Ok(db)
}

impl Db {
    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// SQLite only: copies the WAL into the database file and starts the WAL again from its
    /// beginning. Returns what it did; `None` on PostgreSQL.
    ///
    /// A checkpoint copies pages and syncs the files, tens of milliseconds after a second of
    /// writes. Done by the write connection (SQLite's automatic checkpoint runs in the commit that
    /// crosses 1,000 pages) it stalls every write queued behind it: that was most of the
    /// benchmark's p99. So the automatic checkpoint is off (`SQLITE_PRAGMAS`), and the work is
    /// done beside the writes, leaving the write connection only a few milliseconds of it:
    /// - `PASSIVE` passes through a reader connection copy the WAL while writes go on, until a
    ///   pass is short (each copies what was written during the one before);
    /// - the database file is synced from a blocking thread: a passive pass that does not catch
    ///   up with the last write leaves its copies unsynced, and the restart would sync them all;
    /// - both again, until the sync is short too;
    /// - `RESTART` through the write connection copies the rest, syncs and rewinds the WAL.
    ///
    /// The restart is needed because under steady writes a checkpoint never catches up with the
    /// last write, and only then does the WAL rewind on its own ("checkpoint starvation" in
    /// SQLite's WAL documentation): it grew by hundreds of MB a minute and slowed every read and
    /// write that searched or extended it.
    pub async fn checkpoint(&self) -> anyhow::Result<Option<Checkpoint>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let started = Instant::now();
        let mut passes = 0;
        let mut rounds = 0;
        let (wal_frames, passive_frames) = loop {
            let (more, frames) = self.copy_wal().await?;
            passes += more;
            rounds += 1;
            let synced = self.sync_database_file().await?;
            if synced <= SHORT_PASS || rounds == MAX_SYNC_ROUNDS {
                break frames;
            }
        };
        let copied = started.elapsed();
        let restart = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&self.write)
            .await
            .context("restarting the SQLite WAL")?;
        let (restart_frames, _) = checkpoint_frames(&restart)?;
        Ok(Some(Checkpoint {
            wal_frames,
            passive_frames,
            passes,
            passive: copied,
            restart_frames: restart_frames - passive_frames.min(restart_frames),
            restart: started.elapsed() - copied,
        }))
    }

    /// Syncs the database file from a blocking thread; how long it took.
    async fn sync_database_file(&self) -> anyhow::Result<Duration> {
        let Some(file) = self.sqlite_file.clone() else {
            return Ok(Duration::ZERO);
        };
        let started = Instant::now();
        // fsync through any descriptor of a file syncs the file.
        tokio::task::spawn_blocking(move || file.sync_data())
            .await?
            .context("syncing the SQLite database file")?;
        Ok(started.elapsed())
    }

    /// Passive checkpoint passes until one is short; how many, and the frames of the last one.
    async fn copy_wal(&self) -> anyhow::Result<(u32, (i64, i64))> {
        let mut passes = 0;
        loop {
            let pass = Instant::now();
            let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.read)
                .await
                .context("copying the SQLite WAL into the database")?;
            passes += 1;
            if pass.elapsed() <= SHORT_PASS || passes == MAX_PASSIVE_PASSES {
                return Ok((passes, checkpoint_frames(&row)?));
            }
        }
    }

    /// Waits for the connections to finish their work and closes them.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// The file of a `sqlite:` URL; `None` for an in-memory database.
fn sqlite_file(url: &str) -> anyhow::Result<Option<std::path::PathBuf>> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("not a SQLite URL: {}", redact(url)))?;
    let file = options.get_filename();
    Ok((file != Path::new(":memory:") && !file.as_os_str().is_empty()).then(|| file.to_owned()))
}

/// A descriptor of the database file `path` for syncing it: opened once per file for the life of
/// the process, and never closed.
///
/// Closing *any* descriptor of a file drops every POSIX lock the process holds on it, SQLite's
/// included (SQLite works around this only for the descriptors it opens itself). With its locks
/// gone, the next outside connection to close (an operator's `sqlite3` shell, a backup, a
/// monitoring query) believes it is the last user, and deletes the `-wal` and `-shm` files under
/// the running server: acknowledged writes were lost that way (issue 13). So the descriptor is
/// kept in a process-wide list, found again by device and inode (`stat`, which opens nothing) when
/// the same file is opened again.
fn sync_handle(path: &Path) -> anyhow::Result<Arc<File>> {
    use std::os::unix::fs::MetadataExt;
    /// A file's device and inode, and the descriptor opened for it.
    type Opened = ((u64, u64), Arc<File>);
    static OPEN: Mutex<Vec<Opened>> = Mutex::new(Vec::new());
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the metadata of {}", path.display()))?;
    let id = (meta.dev(), meta.ino());
    let mut open = OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, file)) = open.iter().find(|(known, _)| *known == id) {
        return Ok(file.clone());
    }
    let file =
        Arc::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?);
    open.push((id, file.clone()));
    Ok(file)
}

async fn create_sqlite_file(data_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let file = data_dir.join("intake.sqlite3");
    let url = format!("sqlite://{}", file.display());
    // WAL is a property of the file: set once at creation, every later connection uses it.
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let conn = options
        .connect()
        .await
        .with_context(|| format!("cannot create the database {}", file.display()))?;
    sqlx::Connection::close(conn).await.ok();
    Ok(url)
}

async fn connect(url: &str, connections: u32, wait: Duration) -> anyhow::Result<AnyPool> {
    let deadline = Instant::now() + wait;
    loop {
        let attempt = AnyPoolOptions::new()
            .max_connections(connections)
            // A busy database host can take seconds to hand out a connection: wait rather than fail
            // a CLI command or a request (requests still end at the server's request timeout).
            .acquire_timeout(Duration::from_secs(20))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        sqlx::query(SQLITE_PRAGMAS).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(err) if Instant::now() < deadline && is_transient(&err) => {
                tracing::warn!(database = %redact(url), error = %err, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot connect to the database {}", redact(url)));
            }
        }
    }
}

/// Errors worth retrying at startup: the server is not up yet, or is still starting.
fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        // 57P03: the database system is starting up.
        sqlx::Error::Database(db) => db.code().as_deref() == Some("57P03"),
        _ => false,
    }
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Now, as stored: see [`timestamp`].
pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

/// A time as stored: RFC 3339 in UTC with exactly three digits of milliseconds, so that text
/// order is time order (`…:26.5Z` would sort after `…:26.51Z`).
pub fn timestamp(t: OffsetDateTime) -> String {
    const STORED: &[BorrowedFormatItem<'_>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_else(|_| sre_model::report::format_time(t))
}

/// Whether a unique or primary key constraint refused a row.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_sort_as_text() {
        let t = time::macros::datetime!(2026-11-29 07:00:26.5 +01:00);
        assert_eq!(timestamp(t), "2026-11-29T06:00:26.500Z");
        assert!(timestamp(t) < timestamp(t + time::Duration::milliseconds(10)));
        assert!(timestamp(t - time::Duration::milliseconds(500)) < timestamp(t));
    }

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            redact("postgres://intake:s3cret@db:5432/intake"),
            "postgres://…@db:5432/intake"
        );
        assert_eq!(redact("sqlite:///var/lib/x.db"), "sqlite:///var/lib/x.db");
    }
}
