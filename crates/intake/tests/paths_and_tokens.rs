//! From issue 13's probe: tokens never reach the access log however the path spells them; a site
//! path no file can have is 404, not 500; made-up tokens are rate limited by client.

use std::path::Path;

use sre_e2e::intake::{Backend, Http, Intake, invite};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// A site folder with only an index.html.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>SRE Challenge</title>",
    )
    .expect("writing the site");
    dir
}

#[test]
fn tokens_never_reach_the_access_log() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let (_, token) = invite(bin, &backend, "Ada");
    let site = site();
    let site_arg = site.path().display().to_string();
    let server = Intake::start_with_access_log(bin, &backend, &["--site", &site_arg])
        .expect("sre-intake starts");
    let http = Http::new();
    let spelled_as_token = token.replace('A', "%41");
    let paths = [
        format!("/invite/{token}"),
        format!("/INVITE/{token}"),
        format!("/invite%2f{token}"),
        format!("/invite%2F{token}"),
        format!("/%69nvite/{token}"),
        format!("/review/{token}"),
        format!("/Review/{token}/topic/iac"),
        format!("/somewhere/{token}"),
        format!("/invite/{spelled_as_token}"),
        format!("/api/v1/nothing/{token}"),
    ];
    for path in &paths {
        let reply = http
            .send("GET", &server.url(path), &[], b"")
            .expect("the server answers");
        assert!(reply.status < 500, "{path}: {}", reply.status);
    }
    // The access log is written after each response: wait until every request is in it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.log().matches("access").count() < paths.len()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = server.log();
    assert!(
        log.matches("access").count() >= paths.len(),
        "every request is logged:\n{log}"
    );
    // No run of 12 characters of the token, in any case or spelling.
    let lower = log.to_lowercase();
    for start in 0..token.len() - 12 {
        let piece = token[start..start + 12].to_lowercase();
        assert!(
            !lower.contains(&piece),
            "a piece of the token in the log:\n{log}"
        );
    }
}

#[test]
fn a_site_path_no_file_can_have_is_404() {
    let site = site();
    let backend = Backend::sqlite();
    let site_arg = site.path().display().to_string();
    let server =
        Intake::start(Path::new(BIN), &backend, &["--site", &site_arg]).expect("sre-intake starts");
    let http = Http::new();
    for path in [
        format!("/{}", "a".repeat(256)),
        format!("/topic/{}", "b".repeat(300)),
        format!("/{}", "%41".repeat(256)),
        format!("/{}", "c/".repeat(2100)),
    ] {
        let reply = http
            .send("GET", &server.url(&path), &[], b"")
            .expect("the server answers");
        assert_eq!(reply.status, 404, "{} bytes: {}", path.len(), reply.body);
        assert_eq!(reply.json()["error"], "not_found", "{}", reply.body);
    }
    // A 255-byte name is still a deep link to the site.
    let longest = http
        .send(
            "GET",
            &server.url(&format!("/{}", "d".repeat(255))),
            &[],
            b"",
        )
        .expect("the server answers");
    assert_eq!(longest.status, 200, "{}", longest.body);
    assert!(!server.log().contains("ERROR"), "{}", server.log());
}

#[test]
fn made_up_tokens_are_rate_limited_by_client() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let (_, ada) = invite(bin, &backend, "Ada");
    let server = Intake::start(bin, &backend, &["--rate-limit", "1", "--rate-burst", "5"])
        .expect("sre-intake starts");
    let http = Http::new();
    let statuses: Vec<u16> = (0..30)
        .map(|i| {
            let forged = format!("{:A>43}", i);
            http.get(&server.url("/api/v1/me"), &forged).status
        })
        .collect();
    assert_eq!(statuses[0], 401, "{statuses:?}");
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        limited >= 20,
        "made-up tokens were not limited: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // A real token has its own bucket.
    let me = http.get(&server.url("/api/v1/me"), &ada);
    assert_eq!(me.status, 200, "{}", me.body);
}
