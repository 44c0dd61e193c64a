//! The container deployment: the sre-intake image (deploy/Dockerfile, built by
//! scripts/intake-image) and PostgreSQL from Debian's packages, started with deploy/compose.yml;
//! the test waits for /readyz, round-trips an answer, and stops the stack gracefully.
//!
//! Needs the Docker engine and the Compose v2 plugin (scripts/setup installs both). The compose
//! project is named per run and removed with its volumes at the end, whatever happens; the images
//! (`sre-intake:e2e`, `sre-intake-postgres:15`) stay, so the next run reuses their layers.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;
use sre_e2e::intake::{Http, built_binary, free_port};
use sre_e2e::repo_root;

const IMAGE: &str = "sre-intake:e2e";
const PASSWORD: &str = "e2eS3cretPassw0rd";

/// A compose project, taken down with its volumes when dropped.
struct Stack {
    project: String,
    port: u16,
}

impl Stack {
    fn compose(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(["compose", "-p", &self.project, "-f"])
            .arg(repo_root().join("deploy/compose.yml"))
            .args(args)
            .env("INTAKE_DB_PASSWORD", PASSWORD)
            .env("INTAKE_PORT", self.port.to_string())
            .env("INTAKE_IMAGE", IMAGE)
            .env(
                "INTAKE_PUBLIC_URL",
                format!("http://127.0.0.1:{}", self.port),
            )
            .output()
            .expect("docker compose runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        if !out.status.success() {
            // The services' own logs say why a container never became healthy.
            let logs = self.compose(&["logs", "--no-color", "--tail", "40"]);
            panic!(
                "docker compose {args:?} failed:\n{}\n{}\nlast lines of the services' logs:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let out = self.compose(&["down", "-v", "--timeout", "20"]);
        if !out.status.success() {
            eprintln!(
                "docker compose down failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The site to put in the image: the built one when there is one, else a one-page stand-in (the
/// test is about the deployment, not the site).
fn site() -> (std::path::PathBuf, Option<tempfile::TempDir>) {
    let dist = repo_root().join("dist");
    if dist.join("index.html").is_file() {
        return (dist, None);
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        tmp.path().join("index.html"),
        "<!doctype html><title>SRE Challenge</title>",
    )
    .expect("writing a stand-in site");
    (tmp.path().to_path_buf(), Some(tmp))
}

#[test]
fn compose_runs_sre_intake_with_postgres() {
    let started = Instant::now();
    let (site, _keep) = site();
    let image = Command::new(repo_root().join("scripts/intake-image"))
        .arg("--binary")
        .arg(built_binary("sre-intake"))
        .arg("--site")
        .arg(&site)
        .args(["--tag", IMAGE])
        .output()
        .expect("scripts/intake-image runs");
    assert!(
        image.status.success(),
        "building the image failed:\n{}",
        String::from_utf8_lossy(&image.stderr)
    );

    let stack = Stack {
        project: format!("sre-intake-e2e-{}", std::process::id()),
        port: free_port(),
    };
    stack.ok(&["up", "-d", "--build", "--wait", "--wait-timeout", "600"]);
    eprintln!("stack up after {:.0} s", started.elapsed().as_secs_f64());

    let http = Http::new();
    let base = format!("http://127.0.0.1:{}", stack.port);
    let ready = wait_ready(&http, &format!("{base}/readyz"));
    assert!(
        ready,
        "/readyz never answered 200:\n{}",
        stack.ok(&["logs", "--no-color"])
    );

    // Tokens are made inside the container, against the same PostgreSQL.
    let reviewer = stack.ok(&[
        "exec",
        "-T",
        "intake",
        "sre-intake",
        "reviewer",
        "create",
        "--name",
        "Grace",
    ]);
    let link = stack.ok(&[
        "exec",
        "-T",
        "intake",
        "sre-intake",
        "invite",
        "create",
        "--name",
        "Ada",
    ]);
    assert!(link.starts_with(&base), "{link}");
    let token = link.rsplit('/').next().expect("a link has a token");

    let url = format!("{base}/api/v1/answers/feedback");
    let put = http.json(
        "PUT",
        &url,
        token,
        &[("if-none-match", "*")],
        &json!({ "text": "Deployed and answered." }),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let get = http.get(&url, token);
    assert_eq!(get.json()["text"], "Deployed and answered.");
    let list = http
        .get(&format!("{base}/api/v1/candidates"), &reviewer)
        .json();
    assert_eq!(list["candidates"][0]["answers"]["written"], 1);
    let site_page = http
        .send(
            "GET",
            &format!("{base}/invite/{token}"),
            &[("accept-encoding", "br")],
            b"",
        )
        .expect("the site answers");
    assert_eq!(site_page.status, 200);
    assert_eq!(
        site_page.header("content-encoding"),
        Some("br"),
        "the image carries precompressed assets"
    );

    // Runs as the unprivileged user, stops gracefully on SIGTERM (docker stop).
    let user = stack.ok(&["exec", "-T", "intake", "id", "-un"]);
    assert_eq!(user, "sre-intake");
    stack.ok(&["stop", "--timeout", "30", "intake"]);
    let logs = stack.ok(&["logs", "--no-color", "intake"]);
    assert!(
        logs.contains("shutting down") && logs.contains("\"stopped\""),
        "{logs}"
    );
    eprintln!(
        "deployment test took {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

fn wait_ready(http: &Http, url: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http
            .send("GET", url, &[], b"")
            .is_ok_and(|r| r.status == 200)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}
