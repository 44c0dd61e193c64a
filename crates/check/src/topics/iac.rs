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
mod build_log;
mod dockerfile;
mod host_state;
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

/// Where the README states what a fixed playbook does (hints point there, never at the fix).
const README_FIX: &str = "infrastructure/README.md, \"Your tasks\", step 2";
/// Where the README shows how to reproduce the failure.
const README_REPRODUCE: &str = "infrastructure/README.md, \"Your tasks\", step 1";

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
                "infrastructure/Dockerfile is missing: it is part of the starter kit \
                 (infrastructure/README.md, \"What you get\"); `sre-check init` in another folder \
                 writes a fresh copy.",
            ));
        };
        let Some(playbook) = workdir.read_text(PLAYBOOK)? else {
            return Ok(Verdict::fail(
                format!("expected {PLAYBOOK}; it does not exist"),
                "infrastructure/playbook.yml is missing: it is part of the starter kit \
                 (infrastructure/README.md, \"What you get\"); `sre-check init` in another folder \
                 writes a fresh copy.",
            ));
        };
        let docker = ctx.docker()?;
        let tag = format!("sre-check/iac:{}", docker.run_id());
        let note = |l: &str| ctx.note(l);
        let mut out = docker.build(&workdir.path(DIR), None, &tag, BUILD_TIMEOUT, &note)?;
        let mut output = ansible_output::without_colours(&out.combined());
        if out.success() && ansible_output::step_cached(&output) {
            // The playbook's output is that of the build that made the cached layer.
            match build_log::recall(&output) {
                Some(earlier) => {
                    output = format!(
                        "{output}\n---\nDocker took the playbook step from its cache; the output \
                         of the build that ran it:\n{earlier}"
                    )
                }
                None => {
                    out = docker.build_uncached(
                        &workdir.path(DIR),
                        None,
                        &tag,
                        BUILD_TIMEOUT,
                        &note,
                    )?;
                    output = ansible_output::without_colours(&out.combined());
                }
            }
        }
        if out.success() {
            build_log::remember(&output);
        }
        let parsed = playbook::parse(&playbook);
        let book = parsed.as_ref().ok();
        if !out.success() {
            starter_step_failure(&output)?;
            environment_failure(&output)?;
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
                format!(
                    "The build stopped: {}. {README_REPRODUCE} shows how to reproduce it.",
                    failure_summary(&output, book)
                ),
            ));
        }
        let Some(playbook_run) = dockerfile::playbook_run(&dockerfile) else {
            return Ok(Verdict::fail(
                format!(
                    "{}\n---\nexpected: a `RUN ansible-playbook …` instruction in {DOCKERFILE}\n\
                     found: none; the image builds without running the playbook",
                    tail(&output, PASS_TAIL)
                ),
                format!(
                    "{DOCKERFILE} no longer runs the playbook during the build, so nothing tests \
                     it: {README_FIX}."
                ),
            ));
        };
        let summary = ansible_output::summarize(&output);
        if let Some(summary) = &summary
            && summary.failed == 0
            && let Some(verdict) = ignored_privilege_errors(&output, summary, book)
        {
            return Ok(verdict);
        }
        let ran = match summary {
            Some(summary) if summary.failed > 0 || summary.unreachable > 0 => {
                return Ok(Verdict::fail(
                    format!(
                        "{output}\n---\nexpected: the playbook succeeds in the build\nfound: the \
                         build went on although the playbook failed: {}",
                        build_failure(&output, book)
                    ),
                    format!(
                        "The image built although the playbook failed ({}): {DOCKERFILE} must \
                         let the playbook's result decide the build, {README_FIX}.",
                        failure_summary(&output, book)
                    ),
                ));
            }
            Some(summary) => format!(
                "the playbook ran in the build: changed={} failed=0",
                summary.changed
            ),
            None => {
                return Ok(Verdict::fail(
                    format!(
                        "{}\n---\nexpected: the build runs the playbook to its PLAY RECAP\n\
                         found: no PLAY RECAP in the build output",
                        tail(&output, PASS_TAIL)
                    ),
                    format!(
                        "The build output shows no end of a playbook run (PLAY RECAP), so the \
                         playbook did not run to its end in the build: {README_FIX}."
                    ),
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

/// Signs, in a build's or a run's output, that Docker or the network failed rather than the
/// playbook: the mirror could not be reached, or the engine could not start the container.
const ENVIRONMENT_SIGNS: [&str; 6] = [
    "Temporary failure resolving",
    "Could not resolve host",
    "Failed to update apt cache: unknown reason",
    "failed to create endpoint",
    "docker: Error response from daemon",
    "Unable to connect to deb.debian.org",
];

/// An `error` (never the candidate's failure) when the output shows that the machine, Docker or
/// the network failed: the same playbook would pass on a working machine.
fn environment_failure(output: &str) -> anyhow::Result<()> {
    match output
        .lines()
        .find(|l| ENVIRONMENT_SIGNS.iter().any(|sign| l.contains(sign)))
    {
        Some(line) => anyhow::bail!(
            "Docker or the network failed, not the playbook: {}\nIs the network up, can Docker \
             reach Debian's mirror? Run `sre-check doctor`, then the check again.\n{}",
            line.trim(),
            tail(output, 25)
        ),
        None => Ok(()),
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

/// The failed task and the first line of its error, for a hint: `the task "Install nginx"
/// (infrastructure/playbook.yml:21) failed: E: Could not open lock file …`.
fn failure_summary(output: &str, book: Option<&Playbook>) -> String {
    match ansible_output::first_failure(output) {
        Some(failure) => format!(
            "the task \"{}\"{} failed: {}",
            failure.task,
            task_place(book, &failure.task),
            failure.message.lines().next().unwrap_or_default()
        ),
        None => "see the error at the end of the build output above".to_owned(),
    }
}

/// A build that only succeeded because a task's privilege error was ignored (`ignore_errors`):
/// the task did not do its work, so the build proves nothing. Other ignored failures (a probe
/// whose result is registered) stay the playbook's business.
fn ignored_privilege_errors(
    output: &str,
    summary: &ansible_output::RunSummary,
    book: Option<&Playbook>,
) -> Option<Verdict> {
    let ignored: Vec<String> = summary
        .failures
        .iter()
        .filter(|f| f.ignored && f.is_privilege_error())
        .map(|f| {
            format!(
                "the task \"{}\"{} failed, and the failure was ignored: {}",
                f.task,
                task_place(book, &f.task),
                f.message.lines().next().unwrap_or_default()
            )
        })
        .collect();
    if ignored.is_empty() {
        return None;
    }
    Some(Verdict::fail(
        format!(
            "{}\n---\nexpected: every task of the playbook succeeds in the build\nfound: {}",
            tail(output, 40),
            ignored.join("\n")
        ),
        format!(
            "The build succeeds only because a failure is ignored: {}. That task did not do its \
             work (a permission error), so the image is not what the playbook describes: \
             {README_FIX}.",
            ignored[0]
        ),
    ))
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
                format!(
                    "{PLAYBOOK}:{} cannot be read as a playbook (a YAML list of plays): {err}",
                    err.line()
                ),
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
    // The container is kept (and removed with the run's objects) to read what it changed.
    let container = format!("sre-check-iac-second-run-{}", docker.run_id());
    let out = docker.run_kept(&spec, &container, SECOND_RUN_TIMEOUT)?;
    let output = ansible_output::without_colours(&out.combined());
    let command = built.run.command.text();
    let book = ctx
        .workdir()
        .read_text(PLAYBOOK)?
        .and_then(|t| playbook::parse(&t).ok());
    let summary = ansible_output::summarize(&output);
    let Some(summary) = summary.filter(|s| out.success() && s.failed == 0 && s.unreachable == 0)
    else {
        environment_failure(&output)?;
        return Ok(Verdict::fail(
            format!(
                "{}\n---\nexpected: the second run of `{command}` in the built image succeeds\nfound: {}",
                tail(&output, 40),
                build_failure(&output, book.as_ref())
            ),
            format!(
                "The second run, on the host the first run set up, stopped: {}. {README_FIX} \
                 describes a second run.",
                failure_summary(&output, book.as_ref())
            ),
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
            format!(
                "The tasks listed above (with their lines) changed the host again on the second \
                 run, so the playbook is not idempotent: {README_FIX} (\"a second run … changes \
                 nothing\")."
            ),
        ));
    }
    let changes = host_state::changes(docker, &container, &built.image)?;
    let _ = docker.remove_container(&container);
    if !changes.is_empty() {
        let text = ctx.workdir().read_text(PLAYBOOK)?.unwrap_or_default();
        let silenced = silenced_reports(&text);
        let shown: Vec<String> = changes
            .iter()
            .take(host_state::MAX_SHOWN)
            .map(|c| format!("- {}: {}", c.path, c.what))
            .collect();
        let more = changes.len().saturating_sub(host_state::MAX_SHOWN);
        let more = if more > 0 {
            format!("\n… and {more} more")
        } else {
            String::new()
        };
        let silenced_text = if silenced.is_empty() {
            String::new()
        } else {
            format!(
                "\ntasks whose change report the playbook overrides:\n{}",
                silenced.join("\n")
            )
        };
        return Ok(Verdict::fail(
            format!(
                "{}\n---\nexpected: the second run leaves the host as the first run left it\n\
                 found: Ansible reported {recap}, but the host's files differ after the second \
                 run:\n{}{more}{silenced_text}",
                tail(&output, 20),
                shown.join("\n"),
            ),
            format!(
                "The second run changed {} while reporting no change, so the playbook is not \
                 idempotent and its report hides it{}: {README_FIX} (\"a second run … changes \
                 nothing\").",
                changes[0].path,
                silenced
                    .first()
                    .map(|s| format!(" ({})", s.trim_start_matches("- ")))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(Verdict::pass(format!(
        "second run of `{command}` in the built image:\n{recap}\nthe host's files are as the \
         first run left them (docker diff, compared with the built image)"
    )))
}

/// `- infrastructure/playbook.yml:12: changed_when: false`, for each task option that overrides
/// what Ansible reports as a change.
fn silenced_reports(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            l.starts_with("changed_when:") && !l.starts_with("changed_when: true")
        })
        .map(|(i, l)| format!("- {PLAYBOOK}:{}: {}", i + 1, l.trim()))
        .collect()
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
            "infrastructure/playbook.yml is missing: it is part of the starter kit \
             (infrastructure/README.md, \"What you get\"); `sre-check init` in another folder \
             writes a fresh copy.",
        ));
    }
    let file = PLAYBOOK.trim_start_matches(&format!("{DIR}/"));
    lint::check(ctx.docker()?, &ctx.workdir().path(DIR), DIR, file, &|l| {
        ctx.note(l)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn network_and_engine_failures_are_errors_not_failures() {
        assert!(
            super::environment_failure("fatal: ... Temporary failure resolving 'deb.debian.org'")
                .is_err()
        );
        assert!(
            super::environment_failure("failed to create endpoint x on network bridge").is_err()
        );
        assert!(
            super::environment_failure(
                "fatal: [localhost]: FAILED! => {\"msg\": \"E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\"}"
            )
            .is_ok()
        );
    }
}
