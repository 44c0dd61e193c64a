//! The database: an embedded SQLite file by default, PostgreSQL when given a URL. The same
//! migrations (portable SQL in `migrations/`) run on both.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

/// Opens (creating if needed) the database and brings its schema up to date.
/// `url` is a `postgres://` or `sqlite:` URL; without one, `<data_dir>/intake.sqlite3` is used.
pub async fn open(url: Option<&str>, data_dir: &Path) -> anyhow::Result<AnyPool> {
    install_default_drivers();
    let url = match url {
        Some(url) => url.to_owned(),
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
            let file = data_dir.join("intake.sqlite3");
            // Create the file with WAL on first open: concurrent readers never block the writer.
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            sqlx::ConnectOptions::connect(&options)
                .await
                .with_context(|| format!("cannot create the database {}", file.display()))?;
            format!("sqlite://{}?mode=rwc", file.display())
        }
    };
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| {
            Box::pin(async move {
                if conn.backend_name() == "SQLite" {
                    sqlx::query("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .with_context(|| format!("cannot connect to the database {}", redact(&url)))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("applying database migrations")?;
    Ok(pool)
}

/// The URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
