//! The command line, as clap parses it. Decisions derived from it live in [`crate::run`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sre_model::{Audience, TopicId};

use crate::{content, options};

const EXIT_CODES: &str = "\
Exit status:
  0  every check passed (or was skipped)
  1  at least one check failed: your work needs a change, see the hints
  2  sre-check could not do its job: a usage error, Docker not reachable, a check that
     errored or timed out, or an interrupted run (Ctrl-C)";

const UPLOAD_EXIT_CODES: &str = "\
What is sent: every file of DIR that is new or differs from the starter kit, except .sre-check/,
.git/, editor swap files (*.swp, *~, .#*, #*#), .DS_Store and what .sre-check-ignore lists
(gitignore syntax). Limits: 5 MiB per file, 2,000 files, 20 MiB compressed.

Exit status:
  0  sent (or the server had it already)
  1  you answered no: nothing was sent
  2  nothing was sent: a file that cannot be sent (a symlink, a device, a name that is not
     UTF-8, over a limit), work changed since the report, no terminal to ask on and no --yes,
     the server refused it, or could not be reached";

/// Runs the SRE Challenge's checks on your working copy, with Docker, and reports what passes.
///
/// Start with `sre-check init <dir>` to get the challenge files, `sre-check doctor` to see that
/// Docker is ready, then `sre-check run` in that folder as often as you like. Checks verify that
/// things work; your written answers are read by people, not scored by this tool.
#[derive(Debug, Parser)]
#[command(name = "sre-check", version = crate::version_check::VERSION, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a working copy of the challenge (the starter kit) in DIR.
    Init {
        /// Folder to create; it must be empty or absent.
        dir: PathBuf,
        /// Write into a non-empty folder: starter files are replaced, other files are kept.
        #[arg(long)]
        force: bool,
    },
    /// Check that Docker, Compose and disk space are ready, and say how to fix what is not.
    Doctor {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
        /// The challenge site (or your invite link): also check that this sre-check is for the
        /// challenge version it runs.
        #[arg(long, value_name = "URL", env = "SRE_INTAKE_URL")]
        server: Option<String>,
    },
    /// Run the checks of every topic, or of those given with --topic, and write a report.
    Run(RunArgs),
    /// Upload your work (the files that are new or changed since the starter kit) with the report
    /// of your last run to the challenge server. Uploading the same again is harmless: the server
    /// keeps one copy.
    #[command(after_help = UPLOAD_EXIT_CODES)]
    Upload(UploadArgs),
    /// Remove containers, networks, volumes and images that sre-check created and a killed run left.
    Clean {
        /// Also remove the cached images of the checker's tools (they are rebuilt when needed).
        #[arg(long)]
        all: bool,
    },
}

/// Options of `sre-check run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The working copy to check.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Only this topic; repeat for several (the ids of the challenge are listed in the help).
    #[arg(long = "topic", value_name = "ID", value_parser = parse_topic, help = topic_help())]
    pub topics: Vec<TopicId>,
    /// Where to write the JSON report [default: DIR/.sre-check/report.json].
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the report as JSON on stdout (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Multiply every time limit by this factor (e.g. 2 on a slow machine or network).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_factor)]
    pub timeout_factor: f64,
    /// How many topics to check at once; 1 checks them one after another, in order. Topics mostly
    /// wait (builds, containers, Prometheus), so the default is twice the CPUs, from 2 to 8.
    #[arg(long, value_name = "N", default_value_t = default_jobs(), value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// An option of a topic's checks, as <topic>.<option>=<value> (listed in the help).
    #[arg(
        long = "set",
        value_name = "TOPIC.OPTION=VALUE",
        help = options::help(&content::get().manifest)
    )]
    pub options: Vec<String>,
    /// Whose run this is. Hidden, and only in the `reviewer` build: candidates run their own
    /// checks (`candidate`, the default); the checks that judge practice for reviewers
    /// (`reviewer`: every check) are for the verification worker and the tests of those checks.
    #[cfg(feature = "reviewer")]
    #[arg(long, value_name = "AUDIENCE", default_value = "candidate", value_parser = parse_audience, hide = true)]
    pub audience: Audience,
}

impl RunArgs {
    /// Whose run this is: always the candidate's in the candidate's build.
    pub fn audience(&self) -> Audience {
        #[cfg(feature = "reviewer")]
        return self.audience;
        #[cfg(not(feature = "reviewer"))]
        Audience::Candidate
    }
}

/// `candidate` or `reviewer`.
#[cfg(feature = "reviewer")]
fn parse_audience(s: &str) -> Result<Audience, String> {
    match s {
        "candidate" => Ok(Audience::Candidate),
        "reviewer" => Ok(Audience::Reviewer),
        _ => Err(format!(
            "`{s}` is not an audience: use candidate or reviewer"
        )),
    }
}

/// Options of `sre-check upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The challenge server, e.g. https://challenge.example.com [default: the address of the
    /// invite link given as --token].
    #[arg(long, value_name = "URL", env = "SRE_INTAKE_URL")]
    pub server: Option<String>,
    /// Your token: the last part of your invite link, or the whole link.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SRE_INTAKE_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The working copy whose work is sent.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The report to upload [default: DIR/.sre-check/report.json].
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Send without asking (for scripts); without a terminal to ask on, it is required.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Send only the report, not the work (what sre-check upload did before it sent work).
    #[arg(long)]
    pub report_only: bool,
    /// How many times to try when the server cannot be reached or fails, waiting longer each
    /// time (0.5 s, 1 s, 2 s…).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,
}

/// A topic id of the embedded manifest.
fn parse_topic(s: &str) -> Result<TopicId, String> {
    content::get()
        .manifest
        .topic_id(s)
        .map_err(|e| e.to_string())
}

/// The help of `--topic`, with the ids the embedded manifest lists.
fn topic_help() -> String {
    let ids: Vec<&str> = content::get()
        .manifest
        .topics
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    format!(
        "Only this topic; repeat for several. One of: {}",
        ids.join(", ")
    )
}

/// `--jobs`' default: twice the CPUs, at least 2 and at most 8. On two cores the four topics
/// with Docker checks all start at once; their builds and containers are mostly waiting.
fn default_jobs() -> u16 {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u16::try_from(cpus.saturating_mul(2).clamp(2, 8)).unwrap_or(2)
}

fn parse_factor(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.1..=100.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a number between 0.1 and 100")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
