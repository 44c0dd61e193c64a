//! One verdict per phase from the releases' outcomes, with the time each release took.

use std::time::Duration;

use crate::runner::Verdict;

use super::{Outcome, Release, jobs};

/// Whether a summary repeats the releases' support warnings (once per topic is enough).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Notes {
    /// In the build check.
    Shown,
    /// In the later checks.
    Hidden,
}

/// One verdict from the releases' outcomes: any fail fails the check; otherwise any error makes
/// it an error; releases that did not take part are listed. Only releases that passed go on.
pub(super) fn summarize(
    releases: &mut [Release],
    outcomes: Vec<Outcome>,
    phase: Duration,
    notes: Notes,
) -> anyhow::Result<Verdict> {
    for (release, outcome) in releases.iter_mut().zip(&outcomes) {
        release.ready = matches!(outcome, Outcome::Pass(_));
    }
    let mut lines = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let (mut failed, mut errored, mut passed) = (false, false, false);
    for (release, outcome) in releases.iter().zip(outcomes) {
        let text = match outcome {
            Outcome::Pass(text) => {
                passed = true;
                text
            }
            Outcome::Fail { evidence, hint } => {
                failed = true;
                if !hints.contains(&hint) {
                    hints.push(hint);
                }
                format!("FAIL {evidence}")
            }
            Outcome::Error(text) => {
                errored = true;
                format!("ERROR {text}")
            }
            Outcome::Skipped(text) => text,
        };
        lines.push(format!("{}: {text}", release.info.label()));
        if let Some(warning) = release.info.warning().filter(|_| notes == Notes::Shown) {
            lines.push(format!("  note: {warning}"));
        }
    }
    lines.push(timing(releases, phase));
    let evidence = lines.join("\n");
    if failed {
        Ok(Verdict::fail(evidence, hints.join("\n")))
    } else if errored {
        Err(anyhow::anyhow!(evidence))
    } else if passed {
        Ok(Verdict::pass(evidence))
    } else {
        Ok(Verdict::skipped(evidence))
    }
}

/// `time: 41.0 s for the releases in parallel; trixie 38.2 s (docker 37.9 s), …`
fn timing(releases: &[Release], phase: Duration) -> String {
    let each: Vec<String> = releases
        .iter()
        .filter(|r| !r.wall.is_zero())
        .map(|r| {
            format!(
                "{} {:.1} s (docker {:.1} s)",
                r.info.codename,
                r.wall.as_secs_f64(),
                r.docker_time.as_secs_f64()
            )
        })
        .collect();
    format!(
        "time: {:.1} s with {} release(s) at once; {}",
        phase.as_secs_f64(),
        jobs(),
        each.join(", ")
    )
}

/// `verdict` with `head` as the first line of its evidence.
pub(super) fn with_head(verdict: Verdict, head: &str) -> Verdict {
    match verdict {
        Verdict::Pass { evidence } => Verdict::pass(format!("{head}\n{evidence}")),
        Verdict::Fail { evidence, hint } => Verdict::fail(format!("{head}\n{evidence}"), hint),
        Verdict::Skipped { reason } => Verdict::skipped(format!("{head}\n{reason}")),
    }
}
