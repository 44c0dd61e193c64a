//! The candidate's answers in the built site (dist/), in headless Chromium: typing, autosave that
//! survives a reload, the export archive, the lazily loaded preview (and hostile markdown in it),
//! and the sync to a server that goes away and comes back.
//!
//! Needs `trunk build --release` first; without dist/ these tests fail and say so.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use sre_e2e::answer_server::{AnswerServer, AnswerStore};
use sre_e2e::browser::with_browser;
use sre_e2e::page::{self, click, script_ran, text_contains, trap_scripts, type_into, value};
use sre_e2e::site::{built_dist, manifest, rebuilt_with_servers};
use sre_e2e::static_server::StaticServer;
use sre_e2e::wait;

const SAVED: &str = "Saved in this browser";

#[tokio::test]
async fn a_typed_answer_is_saved_and_survives_a_reload() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/feedback/")).await?;
        let editor = "textarea#answer-feedback";
        let start = value(&client, editor).await?;
        type_into(&client, editor, "\nThe monitoring topic was the best part.").await?;
        text_contains(&client, "#answer-feedback-status", SAVED).await?;
        let words = start.split_whitespace().count() + 7;
        text_contains(&client, ".answer .words", &format!("{words} words")).await?;

        client.refresh().await?;
        let after = value(&client, editor).await?;
        ensure!(
            after.ends_with("The monitoring topic was the best part."),
            "after a reload the answer is {after:?}"
        );
        // Also when the tab goes away right after typing (before the autosave's pause).
        type_into(&client, editor, " Thanks!").await?;
        client.goto(&server.url("/topic/iac/")).await?;
        client.goto(&server.url("/topic/feedback/")).await?;
        let after = value(&client, editor).await?;
        ensure!(
            after.ends_with("best part. Thanks!"),
            "after leaving: {after:?}"
        );
        // Without an invite the site says where answers are.
        text_contains(&client, ".sync-status", "kept in this browser").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_export_holds_every_written_answer_under_its_expected_file_name() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    let manifest = manifest()?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/leadership/")).await?;
        type_into(
            &client,
            "textarea#answer-leadership",
            "\nMove in three waves.",
        )
        .await?;
        text_contains(&client, "#answer-leadership-status", SAVED).await?;
        client.goto(&server.url("/topic/iac/")).await?;
        type_into(
            &client,
            "textarea#answer-infra",
            "apt needs root: become on that task only.",
        )
        .await?;
        text_contains(&client, "#answer-infra-status", SAVED).await?;

        client.goto(&server.url("/answers/")).await?;
        page::catch_downloads(&client).await?;
        click(&client, ".answers-page button.export").await?;
        let (name, bytes) = page::caught_download(&client).await?;
        ensure!(
            name == format!("sre-challenge-answers-{}.zip", manifest.challenge.version),
            "export name {name:?}"
        );
        let files = page::unzip(&bytes)?;
        let leadership = files
            .get("technical-leadership.md")
            .context("technical-leadership.md is not in the export")?;
        ensure!(
            String::from_utf8_lossy(leadership).ends_with("Move in three waves."),
            "technical-leadership.md: {:?}",
            String::from_utf8_lossy(leadership)
        );
        let infra = files
            .get("infrastructure/infra.txt")
            .context("infrastructure/infra.txt is not in the export")?;
        ensure!(
            String::from_utf8_lossy(infra).contains("become on that task only."),
            "infra.txt: {:?}",
            String::from_utf8_lossy(infra)
        );
        // Every name is a file the challenge expects.
        let expected: Vec<String> = manifest
            .slots()
            .map(|(_, s)| s.canonical_file().to_owned())
            .collect();
        for name in files.keys() {
            ensure!(
                expected.contains(name),
                "unexpected file {name} in the export"
            );
        }
        Ok(())
    })
    .await
}

/// Markdown a candidate could paste into an answer: each payload appends to `window.name` or
/// calls `alert` if it ever runs.
const XSS_ANSWER: &str = "# Plan PREVIEW-START\n\n<script>top.name+='script;'</script>\n\n\
<img src=x onerror=\"top.name+='onerror;'\">\n\n<svg onload=\"top.name+='svg;'\"></svg>\n\n\
[js](javascript:top.name+='js-link;')\n\n[data](data:text/html,<script>alert(1)</script>)\n\n\
![svg](data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=)\n\n\
<iframe src=\"javascript:alert(2)\"></iframe>\n\n**bold** PREVIEW-END\n";

