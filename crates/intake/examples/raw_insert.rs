//! The storage floor of `scripts/bench-intake`: inserts answer rows like those the benchmark
//! stored through HTTP straight into the database, one row per transaction (autocommit), in a
//! single loop, with SQLite's default checkpointing, and prints the rate. The benchmark divides its HTTP rate by this one.
//!
//! ```text
//! cargo run --profile native-release -p sre-intake --example raw_insert -- \
//!     --data-dir DIR | --database URL  --rows N [--candidates K] [--bytes B]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use sre_intake::store::people::{self, NewCandidate};
use sre_intake::store::{self, Location};

/// Inserts answer rows in a loop and prints `RAW rows=… seconds=… rows_per_s=…`.
#[derive(Debug, Parser)]
struct Args {
    /// The SQLite folder (as `sre-intake --data-dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A database URL (as `sre-intake --database`).
    #[arg(long)]
    database: Option<String>,
    /// Rows to insert.
    #[arg(long)]
    rows: u64,
    /// Candidates the rows are spread over (created for this run).
    #[arg(long, default_value_t = 64)]
    candidates: u64,
    /// Bytes of text per row.
    #[arg(long, default_value_t = 2048)]
    bytes: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data_dir = args.data_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let location = Location {
        url: args.database.as_deref(),
        data_dir: &data_dir,
    };
    let db = store::open(&location, Duration::from_secs(10)).await?;
    let mut ids = Vec::new();
    for i in 0..args.candidates.max(1) {
        let name = format!("raw insert {i}");
        let new = NewCandidate {
            name: &name,
            email: None,
            expires_at: None,
            invited_by: None,
        };
        ids.push(people::create_candidate(&db, new).await?.0.id);
    }
    if db.backend == store::Backend::Sqlite {
        // SQLite's default automatic checkpoint, as a plain insert loop has it (the server turns
        // it off and checkpoints beside its writes). The write pool is one connection.
        sqlx::query("PRAGMA wal_autocheckpoint = 1000")
            .execute(&db.write)
            .await?;
    }
    let filler = "x".repeat(args.bytes);
    let started = Instant::now();
    for n in 0..args.rows {
        let candidates = u64::try_from(ids.len())?;
        let id = &ids[usize::try_from(n % candidates)?];
        let version = i64::try_from(n / candidates + 1)?;
        let text = format!("{n} {filler}");
        sqlx::query(
            "INSERT INTO answers (candidate_id, slot, version, body, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind("feedback")
        .bind(version)
        .bind(&text)
        .bind(i64::try_from(text.len())?)
        .bind(store::now())
        .execute(&db.write)
        .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // row counts are far below 2^52
    let rate = args.rows as f64 / seconds;
    println!(
        "RAW rows={} seconds={seconds:.3} rows_per_s={rate:.1}",
        args.rows
    );
    db.close().await;
    Ok(())
}
