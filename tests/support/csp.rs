//! Watching the Content-Security-Policy at work in Chromium: every `securitypolicyviolation` a
//! page reports, from its first byte on, and whether a script injected into the page runs.
//!
//! The recorder is installed through the DevTools protocol (chromedriver's `goog/cdp/execute`,
//! `Page.addScriptToEvaluateOnNewDocument`), so it runs before the page's own scripts on every
//! document of the session, and it is not itself subject to the page's policy. WebDriver's
//! `execute` is not either: what a test runs that way proves nothing about the policy, only what
//! the page itself runs (a `<script>` element it was made to insert) does.

use anyhow::{Context, Result};
use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

/// Records every violation of the pages opened from now on in `window.__cspViolations`.
pub async fn record_violations(client: &Client) -> Result<()> {
    let source = "window.__cspViolations = []; \
        document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(\
          e.effectiveDirective + ' blocked ' + (e.blockedURI || '?') + ' (' + e.disposition + ', ' + \
          (e.sourceFile || document.location.pathname) + ':' + e.lineNumber + ')'));";
    client
        .issue_cmd(Cdp {
            command: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": source }),
        })
        .await
        .context("installing the violation recorder through chromedriver's CDP endpoint")?;
    Ok(())
}

/// The violations the current page reported since it loaded ([`record_violations`] first).
pub async fn violations(client: &Client) -> Result<Vec<String>> {
    let found = client
        .execute(
            "return window.__cspViolations === undefined ? null : window.__cspViolations",
            vec![],
        )
        .await?;
    if found.is_null() {
        anyhow::bail!("the page has no violation recorder: call record_violations before it loads");
    }
    Ok(serde_json::from_value(found)?)
}

/// What became of a `<script>` element with inline text that the page was made to insert.
#[derive(Debug)]
pub struct Injection {
    /// Whether its text ran.
    pub ran: bool,
    /// The violations reported meanwhile.
    pub violations: Vec<String>,
}

/// Makes the page insert `<script>window.__injectedRan = true</script>` (as markup that got past
/// escaping would), then tells whether it ran and which violations the page reported.
pub async fn inject_inline_script(client: &Client) -> Result<Injection> {
    let reply = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const before = (window.__cspViolations || []).length; \
             window.__injectedRan = false; \
             const script = document.createElement('script'); \
             script.textContent = 'window.__injectedRan = true'; \
             document.body.appendChild(script); \
             setTimeout(() => done({ ran: window.__injectedRan, \
               violations: (window.__cspViolations || []).slice(before) }), 300);",
            vec![],
        )
        .await?;
    Ok(Injection {
        ran: reply["ran"] == Value::Bool(true),
        violations: serde_json::from_value(reply["violations"].clone())?,
    })
}

/// A DevTools protocol command, through chromedriver.
#[derive(Debug)]
struct Cdp {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
