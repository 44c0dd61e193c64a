//! The reviewer view (`/review`) in headless Chromium, against a real `sre-intake` that serves the
//! built site (dist/) on SQLite: a candidate writes answers and uploads an `sre-check` report
//! through the API, then a reviewer logs in, opens the candidate, reads the answer, its history
//! and the report, scores every criterion of a topic, finds the scores after a reload, and
//! exports them as CSV. Also: a token the server refuses is a clear error, and an answer carrying
//! XSS payloads runs none of them.
//!
//! Needs `trunk build --release` (dist/) and the `sre-intake` and `sre-check` binaries
//! (`cargo build -p sre-intake -p sre-check`; scripts/test builds them).

use std::process::Command;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use sre_e2e::browser::with_browser;
use sre_e2e::checker::sre_check_bin;
use sre_e2e::intake::{Backend, Http, Intake, built_binary, invite, reviewer};
use sre_e2e::page;
use sre_e2e::site::{built_dist, manifest};
use sre_e2e::wait;

/// The topic whose criteria the reviewer scores.
const TOPIC: &str = "leadership";

/// A leadership answer that tries every way to run script in the reviewer's page.
const HOSTILE_ANSWER: &str = "# Migration plan\n\n\
    ## Strategy\n\nMove the monolith in three waves, the payments database last.\n\n\
    <script>window.__xss = 'script tag'</script>\n\n\
    <img src=\"x\" onerror=\"window.__xss = 'onerror image'\">\n\n\
    [rollback runbook](javascript:window.__xss='javascript link')\n\n\
    ![diagram](javascript:window.__xss='javascript image')\n\n\
    ![pixel](https://tracker.example/pixel.png)\n\n\
    <a href=\"javascript:window.__xss='raw link'\">raw link</a>\n\n\
    ## Rollback\n\nKeep the old primary as a replica for two weeks; RPO 5 minutes.\n";

const FIRST_DRAFT: &str = "# Migration plan\n\nFirst draft: lift and shift.\n";

const FEEDBACK: &str = "Clear README. <b>bold?</b> <script>window.__xss='text answer'</script>\n";

/// A server with one reviewer and one candidate who wrote answers and uploaded a report.
struct Scene {
    server: Intake,
    reviewer: String,
    candidate_token: String,
    candidate_name: &'static str,
    _backend: Backend,
}

fn scene() -> Result<Scene> {
    let bin = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let reviewer = reviewer(&bin, &backend, "Grace Reviewer");
    let candidate_name = "Ada Candidate";
    let (_, candidate_token) = invite(&bin, &backend, candidate_name);
    let dist = built_dist()?;
    let dist = dist.to_str().context("dist/ path is UTF-8")?;
    let server = Intake::start(&bin, &backend, &["--site", dist])?;
    let http = Http::new();

    let put = |slot: &str, text: &str, precondition: (&str, &str)| -> Result<()> {
        let reply = http.json(
            "PUT",
            &server.url(&format!("/api/v1/answers/{slot}")),
            &candidate_token,
            &[precondition],
            &json!({ "text": text }),
        );
        ensure!(
            reply.status < 300,
            "PUT {slot}: {} {}",
            reply.status,
            reply.body
        );
        Ok(())
    };
    put(TOPIC, FIRST_DRAFT, ("if-none-match", "*"))?;
    put(TOPIC, HOSTILE_ANSWER, ("if-match", "\"1\""))?;
    put("feedback", FEEDBACK, ("if-none-match", "*"))?;

    let report = report_of_a_working_copy()?;
    let reply = http.send(
        "POST",
        &server.url("/api/v1/reports"),
        &[
            ("authorization", &format!("Bearer {candidate_token}")),
            ("content-type", "application/json"),
        ],
        &report,
    )?;
    ensure!(
        reply.status == 201,
        "POST /reports: {} {}",
        reply.status,
        reply.body
    );
    Ok(Scene {
        server,
        reviewer,
        candidate_token,
        candidate_name,
        _backend: backend,
    })
}

