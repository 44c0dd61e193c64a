//! The candidate's GitHub Actions files: workflows in `.github/workflows/` and composite actions in
//! `.github/actions/`, loaded with line numbers, and their structure checked against the workflow
//! syntax (keys, required fields, `uses:` forms, `needs:` targets) — a stand-in for actionlint
//! that needs no download.

use std::path::Path;

use crate::workdir::WorkDir;
use crate::yaml::{self, ErrorKind, Node, Rules, Value, YamlFile};

/// Where workflows live.
pub const WORKFLOWS_DIR: &str = ".github/workflows";
/// Where local composite actions live.
pub const ACTIONS_DIR: &str = ".github/actions";

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A workflow (`.github/workflows/*.yml`).
    Workflow,
    /// A composite or other local action (`action.yml`).
    Action,
}

/// One parsed file.
pub struct Source {
    /// Workflow or action.
    pub kind: Kind,
    /// The parsed YAML.
    pub yaml: YamlFile,
}

/// Every GitHub Actions file of the working copy.
pub struct Sources {
    /// Parsed files, workflows first, each group in path order.
    pub files: Vec<Source>,
}

/// What loading found.
pub enum Loaded {
    /// Every file parsed.
    Parsed(Sources),
    /// No workflow file at all.
    NoWorkflow,
    /// Some files are not valid YAML (candidate's problem): one message each.
    Invalid(Vec<String>),
    /// Some files use YAML sre-check cannot read (sre-check's limit).
    Unsupported(Vec<String>),
}

/// Why a file could not be read as a workflow or action.
pub enum ParseFailure {
    /// The file is not valid YAML, or its top level is not a mapping: `file:line:col: message`.
    Invalid(String),
    /// Valid YAML that sre-check's reader does not support (anchors and aliases).
    Unsupported(String),
}

/// Parses `text`, read from `path`, as GitHub reads it: plain data, repeated keys an error.
pub fn parse(path: &str, text: &str) -> Result<YamlFile, ParseFailure> {
    match yaml::parse_with(text, Rules::Strict) {
        Ok(root) if root.is_null() => Ok(YamlFile {
            path: path.to_owned(),
            root: Node {
                value: Value::Map(Vec::new()),
                ..root
            },
        }),
        Ok(root) if root.as_mapping().is_some() => Ok(YamlFile {
            path: path.to_owned(),
            root,
        }),
        Ok(root) => Err(ParseFailure::Invalid(format!(
            "{path}:{}:{}: the top level must be a mapping (`on:`, `jobs:` …)",
            root.line, root.column
        ))),
        Err(e) if e.kind == ErrorKind::Unsupported => Err(ParseFailure::Unsupported(format!(
            "{path}:{}: {}",
            e.line, e.message
        ))),
        Err(e) => Err(ParseFailure::Invalid(format!(
            "{path}:{}:{}: {}",
            e.line, e.column, e.message
        ))),
    }
}

/// Every `${{ … }}` expression in `text`, with its byte offset. An unclosed one runs to the end.
pub fn expressions(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(start) = text.get(rest..).and_then(|t| t.find("${{")) {
        let open = rest + start;
        let inner_start = open + 3;
        let end = text
            .get(inner_start..)
            .and_then(|t| t.find("}}"))
            .map_or(text.len(), |e| inner_start + e);
        found.push((open, text.get(inner_start..end).unwrap_or_default().trim()));
        rest = (end + 2).min(text.len());
    }
    found
}

/// A job of a workflow.
pub struct Job<'a> {
    /// The file.
    pub source: &'a Source,
    /// The job id (key under `jobs:`).
    pub id: &'a Node,
    /// Its mapping.
    pub node: &'a Node,
}

/// A step of a workflow job or of a composite action.
pub struct Step<'a> {
    /// The file.
    pub source: &'a Source,
    /// The job it belongs to (None in an action).
    pub job: Option<&'a Node>,
    /// Its mapping.
    pub node: &'a Node,
}

