//! `sre-check upload`: from the command line to what is sent and the exit code.
//!
//! By default the work is sent with the report: collected ([`work::collect`]), checked against
//! the report (the checks must have run on the files that are sent), packed by `sre-work`, shown,
//! confirmed, then posted. `--report-only` posts the report alone, as before work was sent.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use sre_model::report::ChallengeRef;
use sre_model::submission::Limits;

use crate::cli::UploadArgs;
use crate::upload::{self, UploadSettings, Uploaded};
use crate::{content, ignore_broken_pipe, work};

/// How `upload` ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server has it (new or already there).
    Sent,
    /// The candidate answered no.
    Declined,
}

/// Runs `sre-check upload`. Every error happens before anything is sent, or is the server's
/// refusal; either way nothing was stored.
pub fn execute(args: UploadArgs) -> anyhow::Result<Outcome> {
    let settings = UploadSettings::from_args(&args)?;
    if args.report_only {
        let uploaded = upload::upload(&settings, |note| eprintln!("{note}"))?;
        print_warnings(&uploaded);
        let line = if uploaded.duplicate {
            format!(
                "This report was already uploaded at {} ({}); nothing changed.",
                uploaded.received_at, uploaded.digest
            )
        } else {
            format!(
                "Uploaded {} to {} ({}).",
                settings.report_path().display(),
                settings.server(),
                uploaded.digest
            )
        };
        print_line(&line)?;
        return Ok(Outcome::Sent);
    }

    let report = settings.report();
    let embedded = &content::get();
    let challenge = ChallengeRef {
        version: embedded.manifest.challenge.version.clone(),
        digest: embedded.digest.clone(),
    };
    if report.challenge != challenge {
        bail!(
            "{} was made for challenge {} ({}), but this sre-check compares your work with \
             challenge {} ({}): run `sre-check run` again with this sre-check, then upload",
            settings.report_path().display(),
            report.challenge.version,
            report.challenge.digest,
            challenge.version,
            challenge.digest
        );
    }
    let limits = Limits::default();
    let mut collected = work::collect(&args.dir, &limits, Some(settings.report_path()))?;
    collected.check_report(report, &args.dir)?;
    let listing = collected.listing(challenge, report.digest());
    listing.check(&limits)?;
    listing.agrees_with(report)?;
    let archive = sre_work::pack(&listing, settings.report_bytes(), &collected.contents)
        .context("packing the work")?;
    if archive.len() as u64 > limits.archive_bytes {
        let biggest: Vec<String> = work::biggest(&collected.files, 3)
            .iter()
            .map(|f| format!("{} ({})", f.path, work::size(f.size)))
            .collect();
        bail!(
            "the work packs into {}, over the {} a submission may have: leave out what is not \
             your work (build outputs, downloads) with {}; the biggest files: {}",
            work::size(archive.len() as u64),
            work::size(limits.archive_bytes),
            work::IGNORE_FILE,
            biggest.join(", ")
        );
    }
    // The archive holds the bytes now; the files' own copies are not needed while sending.
    collected.contents = Vec::new();

    print_line(&work::summary(&collected))?;
    if !args.yes && !confirmed(&collected)? {
        print_line("Nothing was sent.")?;
        return Ok(Outcome::Declined);
    }
    let uploaded = upload::upload_work(&settings, &archive, |note| eprintln!("{note}"))?;
    print_warnings(&uploaded);
    let local = sre_work::digest(&archive);
    if uploaded.digest != local {
        eprintln!(
            "warning: the server names the work {} but sre-check packed {local}",
            uploaded.digest
        );
    }
    let files = uploaded
        .files
        .map_or_else(String::new, |n| format!(", {n} files"));
    let report_digest = uploaded.report_digest.as_deref().unwrap_or("?");
    let line = if uploaded.duplicate {
        format!(
            "This work was already uploaded at {} ({}{files}); nothing changed. Report: {report_digest}.",
            uploaded.received_at, uploaded.digest
        )
    } else {
        format!(
            "Uploaded your work to {} ({}{files}, {}) with the report {report_digest}.",
            settings.server(),
            uploaded.digest,
            work::size(archive.len() as u64),
        )
    };
    print_line(&line)?;
    Ok(Outcome::Sent)
}

/// Asks on the terminal; without one there is nobody to ask, so `--yes` is required.
fn confirmed(collected: &work::Work) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask whether to send {}: pass --yes to send them (or --report-only \
             to send the report alone)",
            match collected.files.len() {
                0 => "the report".to_owned(),
                1 => "this file".to_owned(),
                n => format!("these {n} files"),
            }
        );
    }
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(write!(out, "{}", work::question(collected)).and_then(|()| out.flush()))?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(work::is_yes(&answer))
}

fn print_warnings(uploaded: &Uploaded) {
    for warning in &uploaded.warnings {
        eprintln!("warning: {warning}");
    }
}

fn print_line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(writeln!(out, "{text}"))
}
