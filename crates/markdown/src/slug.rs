//! GitHub-style heading ids, so `README.md#v-technical-leadership` means the same here as on GitHub.

use std::collections::BTreeSet;

/// The GitHub slug of a heading's text: lowercase, every character that is not a letter, a digit,
/// `-` or `_` removed, each space turned into `-`.
///
/// `"V. Technical leadership"` → `"v-technical-leadership"`.
pub fn slugify(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Hands out unique slugs within one document the way GitHub does: the second "Tasks" heading
/// becomes `tasks-1`, the third `tasks-2`.
#[derive(Debug, Default)]
pub struct Slugger {
    used: BTreeSet<String>,
}

impl Slugger {
    /// The unique slug for the next heading with this text.
    pub fn slug(&mut self, text: &str) -> String {
        let base = slugify(text);
        let mut slug = base.clone();
        let mut n = 0;
        // A heading literally titled "Tasks 1" may already hold `tasks-1`: keep counting.
        while self.used.contains(&slug) {
            n += 1;
            slug = format!("{base}-{n}");
        }
        self.used.insert(slug.clone());
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_match_github() {
        for (text, slug) in [
            ("V. Technical leadership", "v-technical-leadership"),
            (
                "IV. PostgreSQL management and a production incident",
                "iv-postgresql-management-and-a-production-incident",
            ),
            ("Set up", "set-up"),
            ("What's `sre-check`?", "whats-sre-check"),
            ("a  b", "a--b"),
            ("snake_case & more", "snake_case--more"),
            ("Über Größe", "über-größe"),
            ("  padded  ", "padded"),
            ("!!!", ""),
        ] {
            assert_eq!(slugify(text), slug, "{text:?}");
        }
    }

    #[test]
    fn repeated_headings_get_numbered() {
        let mut s = Slugger::default();
        assert_eq!(s.slug("Tasks"), "tasks");
        assert_eq!(s.slug("Tasks"), "tasks-1");
        assert_eq!(s.slug("Tasks 1"), "tasks-1-1");
        assert_eq!(s.slug("Tasks"), "tasks-2");
    }
}
