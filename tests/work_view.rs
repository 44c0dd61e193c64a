//! The reviewer's Work page (`/review/<id>/work`) and the candidate's list of files sent, in
//! headless Chromium against a real `sre-intake` serving the built site (dist/) on SQLite.
//! Submissions are real archives (`sre_work::pack`) of working copies made with `sre-check init`
//! and the reference solutions (tests/fixtures/*/solution), sent through the API.
//!
//! - the Work page lists exactly the new and changed files; a changed file's diff rows are the
//!   diff computed here with `similar` (3 lines of context), the whole file is the file; a new
//!   file is its lines; a download gives the file's bytes; older submissions are reachable;
//! - a check's evidence naming `path:line` links to that line, highlighted and in view;
//! - file names and contents from an XSS corpus run nothing and add no element;
//! - the candidate's results page lists the files sent.
//!
//! Needs `trunk build --release` (dist/) and `cargo build -p sre-intake -p sre-check`. The
//! benchmark of the diff's render is `cargo nextest run -p sre-e2e --test work_view --run-ignored
//! only bench` (or `scripts/bench-work`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::{Value, json};
use sre_e2e::browser::with_browser;
use sre_e2e::checker::{fixtures_root, init_work, overlay};
use sre_e2e::intake::{Backend, Http, Intake, built_binary, cli, invite, reviewer, sample_report};
use sre_e2e::site::{built_dist, manifest};
use sre_e2e::{page, wait};
use sre_model::Status;
use sre_model::report::{ChallengeRef, Report};
use sre_model::submission::{
    FileKind, ListedFile, Listing, SUBMISSION_SCHEMA, is_excluded_by_default,
};

/// A file of the work: its path, bytes and kind.
#[derive(Debug, Clone)]
struct WorkFile {
    path: String,
    bytes: Vec<u8>,
    kind: FileKind,
}

/// A working copy made from the starter kit and some reference solutions, and the starter kit.
struct WorkingCopy {
    _tmp: (tempfile::TempDir, tempfile::TempDir),
    starter: std::path::PathBuf,
    work: std::path::PathBuf,
}

impl WorkingCopy {
    /// `sre-check init`, then the solutions of `topics` copied on top.
    fn with_solutions(topics: &[&str]) -> Result<WorkingCopy> {
        let (starter_tmp, starter) = init_work()?;
        let (work_tmp, work) = init_work()?;
        for topic in topics {
            overlay(&fixtures_root().join(topic).join("solution"), &work)?;
        }
        Ok(WorkingCopy {
            _tmp: (starter_tmp, work_tmp),
            starter,
            work,
        })
    }

