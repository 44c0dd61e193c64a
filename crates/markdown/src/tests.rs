//! Rendering snapshots: the exact HTML for small inputs, so any change in escaping or link
//! handling shows up as a diff.

use super::*;

/// The site's map, as `cargo xtask render` builds it.
fn site() -> LinkMap {
    LinkMap::new("content/")
        .with_page("README.md", "./")
        .with_page("README.md#v-technical-leadership", "topic/leadership")
        .with_page("infrastructure/README.md", "topic/iac")
        .with_page("monitoring/README.md", "topic/monitoring")
}

fn html(markdown: &str) -> String {
    render(markdown, "monitoring/README.md", &site())
}

#[test]
fn script_tags_are_text() {
    assert_eq!(
        html("<script>alert(1)</script>\n\nafter"),
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n<p>after</p>\n"
    );
    assert_eq!(
        html("inline <script>alert(1)</script> tag"),
        "<p>inline &lt;script&gt;alert(1)&lt;/script&gt; tag</p>\n"
    );
}

#[test]
fn event_handler_attributes_are_text() {
    assert_eq!(
        html("<img src=x onerror=alert(1)>"),
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"
    );
    assert_eq!(
        html("a <b onmouseover=\"alert(1)\">b</b>"),
        "<p>a &lt;b onmouseover=\"alert(1)\"&gt;b&lt;/b&gt;</p>\n"
    );
}

#[test]
fn svg_is_text() {
    assert_eq!(
        html("<svg onload=alert(1)><script>alert(2)</script></svg>"),
        "<p>&lt;svg onload=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&lt;/svg&gt;</p>\n"
    );
}

#[test]
fn html_comments_and_blocks_are_text() {
    assert_eq!(
        html("<!-- hidden -->\n<div>\n*x*\n</div>"),
        "<p>&lt;!-- hidden --&gt;\n</p>\n<p>&lt;div&gt;\n*x*\n&lt;/div&gt;</p>\n"
    );
}

#[test]
fn dangerous_links_keep_only_their_text() {
    assert_eq!(
        html("[click](javascript:alert(1)) [me](JaVaScRiPt:alert(1)) [x](data:text/html,hi)"),
        "<p>click me x</p>\n"
    );
    assert_eq!(html("[v](vbscript:msgbox)"), "<p>v</p>\n");
    assert_eq!(html("[far](//evil.example/)"), "<p>far</p>\n");
    // An entity-encoded scheme is decoded by the parser before the check.
    assert_eq!(html("[e](&#106;avascript&#58;alert(1))"), "<p>e</p>\n");
    // Autolinks with a dangerous scheme too.
    assert_eq!(
        html("<javascript:alert(1)>"),
        "<p>javascript:alert(1)</p>\n"
    );
}

#[test]
fn dangerous_images_leave_their_alt_text() {
    assert_eq!(
        html("![a chart](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)"),
        "<p>a chart</p>\n"
    );
    assert_eq!(html("![x](javascript:alert(1) \"t\")"), "<p>x</p>\n");
    // An image inside a dropped link keeps its own (safe) URL.
    assert_eq!(
        html("[![logo](logo.png)](javascript:alert(1))"),
        "<p><img src=\"content/monitoring/logo.png\" alt=\"logo\" /></p>\n"
    );
}

#[test]
fn safe_links_are_kept_and_attributes_escaped() {
    assert_eq!(
        html(
            "[docs](https://docs.docker.com/get-docker/ \"a \\\"title\\\"\") <mailto:a@b.example> <c@d.example>"
        ),
        "<p><a href=\"https://docs.docker.com/get-docker/\" title=\"a &quot;title&quot;\">docs</a> \
         <a href=\"mailto:a@b.example\">mailto:a@b.example</a> \
         <a href=\"mailto:c@d.example\">c@d.example</a></p>\n"
    );
    assert_eq!(
        html("[q](https://x.example/?a=\"b\"&c=<d>)"),
        "<p><a href=\"https://x.example/?a=%22b%22&amp;c=%3Cd%3E\">q</a></p>\n",
        "quotes and angle brackets cannot close the attribute"
    );
    assert_eq!(
        html("[q](<https://x.example/?a=\"b\"&c=d>)"),
        "<p><a href=\"https://x.example/?a=%22b%22&amp;c=d\">q</a></p>\n"
    );
}

