//! Signals for the reviewer from infra.txt: which parts of the cause the explanation mentions.
//! Never pass or fail: people read the text.

/// A signal: id, label for the reviewer, and words any of which shows it (lower case).
const SIGNALS: &[(&str, &str, &[&str])] = &[
    (
        "permission",
        "Mentions the permission error",
        &["permission denied", "permission", "eacces", "(13:"],
    ),
    ("root", "Mentions root", &["root"]),
    ("become", "Mentions become", &["become"]),
    (
        "escalation",
        "Mentions privilege escalation",
        &["escalat", "elevat", "sudo"],
    ),
    (
        "lock",
        "Mentions the apt/dpkg lock",
        &[
            "lock-frontend",
            "lock file",
            "apt lock",
            "dpkg lock",
            "lock",
        ],
    ),
];

/// Which signals the text shows, in order: (id, label, present).
pub fn signals(text: &str) -> Vec<(&'static str, &'static str, bool)> {
    let lower = text.to_lowercase();
    SIGNALS
        .iter()
        .map(|(id, label, words)| (*id, *label, words.iter().any(|w| contains_word(&lower, w))))
        .collect()
}

/// `word` in `text`, not inside a longer word (so "root" does not match "chroot" or "rooted"…
/// but does match "root:" and "root's").
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        // Stems also match longer words that start with them ("escalation", "locked").
        let stem = matches!(
            word,
            "escalat" | "elevat" | "permission" | "lock" | "become"
        );
        edge(before) && (stem || edge(after))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(text: &str) -> Vec<&'static str> {
        signals(text)
            .into_iter()
            .filter(|(_, _, p)| *p)
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn a_good_explanation_shows_every_signal() {
        let text = "The apt task ran as deploy. apt-get could not open the lock file \
                    /var/lib/dpkg/lock-frontend (13: Permission denied) because only root may. \
                    I added `become: true` to the tasks that need privilege escalation.";
        assert_eq!(
            present(text),
            ["permission", "root", "become", "escalation", "lock"]
        );
    }

    #[test]
    fn words_inside_other_words_do_not_count() {
        assert_eq!(present("We used chroot and a blocker."), Vec::<&str>::new());
        assert_eq!(
            present("Root's tasks became clear; escalating helps; unlocked"),
            ["root", "escalation"]
        );
        assert_eq!(present(""), Vec::<&str>::new());
    }
}
