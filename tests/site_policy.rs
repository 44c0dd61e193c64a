//! The browser's side of security (issue 13, items 4 and 6), in headless Chromium:
//!
//! - sre-intake sends the Content-Security-Policy, `frame-ancestors 'none'`, `X-Frame-Options`
//!   and `Referrer-Policy` on every response, and the built pages carry the policy as a `<meta>`
//!   for static hosts, with no inline script;
//! - the candidate site (both wasm apps, the preview worker, the sync) and the reviewer view work
//!   under it, behind sre-intake and on a static host, without a single violation;
//! - a `<script>` the page is made to insert is blocked by the policy (the same injection runs on
//!   a page without the policy, so the test can tell);
//! - an invite link naming a server other than the site's own origin (and not one the site was
//!   built to allow) is refused with a message, and the foreign server gets no request.
//!
//! Needs `trunk build --release` (dist/) and `cargo build -p sre-intake`.

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::{Value, json};
use sre_e2e::browser::with_browser;
use sre_e2e::csp::{inject_inline_script, record_violations, violations};
use sre_e2e::intake::{Backend, Http, Intake, built_binary, invite, reviewer};
use sre_e2e::page::{self, click, text_contains, type_into};
use sre_e2e::site::{built_dist, rebuilt_with_servers};
use sre_e2e::static_server::StaticServer;
use sre_e2e::wait;
use sre_model::browser_policy;

/// What the editor says once an answer is saved locally.
const SAVED: &str = "Saved in this browser";

/// An sre-intake serving the built site, with a reviewer and a candidate.
struct Scene {
    server: Intake,
    reviewer: String,
    candidate: String,
    _backend: Backend,
}

fn scene_with_site(site: &std::path::Path) -> Result<Scene> {
    let bin = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let reviewer = reviewer(&bin, &backend, "Grace Reviewer");
    let (_, candidate) = invite(&bin, &backend, "Ada Candidate");
    let site = site.to_str().context("the site's path is UTF-8")?;
    let server = Intake::start(&bin, &backend, &["--site", site])?;
    Ok(Scene {
        server,
        reviewer,
        candidate,
        _backend: backend,
    })
}

fn scene() -> Result<Scene> {
    scene_with_site(&built_dist()?)
}

/// The browser headers of one reply, or what is wrong with them.
fn check_headers(http: &Http, url: &str, policy: &str) -> Result<()> {
    let reply = http.send("GET", url, &[], b"")?;
    let header = |name: &str| reply.header(name).unwrap_or("(none)").to_owned();
    ensure!(
        header("content-security-policy") == policy,
        "GET {url} ({}): Content-Security-Policy {:?}, expected {policy:?}",
        reply.status,
        header("content-security-policy")
    );
    ensure!(
        header("x-frame-options") == "DENY",
        "GET {url}: X-Frame-Options {:?}",
        header("x-frame-options")
    );
    ensure!(
        header("referrer-policy") == "no-referrer",
        "GET {url}: Referrer-Policy {:?}",
        header("referrer-policy")
    );
    Ok(())
}

#[test]
fn sre_intake_sends_the_browser_headers_on_every_response() -> Result<()> {
    let scene = scene()?;
    let http = Http::new();
    // The pages carry their stylesheet inline: the policy allows it by its digest, computed here
    // from the built page on its own.
    let built = std::fs::read_to_string(built_dist()?.join("index.html"))?;
    let styles = inline_style_digests(&built);
    ensure!(
        styles.len() == 1,
        "index.html has {} inline stylesheets, expected the site's one",
        styles.len()
    );
    let styles: Vec<&str> = styles.iter().map(String::as_str).collect();
    let policy = browser_policy::header_policy(&[], &styles);
    ensure!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let token_paths = [
        format!("/invite/{}", scene.candidate),
        format!("/?invite={}", scene.candidate),
    ];
    let paths = [
        "/",
        "/topic/iac/",
        "/answers",
        "/review",
        "/review/c-1",
        "/boot.js",
        "/preview_loader.js",
        "/challenge/manifest.json",
        "/healthz",
        "/api/v1/me",
        "/api/v1/no-such-route",
    ];
    for path in paths
        .iter()
        .copied()
        .chain(token_paths.iter().map(String::as_str))
    {
        check_headers(&http, &scene.server.url(path), &policy)?;
    }

    // The page itself carries the policy for static hosts, and nothing it would block.
    let page = http.send("GET", &scene.server.url("/"), &[], b"")?.body;
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        browser_policy::content_security_policy(&[], &styles)
    );
    ensure!(page.contains(&meta), "index.html has no {meta}");
    for (at, _) in page.match_indices("<script") {
        let tag = &page[at..at + page[at..].find('>').unwrap_or(0)];
        ensure!(
            tag.contains(" src=") || tag.contains("application/json"),
            "index.html has an inline script: {tag}>"
        );
    }

    // A site built to allow another server: the header's connect-src names it too.
    let allowing = rebuilt_with_servers("https://intake.example.com")?;
    let scene = scene_with_site(allowing.path())?;
    check_headers(
        &http,
        &scene.server.url("/review"),
        &browser_policy::header_policy(&["https://intake.example.com"], &styles),
    )?;
    Ok(())
}