    /// The starter file at `path`, if the starter kit has one.
    fn starter(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.starter.join(path)).ok()
    }

    /// The files that are new or differ from the starter kit, sorted by path (as the listing).
    fn work(&self) -> Result<Vec<WorkFile>> {
        let mut files = Vec::new();
        walk(&self.work, "", &mut |path, bytes| {
            if is_excluded_by_default(path) {
                return;
            }
            let kind = match self.starter(path) {
                Some(starter) if starter == bytes => return,
                Some(_) => FileKind::Changed,
                None => FileKind::New,
            };
            files.push(WorkFile {
                path: path.to_owned(),
                bytes,
                kind,
            });
        })?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

fn walk(dir: &Path, prefix: &str, found: &mut dyn FnMut(&str, Vec<u8>)) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry
            .file_name()
            .into_string()
            .ok()
            .context("UTF-8 names")?;
        let path = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), &format!("{path}/"), found)?;
        } else {
            found(&path, std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

/// A report made for this challenge whose checks' evidence is `evidence`.
fn report(evidence: &str) -> Result<Report> {
    let mut report = sample_report(evidence);
    report.challenge = ChallengeRef {
        version: manifest()?.challenge.version,
        digest: sre_check::content::get().digest.clone(),
    };
    Ok(report)
}

/// The archive of `files` with `report`, as `sre-check upload` sends it.
fn archive(files: &[WorkFile], report: &Report) -> Result<Vec<u8>> {
    let report_bytes = serde_json::to_vec(report)?;
    let listing = Listing {
        schema: SUBMISSION_SCHEMA.to_owned(),
        challenge: report.challenge.clone(),
        report_digest: report.digest(),
        files: files
            .iter()
            .map(|f| ListedFile {
                path: f.path.clone(),
                size: f.bytes.len() as u64,
                sha256: sre_work::sha256_hex(&f.bytes),
                kind: f.kind,
            })
            .collect(),
    };
    let pairs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (f.path.clone(), f.bytes.clone()))
        .collect();
    Ok(sre_work::pack(&listing, &report_bytes, &pairs)?)
}

/// A server with a reviewer and a candidate.
struct Scene {
    server: Intake,
    http: Http,
    reviewer: String,
    candidate: String,
    candidate_id: String,
    backend: Backend,
}

const CANDIDATE: &str = "Ada Candidate";

fn scene() -> Result<Scene> {
    let bin = built_binary("sre-intake");
    let backend = Backend::sqlite();
    let reviewer = reviewer(&bin, &backend, "Grace Reviewer");
    let (_, candidate) = invite(&bin, &backend, CANDIDATE);
    let dist = built_dist()?;
    let dist = dist.to_str().context("dist/ path is UTF-8")?;
    let server = Intake::start(&bin, &backend, &["--site", dist])?;
    let http = Http::new();
    let list = http
        .get(&server.url("/api/v1/candidates"), &reviewer)
        .json();
    let candidate_id = list["candidates"][0]["candidate"]["id"]
        .as_str()
        .context("the candidate's id")?
        .to_owned();
    Ok(Scene {
        server,
        http,
        reviewer,
        candidate,
        candidate_id,
        backend,
    })
}

impl Scene {
    /// Sends a submission as the candidate; its digest.
    fn submit(&self, files: &[WorkFile], report: &Report) -> Result<String> {
        let archive = archive(files, report)?;
        let reply = self.http.send(
            "POST",
            &self.server.url("/api/v1/submissions"),
            &[
                ("authorization", &format!("Bearer {}", self.candidate)),
                ("content-type", "application/gzip"),
            ],
            &archive,
        )?;
        ensure!(
            reply.status == 201,
            "POST /submissions: {} {}",
            reply.status,
            reply.body
        );
        Ok(reply.json()["digest"]
            .as_str()
            .context("the submission's digest")?
            .to_owned())
    }

    /// Posts `body` to a worker route with a worker's token; the reply's JSON.
    fn as_worker(&self, token: &str, path: &str, body: &Value) -> Result<Value> {
        let reply = self.http.send(
            "POST",
            &self.server.url(&format!("/api/v1{path}")),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )?;
        ensure!(
            reply.status == 200,
            "POST {path}: {} {}",
            reply.status,
            reply.body
        );
        Ok(reply.json())
    }

    fn work_url(&self) -> String {
        self.server
            .url(&format!("/review/{}/work", self.candidate_id))
    }
}

async fn js(client: &Client, script: &str, args: Vec<Value>) -> Result<Value> {
    Ok(client.execute(script, args).await?)
}

async fn log_in(client: &Client, scene: &Scene) -> Result<()> {
    client
        .goto(&format!("{}/review", scene.server.base))
        .await?;
    let input = wait::element(client, "#reviewer-token").await?;
    input.send_keys(&scene.reviewer).await?;
    page::click(client, "form.login button[type=submit]").await?;
    wait::element(client, "tr.candidate").await?;
    Ok(())
}

/// The files the tree lists: path → kind.
async fn tree(client: &Client) -> Result<BTreeMap<String, String>> {
    wait::element(client, ".file-tree li.file").await?;
    let listed = js(
        client,
        "return [...document.querySelectorAll('.file-tree li.file')].map(li => [li.dataset.path, li.dataset.kind])",
        vec![],
    )
    .await?;
    let pairs: Vec<(String, String)> = serde_json::from_value(listed)?;
    Ok(pairs.into_iter().collect())
}

fn expected_tree(files: &[WorkFile]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|f| (f.path.clone(), f.kind.as_str().to_owned()))
        .collect()
}

