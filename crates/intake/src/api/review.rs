//! Reviewer routes: invite candidates, list them with their progress, and read one candidate's
//! answers (rendered to safe HTML, with hints), history and reports. Scores are in
//! [`super::scores`].
//!
//! `GET /candidates/{id}` returns everything the reviewer's candidate page shows in one document,
//! topic by topic, in challenge order: answers, hints, the latest report's checks, and the rubric
//! with the calling reviewer's scores and everyone else's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sre_model::{Audience, Report, Status, hints};

use super::auth::ReviewerAuth;
use super::candidate::known_slot;
use super::{ApiJson, ApiPath, AppState, json_text};
use crate::error::ApiError;
use crate::invites::{self, InviteError, InviteRequest};
use crate::render::answer_html;
use crate::store::answers::{self, Answer, Latest};
use crate::store::people::{self, Candidate};
use crate::store::reports::{self, ReportMeta};
use crate::store::scores::{self, Score};
use crate::store::submissions;
use crate::{challenge, store};

/// The body of `POST /invites`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The candidate's name.
    pub name: String,
    /// Their email.
    #[serde(default)]
    pub email: Option<String>,
    /// Days until the link stops working (default 30).
    #[serde(default)]
    pub expires_days: Option<u32>,
}

/// `POST /invites`: a new candidate; the reply holds the token and the link, shown only once.
pub async fn invite(
    State(state): State<AppState>,
    ReviewerAuth(reviewer): ReviewerAuth,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let request = InviteRequest {
        name: &body.name,
        email: body.email.as_deref(),
        expires_days: body.expires_days,
        invited_by: Some(&reviewer.id),
    };
    let invite = invites::create(&state.db, &state.public_url, request)
        .await
        .map_err(|e| match e {
            InviteError::Invalid(detail) => ApiError::unprocessable("invalid_invite", detail),
            InviteError::Store(err) => ApiError::internal(&err),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "candidate": invite.candidate, "token": invite.token, "link": invite.link })),
    )
        .into_response())
}

/// Where a candidate is in the challenge.
fn status(candidate: &Candidate, written: usize) -> &'static str {
    let expired = candidate
        .expires_at
        .as_deref()
        .is_some_and(|e| e <= store::now().as_str());
    match (&candidate.submitted_at, expired, written) {
        (Some(_), _, _) => "submitted",
        (None, true, _) => "expired",
        (None, false, 0) => "invited",
        (None, false, _) => "in_progress",
    }
}

/// `GET /candidates`: every candidate with status, answer progress, latest check summary and
/// scoring progress.
pub async fn candidates(
    State(state): State<AppState>,
    ReviewerAuth(reviewer): ReviewerAuth,
) -> Result<Json<Value>, ApiError> {
    let all = people::all_candidates(&state.db).await?;
    let latest = answers::latest_versions(&state.db, None).await?;
    let reports = reports::list(&state.db, None).await?;
    let scores = scores::list(&state.db, None).await?;
    let verifications = super::verification::for_list(&state.db).await?;
    let manifest = challenge::manifest();
    let slot_count = manifest.slots().count();
    let criteria_count: usize = manifest.topics.iter().map(|t| t.criteria.len()).sum();
    let items: Vec<Value> = all
        .iter()
        .map(|c| {
            let answers: Vec<&Latest> = latest.iter().filter(|l| l.candidate_id == c.id).collect();
            // Reports are listed newest first.
            let report = reports.iter().find(|r| r.candidate_id == c.id);
            let theirs: Vec<&Score> = scores.iter().filter(|s| s.candidate_id == c.id).collect();
            let mine = theirs
                .iter()
                .filter(|s| s.reviewer_id == reviewer.id)
                .count();
            let mut reviewers: Vec<&str> = theirs.iter().map(|s| s.reviewer.as_str()).collect();
            reviewers.sort_unstable();
            reviewers.dedup();
            json!({
                "candidate": c,
                "status": status(c, answers.len()),
                "last_activity_at": last_activity(c, &answers, report),
                "answers": { "written": answers.len(), "total": slot_count },
                "report": report.map(report_summary),
                "verification": verifications.get(&c.id),
                "scores": {
                    "criteria": criteria_count,
                    "scored_by_me": mine,
                    "reviewers": reviewers,
                    "mean": mean(theirs.iter().map(|s| s.score)),
                },
            })
        })
        .collect();
    Ok(Json(json!({ "candidates": items })))
}

