//! `cargo xtask pages`: one HTML file per page of the site, each readable before the wasm starts.
//!
//! Trunk's post-build hook runs it on the staging folder, after Trunk wrote `index.html` and
//! `cargo xtask render` (the pre-build hook) wrote `challenge/`. For every route (home, each
//! topic, the answers and results pages) it writes `page_file(route)` — `index.html`,
//! `topic/iac/index.html`… — as Trunk's `index.html` plus:
//!
//! - the page's title;
//! - the site's Content-Security-Policy as a `<meta>`, for static hosts (see `policy_meta`);
//! - the manifest and the starting texts as inline JSON, so the app starts without fetching them;
//! - the page itself, prerendered: the header and the page's readme fragment, in the same markup
//!   the app renders. The first heading shows as soon as the HTML arrives, the page reads without
//!   JavaScript, and a static host serves deep links such as `/topic/iac/`. The app takes the
//!   fragment over from the page instead of fetching it, and replaces the prerendered block.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sre_markdown::escape_text;
use sre_model::{Manifest, Topic, site};

use crate::{download_page, html, inline_style, policy_meta};

/// Writes every page into `out`, which holds Trunk's `index.html` and `render`'s output, and
/// publishes sre-check's builds from `builds` (`cargo xtask dist`'s output) with their page.
pub fn pages(out: &Path, builds: &Path) -> Result<()> {
    let index_path = out.join("index.html");
    let page = fs::read_to_string(&index_path).with_context(|| {
        format!(
            "cannot read {}: run this as Trunk's post-build hook, after the site is built",
            index_path.display()
        )
    })?;
    // Run again on a built site (e.g. after `render` with other content), index.html is a page
    // already: its inserted block goes, Trunk's page stays.
    let inline = inline_style::inlined(&without_app_preloads(&without_inserted(&page)), out)?;
    // Inline in every page now: a file left behind would look like something loaded later.
    for file in &inline.files {
        fs::remove_file(out.join(file)).with_context(|| format!("cannot remove {file}"))?;
    }
    let policy = policy_meta::PagePolicy {
        style_hashes: inline.digests,
        ..policy_meta::PagePolicy::from_env()?
    };
    let template = inline.page;
    let template = policy_meta::with_policy(&template, &policy)?;
    let read = |path: &str| {
        let full = out.join(path);
        fs::read_to_string(&full).with_context(|| {
            format!(
                "cannot read {}: `cargo xtask render` (the pre-build hook) writes it",
                full.display()
            )
        })
    };
    let manifest_json = read(site::MANIFEST_JSON)?;
    let manifest: Manifest = serde_json::from_str(&manifest_json)
        .with_context(|| format!("{} is not a challenge manifest", site::MANIFEST_JSON))?;
    let data = format!(
        "{}{}",
        json_script(site::element::MANIFEST, &site_view(&manifest_json)?),
        json_script(
            site::element::STARTING_TEXTS,
            &read(site::STARTING_TEXTS_JSON)?
        )
    );

    let mut written = 0;
    for page in plan(&manifest, &read)? {
        let html = compose(&template, &page, &data)?;
        let path = out.join(site::page_file(&page.route));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
        written += 1;
    }
    let published = download_page::publish(builds, out)?;
    download_page::write_script(out)?;
    let download = download_page::page(
        &template,
        &manifest.challenge.title,
        &manifest.challenge.version,
        published.as_ref(),
    )?;
    let path = out.join(site::page_file(site::DOWNLOAD_ROUTE));
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(&path, download).with_context(|| format!("cannot write {}", path.display()))?;
    written += 1;
    eprintln!("xtask pages: {written} pages in {}", out.display());
    Ok(())
}

/// The part of the manifest the site reads (the fields of `src/challenge.rs`), which every page
/// carries inline. The whole manifest stays in `challenge/manifest.json`; check titles, packaging
/// details and templates (the starting texts come separately) would cost every first load about
/// 1.5 KB gzip.
fn site_view(manifest_json: &str) -> Result<String> {
    let mut manifest: Value = serde_json::from_str(manifest_json)
        .with_context(|| format!("{} is not JSON", site::MANIFEST_JSON))?;
    // `topic`, as in challenge.toml's `[[topic]]`.
    keep(&mut manifest, &["challenge", "topic"]);
    keep(&mut manifest["challenge"], &["title", "version"]);
    for topic in manifest["topic"].as_array_mut().into_iter().flatten() {
        keep(
            topic,
            &[
                "id",
                "number",
                "title",
                "objective",
                "criteria",
                "files",
                "answers",
            ],
        );
        for criterion in topic["criteria"].as_array_mut().into_iter().flatten() {
            keep(criterion, &["name", "description"]);
        }
        for slot in topic["answers"].as_array_mut().into_iter().flatten() {
            keep(slot, &["id", "title", "files", "format"]);
        }
    }
    Ok(manifest.to_string())
}

