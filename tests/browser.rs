//! The built site (dist/) in headless Chromium, served by a plain static server: no sre-intake.
//!
//! Needs `trunk build --release` first; without dist/ these tests fail and say so.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use sre_e2e::browser::with_browser;
use sre_e2e::page;
use sre_e2e::site::{built_dist, copy_of, manifest};
use sre_e2e::static_server::StaticServer;
use sre_e2e::wait;

#[tokio::test]
async fn home_page_shows_the_readme_and_the_six_topics() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    let manifest = manifest()?;
    with_browser(|client| async move {
        client.goto(&server.url("/")).await?;

        let headings = wait::texts(
            &client,
            "article.markdown h1, article.markdown h2, article.markdown h3",
        )
        .await?;
        for expected in [
            "SRE Challenge",
            "Set up",
            "Objectives",
            "I. Infrastructure as Code",
            "VI. Feedback",
        ] {
            ensure!(
                headings.iter().any(|h| h == expected),
                "README heading {expected:?} is not on the page; headings: {headings:?}"
            );
        }

        let titles = wait::texts(&client, ".topic-list .topic-title").await?;
        let expected: Vec<&str> = manifest.topics.iter().map(|t| t.title.as_str()).collect();
        ensure!(
            titles == expected,
            "topic list {titles:?}, manifest {expected:?}"
        );
        let numbers = wait::texts(&client, ".topic-list .roman").await?;
        ensure!(
            numbers == ["I.", "II.", "III.", "IV.", "V.", "VI."],
            "topic numbers {numbers:?}"
        );
        let objectives = wait::texts(&client, ".topic-list .topic p").await?;
        ensure!(
            objectives.first().map(String::as_str) == Some(manifest.topics[0].objective.as_str()),
            "first objective {objectives:?}"
        );

        let title = client.title().await?;
        ensure!(
            title == manifest.challenge.title,
            "document title {title:?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_topic_link_opens_its_page_without_reloading() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    with_browser(|client| async move {
        client.goto(&server.url("/")).await?;
        wait::element(&client, ".topic-list a[href='topic/leadership']").await?;
        // A click on the prerendered link, before the reading app takes over, loads the page.
        wait::app(&client).await?;
        // A marker on the window survives client-side navigation and dies with a reload.
        client.execute("window.__noReload = true", vec![]).await?;
        page::click(&client, ".topic-list a[href='topic/leadership']").await?;

        wait::path(&client, "/topic/leadership").await?;
        wait::text(&client, ".topic-page h2", "V. Technical leadership").await?;
        let kept = client
            .execute("return window.__noReload === true", vec![])
            .await?;
        ensure!(kept == serde_json::Value::Bool(true), "the page reloaded");
        let title = client.title().await?;
        ensure!(
            title.starts_with("V. Technical leadership"),
            "document title {title:?}"
        );

        client.back().await?;
        wait::path(&client, "/").await?;
        wait::element(&client, ".topic-list").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_page_without_the_manifest_is_an_error_the_candidate_can_read() -> Result<()> {
    let broken = copy_of(&built_dist()?)?;
    let index = broken.path().join("index.html");
    let html = std::fs::read_to_string(&index).context("reading the copy's index.html")?;
    let id = format!("id=\"{}\"", sre_model::site::element::MANIFEST);
    ensure!(html.contains(&id), "index.html carries no manifest element");
    // A hand-made or stale page: the manifest element is not there.
    std::fs::write(&index, html.replace(&id, "id=\"something-else\""))
        .context("writing the broken index.html")?;
    let server = StaticServer::start(broken.path())?;
    with_browser(|client| async move {
        client.goto(&server.url("/")).await?;
        let alert = wait::element(&client, "[role=alert]").await?.text().await?;
        ensure!(
            alert.contains("The challenge could not start") && alert.contains("trunk build"),
            "alert says {alert:?}"
        );
        // The error replaces the prerendered page: what shows is what to fix.
        ensure!(
            client.find(Locator::Css("#prerendered")).await.is_err(),
            "the prerendered page is still there"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_editing_app_is_fetched_after_the_page_shows_and_its_editors_work() -> Result<()> {
    let dist = built_dist()?;
    // The first heading is in the page's HTML (prerendered), so the first contentful paint is
    // when it shows.
    let html = std::fs::read_to_string(dist.join(sre_model::site::page_file("topic/feedback")))
        .context("the feedback topic's page")?;
    let prerendered = html
        .split_once(&format!("id=\"{}\"", sre_model::site::element::PRERENDERED))
        .map(|(_, page)| page)
        .context("the page is not prerendered")?;
    ensure!(
        prerendered.contains("<h2"),
        "no heading in the prerendered page"
    );
    let server = StaticServer::start(&dist)?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/feedback/")).await?;
        // The editor is the editing app's: once it is there, both apps ran.
        wait::element(&client, "textarea#answer-feedback").await?;
        let timing = client
            .execute(
                r#"
                const entries = performance.getEntriesByType('resource');
                const at = (pattern) => entries.find(e => pattern.test(new URL(e.name).pathname));
                const paint = performance.getEntriesByName('first-contentful-paint')[0];
                const reader = at(/\/sre-site-[^/]*_bg\.wasm$/);
                const script = at(/\/sre-edit\.js$/);
                const wasm = at(/\/sre-edit_bg\.wasm$/);
                return {
                    paint: paint ? paint.startTime : null,
                    reader_done: reader ? reader.responseEnd : null,
                    edit_script: script ? script.startTime : null,
                    edit_wasm: wasm ? wasm.startTime : null,
                };
                "#,
                vec![],
            )
            .await?;
        let ms = |key: &str| {
            timing[key]
                .as_f64()
                .with_context(|| format!("no {key} in the page's timing: {timing}"))
        };
        let (paint, reader_done) = (ms("paint")?, ms("reader_done")?);
        let (edit_script, edit_wasm) = (ms("edit_script")?, ms("edit_wasm")?);
        // The editing app is only asked for once the heading shows, and after the reading app's
        // wasm arrived.
        ensure!(
            paint <= edit_script && reader_done <= edit_script && edit_script <= edit_wasm,
            "the editing app was fetched too early: {timing}"
        );

        // Its placeholders are replaced by the parts, and leaving the page drops them.
        page::text_contains(&client, ".sync-status", "kept in this browser").await?;
        let hidden = client
            .execute(
                "const l = document.querySelector('.answers .edit-loading'); \
                 return l !== null && getComputedStyle(l).display === 'none';",
                vec![],
            )
            .await?;
        ensure!(hidden == true, "the editor's loading note still shows");
        page::click(&client, ".breadcrumb a").await?;
        wait::element(&client, ".topic-list .progress").await?;
        page::text_contains(&client, ".topic-list .progress", "written").await?;
        let editors = client
            .execute(
                "return document.querySelectorAll('textarea').length",
                vec![],
            )
            .await?;
        ensure!(
            editors == 0,
            "editors left after leaving the topic: {editors}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn without_the_editing_app_the_page_reads_and_says_why_there_is_no_editor() -> Result<()> {
    let broken = copy_of(&built_dist()?)?;
    let wasm = broken.path().join("sre-edit_bg.wasm");
    std::fs::remove_file(&wasm).with_context(|| format!("removing {}", wasm.display()))?;
    let server = StaticServer::start(broken.path())?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/feedback/")).await?;
        let alert = page::text_contains(&client, ".edit-failed", "could not load").await?;
        ensure!(alert.contains("Reload the page"), "alert says {alert:?}");
        // The reading app still shows the instructions, and says the editor is not there yet.
        wait::element(&client, ".topic-page article.markdown h2").await?;
        page::text_contains(&client, ".answers .edit-loading", "Loading the editor").await?;
        Ok(())
    })
    .await
}
