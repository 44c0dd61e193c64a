//! The rubric of one topic: each evaluation criterion of the manifest with a 1-4 score and a
//! note, saved with `PUT /scores/{candidate}` (the reviewer's own scores; other reviewers' are
//! shown beside them).

use leptos::prelude::*;

use super::data::{CriterionView, ScoreInput};
use super::session::Session;

/// The scores a reviewer gives.
const SCORES: [i64; 4] = [1, 2, 3, 4];

/// What became of the last save.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Saving {
    Idle,
    Busy,
    Saved(usize),
    Failed(String),
}

/// The rubric of a topic, with the calling reviewer's scores filled in.
#[component]
pub fn Rubric(
    /// The candidate's server id.
    candidate: String,
    /// The topic id.
    topic: String,
    /// Its criteria, with scores given so far.
    criteria: Vec<CriterionView>,
) -> impl IntoView {
    if criteria.is_empty() {
        return view! { <p class="muted">"This topic has no evaluation criteria to score."</p> }
            .into_any();
    }
    let session = expect_context::<Session>();
    let fields: Vec<(String, RwSignal<Option<i64>>, RwSignal<String>)> = criteria
        .iter()
        .map(|c| {
            let mine = c.mine.as_ref();
            (
                c.name.clone(),
                RwSignal::new(mine.map(|m| m.score)),
                RwSignal::new(mine.map(|m| m.note.clone()).unwrap_or_default()),
            )
        })
        .collect();
    let saving = RwSignal::new(Saving::Idle);
    let to_send = fields.clone();
    let (save_topic, save_candidate) = (topic.clone(), candidate.clone());
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let scores: Vec<ScoreInput> = to_send
            .iter()
            .filter_map(|(name, score, note)| {
                Some(ScoreInput {
                    topic: save_topic.clone(),
                    criterion: name.clone(),
                    score: score.get_untracked()?,
                    note: note.get_untracked().trim().to_owned(),
                })
            })
            .collect();
        if scores.is_empty() {
            saving.set(Saving::Failed("give at least one score".to_owned()));
            return;
        }
        let (api, id, count) = (session.api(), save_candidate.clone(), scores.len());
        saving.set(Saving::Busy);
        leptos::task::spawn_local(async move {
            let Some(api) = api else { return };
            saving.set(match api.put_scores(&id, scores).await {
                Ok(()) => Saving::Saved(count),
                Err(failure) => Saving::Failed(failure.message().to_owned()),
            });
        });
    };
    let items = criteria
        .into_iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (criterion, (_, score, note)))| {
            criterion_fields(&topic, i, criterion, score, note)
        })
        .collect_view();
    let status = move || match saving.get() {
        Saving::Idle => None,
        Saving::Busy => Some(view! { <p class="status" role="status">"Saving…"</p> }.into_any()),
        Saving::Saved(n) => Some(
            view! { <p class="status saved" role="status">{format!("Saved {n} scores.")}</p> }
                .into_any(),
        ),
        Saving::Failed(reason) => Some(
            view! { <p class="status error" role="alert">"Not saved: " {reason} "."</p> }
                .into_any(),
        ),
    };
    view! {
        <form class="rubric" data-topic=topic.clone() on:submit=save>
            <h3>"Your scores"</h3>
            <p class="muted">"1 (lowest) to 4 (highest) per criterion, with a note on why. Criteria left without a score keep the one saved before."</p>
            {items}
            <button type="submit" disabled=move || saving.get() == Saving::Busy>"Save scores"</button>
            {status}
        </form>
    }
    .into_any()
}

fn criterion_fields(
    topic: &str,
    index: usize,
    criterion: CriterionView,
    score: RwSignal<Option<i64>>,
    note: RwSignal<String>,
) -> impl IntoView {
    let group = format!("score-{topic}-{index}");
    let note_id = format!("note-{topic}-{index}");
    let choices = SCORES
        .iter()
        .map(|&value| {
            // The anchored descriptor of this score, from the manifest, beside its button.
            let level = usize::try_from(value - 1)
                .ok()
                .and_then(|i| criterion.levels.get(i))
                .cloned();
            view! {
                <label class="score-choice">
                    <input type="radio" name=group.clone() value=value
                        prop:checked=move || score.get() == Some(value)
                        on:change=move |_| score.set(Some(value)) />
                    {value}
                    {level.map(|l| view! { <span class="level">{l}</span> })}
                </label>
            }
        })
        .collect_view();
    let others = criterion
        .others
        .iter()
        .map(|o| view! { <li>{format!("{}: {}", o.reviewer, o.score)} {(!o.note.is_empty()).then(|| format!(" — {}", o.note))}</li> })
        .collect_view();
    view! {
        <fieldset class="criterion" data-criterion=criterion.name.clone()>
            <legend>{criterion.name.clone()}</legend>
            <p class="description">{criterion.description.clone()}</p>
            <div class="score-choices">{choices}</div>
            <label for=note_id.clone()>"Note"</label>
            <textarea id=note_id rows="2" prop:value=move || note.get()
                on:input=move |e| note.set(event_target_value(&e))></textarea>
            <ul class="others">{others}</ul>
        </fieldset>
    }
}