/// Opens a file from the tree and waits for its viewer.
async fn open_file(client: &Client, path: &str) -> Result<()> {
    let clicked = js(
        client,
        "const li = [...document.querySelectorAll('.file-tree li.file')].find(li => li.dataset.path === arguments[0]);\
         if (!li) return false; li.querySelector('a').scrollIntoView({block: 'center'}); li.querySelector('a').click(); return true",
        vec![json!(path)],
    )
    .await?;
    ensure!(clicked == json!(true), "the tree has no {path:?}");
    page::until(
        client,
        &format!("the viewer shows {path}"),
        &format!(
            "const v = document.getElementById('file-view'); return !!v && v.dataset.path === {} && v.hasAttribute('data-render-ms')",
            json!(path)
        ),
    )
    .await
}

/// A line row of the viewer: op, old number, new number, text.
type LineRow = (String, Option<u64>, Option<u64>, String);

/// The viewer's rows: lines, and how many hunk headers and folds.
async fn viewer_rows(client: &Client) -> Result<(Vec<LineRow>, usize, usize)> {
    let rows = js(
        client,
        "const rows = [...document.querySelectorAll('#file-view tbody tr')];\
         const n = v => v === '' || v === undefined ? null : Number(v);\
         return [rows.filter(r => r.classList.contains('line')).map(r => [r.dataset.op, n(r.dataset.old), n(r.dataset.new), r.querySelector('.code-line').textContent]),\
                 rows.filter(r => r.classList.contains('hunk-header')).length,\
                 rows.filter(r => r.classList.contains('fold')).length]",
        vec![],
    )
    .await?;
    Ok(serde_json::from_value(rows)?)
}

/// The unified diff of `starter` → `submitted` with 3 lines of context, as line rows, and its
/// number of hunks.
fn expected_diff(starter: &str, submitted: &str) -> (Vec<LineRow>, usize) {
    let diff = similar::TextDiff::from_lines(starter, submitted);
    let groups = diff.grouped_ops(3);
    let mut rows = Vec::new();
    for group in &groups {
        for op in group {
            for change in diff.iter_changes(op) {
                let op = match change.tag() {
                    similar::ChangeTag::Equal => "context",
                    similar::ChangeTag::Insert => "add",
                    similar::ChangeTag::Delete => "remove",
                };
                let text = change.value();
                let text = text.strip_suffix('\n').unwrap_or(text);
                rows.push((
                    op.to_owned(),
                    change.old_index().map(|i| i as u64 + 1),
                    change.new_index().map(|i| i as u64 + 1),
                    text.strip_suffix('\r').unwrap_or(text).to_owned(),
                ));
            }
        }
    }
    (rows, groups.len())
}

fn lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

const EVIDENCE: &str = "infrastructure/playbook.yml:17: the failure message names Debian 12\n\
    the inventory is infrastructure/infra.txt.";

