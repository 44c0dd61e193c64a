//! The topic pages of the built site (dist/) in headless Chromium, served by a plain static
//! server: instructions, criteria, files (viewer and download), images (loaded, alt text, zoom),
//! the starter kit, and hostile markdown in the content that must execute nothing.
//!
//! Needs `trunk build --release` first; without dist/ these tests fail and say so.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use serde_json::Value;
use sre_e2e::browser::with_browser;
use sre_e2e::page::{self, all_texts, click, trap_scripts};
use sre_e2e::site::{built_dist, manifest, rebuilt_with_content};
use sre_e2e::static_server::StaticServer;
use sre_e2e::wait;
use sre_model::site;

/// The headings of an HTML fragment, as text (the build step writes `<hN id="…">text</hN>`).
fn fragment_headings(html: &str) -> Vec<String> {
    let mut headings = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<h") {
        rest = &rest[start + 2..];
        if !rest.starts_with(|c: char| ('1'..='6').contains(&c)) {
            continue;
        }
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</h") else { break };
        let inner = &rest[open_end + 1..close];
        headings.push(strip_tags(inner));
        rest = &rest[close..];
    }
    headings
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .trim()
        .to_owned()
}

/// Every image of the page has loaded (`naturalWidth > 0`) and has alt text; returns how many.
async fn images_loaded(client: &fantoccini::Client, what: &str) -> Result<usize> {
    page::until(
        client,
        &format!("images of {what} finish loading"),
        "return [...document.images].every(i => i.complete)",
    )
    .await?;
    let images = client
        .execute(
            "return [...document.querySelectorAll('main img')].map(i => [i.currentSrc, i.naturalWidth, i.alt])",
            vec![],
        )
        .await?;
    let images: Vec<(String, u32, String)> = serde_json::from_value(images)?;
    for (src, width, alt) in &images {
        ensure!(*width > 0, "{what}: image {src} did not load");
        ensure!(
            !alt.trim().is_empty(),
            "{what}: image {src} has no alt text"
        );
    }
    Ok(images.len())
}

