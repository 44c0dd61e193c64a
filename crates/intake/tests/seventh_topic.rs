//! A seventh topic with only a written answer (tests/seventh-topic/topic.toml) needs no code in the
//! server: the functions the handlers use to accept an answer slot, to score a criterion and to
//! show reviewer hints take it from the manifest, and the store keeps its answers like any other.
//! (The binary embeds content/challenge.toml at build time, so the test hands the manifest in.)

use std::time::Duration;

use sre_intake::api::{candidate, scores};
use sre_intake::store::answers::{self, Precondition, PutOutcome};
use sre_intake::store::people::{self, NewCandidate};
use sre_intake::store::scores::ScoreInput;
use sre_intake::store::{self, Location};
use sre_model::{Manifest, hints};

/// The challenge as shipped, plus the seventh topic, for the life of the test.
fn manifest_with_seventh_topic() -> &'static Manifest {
    let text = format!(
        "{}\n{}",
        include_str!("../../../content/challenge.toml"),
        include_str!("../../../tests/seventh-topic/topic.toml")
    );
    let manifest = Manifest::from_toml(&text).expect("the manifest with a seventh topic is valid");
    Box::leak(Box::new(manifest))
}

#[test]
fn answers_scores_and_hints_of_a_seventh_topic_need_no_code() {
    let manifest = manifest_with_seventh_topic();

    let slot = candidate::slot_of(manifest, "oncall").expect("the slot is accepted");
    assert_eq!(slot.topic.id, "oncall");
    assert_eq!(slot.slot.canonical_file(), "oncall/rotation.md");
    assert!(
        candidate::slot_of(manifest, "kubernetes").is_err(),
        "an unknown slot stays a 422"
    );

    let score = |criterion: &str| ScoreInput {
        topic: "oncall".to_owned(),
        criterion: criterion.to_owned(),
        score: 3,
        note: String::new(),
    };
    assert_eq!(
        scores::validate(manifest, &[score("Sustainability")]),
        Ok(())
    );
    let err = scores::validate(manifest, &[score("Charisma")]).unwrap_err();
    assert!(err.contains("Sustainability"), "{err}");

    let text = "# On-call rotation\n\nWeekly shifts with a written handover.\n";
    let template = slot.slot.template.as_deref().unwrap_or_default();
    let shown: Vec<(String, bool)> = hints::signals(&slot.slot.signals, text, template)
        .into_iter()
        .map(|s| (s.id, s.present))
        .collect();
    assert_eq!(
        shown,
        [
            ("handover".to_owned(), true),
            ("escalation".to_owned(), false)
        ]
    );

    let data = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let location = Location {
            url: None,
            data_dir: data.path(),
        };
        let db = store::open(&location, Duration::from_secs(10))
            .await
            .expect("a SQLite store");
        let new = NewCandidate {
            name: "Ada",
            email: None,
            expires_at: None,
            invited_by: None,
        };
        let (ada, _token) = people::create_candidate(&db, new)
            .await
            .expect("a candidate");
        let put = answers::put(&db, &ada.id, &slot.slot.id, &Precondition::NoneExists, text)
            .await
            .expect("the store takes the answer");
        assert!(matches!(put, PutOutcome::Stored(_)), "{put:?}");
        let latest = answers::latest(&db, &ada.id, "oncall")
            .await
            .expect("a read")
            .expect("the answer");
        assert_eq!(latest.text, text);
        db.close().await;
    });
}