#[tokio::test(flavor = "multi_thread")]
async fn the_work_page_shows_the_submitted_files_their_diffs_and_older_submissions() -> Result<()> {
    let scene = scene()?;
    let older_copy = WorkingCopy::with_solutions(&["leadership"])?;
    let older = older_copy.work()?;
    scene.submit(&older, &report("an older run")?)?;
    let copy = WorkingCopy::with_solutions(&["iac", "leadership", "monitoring", "os", "postgres"])?;
    let latest = copy.work()?;
    ensure!(
        latest.iter().any(|f| f.kind == FileKind::New)
            && latest.iter().any(|f| f.kind == FileKind::Changed),
        "the solutions add and change files: {:?}",
        latest.iter().map(|f| (&f.path, f.kind)).collect::<Vec<_>>()
    );
    scene.submit(&latest, &report(EVIDENCE)?)?;

    with_browser(|client| async move {
        log_in(&client, &scene).await?;
        client
            .goto(&scene.server.url(&format!("/review/{}", scene.candidate_id)))
            .await?;
        let summary = page::text_contains(&client, ".work-summary", "Read the work").await?;
        ensure!(summary.contains("2 submissions"), "summary {summary:?}");

        // Evidence naming a line of a submitted file links to it; the line is highlighted, in view.
        let link = wait::element(&client, "a.evidence-link").await?;
        ensure!(
            link.text().await? == "infrastructure/playbook.yml:17",
            "the first evidence link: {:?}",
            link.text().await?
        );
        let others = page::all_texts(&client, "a.evidence-link").await?;
        ensure!(
            others.contains(&"infrastructure/infra.txt".to_owned()),
            "a path without a line is a link too: {others:?}"
        );
        page::click(&client, "a.evidence-link").await?;
        page::until(
            &client,
            "line 17 highlighted",
            "const r = document.querySelector('#file-view tr.target'); return !!r && r.dataset.new === '17'",
        )
        .await?;
        let seen = js(
            &client,
            "const v = document.getElementById('file-view'); const r = v.querySelector('tr.target').getBoundingClientRect();\
             return [v.dataset.path, r.top >= 0 && r.bottom <= window.innerHeight, document.querySelector('#file-view tr.target .code-line').textContent]",
            vec![],
        )
        .await?;
        let playbook = String::from_utf8(
            std::fs::read(copy.work.join("infrastructure/playbook.yml"))?,
        )?;
        ensure!(
            seen == json!(["infrastructure/playbook.yml", true, lines(&playbook)[16]]),
            "the link shows line 17 of the playbook in view: {seen}"
        );

        // The tree: exactly the new and changed files.
        ensure!(
            tree(&client).await? == expected_tree(&latest),
            "the tree of the latest submission"
        );

        // The largest changed file: its diff as computed here, then whole.
        let changed = latest
            .iter()
            .filter(|f| f.kind == FileKind::Changed)
            .max_by_key(|f| f.bytes.len())
            .context("a changed file")?;
        open_file(&client, &changed.path).await?;
        let starter = String::from_utf8(copy.starter(&changed.path).context("its starter")?)?;
        let submitted = String::from_utf8(changed.bytes.clone())?;
        let (rows, headers, _) = viewer_rows(&client).await?;
        let (expected, hunks) = expected_diff(&starter, &submitted);
        ensure!(
            rows == expected && headers == hunks,
            "the diff of {}: the page shows {} rows in {headers} hunks, expected {} in {hunks}\n\
             page: {rows:?}\nexpected: {expected:?}",
            changed.path,
            rows.len(),
            expected.len()
        );
        page::click(&client, "button.toggle-whole").await?;
        page::until(
            &client,
            "the whole file",
            "return document.querySelectorAll('#file-view tr.fold, #file-view tr.hunk-header').length === 0",
        )
        .await?;
        let (rows, _, _) = viewer_rows(&client).await?;
        let new_side: Vec<String> = rows
            .iter()
            .filter(|r| r.2.is_some())
            .map(|r| r.3.clone())
            .collect();
        let old_side: Vec<String> = rows
            .iter()
            .filter(|r| r.1.is_some())
            .map(|r| r.3.clone())
            .collect();
        ensure!(new_side == lines(&submitted), "the whole file is the file");
        ensure!(old_side == lines(&starter), "the whole file's old side is the starter");

        // A new file: its lines, numbered.
        let new = latest
            .iter()
            .find(|f| f.kind == FileKind::New)
            .context("a new file")?;
        open_file(&client, &new.path).await?;
        let (rows, headers, folds) = viewer_rows(&client).await?;
        let text = String::from_utf8(new.bytes.clone())?;
        let shown: Vec<String> = rows.iter().map(|r| r.3.clone()).collect();
        let numbers: Vec<Option<u64>> = rows.iter().map(|r| r.2).collect();
        let expected_numbers: Vec<Option<u64>> = (1..=shown.len() as u64).map(Some).collect();
        ensure!(
            shown == lines(&text) && numbers == expected_numbers && headers + folds == 0,
            "the new file {} as numbered text",
            new.path
        );

        // Its download is its bytes.
        page::catch_downloads(&client).await?;
        page::click(&client, "button.download-file").await?;
        let (name, bytes) = page::caught_download(&client).await?;
        ensure!(
            bytes == new.bytes && new.path.ends_with(&name),
            "downloaded {name} ({} bytes)",
            bytes.len()
        );

        // The older submission, from the list (latest first).
        let entries = page::all_texts(&client, ".submission-list li").await?;
        ensure!(
            entries.len() == 2 && entries[0].contains("(latest)"),
            "submissions {entries:?}"
        );
        page::click(&client, ".submission-list li:nth-child(2) a").await?;
        page::until(
            &client,
            "the older submission's tree",
            &format!(
                "return document.querySelectorAll('.file-tree li.file').length === {}",
                older.len()
            ),
        )
        .await?;
        ensure!(
            tree(&client).await? == expected_tree(&older),
            "the tree of the older submission"
        );
        Ok(())
    })
    .await
}

