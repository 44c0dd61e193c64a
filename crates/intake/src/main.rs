//! `sre-intake`: the server behind the SRE Challenge (answers, reports, reviewer scoring).
//!
//! `main` maps the outcome of [`try_main`] to the exit code: 0 on success, 1 on any error (with
//! the error and its causes on stderr). Command output (a link, a token) goes to stdout; logs go
//! to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use sre_intake::cli::{
    Cli, Command, DbArgs, InviteCommand, LogFormat, ReviewerCommand, WorkerCommand,
};
use sre_intake::invites::{self, InviteRequest};
use sre_intake::store::{self, Location};
use sre_intake::{serve, store::people};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match try_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sre-intake: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

fn try_main(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                let data_dir = data_dir(&args.db);
                let settings = serve::Settings::from_args(args, data_dir)?;
                serve::run(settings).await
            }
            Command::Invite {
                command:
                    InviteCommand::Create {
                        name,
                        email,
                        expires,
                        public_url,
                        db,
                    },
            } => {
                let public_url = serve::checked_url(&public_url)?;
                let db = open(&db).await?;
                let request = InviteRequest {
                    name: &name,
                    email: email.as_deref(),
                    expires_days: Some(expires),
                    invited_by: None,
                };
                let invite = invites::create(&db, &public_url, request).await?;
                db.close().await;
                eprintln!(
                    "Invited {} ({}); the link works until {}. It is shown only now:",
                    invite.candidate.name,
                    invite.candidate.id,
                    invite.candidate.expires_at.as_deref().unwrap_or("-")
                );
                print_line(&invite.link)
            }
            Command::Probe { url, timeout } => {
                sre_intake::probe::probe(&url, Duration::from_secs(timeout)).await
            }
            Command::Reviewer {
                command: ReviewerCommand::Create { name, db },
            } => {
                invites::check_reviewer_name(&name)?;
                let db = open(&db).await?;
                let (reviewer, token) = people::create_reviewer(&db, name.trim()).await?;
                db.close().await;
                eprintln!(
                    "Reviewer {} ({}) created. Keep this token secret; it is shown only now:",
                    reviewer.name, reviewer.id
                );
                print_line(&token)
            }
            Command::Worker {
                command: WorkerCommand::Create { name, db },
            } => {
                let db = open(&db).await?;
                let created = store::workers::create(&db, &name).await;
                db.close().await;
                let (worker, token) = created?;
                eprintln!(
                    "Worker {} ({}) created. Keep this token secret; it is shown only now:",
                    worker.name, worker.id
                );
                print_line(&token)
            }
        }
    })
}

async fn open(args: &DbArgs) -> anyhow::Result<store::Db> {
    let data_dir = data_dir(args);
    let location = Location {
        url: args.database.as_deref(),
        data_dir: &data_dir,
    };
    store::open(&location, Duration::from_secs(args.database_wait)).await
}

fn data_dir(args: &DbArgs) -> PathBuf {
    args.data_dir.clone().unwrap_or_else(|| {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("sre-intake")
    })
}

fn print_line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").context("writing to stdout")
}