/// Removes every field of `object` not named in `fields`.
fn keep(object: &mut Value, fields: &[&str]) {
    if let Some(map) = object.as_object_mut() {
        map.retain(|key, _| fields.contains(&key.as_str()));
    }
}

/// One page to write.
#[derive(Debug, PartialEq)]
pub struct Page {
    /// The route, e.g. `topic/iac`.
    pub route: String,
    /// The document title.
    pub title: String,
    /// The prerendered header and content.
    pub body: String,
}

/// Every page of the site, with its prerendered content.
pub fn plan(manifest: &Manifest, read: &dyn Fn(&str) -> Result<String>) -> Result<Vec<Page>> {
    let site_title = &manifest.challenge.title;
    let header = header(site_title);
    let mut pages = vec![Page {
        route: site::HOME_ROUTE.to_owned(),
        title: site_title.clone(),
        body: format!(
            "{header}<main id=\"main\" tabindex=\"-1\"><div class=\"home\">\
             <article class=\"markdown\">{}</article>{}</div></main>",
            read(site::README_FRAGMENT)?,
            topic_list(&manifest.topics)
        ),
    }];
    for topic in &manifest.topics {
        pages.push(Page {
            route: site::topic_route(&topic.id),
            title: format!("{}. {} — {site_title}", topic.roman(), topic.title),
            body: format!(
                "{header}<main id=\"main\" tabindex=\"-1\"><div class=\"topic-page\">\
                 <p class=\"breadcrumb\"><a href=\"{}\">All topics</a></p>\
                 <article class=\"markdown\">{}</article></div></main>",
                site::HOME_ROUTE,
                read(&site::topic_fragment(&topic.id))?
            ),
        });
    }
    for (route, heading) in [
        (site::ANSWERS_ROUTE, "Your answers"),
        (site::RESULTS_ROUTE, "Check results"),
    ] {
        pages.push(Page {
            route: route.to_owned(),
            title: format!("{heading} — {site_title}"),
            body: format!(
                "{header}<main id=\"main\" tabindex=\"-1\"><div class=\"page\"><h1>{heading}</h1>\
                 <p class=\"status\">Loading…</p></div></main>"
            ),
        });
    }
    Ok(pages)
}

/// The site header as the app renders it (`src/header.rs`).
pub fn header(title: &str) -> String {
    format!(
        "<header class=\"site-header\"><a class=\"skip-link\" href=\"#main\">Skip to content</a>\
         <a class=\"site-title\" href=\"{}\">{}</a>\
         <nav class=\"site-nav\" aria-label=\"Site\"><a href=\"{}\">Your answers</a>\
         <a href=\"{}\">Results</a><a href=\"{}\">Get sre-check</a></nav></header>",
        site::HOME_ROUTE,
        escape_text(title),
        site::ANSWERS_ROUTE,
        site::RESULTS_ROUTE,
        site::DOWNLOAD_ROUTE
    )
}

/// The list of topics as the app renders it (`src/topic_list.rs`), without progress.
fn topic_list(topics: &[Topic]) -> String {
    let items: String = topics
        .iter()
        .map(|t| {
            format!(
                "<li class=\"topic\"><a href=\"{}\"><span class=\"roman\">{}.</span> \
                 <span class=\"topic-title\">{}</span></a><p>{}</p></li>",
                site::topic_route(&t.id),
                t.roman(),
                escape_text(&t.title),
                escape_text(&t.objective)
            )
        })
        .collect();
    format!(
        "<nav class=\"topics\" aria-labelledby=\"topic-list-title\">\
         <h2 id=\"topic-list-title\">Topics</h2><ol class=\"topic-list\">{items}</ol></nav>"
    )
}