#[tokio::test]
async fn the_preview_loads_on_first_use_and_runs_no_script_from_an_answer() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/leadership/")).await?;
        trap_scripts(&client).await?;
        wait::element(&client, "textarea#answer-leadership").await?;
        let loaded_worker =
            "return performance.getEntriesByType('resource').some(e => e.name.includes('preview'))";
        ensure!(
            client.execute(loaded_worker, vec![]).await? == Value::Bool(false),
            "the preview renderer was loaded before anyone asked for a preview"
        );
        // Replace the template with the corpus: select all, then type.
        let editor = wait::element(&client, "textarea#answer-leadership").await?;
        client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'}); arguments[0].select()",
                vec![serde_json::to_value(&editor)?],
            )
            .await?;
        editor.send_keys(XSS_ANSWER).await?;
        click(&client, ".answer button.preview-toggle").await?;
        text_contains(&client, "#answer-leadership-preview", "PREVIEW-END").await?;
        ensure!(
            client.execute(loaded_worker, vec![]).await? == Value::Bool(true),
            "the preview rendered without the worker?"
        );
        let heading = wait::element(&client, "#answer-leadership-preview h1").await?;
        ensure!(
            heading.text().await?.starts_with("Plan"),
            "markdown is not rendered"
        );
        wait::element(&client, "#answer-leadership-preview strong").await?;
        // Live: a change shows up in the preview.
        type_into(&client, "textarea#answer-leadership", "\n\nLIVE-UPDATE").await?;
        text_contains(&client, "#answer-leadership-preview", "LIVE-UPDATE").await?;
        page::ensure_nothing_ran(&client, "#answer-leadership-preview").await?;
        text_contains(
            &client,
            "#answer-leadership-preview",
            "<script>top.name+='script;'</script>",
        )
        .await?;
        Ok(())
    })
    .await
}