/// The base64 SHA-256 digest of each `<style>` element's text in `page`.
fn inline_style_digests(page: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    page.split("<style>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</style>").map(|(css, _)| css))
        .map(|css| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css)))
        .collect()
}

/// No violation so far on this page.
async fn no_violations(client: &Client, what: &str) -> Result<()> {
    let found = violations(client).await?;
    ensure!(found.is_empty(), "{what}: violations {found:#?}");
    Ok(())
}

/// A `<script>` the page inserts does not run, and the policy says it blocked it.
async fn injected_script_is_blocked(client: &Client, what: &str) -> Result<()> {
    let injection = inject_inline_script(client).await?;
    ensure!(!injection.ran, "{what}: the injected inline script ran");
    ensure!(
        injection
            .violations
            .iter()
            .any(|v| v.starts_with("script-src-elem blocked inline")),
        "{what}: no violation reported for the injected script: {:?}",
        injection.violations
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_and_the_reviewer_view_work_behind_sre_intake_under_the_policy() -> Result<()> {
    let scene = scene()?;
    let base = scene.server.base.clone();
    let candidate = scene.candidate.clone();
    let reviewer = scene.reviewer.clone();
    with_browser(|client| async move {
        record_violations(&client).await?;
        // The candidate: both wasm apps start, the answer syncs, the preview worker renders.
        client.goto(&format!("{base}/invite/{candidate}")).await?;
        wait::path(&client, "/").await?;
        wait::element(&client, ".topic-list").await?;
        no_violations(&client, "home page").await?;
        click(&client, ".topic-list a[href='topic/leadership']").await?;
        type_into(
            &client,
            "textarea#answer-leadership",
            "\n# Plan\n\n**Waves**",
        )
        .await?;
        text_contains(&client, "#answer-leadership-status", "on the server").await?;
        click(&client, ".answer button.preview-toggle").await?;
        wait::element(&client, "#answer-leadership-preview strong").await?;
        no_violations(&client, "topic page with sync and preview").await?;
        injected_script_is_blocked(&client, "topic page").await?;

        // The reviewer: the view loads, logs in, lists and opens the candidate.
        client.goto(&format!("{base}/review")).await?;
        let input = wait::element(&client, "#reviewer-token").await?;
        input.send_keys(&reviewer).await?;
        click(&client, "form.login button[type=submit]").await?;
        page::text_contains(&client, "tr.candidate", "Ada Candidate").await?;
        click(&client, "tr.candidate a").await?;
        text_contains(&client, "#topic-leadership article.answer", "Waves").await?;
        no_violations(&client, "reviewer view").await?;
        injected_script_is_blocked(&client, "reviewer view").await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_static_host_the_pages_meta_policy_holds() -> Result<()> {
    let site = StaticServer::start(&built_dist()?)?;
    // The control: a page without the policy, where the same injection runs.
    let plain = tempfile::tempdir()?;
    std::fs::write(
        plain.path().join("index.html"),
        "<!doctype html><title>No policy</title><p>plain</p>",
    )?;
    let plain = StaticServer::start(plain.path())?;
    with_browser(|client| async move {
        record_violations(&client).await?;
        client.goto(&plain.url("/")).await?;
        let control = inject_inline_script(&client).await?;
        ensure!(
            control.ran,
            "the injection does not even run without a policy: the test proves nothing"
        );

        // Leadership's answer is markdown, so its preview (the worker) runs under the policy too.
        client.goto(&site.url("/topic/leadership/")).await?;
        type_into(
            &client,
            "textarea#answer-leadership",
            "\nUnder the meta policy.",
        )
        .await?;
        text_contains(&client, "#answer-leadership-status", SAVED).await?;
        click(&client, ".answer button.preview-toggle").await?;
        text_contains(
            &client,
            "#answer-leadership-preview",
            "Under the meta policy",
        )
        .await?;
        no_violations(&client, "static host, topic page").await?;
        injected_script_is_blocked(&client, "static host, topic page").await?;
        Ok(())
    })
    .await
}

/// The answer the server holds for `slot`, if any.
fn server_answer(http: &Http, server: &Intake, token: &str, slot: &str) -> Option<String> {
    let reply = http.get(&server.url(&format!("/api/v1/answers/{slot}")), token);
    (reply.status == 200).then(|| reply.json()["text"].as_str().unwrap_or_default().to_owned())
}

async fn stored(client: &Client, key: &str) -> Result<Value> {
    Ok(client
        .execute(
            "return localStorage.getItem('sre-challenge:' + arguments[0])",
            vec![json!(key)],
        )
        .await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invite_naming_a_foreign_server_is_refused_and_nothing_is_sent() -> Result<()> {
    let scene = scene()?;
    let base = scene.server.base.clone();
    let candidate = scene.candidate.clone();
    let empty = tempfile::tempdir()?;
    let foreign = StaticServer::start(empty.path())?;
    let foreign_origin = foreign.url("");
    let http = Http::new();
    with_browser(|client| {
        let (foreign, http, scene) = (&foreign, &http, &scene);
        async move {
            record_violations(&client).await?;
            client
                .goto(&format!(
                    "{base}/?invite={candidate}&server={foreign_origin}"
                ))
                .await?;
            let alert = text_contains(&client, ".server-refused", &foreign_origin).await?;
            ensure!(
                alert.contains("kept in this browser"),
                "the refusal says where the answers stay: {alert:?}"
            );
            ensure!(
                stored(&client, "invite").await?.is_null(),
                "the refused invite was stored"
            );
            click(&client, ".topic-list a[href='topic/feedback']").await?;
            type_into(&client, "textarea#answer-feedback", "\nA private draft.").await?;
            text_contains(&client, "#answer-feedback-status", SAVED).await?;
            text_contains(&client, ".sync-status", "kept in this browser").await?;
            // Longer than the sync's pause before it sends.
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            ensure!(
                foreign.requests() == 0,
                "the foreign server got {} requests",
                foreign.requests()
            );
            // Nor did the page try (a try would be a connect-src violation), nor did the draft
            // go to the site's own server under the invite.
            no_violations(&client, "page with a refused invite").await?;
            ensure!(
                server_answer(http, &scene.server, &candidate, "feedback").is_none(),
                "the draft reached the site's server"
            );

            // An invite an earlier version of the site stored with a foreign server: refused too.
            client
                .execute(
                    "localStorage.setItem('sre-challenge:invite', arguments[0]); \
                     localStorage.setItem('sre-challenge:server', arguments[1])",
                    vec![json!(candidate), json!(foreign_origin)],
                )
                .await?;
            client.goto(&format!("{base}/topic/feedback/")).await?;
            text_contains(&client, ".server-refused", &foreign_origin).await?;
            type_into(&client, "textarea#answer-feedback", " More.").await?;
            text_contains(&client, "#answer-feedback-status", SAVED).await?;
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            ensure!(
                foreign.requests() == 0,
                "the foreign server got {} requests after a reload",
                foreign.requests()
            );
            no_violations(&client, "page with a stored foreign invite").await?;
            Ok(())
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invite_naming_the_sites_own_origin_is_accepted() -> Result<()> {
    let scene = scene()?;
    let base = scene.server.base.clone();
    let candidate = scene.candidate.clone();
    let http = Http::new();
    with_browser(|client| {
        let (http, scene) = (&http, &scene);
        async move {
            record_violations(&client).await?;
            client
                .goto(&format!("{base}/?invite={candidate}&server={base}/"))
                .await?;
            wait::path(&client, "/").await?;
            click(&client, ".topic-list a[href='topic/feedback']").await?;
            type_into(&client, "textarea#answer-feedback", "\nSent home.").await?;
            text_contains(&client, "#answer-feedback-status", "on the server").await?;
            let text = server_answer(http, &scene.server, &candidate, "feedback");
            ensure!(
                text.as_deref().is_some_and(|t| t.ends_with("Sent home.")),
                "the server holds {text:?}"
            );
            ensure!(
                stored(&client, "server").await?.is_null(),
                "the site's own origin is kept as no server at all"
            );
            ensure!(
                client
                    .find(fantoccini::Locator::Css(".server-refused"))
                    .await
                    .is_err(),
                "the site's own origin was refused"
            );
            no_violations(&client, "own-origin invite").await?;
            Ok(())
        }
    })
    .await
}
