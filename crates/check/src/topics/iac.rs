//! Topic I, Infrastructure as Code: the candidate fixes an Ansible playbook that the Dockerfile
//! runs as the unprivileged `deploy` user during the build.
//!
//! Checks, in manifest order: `answers` (infra.txt), `build` (the Dockerfile builds and the
//! playbook ran to its recap), `privileges` (root only for the tasks that need it, read from the
//! playbook, the Dockerfile and Ansible configuration, with file:line), `idempotence` (a second
//! run in the built image changes nothing), `service` (nginx serves the page in the built image)
//! and `lint` (Debian's ansible-lint, default rules). `lint` reads only the playbook, so it runs
//! while the image builds; `idempotence` and `service` both start from the built image and run
//! side by side. The three that need the build are skipped when it fails.

mod ansible_output;
mod dockerfile;
mod lint;
mod playbook;
mod privileges;
mod service;

use std::path::Path;
use std::time::Duration;

use sre_model::Status;

use crate::content;
use crate::docker::{RunSpec, tail};
use crate::runner::{CheckCtx, TopicRun, Verdict};
use crate::workdir::WorkDir;

use self::dockerfile::PlaybookRun;
use self::playbook::Playbook;
use self::privileges::{Connection, Finding};

use super::{Suite, answers};

/// The folder of this topic in the working copy.
const DIR: &str = "infrastructure";
/// The playbook, in [`DIR`].
const PLAYBOOK: &str = "infrastructure/playbook.yml";
/// The Dockerfile, in [`DIR`].
const DOCKERFILE: &str = "infrastructure/Dockerfile";

/// A build installs Ansible (a few minutes the first time) and runs the playbook.
const BUILD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The second run may refresh apt's package lists when they are older than the playbook allows.
const SECOND_RUN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Lines of build output kept as evidence of a successful build.
const PASS_TAIL: usize = 30;

/// Why the checks that need the image do not run.
const NEEDS_BUILD: &str =
    "skipped: it needs the image, and the Dockerfile did not build with the playbook (see `build`)";

/// What a successful build leaves for the checks after it.
#[derive(Debug, Clone)]
struct Built {
    /// Tag of the image (removed with the run's other objects).
    image: String,
    /// The Dockerfile's `RUN ansible-playbook`.
    run: PlaybookRun,
}

/// The checks of topic I, in manifest order.
pub const SUITE: Suite = Suite::new(
    "iac",
    &[
        answers::CHECK_ID,
        "build",
        "privileges",
        "idempotence",
        "service",
        "lint",
    ],
    run_checks,
);

/// Runs the checks of topic I.
fn run_checks(run: &mut TopicRun) {
    answers::check(run);
    std::thread::scope(|scope| {
        let lint = run.spawn(scope, "lint", lint_check);
        match build(run) {
            Some(built) => {
                run.check("privileges", |ctx| privileges_check(ctx, &built.run));
                let again = built.clone();
                let second = run.spawn(scope, "idempotence", move |ctx| {
                    idempotence_check(ctx, &again)
                });
                let image = built.image.clone();
                let service = run.spawn(scope, "service", move |ctx| {
                    service::check(ctx.docker()?, &image)
                });
                run.join(second);
                run.join(service);
            }
            None => {
                for id in ["privileges", "idempotence", "service"] {
                    run.skip(id, NEEDS_BUILD);
                }
            }
        }
        run.join(lint);
    });
}

