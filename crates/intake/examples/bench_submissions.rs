//! The submissions part of `scripts/bench-intake --submissions`: against a running sre-intake,
//! uploads archives of about 20 MiB (the default limit; incompressible files, so the archive is
//! as large as allowed) and times each upload until its 201 (body sent, verified, stored with its
//! report, committed); reads the server's peak RSS from /proc; then uploads the largest changed
//! file of the reference solutions and times the reviewer's diff endpoint for it.
//!
//! ```text
//! cargo run --profile native-release -p sre-intake --example bench_submissions -- \
//!     --url http://127.0.0.1:PORT --reviewer TOKEN --candidate TOKEN --server-pid PID
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use sre_e2e::intake::{Http, Reply, noise, sample_report};
use sre_model::report::FileDigest;
use sre_model::submission::{FileKind, Limits, ListedFile, Listing, SUBMISSION_SCHEMA};

/// Times 20 MiB uploads and the diff endpoint; prints one line each.
#[derive(Debug, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// A reviewer token.
    #[arg(long)]
    reviewer: String,
    /// A candidate token (its invite must allow the uploads: run with a large `--quota-mib`).
    #[arg(long)]
    candidate: String,
    /// The server's process id, for its peak RSS.
    #[arg(long)]
    server_pid: u32,
    /// 20 MiB uploads to time.
    #[arg(long, default_value_t = 5)]
    uploads: u32,
    /// Requests of the diff endpoint to time.
    #[arg(long, default_value_t = 50)]
    diffs: u32,
    /// The repository root (content/ and tests/fixtures/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = Http::new();
    let content = args.root.join("content");
    let me = http.get(&format!("{}/api/v1/me", args.url), &args.candidate);
    let id = me.json()["candidate"]["id"]
        .as_str()
        .context("GET /me has the candidate's id")?
        .to_owned();
    let (rss_start, _) = memory(args.server_pid)?;

    let limits = Limits::default();
    let mut times = Vec::new();
    let mut sizes = Vec::new();
    for n in 0..args.uploads {
        // Four files of just under 5 MiB of noise: the archive ends just under 20 MiB.
        let files: Vec<(String, Vec<u8>)> = (0..4u64)
            .map(|f| {
                (
                    format!("data/part{f}.bin"),
                    noise(5 * 1024 * 1024 - 16 * 1024, u64::from(n) * 10 + f + 1),
                )
            })
            .collect();
        let archive = pack(&files, &content, &format!("bench upload {n}"))?;
        anyhow::ensure!(
            archive.len() as u64 <= limits.archive_bytes,
            "the archive is {} bytes, over the limit",
            archive.len()
        );
        let started = Instant::now();
        let reply = upload(&http, &args, &archive)?;
        let took = started.elapsed();
        if reply.status != 201 {
            bail!("upload {n}: {} {}", reply.status, reply.body);
        }
        times.push(took);
        sizes.push(archive.len());
    }
    let (rss_end, peak) = memory(args.server_pid)?;
    times.sort();
    println!(
        "UPLOAD n={} archive_mib={:.2} min_ms={:.0} median_ms={:.0} max_ms={:.0} rss_start_mib={:.1} \
         rss_end_mib={:.1} peak_rss_mib={:.1}",
        times.len(),
        sizes.iter().max().copied().unwrap_or(0) as f64 / 1048576.0,
        ms(times.first()),
        ms(times.get(times.len() / 2)),
        ms(times.last()),
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        peak as f64 / 1024.0,
    );

    // The diff endpoint on the largest changed file of the reference solutions.
    let (path, bytes) = largest_changed(&args.root.join("tests/fixtures"), &content)?;
    let archive = pack(&[(path.clone(), bytes.clone())], &content, "bench diff")?;
    let reply = upload(&http, &args, &archive)?;
    anyhow::ensure!(reply.status == 201, "{} {}", reply.status, reply.body);
    let digest = reply.json()["digest"]
        .as_str()
        .context("a digest")?
        .to_owned();
    let url = format!(
        "{}/api/v1/candidates/{id}/submissions/{digest}/files/{path}",
        args.url
    );
    let mut diff_times = Vec::new();
    let mut hunks = 0;
    for _ in 0..args.diffs {
        let started = Instant::now();
        let reply = http.get(&url, &args.reviewer);
        diff_times.push(started.elapsed());
        anyhow::ensure!(reply.status == 200, "{} {}", reply.status, reply.body);
        hunks = reply.json()["diff"]["hunks"].as_array().map_or(0, Vec::len);
    }
    diff_times.sort();
    println!(
        "DIFF file={path} bytes={} hunks={hunks} n={} median_ms={:.2} p95_ms={:.2} max_ms={:.2}",
        bytes.len(),
        diff_times.len(),
        ms(diff_times.get(diff_times.len() / 2)),
        ms(diff_times.get(diff_times.len() * 95 / 100)),
        ms(diff_times.last()),
    );
    Ok(())
}

fn ms(d: Option<&Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn upload(http: &Http, args: &Args, archive: &[u8]) -> anyhow::Result<Reply> {
    let auth = format!("Bearer {}", args.candidate);
    http.send(
        "POST",
        &format!("{}/api/v1/submissions", args.url),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/gzip"),
        ],
        archive,
    )
}

/// An archive of `files` (sorted by path) with a report naming them, as `sre-check upload` packs
/// it.
fn pack(files: &[(String, Vec<u8>)], content: &Path, run: &str) -> anyhow::Result<Vec<u8>> {
    let mut report = sample_report(run);
    report.files = files
        .iter()
        .map(|(path, bytes)| FileDigest {
            path: path.clone(),
            sha256: sre_work::sha256_hex(bytes),
            bytes: bytes.len() as u64,
        })
        .collect();
    let listing = Listing {
        schema: SUBMISSION_SCHEMA.to_owned(),
        challenge: report.challenge.clone(),
        report_digest: report.digest(),
        files: files
            .iter()
            .map(|(path, bytes)| ListedFile {
                path: path.clone(),
                size: bytes.len() as u64,
                sha256: sre_work::sha256_hex(bytes),
                kind: if content.join(path).is_file() {
                    FileKind::Changed
                } else {
                    FileKind::New
                },
            })
            .collect(),
    };
    Ok(sre_work::pack(
        &listing,
        &serde_json::to_vec(&report)?,
        files,
    )?)
}

/// The largest file of `tests/fixtures/*/solution` that differs from the starter file at the
/// same path: its path in the working copy and its bytes.
fn largest_changed(fixtures: &Path, content: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let mut best: Option<(String, Vec<u8>)> = None;
    for topic in std::fs::read_dir(fixtures)? {
        let solution = topic?.path().join("solution");
        let mut stack = vec![solution.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let relative = path.strip_prefix(&solution)?.to_string_lossy().into_owned();
                let Ok(starter) = std::fs::read(content.join(&relative)) else {
                    continue;
                };
                let bytes = std::fs::read(&path)?;
                if bytes != starter && best.as_ref().is_none_or(|(_, b)| bytes.len() > b.len()) {
                    best = Some((relative, bytes));
                }
            }
        }
    }
    best.context("no changed starter file in the reference solutions")
}

/// The server's resident memory now and at its peak (VmRSS, VmHWM), in KiB.
fn memory(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .with_context(|| format!("{name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
