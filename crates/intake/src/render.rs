//! Answers rendered for the reviewer pages: markdown through pulldown-cmark, then sanitized with
//! ammonia, natively on the server, so the reviewer's browser never renders candidate input as
//! HTML unchecked. Plain-text answers are escaped into a `<pre>`.
//!
//! The candidate's text is untrusted: raw HTML in it is kept only where ammonia's allowlist
//! permits (no scripts, styles, event handlers or `javascript:` URLs); images are dropped (an
//! answer has no images of its own, and a remote image would tell a third party when the reviewer
//! reads); links get `rel="noopener noreferrer nofollow"`; relative URLs are removed, since they
//! would resolve against the reviewer site.

use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Options, Parser, html};
use sre_markdown::escape_text;
use sre_model::manifest::AnswerFormat;

/// Safe HTML for an answer written in `format`.
pub fn answer_html(format: AnswerFormat, text: &str) -> String {
    match format {
        AnswerFormat::Markdown => markdown(text),
        AnswerFormat::Text => format!("<pre class=\"answer-text\">{}</pre>", escape_text(text)),
    }
}

fn markdown(text: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut unsafe_html = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(text, options));
    sanitizer().clean(&unsafe_html).to_string()
}

fn sanitizer() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut builder = Builder::default();
        builder
            .rm_tags(HashSet::from(["img"]))
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .add_tags(["input"])
            .link_rel(Some("noopener noreferrer nofollow"))
            .url_relative(UrlRelative::Deny)
            .url_schemes(HashSet::from(["http", "https", "mailto"]));
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        let html = answer_html(
            AnswerFormat::Markdown,
            "# Plan\n\n- **cut over** at night\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>Plan</h1>"), "{html}");
        assert!(html.contains("<strong>cut over</strong>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let text = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n\
                    [click](javascript:alert(3)) <a href=\"https://example.com\" onclick=\"x()\">ok</a>\n\n\
                    <iframe src=\"https://evil.example\"></iframe><style>body{}</style>\n\n[rel](../admin)";
        let html = answer_html(AnswerFormat::Markdown, text);
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "onclick",
            "<iframe",
            "<style",
            "<img",
            "../admin",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(
            html.contains("href=\"https://example.com\" rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(
            html.contains(">rel</a>"),
            "the relative link keeps its text: {html}"
        );
    }

    #[test]
    fn plain_text_is_escaped_verbatim() {
        let html = answer_html(AnswerFormat::Text, "a < b && <b>c</b>\n  indented");
        assert_eq!(
            html,
            "<pre class=\"answer-text\">a &lt; b &amp;&amp; &lt;b&gt;c&lt;/b&gt;\n  indented</pre>"
        );
    }

    #[test]
    fn task_lists_keep_their_boxes() {
        let html = answer_html(AnswerFormat::Markdown, "- [x] done\n- [ ] todo\n");
        assert!(html.contains("<input"), "{html}");
        assert!(html.contains("checked"), "{html}");
    }
}
