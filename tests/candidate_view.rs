//! What the candidate's side of the challenge gets, and what it must not get.
//!
//! - `sre-check init` writes every answer template with the text the site's editor starts with,
//!   both taken from the same manifest (the site's copy rendered by `cargo xtask render`).
//! - `sre-check run` on the untouched starter (every topic, with Docker) prints and stores no
//!   reviewer-only text: no title of a reviewer-only check, no label of a reviewer-only aid, no
//!   anchored descriptor of the rubric. The feedback left as handed out is no failure.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use sre_e2e::checker::{init_work, sre_check_bin};
use sre_e2e::site::{manifest, rendered_challenge};
use sre_model::{Audience, Manifest, Report, Status, site};

#[test]
fn init_writes_the_texts_the_sites_editor_starts_with() -> Result<()> {
    let (_tmp, work) = init_work()?;
    let rendered = rendered_challenge()?;
    let read = |p: &str| -> Result<String> {
        std::fs::read_to_string(rendered.path().join(p)).with_context(|| format!("reading {p}"))
    };
    let published: Manifest = serde_json::from_str(&read(site::MANIFEST_JSON)?)?;
    let starts: BTreeMap<String, String> = serde_json::from_str(&read(site::STARTING_TEXTS_JSON)?)?;
    let mut templates = 0;
    for (_, slot) in published.slots() {
        let file = slot.canonical_file();
        let written = std::fs::read_to_string(work.join(file))
            .with_context(|| format!("sre-check init did not write {file} (slot {})", slot.id))?;
        let offered = starts
            .get(&slot.id)
            .with_context(|| format!("the site offers no starting text for {}", slot.id))?;
        ensure!(
            written == *offered,
            "{file}: init wrote {written:?}, the site's editor starts with {offered:?}"
        );
        if let Some(template) = &slot.template {
            ensure!(written == *template, "{file}: not the manifest's template");
            templates += 1;
        }
    }
    ensure!(templates == 3, "{templates} templates; the manifest has 3");
    Ok(())
}

/// Every text only reviewers may read: titles of reviewer-only checks, labels of reviewer-only
/// aids, the rubric's descriptors.
fn reviewer_only_texts(manifest: &Manifest) -> Vec<String> {
    let mut texts = Vec::new();
    for topic in &manifest.topics {
        for check in topic
            .checks
            .iter()
            .filter(|c| c.audience == Audience::Reviewer)
        {
            texts.push(check.title.clone());
        }
        for slot in &topic.answers {
            for part in slot
                .signals
                .iter()
                .filter(|p| p.audience == Audience::Reviewer)
            {
                texts.push(part.label.clone());
            }
        }
        for criterion in &topic.criteria {
            texts.extend(criterion.levels.iter().cloned());
        }
    }
    texts
}

#[test]
fn a_candidates_run_on_the_starter_shows_no_reviewer_text() -> Result<()> {
    let manifest = manifest()?;
    let hidden = reviewer_only_texts(&manifest);
    ensure!(
        hidden.len() > 20,
        "the manifest should have reviewer-only texts: {hidden:?}"
    );
    let (_tmp, work) = init_work()?;
    let run = Command::new(sre_check_bin())
        .args(["run", "--dir"])
        .arg(&work)
        .output()?;
    let terminal = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    ensure!(
        run.status.code() == Some(1),
        "the starter fails its checks (exit 1), exit {:?}:\n{terminal}",
        run.status.code()
    );
    let report_path = work.join(".sre-check/report.json");
    let stored = std::fs::read_to_string(&report_path)?;
    let report = Report::from_json(stored.as_bytes())?;
    for text in &hidden {
        ensure!(
            !terminal.contains(text.as_str()),
            "the terminal shows reviewer-only text {text:?}:\n{terminal}"
        );
        ensure!(
            !stored.contains(text.as_str()),
            "{} holds reviewer-only text {text:?}",
            report_path.display()
        );
    }
    check_topics(&manifest, &report, &work)?;
    Ok(())
}

/// Every topic ran with exactly its candidate checks, none errored, and the untouched feedback
/// passes.
fn check_topics(manifest: &Manifest, report: &Report, work: &Path) -> Result<()> {
    for topic in &manifest.topics {
        let ran = report
            .topics
            .iter()
            .find(|t| t.id == topic.id)
            .with_context(|| format!("the report has no topic {}", topic.id))?;
        let mut ids: Vec<&str> = ran.checks.iter().map(|c| c.id.as_str()).collect();
        let mut expected: Vec<&str> = topic
            .checks_for(Audience::Candidate)
            .map(|c| c.id.as_str())
            .collect();
        ids.sort_unstable();
        expected.sort_unstable();
        ensure!(
            ids == expected,
            "topic {}: ran {ids:?}, expected {expected:?}",
            topic.id
        );
        for check in &ran.checks {
            ensure!(
                check.status != Status::Error,
                "{} {}: error (load? re-run): {}",
                topic.id,
                check.id,
                check.evidence
            );
        }
    }
    let feedback = report
        .topics
        .iter()
        .find(|t| t.id == "feedback")
        .context("feedback topic")?;
    ensure!(
        feedback.status == Status::Pass,
        "an unchanged {} is not written, not a failure: {feedback:?}",
        work.join("feedback.txt").display()
    );
    Ok(())
}
