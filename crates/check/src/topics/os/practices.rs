//! The checks of the workflow's content: which Debian releases it builds for, and the practices
//! the topic asks for (pinned actions, least-privilege token, no injection, one artifact per
//! release, one shared packaging script). Each returns a verdict with `file:line` evidence.

use sre_model::debian::DebianRelease;

use crate::runner::Verdict;
use crate::yaml::{Node, Value};

use super::workflow::{Job, Kind, Sources, Step, expressions};

/// Where each supported release is mentioned, and which are missing.
pub fn releases(sources: &Sources) -> Verdict {
    let mentions = release_mentions(sources);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for release in crate::content::debian_releases() {
        let at: Vec<&str> = mentions
            .iter()
            .filter(|(r, _)| r.codename == release.codename)
            .map(|(_, at)| at.as_str())
            .collect();
        if at.is_empty() {
            missing.push(release.label());
        } else {
            let mut line = format!("{}: {}", release.label(), at.join(", "));
            if let Some(warning) = release.warning() {
                line.push_str(&format!("\n  note: {warning}"));
            }
            found.push(line);
        }
    }
    if missing.is_empty() {
        return Verdict::pass(found.join("\n"));
    }
    let expected: Vec<String> = crate::content::debian_releases()
        .iter()
        .map(DebianRelease::label)
        .collect();
    Verdict::fail(
        format!(
            "expected builds for {}; missing: {}\nfound:\n{}",
            expected.join(", "),
            missing.join(", "),
            if found.is_empty() {
                "  no Debian release named in a matrix, a container image or a step".to_owned()
            } else {
                found.join("\n")
            }
        ),
        format!(
            "The workflows never build for {}: {README_WORKFLOW} (\"builds the package for the \
             three releases\"; the releases are named in the README's Context).",
            missing.join(" and "),
        ),
    )
}

/// Every place a workflow names a supported release: matrix values (minus single-key
/// excludes), job containers, `with:` inputs and `run:` scripts.
fn release_mentions(sources: &Sources) -> Vec<(&'static DebianRelease, String)> {
    let mut found = Vec::new();
    for job in sources.jobs() {
        let file = &job.source.yaml;
        if let Some(matrix) = job
            .node
            .get_mapping("strategy")
            .and_then(|s| s.get_mapping("matrix"))
        {
            let excluded = excluded_releases(matrix.get("exclude"));
            for (key, values) in matrix.entries() {
                if key.text() == "exclude" {
                    continue;
                }
                for scalar in values.scalars() {
                    for release in named_releases(scalar.text(), true) {
                        if !excluded.contains(&release.codename.as_str()) {
                            found.push((release, file.at(scalar)));
                        }
                    }
                }
            }
        }
        let container = job.node.get("container");
        let with = job.node.get("with");
        for scalar in container.into_iter().chain(with).flat_map(Node::scalars) {
            for release in named_releases(scalar.text(), false) {
                found.push((release, file.at(scalar)));
            }
        }
    }
    for step in sources.steps() {
        let file = &step.source.yaml;
        let with = step.node.get("with");
        let run = step.node.get("run");
        for scalar in with.into_iter().chain(run).flat_map(Node::scalars) {
            for release in named_releases(scalar.text(), false) {
                found.push((release, file.at(scalar)));
            }
        }
    }
    found
}

/// Codenames of `exclude:` entries that exclude a release outright (`- codename: bullseye`).
fn excluded_releases(exclude: Option<&Node>) -> Vec<&'static str> {
    super::workflow::mappings(exclude)
        .filter(|m| m.entries().count() == 1)
        .flat_map(|m| m.values().filter_map(Node::as_str))
        .flat_map(|t| named_releases(t, true))
        .map(|r| r.codename.as_str())
        .collect()
}

