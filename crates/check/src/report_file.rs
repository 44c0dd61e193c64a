//! Writing the report file and printing the run's summary.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use sre_model::report::Report;
use sre_model::{Manifest, Status};

/// Fails early, before any check runs, when the report cannot be written to `path`.
pub fn ensure_writable(path: &Path) -> anyhow::Result<()> {
    let dir = parent(path);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the report folder {}", dir.display()))?;
    tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write the report in {}", dir.display()))?;
    if path.is_dir() {
        anyhow::bail!(
            "the report path {} is a folder: give a file name",
            path.display()
        );
    }
    Ok(())
}

/// Writes the report as pretty JSON, atomically: a reader never sees half a report.
pub fn write(path: &Path, report: &Report) -> anyhow::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(parent(path))
        .with_context(|| format!("cannot write the report in {}", parent(path).display()))?;
    serde_json::to_writer_pretty(&mut tmp, report).context("encoding the report")?;
    tmp.write_all(b"\n")?;
    tmp.persist(path)
        .with_context(|| format!("cannot write the report to {}", path.display()))?;
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Prints what each topic and check concluded; failures and errors with their evidence and hint.
pub fn print_summary(
    out: &mut impl Write,
    report: &Report,
    manifest: &Manifest,
) -> std::io::Result<()> {
    writeln!(out)?;
    for topic in &report.topics {
        let title = manifest.topic(topic.id.as_str()).map_or_else(
            || topic.id.to_string(),
            |t| format!("{} {}", t.roman(), t.title),
        );
        writeln!(out, "{title}: {}", topic.status.as_str().to_uppercase())?;
        for check in &topic.checks {
            writeln!(out, "  {:<7} {}", check.status.as_str(), check.title)?;
            if matches!(check.status, Status::Fail | Status::Error) {
                for line in crate::docker::tail(&check.evidence, 15).lines() {
                    writeln!(out, "          | {line}")?;
                }
                if let Some(hint) = &check.hint {
                    writeln!(out, "          hint: {hint}")?;
                }
            }
        }
        for signal in &topic.signals {
            let mark = if signal.present { "found" } else { "not found" };
            writeln!(out, "  note    {}: {mark}", signal.label)?;
        }
    }
    let counts = |s: Status| {
        report
            .topics
            .iter()
            .flat_map(|t| &t.checks)
            .filter(|c| c.status == s)
            .count()
    };
    writeln!(
        out,
        "\n{} passed, {} failed, {} errors, {} skipped",
        counts(Status::Pass),
        counts(Status::Fail),
        counts(Status::Error),
        counts(Status::Skipped)
    )
}