/// A `uses:` reference: of a step, or of a job that calls a reusable workflow.
pub struct Uses<'a> {
    /// The file.
    pub source: &'a Source,
    /// The scalar (`actions/checkout@<ref>`).
    pub value: &'a Node,
}

impl Sources {
    /// Reads every workflow and local action of the working copy (recording their digests).
    pub fn load(workdir: &WorkDir) -> anyhow::Result<Loaded> {
        let workflows = yaml_files(workdir, WORKFLOWS_DIR, &|name| {
            name.ends_with(".yml") || name.ends_with(".yaml")
        });
        if workflows.is_empty() {
            return Ok(Loaded::NoWorkflow);
        }
        let actions = yaml_files(workdir, ACTIONS_DIR, &|name| {
            name == "action.yml" || name == "action.yaml"
        });
        let mut files = Vec::new();
        let mut invalid = Vec::new();
        let mut unsupported = Vec::new();
        let all = workflows
            .into_iter()
            .map(|p| (Kind::Workflow, p))
            .chain(actions.into_iter().map(|p| (Kind::Action, p)));
        for (kind, path) in all {
            let Some(text) = workdir.read_text(&path)? else {
                continue;
            };
            match parse(&path, &text) {
                Ok(yaml) => files.push(Source { kind, yaml }),
                Err(ParseFailure::Invalid(m)) => invalid.push(m),
                Err(ParseFailure::Unsupported(m)) => unsupported.push(m),
            }
        }
        Ok(if !invalid.is_empty() {
            Loaded::Invalid(invalid)
        } else if !unsupported.is_empty() {
            Loaded::Unsupported(unsupported)
        } else {
            Loaded::Parsed(Sources { files })
        })
    }

    /// The workflow files.
    pub fn workflows(&self) -> impl Iterator<Item = &Source> {
        self.files.iter().filter(|f| f.kind == Kind::Workflow)
    }

    /// Every job of every workflow.
    pub fn jobs(&self) -> Vec<Job<'_>> {
        self.workflows()
            .filter_map(|source| {
                let jobs = source.yaml.root.get_mapping("jobs")?;
                Some(jobs.entries().filter_map(move |(id, node)| {
                    Some(Job {
                        source,
                        id,
                        node: node.as_mapping()?,
                    })
                }))
            })
            .flatten()
            .collect()
    }

    /// Every step of every workflow job and every composite action.
    pub fn steps(&self) -> Vec<Step<'_>> {
        let mut steps = Vec::new();
        for job in self.jobs() {
            for node in mappings(job.node.get("steps")) {
                steps.push(Step {
                    source: job.source,
                    job: Some(job.node),
                    node,
                });
            }
        }
        for source in self.files.iter().filter(|f| f.kind == Kind::Action) {
            let runs = source.yaml.root.get_mapping("runs");
            for node in mappings(runs.and_then(|r| r.get("steps"))) {
                steps.push(Step {
                    source,
                    job: None,
                    node,
                });
            }
        }
        steps
    }

    /// Every `uses:` of steps and of jobs that call reusable workflows.
    pub fn uses(&self) -> Vec<Uses<'_>> {
        let jobs = self.jobs();
        let job_uses = jobs.iter().filter_map(|j| {
            Some(Uses {
                source: j.source,
                value: j.node.get_scalar("uses")?,
            })
        });
        let steps = self.steps();
        let step_uses = steps.iter().filter_map(|s| {
            Some(Uses {
                source: s.source,
                value: s.node.get_scalar("uses")?,
            })
        });
        job_uses.chain(step_uses).collect()
    }
}