#[tokio::test]
async fn every_topic_page_renders_its_headings_criteria_files_editors_and_images() -> Result<()> {
    let dist = built_dist()?;
    let server = StaticServer::start(&dist)?;
    let manifest = manifest()?;
    with_browser(|client| async move {
        let mut images = 0;
        for topic in &manifest.topics {
            // A deep link, as a bookmark or a shared link opens it.
            client
                .goto(&server.url(&format!("/{}/", site::topic_route(&topic.id))))
                .await?;
            let fragment = std::fs::read_to_string(dist.join(site::topic_fragment(&topic.id)))
                .context("reading the topic fragment")?;
            let expected = fragment_headings(&fragment);
            ensure!(
                !expected.is_empty(),
                "{}: no headings in its fragment",
                topic.id
            );
            // The app's own view, not the prerendered page: the editors come with the app.
            wait::element(&client, ".topic-page .answers textarea").await?;
            let shown = all_texts(
                &client,
                ".topic-page article.markdown :is(h1, h2, h3, h4, h5, h6)",
            )
            .await?;
            ensure!(
                shown == expected,
                "{}: headings {shown:?}, fragment {expected:?}",
                topic.id
            );
            let criteria = all_texts(&client, ".criteria dt").await?;
            let names: Vec<&str> = topic.criteria.iter().map(|c| c.name.as_str()).collect();
            ensure!(criteria == names, "{}: criteria {criteria:?}", topic.id);
            let files = all_texts(&client, ".file-list li code").await?;
            ensure!(files == topic.files, "{}: files {files:?}", topic.id);
            for slot in &topic.answers {
                wait::element(&client, &format!("textarea#answer-{}", slot.id)).await?;
            }
            images += images_loaded(&client, topic.id.as_str()).await?;
            let title = client.title().await?;
            ensure!(
                title.starts_with(&format!("{}. {}", topic.roman(), topic.title)),
                "{}: document title {title:?}",
                topic.id
            );
        }
        // The postgres topic's incident graphs at least.
        ensure!(images >= 3, "only {images} images on the topic pages");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_file_opens_in_the_viewer_with_line_numbers_and_downloads() -> Result<()> {
    let dist = built_dist()?;
    let server = StaticServer::start(&dist)?;
    let manifest = manifest()?;
    let topic = manifest
        .topics
        .iter()
        .find(|t| t.files.iter().any(|f| f.ends_with(".sql")))
        .context("a topic hands out an .sql file")?;
    let file = topic
        .files
        .iter()
        .find(|f| f.ends_with(".sql"))
        .context("the .sql file")?
        .clone();
    let text = std::fs::read_to_string(dist.join(site::file_url(&file)))?;
    with_browser(|client| async move {
        client
            .goto(&server.url(&format!("/{}", site::page_file(&site::topic_route(&topic.id)))))
            .await?;
        let index = topic.files.iter().position(|f| *f == file).unwrap_or(0) + 1;
        click(
            &client,
            &format!(".file-list li:nth-child({index}) button"),
        )
        .await?;
        wait::element(&client, "dialog.viewer[open] .numbered .line").await?;
        let lines = all_texts(&client, "dialog.viewer[open] .numbered .line").await?;
        let expected: Vec<&str> = text.lines().map(str::trim).collect();
        ensure!(
            lines == expected,
            "the viewer shows {} lines, the file has {}",
            lines.len(),
            expected.len()
        );
        let heading = wait::element(&client, "dialog.viewer[open] h2").await?.text().await?;
        ensure!(heading == file, "viewer title {heading:?}");
        // Line numbers are CSS counters: on screen, not in the copied text.
        let counter = client
            .execute(
                "return getComputedStyle(document.querySelector('dialog.viewer .line'), '::before').content",
                vec![],
            )
            .await?;
        ensure!(
            counter.as_str().is_some_and(|c| c.contains("counter")),
            "no line numbers: ::before is {counter}"
        );

        // Both download links name the file and serve its bytes.
        let links = client
            .execute(
                "return [...document.querySelectorAll('a[download]')].filter(a => a.href.endsWith(arguments[0])).map(a => [a.getAttribute('download'), a.href])",
                vec![Value::String(file.clone())],
            )
            .await?;
        let links: Vec<(String, String)> = serde_json::from_value(links)?;
        ensure!(links.len() == 2, "download links for {file}: {links:?}");
        let name = file.rsplit('/').next().unwrap_or(&file);
        for (download, _) in &links {
            ensure!(download == name, "download name {download:?}");
        }
        let served = client
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done)",
                vec![Value::String(links[0].1.clone())],
            )
            .await?;
        ensure!(served.as_str() == Some(text.as_str()), "the download is not the file");

        // Escape closes the viewer and gives the focus back to the page.
        client
            .find(Locator::Css("dialog.viewer[open]"))
            .await?
            .send_keys("\u{e00c}")
            .await?;
        page::until(
            &client,
            "the viewer closes",
            "return !document.querySelector('dialog.viewer[open]')",
        )
        .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_image_opens_zoomed_and_closes_with_escape() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    with_browser(|client| async move {
        client.goto(&server.url("/topic/postgres/")).await?;
        wait::element(&client, ".topic-page .criteria").await?;
        click(&client, "article.markdown a > img").await?;
        wait::element(&client, "dialog.zoom[open] img").await?;
        page::until(
            &client,
            "the zoomed image loads",
            "const i = document.querySelector('dialog.zoom[open] img'); return i.complete && i.naturalWidth > 0 && i.alt.length > 0",
        )
        .await?;
        client
            .find(Locator::Css("dialog.zoom[open]"))
            .await?
            .send_keys("\u{e00c}")
            .await?;
        page::until(
            &client,
            "the zoom closes",
            "return !document.querySelector('dialog.zoom[open]')",
        )
        .await?;
        // Still on the topic page: the click did not follow the link to the image file.
        wait::path(&client, "/topic/postgres/").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_starter_kit_is_one_archive_of_every_handed_out_file() -> Result<()> {
    let dist = built_dist()?;
    let server = StaticServer::start(&dist)?;
    let manifest = manifest()?;
    let kit = site::starter_kit(&manifest.challenge.version);
    let files = page::unzip(&std::fs::read(dist.join(&kit))?)?;
    for path in manifest.starter_files() {
        let name = format!("{}/{path}", site::STARTER_KIT_FOLDER);
        let bytes = files
            .get(&name)
            .with_context(|| format!("{name} is not in {kit}"))?;
        ensure!(
            *bytes == std::fs::read(sre_e2e::repo_root().join("content").join(path))?,
            "{name} differs from content/{path}"
        );
    }
    ensure!(
        files.len() == manifest.starter_files().len(),
        "extra files in the kit"
    );
    with_browser(|client| async move {
        client.goto(&server.url("/")).await?;
        let link = wait::element(&client, &format!(".topics a[href='{kit}']")).await?;
        ensure!(
            link.attr("download").await?.is_some(),
            "the kit link is not a download"
        );
        Ok(())
    })
    .await
}

/// Hostile markdown: every classic way to run script from a document. A payload that runs either
/// appends to `window.name` (which survives navigations in the tab) or calls `alert` (trapped
/// once the page loads; before that, an open alert fails every WebDriver command).
pub const XSS_MARKDOWN: &str = r#"
XSS-CORPUS-START

<script>top.name+='script;'</script>

<img src="x" onerror="top.name+='img-onerror;'">

<svg onload="top.name+='svg;'"><script>top.name+='svg-script;'</script></svg>

<iframe src="javascript:top.name+='iframe;'"></iframe>

<a href="javascript:top.name+='raw-link;'">raw link</a>

[js link](javascript:top.name+='md-link;')

[JS link](JaVaScRiPt:alert('md-link-case'))

[entity link](&#106;avascript&#58;alert('entity'))

[data link](data:text/html,<script>alert('data-link')</script>)

![data svg](data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoJ2RhdGEtc3ZnJykiLz4=)

![onerror](x" onerror="alert('alt-break'))

<details open ontoggle="top.name+='ontoggle;'">x</details>

<style>body{background:url("javascript:alert('style')")}</style>

<form action="javascript:alert('form')"><button>go</button></form>

`<script>alert('code')</script>`

XSS-CORPUS-END
"#;

#[tokio::test]
async fn hostile_markdown_in_the_content_executes_nothing() -> Result<()> {
    let site = rebuilt_with_content(|content| {
        let readme = content.join("README.md");
        let mut text = std::fs::read_to_string(&readme)?;
        // The README ends with topic VI: the corpus lands on /topic/feedback.
        text.push_str(XSS_MARKDOWN);
        std::fs::write(&readme, text)?;
        Ok(())
    })?;
    let server = StaticServer::start(site.path())?;
    with_browser(|client| async move {
        // Prerendered page and app: both show the corpus.
        client.goto(&server.url("/topic/feedback/")).await?;
        trap_scripts(&client).await?;
        page::text_contains(&client, ".topic-page article.markdown", "XSS-CORPUS-END").await?;
        // The app rendering it again, after a client-side navigation.
        click(&client, ".breadcrumb a").await?;
        wait::element(&client, ".topic-list").await?;
        click(&client, ".topic-list a[href='topic/feedback']").await?;
        page::text_contains(&client, ".topic-page article.markdown", "XSS-CORPUS-END").await?;
        page::ensure_nothing_ran(&client, ".topic-page article.markdown").await?;
        // The payloads are shown as text, so a reviewer sees what was written.
        page::text_contains(
            &client,
            "article.markdown",
            "<script>top.name+='script;'</script>",
        )
        .await?;
        Ok(())
    })
    .await
}

/// Controls without a name a screen reader can say: buttons and links without text, form fields
/// without a label.
const UNNAMED_CONTROLS: &str = "return [...document.querySelectorAll('main button, main a, header a, main textarea, main input')] \
    .filter(e => e.offsetParent !== null) \
    .filter(e => { \
      if (e.matches('textarea, input')) { \
        const by = e.getAttribute('aria-labelledby'); \
        return !(by && document.getElementById(by)?.textContent.trim()) && !e.labels?.length && !e.getAttribute('aria-label'); } \
      return !(e.textContent.trim() || e.getAttribute('aria-label') || e.querySelector('img[alt]:not([alt=\"\"])')); }) \
    .map(e => e.outerHTML.slice(0, 120))";

#[tokio::test]
async fn the_pages_fit_360_px_and_work_from_the_keyboard() -> Result<()> {
    let server = StaticServer::start(&built_dist()?)?;
    with_browser(|client| async move {
        client.set_window_size(360, 740).await?;
        for path in ["/", "/topic/postgres/", "/topic/leadership/", "/answers/", "/results/"] {
            client.goto(&server.url(path)).await?;
            page::until(
                &client,
                &format!("{path}: the app takes over"),
                "return !document.getElementById('prerendered') && !!document.querySelector('main > *')",
            )
            .await?;
            let width = client
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth]",
                    vec![],
                )
                .await?;
            let (scroll, inner): (u32, u32) = serde_json::from_value(width)?;
            ensure!(inner <= 400, "the window did not narrow: {inner} px");
            ensure!(
                scroll <= inner,
                "{path}: the page is {scroll} px wide in a {inner} px window"
            );
            let unnamed = client.execute(UNNAMED_CONTROLS, vec![]).await?;
            ensure!(
                unnamed.as_array().is_some_and(Vec::is_empty),
                "{path}: controls without a name: {unnamed}"
            );
        }

        // Keyboard: the first Tab reaches the skip link, Enter moves to the content; the focus
        // is visible.
        client.goto(&server.url("/topic/feedback/")).await?;
        wait::element(&client, "textarea#answer-feedback").await?;
        client
            .find(Locator::Css("body"))
            .await?
            .send_keys("\u{e004}")
            .await?;
        let focused = client
            .execute(
                "const e = document.activeElement; return [e.className, getComputedStyle(e).outlineStyle]",
                vec![],
            )
            .await?;
        let (class, outline): (String, String) = serde_json::from_value(focused)?;
        ensure!(class == "skip-link", "the first Tab stop is {class:?}");
        ensure!(outline != "none", "the focused skip link has no outline");
        client
            .active_element()
            .await?
            .send_keys("\u{e007}")
            .await?;
        page::until(
            &client,
            "Enter on the skip link focuses the content",
            "return document.activeElement.id === 'main'",
        )
        .await?;
        wait::path(&client, "/topic/feedback/").await?;
        Ok(())
    })
    .await
}
