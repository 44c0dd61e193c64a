//! The command line, as clap parses it. `crate::serve::Settings` holds what is derived from it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Receives SRE Challenge answers and sre-check reports, serves the candidate site, and lets
/// reviewers score candidates.
///
/// Start with `sre-intake reviewer create --name <you>` (keep the token it prints), then
/// `sre-intake serve`, and invite candidates with `sre-intake invite create --name <them>`.
#[derive(Debug, Parser)]
#[command(name = "sre-intake", version, max_term_width = 100)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "SRE_INTAKE_LOG_FORMAT", global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site and the API until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Manage candidate invites.
    Invite {
        /// What to do with invites.
        #[command(subcommand)]
        command: InviteCommand,
    },
    /// Check that a server is ready: exit 0 when the URL answers 200 (a container health check;
    /// the image has no curl).
    Probe {
        /// The URL to fetch (plain http).
        #[arg(default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
        /// Seconds to wait for the answer.
        #[arg(long, value_name = "SECONDS", default_value_t = 3)]
        timeout: u64,
    },
    /// Manage reviewers.
    Reviewer {
        /// What to do with reviewers.
        #[command(subcommand)]
        command: ReviewerCommand,
    },
    /// Manage verification workers (sre-verify), whose tokens can only claim and report jobs.
    Worker {
        /// What to do with workers.
        #[command(subcommand)]
        command: WorkerCommand,
    },
}

/// `worker` subcommands.
#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Create a worker: prints its token, once (give it to `sre-verify --token`).
    Create {
        /// The worker's name, unique, shown next to what it verified (e.g. its host).
        #[arg(long)]
        name: String,
        /// The database.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `invite` subcommands.
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Invite a candidate: prints their link, whose last path segment is their token.
    Create {
        /// The candidate's name.
        #[arg(long)]
        name: String,
        /// The candidate's email.
        #[arg(long)]
        email: Option<String>,
        /// Days until the link stops working.
        #[arg(long, value_name = "DAYS", default_value_t = crate::invites::DEFAULT_EXPIRY_DAYS)]
        expires: u32,
        /// The site's address as candidates reach it; the link starts with it.
        #[arg(
            long,
            value_name = "URL",
            env = "SRE_INTAKE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        /// The database.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `reviewer` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReviewerCommand {
    /// Create a reviewer: prints their token, once.
    Create {
        /// The reviewer's name, shown next to their scores.
        #[arg(long)]
        name: String,
        /// The database.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Where the database is; shared by every subcommand.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Where the embedded SQLite database lives [default: $XDG_DATA_HOME/sre-intake].
    #[arg(long, value_name = "DIR", env = "SRE_INTAKE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A database URL (postgres://user:password@host/db for PostgreSQL) instead of the embedded
    /// SQLite file.
    #[arg(
        long,
        value_name = "URL",
        env = "SRE_INTAKE_DATABASE",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// How long to retry a database that does not answer yet (e.g. still starting).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub database_wait: u64,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:8080", env = "SRE_INTAKE_LISTEN")]
    pub listen: SocketAddr,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// The built site to serve (Trunk's dist/); without it only the API is served.
    #[arg(long, value_name = "DIR", env = "SRE_INTAKE_SITE")]
    pub site: Option<PathBuf>,
    /// The site's address as candidates reach it, for invite links made through the API.
    #[arg(long, value_name = "URL", env = "SRE_INTAKE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// An origin allowed to call the API from a browser, when the site is hosted elsewhere
    /// (e.g. https://challenge.example.com); repeat or separate with commas.
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        env = "SRE_INTAKE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Requests per second each token may make on average (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 10.0)]
    pub rate_limit: f64,
    /// Requests a token may make in a burst above the average.
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub rate_burst: u32,
    /// Longest a request may take before it is answered 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
    /// Most connections served at once; further ones wait to be accepted until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// A connection is closed when a request's headers have not fully arrived this long after the
    /// server began waiting for them: when it opened, or after the previous response (so this
    /// is also how long an idle keep-alive connection stays open).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Most each candidate may store, in MiB: answer text (every version) and report bodies.
    /// A write that would go over is answered 413.
    #[arg(long, value_name = "MIB", default_value_t = 100)]
    pub quota_mib: u32,
    /// Most answer versions each candidate may store (every save is a version); 429 after.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub quota_answer_versions: u32,
    /// Most reports each candidate may store; 429 after.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub quota_reports: u32,
    /// Most submissions of work each candidate may store (`sre-check upload`); 429 after. Their
    /// archives count against `--quota-mib` too.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub quota_submissions: u32,
    /// Largest archive of work `sre-check upload` may send, in MiB (compressed); the files may
    /// expand to ten times as much in all. Larger is answered 413.
    #[arg(long, value_name = "MIB", default_value_t = 20, env = "SRE_INTAKE_SUBMISSION_MAX_MIB",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub submission_max_mib: u32,
    /// Largest file a submission may hold, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 5, env = "SRE_INTAKE_SUBMISSION_MAX_FILE_MIB",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub submission_max_file_mib: u32,
    /// Most files a submission may hold.
    #[arg(long, value_name = "N", default_value_t = 2_000, env = "SRE_INTAKE_SUBMISSION_MAX_FILES",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub submission_max_files: u32,
    /// A request whose body stops arriving for this long is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// After SIGTERM, how long in-flight requests may take to finish before the server exits.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub shutdown_timeout: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