/// Releases named in `text` by codename (as a word), or — for a matrix value — by its version
/// number alone (`13`, `debian:13`).
fn named_releases(text: &str, matrix_value: bool) -> Vec<&'static DebianRelease> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    crate::content::debian_releases()
        .iter()
        .filter(|r| {
            let number = r.version.to_string();
            words.contains(&r.codename.as_str())
                || (matrix_value && (text.trim() == number || words == ["debian", number.as_str()]))
        })
        .collect()
}

/// Every `uses:` is a full commit SHA (or a digest for `docker://`), local actions excepted.
pub fn pinned_actions(sources: &Sources, zizmor: &[String]) -> Verdict {
    let mut pinned = Vec::new();
    let mut unpinned = Vec::new();
    for uses in sources.uses() {
        let value = uses.value.text();
        if value.starts_with("./") {
            continue;
        }
        let at = uses.source.yaml.at(uses.value);
        if is_pinned(value) {
            pinned.push(format!("{at}: {value}"));
        } else {
            unpinned.push(format!("{at}: {value}"));
        }
    }
    if unpinned.is_empty() {
        let evidence = if pinned.is_empty() {
            "no third-party action or reusable workflow is used".to_owned()
        } else {
            format!("pinned to a commit:\n{}", pinned.join("\n"))
        };
        return Verdict::pass(with_zizmor(evidence, zizmor));
    }
    Verdict::fail(
        with_zizmor(
            format!(
                "expected every `uses:` pinned to a full 40-character commit SHA; not pinned:\n{}",
                unpinned.join("\n")
            ),
            zizmor,
        ),
        format!(
            "The `uses:` listed above name a tag or branch, which its owner can move to other code \
             at any time: {README_WORKFLOW} (\"as you would for a production repository\")."
        ),
    )
}

fn is_pinned(uses: &str) -> bool {
    let Some((_, reference)) = uses.rsplit_once('@') else {
        return false;
    };
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if uses.starts_with("docker://") {
        return reference
            .strip_prefix("sha256:")
            .is_some_and(|d| hex(d, 64));
    }
    hex(reference, 40)
}

/// The workflow token is read-only at the top of every workflow; write scopes only in jobs.
pub fn permissions(sources: &Sources, zizmor: &[String]) -> Verdict {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for source in sources.workflows() {
        let file = &source.yaml;
        match source.yaml.root.get("permissions") {
            None => problems.push(format!(
                "{}: no top-level `permissions:`: the token gets the repository's default, which \
                 can be read-write",
                file.path
            )),
            Some(node) => match grant(node) {
                Some(grant) => problems.push(format!(
                    "{}: top-level permissions grant {}",
                    file.at(node),
                    grant.describe()
                )),
                None => ok.push(format!("{}: top level is read-only", file.at(node))),
            },
        }
    }
    for job in sources.jobs() {
        job_permissions(&job, &mut ok, &mut problems);
    }
    if problems.is_empty() {
        return Verdict::pass(with_zizmor(ok.join("\n"), zizmor));
    }
    Verdict::fail(
        with_zizmor(
            format!(
                "expected `permissions: contents: read` at the top of each workflow, and write \
                 scopes only on the jobs that need them; found:\n{}",
                problems.join("\n")
            ),
            zizmor,
        ),
        format!(
            "The token's permissions at the places listed above are broader than the jobs need \
             (or left to the repository's default): {README_WORKFLOW} (\"as you would for a \
             production repository\")."
        ),
    )
}

