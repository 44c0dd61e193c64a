//! What the candidate's Dockerfile says about the playbook run: the `RUN ansible-playbook`
//! instruction, the user it runs as, the environment it gets.

/// One instruction of a Dockerfile, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Line of the keyword, from 1.
    pub line: usize,
    /// The keyword in upper case (`RUN`, `USER`).
    pub keyword: String,
    /// Everything after the keyword.
    pub args: String,
}

/// A value set by an instruction, with the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The value.
    pub value: String,
    /// Line of the instruction, from 1.
    pub line: usize,
}

/// How an instruction gives its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `RUN ansible-playbook …`, run by `/bin/sh -c`.
    Shell(String),
    /// `RUN ["ansible-playbook", …]`, run as is.
    Exec(Vec<String>),
}

impl Command {
    /// The command as one line, for messages and word searches.
    pub fn text(&self) -> String {
        match self {
            Command::Shell(s) => s.clone(),
            Command::Exec(argv) => argv.join(" "),
        }
    }

    /// The program and its arguments, to run the same command again in a container.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Shell(s) => vec!["/bin/sh".to_owned(), "-c".to_owned(), s.clone()],
            Command::Exec(argv) => argv.clone(),
        }
    }
}

/// The `RUN` instruction that runs the playbook, and what is in effect when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookRun {
    /// Line of the `RUN`.
    pub line: usize,
    /// Its command.
    pub command: Command,
    /// The last `USER` before it (none: the image's user, root for `debian`).
    pub user: Option<Located>,
    /// `ENV` variables set before it, in order.
    pub env: Vec<(String, Located)>,
}

impl PlaybookRun {
    /// The user name the playbook connects as (`root` when no `USER` is set).
    pub fn user_name(&self) -> &str {
        self.user.as_ref().map_or("root", |u| {
            u.value.split(':').next().unwrap_or(u.value.as_str())
        })
    }

    /// Whether that user is root (name `root` or uid 0).
    pub fn runs_as_root(&self) -> bool {
        matches!(self.user_name(), "root" | "0")
    }
}

/// Splits a Dockerfile into instructions (comments dropped, `\` continuations joined).
pub fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        // Comments and empty lines are skipped, also inside a continued instruction.
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        let (line, mut joined) = current.take().unwrap_or((i + 1, String::new()));
        if !joined.is_empty() && !body.is_empty() {
            joined.push(' ');
        }
        joined.push_str(body.trim());
        if continues {
            current = Some((line, joined));
        } else if !joined.is_empty() {
            out.push(split_keyword(line, &joined));
        }
    }
    if let Some((line, joined)) = current.filter(|(_, j)| !j.is_empty()) {
        out.push(split_keyword(line, &joined));
    }
    out
}

fn split_keyword(line: usize, text: &str) -> Instruction {
    let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Instruction {
        line,
        keyword: keyword.to_ascii_uppercase(),
        args: args.trim().to_owned(),
    }
}

/// The last `RUN` that calls `ansible-playbook`, with the `USER` and `ENV` in effect for it.
/// `None` when the Dockerfile never runs the playbook.
pub fn playbook_run(text: &str) -> Option<PlaybookRun> {
    let mut user = None;
    let mut env = Vec::new();
    let mut found = None;
    for ins in instructions(text) {
        match ins.keyword.as_str() {
            // A new stage starts from another image: what came before no longer applies.
            "FROM" => {
                user = None;
                env.clear();
            }
            "USER" => {
                user = Some(Located {
                    value: ins.args.clone(),
                    line: ins.line,
                });
            }
            "ENV" => env.extend(env_pairs(&ins.args).into_iter().map(|(k, v)| {
                (
                    k,
                    Located {
                        value: v,
                        line: ins.line,
                    },
                )
            })),
            "RUN" if ins.args.contains("ansible-playbook") => {
                found = Some(PlaybookRun {
                    line: ins.line,
                    command: run_command(&ins.args),
                    user: user.clone(),
                    env: env.clone(),
                });
            }
            _ => {}
        }
    }
    found
}

/// The instruction a failed `docker build` stopped at, from its output: the last step it
/// announced (`Step 3/9 : RUN …` from the legacy builder, `#7 [3/6] RUN …` from BuildKit).
pub fn failed_step(output: &str) -> Option<String> {
    output.lines().rev().find_map(|line| {
        if let Some(rest) = line.strip_prefix("Step ") {
            return rest
                .split_once(" : ")
                .map(|(_, step)| step.trim().to_owned());
        }
        let rest = line.strip_prefix('#')?;
        let (_, step) = rest.split_once("] ")?;
        rest.split_once(' ')
            .filter(|(n, after)| n.chars().all(|c| c.is_ascii_digit()) && after.starts_with('['))
            .map(|_| step.trim().to_owned())
    })
}

