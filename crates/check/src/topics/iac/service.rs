//! The service the playbook sets up really works in the built image: nginx accepts its
//! configuration, serves the status page on its port, and the page has the owner and mode the
//! README asks for.

use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::docker::{Docker, RunSpec};
use crate::runner::Verdict;

/// Where the README says the page is served.
pub const URL: &str = "http://127.0.0.1:8080/";
/// The page the playbook publishes.
pub const PAGE: &str = "/srv/status/index.html";
/// Owner, group and mode the README asks for.
pub const OWNER: &str = "status";
/// See [`OWNER`].
pub const MODE: &str = "0644";

/// Starting nginx and fetching one page takes a second or two.
const TIMEOUT: Duration = Duration::from_secs(2 * 60);

/// Runs as root in a throwaway container of the built image (Python is there: Ansible needs it).
/// Prints one JSON object with what it saw.
const PROBE: &str = r#"
import grp, json, os, pwd, stat, subprocess, sys, time, urllib.error, urllib.request
url, page = sys.argv[1], sys.argv[2]
out = {}
def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return {"rc": p.returncode, "output": (p.stderr + p.stdout).strip()}
    except (OSError, subprocess.SubprocessError) as e:
        return {"rc": 127, "output": str(e)}
out["test"] = run(["nginx", "-t"])
if out["test"]["rc"] == 0:
    out["start"] = run(["nginx"])
if out.get("start", {}).get("rc") == 0:
    deadline = time.time() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                out["get"] = {"status": r.status, "body": r.read().decode("utf-8", "replace")}
            break
        except urllib.error.HTTPError as e:
            out["get"] = {"status": e.code, "body": e.read().decode("utf-8", "replace")}
            break
        except OSError as e:
            if time.time() > deadline:
                out["get"] = {"error": str(e)}
                break
            time.sleep(0.1)
try:
    st = os.stat(page)
    def name(lookup, id):
        try:
            return lookup(id)[0]
        except KeyError:
            return str(id)
    with open(page, encoding="utf-8", errors="replace") as f:
        content = f.read()
    out["page"] = {"owner": name(pwd.getpwuid, st.st_uid), "group": name(grp.getgrgid, st.st_gid),
                   "mode": "%04o" % stat.S_IMODE(st.st_mode), "content": content}
except OSError as e:
    out["page"] = {"error": str(e)}
print(json.dumps(out))
"#;

/// What the probe saw.
#[derive(Debug, Deserialize)]
struct Probe {
    test: Step,
    #[serde(default)]
    start: Option<Step>,
    #[serde(default)]
    get: Option<Fetch>,
    page: PageInfo,
}

#[derive(Debug, Deserialize)]
struct Step {
    rc: i32,
    output: String,
}