/// Waits until the server's latest text of `slot` satisfies `check`.
async fn server_has(store: &AnswerStore, slot: &str, check: impl Fn(&str) -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if store.lock().latest(slot).is_some_and(&check) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the server's {slot} is {:?} after 40 s",
                store.lock().latest(slot)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn slot_ids() -> Result<Vec<String>> {
    Ok(manifest()?.slots().map(|(_, s)| s.id.clone()).collect())
}

#[tokio::test]
async fn answers_sync_through_a_server_outage_and_nothing_is_lost() -> Result<()> {
    let token = "candidate-token-0123456789";
    let store = AnswerStore::new(token, slot_ids()?);
    // The site on a static host, the API on a server of its own (`&server=` in the invite), so
    // that the page still reloads while the API is down. The site is built to allow that server.
    let server = AnswerServer::start(None, store.clone(), 0)?;
    let port = server.port();
    let api = server.url("");
    let allowing = rebuilt_with_servers(&api)?;
    let site = StaticServer::start(allowing.path())?;
    let mut server = Some(server);
    let outcome = with_browser(|client| {
        let store = store.clone();
        let server = &mut server;
        async move {
            client
                .goto(&site.url(&format!("/?invite={token}&server={api}")))
                .await?;
            // The token leaves the address bar as soon as the app runs.
            wait::app(&client).await?;
            wait::path(&client, "/").await?;
            ensure!(
                !client.current_url().await?.as_str().contains(token),
                "the token stays in the address bar"
            );
            click(&client, ".topic-list a[href='topic/feedback']").await?;
            type_into(&client, "textarea#answer-feedback", "\nFirst words.").await?;
            server_has(&store, "feedback", |t| t.ends_with("First words.")).await?;
            text_contains(&client, "#answer-feedback-status", "on the server").await?;

            // The server dies; the candidate keeps typing, and reloads the page meanwhile.
            drop(server.take());
            type_into(&client, "textarea#answer-feedback", " Written offline.").await?;
            text_contains(&client, ".sync-status", "Retrying").await?;
            client.refresh().await?;
            type_into(&client, "textarea#answer-feedback", " And after a reload.").await?;
            text_contains(&client, "#answer-feedback-status", SAVED).await?;
            text_contains(&client, ".sync-status", "Retrying").await?;

            // It comes back on the same port: the queue flushes, nothing is lost.
            *server = Some(AnswerServer::start(None, store.clone(), port)?);
            server_has(&store, "feedback", |t| {
                t.ends_with("First words. Written offline. And after a reload.")
            })
            .await?;
            text_contains(&client, ".sync-status", "All answers are on the server").await?;
            Ok(())
        }
    })
    .await;
    drop(server);
    outcome
}

#[tokio::test]
async fn a_conflict_lets_the_candidate_choose_and_submit_lists_what_is_unanswered() -> Result<()> {
    let dist = built_dist()?;
    let token = "candidate-token-conflict";
    let store = AnswerStore::new(token, slot_ids()?);
    let server = AnswerServer::start(Some(&dist), store.clone(), 0)?;
    with_browser(|client| async move {
        client
            .goto(&server.url(&format!("/?invite={token}")))
            .await?;
        // The page loaded next must find the invite stored (`/?invite=` is already the path `/`).
        wait::invite_taken(&client).await?;
        client.goto(&server.url("/topic/iac/")).await?;
        type_into(&client, "textarea#answer-infra", "Mine, from this tab.").await?;
        // The editor starts from the handed-out file's text; typing adds to it.
        server_has(&store, "infra", |t| t.ends_with("Mine, from this tab.")).await?;

        // Another device writes version 2; this tab changes its text on top of version 1.
        store
            .lock()
            .versions
            .entry("infra".into())
            .or_default()
            .push("Theirs, from the laptop.".into());
        type_into(&client, "textarea#answer-infra", " More of mine.").await?;
        text_contains(&client, ".conflict", "another version").await?;
        click(&client, ".conflict details summary").await?;
        text_contains(
            &client,
            ".conflict .server-text",
            "Theirs, from the laptop.",
        )
        .await?;
        click(&client, ".conflict button.keep-mine").await?;
        server_has(&store, "infra", |t| {
            t.ends_with("Mine, from this tab. More of mine.")
        })
        .await?;
        ensure!(
            store.lock().versions["infra"].len() == 3,
            "versions: {:?}",
            store.lock().versions["infra"]
        );

        // Submit: the confirmation lists the unanswered slots' files.
        client.goto(&server.url("/answers/")).await?;
        click(&client, ".answers-page button.submit").await?;
        let unanswered = page::all_texts(&client, "dialog.confirm[open] .unanswered li").await?;
        ensure!(
            unanswered.iter().any(|f| f == "feedback.txt")
                && !unanswered.iter().any(|f| f.contains("infra.txt")),
            "unanswered: {unanswered:?}"
        );
        click(&client, "dialog.confirm[open] button.primary").await?;
        text_contains(&client, ".answers-page", "You submitted your answers").await?;
        ensure!(
            store.lock().submitted_at.is_some(),
            "the server was not told"
        );
        client.goto(&server.url("/topic/iac/")).await?;
        // The editing app mounts the editor, then learns from storage that it is submitted.
        page::until(
            &client,
            "answers stay editable after submitting",
            "const t = document.querySelector('textarea#answer-infra'); \
             return t !== null && t.readOnly;",
        )
        .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_results_page_shows_the_uploaded_report_per_topic_as_text() -> Result<()> {
    let dist = built_dist()?;
    let token = "candidate-token-results";
    let store = AnswerStore::new(token, slot_ids()?);
    // Evidence comes from the candidate's own files: hostile text must stay text.
    store.lock().report = Some(
        serde_json::json!({
            "schema": "sre-check.report/1",
            "tool": { "name": "sre-check", "version": "1.0.0" },
            "started_at": "2026-11-29T09:00:00Z",
            "finished_at": "2026-11-29T09:05:00Z",
            "topics": [
                { "id": "iac", "status": "fail", "checks": [
                    { "id": "answers", "title": "infra.txt is written", "status": "pass",
                      "duration_ms": 12, "evidence": "infra.txt: 120 words", "hint": null },
                    { "id": "build", "title": "The Dockerfile builds with your playbook",
                      "status": "fail", "duration_ms": 61234,
                      "evidence": "playbook.yml:7: <img src=x onerror=\"top.name+='evidence;'\">",
                      "hint": "Scope become to the apt task." } ] },
                { "id": "feedback", "status": "pass", "checks": [
                    { "id": "answers", "title": "feedback.txt is written", "status": "pass",
                      "duration_ms": 3, "evidence": "", "hint": null } ] }
            ]
        })
        .to_string(),
    );
    let server = AnswerServer::start(Some(&dist), store.clone(), 0)?;
    with_browser(|client| async move {
        client
            .goto(&server.url(&format!("/?invite={token}")))
            .await?;
        // The topic cards show the latest check result.
        text_contains(&client, ".topic-list li:first-child .progress", "fail").await?;
        click(&client, ".site-nav a[href='results']").await?;
        let iac = text_contains(&client, ".results-page", "The Dockerfile builds").await?;
        ensure!(
            iac.contains("Scope become to the apt task."),
            "no hint: {iac}"
        );
        let topics = page::all_texts(&client, ".topic-result h2").await?;
        ensure!(
            topics.len() == 2 && topics[0].starts_with("I. ") && topics[1].starts_with("VI. "),
            "topics {topics:?}"
        );
        client
            .execute(
                "document.querySelectorAll('.topic-result details').forEach(d => d.open = true)",
                vec![],
            )
            .await?;
        text_contains(
            &client,
            ".results-page",
            "playbook.yml:7: <img src=x onerror=",
        )
        .await?;
        ensure!(
            client
                .find(fantoccini::Locator::Css(".results-page img"))
                .await
                .is_err(),
            "evidence became markup"
        );
        let ran = script_ran(&client).await?;
        ensure!(ran.is_empty(), "payloads ran: {ran:?}");
        Ok(())
    })
    .await
}