impl Step<'_> {
    /// The `run:` script, if this step runs one.
    pub fn run(&self) -> Option<&Node> {
        self.node.get_scalar("run")
    }

    /// The `uses:` value, if this step calls an action.
    pub fn uses(&self) -> Option<&str> {
        self.node.get("uses").and_then(Node::as_str)
    }

    /// A `with:` input.
    pub fn with(&self, key: &str) -> Option<&Node> {
        self.node.get_mapping("with")?.get_scalar(key)
    }

    /// Whether the step calls `action` (`owner/repo`), whatever the version.
    pub fn calls(&self, action: &str) -> bool {
        self.uses().is_some_and(|u| {
            u.split_once('@')
                .is_some_and(|(name, _)| name.eq_ignore_ascii_case(action))
        })
    }

    /// `file:line` of the step.
    pub fn at(&self) -> String {
        self.source.yaml.at(self.node)
    }
}

/// The mappings of a sequence node (anything else gives none).
pub fn mappings(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    node.and_then(Node::as_seq)
        .into_iter()
        .flat_map(|s| s.iter())
        .filter_map(Node::as_mapping)
}

/// Paths (relative, '/'-separated) of files under `dir` whose name `wanted` accepts, sorted.
/// Workflows are not searched recursively (GitHub does not); actions are, a few levels deep.
fn yaml_files(workdir: &WorkDir, dir: &str, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
    let depth = if dir == WORKFLOWS_DIR { 1 } else { 4 };
    let mut found = Vec::new();
    walk(&workdir.path(dir), dir, depth, wanted, &mut found);
    found.sort();
    found
}

fn walk(
    path: &Path,
    rel: &str,
    depth: usize,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = format!("{rel}/{name}");
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth > 1 => walk(&entry.path(), &child, depth - 1, wanted, out),
            Ok(t) if t.is_file() && wanted(&name) => out.push(child),
            _ => {}
        }
    }
}

/// Structural problems of every file, `file:line: message` each.
pub fn validate(sources: &Sources) -> Vec<String> {
    let mut problems = Vec::new();
    for source in &sources.files {
        let mut check = Checker {
            file: &source.yaml,
            problems: &mut problems,
        };
        match source.kind {
            Kind::Workflow => check.workflow(),
            Kind::Action => check.action(),
        }
    }
    problems
}

const WORKFLOW_KEYS: &[&str] = &[
    "name",
    "run-name",
    "on",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];

const EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "push",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

const JOB_KEYS: &[&str] = &[
    "name",
    "permissions",
    "needs",
    "if",
    "runs-on",
    "snapshot",
    "environment",
    "concurrency",
    "outputs",
    "env",
    "defaults",
    "steps",
    "timeout-minutes",
    "strategy",
    "continue-on-error",
    "container",
    "services",
    "uses",
    "with",
    "secrets",
];

/// Keys a job that calls a reusable workflow (`uses:`) may have.
const CALLER_JOB_KEYS: &[&str] = &[
    "name",
    "permissions",
    "needs",
    "if",
    "concurrency",
    "strategy",
    "uses",
    "with",
    "secrets",
];

const STEP_KEYS: &[&str] = &[
    "id",
    "if",
    "name",
    "uses",
    "run",
    "shell",
    "with",
    "env",
    "continue-on-error",
    "timeout-minutes",
    "working-directory",
];

const STRATEGY_KEYS: &[&str] = &["matrix", "fail-fast", "max-parallel"];

const ACTION_KEYS: &[&str] = &[
    "name",
    "author",
    "description",
    "inputs",
    "outputs",
    "runs",
    "branding",
];

/// Scopes of the workflow token (`permissions:`).
pub const PERMISSION_SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
];

struct Checker<'a> {
    file: &'a YamlFile,
    problems: &'a mut Vec<String>,
}