/// The `build` check; the image and the playbook's `RUN` when it passes.
fn build(run: &mut TopicRun) -> Option<Built> {
    let mut built = None;
    let status = run.check("build", |ctx| {
        let workdir = ctx.workdir();
        let Some(dockerfile) = workdir.read_text(DOCKERFILE)? else {
            return Ok(Verdict::fail(
                format!("expected {DOCKERFILE}; it does not exist"),
                "Restore the Dockerfile from the starter kit (`sre-check init` in another folder).",
            ));
        };
        let Some(playbook) = workdir.read_text(PLAYBOOK)? else {
            return Ok(Verdict::fail(
                format!("expected {PLAYBOOK}; it does not exist"),
                "Restore the playbook from the starter kit and fix it there.",
            ));
        };
        let docker = ctx.docker()?;
        let tag = format!("sre-check/iac:{}", docker.run_id());
        let out = docker.build(&workdir.path(DIR), None, &tag, BUILD_TIMEOUT, &|l| {
            ctx.note(l)
        })?;
        let output = ansible_output::without_colours(&out.combined());
        let parsed = playbook::parse(&playbook);
        let book = parsed.as_ref().ok();
        if !out.success() {
            starter_step_failure(&output)?;
            // Ansible names the file inside the image; the checker's own reading names the
            // candidate's file and line.
            let unreadable = parsed
                .as_ref()
                .err()
                .map(|e| format!("\nwhere: {PLAYBOOK}: {e}"))
                .unwrap_or_default();
            return Ok(Verdict::fail(
                format!(
                    "{output}\n---\nexpected: `docker build {DIR}` succeeds\nfound: {}{unreadable}",
                    build_failure(&output, book)
                ),
                "Read the error of the failed step above: what the task tried to do, and as which \
                 user. Reproduce it with `docker build .` in infrastructure/.",
            ));
        }
        let Some(playbook_run) = dockerfile::playbook_run(&dockerfile) else {
            return Ok(Verdict::fail(
                format!(
                    "{}\n---\nexpected: a `RUN ansible-playbook …` instruction in {DOCKERFILE}\n\
                     found: none; the image builds without running the playbook",
                    tail(&output, PASS_TAIL)
                ),
                "The Dockerfile must run the playbook during the build, as the starter kit's does.",
            ));
        };
        let ran = match ansible_output::summarize(&output) {
            Some(summary) if summary.failed > 0 || summary.unreachable > 0 => {
                return Ok(Verdict::fail(
                    format!(
                        "{output}\n---\nexpected: the playbook succeeds in the build\nfound: the \
                         build went on although the playbook failed: {}",
                        build_failure(&output, book)
                    ),
                    "Let a failed playbook fail the build: the build is the playbook's test.",
                ));
            }
            Some(summary) => format!(
                "the playbook ran in the build: changed={} failed=0",
                summary.changed
            ),
            None if ansible_output::step_cached(&output) => "the playbook step is Docker's cache \
                 of an earlier successful build of this same playbook"
                .to_owned(),
            None => {
                return Ok(Verdict::fail(
                    format!(
                        "{}\n---\nexpected: the build runs the playbook to its PLAY RECAP\n\
                         found: no PLAY RECAP in the build output",
                        tail(&output, PASS_TAIL)
                    ),
                    "Keep the Dockerfile's `RUN ansible-playbook … playbook.yml`: the build is \
                     the playbook's test.",
                ));
            }
        };
        built = Some(Built {
            image: tag,
            run: playbook_run,
        });
        Ok(Verdict::pass(format!(
            "{}\n---\n{ran}",
            tail(&output, PASS_TAIL)
        )))
    });
    built.filter(|_| status == Status::Pass)
}

/// A build that stops in a step of the starter kit's Dockerfile other than the playbook's (the
/// base image, installing Ansible) failed because of the machine or the network, not because of
/// the candidate's work: that is an `error`.
fn starter_step_failure(output: &str) -> anyhow::Result<()> {
    let starter = content::file(DOCKERFILE)
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    match dockerfile::failed_step(output) {
        Some(step)
            if !step.contains("ansible-playbook")
                && dockerfile::has_instruction(&starter, &step) =>
        {
            anyhow::bail!(
                "the build stopped in a step of the starter kit's Dockerfile, before the playbook \
                 ran: `{}`. Is the network up, can Docker reach Debian's mirror (and Docker Hub \
                 for debian:bookworm)?\n{}",
                step.chars().take(120).collect::<String>(),
                tail(output, 25)
            )
        }
        _ => Ok(()),
    }
}

/// What failed in a build, from its output: the task and Ansible's message, an Ansible error, or
/// the last lines.
fn build_failure(output: &str, book: Option<&Playbook>) -> String {
    if let Some(failure) = ansible_output::first_failure(output) {
        let place = task_place(book, &failure.task);
        return format!(
            "the task \"{}\"{place} failed:\n  {}",
            failure.task,
            failure.message.replace('\n', "\n  ")
        );
    }
    let lines: Vec<&str> = output.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.contains("ERROR!")) {
        let end = (at + 8).min(lines.len());
        return format!("Ansible stopped:\n  {}", lines[at..end].join("\n  "));
    }
    format!(
        "the build stopped:\n  {}",
        tail(output, 5).replace('\n', "\n  ")
    )
}

/// ` (infrastructure/playbook.yml:17)` for a task name, when the playbook has such a task.
fn task_place(book: Option<&Playbook>, name: &str) -> String {
    book.into_iter()
        .flat_map(|b| &b.plays)
        .flat_map(|p| &p.tasks)
        .find(|t| t.name.as_deref() == Some(name))
        .map(|t| format!(" ({PLAYBOOK}:{})", t.line))
        .unwrap_or_default()
}

/// The `privileges` check.
fn privileges_check(ctx: &CheckCtx, run: &PlaybookRun) -> anyhow::Result<Verdict> {
    let workdir = ctx.workdir();
    let text = workdir.read_text(PLAYBOOK)?.unwrap_or_default();
    let book = match playbook::parse(&text) {
        Ok(book) => book,
        Err(err) => {
            return Ok(Verdict::fail(
                format!(
                    "expected: a playbook, a YAML list of plays\nfound: {PLAYBOOK}:{}: {err}",
                    err.line()
                ),
                "Fix the playbook's structure at the line named above.",
            ));
        }
    };
    let conn = Connection::of(run);
    let mut findings = privileges::review_run(run, DOCKERFILE);
    let review = privileges::review(&book, PLAYBOOK, &conn);
    findings.extend(review.findings);
    for (file, text) in config_files(workdir)? {
        findings.extend(privileges::review_config(&file, &text));
    }
    let mut evidence = format!(
        "the playbook runs as {} ({DOCKERFILE}:{})\n{}",
        conn.user,
        run.user.as_ref().map_or(run.line, |u| u.line),
        review.tasks.join("\n")
    );
    for note in &review.notes {
        evidence.push_str(&format!("\nnote: {note}"));
    }
    if findings.is_empty() {
        return Ok(Verdict::pass(evidence));
    }
    Ok(Verdict::fail(
        format!(
            "{evidence}\n---\nexpected: root only for the tasks that need it, through `become`\nfound:\n{}",
            list_findings(&findings)
        ),
        hints(&findings),
    ))
}