/// File names that try to become markup (the path rules allow all of them: no `\`, NUL or
/// control character, no `..`).
const HOSTILE_NAMES: [&str; 5] = [
    "<img src=x onerror=\"window.__xss='name img'\">.txt",
    "<script>window.__xss='name script'</script>.md",
    "javascript:window.__xss='name link'",
    "</textarea><svg onload=\"window.__xss='name svg'\">.yml",
    "\" onmouseover=\"window.__xss='name attribute'\" x=\".txt",
];

/// File content that tries to become markup.
const HOSTILE_TEXT: &str = "<script>window.__xss = 'content script'</script>\n\
    <img src=x onerror=\"window.__xss = 'content img'\">\n\
    </textarea></pre></table><svg onload=\"window.__xss = 'content svg'\"></svg>\n\
    <iframe src=\"javascript:window.__xss = 'content iframe'\"></iframe>\n\
    ]]><!-- --><a href=\"javascript:window.__xss = 'content link'\">x</a>\n";

#[tokio::test(flavor = "multi_thread")]
async fn hostile_file_names_and_contents_run_no_script() -> Result<()> {
    let scene = scene()?;
    let copy = WorkingCopy::with_solutions(&[])?;
    for name in HOSTILE_NAMES {
        let path = copy.work.join(name);
        std::fs::create_dir_all(path.parent().context("a parent")?)?;
        std::fs::write(&path, HOSTILE_TEXT)?;
    }
    // A changed starter file with the payload in its diff.
    let feedback = copy.work.join("feedback.txt");
    let mut text = std::fs::read_to_string(&feedback)?;
    text.push_str(HOSTILE_TEXT);
    std::fs::write(&feedback, text)?;
    let files = copy.work()?;
    ensure!(
        files.len() == HOSTILE_NAMES.len() + 1,
        "{} files",
        files.len()
    );
    let evidence: String = HOSTILE_NAMES
        .iter()
        .map(|n| format!("{n}:2: <b>look</b> <script>window.__xss='evidence'</script>\n"))
        .collect();
    scene.submit(&files, &report(&evidence)?)?;

    with_browser(|client| async move {
        log_in(&client, &scene).await?;
        client
            .goto(&scene.server.url(&format!("/review/{}", scene.candidate_id)))
            .await?;
        page::text_contains(&client, ".work-summary", "Read the work").await?;
        let links = page::all_texts(&client, "a.evidence-link").await?;
        ensure!(
            HOSTILE_NAMES
                .iter()
                .all(|n| links.contains(&format!("{n}:2"))),
            "every hostile name in the evidence is a link, as text: {links:?}"
        );
        assert_inert(&client).await?;

        client.goto(&scene.work_url()).await?;
        ensure!(
            tree(&client).await? == expected_tree(&files),
            "the tree lists the hostile names as they are"
        );
        for file in &files {
            open_file(&client, &file.path).await?;
            let (rows, _, _) = viewer_rows(&client).await?;
            ensure!(
                rows.iter()
                    .any(|r| r.3 == "<script>window.__xss = 'content script'</script>"),
                "{} shows the payload as text",
                file.path
            );
            let heading = wait::element(&client, "#file-view .file-path")
                .await?
                .text()
                .await?;
            ensure!(heading == file.path, "the heading is the name: {heading:?}");
            assert_inert(&client).await?;
        }
        // An evidence link with a hostile name lands on its line.
        client
            .goto(&scene.server.url(&format!("/review/{}", scene.candidate_id)))
            .await?;
        wait::element(&client, "a.evidence-link").await?;
        page::click(&client, "a.evidence-link").await?;
        page::until(
            &client,
            "line 2 highlighted",
            "const r = document.querySelector('#file-view tr.target'); return !!r && r.dataset.new === '2'",
        )
        .await?;
        assert_inert(&client).await?;
        Ok(())
    })
    .await
}

