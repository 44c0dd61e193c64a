//! What the candidate sees while checks run: spinners on a terminal, plain lines otherwise
//! (CI logs, pipes), always on stderr so stdout stays clean for `--json`.
//!
//! One topic at a time ([`Progress::new`]): the topic's title, then a spinner per running check,
//! replaced by its outcome. Topics at once ([`Progress::concurrent`]): one line per running topic
//! (its current check and what it is doing), and each topic's outcomes printed as one block when
//! it and every topic before it in the manifest are done, so the blocks always come in manifest
//! order whatever order the topics finish in.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sre_model::report::CheckResult;
use sre_model::{Status, Topic, TopicId};

/// The progress display of a run.
pub struct Progress {
    bars: Option<MultiProgress>,
    /// Topics at once: their lines and their outcomes waiting for their turn.
    board: Option<Arc<Board>>,
}

impl Progress {
    /// Topics one at a time: spinners when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Progress {
        Progress {
            bars: terminal_bars(),
            board: None,
        }
    }

    /// Topics at once, `topics` in the order their outcomes are printed (the manifest's).
    pub fn concurrent(topics: &[&Topic]) -> Progress {
        let bars = terminal_bars();
        let blocks = topics
            .iter()
            .map(|t| Block {
                topic: t.id.clone(),
                lines: vec![topic_title(t)],
                bar: None,
                done: false,
            })
            .collect();
        Progress {
            board: Some(Arc::new(Board {
                bars: bars.clone(),
                state: Mutex::new(BoardState { blocks, printed: 0 }),
            })),
            bars,
        }
    }

    /// Announces a topic: its title now (one at a time), or its line (topics at once).
    pub fn topic(&self, topic: &Topic) {
        match &self.board {
            Some(board) => board.start(topic),
            None => self.line(topic_title(topic)),
        }
    }

    /// Marks a topic as done (topics at once: its outcomes are printed when their turn comes).
    pub fn topic_done(&self, topic: &Topic) {
        if let Some(board) = &self.board {
            board.finish(&topic.id);
        }
    }

    /// A line of its own under the current topic (e.g. that a first build takes a while).
    pub fn announce(&self, text: &str) {
        self.line(format!("  {text}"));
    }

    /// Announces a check and returns its handle.
    pub fn check(&self, topic: &Topic, id: &str, title: &str) -> CheckProgress {
        let label = format!("{}/{id}", topic.id);
        if let Some(board) = &self.board {
            let bar = board.bar(&topic.id);
            if let Some(bar) = &bar {
                bar.set_message(title.to_owned());
            } else {
                eprintln!("  {label}: {title} …");
            }
            return CheckProgress {
                sink: Sink::Board {
                    board: board.clone(),
                    topic: topic.id.clone(),
                    bar,
                    title: title.to_owned(),
                },
                label,
            };
        }
        let bar = self.bars.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(spinner_style(
                "  {spinner} {prefix:.bold} {wide_msg:.dim} {elapsed}",
            ));
            bar.set_prefix(title.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            (multi.clone(), bar)
        });
        if bar.is_none() {
            eprintln!("  {label}: {title} …");
        }
        let sink = match bar {
            Some((multi, bar)) => Sink::Bar(multi, bar),
            None => Sink::Plain,
        };
        CheckProgress { sink, label }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

fn terminal_bars() -> Option<MultiProgress> {
    std::io::stderr()
        .is_terminal()
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

fn spinner_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn topic_title(topic: &Topic) -> String {
    format!("{} {} ({})", topic.roman(), topic.title, topic.id)
}

/// The running topics' lines and their outcomes, printed in manifest order.
struct Board {
    bars: Option<MultiProgress>,
    state: Mutex<BoardState>,
}

struct BoardState {
    /// One per topic of the run, in manifest order.
    blocks: Vec<Block>,
    /// How many blocks, from the first, are printed.
    printed: usize,
}

/// One topic: its title and outcome lines, its spinner while it runs.
struct Block {
    topic: TopicId,
    lines: Vec<String>,
    bar: Option<ProgressBar>,
    done: bool,
}

impl Board {
    fn state(&self) -> std::sync::MutexGuard<'_, BoardState> {
        // A panic while holding the lock leaves nothing half-written that matters for a display.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start(&self, topic: &Topic) {
        let Some(multi) = &self.bars else {
            eprintln!("{} started", topic_title(topic));
            return;
        };
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style(
            "{spinner} {prefix:.bold} {wide_msg:.dim} {elapsed}",
        ));
        bar.set_prefix(format!("{} {}", topic.roman(), topic.title));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Some(block) = self.state().blocks.iter_mut().find(|b| b.topic == topic.id) {
            block.bar = Some(bar);
        }
    }

    fn bar(&self, topic: &TopicId) -> Option<ProgressBar> {
        self.state()
            .blocks
            .iter()
            .find(|b| b.topic == *topic)
            .and_then(|b| b.bar.clone())
    }

    fn push(&self, topic: &TopicId, line: String) {
        if let Some(block) = self.state().blocks.iter_mut().find(|b| b.topic == *topic) {
            block.lines.push(line);
        }
    }

    /// Marks `topic` done, then prints every block whose turn has come.
    fn finish(&self, topic: &TopicId) {
        let mut state = self.state();
        if let Some(block) = state.blocks.iter_mut().find(|b| b.topic == *topic) {
            block.done = true;
            if let (Some(bar), Some(multi)) = (block.bar.take(), &self.bars) {
                bar.finish_and_clear();
                multi.remove(&bar);
            }
        }
        while let Some(block) = state.blocks.get(state.printed).filter(|b| b.done) {
            let text = block.lines.join("\n");
            match &self.bars {
                Some(multi) => {
                    let _ = multi.println(text);
                }
                None => eprintln!("{text}"),
            }
            state.printed += 1;
        }
    }
}

