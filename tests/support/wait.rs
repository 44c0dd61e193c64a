//! Waiting for the page: the site renders after its wasm starts and its fetches answer, so a test
//! polls for what it expects instead of sleeping.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use fantoccini::{Client, Locator, elements::Element};

/// How long a page may take to show what a test waits for.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

const POLL: Duration = Duration::from_millis(100);

/// The first element matching `css`, once there is one.
pub async fn element(client: &Client, css: &str) -> Result<Element> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        if let Ok(found) = client.find(Locator::Css(css)).await {
            return Ok(found);
        }
        if Instant::now() > deadline {
            bail!(
                "no element matches `{css}` after {PAGE_TIMEOUT:?}; the page says: {}",
                page_text(client).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The texts of every element matching `css`, once at least one has a non-empty text.
///
/// The texts are read again from a new search when one of the elements went stale meanwhile: the
/// reading app replaces the prerendered page's elements, maybe between the search and the reads.
pub async fn texts(client: &Client, css: &str) -> Result<Vec<String>> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let mut texts = Vec::new();
        let mut stale = false;
        for element in client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            match element.text().await {
                Ok(text) => texts.push(text),
                Err(_) => stale = true,
            }
        }
        if !stale && texts.iter().any(|t| !t.is_empty()) {
            return Ok(texts);
        }
        if Instant::now() > deadline {
            bail!(
                "no text in elements matching `{css}` after {PAGE_TIMEOUT:?}; the page says: {}",
                page_text(client).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the first element matching `css` reads `want`: a page the app renders shows its
/// parts as their fetches answer, so the first match may at first be a later part's.
pub async fn text(client: &Client, css: &str, want: &str) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let seen = match client.find(Locator::Css(css)).await {
            Ok(found) => found.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen == want {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the first `{css}` reads {seen:?}, not {want:?}, after {PAGE_TIMEOUT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the site has taken the invite from the address: it stores the invite, then cleans
/// the address, so a page loaded after this one sends answers to the server.
pub async fn invite_taken(client: &Client) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let current = client.current_url().await?;
        if !current.query().unwrap_or_default().contains("invite=") {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the address still holds the invite after {PAGE_TIMEOUT:?}: {current}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the address bar shows `path` (e.g. `/topic/iac`).
pub async fn path(client: &Client, path: &str) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let current = client.current_url().await?;
        if current.path() == path {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the address is {current}, not {path}, after {PAGE_TIMEOUT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the reading app has taken over the prerendered page: `boot.js` starts it after
/// the page's `load` event, and it replaces the prerendered elements, so an element found before
/// then goes stale.
pub async fn app(client: &Client) -> Result<()> {
    until_app(
        client,
        "return document.getElementById('prerendered') === null \
         && document.getElementById('main') !== null",
    )
    .await
}

/// Waits, on one of the site's pages, until the reading app has replaced the prerendered one, so
/// that a click or a keystroke reaches the app (a click on a prerendered link loads another page
/// instead, and text typed there is never saved). Pages without a prerendered part, sre-intake's
/// reviewer pages, are ready once loaded.
pub async fn app_if_prerendered(client: &Client) -> Result<()> {
    until_app(
        client,
        "return document.getElementById('prerendered') === null",
    )
    .await
}

/// Polls `script` until it returns `true`.
async fn until_app(client: &Client, script: &str) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        if client.execute(script, vec![]).await? == true {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the site's app did not take over the page after {PAGE_TIMEOUT:?}; the page says: {}",
                page_text(client).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The visible text of the page, shortened, for error messages.
pub async fn page_text(client: &Client) -> String {
    let text = match client.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(e) => format!("(no body: {e})"),
    };
    let short: String = text.chars().take(600).collect();
    format!("{short:?}")
}