/// What a `permissions:` grants beyond reading the repository.
enum Grant {
    /// `write-all` or `read-all`: every scope at once.
    All(&'static str),
    /// Write access to these scopes.
    Writes(Vec<String>),
}

impl Grant {
    fn describe(&self) -> String {
        match self {
            Grant::All("write-all") => "`write-all`: every scope with write access".to_owned(),
            Grant::All(all) => format!("`{all}`: every scope, not only the ones the build needs"),
            Grant::Writes(scopes) => format!("write access to {}", scopes.join(", ")),
        }
    }
}

fn grant(node: &Node) -> Option<Grant> {
    match &node.value {
        Value::Scalar { text, .. } if text == "write-all" => Some(Grant::All("write-all")),
        Value::Scalar { text, .. } if text == "read-all" => Some(Grant::All("read-all")),
        Value::Map(map) => {
            let writes: Vec<String> = map
                .iter()
                .filter(|(_, level)| level.as_str() == Some("write"))
                .map(|(scope, _)| scope.text().to_owned())
                .collect();
            (!writes.is_empty()).then_some(Grant::Writes(writes))
        }
        _ => None,
    }
}

/// A job may write to the scopes it names; it may not take every scope at once.
fn job_permissions(job: &Job, ok: &mut Vec<String>, problems: &mut Vec<String>) {
    let Some(node) = job.node.get("permissions") else {
        return;
    };
    let at = job.source.yaml.at(node);
    let id = job.id.text();
    match grant(node) {
        Some(all @ Grant::All(_)) => {
            problems.push(format!("{at}: job `{id}` grants {}", all.describe()));
        }
        Some(writes) => ok.push(format!(
            "{at}: job `{id}` has {} (scoped to this job)",
            writes.describe()
        )),
        None => ok.push(format!("{at}: job `{id}` is read-only")),
    }
}

/// Where the README asks for the workflow (hints point there, never at the fix).
const README_WORKFLOW: &str = "README.md, \"II. Operating system\", \"Your tasks\", step 2";

/// Contexts an attacker can set (titles, branch names, commit messages …).
const UNTRUSTED: &[&str] = &["github.event.", "github.head_ref"];

/// No untrusted context is expanded into a `run:` script (or a github-script `script:`).
pub fn injection(sources: &Sources, zizmor: &[String]) -> Verdict {
    let mut found = Vec::new();
    let mut scripts = 0;
    for step in sources.steps() {
        let script = step.run().or_else(|| {
            step.calls("actions/github-script")
                .then(|| step.with("script"))
                .flatten()
        });
        let Some(script) = script else {
            continue;
        };
        scripts += 1;
        found.extend(untrusted_expansions(&step, script));
    }
    found.extend(untrusted_checkouts(sources));
    if found.is_empty() {
        return Verdict::pass(with_zizmor(
            format!("{scripts} scripts; none expands event data with ${{{{ }}}}"),
            zizmor,
        ));
    }
    Verdict::fail(
        with_zizmor(
            format!(
                "expected no event data expanded into scripts, and no pull request code run with \
                 the repository's secrets; found:\n{}",
                found.join("\n")
            ),
            zizmor,
        ),
        format!(
            "At the places listed above, text or code from a pull request runs in the workflow \
             (event data pasted into a script before the shell reads it, or the pull request's \
             code checked out by a workflow that holds the repository's secrets): {README_WORKFLOW} \
             (\"as you would for a production repository that other teams build on\")."
        ),
    )
}

/// Events that start a workflow with the base repository's secrets and a write token although a
/// pull request, possibly from a fork, caused them.
const PRIVILEGED_TRIGGERS: [&str; 2] = ["pull_request_target", "workflow_run"];

/// What names the pull request's own code in a checkout's `ref`/`repository` or a script.
const PULL_REQUEST_CODE: [&str; 6] = [
    "github.event.pull_request.head",
    "github.head_ref",
    "refs/pull/",
    "github.event.workflow_run.head",
    "pull_request.merge_commit_sha",
    "gh pr checkout",
];

/// The events of a workflow's `on:` (a name, a list of names, or a mapping by name).
fn triggers(root: &Node) -> Vec<String> {
    let Some(on) = root.get("on") else {
        return Vec::new();
    };
    if let Some(name) = on.as_str() {
        return vec![name.to_owned()];
    }
    if let Some(list) = on.as_seq() {
        return list
            .iter()
            .filter_map(Node::as_str)
            .map(str::to_owned)
            .collect();
    }
    on.keys()
        .filter_map(Node::as_str)
        .map(str::to_owned)
        .collect()
}

/// Steps of workflows started by a privileged event ([`PRIVILEGED_TRIGGERS`]) that fetch the pull
/// request's code: that code then runs with the repository's secrets (the "pwn request"). Found by
/// the checker itself, whether or not zizmor is installed.
fn untrusted_checkouts(sources: &Sources) -> Vec<String> {
    let mut found = Vec::new();
    for step in sources.steps() {
        let Some(trigger) = triggers(&step.source.yaml.root)
            .into_iter()
            .find(|t| PRIVILEGED_TRIGGERS.contains(&t.as_str()))
        else {
            continue;
        };
        let names_pr_code = |node: &Node| {
            PULL_REQUEST_CODE
                .iter()
                .any(|needle| node.text().contains(needle))
        };
        let fetched = if step.calls("actions/checkout") {
            ["ref", "repository"]
                .into_iter()
                .filter_map(|key| step.with(key))
                .find(|node| names_pr_code(node))
        } else {
            step.run().filter(|node| names_pr_code(node))
        };
        if let Some(node) = fetched {
            found.push(format!(
                "{}: on `{trigger}` (which runs with the repository's secrets and a write token), \
                 this step fetches the pull request's code: {}",
                step.source.yaml.at(node),
                node.text().lines().next().unwrap_or_default().trim()
            ));
        }
    }
    found
}

fn untrusted_expansions(step: &Step, script: &Node) -> Vec<String> {
    expressions(script.text())
        .into_iter()
        .filter(|(_, expr)| UNTRUSTED.iter().any(|u| expr.contains(u)))
        .map(|(offset, expr)| {
            format!(
                "{}: ${{{{ {expr} }}}}",
                step.source.yaml.at_offset(script, offset)
            )
        })
        .collect()
}

/// Every `actions/upload-artifact` step that uploads packages (a `.deb` path, or in the job that
/// calls the packaging script) gives each release its own artifact name.
pub fn artifacts(sources: &Sources, script: &str) -> Verdict {
    let steps = sources.steps();
    let uploads: Vec<&Step> = steps
        .iter()
        .filter(|s| s.calls("actions/upload-artifact"))
        .filter(|s| uploads_packages(s, &steps, script))
        .collect();
    if uploads.is_empty() {
        return Verdict::fail(
            "expected an `actions/upload-artifact` step that uploads each release's .deb; found none",
            format!(
                "No step of the workflows uploads a .deb as an artifact: {README_WORKFLOW} \
                 (\"uploads each release's package as its own artifact\")."
            ),
        );
    }
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for step in uploads {
        let name = step.with("name").map(Node::text);
        let per_release =
            name.is_some_and(|n| n.contains("${{") || !named_releases(n, false).is_empty());
        let line = format!("{}: name: {}", step.at(), name.unwrap_or("(none)"));
        if per_release {
            ok.push(line);
        } else {
            let matrix = step
                .job
                .is_some_and(|j| j.get_mapping("strategy").is_some());
            let why = if matrix {
                "is the same in every matrix job: upload-artifact@v4 rejects the second upload \
                 (\"an artifact with this name already exists\")"
            } else {
                "does not name a release: one artifact holds every package"
            };
            problems.push(format!("{line} — the name {why}"));
        }
    }
    if problems.is_empty() {
        return Verdict::pass(ok.join("\n"));
    }
    Verdict::fail(
        format!(
            "expected one artifact per Debian release, named after it; found:\n{}",
            problems.join("\n")
        ),
        format!(
            "The uploads listed above do not give each release's package an artifact of its own \
             (their names do not vary with the release): {README_WORKFLOW}."
        ),
    )
}

/// Whether an upload step uploads packages: its path names a `.deb`, or it sits in the job
/// (or the action) that calls the packaging script.
fn uploads_packages(upload: &Step, steps: &[Step], script: &str) -> bool {
    let path_is_deb = upload
        .with("path")
        .is_some_and(|p| p.text().contains(".deb"));
    let same_place = |s: &&Step| match (s.job, upload.job) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        (None, None) => std::ptr::eq(s.source, upload.source),
        _ => false,
    };
    path_is_deb
        || steps
            .iter()
            .filter(same_place)
            .any(|s| s.run().is_some_and(|r| r.text().contains(script)))
}