/// A real report: `sre-check run` of the topics that need no Docker, on a fresh working copy.
fn report_of_a_working_copy() -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let init = Command::new(sre_check_bin())
        .arg("init")
        .arg(dir.path())
        .output()?;
    ensure!(
        init.status.success(),
        "sre-check init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    std::fs::write(dir.path().join("feedback.txt"), FEEDBACK)?;
    let run = Command::new(sre_check_bin())
        .args(["run", "--topic", "feedback", "--topic", TOPIC, "--dir"])
        .arg(dir.path())
        .output()?;
    ensure!(
        run.status.code().is_some_and(|c| c < 2),
        "sre-check run: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    Ok(std::fs::read(dir.path().join(".sre-check/report.json"))?)
}

async fn log_in(client: &Client, base: &str, token: &str) -> Result<()> {
    client.goto(&format!("{base}/review")).await?;
    let input = wait::element(client, "#reviewer-token").await?;
    input.send_keys(token).await?;
    page::click(client, "form.login button[type=submit]").await?;
    Ok(())
}

async fn js(client: &Client, script: &str) -> Result<Value> {
    Ok(client.execute(script, vec![]).await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reviewer_reads_scores_and_exports_a_candidate() -> Result<()> {
    let scene = scene()?;
    let criteria: Vec<String> = manifest()?
        .topics
        .iter()
        .find(|t| t.id.as_str() == TOPIC)
        .context("the manifest has the leadership topic")?
        .criteria
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let levels: Vec<Vec<String>> = manifest()?
        .topics
        .iter()
        .find(|t| t.id.as_str() == TOPIC)
        .context("the manifest has the leadership topic")?
        .criteria
        .iter()
        .map(|c| c.levels.clone())
        .collect();
    ensure!(!criteria.is_empty(), "leadership has criteria to score");
    let base = scene.server.base.clone();
    with_browser(|client| async move {
        log_in(&client, &base, &scene.reviewer).await?;

        // The list: progress and the check summary, per topic.
        let row = page::text_contains(&client, "tr.candidate", scene.candidate_name).await?;
        ensure!(row.contains("2 of 6"), "answers written, in {row:?}");
        ensure!(row.contains("in progress"), "status, in {row:?}");
        let topics = page::text_contains(&client, "tr.candidate .topic-statuses", TOPIC).await?;
        ensure!(
            topics.contains("feedback") && topics.contains("pass"),
            "per-topic checks {topics:?}"
        );
        let stored = js(
            &client,
            "return localStorage.getItem('sre-challenge:reviewer')",
        )
        .await?;
        ensure!(
            stored == Value::String(scene.reviewer.clone()),
            "the token is kept for the next visit"
        );

        // The candidate: the answer (rendered, payloads inert), hints, history, checks.
        client
            .find(Locator::LinkText(scene.candidate_name))
            .await?
            .click()
            .await?;
        let answer = format!("#topic-{TOPIC} article.answer .answer-body");
        let body =
            page::text_contains(&client, &answer, "Move the monolith in three waves").await?;
        ensure!(
            body.contains("<script>window.__xss"),
            "raw HTML shows as text: {body:?}"
        );
        let heading = client
            .find(Locator::Css(&format!("{answer} h2")))
            .await?
            .text()
            .await?;
        ensure!(
            heading == "Strategy",
            "markdown is rendered: h2 {heading:?}"
        );
        let hints =
            page::text_contains(&client, &format!("#topic-{TOPIC} .hints"), "Strategy").await?;
        ensure!(
            hints.contains("not a score") && hints.contains("Automatic aid"),
            "hints say what they are: {hints:?}"
        );
        let pending = page::text_contains(&client, "#topic-iac .pending-checks", "pending").await?;
        ensure!(
            pending.contains("Privileges are raised only for the tasks that need them"),
            "reviewer-only checks are listed as pending: {pending:?}"
        );
        let checks =
            page::text_contains(&client, &format!("#topic-{TOPIC} .topic-checks"), "Checks")
                .await?;
        ensure!(
            checks.contains("pass") || checks.contains("fail"),
            "the report's checks: {checks:?}"
        );
        let feedback =
            page::text_contains(&client, "#topic-feedback pre.answer-text", "Clear README").await?;
        ensure!(
            feedback.contains("<b>bold?</b>"),
            "a text answer is text: {feedback:?}"
        );

        page::click(&client, &format!("#topic-{TOPIC} details.history summary")).await?;
        let versions = wait::texts(
            &client,
            &format!("#topic-{TOPIC} details.history li button"),
        )
        .await?;
        ensure!(
            versions == ["Version 2", "Version 1"],
            "history {versions:?}"
        );
        client
            .find(Locator::XPath(&format!(
                "//section[@id='topic-{TOPIC}']//details//button[text()='Version 1']"
            )))
            .await?
            .click()
            .await?;
        page::text_contains(
            &client,
            &format!("#topic-{TOPIC} .old-version"),
            "lift and shift",
        )
        .await?;

        assert_inert(&client).await?;
        page::text_contains(
            &client,
            &answer,
            "[image not loaded: pixel — https://tracker.example/pixel.png]",
        )
        .await?;
        let remote = js(
            &client,
            "return document.querySelectorAll('main img[src*=\"tracker.example\"]').length",
        )
        .await?;
        ensure!(remote == json!(0), "a remote image is in the page");

        // The topic index jumps within the page (the base URL must not turn `#…` into the home page).
        let here = client.current_url().await?;
        page::click(
            &client,
            &format!("nav.topic-index a[href$='#topic-{TOPIC}']"),
        )
        .await?;
        wait::path(&client, here.path()).await?;
        wait::element(&client, &format!("#topic-{TOPIC} form.rubric")).await?;

        // Score every criterion of the topic.
        let form = format!("form.rubric[data-topic='{TOPIC}']");
        let fieldsets = client
            .find_all(Locator::Css(&format!("{form} fieldset.criterion")))
            .await?;
        ensure!(
            fieldsets.len() == criteria.len(),
            "{} criteria shown, manifest has {}",
            fieldsets.len(),
            criteria.len()
        );
        for (i, fieldset) in fieldsets.iter().enumerate() {
            let legend = fieldset.find(Locator::Css("legend")).await?.text().await?;
            ensure!(
                legend == criteria[i],
                "criterion {i} is {legend:?}, manifest says {:?}",
                criteria[i]
            );
            // The anchored descriptors, each next to its score.
            let mut shown = Vec::new();
            for level in fieldset
                .find_all(Locator::Css(".score-choice .level"))
                .await?
            {
                shown.push(level.text().await?);
            }
            ensure!(
                shown == levels[i],
                "criterion {i}: descriptors {shown:?}, manifest says {:?}",
                levels[i]
            );
            fieldset
                .find(Locator::Css(&format!("input[value='{}']", score_of(i))))
                .await?
                .click()
                .await?;
            fieldset
                .find(Locator::Css("textarea"))
                .await?
                .send_keys(&note_of(i))
                .await?;
        }
        page::click(&client, &format!("{form} button[type=submit]")).await?;
        page::text_contains(
            &client,
            &format!("{form} .status"),
            &format!("Saved {} scores", criteria.len()),
        )
        .await?;

        // After a reload the page shows the saved scores.
        client.refresh().await?;
        wait::element(&client, &format!("{form} fieldset.criterion")).await?;
        let fieldsets = client
            .find_all(Locator::Css(&format!("{form} fieldset.criterion")))
            .await?;
        for (i, fieldset) in fieldsets.iter().enumerate() {
            let chosen = fieldset
                .find(Locator::Css(&format!("input[value='{}']", score_of(i))))
                .await?
                .is_selected()
                .await?;
            ensure!(
                chosen,
                "score {} of {:?} is selected after a reload",
                score_of(i),
                criteria[i]
            );
            let note = fieldset
                .find(Locator::Css("textarea"))
                .await?
                .prop("value")
                .await?;
            ensure!(
                note.as_deref() == Some(note_of(i).as_str()),
                "note of {:?}: {note:?}",
                criteria[i]
            );
        }
        assert_inert(&client).await?;

        // The export, from the list.
        page::click(&client, ".breadcrumb a").await?;
        // The file is read from its blob: the page's Content-Security-Policy (connect-src
        // 'self') lets no script fetch a blob: URL.
        page::catch_downloads(&client).await?;
        wait::element(&client, "button.export-csv")
            .await?
            .click()
            .await?;
        wait::element(&client, "a.export-file[download='scores.csv']").await?;
        let csv = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const href = document.querySelector(\"a.export-file[download='scores.csv']\").href;
                 const blob = window.__blobs[href];
                 blob ? blob.text().then(done, e => done('read failed: ' + e))
                      : done('no blob was made for ' + href);",
                vec![],
            )
            .await?;
        let csv = csv.as_str().context("the CSV is text")?.to_owned();
        ensure!(
            csv.starts_with("candidate_id,candidate_name,reviewer,topic,criterion,score,note"),
            "CSV header: {csv}"
        );
        for (i, criterion) in criteria.iter().enumerate() {
            let row = format!(
                "{},Grace Reviewer,{TOPIC},{criterion},{},{}",
                scene.candidate_name,
                score_of(i),
                note_of(i)
            );
            ensure!(csv.contains(&row), "the CSV has no row {row:?}:\n{csv}");
        }

        // Log out: the token is gone and the login form is back.
        page::click(&client, "button.log-out").await?;
        wait::element(&client, "#reviewer-token").await?;
        let stored = js(
            &client,
            "return localStorage.getItem('sre-challenge:reviewer')",
        )
        .await?;
        ensure!(
            stored.is_null(),
            "the token is forgotten on log out: {stored}"
        );
        Ok(())
    })
    .await
}

fn score_of(index: usize) -> usize {
    index % 4 + 1
}

fn note_of(index: usize) -> String {
    format!("note {index} on the plan")
}

/// No payload of the hostile answer ran, and none is in the page as markup.
async fn assert_inert(client: &Client) -> Result<()> {
    let ran = js(
        client,
        "return window.__xss === undefined ? null : String(window.__xss)",
    )
    .await?;
    ensure!(ran.is_null(), "a payload ran: {ran}");
    let markup = js(
        client,
        "return [...document.querySelectorAll('main script, main [onerror], main [onload], \
         main a[href^=\"javascript:\" i], main img[src^=\"javascript:\" i], main img[src=\"x\"]')]\
         .map(e => e.outerHTML)",
    )
    .await?;
    ensure!(markup == json!([]), "payload markup in the page: {markup}");
    // The link whose URL was dropped is text: clicking it runs nothing either.
    let link_text = js(
        client,
        "const a = [...document.querySelectorAll('main a')].find(a => a.textContent === 'rollback runbook');\
         if (a) a.click(); return a ? a.getAttribute('href') : null",
    )
    .await?;
    ensure!(
        link_text.is_null(),
        "a javascript: link survived: {link_text}"
    );
    let ran = js(
        client,
        "return window.__xss === undefined ? null : String(window.__xss)",
    )
    .await?;
    ensure!(ran.is_null(), "a payload ran: {ran}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_a_clear_error_and_is_not_kept() -> Result<()> {
    let scene = scene()?;
    let base = scene.server.base.clone();
    with_browser(|client| async move {
        log_in(
            &client,
            &base,
            "forged-0123456789abcdefghijklmnopqrstuvwxyzABCD",
        )
        .await?;
        let alert = page::text_contains(
            &client,
            "form.login [role=alert]",
            "does not open the reviewer view",
        )
        .await?;
        ensure!(
            alert.contains("does not accept this token"),
            "alert {alert:?}"
        );

        // A candidate's invite token is not a reviewer's.
        let input = client.find(Locator::Css("#reviewer-token")).await?;
        input.clear().await?;
        input.send_keys(&scene.candidate_token).await?;
        page::click(&client, "form.login button[type=submit]").await?;
        page::text_contains(&client, "form.login [role=alert]", "not a reviewer token").await?;

        let stored = js(
            &client,
            "return localStorage.getItem('sre-challenge:reviewer')",
        )
        .await?;
        ensure!(stored.is_null(), "a refused token is not kept: {stored}");

        // A kept token that the server no longer accepts (revoked, or another server's) leads
        // back to a way to enter another one.
        js(
            &client,
            "localStorage.setItem('sre-challenge:reviewer', 'revoked-token')",
        )
        .await?;
        client.refresh().await?;
        let alert = page::text_contains(&client, "main [role=alert]", "no longer works").await?;
        ensure!(
            alert.contains("does not accept this token"),
            "alert {alert:?}"
        );
        page::click(&client, "main [role=alert] button").await?;
        wait::element(&client, "#reviewer-token").await?;
        Ok(())
    })
    .await
}

/// The candidate's pages do not load the reviewer app: its wasm is fetched only on `/review`.
#[tokio::test(flavor = "multi_thread")]
async fn the_candidate_site_does_not_load_the_reviewer_app() -> Result<()> {
    let scene = scene()?;
    let base = scene.server.base.clone();
    with_browser(|client| async move {
        client.goto(&format!("{base}/")).await?;
        wait::element(&client, ".topic-list").await?;
        let loaded = js(
            &client,
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('review'))",
        )
        .await?;
        ensure!(loaded == json!([]), "the home page fetched {loaded}");
        Ok(())
    })
    .await
}
