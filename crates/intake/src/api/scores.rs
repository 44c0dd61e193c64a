//! Scores: each reviewer gives 1 to 4 and a note per evaluation criterion of the manifest
//! (`PUT /scores/{candidate}`), and any reviewer exports all scores as CSV or JSON.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sre_model::Manifest;

use super::auth::ReviewerAuth;
use super::review::existing;
use super::{ApiJson, ApiPath, AppState};
use crate::challenge;
use crate::error::ApiError;
use crate::store::scores::{self, Score, ScoreInput};

/// Longest note, in characters.
pub const NOTE_LIMIT: usize = 4000;

/// The body of `PUT /scores/{candidate}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresBody {
    /// Scores to set; criteria not listed keep theirs.
    pub scores: Vec<ScoreInput>,
}

/// `GET /scores/{candidate}`: every reviewer's scores of a candidate.
pub async fn get(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath(candidate): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    existing(&state, &candidate).await?;
    let list = scores::list(&state.db, Some(&candidate)).await?;
    Ok(Json(json!({ "scores": ordered(list) })))
}

/// `PUT /scores/{candidate}`: sets the calling reviewer's scores (all or none are stored).
pub async fn put(
    State(state): State<AppState>,
    ReviewerAuth(reviewer): ReviewerAuth,
    ApiPath(candidate): ApiPath<String>,
    ApiJson(body): ApiJson<ScoresBody>,
) -> Result<Json<Value>, ApiError> {
    validate(challenge::manifest(), &body.scores)
        .map_err(|detail| ApiError::unprocessable("invalid_scores", detail))?;
    existing(&state, &candidate).await?;
    scores::put(&state.db, &candidate, &reviewer.id, &body.scores).await?;
    let list = scores::list(&state.db, Some(&candidate)).await?;
    Ok(Json(json!({ "scores": ordered(list) })))
}

/// Checks scores against `manifest`: known topic and criterion, 1 to 4, a bounded note, each
/// criterion once.
pub fn validate(manifest: &Manifest, scores: &[ScoreInput]) -> Result<(), String> {
    if scores.is_empty() {
        return Err("`scores` is empty: give at least one".to_owned());
    }
    let mut seen = BTreeSet::new();
    for s in scores {
        let topic = manifest
            .topic(&s.topic)
            .ok_or_else(|| format!("unknown topic `{}`", s.topic.escape_debug()))?;
        if !topic.criteria.iter().any(|c| c.name == s.criterion) {
            let names: Vec<&str> = topic.criteria.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "topic {} has no criterion `{}`; its criteria are: {}",
                topic.id,
                s.criterion.escape_debug(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ));
        }
        if !(1..=4).contains(&s.score) {
            return Err(format!(
                "score {} for `{}` is out of range: scores are 1 to 4",
                s.score, s.criterion
            ));
        }
        if s.note.chars().count() > NOTE_LIMIT || s.note.contains('\0') {
            return Err(format!(
                "the note for `{}` must be at most {NOTE_LIMIT} characters without NUL",
                s.criterion
            ));
        }
        if !seen.insert((s.topic.as_str(), s.criterion.as_str())) {
            return Err(format!("`{}` is scored twice", s.criterion));
        }
    }
    Ok(())
}

/// Scores in challenge order: by candidate (as stored), then topic and criterion as the manifest
/// lists them, then reviewer.
fn ordered(mut list: Vec<Score>) -> Vec<Score> {
    let manifest = challenge::manifest();
    let rank = |s: &Score| {
        manifest
            .topics
            .iter()
            .enumerate()
            .find(|(_, t)| t.id.as_str() == s.topic)
            .map_or((usize::MAX, usize::MAX), |(i, t)| {
                let c = t.criteria.iter().position(|c| c.name == s.criterion);
                (i, c.unwrap_or(usize::MAX))
            })
    };
    // The query already orders by candidate; a stable sort keeps that order between candidates.
    let candidate_order: Vec<String> = {
        let mut ids: Vec<String> = Vec::new();
        for s in &list {
            if ids.last() != Some(&s.candidate_id) {
                ids.push(s.candidate_id.clone());
            }
        }
        ids
    };
    list.sort_by_key(|s| {
        let c = candidate_order.iter().position(|id| *id == s.candidate_id);
        (c, rank(s), s.reviewer.clone())
    });
    list
}

/// `GET /export/scores.json`: every score of every candidate.
pub async fn export_json(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
) -> Result<Response, ApiError> {
    let list = ordered(scores::list(&state.db, None).await?);
    let body = json!({
        "challenge": { "version": challenge::manifest().challenge.version },
        "exported_at": crate::store::now(),
        "scores": list,
    });
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"scores.json\""),
        )],
        Json(body),
    )
        .into_response())
}

/// `GET /export/scores.csv`: the same rows as CSV (RFC 4180), one per score.
pub async fn export_csv(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
) -> Result<Response, ApiError> {
    let list = ordered(scores::list(&state.db, None).await?);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"scores.csv\""),
            ),
        ],
        csv(&list),
    )
        .into_response())
}

/// The CSV text of a list of scores.
pub fn csv(list: &[Score]) -> String {
    let mut out = String::from(
        "candidate_id,candidate_name,reviewer,topic,criterion,score,note,updated_at\r\n",
    );
    for s in list {
        let fields = [
            s.candidate_id.as_str(),
            &s.candidate_name,
            &s.reviewer,
            &s.topic,
            &s.criterion,
            &s.score.to_string(),
            &s.note,
            &s.updated_at,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Characters that make a spreadsheet take a cell for a formula, in ASCII and full width (some
/// spreadsheets fold `＝` into `=`).
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// One CSV field: quoted when it holds a separator, a quote or a line break; and a leading `'`
/// when a spreadsheet would take it for a formula (CSV injection): one of [`FORMULA_STARTS`] after
/// any leading white space or line breaks, or a leading tab or CR.
fn csv_field(value: &str) -> String {
    let formula = value.trim_start().starts_with(FORMULA_STARTS);
    let defused = if formula || value.starts_with(['\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(topic: &str, criterion: &str, score: i64) -> ScoreInput {
        ScoreInput {
            topic: topic.to_owned(),
            criterion: criterion.to_owned(),
            score,
            note: String::new(),
        }
    }

    #[test]
    fn scores_are_checked_against_the_manifest() {
        assert!(
            validate(
                challenge::manifest(),
                &[input("iac", "Understanding Errors", 3)]
            )
            .is_ok()
        );
        let cases = [
            (vec![], "empty"),
            (vec![input("k8s", "x", 1)], "unknown topic"),
            (vec![input("iac", "Charisma", 1)], "Understanding Errors"),
            (vec![input("iac", "Understanding Errors", 5)], "1 to 4"),
            (vec![input("iac", "Understanding Errors", 0)], "1 to 4"),
            (vec![input("feedback", "Anything", 2)], "none"),
            (
                vec![
                    input("iac", "Understanding Errors", 2),
                    input("iac", "Understanding Errors", 3),
                ],
                "twice",
            ),
        ];
        for (scores, needle) in cases {
            let err = validate(challenge::manifest(), &scores).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("\n=1+1"), "\"'\n=1+1\"");
        assert_eq!(csv_field("  @SUM(A1)"), "'  @SUM(A1)");
        assert_eq!(csv_field("＝1+1"), "'＝1+1");
        assert_eq!(csv_field("\u{3000}＋1"), "'\u{3000}＋1");
        assert_eq!(csv_field("a = b"), "a = b");
    }
}
