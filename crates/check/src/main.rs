//! `sre-check`: runs the SRE Challenge's machine checks in a candidate's working copy.
//!
//! `main` only maps the outcome of [`try_main`] to the documented exit codes:
//! 0 every check passed, 1 a check failed, 2 the checker or the environment failed.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use sre_check::cli::{Cli, Command};
use sre_check::{clean, doctor, ignore_broken_pipe, init, run_command, upload_command};
use sre_model::Status;

/// Every check passed.
const EXIT_PASS: u8 = 0;
/// A check failed: the candidate's work needs a change.
const EXIT_FAIL: u8 = 1;
/// The checker, the environment or the command line is the problem.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    match try_main() {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("sre-check: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Runs the command and returns its exit code; errors become exit code 2 in `main`.
fn try_main() -> anyhow::Result<u8> {
    let cli = Cli::parse();
    match cli.command {
        Command::Init { dir, force } => {
            let files = init::init(&dir, force)?;
            let mut out = std::io::stdout().lock();
            let written = writeln!(
                out,
                "Created the SRE Challenge in {} ({} files).\nNext:\n  cd {}\n  sre-check doctor\n  sre-check run",
                dir.display(),
                files.len(),
                dir.display()
            );
            ignore_broken_pipe(written)?;
            Ok(EXIT_PASS)
        }
        Command::Doctor { json, server } => {
            let findings = doctor::diagnose(&std::env::current_dir()?, server.as_deref());
            let mut out = std::io::stdout().lock();
            let printed = if json {
                serde_json::to_writer_pretty(&mut out, &findings)
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out))
            } else {
                findings.iter().try_for_each(|f| {
                    let mark = match f.level {
                        doctor::Level::Ok => "ok     ",
                        doctor::Level::Warn => "warning",
                        doctor::Level::Problem => "PROBLEM",
                    };
                    writeln!(out, "{mark} {}: {}", f.name, f.detail)?;
                    match &f.fix {
                        Some(fix) => writeln!(out, "        fix: {fix}"),
                        None => Ok(()),
                    }
                })
            };
            ignore_broken_pipe(printed)?;
            let problem = findings.iter().any(|f| f.level == doctor::Level::Problem);
            Ok(if problem { EXIT_ERROR } else { EXIT_PASS })
        }
        Command::Run(args) => {
            let settings = run_command::RunSettings::from_args(args)?;
            Ok(match run_command::execute(settings)? {
                Status::Pass | Status::Skipped => EXIT_PASS,
                Status::Fail => EXIT_FAIL,
                Status::Error => EXIT_ERROR,
            })
        }
        Command::Upload(args) => Ok(match upload_command::execute(args)? {
            upload_command::Outcome::Sent => EXIT_PASS,
            upload_command::Outcome::Declined => EXIT_FAIL,
        }),
        Command::Clean { all } => {
            let removed = clean::clean(all)?;
            let mut out = std::io::stdout().lock();
            let printed = writeln!(
                out,
                "removed {} containers, {} networks, {} volumes, {} images",
                removed.containers.len(),
                removed.networks.len(),
                removed.volumes.len(),
                removed.images.len()
            );
            ignore_broken_pipe(printed)?;
            Ok(EXIT_PASS)
        }
    }
}
