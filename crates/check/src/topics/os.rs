//! Topic II, Operating system: a GitHub Actions pipeline that packages prometheus-postgres-exporter
//! as a `.deb` for every supported Debian release.
//!
//! Two halves. The workflow files are read with line numbers and judged as they are: structure
//! (actionlint too, when installed), the releases they build for, and the practices the topic asks
//! for (zizmor's findings join the evidence when it is installed). Then the packaging script the
//! manifest names really runs: build, install and purge in a container of each release.

mod deb;
mod exporter;
mod images;
mod linters;
mod parallel;
mod practices;
mod unit;
mod workflow;

use anyhow::anyhow;

use crate::runner::{CheckCtx, TopicRun, Verdict};

use super::{Suite, answers};
use linters::{Actionlint, Concern, Zizmor};
use workflow::{Kind, Loaded, Sources};

/// The checks of topic II, in manifest order.
pub const SUITE: Suite = Suite::new(
    "os",
    &[
        answers::CHECK_ID,
        "workflow",
        "releases",
        "pinned-actions",
        "permissions",
        "injection",
        "artifacts",
        "shared-logic",
        "build",
        "install",
        "purge",
    ],
    run_checks,
);

/// The option (`--set os.exporter-binary=PATH`) that gives the binary to package.
const EXPORTER_BINARY_OPTION: &str = "exporter-binary";

/// Runs the checks of topic II.
fn run_checks(run: &mut TopicRun) {
    answers::check(run);
    let Some(package) = run.topic().package.as_ref() else {
        run.check("workflow", |_| {
            Err(anyhow!(
                "challenge.toml gives topic os no [topic.package] table"
            ))
        });
        return;
    };
    let mut loaded: Option<(Sources, Zizmor)> = None;
    run.check("workflow", |ctx| {
        let (verdict, parsed) = workflow_check(ctx)?;
        loaded = parsed;
        Ok(verdict)
    });
    if let Some((sources, zizmor)) = &loaded {
        let script = package.script.path.as_str();
        run.check("releases", |_| Ok(practices::releases(sources)));
        run.check("pinned-actions", |_| {
            Ok(practices::pinned_actions(
                sources,
                &zizmor.about(Concern::Pinning),
            ))
        });
        run.check("permissions", |_| {
            Ok(practices::permissions(
                sources,
                &zizmor.about(Concern::Permissions),
            ))
        });
        run.check("injection", |_| {
            Ok(practices::injection(
                sources,
                &zizmor.about(Concern::Injection),
            ))
        });
        run.check("artifacts", |_| Ok(practices::artifacts(sources, script)));
        run.check("shared-logic", |ctx| {
            let exists = ctx.workdir().path(script).is_file();
            Ok(practices::shared_logic(sources, script, exists))
        });
    }
    let given_binary = run
        .env()
        .options
        .file(&run.topic().id, EXPORTER_BINARY_OPTION);
    deb::run_checks(run, package, given_binary);
}

/// Loads and validates the workflows; returns them for the later checks when they parse.
fn workflow_check(ctx: &CheckCtx) -> anyhow::Result<(Verdict, Option<(Sources, Zizmor)>)> {
    let sources = match Sources::load(ctx.workdir())? {
        Loaded::Parsed(sources) => sources,
        Loaded::NoWorkflow => {
            let verdict = Verdict::fail(
                format!(
                    "expected a workflow in {}/ (*.yml or *.yaml); found none",
                    workflow::WORKFLOWS_DIR
                ),
                "There is no workflow file (*.yml or *.yaml) in .github/workflows/: README.md, \"II. Operating system\", \"Your tasks\", step 2 asks for \
                 one.",
            );
            return Ok((verdict, None));
        }
        Loaded::Invalid(messages) => {
            let verdict = Verdict::fail(
                format!("not valid YAML:\n{}", messages.join("\n")),
                "The files above are not valid YAML at the lines shown, so GitHub rejects the \
                 whole workflow: README.md, \"II. Operating system\", \"Your tasks\", step 2.",
            );
            return Ok((verdict, None));
        }
        Loaded::Unsupported(messages) => return Err(anyhow!(messages.join("\n"))),
    };
    let mut problems = workflow::validate(&sources);
    let workflows: Vec<&str> = sources.workflows().map(|s| s.yaml.path.as_str()).collect();
    let actions = sources
        .files
        .iter()
        .filter(|s| s.kind == Kind::Action)
        .count();
    let mut evidence = vec![format!(
        "read {} and {actions} local action(s)",
        workflows.join(", ")
    )];
    match linters::actionlint(ctx.workdir(), &workflows) {
        Actionlint::Absent => evidence.push("actionlint: not installed".to_owned()),
        Actionlint::Clean => evidence.push("actionlint: no problems".to_owned()),
        Actionlint::Problems(found) => {
            problems.extend(found.into_iter().map(|p| format!("actionlint: {p}")));
        }
        Actionlint::Broken(reason) => evidence.push(format!("actionlint did not run: {reason}")),
    }
    let zizmor = linters::zizmor(ctx.workdir());
    match (&zizmor.broken, zizmor.ran) {
        (Some(reason), _) => evidence.push(format!("zizmor did not run: {reason}")),
        (None, true) => {
            let other = zizmor.about(Concern::Other);
            evidence.push(format!(
                "zizmor --offline: {} other finding(s)",
                other.len()
            ));
            evidence.extend(other);
        }
        (None, false) => evidence.push("zizmor: not installed".to_owned()),
    }
    let verdict = if problems.is_empty() {
        Verdict::pass(evidence.join("\n"))
    } else {
        Verdict::fail(
            format!(
                "expected valid GitHub Actions files; found:\n{}\n{}",
                problems.join("\n"),
                evidence.join("\n")
            ),
            "The lines named above are not valid GitHub Actions: GitHub refuses such a workflow, \
             and says so only when it is triggered (README.md, \"II. Operating system\", \"Your tasks\", step 2).",
        )
    };
    Ok((verdict, Some((sources, zizmor))))
}
