//! Concurrent answer writes, straight on the store, on both backends: many writes at once to the
//! same slots (on SQLite they meet in one group commit) must each get the right outcome, and the
//! stored versions must be exactly the acknowledged ones, without gaps.

use std::path::Path;
use std::time::Duration;

use sre_e2e::intake::Backend;
use sre_intake::store::answers::{self, Precondition, PutOutcome};
use sre_intake::store::people::{self, NewCandidate};
use sre_intake::store::{self, Db, Location};

const CANDIDATES: usize = 12;
const SLOTS: [&str; 2] = ["feedback", "leadership"];
/// Writes racing for each slot's first version, and rounds of updates after it.
const RACERS: usize = 5;
const ROUNDS: i64 = 6;

#[test]
fn concurrent_writes_on_sqlite() {
    scenario(&Backend::sqlite());
}

#[test]
fn concurrent_writes_on_postgres() {
    scenario(&Backend::postgres());
}

fn scenario(backend: &Backend) {
    let args = backend.args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let data_dir = Path::new(&args[1]).to_path_buf();
        let location = Location {
            url: matches!(backend, Backend::Postgres(_)).then_some(args[1].as_str()),
            data_dir: &data_dir,
        };
        let db = store::open(&location, Duration::from_secs(10))
            .await
            .expect("the test database");
        run(&db, backend.name()).await;
        db.close().await;
    });
}

async fn run(db: &Db, backend: &str) {
    let mut ids = Vec::new();
    for i in 0..CANDIDATES {
        let name = format!("Candidate {i}");
        let new = NewCandidate {
            name: &name,
            email: None,
            expires_at: None,
            invited_by: None,
        };
        let (candidate, _token) = people::create_candidate(db, new)
            .await
            .expect("a candidate");
        ids.push(candidate.id);
    }
    // The last candidate submits first: every write of theirs must be refused.
    let submitted = ids.last().cloned().expect("candidates");
    people::submit(db, &submitted).await.expect("submitting");

    // Round 0: every slot gets RACERS concurrent first writes with different texts; exactly one
    // wins each slot, the others are told the current version.
    let mut racing = Vec::new();
    for id in &ids {
        for slot in SLOTS {
            for racer in 0..RACERS {
                let (db, id) = (db.clone(), id.clone());
                racing.push(tokio::spawn(async move {
                    let text = format!("{id} {slot} first draft by racer {racer}");
                    answers::put(&db, &id, slot, &Precondition::NoneExists, &text).await
                }));
            }
        }
    }
    let mut outcomes = Vec::new();
    for task in racing {
        outcomes.push(task.await.expect("a write task").expect("a write"));
    }
    for (i, chunk) in outcomes.chunks(RACERS).enumerate() {
        let who = &ids[i / SLOTS.len()];
        if *who == submitted {
            assert!(
                chunk.iter().all(|o| *o == PutOutcome::Submitted),
                "{backend}: writes after submission must be refused: {chunk:?}"
            );
            continue;
        }
        let won = chunk
            .iter()
            .filter(|o| matches!(o, PutOutcome::Stored(m) if m.version == 1))
            .count();
        let lost = chunk
            .iter()
            .filter(|o| matches!(o, PutOutcome::PreconditionFailed(Some(m)) if m.version == 1))
            .count();
        assert_eq!(
            (won, lost),
            (1, RACERS - 1),
            "{backend}: exactly one first write wins: {chunk:?}"
        );
    }

    // Rounds of updates, every slot at once, each naming the version it saw.
    for round in 1..=ROUNDS {
        let mut updates = Vec::new();
        for id in ids.iter().filter(|id| **id != submitted) {
            for slot in SLOTS {
                let (db, id) = (db.clone(), id.clone());
                updates.push(tokio::spawn(async move {
                    let text = format!("{id} {slot} draft {}", round + 1);
                    let expected = Precondition::LatestIs(vec![round]);
                    answers::put(&db, &id, slot, &expected, &text).await
                }));
            }
        }
        for task in updates {
            let outcome = task.await.expect("a write task").expect("a write");
            assert!(
                matches!(&outcome, PutOutcome::Stored(m) if m.version == round + 1),
                "{backend}: round {round}: {outcome:?}"
            );
        }
    }

    // A stale update changes nothing and reports the current version.
    let stale = answers::put(
        db,
        &ids[0],
        SLOTS[0],
        &Precondition::LatestIs(vec![1]),
        "a stale edit",
    )
    .await
    .expect("a write");
    assert!(
        matches!(&stale, PutOutcome::PreconditionFailed(Some(m)) if m.version == ROUNDS + 1),
        "{backend}: {stale:?}"
    );

    // What is stored is exactly what was acknowledged.
    for id in &ids {
        for slot in SLOTS {
            let history = answers::history(db, id, slot).await.expect("a history");
            let versions: Vec<i64> = history.iter().map(|m| m.version).collect();
            if *id == submitted {
                assert!(versions.is_empty(), "{backend}: {versions:?}");
                continue;
            }
            assert_eq!(
                versions,
                (1..=ROUNDS + 1).collect::<Vec<_>>(),
                "{backend}: {id} {slot}"
            );
            let latest = answers::latest(db, id, slot)
                .await
                .expect("a read")
                .expect("a latest version");
            assert_eq!(latest.text, format!("{id} {slot} draft {}", ROUNDS + 1));
            assert_eq!(latest.meta.bytes, latest.text.len() as i64);
        }
    }
}
