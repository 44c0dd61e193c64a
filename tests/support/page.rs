//! What the site tests do on a page beyond finding elements: click what may be under a sticky
//! header, type, catch the downloads the site makes from a blob, read a `.zip`, and watch for
//! script that should never run.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use fantoccini::Client;
use serde_json::Value;

use crate::wait::{self, PAGE_TIMEOUT};

/// Scrolls the first element matching `css` into the middle of the window, then clicks it, once
/// the site's app runs (`wait::app_if_prerendered`).
///
/// Tries again while the page replaces the element (the editing app mounts its parts after the
/// page shows, so an element found a moment earlier can be gone: "stale element reference").
pub async fn click(client: &Client, css: &str) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        match click_once(client, css).await {
            Ok(()) => return Ok(()),
            Err(err) if Instant::now() < deadline && format!("{err:#}").contains("stale") => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

async fn click_once(client: &Client, css: &str) -> Result<()> {
    wait::app_if_prerendered(client).await?;
    let element = wait::element(client, css).await?;
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&element)?],
        )
        .await?;
    element
        .click()
        .await
        .with_context(|| format!("clicking `{css}`"))?;
    Ok(())
}

/// Types `text` at the end of the textarea or input matching `css`, once the site's app runs.
pub async fn type_into(client: &Client, css: &str, text: &str) -> Result<()> {
    wait::app_if_prerendered(client).await?;
    let element = wait::element(client, css).await?;
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus(); \
             arguments[0].setSelectionRange(arguments[0].value.length, arguments[0].value.length)",
            vec![serde_json::to_value(&element)?],
        )
        .await?;
    element
        .send_keys(text)
        .await
        .with_context(|| format!("typing into `{css}`"))
}

/// The `value` of the form field matching `css`.
pub async fn value(client: &Client, css: &str) -> Result<String> {
    let element = wait::element(client, css).await?;
    Ok(element.prop("value").await?.unwrap_or_default())
}

/// Runs `script` (a function body that returns a value) until it returns `true`.
pub async fn until(client: &Client, what: &str, script: &str) -> Result<()> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        if client.execute(script, vec![]).await? == Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{what}: not true after {PAGE_TIMEOUT:?}; the page says: {}",
                wait::page_text(client).await
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until the text of the first element matching `css` contains `needle`.
pub async fn text_contains(client: &Client, css: &str, needle: &str) -> Result<String> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let found = wait::element(client, css).await;
        let text = match &found {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return Ok(text);
        }
        if Instant::now() > deadline {
            match found {
                Ok(_) => bail!("`{css}` says {text:?}, not {needle:?}, after {PAGE_TIMEOUT:?}"),
                Err(e) => bail!("waiting for {needle:?}: {e}"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Installs traps on the page: `alert`, `confirm` and `prompt` record a call in `window.__ran`
/// instead of opening a dialog. Payloads call one of them or append to `window.name` (which
/// survives navigations, and so tells even about script that ran before the traps were set);
/// [`script_ran`] tells.
pub async fn trap_scripts(client: &Client) -> Result<()> {
    client
        .execute(
            "window.__ran = window.__ran || []; \
             const trap = (name) => function () { window.__ran.push(name + ':' + [...arguments].join(',')); }; \
             window.alert = trap('alert'); window.confirm = trap('confirm'); \
             window.prompt = trap('prompt'); return true",
            vec![],
        )
        .await?;
    Ok(())
}

/// What payloads managed to run since [`trap_scripts`]; empty when nothing did.
pub async fn script_ran(client: &Client) -> Result<Vec<String>> {
    let ran = client
        .execute(
            "return (window.__ran || []).concat(window.name ? ['window.name: ' + window.name] : [])",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(ran)?)
}

/// Makes the site's blob downloads catchable: the blob of every `URL.createObjectURL` is kept,
/// and a click on a `blob:` download link records the file name instead of saving a file.
pub async fn catch_downloads(client: &Client) -> Result<()> {
    client
        .execute(
            "window.__blobs = {}; window.__downloads = []; \
             const create = URL.createObjectURL; \
             URL.createObjectURL = function (blob) { const url = create.call(URL, blob); window.__blobs[url] = blob; return url; }; \
             const click = HTMLAnchorElement.prototype.click; \
             HTMLAnchorElement.prototype.click = function () { \
               if (this.href.startsWith('blob:')) { window.__downloads.push([this.download, this.href]); return; } \
               return click.call(this); }; return true",
            vec![],
        )
        .await?;
    Ok(())
}

/// The first download caught by [`catch_downloads`]: its file name and bytes.
pub async fn caught_download(client: &Client) -> Result<(String, Vec<u8>)> {
    until(
        client,
        "a download",
        "return (window.__downloads || []).length > 0",
    )
    .await?;
    let reply = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const [name, url] = window.__downloads[0]; \
             window.__blobs[url].arrayBuffer().then(b => done([name, Array.from(new Uint8Array(b))]))",
            vec![],
        )
        .await?;
    let (name, bytes): (String, Vec<u8>) =
        serde_json::from_value(reply).context("reading the caught download")?;
    Ok((name, bytes))
}

/// The files of a `.zip`, by name.
pub fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("not a valid .zip")?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)?;
        files.insert(file.name().to_owned(), content);
    }
    Ok(files)
}

/// The text of every element matching `css`, at once (no waiting).
pub async fn all_texts(client: &Client, css: &str) -> Result<Vec<String>> {
    let texts = client
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim())",
            vec![Value::String(css.to_owned())],
        )
        .await?;
    Ok(serde_json::from_value(texts)?)
}

/// Elements under a container that run script or load another document, and attributes with
/// an event handler or a `javascript:`, `data:` or `vbscript:` URL: their HTML (empty: none).
const DANGEROUS_MARKUP: &str = "return [...document.querySelectorAll(arguments[0] + ' *')].filter(e => \
    ['SCRIPT', 'IFRAME', 'SVG', 'OBJECT', 'EMBED', 'FORM', 'STYLE', 'DETAILS'].includes(e.tagName.toUpperCase()) || \
    [...e.attributes].some(a => a.name.startsWith('on') || /^\\s*(javascript|data|vbscript):/i.test(a.value))) \
    .map(e => e.outerHTML)";

/// Checks hostile markdown rendered under `container` (payloads from the tests' corpora): clicks
/// every link in it that does not go to an http(s), mailto or content/ address (a surviving
/// `javascript:` URL would run now), then fails if any dangerous markup is there or any payload
/// ran ([`trap_scripts`] must have been called).
pub async fn ensure_nothing_ran(client: &Client, container: &str) -> Result<()> {
    let links = client
        .find_all(fantoccini::Locator::Css(&format!("{container} a")))
        .await?;
    for link in links {
        let href = link.attr("href").await?.unwrap_or_default();
        if !href.starts_with("http") && !href.starts_with("mailto") && !href.contains("content/") {
            // A refused click (the link is not interactable) is not a failure of the site.
            let _ = link.click().await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let dangerous = client
        .execute(DANGEROUS_MARKUP, vec![Value::String(container.to_owned())])
        .await?;
    if !dangerous.as_array().is_some_and(Vec::is_empty) {
        bail!("dangerous markup under {container}: {dangerous}");
    }
    let ran = script_ran(client).await?;
    if !ran.is_empty() {
        bail!("payloads ran: {ran:?}");
    }
    Ok(())
}
