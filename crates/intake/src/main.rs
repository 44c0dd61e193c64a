//! `sre-intake`: the server behind the SRE Challenge (answers, reports, reviewer scoring).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sre_intake::app::{AppState, router};

/// Receives SRE Challenge answers and sre-check reports, serves the candidate site, and lets
/// reviewers score candidates.
#[derive(Debug, Parser)]
#[command(name = "sre-intake", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the site and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the embedded SQLite database lives [default: $XDG_DATA_HOME/sre-intake].
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// A database URL (postgres://… for PostgreSQL) instead of the embedded SQLite file.
        #[arg(long, value_name = "URL", env = "SRE_INTAKE_DATABASE")]
        database: Option<String>,
        /// The built site to serve (Trunk's dist/).
        #[arg(long, value_name = "DIR")]
        site: Option<PathBuf>,
    },
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("sre-intake")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            data_dir,
            database,
            site,
        } => {
            let data_dir = data_dir.unwrap_or_else(default_data_dir);
            let db = sre_intake::db::open(database.as_deref(), &data_dir).await?;
            if let Some(site) = &site {
                anyhow::ensure!(
                    site.join("index.html").is_file(),
                    "{} has no index.html: build the site first (`trunk build --release`)",
                    site.display()
                );
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            tracing::info!(%listen, data_dir = %data_dir.display(), "serving");
            axum::serve(listener, router(AppState { db }, site))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        }
    }
}
