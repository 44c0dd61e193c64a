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

/// Scrolls the first element matching `css` into the middle of the window, then clicks it.
pub async fn click(client: &Client, css: &str) -> Result<()> {
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

/// Types `text` at the end of the textarea or input matching `css`.
pub async fn type_into(client: &Client, css: &str, text: &str) -> Result<()> {
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
        let text = match wait::element(client, css).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return Ok(text);
        }
        if Instant::now() > deadline {
            bail!("`{css}` says {text:?}, not {needle:?}, after {PAGE_TIMEOUT:?}");
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