#[derive(Debug, Deserialize)]
struct Fetch {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PageInfo {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    error: Option<String>,
}

/// Checks the service in `image`.
pub fn check(docker: &Docker, image: &str) -> anyhow::Result<Verdict> {
    let spec = RunSpec::new(image)
        .user("root")
        .entrypoint("python3")
        .args(["-c", PROBE, URL, PAGE]);
    let out = docker.run(&spec, TIMEOUT)?;
    if !out.success() {
        if out.stderr.contains("python3") && out.stderr.contains("not found") {
            return Ok(Verdict::fail(
                format!(
                    "expected python3 in the built image; found none:\n{}",
                    out.combined()
                ),
                "The built image has no python3, which the starter Dockerfile's Ansible layer \
                 installs: infrastructure/README.md, \"Your tasks\", step 2 says what the Dockerfile keeps.",
            ));
        }
        anyhow::bail!("the service probe did not run:\n{}", out.combined());
    }
    let probe: Probe = serde_json::from_str(out.stdout.trim())
        .with_context(|| format!("reading the service probe's answer:\n{}", out.combined()))?;
    Ok(judge(&probe))
}

fn judge(probe: &Probe) -> Verdict {
    if probe.test.rc != 0 {
        return Verdict::fail(
            format!(
                "expected: `nginx -t` accepts the configuration in the built image\nfound:\n{}",
                probe.test.output
            ),
            "`nginx -t` rejects the configuration in the built image; its message above names \
             the file and line: infrastructure/README.md, \"Your tasks\", step 2.",
        );
    }
    if let Some(start) = probe.start.as_ref().filter(|s| s.rc != 0) {
        return Verdict::fail(
            format!("expected: nginx starts\nfound:\n{}", start.output),
            "nginx accepts its configuration but does not start in the built image (its message \
             is above): infrastructure/README.md, \"Your tasks\", step 2.",
        );
    }
    let Some(get) = &probe.get else {
        return Verdict::fail(
            "expected: nginx starts; it did not answer".to_owned(),
            "nginx started in the built image but nothing answered on port 8080: infrastructure/README.md, \"Your tasks\", step 2.",
        );
    };
    let page = &probe.page;
    let served = match (get.status, &get.error) {
        (Some(200), _) if page.error.is_none() && get.body == page.content => None,
        (Some(200), _) => Some(format!(
            "GET {URL} answered 200 but not with {PAGE}:\n{}",
            excerpt(&get.body)
        )),
        (Some(status), _) => Some(format!(
            "GET {URL} answered {status}:\n{}",
            excerpt(&get.body)
        )),
        (None, error) => Some(format!(
            "GET {URL} failed: {}",
            error.as_deref().unwrap_or("no answer")
        )),
    };
    if let Some(found) = served {
        return Verdict::fail(
            format!("expected: nginx serves the status page {PAGE} at {URL}\nfound: {found}"),
            format!(
                "{found}: the built image does not serve {PAGE} on port 8080 (infrastructure/README.md, \"Your tasks\", step 2)."
            ),
        );
    }
    let expected = format!("{OWNER}:{OWNER} {MODE}");
    let found = format!("{}:{} {}", page.owner, page.group, page.mode);
    if found != expected {
        return Verdict::fail(
            format!("expected: {PAGE} owned by {OWNER}:{OWNER} with mode {MODE}\nfound: {found}"),
            format!(
                "{PAGE} is {found} in the built image, not {expected}: infrastructure/README.md, \"Your tasks\", step 2."
            ),
        );
    }
    Verdict::pass(format!(
        "nginx -t: {}\nGET {URL}: 200, the content of {PAGE} ({} bytes)\n{PAGE}: {found}",
        probe.test.output.lines().last().unwrap_or_default(),
        page.content.len()
    ))
}

fn excerpt(body: &str) -> String {
    body.lines().take(12).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_served_page_with_the_right_owner_passes() {
        let v = judge(&probe(
            r#"{"test": {"rc": 0, "output": "nginx: configuration file /etc/nginx/nginx.conf test is successful"},
                "start": {"rc": 0, "output": ""}, "get": {"status": 200, "body": "<p>ok</p>"},
                "page": {"owner": "status", "group": "status", "mode": "0644", "content": "<p>ok</p>"}}"#,
        ));
        assert!(
            matches!(v, Verdict::Pass { ref evidence } if evidence.contains("test is successful")),
            "{v:?}"
        );
    }

    /// Asserts that the probe's answer `json` fails with `needle` in the evidence.
    fn fails_with(json: &str, needle: &str) {
        let v = judge(&probe(json));
        assert!(
            matches!(v, Verdict::Fail { ref evidence, .. } if evidence.contains(needle)),
            "{v:?}"
        );
    }

    #[test]
    fn the_default_page_or_a_wrong_owner_fails() {
        fails_with(
            r#"{"test": {"rc": 0, "output": "ok"}, "start": {"rc": 0, "output": ""},
                "get": {"status": 200, "body": "Welcome to nginx!"},
                "page": {"owner": "status", "group": "status", "mode": "0644", "content": "<p>ok</p>"}}"#,
            "Welcome to nginx!",
        );
        fails_with(
            r#"{"test": {"rc": 0, "output": "ok"}, "start": {"rc": 0, "output": ""},
                "get": {"status": 200, "body": "x"},
                "page": {"owner": "root", "group": "root", "mode": "0644", "content": "x"}}"#,
            "found: root:root 0644",
        );
    }

    #[test]
    fn a_broken_configuration_fails_with_nginx_message() {
        fails_with(
            r#"{"test": {"rc": 1, "output": "nginx: [emerg] unknown directive \"lisen\" in /etc/nginx/sites-enabled/status:2"},
                "page": {"error": "No such file"}}"#,
            "sites-enabled/status:2",
        );
    }
}