impl Checker<'_> {
    fn problem(&mut self, node: &Node, message: impl AsRef<str>) {
        let at = self.file.at(node);
        self.problems.push(format!("{at}: {}", message.as_ref()));
    }

    fn keys(&mut self, map: &Node, allowed: &[&str], what: &str) {
        for key in map.keys() {
            if !allowed.contains(&key.text()) {
                self.problem(
                    key,
                    format!(
                        "unknown key `{}` in {what} (expected one of: {})",
                        key.text(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn workflow(&mut self) {
        let root = &self.file.root;
        self.keys(root, WORKFLOW_KEYS, "a workflow");
        match root.get("on") {
            None => self.problem(root, "no `on:`: a workflow must say which events start it"),
            Some(on) => self.triggers(on),
        }
        if let Some(p) = root.get("permissions") {
            self.permissions(p);
        }
        let Some(jobs) = root.get("jobs") else {
            self.problem(root, "no `jobs:`: a workflow needs at least one job");
            return;
        };
        let Some(jobs) = jobs.as_mapping().filter(|j| j.entries().next().is_some()) else {
            self.problem(jobs, "`jobs:` must be a mapping of job ids to jobs");
            return;
        };
        for (id, job) in jobs.entries() {
            self.job(jobs, id, job);
        }
        self.expressions_closed(root);
    }

    fn triggers(&mut self, on: &Node) {
        match &on.value {
            Value::Scalar { .. } => self.event(on),
            Value::Seq(events) => {
                for event in events {
                    match event.as_scalar() {
                        Some(e) => self.event(e),
                        None => self.problem(event, "an event name is expected here"),
                    }
                }
            }
            Value::Map(events) => {
                for (event, config) in events {
                    self.event(event);
                    if event.text() == "schedule"
                        && !mappings(Some(config)).any(|m| m.get_scalar("cron").is_some())
                    {
                        self.problem(config, "`schedule:` needs a list of `- cron: \"…\"`");
                    }
                }
            }
        }
    }

    fn event(&mut self, event: &Node) {
        if !EVENTS.contains(&event.text()) {
            self.problem(
                event,
                format!("`{}` is not a GitHub Actions event", event.text()),
            );
        }
    }

    fn permissions(&mut self, node: &Node) {
        match &node.value {
            Value::Scalar { text, .. }
                if matches!(text.as_str(), "read-all" | "write-all" | "") => {}
            Value::Map(map) => {
                for (scope, level) in map {
                    if !PERMISSION_SCOPES.contains(&scope.text()) {
                        self.problem(
                            scope,
                            format!("`{}` is not a permission scope", scope.text()),
                        );
                    }
                    if !matches!(level.as_str(), Some("read" | "write" | "none")) {
                        self.problem(level, "a permission is `read`, `write` or `none`");
                    }
                }
            }
            _ => self.problem(
                node,
                "`permissions:` is `read-all`, `write-all` or a mapping of scopes",
            ),
        }
    }

    fn job(&mut self, jobs: &Node, id: &Node, job: &Node) {
        let name = id.text();
        let valid_id = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_id {
            self.problem(
                id,
                format!("job id `{name}` must start with a letter or `_` and hold only letters, digits, `-` and `_`"),
            );
        }
        let Some(job) = job.as_mapping() else {
            self.problem(job, format!("job `{name}` must be a mapping"));
            return;
        };
        if job.get("uses").is_some() {
            self.keys(
                job,
                CALLER_JOB_KEYS,
                &format!("job `{name}` (it calls a reusable workflow)"),
            );
            if let Some(u) = job.get_scalar("uses") {
                self.uses_form(u);
            }
        } else {
            self.keys(job, JOB_KEYS, &format!("job `{name}`"));
            if job.get("runs-on").is_none() {
                self.problem(job, format!("job `{name}` has no `runs-on:`"));
            }
            self.steps(job.get("steps"), job, &format!("job `{name}`"), false);
        }
        if let Some(p) = job.get("permissions") {
            self.permissions(p);
        }
        if let Some(strategy) = job.get("strategy") {
            self.strategy(strategy);
        }
        let needs: Vec<&Node> = match job.get("needs") {
            Some(s) if s.as_scalar().is_some() => vec![s],
            Some(seq) => seq
                .as_seq()
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_scalar)
                .collect(),
            _ => Vec::new(),
        };
        for need in needs {
            if jobs.get(need.text()).is_none() {
                self.problem(
                    need,
                    format!(
                        "job `{name}` needs `{}`, which is not a job of this workflow",
                        need.text()
                    ),
                );
            }
        }
    }

    fn strategy(&mut self, node: &Node) {
        let Some(strategy) = node.as_mapping() else {
            self.problem(node, "`strategy:` must be a mapping");
            return;
        };
        self.keys(strategy, STRATEGY_KEYS, "`strategy:`");
        match strategy.get("matrix") {
            Some(matrix) if matrix.as_mapping().is_some() => {
                for (key, values) in matrix.entries() {
                    let ok = match key.text() {
                        "include" | "exclude" => values
                            .as_seq()
                            .is_some_and(|s| s.iter().all(|n| n.as_mapping().is_some())),
                        _ => {
                            values.as_seq().is_some_and(|s| !s.is_empty())
                                || values.as_str().is_some_and(|t| t.contains("${{"))
                        }
                    };
                    if !ok {
                        self.problem(
                            values,
                            format!(
                                "matrix `{}` must be a non-empty list{}",
                                key.text(),
                                if matches!(key.text(), "include" | "exclude") {
                                    " of mappings"
                                } else {
                                    ""
                                }
                            ),
                        );
                    }
                }
            }
            Some(s) if s.as_str().is_some_and(|t| t.contains("${{")) => {}
            Some(other) => self.problem(other, "`matrix:` must be a mapping"),
            None => self.problem(strategy, "`strategy:` without `matrix:`"),
        }
    }

    fn steps(&mut self, steps: Option<&Node>, owner: &Node, what: &str, composite: bool) {
        let Some(list) = steps.and_then(Node::as_seq).filter(|s| !s.is_empty()) else {
            let at = steps.unwrap_or(owner);
            self.problem(at, format!("{what} needs a non-empty list of `steps:`"));
            return;
        };
        for step in list.iter() {
            let Some(step) = step.as_mapping() else {
                self.problem(step, "a step must be a mapping (`- run: …` or `- uses: …`)");
                continue;
            };
            self.keys(step, STEP_KEYS, "a step");
            match (step.get("uses"), step.get("run")) {
                (Some(_), Some(_)) => {
                    self.problem(step, "a step has either `uses:` or `run:`, not both")
                }
                (None, None) => self.problem(step, "a step needs `uses:` or `run:`"),
                (Some(uses), None) => match uses.as_scalar() {
                    Some(u) => self.uses_form(u),
                    None => self.problem(uses, "`uses:` must be a string"),
                },
                (None, Some(run)) => {
                    if run.as_scalar().is_none() {
                        self.problem(run, "`run:` must be a string");
                    }
                    if composite && step.get("shell").is_none() {
                        self.problem(step, "a `run:` step of a composite action needs `shell:`");
                    }
                }
            }
        }
    }

    /// `owner/repo[/path]@ref`, `./local/path` or `docker://image`.
    fn uses_form(&mut self, uses: &Node) {
        let value = uses.text();
        if value.starts_with("./") || value.starts_with("docker://") {
            return;
        }
        let well_formed = value.split_once('@').is_some_and(|(name, reference)| {
            let parts: Vec<&str> = name.split('/').collect();
            parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) && !reference.is_empty()
        });
        if !well_formed {
            self.problem(
                uses,
                format!("`uses: {value}` is not `owner/repo@ref`, `./path` or `docker://image`"),
            );
        }
    }

    fn action(&mut self) {
        let root = &self.file.root;
        self.keys(root, ACTION_KEYS, "an action");
        for required in ["name", "description"] {
            if root.get(required).is_none() {
                self.problem(root, format!("an action needs `{required}:`"));
            }
        }
        let Some(runs) = root.get_mapping("runs") else {
            self.problem(
                root,
                "an action needs `runs:` (e.g. `using: composite` and `steps:`)",
            );
            return;
        };
        match runs.get_scalar("using").map(Node::text) {
            Some("composite") => self.steps(runs.get("steps"), runs, "a composite action", true),
            Some(_) => {}
            None => self.problem(runs, "`runs:` needs `using:`"),
        }
        self.expressions_closed(root);
    }

    fn expressions_closed(&mut self, root: &Node) {
        for scalar in root.values().flat_map(Node::scalars) {
            let text = scalar.text();
            for (offset, _) in expressions(text) {
                if !text.get(offset..).is_some_and(|t| t.contains("}}")) {
                    let at = self.file.at_offset(scalar, offset);
                    self.problems
                        .push(format!("{at}: `${{{{` is never closed with `}}}}`"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let Ok(yaml) = parse("w.yml", text) else {
            panic!("test YAML parses");
        };
        validate(&Sources {
            files: vec![Source {
                kind: Kind::Workflow,
                yaml,
            }],
        })
    }

    const GOOD: &str = "\
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        codename: [trixie, bookworm]
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8
      - run: echo ${{ matrix.codename }}
  publish:
    needs: build
    uses: ./.github/workflows/publish.yml
";

    #[test]
    fn parse_errors_name_file_and_line() {
        let Err(ParseFailure::Invalid(m)) = parse("w.yml", "on: push\njobs: [\n") else {
            panic!("expected invalid");
        };
        assert!(m.starts_with("w.yml:"), "{m}");
        let Err(ParseFailure::Invalid(m)) = parse("w.yml", "a: 1\na: 2\n") else {
            panic!("expected a duplicate key error");
        };
        assert!(m.starts_with("w.yml:2:1: Duplicate key"), "{m}");
        let Err(ParseFailure::Unsupported(m)) = parse("w.yml", "a: &x 1\nb: *x\n") else {
            panic!("expected anchors to be unsupported");
        };
        assert!(
            m.starts_with("w.yml:1: sre-check cannot read YAML anchors"),
            "{m}"
        );
        assert!(matches!(
            parse("w.yml", "- a\n"),
            Err(ParseFailure::Invalid(_))
        ));
        assert!(parse("w.yml", "").is_ok_and(|f| f.root.as_mapping().is_some()));
    }

    #[test]
    fn expressions_are_found_with_offsets() {
        let text = "echo ${{ matrix.codename }} ${{github.event.issue.title}} ${{ broken";
        let found = expressions(text);
        assert_eq!(
            found.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            ["matrix.codename", "github.event.issue.title", "broken"]
        );
        assert_eq!(found[0].0, 5);
    }

    #[test]
    fn a_valid_workflow_has_no_problems() {
        assert_eq!(problems(GOOD), Vec::<String>::new());
    }

    #[test]
    fn problems_name_the_line() {
        let text = GOOD
            .replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04")
            .replace("needs: build", "needs: bild")
            .replace("push:", "pushh:")
            .replace(
                "      - run: echo",
                "      - uses: x\n      - uses: y\n        run: echo",
            );
        let found = problems(&text);
        let expected = [
            "w.yml:2: `pushh` is not a GitHub Actions event",
            "w.yml:9: unknown key `runs_on`",
            "has no `runs-on:`",
            "w.yml:15: `uses: x` is not `owner/repo@ref`",
            "w.yml:16: a step has either `uses:` or `run:`, not both",
            "w.yml:19: job `publish` needs `bild`",
        ];
        for e in expected {
            assert!(found.iter().any(|p| p.contains(e)), "{e} not in {found:#?}");
        }
    }

    #[test]
    fn a_workflow_without_on_or_jobs_is_reported() {
        let found = problems("name: x\n");
        assert!(found.iter().any(|p| p.contains("no `on:`")), "{found:?}");
        assert!(found.iter().any(|p| p.contains("no `jobs:`")), "{found:?}");
    }

    #[test]
    fn unclosed_expressions_are_reported() {
        let found = problems(&GOOD.replace("${{ matrix.codename }}", "${{ matrix.codename"));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("w.yml:15: `${{` is never closed")),
            "{found:?}"
        );
    }
}