/// The workflow calls the packaging script named in the manifest, once for every release,
/// instead of packaging inline or copying a step per release.
pub fn shared_logic(sources: &Sources, script: &str, script_exists: bool) -> Verdict {
    let steps = sources.steps();
    let calls: Vec<(&Step, &Node)> = steps
        .iter()
        .filter_map(|s| Some((s, s.run()?)))
        .filter(|(_, run)| run.text().contains(script))
        .collect();
    let inline: Vec<String> = steps
        .iter()
        .filter(|s| s.source.kind == Kind::Workflow)
        .filter_map(|s| Some((s, s.run()?)))
        .filter_map(|(s, run)| {
            let offset = inline_packaging(run.text())?;
            Some(format!(
                "{}: packages inline",
                s.source.yaml.at_offset(run, offset)
            ))
        })
        .collect();
    let literal_calls: Vec<&(&Step, &Node)> = calls
        .iter()
        .filter(|(_, run)| !named_releases(run.text(), false).is_empty())
        .collect();
    let literal: Vec<String> = literal_calls
        .iter()
        .map(|(s, run)| s.source.yaml.at(run))
        .collect();
    // Separate jobs, one per release, each calling the script once, share the script as a matrix
    // does; copies of the call inside one job run every release in every run of that job.
    let copied_in_one_job = literal_calls.iter().any(|(step, _)| {
        literal_calls
            .iter()
            .filter(|(other, _)| match (step.job, other.job) {
                (Some(a), Some(b)) => std::ptr::eq(a, b),
                _ => false,
            })
            .count()
            > 1
    });
    let mut problems = Vec::new();
    if !script_exists {
        problems.push(format!("{script} does not exist"));
    }
    if calls.is_empty() {
        problems.push(format!("no `run:` step calls {script}"));
    }
    problems.extend(inline);
    if literal.len() > 1 && copied_in_one_job {
        problems.push(format!(
            "{script} is called from {} steps of one job, each naming its release: {} — the same \
             step copied per release",
            literal.len(),
            literal.join(", ")
        ));
    }
    if problems.is_empty() {
        let at: Vec<String> = calls.iter().map(|(s, run)| s.source.yaml.at(run)).collect();
        let mut evidence = format!("{script} is called at {}", at.join(", "));
        if literal.len() > 1 {
            evidence.push_str(&format!(
                "\nnote: one job per release, each naming its release ({} jobs): the script is \
                 shared, the jobs are written out",
                literal.len()
            ));
        }
        return Verdict::pass(evidence);
    }
    Verdict::fail(
        format!(
            "expected the workflow to package through {script}, one step serving every release; \
             found:\n{}",
            problems.join("\n")
        ),
        format!(
            "The places listed above package without {script}, or once per release in copies: \
             README.md, \"II. Operating system\", \"Your tasks\", steps 1 and 2 (\"calls your \
             script once per release\")."
        ),
    )
}

