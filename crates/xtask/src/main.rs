//! `cargo xtask`: project tasks (content rendering, content generation, benchmarks).

mod gen_content;

use clap::{Parser, Subcommand};

/// Project tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Generate the challenge's images into content/ (deterministic).
    GenContent(gen_content::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::GenContent(args) => gen_content::run(&args),
    }
}