fn list_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("- {}: {}", f.place, f.found))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One piece of advice per kind of finding, most serious first.
fn hints(findings: &[Finding]) -> String {
    let mut kinds: Vec<_> = findings.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .iter()
        .map(|k| k.advice())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Files of the folder where Ansible may read settings or variables: configuration (`*.cfg`),
/// inventories (no extension, `*.ini`) and vars files (`*.yml` other than the playbook).
fn config_files(workdir: &WorkDir) -> anyhow::Result<Vec<(String, String)>> {
    const MAX_FILES: usize = 200;
    const MAX_BYTES: u64 = 256 * 1024;
    let mut found = Vec::new();
    let mut folders = vec![DIR.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(workdir.path(&folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{folder}/{name}");
            let Ok(meta) = entry.metadata() else { continue };
            if name.starts_with('.') && name != ".ansible.cfg" {
                continue;
            }
            if meta.is_dir() {
                folders.push(rel);
                continue;
            }
            let ext = Path::new(&name).extension().and_then(|e| e.to_str());
            let wanted = match ext {
                Some("cfg" | "ini" | "yml" | "yaml") => rel != PLAYBOOK,
                None => name != "Dockerfile",
                Some(_) => false,
            };
            if wanted
                && meta.len() <= MAX_BYTES
                && found.len() < MAX_FILES
                && let Some(text) = workdir.read_text(&rel)?
            {
                found.push((rel, text));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The `idempotence` check: the Dockerfile's playbook command, again, in the built image.
fn idempotence_check(ctx: &CheckCtx, built: &Built) -> anyhow::Result<Verdict> {
    let docker = ctx.docker()?;
    let argv = built.run.command.argv();
    let Some((program, args)) = argv.split_first() else {
        anyhow::bail!("the Dockerfile's RUN ansible-playbook has no command");
    };
    ctx.note("running the playbook a second time in the built image");
    let spec = RunSpec::new(&built.image)
        .entrypoint(program)
        .args(args.iter().cloned());
    let out = docker.run(&spec, SECOND_RUN_TIMEOUT)?;
    let output = ansible_output::without_colours(&out.combined());
    let command = built.run.command.text();
    let book = ctx
        .workdir()
        .read_text(PLAYBOOK)?
        .and_then(|t| playbook::parse(&t).ok());
    let summary = ansible_output::summarize(&output);
    let Some(summary) = summary.filter(|s| out.success() && s.failed == 0 && s.unreachable == 0)
    else {
        return Ok(Verdict::fail(
            format!(
                "{}\n---\nexpected: the second run of `{command}` in the built image succeeds\nfound: {}",
                tail(&output, 40),
                build_failure(&output, book.as_ref())
            ),
            "The playbook must also succeed on a host it has already set up. Read the error above.",
        ));
    };
    let recap = recap_line(&output);
    if summary.changed > 0 {
        let tasks: Vec<String> = summary
            .changed_tasks
            .iter()
            .map(|t| format!("- \"{t}\"{}", task_place(book.as_ref(), t)))
            .collect();
        return Ok(Verdict::fail(
            format!(
                "{}\n---\nexpected: the second run reports changed=0\nfound: changed={} ({recap})\ntasks that changed again:\n{}",
                tail(&output, 40),
                summary.changed,
                tasks.join("\n")
            ),
            "A task that changes something on every run is not idempotent. Prefer a module that \
             compares the wanted state with the host's (copy, lineinfile, file…) to a shell \
             command; if a command is needed, give it `creates`/`removes` or a `changed_when` \
             that tells the truth.",
        ));
    }
    Ok(Verdict::pass(format!(
        "second run of `{command}` in the built image:\n{recap}"
    )))
}

/// The recap line(s) of a run, without the header.
fn recap_line(output: &str) -> String {
    output
        .lines()
        .skip_while(|l| !l.contains("PLAY RECAP"))
        .skip(1)
        .map(str::trim)
        .filter(|l| l.contains("ok="))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `lint` check.
fn lint_check(ctx: &CheckCtx) -> anyhow::Result<Verdict> {
    if ctx.workdir().read(PLAYBOOK)?.is_none() {
        return Ok(Verdict::fail(
            format!("expected {PLAYBOOK}; it does not exist"),
            "Restore the playbook from the starter kit and fix it there.",
        ));
    }
    let file = PLAYBOOK.trim_start_matches(&format!("{DIR}/"));
    lint::check(ctx.docker()?, &ctx.workdir().path(DIR), DIR, file, &|l| {
        ctx.note(l)
    })
}