#[test]
fn relative_images_and_files_resolve_under_the_content_prefix() {
    assert_eq!(
        html("![Screenshot 1: nginx error log](screenshots/screenshot1.png)"),
        "<p><img src=\"content/monitoring/screenshots/screenshot1.png\" alt=\"Screenshot 1: nginx error log\" /></p>\n"
    );
    assert_eq!(
        html("[compose](docker-compose.yml) [dump](../postgres/table_dump.sql) [up](../../x)"),
        "<p><a href=\"content/monitoring/docker-compose.yml\">compose</a> \
         <a href=\"content/postgres/table_dump.sql\">dump</a> up</p>\n"
    );
}

#[test]
fn topic_readmes_link_to_their_pages() {
    assert_eq!(
        html(
            "[I](../infrastructure/README.md) [V](../README.md#v-technical-leadership) [set up](../README.md#set-up)"
        ),
        "<p><a href=\"topic/iac\">I</a> <a href=\"topic/leadership\">V</a> \
         <a href=\"./#set-up\">set up</a></p>\n"
    );
    assert_eq!(
        render(
            "See [the topic](infrastructure/README.md) and [notes](postgres/postgres.md).",
            "README.md",
            &site()
        ),
        "<p>See <a href=\"topic/iac\">the topic</a> and <a href=\"content/postgres/postgres.md\">notes</a>.</p>\n"
    );
}

#[test]
fn headings_get_github_ids_and_in_page_links_keep_the_route() {
    assert_eq!(
        html("# Monitoring\n## Context\n## Context\n\nSee [context](#context)."),
        "<h1 id=\"monitoring\">Monitoring</h1>\n\
         <h2 id=\"context\">Context</h2>\n\
         <h2 id=\"context-1\">Context</h2>\n\
         <p>See <a href=\"topic/monitoring#context\">context</a>.</p>\n"
    );
    let h = headings("# SRE Challenge\n## V. Technical leadership\n### `sre-check` & you");
    let ids: Vec<(u8, &str)> = h.iter().map(|h| (h.level, h.id.as_str())).collect();
    assert_eq!(
        ids,
        [
            (1, "sre-challenge"),
            (2, "v-technical-leadership"),
            (3, "sre-check--you")
        ]
    );
    assert_eq!(h[2].text, "sre-check & you");
}

#[test]
fn footnotes_link_within_the_page() {
    assert_eq!(
        html("A[^b] B[^a].\n\n[^a]: first\n[^b]: second"),
        "<p>A<sup class=\"footnote-reference\"><a href=\"topic/monitoring#fn-b\">1</a></sup> \
         B<sup class=\"footnote-reference\"><a href=\"topic/monitoring#fn-a\">2</a></sup>.</p>\n\
         <div class=\"footnote-definition\" id=\"fn-a\"><sup class=\"footnote-definition-label\">2</sup>\n\
         <p>first</p>\n</div>\n\
         <div class=\"footnote-definition\" id=\"fn-b\"><sup class=\"footnote-definition-label\">1</sup>\n\
         <p>second</p>\n</div>\n"
    );
}

#[test]
fn tables_strikethrough_and_task_lists() {
    assert_eq!(
        // Aligned by a class, not a `style` attribute, which the site's policy blocks.
        html("| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~old~~ new\n\n- [x] done\n- [ ] todo"),
        "<table><thead><tr><th>a</th><th class=\"align-right\">b</th></tr></thead><tbody>\n\
         <tr><td>1</td><td class=\"align-right\">2</td></tr>\n\
         </tbody></table>\n\
         <p><del>old</del> new</p>\n\
         <ul>\n\
         <li><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\ndone</li>\n\
         <li><input disabled=\"\" type=\"checkbox\"/>\ntodo</li>\n\
         </ul>\n"
    );
}