/// Marks the block `compose` inserts, so that a second run finds and replaces it.
const INSERTED_START: &str = "<!--sre:page-->";
const INSERTED_END: &str = "<!--/sre:page-->";

/// `page` without the block an earlier run inserted (the page itself when there is none).
fn without_inserted(page: &str) -> String {
    match (page.find(INSERTED_START), page.find(INSERTED_END)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &page[..start], &page[end + INSERTED_END.len()..])
        }
        _ => page.to_owned(),
    }
}

/// Trunk's page without the `preload` and `modulepreload` links of the reading app: `boot.js`
/// starts the app once the page has loaded (everything the app shows is prerendered), so its JS
/// and wasm must not take the bandwidth the page's own stylesheet and images need first.
fn without_app_preloads(template: &str) -> String {
    let app: Vec<&str> = html::tags(template)
        .filter(|t| t.name == "script" && html::attribute(t.attributes, "data-wasm-app").is_some())
        .flat_map(|t| {
            ["data-js", "data-wasm"]
                .into_iter()
                .filter_map(move |a| html::attribute(t.attributes, a))
        })
        .collect();
    let mut out = String::with_capacity(template.len());
    let mut copied = 0;
    for tag in html::tags(template) {
        let rel = html::attribute(tag.attributes, "rel").unwrap_or_default();
        let href = html::attribute(tag.attributes, "href").unwrap_or_default();
        if tag.name == "link" && matches!(rel, "preload" | "modulepreload") && app.contains(&href) {
            out.push_str(&template[copied..tag.span.start]);
            copied = tag.span.end;
        }
    }
    out.push_str(&template[copied..]);
    out
}

/// Trunk's page with this page's title, data and prerendered content.
fn compose(template: &str, page: &Page, data: &str) -> Result<String> {
    let Some(body_tag) = template.find("<body") else {
        bail!("index.html has no <body> tag to put the page in");
    };
    let Some(body_end) = template[body_tag..].find('>').map(|i| body_tag + i + 1) else {
        bail!("index.html has an unterminated <body> tag");
    };
    let (Some(title_start), Some(title_end)) =
        (template.find("<title>"), template.find("</title>"))
    else {
        bail!("index.html has no <title>");
    };
    let title_start = title_start + "<title>".len();
    if title_end < title_start || title_end > body_tag {
        bail!("index.html's <title> is not in its head");
    }
    Ok(format!(
        "{}{}{}{INSERTED_START}{data}<div id=\"{}\">{}</div>{INSERTED_END}{}",
        &template[..title_start],
        escape_text(&page.title),
        &template[title_end..body_end],
        site::element::PRERENDERED,
        page.body,
        &template[body_end..]
    ))
}

