//! Reading the start tags of the HTML Trunk writes (minified or not): enough to find what a page
//! requests, not a general HTML parser.

/// `html` without its `<!-- … -->` comments, whose tags request nothing.
pub fn without_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out
}

/// A start tag.
pub struct Tag<'a> {
    /// Lowercase name.
    pub name: String,
    /// The text of its attributes.
    pub attributes: &'a str,
    /// Where it is in the HTML: `<` to `>` inclusive.
    pub span: std::ops::Range<usize>,
}

/// Each start tag of `html` (comments are not skipped: see [`without_comments`]).
pub fn tags(html: &str) -> impl Iterator<Item = Tag<'_>> {
    html.match_indices('<').filter_map(move |(at, _)| {
        let rest = &html[at + 1..];
        let end = rest.find('>')?;
        let inside = rest[..end].trim_end_matches('/');
        let name_end = inside
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(inside.len());
        let name = &inside[..name_end];
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())).then(|| Tag {
            name: name.to_ascii_lowercase(),
            attributes: &inside[name_end..],
            span: at..at + 1 + end + 1,
        })
    })
}

/// The value of attribute `name` (quoted or not; empty for a bare attribute).
pub fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attributes.trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (found, next) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = after[1..].find(q).map_or(after.len(), |i| i + 1);
                    (&after[1..close], after.get(close + 1..).unwrap_or_default())
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = found;
            rest = next.trim_start();
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
        if key.is_empty() {
            // A stray '=' or quote: skip a character rather than loop.
            rest = rest.get(1..).unwrap_or_default();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_quoted_unquoted_and_bare() {
        let attributes = r#" a=1 b="two words" c='3' bare d = /x.js"#;
        assert_eq!(attribute(attributes, "a"), Some("1"));
        assert_eq!(attribute(attributes, "b"), Some("two words"));
        assert_eq!(attribute(attributes, "c"), Some("3"));
        assert_eq!(attribute(attributes, "bare"), Some(""));
        assert_eq!(attribute(attributes, "d"), Some("/x.js"));
        assert_eq!(attribute(attributes, "e"), None);
        assert_eq!(attribute(" = '", "x"), None);
    }

    #[test]
    fn tags_know_their_place() {
        let html = "<p>a < b</p><link rel=x href=/y>";
        let found: Vec<(String, &str)> = tags(html).map(|t| (t.name, &html[t.span])).collect();
        assert_eq!(
            found,
            [
                ("p".to_owned(), "<p>"),
                ("link".to_owned(), "<link rel=x href=/y>")
            ]
        );
        assert_eq!(without_comments("a<!-- <b> -->c<!-- d"), "ac");
    }
}