/// The latest write of a candidate: an answer, a report or the submission.
fn last_activity<'a>(
    candidate: &'a Candidate,
    answers: &[&'a Latest],
    report: Option<&'a ReportMeta>,
) -> Option<&'a str> {
    answers
        .iter()
        .map(|a| a.created_at.as_str())
        .chain(report.map(|r| r.received_at.as_str()))
        .chain(candidate.submitted_at.as_deref())
        .max()
}

fn report_summary(meta: &ReportMeta) -> Value {
    json!({ "digest": meta.digest, "received_at": meta.received_at, "overall": meta.overall,
        "counts": meta.counts, "topics": meta.topics })
}

fn mean(values: impl Iterator<Item = i64>) -> Option<f64> {
    let (sum, n) = values.fold((0i64, 0i64), |(s, n), v| (s + v, n + 1));
    #[allow(clippy::cast_precision_loss)] // sums of scores 1-4 are small
    (n > 0).then(|| sum as f64 / n as f64)
}

/// The candidate with this id, or 404.
pub async fn existing(state: &AppState, id: &str) -> Result<Candidate, ApiError> {
    people::candidate_by_id(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no candidate `{}`", id.escape_debug())))
}

/// `GET /candidates/{id}`: the whole review page of one candidate.
pub async fn candidate(
    State(state): State<AppState>,
    ReviewerAuth(reviewer): ReviewerAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let candidate = existing(&state, &id).await?;
    let texts = answers::latest_texts(&state.db, &id).await?;
    let latest = answers::latest_versions(&state.db, Some(&id)).await?;
    let report_list = reports::list(&state.db, Some(&id)).await?;
    let report = match report_list.first() {
        Some(meta) => latest_report(&state, &id, meta).await?,
        None => None,
    };
    let scores = scores::list(&state.db, Some(&id)).await?;
    let usage = state.quota.usage(&state.db, &id).await?;
    let verification = super::verification::for_candidate(&state.db, &id).await?;
    let work = submissions::summary(&state.db, &id).await?;
    let manifest = challenge::manifest();
    let topics: Vec<Value> = manifest
        .topics
        .iter()
        .map(|topic| {
            let answers: Vec<Value> = topic
                .answers
                .iter()
                .map(|slot| {
                    let text = texts.iter().find(|(s, _)| *s == slot.id).map(|(_, a)| a);
                    answer_entry(slot, text)
                })
                .collect();
            // A report comes from the candidate's machine, so reviewer-only checks in it (from a
            // modified checker) are not evidence: they are left out, and shown as pending until
            // the verification worker runs them.
            let checks = report
                .as_ref()
                .and_then(|r| r.topics.iter().find(|t| t.id == topic.id))
                .map(|t| {
                    let mut t = t.clone();
                    t.checks.retain(|c| {
                        topic
                            .check(&c.id)
                            .is_none_or(|spec| spec.audience == Audience::Candidate)
                    });
                    t.status = Status::of_checks(&t.checks);
                    t
                });
            let criteria: Vec<Value> = topic
                .criteria
                .iter()
                .map(|criterion| {
                    let given = scores.iter().filter(|s| {
                        s.topic == topic.id.as_str() && s.criterion == criterion.name
                    });
                    let (mine, others): (Vec<&Score>, Vec<&Score>) =
                        given.partition(|s| s.reviewer_id == reviewer.id);
                    json!({
                        "name": criterion.name,
                        "description": criterion.description,
                        "levels": criterion.levels,
                        "mine": mine.first().map(|s| json!({ "score": s.score, "note": s.note, "updated_at": s.updated_at })),
                        "others": others.iter().map(|s| json!({ "reviewer": s.reviewer, "score": s.score, "note": s.note, "updated_at": s.updated_at })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let verified = verified_checks(verification.as_ref(), topic.id.as_str());
            let pending: Vec<Value> = topic
                .checks
                .iter()
                .filter(|c| c.audience == Audience::Reviewer)
                .filter(|c| !verified.iter().any(|v| v["check"] == c.id.as_str()))
                .map(|c| json!({ "id": c.id, "title": c.title }))
                .collect();
            json!({
                "id": topic.id,
                "number": topic.number,
                "roman": topic.roman(),
                "title": topic.title,
                "answers": answers,
                "checks": checks,
                "pending_checks": pending,
                "verified": verified,
                "criteria": criteria,
            })
        })
        .collect();
    let answered: Vec<&Latest> = latest.iter().collect();
    Ok(Json(json!({
        "candidate": candidate,
        "status": status(&candidate, answered.len()),
        "last_activity_at": last_activity(&candidate, &answered, report_list.first()),
        "challenge": { "version": manifest.challenge.version },
        "report": report_list.first().map(|meta| {
            let mut summary = report_summary(meta);
            if let Some(r) = &report {
                summary["tool"] = json!(r.tool);
                summary["host"] = json!(r.host);
                summary["challenge"] = json!(r.challenge);
                summary["challenge_matches"] = json!(r.challenge.version == manifest.challenge.version);
                summary["started_at"] = json!(r.started_at);
                summary["finished_at"] = json!(r.finished_at);
            }
            summary
        }),
        "reports": report_list.len(),
        "verification": verification,
        "storage": { "usage": usage, "limits": state.quota.limits() },
        "submissions": {
            "count": work.count,
            "latest": work.latest.map(|s| json!({
                "digest": s.digest, "received_at": s.received_at, "file_count": s.file_count,
            })),
        },
        "topics": topics,
    })))
}

/// The verified checks of one topic (`{check, reported, verified, disagreement}`), from the
/// candidate's verification.
fn verified_checks(verification: Option<&Value>, topic: &str) -> Vec<Value> {
    verification
        .and_then(|v| v["checks"].as_array())
        .map(|checks| {
            checks
                .iter()
                .filter(|c| c["topic"] == topic)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

async fn latest_report(
    state: &AppState,
    id: &str,
    meta: &ReportMeta,
) -> Result<Option<Report>, ApiError> {
    let Some(body) = reports::body(&state.db, id, &meta.digest).await? else {
        return Ok(None);
    };
    // Stored reports were validated on arrival; one that no longer parses (a schema change) is
    // shown as absent rather than failing the page.
    Ok(Report::from_json(body.as_bytes()).ok())
}

fn answer_entry(slot: &sre_model::AnswerSlot, latest: Option<&Answer>) -> Value {
    json!({
        "slot": slot.id,
        "title": slot.title,
        "file": slot.canonical_file(),
        "format": slot.format,
        "versions": latest.map_or(0, |a| a.meta.version),
        "latest": latest.map(|a| json!({
            "version": a.meta.version,
            "created_at": a.meta.created_at,
            "bytes": a.meta.bytes,
            "words": a.text.split_whitespace().count(),
            "unchanged": challenge::is_unchanged(slot, &a.text),
            "text": a.text,
            "html": answer_html(slot.format, &a.text),
        })),
        "hints": match latest {
            Some(a) => json!(hints::signals(&slot.signals, &a.text, challenge::starter(slot))),
            None => json!([]),
        },
    })
}

/// `GET /candidates/{id}/answers/{slot}`: every version of a slot, oldest first, without texts.
pub async fn history(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, slot)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let slot = known_slot(&slot)?.slot;
    existing(&state, &id).await?;
    let versions = answers::history(&state.db, &id, &slot.id).await?;
    Ok(Json(json!({ "slot": slot.id, "versions": versions })))
}

/// `GET /candidates/{id}/answers/{slot}/{version}`: one version, with text and safe HTML.
pub async fn version(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, slot, version)): ApiPath<(String, String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let slot = known_slot(&slot)?.slot;
    existing(&state, &id).await?;
    let answer = answers::version(&state.db, &id, &slot.id, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("`{}` has no version {version}", slot.id)))?;
    Ok(Json(json!({
        "slot": slot.id,
        "version": answer.meta.version,
        "created_at": answer.meta.created_at,
        "bytes": answer.meta.bytes,
        "text": answer.text,
        "html": answer_html(slot.format, &answer.text),
    })))
}

/// `GET /candidates/{id}/reports`: every report received, newest first.
pub async fn reports(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    existing(&state, &id).await?;
    let list = reports::list(&state.db, Some(&id)).await?;
    let items: Vec<Value> = list.iter().map(report_summary).collect();
    Ok(Json(json!({ "reports": items })))
}

/// `GET /candidates/{id}/reports/{digest}`: one report as received (`sre-check.report/1`).
pub async fn report(
    State(state): State<AppState>,
    ReviewerAuth(_): ReviewerAuth,
    ApiPath((id, digest)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let body = reports::body(&state.db, &id, &digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report `{}`", digest.escape_debug())))?;
    Ok(json_text(body))
}
