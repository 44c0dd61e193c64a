//! Group commit of answer writes on SQLite.
//!
//! SQLite has one writer at a time, and sqlx runs each SQLite connection on its own thread: every
//! statement is a round trip from a tokio worker to that thread and back, and every statement
//! outside a transaction is a commit. Writing answers one statement each, the single write
//! connection was the bottleneck long before the CPU (issue 9's benchmark). Here one task takes
//! every write that is waiting, up to [`MAX_BATCH`], and stores them with one statement: one round
//! trip and one commit for the lot. A lone write goes at once, alone: batching adds no wait.
//!
//! The statement inserts a row only where the candidate has not submitted and the latest version
//! is the expected one, and returns the rows it inserted. A write it did not insert goes back to
//! its caller, which works out why in a transaction (see [`super::answers::put`]). The statement
//! is all or nothing, so when it fails each write of the batch is tried again alone and gets its
//! own error.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::answers::{VersionMeta, text_bytes};
use super::{now, timings};

/// Most writes in one statement: 6 parameters each, far below SQLite's limit of 32,766.
pub const MAX_BATCH: usize = 32;

/// How many writes may wait for the writer before callers wait to queue.
const QUEUE: usize = 1024;

/// One conditional write: the next version of a slot, if the latest is `expected`.
#[derive(Debug)]
struct Write {
    candidate: String,
    slot: String,
    /// The latest version the write expects: 0 for none yet, -1 for any.
    expected: i64,
    text: String,
    /// When it was queued (for the timing events).
    queued: Instant,
    /// The stored version, or `None` when the condition did not hold.
    reply: oneshot::Sender<sqlx::Result<Option<VersionMeta>>>,
}

/// A row the statement inserted (its `RETURNING` clause).
#[derive(sqlx::FromRow)]
struct Inserted {
    candidate_id: String,
    slot: String,
    version: i64,
}

/// The queue of writes waiting for the SQLite writer. Cloning it gives another handle on the
/// same queue.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Write>,
}

impl Writer {
    /// Starts the task that writes through `pool` (the single write connection).
    pub fn start(pool: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, waiting));
        Self { queue }
    }

    /// Stores `text` as the next version of the slot if the candidate has not submitted and the
    /// latest version is `expected` (0: none yet, -1: any). `None` when nothing was stored.
    pub async fn insert_if_latest(
        &self,
        candidate: &str,
        slot: &str,
        expected: i64,
        text: &str,
    ) -> sqlx::Result<Option<VersionMeta>> {
        let (reply, answer) = oneshot::channel();
        let write = Write {
            candidate: candidate.to_owned(),
            slot: slot.to_owned(),
            expected,
            text: text.to_owned(),
            queued: Instant::now(),
            reply,
        };
        self.queue
            .send(write)
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

/// The writer: takes what is waiting, writes it, replies; until every handle is dropped.
async fn run(pool: AnyPool, mut waiting: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Writes held back because their slot was already in the batch: they go first next time.
    let mut held: Vec<Write> = Vec::new();
    loop {
        batch.append(&mut held);
        if batch.is_empty() && waiting.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        // Two versions of one slot cannot be computed in one statement (both would read the same
        // latest version): the second waits for the next batch.
        let mut slots = HashSet::with_capacity(batch.len());
        let (now, later): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .partition(|w| slots.insert((w.candidate.clone(), w.slot.clone())));
        held = later;
        if timings::enabled() {
            let started = Instant::now();
            let waits: Vec<String> = now
                .iter()
                .map(|w| started.duration_since(w.queued).as_micros().to_string())
                .collect();
            write_batch(&pool, now).await;
            tracing::debug!(
                target: timings::TARGET,
                at_us = timings::micros(started),
                statement_us = started.elapsed().as_micros(),
                waits_us = waits.join(","),
                "group commit"
            );
        } else {
            write_batch(&pool, now).await;
        }
    }
}

/// Writes a batch and replies to each write; on failure, tries each write alone.
async fn write_batch(pool: &AnyPool, batch: Vec<Write>) {
    match insert(pool, &batch).await {
        Ok(stored) => {
            for (write, meta) in batch.into_iter().zip(stored) {
                write.reply.send(Ok(meta)).ok();
            }
        }
        Err(_) if batch.len() > 1 => {
            for write in batch {
                let one = insert(pool, std::slice::from_ref(&write)).await;
                write
                    .reply
                    .send(one.map(|mut stored| stored.pop().flatten()))
                    .ok();
            }
        }
        Err(err) => {
            if let Some(write) = batch.into_iter().next() {
                write.reply.send(Err(err)).ok();
            }
        }
    }
}

/// One statement for the whole batch; for each write, in order, the version it stored.
async fn insert(pool: &AnyPool, batch: &[Write]) -> sqlx::Result<Vec<Option<VersionMeta>>> {
    let created_at = now();
    // The text is built from numbered placeholders only, never from data.
    let sql = sqlx::AssertSqlSafe(statement(batch.len()));
    let mut query = sqlx::query_as::<_, Inserted>(sql);
    for write in batch {
        query = query
            .bind(write.candidate.as_str())
            .bind(write.slot.as_str())
            .bind(write.expected)
            .bind(write.text.as_str())
            .bind(text_bytes(&write.text));
    }
    let rows = query.bind(&created_at).fetch_all(pool).await?;
    let mut stored = vec![None; batch.len()];
    for row in rows {
        if let Some(i) = batch
            .iter()
            .position(|w| w.candidate == row.candidate_id && w.slot == row.slot)
        {
            stored[i] = Some(VersionMeta {
                version: row.version,
                created_at: created_at.clone(),
                bytes: text_bytes(&batch[i].text),
            });
        }
    }
    Ok(stored)
}

/// The statement for `n` writes. The latest version is a correlated `MAX` on the primary key's
/// index, one lookup per write (a join with `GROUP BY` would read every version of the slot).
fn statement(n: usize) -> String {
    let mut values = String::new();
    for i in 0..n {
        let p = i * 5;
        let sep = if i == 0 { "" } else { ", " };
        // Writing to a String cannot fail.
        let _ = write!(
            values,
            "{sep}(${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5
        );
    }
    format!(
        "WITH w (candidate_id, slot, expected, body, bytes) AS (VALUES {values}), \
         l AS (SELECT w.*, (SELECT MAX(a.version) FROM answers a \
                            WHERE a.candidate_id = w.candidate_id AND a.slot = w.slot) AS latest \
               FROM w JOIN candidates c ON c.id = w.candidate_id WHERE c.submitted_at IS NULL) \
         INSERT INTO answers (candidate_id, slot, version, body, bytes, created_at) \
         SELECT candidate_id, slot, COALESCE(latest, 0) + 1, body, bytes, ${} FROM l \
         WHERE COALESCE(latest, 0) = expected OR (expected = -1 AND latest IS NOT NULL) \
         RETURNING candidate_id, slot, version",
        n * 5 + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_parameters_in_order() {
        let one = statement(1);
        assert!(one.contains("VALUES ($1, $2, $3, $4, $5))"), "{one}");
        assert!(one.contains("bytes, $6 FROM l"), "{one}");
        let two = statement(2);
        assert!(
            two.contains("($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10))"),
            "{two}"
        );
        assert!(two.contains("$11 FROM l"), "{two}");
    }
}