/// One running check on the display.
pub struct CheckProgress {
    sink: Sink,
    label: String,
}

enum Sink {
    /// Its own spinner (topics one at a time, on a terminal).
    Bar(MultiProgress, ProgressBar),
    /// Plain lines as they come (topics one at a time, not a terminal).
    Plain,
    /// Its topic's line (topics at once); its outcome waits in the topic's block.
    Board {
        board: Arc<Board>,
        topic: TopicId,
        bar: Option<ProgressBar>,
        title: String,
    },
}

impl CheckProgress {
    /// Shows the latest line of what the check is doing (e.g. the current build step).
    pub fn note(&self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let line: String = line.chars().take(160).collect();
        match &self.sink {
            Sink::Bar(_, bar) => bar.set_message(line),
            Sink::Board {
                bar: Some(bar),
                title,
                ..
            } => bar.set_message(format!("{title}: {line}")),
            Sink::Board { bar: None, .. } | Sink::Plain => {}
        }
    }

    /// Replaces the spinner with the check's outcome.
    pub fn finish(self, result: &CheckResult) {
        let mark = match result.status {
            Status::Pass => "✔",
            Status::Fail => "✘",
            Status::Error => "!",
            Status::Skipped => "-",
        };
        let secs = result.duration_ms as f64 / 1000.0;
        let text = format!(
            "  {mark} {} {} ({secs:.1} s)",
            result.title,
            result.status.as_str()
        );
        match self.sink {
            Sink::Bar(multi, bar) => {
                bar.finish_and_clear();
                multi.remove(&bar);
                let _ = multi.println(text);
            }
            Sink::Plain => eprintln!("  {}: {} ({secs:.1} s)", self.label, result.status.as_str()),
            Sink::Board {
                board,
                topic,
                bar: Some(_),
                ..
            } => board.push(&topic, text),
            Sink::Board { board, topic, .. } => board.push(
                &topic,
                format!("  {}: {} ({secs:.1} s)", self.label, result.status.as_str()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, status: Status) -> CheckResult {
        CheckResult {
            id: id.to_owned(),
            title: id.to_owned(),
            status,
            duration_ms: 1200,
            evidence: String::new(),
            hint: None,
        }
    }

    fn printed(progress: &Progress) -> usize {
        progress.board.as_ref().map_or(0, |b| b.state().printed)
    }

    #[test]
    fn blocks_are_released_in_manifest_order_whatever_order_topics_finish_in() {
        let manifest = &crate::content::get().manifest;
        let topics: Vec<&Topic> = manifest.topics.iter().take(3).collect();
        let progress = Progress::concurrent(&topics);
        for topic in &topics {
            progress.topic(topic);
        }
        // The third finishes first, then the second: nothing can be printed before the first.
        for topic in [topics[2], topics[1]] {
            progress
                .check(topic, "answers", "answers")
                .finish(&result("answers", Status::Pass));
            progress.topic_done(topic);
            assert_eq!(printed(&progress), 0);
        }
        progress
            .check(topics[0], "answers", "answers")
            .finish(&result("answers", Status::Fail));
        progress.topic_done(topics[0]);
        assert_eq!(printed(&progress), 3);
        let board = progress.board.as_ref().unwrap();
        let state = board.state();
        assert_eq!(state.blocks[0].lines.len(), 2);
        assert!(state.blocks[0].lines[1].ends_with("fail (1.2 s)"));
    }
}
