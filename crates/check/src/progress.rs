//! What the candidate sees while checks run: spinners on a terminal, plain lines otherwise
//! (CI logs, pipes), always on stderr so stdout stays clean for `--json`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sre_model::report::CheckResult;
use sre_model::{Status, Topic};

/// The progress display of a run.
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Spinners when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Progress {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { bars }
    }

    /// Announces a topic.
    pub fn topic(&self, topic: &Topic) {
        self.line(format!("{} {} ({})", topic.roman(), topic.title, topic.id));
    }

    /// Announces a check and returns its handle.
    pub fn check(&self, topic: &Topic, id: &str, title: &str) -> CheckProgress {
        let label = format!("{}/{id}", topic.id);
        let bar = self.bars.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(
                    "  {spinner} {prefix:.bold} {wide_msg:.dim} {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(title.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            (multi.clone(), bar)
        });
        if bar.is_none() {
            eprintln!("  {label}: {title} …");
        }
        CheckProgress { bar, label }
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

/// One running check on the display.
pub struct CheckProgress {
    bar: Option<(MultiProgress, ProgressBar)>,
    label: String,
}

impl CheckProgress {
    /// Shows the latest line of what the check is doing (e.g. the current build step).
    pub fn note(&self, line: &str) {
        if let Some((_, bar)) = &self.bar {
            let line = line.trim();
            if !line.is_empty() {
                bar.set_message(line.chars().take(160).collect::<String>());
            }
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
        match self.bar {
            Some((multi, bar)) => {
                bar.finish_and_clear();
                multi.remove(&bar);
                let _ = multi.println(text);
            }
            None => eprintln!("  {}: {} ({secs:.1} s)", self.label, result.status.as_str()),
        }
    }
}
