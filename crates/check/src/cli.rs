//! The command line, as clap parses it. Decisions derived from it live in [`crate::run`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sre_model::TopicId;

use crate::{content, options};

const EXIT_CODES: &str = "\
Exit status:
  0  every check passed (or was skipped)
  1  at least one check failed: your work needs a change, see the hints
  2  sre-check could not do its job: a usage error, Docker not reachable, a check that
     errored or timed out, or an interrupted run (Ctrl-C)";

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
    /// Upload the report of your last run to the challenge server. Uploading the same report again
    /// is harmless: the server keeps one copy.
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
    /// An option of a topic's checks, as <topic>.<option>=<value> (listed in the help).
    #[arg(
        long = "set",
        value_name = "TOPIC.OPTION=VALUE",
        help = options::help(&content::get().manifest)
    )]
    pub options: Vec<String>,
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
    /// The report to upload.
    #[arg(long, value_name = "FILE", default_value = ".sre-check/report.json")]
    pub report: PathBuf,
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