/// Offset of a `dpkg-deb --build` / `-b` or `dpkg-buildpackage` call in a script, if any.
fn inline_packaging(script: &str) -> Option<usize> {
    let mut offset = 0;
    for line in script.split_inclusive('\n') {
        let words: Vec<&str> = line.split_whitespace().collect();
        let builds = words.windows(2).any(|w| {
            w[0].ends_with("dpkg-deb") && matches!(w[1], "--build" | "-b" | "--root-owner-group")
        }) || words.iter().any(|w| w.ends_with("dpkg-buildpackage"));
        if builds {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// `evidence`, then what zizmor reported for the same concern.
fn with_zizmor(evidence: String, zizmor: &[String]) -> String {
    if zizmor.is_empty() {
        return evidence;
    }
    format!(
        "{evidence}\nzizmor --offline reports:\n{}",
        zizmor.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::super::workflow::Source;
    use super::*;

    fn sources(text: &str) -> Sources {
        let Ok(yaml) = super::super::workflow::parse(".github/workflows/deb.yml", text) else {
            panic!("test YAML parses");
        };
        Sources {
            files: vec![Source {
                kind: Kind::Workflow,
                yaml,
            }],
        }
    }

    const SCRIPT: &str = "packaging/build-deb.sh";

    const GOOD: &str = "\
on: push
permissions:
  contents: read
jobs:
  package:
    runs-on: ubuntu-24.04
    container: debian:${{ matrix.codename }}
    strategy:
      matrix:
        codename: [trixie, bookworm, bullseye]
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - env:
          CODENAME: ${{ matrix.codename }}
        run: |
          mkdir dist
          packaging/build-deb.sh \"$CODENAME\" 0.17.1 bin/postgres_exporter dist
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: deb-${{ matrix.codename }}
          path: dist/*.deb
";

    fn status(v: &Verdict) -> &'static str {
        match v {
            Verdict::Pass { .. } => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Skipped { .. } => "skipped",
        }
    }

    fn evidence(v: &Verdict) -> &str {
        match v {
            Verdict::Pass { evidence } | Verdict::Fail { evidence, .. } => evidence,
            Verdict::Skipped { reason } => reason,
        }
    }

    /// The packaging as a composite action called once per release from separate jobs' steps.
    #[test]
    fn a_composite_action_serves_every_release() {
        let caller = "\
on: push
permissions: {}
jobs:
  package:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        debian: [trixie, bookworm, bullseye]
    steps:
      - uses: ./.github/actions/deb
        with:
          codename: ${{ matrix.debian }}
";
        let action = "\
name: deb
description: Builds and uploads the package for one release
inputs:
  codename:
    description: Debian codename
runs:
  using: composite
  steps:
    - shell: bash
      env:
        CODENAME: ${{ inputs.codename }}
      run: packaging/build-deb.sh \"$CODENAME\" 0.17.1 bin/postgres_exporter dist
    - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
      with:
        name: deb-${{ inputs.codename }}
        path: dist
";
        let parse = |path: &str, text: &str| match super::super::workflow::parse(path, text) {
            Ok(yaml) => yaml,
            Err(_) => panic!("{path} parses"),
        };
        let s = Sources {
            files: vec![
                Source {
                    kind: Kind::Workflow,
                    yaml: parse(".github/workflows/deb.yml", caller),
                },
                Source {
                    kind: Kind::Action,
                    yaml: parse(".github/actions/deb/action.yml", action),
                },
            ],
        };
        assert_eq!(super::super::workflow::validate(&s), Vec::<String>::new());
        for v in [
            releases(&s),
            permissions(&s, &[]),
            artifacts(&s, SCRIPT),
            shared_logic(&s, SCRIPT, true),
        ] {
            assert_eq!(status(&v), "pass", "{v:?}");
        }
        let v = shared_logic(&s, SCRIPT, true);
        assert!(
            evidence(&v).contains(".github/actions/deb/action.yml:12"),
            "{v:?}"
        );
    }

    #[test]
    fn the_good_workflow_passes_every_practice() {
        let s = sources(GOOD);
        for v in [
            releases(&s),
            pinned_actions(&s, &[]),
            permissions(&s, &[]),
            injection(&s, &[]),
            artifacts(&s, SCRIPT),
            shared_logic(&s, "packaging/build-deb.sh", true),
        ] {
            assert_eq!(status(&v), "pass", "{v:?}");
        }
        let v = releases(&s);
        assert!(
            evidence(&v).contains("bullseye (11): .github/workflows/deb.yml:10"),
            "{v:?}"
        );
        assert!(evidence(&v).contains("2026-08-31"), "{v:?}");
    }

    /// `pull_request_target` runs with the repository's secrets: checking out the pull request's
    /// head there runs untrusted code with them, found without zizmor.
    #[test]
    fn a_pull_request_target_checkout_of_the_head_fails_without_zizmor() {
        let checkout =
            "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n";
        let head = format!(
            "{checkout}        with:\n          ref: ${{{{ github.event.pull_request.head.sha }}}}\n"
        );
        let pwn = GOOD
            .replace(
                "on: push\n",
                "on:\n  pull_request_target:\n    types: [opened]\n",
            )
            .replace(checkout, &head);
        let v = injection(&sources(&pwn), &[]);
        assert_eq!(status(&v), "fail", "{v:?}");
        assert!(evidence(&v).contains("deb.yml:16"), "{v:?}");
        assert!(evidence(&v).contains("on `pull_request_target`"), "{v:?}");
        let Verdict::Fail { hint, .. } = &v else {
            unreachable!()
        };
        assert!(
            !hint.contains("persist-credentials") && !hint.contains("ref:"),
            "{hint}"
        );
        // The same checkout on an ordinary pull_request has no secrets to steal; the base
        // repository's own code under pull_request_target is safe too.
        let plain = GOOD.replace(checkout, &head);
        assert_eq!(status(&injection(&sources(&plain), &[])), "pass");
        let base_only = GOOD.replace("on: push\n", "on: [pull_request_target]\n");
        assert_eq!(status(&injection(&sources(&base_only), &[])), "pass");
        let scripted = GOOD
            .replace("on: push\n", "on: pull_request_target\n")
            .replace(
                "mkdir dist\n",
                "mkdir dist\n          gh pr checkout \"$PR\"\n",
            );
        assert_eq!(status(&injection(&sources(&scripted), &[])), "fail");
    }

    #[test]
    fn a_missing_or_excluded_release_fails() {
        let v = releases(&sources(&GOOD.replace(", bullseye]", "]")));
        assert_eq!(status(&v), "fail");
        assert!(evidence(&v).contains("missing: bullseye (11)"), "{v:?}");
        let excluded = GOOD.replace(
            "bullseye]\n",
            "bullseye]\n        exclude:\n          - codename: bullseye\n",
        );
        assert_eq!(status(&releases(&sources(&excluded))), "fail");
        let numbers = GOOD.replace(
            "codename: [trixie, bookworm, bullseye]",
            "version: [13, 12, 11]",
        );
        assert_eq!(status(&releases(&sources(&numbers))), "pass");
    }

    #[test]
    fn tags_and_short_shas_are_not_pins() {
        let v = pinned_actions(
            &sources(&GOOD.replace("@11bd71901bbe5b1630ceea73d27597364c9af683", "@v4")),
            &[],
        );
        assert_eq!(status(&v), "fail");
        assert!(
            evidence(&v).contains("deb.yml:12: actions/checkout@v4"),
            "{v:?}"
        );
        assert!(!is_pinned("actions/checkout@11bd719"));
        assert!(!is_pinned("docker://debian:bookworm"));
        assert!(is_pinned(&format!(
            "docker://debian@sha256:{}",
            "a".repeat(64)
        )));
    }

    #[test]
    fn broad_or_missing_permissions_fail() {
        let write_all = GOOD.replace("permissions:\n  contents: read", "permissions: write-all");
        let v = permissions(&sources(&write_all), &["zizmor says so".to_owned()]);
        assert_eq!(status(&v), "fail");
        assert!(
            evidence(&v).contains("deb.yml:2: top-level permissions grant `write-all`"),
            "{v:?}"
        );
        assert!(evidence(&v).contains("zizmor says so"), "{v:?}");
        let missing = GOOD.replace("permissions:\n  contents: read\n", "");
        assert_eq!(status(&permissions(&sources(&missing), &[])), "fail");
        let top_write = GOOD.replace("contents: read", "contents: write");
        assert_eq!(status(&permissions(&sources(&top_write), &[])), "fail");
        let job_write = GOOD.replace(
            "    runs-on: ubuntu-24.04\n",
            "    runs-on: ubuntu-24.04\n    permissions:\n      contents: write\n",
        );
        assert_eq!(status(&permissions(&sources(&job_write), &[])), "pass");
    }

    #[test]
    fn event_data_in_run_is_an_injection() {
        let text = GOOD.replace(
            "mkdir dist",
            "echo \"${{ github.event.head_commit.message }}\"",
        );
        let v = injection(&sources(&text), &[]);
        assert_eq!(status(&v), "fail");
        assert!(
            evidence(&v).contains("deb.yml:16: ${{ github.event.head_commit.message }}"),
            "{v:?}"
        );
    }

    #[test]
    fn one_artifact_name_for_every_release_fails() {
        let v = artifacts(
            &sources(&GOOD.replace("deb-${{ matrix.codename }}", "debs")),
            SCRIPT,
        );
        assert_eq!(status(&v), "fail");
        assert!(evidence(&v).contains("already exists"), "{v:?}");
        let none = GOOD
            .split("      - uses: actions/upload-artifact")
            .next()
            .unwrap_or_default();
        assert_eq!(status(&artifacts(&sources(none), SCRIPT)), "fail");
        let upstream_only = GOOD
            .replace("path: dist/*.deb", "path: bin/postgres_exporter")
            .replace("packaging/build-deb.sh", "make");
        assert_eq!(status(&artifacts(&sources(&upstream_only), SCRIPT)), "fail");
    }

    #[test]
    fn copied_or_inline_packaging_fails() {
        let s = sources(GOOD);
        let v = shared_logic(&s, "packaging/build-deb.sh", false);
        assert!(evidence(&v).contains("does not exist"), "{v:?}");
        let copied = GOOD.replace(
            "      - env:\n          CODENAME: ${{ matrix.codename }}\n        run: |\n          mkdir dist\n          packaging/build-deb.sh \"$CODENAME\" 0.17.1 bin/postgres_exporter dist\n",
            "      - run: packaging/build-deb.sh trixie 0.17.1 b dist\n      - run: packaging/build-deb.sh bookworm 0.17.1 b dist\n",
        );
        let v = shared_logic(&sources(&copied), "packaging/build-deb.sh", true);
        assert!(evidence(&v).contains("copied per release"), "{v:?}");
        // One job per release, each with its own container and one call, shares the script too.
        let job = |c: &str| {
            format!(
                "  package-{c}:\n    runs-on: ubuntu-24.04\n    container: debian:{c}\n    steps:\n      \
                 - run: packaging/build-deb.sh {c} 0.17.1 b dist\n"
            )
        };
        let separate = format!(
            "on: push\npermissions:\n  contents: read\njobs:\n{}{}{}",
            job("trixie"),
            job("bookworm"),
            job("bullseye")
        );
        let v = shared_logic(&sources(&separate), "packaging/build-deb.sh", true);
        assert_eq!(status(&v), "pass", "{v:?}");
        assert!(evidence(&v).contains("one job per release"), "{v:?}");
        let inline = GOOD.replace("mkdir dist", "dpkg-deb --build root dist");
        let v = shared_logic(&sources(&inline), "packaging/build-deb.sh", true);
        assert!(
            evidence(&v).contains("deb.yml:16: packages inline"),
            "{v:?}"
        );
    }
}