/// No payload ran, and no element or attribute of one is in the page.
async fn assert_inert(client: &Client) -> Result<()> {
    // Hovering and clicking what a payload could have made interactive.
    js(
        client,
        "document.querySelectorAll('main a').forEach(a => { if (!a.href.startsWith(location.origin)) a.click(); });\
         document.querySelectorAll('main *').forEach(e => e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})));\
         return true",
        vec![],
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let ran = js(
        client,
        "return window.__xss === undefined ? null : String(window.__xss)",
        vec![],
    )
    .await?;
    ensure!(ran.is_null(), "a payload ran: {ran}");
    let markup = js(
        client,
        "return [...document.querySelectorAll('main script, main img, main svg, main iframe, \
         main [onerror], main [onload], main [onmouseover], main a[href^=\"javascript:\" i]')].map(e => e.outerHTML)",
        vec![],
    )
    .await?;
    ensure!(markup == json!([]), "payload markup in the page: {markup}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_results_page_lists_the_files_sent() -> Result<()> {
    let scene = scene()?;
    let first = WorkingCopy::with_solutions(&["leadership"])?.work()?;
    scene.submit(&first, &report("first")?)?;
    let latest = WorkingCopy::with_solutions(&["iac", "postgres"])?.work()?;
    scene.submit(&latest, &report("second")?)?;
    with_browser(|client| async move {
        client
            .goto(&scene.server.url(&format!("/?invite={}", scene.candidate)))
            .await?;
        wait::element(&client, ".topic-list").await?;
        page::click(&client, ".site-nav a[href='results']").await?;
        let heading = page::text_contains(&client, ".files-sent", "Your latest upload").await?;
        ensure!(
            heading.contains(&format!("sent {} files", latest.len())),
            "files sent: {heading:?}"
        );
        let sent = js(
            &client,
            "return [...document.querySelectorAll('.sent-files li')].map(li => [li.dataset.path, li.dataset.kind])",
            vec![],
        )
        .await?;
        let sent: Vec<(String, String)> = serde_json::from_value(sent)?;
        let expected: Vec<(String, String)> = expected_tree(&latest).into_iter().collect();
        ensure!(sent == expected, "files sent {sent:?}, expected {expected:?}");
        Ok(())
    })
    .await
}

/// The status of check `id` of topic iac in `report` becomes `status`.
fn set_iac_check(report: &mut Report, id: &str, status: Status, evidence: &str) {
    for topic in report.topics.iter_mut().filter(|t| t.id.as_str() == "iac") {
        for check in topic.checks.iter_mut().filter(|c| c.id == id) {
            check.status = status;
            check.evidence = evidence.to_owned();
        }
        topic.status = Status::of_checks(&topic.checks);
    }
}

/// A forged report (the failing build edited to "pass") that a verification worker re-runs and
/// finds failing: the list shows the disagreement, the candidate's page flags it at the top and
/// shows the check as reported and as verified, with the worker's evidence.
#[tokio::test(flavor = "multi_thread")]
async fn a_verification_that_disagrees_with_the_report_is_flagged() -> Result<()> {
    let scene = scene()?;
    let files = WorkingCopy::with_solutions(&["leadership"])?.work()?;
    let mut forged = report("forged")?;
    set_iac_check(&mut forged, "build", Status::Pass, "forged");
    scene.submit(&files, &forged)?;

    // A worker, as sre-verify does it: claim, then finish with the report of its own run.
    let bin = built_binary("sre-intake");
    let worker = cli(
        &bin,
        &scene.backend,
        &["worker", "create", "--name", "box-1"],
    )?;
    let job = scene.as_worker(&worker, "/worker/claim", &json!({}))?;
    let lease = job["lease"].as_str().context("a lease")?.to_owned();
    let mut verified = forged.clone();
    let evidence = "TASK [Install nginx]\nfatal: [localhost]: FAILED! Permission denied";
    set_iac_check(&mut verified, "build", Status::Fail, evidence);
    scene.as_worker(
        &worker,
        &format!("/worker/jobs/{lease}/finish"),
        &json!({ "runtime": "runsc", "sandboxed": true, "report": verified }),
    )?;

    with_browser(|client| {
        let scene = &scene;
        async move {
            log_in(&client, scene).await?;
            page::text_contains(&client, "tr.candidate td.verification", "disagreement (1 check)")
                .await?;
            page::click(&client, "tr.candidate th a").await?;
            let flag = page::text_contains(
                &client,
                ".verification-disagreement",
                "1 check reported as passing did not pass",
            )
            .await?;
            ensure!(flag.contains("re-ran"), "the flag: {flag:?}");
            page::text_contains(&client, ".verification-summary", "runsc (sandboxed)").await?;
            let row = "#topic-iac tr.verified-check.disagreement[data-check='build']";
            let reported = page::text_contains(&client, &format!("{row} td.reported"), "pass").await?;
            let found = page::text_contains(&client, &format!("{row} td.verified"), "fail").await?;
            ensure!(
                !reported.contains("fail") && !found.contains("pass"),
                "reported {reported:?}, verified {found:?}"
            );
            // The checks both agree on are not flagged.
            let agreeing = js(
                &client,
                "return document.querySelectorAll('#topic-iac tr.verified-check:not(.disagreement)').length",
                vec![],
            )
            .await?;
            ensure!(agreeing == json!(1), "agreeing rows: {agreeing}");
            let shown = js(
                &client,
                "const d = document.querySelector(\"#topic-iac tr[data-check='build'] details\"); d.open = true; return d.innerText",
                vec![],
            )
            .await?;
            ensure!(
                shown.as_str().is_some_and(|t| t.contains("Permission denied")),
                "the worker's evidence: {shown}"
            );
            Ok(())
        }
    })
    .await
}

/// Benchmark (ignored; prints): the render time of the diff of the largest changed file of the
/// reference solutions, as the viewer measures it (`data-render-ms`: from before the rows are
/// built until the browser laid them out), median of 15 loads, folded and whole.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run it with --run-ignored only"]
async fn bench_diff_render() -> Result<()> {
    let scene = scene()?;
    let topics: Vec<String> = std::fs::read_dir(fixtures_root())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("solution").is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let copy = WorkingCopy::with_solutions(&topics)?;
    let files = copy.work()?;
    let largest = files
        .iter()
        .filter(|f| f.kind == FileKind::Changed)
        .max_by_key(|f| f.bytes.len())
        .context("a changed file")?
        .clone();
    scene.submit(&files, &report("bench")?)?;
    const RUNS: usize = 15;
    let url = format!(
        "{}?file={}",
        scene.work_url(),
        url::form_urlencoded::byte_serialize(largest.path.as_bytes()).collect::<String>()
    );
    with_browser(|client| async move {
        log_in(&client, &scene).await?;
        let (mut folded, mut whole, mut rows) = (Vec::new(), Vec::new(), (0, 0));
        for _ in 0..RUNS {
            client.goto(&url).await?;
            page::until(
                &client,
                "the diff",
                "const v = document.getElementById('file-view'); return !!v && v.hasAttribute('data-render-ms')",
            )
            .await?;
            let ms = js(&client, "return Number(document.getElementById('file-view').dataset.renderMs)", vec![]).await?;
            folded.push(ms.as_f64().context("a time")?);
            rows.0 = viewer_rows(&client).await?.0.len();
            js(&client, "document.getElementById('file-view').removeAttribute('data-render-ms'); document.querySelector('button.toggle-whole').click(); return true", vec![]).await?;
            page::until(
                &client,
                "the whole file",
                "const v = document.getElementById('file-view'); return v.hasAttribute('data-render-ms')",
            )
            .await?;
            let ms = js(&client, "return Number(document.getElementById('file-view').dataset.renderMs)", vec![]).await?;
            whole.push(ms.as_f64().context("a time")?);
            rows.1 = viewer_rows(&client).await?.0.len();
        }
        println!(
            "diff render of {} ({} bytes; {} lines shown folded, {} whole): median {:.1} ms folded, {:.1} ms whole ({RUNS} loads, headless Chromium)",
            largest.path,
            largest.bytes.len(),
            rows.0,
            rows.1,
            median(&mut folded),
            median(&mut whole)
        );
        Ok(())
    })
    .await
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