/// Whether `text` (as a build prints it) is one of the instructions of `dockerfile`, up to
/// spacing and the keyword's case.
pub fn has_instruction(dockerfile: &str, text: &str) -> bool {
    let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let wanted = normal(text);
    instructions(dockerfile)
        .iter()
        .any(|i| normal(&format!("{} {}", i.keyword, i.args)).eq_ignore_ascii_case(&wanted))
}

fn run_command(args: &str) -> Command {
    if args.starts_with('[')
        && let Ok(argv) = serde_json::from_str::<Vec<String>>(args)
    {
        return Command::Exec(argv);
    }
    Command::Shell(args.to_owned())
}

/// `ENV a=b c="d e"` or the old `ENV a b c`.
fn env_pairs(args: &str) -> Vec<(String, String)> {
    let words = shell_words(args);
    if words.first().is_some_and(|w| w.contains('=')) {
        words
            .iter()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    } else {
        match args.split_once(char::is_whitespace) {
            Some((k, v)) => vec![(k.to_owned(), v.trim().to_owned())],
            None => Vec::new(),
        }
    }
}

/// Splits a command line into words the way a shell would for simple cases: whitespace separates,
/// single and double quotes group, a backslash escapes the next character.
pub fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTER: &str = include_str!("../../../../../content/infrastructure/Dockerfile");

    #[test]
    fn the_starter_runs_the_playbook_as_deploy() {
        let run = playbook_run(STARTER).expect("the starter runs the playbook");
        assert_eq!(run.user_name(), "deploy");
        assert!(!run.runs_as_root());
        assert!(run.command.text().starts_with("ansible-playbook"));
        assert_eq!(
            STARTER
                .lines()
                .nth(run.line - 1)
                .map(|l| l.starts_with("RUN ansible-playbook")),
            Some(true)
        );
        assert!(
            run.env
                .iter()
                .any(|(k, v)| k == "LANG" && v.value == "C.UTF-8")
        );
    }

    #[test]
    fn continuations_are_joined_and_comments_dropped() {
        let ins = instructions("FROM debian\n# note\nRUN a \\\n  && b \\\n\n  && c\nUSER x\n");
        assert_eq!(ins.len(), 3);
        assert_eq!(ins[1].keyword, "RUN");
        assert_eq!(ins[1].line, 3);
        assert_eq!(ins[1].args, "a && b && c");
        assert_eq!(ins[2].line, 7);
    }

    #[test]
    fn no_user_means_root_and_exec_form_is_read() {
        let run =
            playbook_run("FROM debian\nRUN [\"ansible-playbook\", \"-b\", \"p.yml\"]\n").unwrap();
        assert!(run.runs_as_root());
        assert_eq!(
            run.command,
            Command::Exec(vec!["ansible-playbook".into(), "-b".into(), "p.yml".into()])
        );
        let run = playbook_run("FROM d\nUSER 0:0\nRUN ansible-playbook p.yml\n").unwrap();
        assert!(run.runs_as_root());
        assert_eq!(run.user.map(|u| u.line), Some(2));
    }

    #[test]
    fn the_failed_step_is_read_from_either_builder() {
        let legacy = "Step 2/9 : ENV LANG=C.UTF-8\n ---> Using cache\nStep 3/9 : RUN apt-get update  && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends       ansible-core python3-apt sudo  && useradd --create-home --shell /bin/bash deploy  && echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy  && chmod 0440 /etc/sudoers.d/deploy\n ---> Running in 12ab\nE: Failed to fetch\n";
        let step = failed_step(legacy).unwrap();
        assert!(step.starts_with("RUN apt-get update"), "{step}");
        assert!(has_instruction(STARTER, &step));
        let buildkit = "#6 [2/5] RUN apt-get update\n#6 0.3 Err:1 http://deb.debian.org\n#7 [3/5] RUN ansible-playbook p.yml\n#7 1.2 fatal\n";
        assert_eq!(
            failed_step(buildkit).as_deref(),
            Some("RUN ansible-playbook p.yml")
        );
        assert!(!has_instruction(STARTER, "RUN apt-get update"));
        assert!(has_instruction(STARTER, "from debian:bookworm"));
    }

    #[test]
    fn env_in_both_forms() {
        assert_eq!(
            env_pairs("A=1 B=\"two words\""),
            [("A".into(), "1".into()), ("B".into(), "two words".into())]
        );
        assert_eq!(
            env_pairs("ANSIBLE_BECOME true"),
            [("ANSIBLE_BECOME".into(), "true".into())]
        );
    }

    #[test]
    fn shell_words_respect_quotes() {
        assert_eq!(
            shell_words(r#"sh -c 'sudo apt-get install' "a b" c\ d"#),
            ["sh", "-c", "sudo apt-get install", "a b", "c d"]
        );
    }
}