#[test]
fn code_is_escaped() {
    assert_eq!(
        html("`<b>` and\n\n```sh\necho '<script>' && true\n```"),
        "<p><code>&lt;b&gt;</code> and</p>\n\
         <pre><code class=\"language-sh\">echo '&lt;script&gt;' &amp;&amp; true\n</code></pre>\n"
    );
}

const README: &str = "# SRE Challenge\n\nIntro.\n\n## Set up\n\n### Get Docker\n\nText.\n\n\
## V. Technical leadership\n\nMigrate.\n\n### Tasks\n\n1. Plan, see [tasks](#tasks) and [set up](#set-up).\n\n\
## VI. Feedback\n\nTell us.\n";

#[test]
fn a_section_runs_to_the_next_heading_of_its_level() {
    assert_eq!(
        section(README, "v-technical-leadership"),
        Some(
            "## V. Technical leadership\n\nMigrate.\n\n### Tasks\n\n1. Plan, see [tasks](#tasks) and [set up](#set-up).\n\n"
        )
    );
    assert_eq!(
        section(README, "vi-feedback"),
        Some("## VI. Feedback\n\nTell us.\n")
    );
    assert_eq!(
        section(README, "get-docker"),
        Some("### Get Docker\n\nText.\n\n")
    );
    assert_eq!(section(README, "sre-challenge"), Some(README));
    assert_eq!(section(README, "nope"), None);
}

#[test]
fn a_rendered_section_links_to_itself_or_to_the_whole_document() {
    assert_eq!(
        render_section(README, "README.md", "v-technical-leadership", &site()).as_deref(),
        Some(
            "<h2 id=\"v-technical-leadership\">V. Technical leadership</h2>\n\
             <p>Migrate.</p>\n\
             <h3 id=\"tasks\">Tasks</h3>\n\
             <ol>\n<li>Plan, see <a href=\"topic/leadership#tasks\">tasks</a> and \
             <a href=\"./#set-up\">set up</a>.</li>\n</ol>\n"
        )
    );
    assert_eq!(
        render_section(README, "README.md", "missing", &site()),
        None
    );
}

#[test]
fn without_pages_urls_stay_plain() {
    // How sre-intake shows an answer: no `<base>`, no content prefix.
    assert_eq!(
        render(
            "[a](#x) ![b](img/b.png) [c](javascript:x)",
            "monitoring/answers.md",
            &LinkMap::default()
        ),
        "<p><a href=\"#x\">a</a> <img src=\"monitoring/img/b.png\" alt=\"b\" /> c</p>\n"
    );
}

#[test]
fn referenced_files_are_listed_once() {
    assert_eq!(
        referenced_files(
            "![a](screenshots/a.png) [b](screenshots/a.png) [c](../README.md#x) [d](#y) \
             [e](https://x.example/) <f@g.example>",
            "monitoring/README.md"
        ),
        ["README.md", "monitoring/screenshots/a.png"]
    );
}

#[test]
fn images_can_link_to_themselves() {
    let links = site().with_image_links();
    let html = |md| render(md, "monitoring/README.md", &links);
    assert_eq!(
        html("![Screenshot 1](screenshots/s1.png \"t\")"),
        "<p><a href=\"content/monitoring/screenshots/s1.png\">\
         <img src=\"content/monitoring/screenshots/s1.png\" alt=\"Screenshot 1\" title=\"t\" /></a></p>\n"
    );
    // Already in a link: no link inside a link.
    assert_eq!(
        html("[![logo](logo.png)](https://x.example/)"),
        "<p><a href=\"https://x.example/\"><img src=\"content/monitoring/logo.png\" alt=\"logo\" /></a></p>\n"
    );
    // In a dropped link, the image gets its own link; a dropped image gets none.
    assert_eq!(
        html("[![logo](logo.png)](javascript:x) ![bad](data:image/png;base64,AA)"),
        "<p><a href=\"content/monitoring/logo.png\"><img src=\"content/monitoring/logo.png\" alt=\"logo\" /></a> bad</p>\n"
    );
}