/// A `<script type="application/json">` holding `json`. A `<` inside a JSON string becomes
/// `\u003c`, so no `</script>` or `<!--` in the content can end the element early.
fn json_script(id: &str, json: &str) -> String {
    format!(
        "<script type=\"application/json\" id=\"{id}\">{}</script>",
        json.replace('<', "\\u003c")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "<!doctype html><html lang=en><title>SRE Challenge</title><base href=/>\
        <script type=module src=/boot.js></script></head>\
        <body><noscript>JS</noscript></body></html>";

    fn manifest() -> Manifest {
        let toml = include_str!("../../../content/challenge.toml");
        Manifest::from_toml(toml).expect("content/challenge.toml is valid")
    }

    fn fragments(path: &str) -> Result<String> {
        Ok(format!("<h1>{path}</h1>"))
    }

    #[test]
    fn every_route_gets_a_page_with_its_fragment() -> Result<()> {
        let manifest = manifest();
        let pages = plan(&manifest, &fragments)?;
        let routes: Vec<&str> = pages.iter().map(|p| p.route.as_str()).collect();
        assert_eq!(routes.len(), 1 + manifest.topics.len() + 2);
        assert_eq!(routes[0], "./");
        assert_eq!(routes[1], "topic/iac");
        let postgres = pages
            .iter()
            .find(|p| p.route == "topic/postgres")
            .context("postgres page")?;
        assert!(
            postgres
                .body
                .contains("<article class=\"markdown\"><h1>challenge/topics/postgres.html</h1>")
        );
        assert!(postgres.title.starts_with("IV. PostgreSQL"));
        assert!(pages[0].body.contains("<ol class=\"topic-list\">"));
        Ok(())
    }

    #[test]
    fn a_page_is_the_template_with_title_data_and_content() -> Result<()> {
        let page = Page {
            route: "topic/iac".to_owned(),
            title: "I. <IaC> — SRE Challenge".to_owned(),
            body: "<main>x</main>".to_owned(),
        };
        let data = json_script("challenge-manifest", r#"{"a":"</script><!--"}"#);
        let html = compose(TEMPLATE, &page, &data)?;
        assert_eq!(
            html,
            "<!doctype html><html lang=en><title>I. &lt;IaC&gt; — SRE Challenge</title><base href=/>\
             <script type=module src=/boot.js></script></head>\
             <body><!--sre:page--><script type=\"application/json\" id=\"challenge-manifest\">\
             {\"a\":\"\\u003c/script>\\u003c!--\"}</script>\
             <div id=\"prerendered\"><main>x</main></div><!--/sre:page--><noscript>JS</noscript></body></html>"
        );
        assert_eq!(
            without_inserted(&html).replace("I. &lt;IaC&gt; — ", ""),
            TEMPLATE
        );
        Ok(())
    }

    #[test]
    fn the_reading_app_is_not_preloaded() {
        let trunk = "<head><link rel=stylesheet href=/style-1.css>\
            <link crossorigin href=/app-1.js integrity=sha384-x rel=modulepreload>\
            <link as=fetch href=\"/app-1_bg.wasm\" rel=\"preload\" type=application/wasm>\
            <link rel=preload href=/font.woff2 as=font>\
            <script type=module src=/boot.js data-wasm-app data-js=/app-1.js \
            data-wasm=/app-1_bg.wasm></script></head>";
        assert_eq!(
            without_app_preloads(trunk),
            "<head><link rel=stylesheet href=/style-1.css>\
            <link rel=preload href=/font.woff2 as=font>\
            <script type=module src=/boot.js data-wasm-app data-js=/app-1.js \
            data-wasm=/app-1_bg.wasm></script></head>"
        );
        assert_eq!(without_app_preloads(TEMPLATE), TEMPLATE);
    }

    #[test]
    fn a_template_without_body_or_title_is_refused() {
        let page = Page {
            route: String::new(),
            title: String::new(),
            body: String::new(),
        };
        for broken in ["<title>x</title><p>no body", "<body>no title</body>"] {
            assert!(compose(broken, &page, "").is_err(), "{broken}");
        }
    }

    #[test]
    fn writes_the_pages_into_a_built_site() -> Result<()> {
        let out = tempfile::tempdir()?;
        crate::render::render(
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content"),
            out.path(),
        )?;
        fs::write(out.path().join("index.html"), TEMPLATE)?;
        pages(out.path(), &out.path().join("no-builds"))?;
        let home = fs::read_to_string(out.path().join("index.html"))?;
        assert!(home.contains("<h1 id=\"sre-challenge\">SRE Challenge</h1>"));
        assert!(home.contains("id=\"starting-texts\""));
        let topic = fs::read_to_string(out.path().join("topic/leadership/index.html"))?;
        assert!(topic.contains("<h2 id=\"v-technical-leadership\">"));
        assert!(out.path().join("answers/index.html").is_file());
        let download = fs::read_to_string(out.path().join("download/index.html"))?;
        assert!(download.contains("No builds of sre-check are published"));
        // A second run replaces what the first inserted.
        pages(out.path(), &out.path().join("no-builds"))?;
        let again = fs::read_to_string(out.path().join("index.html"))?;
        assert_eq!(again, home);
        Ok(())
    }

    #[test]
    fn pages_carry_only_the_fields_the_site_reads() -> Result<()> {
        let full = serde_json::to_string(&manifest())?;
        let view: Value = serde_json::from_str(&site_view(&full)?)?;
        let topics = view["topic"].as_array().context("topics")?;
        assert_eq!(topics.len(), 6);
        let iac = &topics[0];
        assert_eq!(iac["id"], "iac");
        assert!(iac["criteria"][0]["name"].is_string());
        assert!(iac["answers"][0]["format"].is_string());
        assert!(iac.get("checks").is_none(), "{iac}");
        assert!(iac["answers"][0].get("template").is_none());
        assert!(site_view(&full)?.len() < full.len());
        Ok(())
    }
}
