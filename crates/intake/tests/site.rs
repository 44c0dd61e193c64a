//! Serving the built site: SPA fallback, cache headers for hashed and plain files, MIME types,
//! precompressed and on-the-fly compression, and no way out of the site folder. Also the
//! per-token rate limit and CORS, which wrap the same application.

use std::path::Path;

use sre_e2e::intake::{Backend, Http, Intake, invite, raw};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");
const WASM: &str = "sre-site-0123456789abcdef_bg.wasm";

/// A small built site: index.html, a hashed wasm with its brotli twin, a plain stylesheet.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).expect("writing the site")
    };
    write(
        "index.html",
        b"<!doctype html><title>SRE Challenge</title><body>site</body>",
    );
    write(WASM, b"\0asm\x01\0\0\0 the module");
    write(&format!("{WASM}.br"), b"pretend brotli bytes");
    write("style.css", "body { margin: 0; }\n".repeat(40).as_bytes());
    dir
}

#[test]
fn the_site_is_served_with_the_right_headers() {
    let site = site();
    let backend = Backend::sqlite();
    let site_arg = site.path().display().to_string();
    let server =
        Intake::start(Path::new(BIN), &backend, &["--site", &site_arg]).expect("sre-intake starts");
    let http = Http::new();
    let get = |path: &str, headers: &[(&str, &str)]| {
        http.send("GET", &server.url(path), headers, b"")
            .expect("the server answers")
    };

    let index = get("/", &[]);
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));

    let deep = get("/topic/iac", &[]);
    assert_eq!(deep.status, 200, "deep links get index.html");
    assert!(deep.body.contains("SRE Challenge"));
    assert_eq!(deep.header("cache-control"), Some("no-cache"));

    let wasm = get(&format!("/{WASM}"), &[]);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let brotli = get(&format!("/{WASM}"), &[("accept-encoding", "br, gzip")]);
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    assert_eq!(brotli.body, "pretend brotli bytes");
    assert_eq!(brotli.header("content-type"), Some("application/wasm"));

    let css = get("/style.css", &[("accept-encoding", "gzip")]);
    assert_eq!(
        css.header("content-encoding"),
        Some("gzip"),
        "compressed on the fly"
    );
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    assert!(css.header("content-type").unwrap().starts_with("text/css"));

    let missing_hashed = get("/sre-site-fedcba9876543210.js", &[]);
    assert_eq!(
        missing_hashed.header("cache-control"),
        Some("no-cache"),
        "a miss is never immutable"
    );

    let api_miss = get("/api/v1/nothing", &[]);
    assert_eq!(api_miss.status, 404);
    assert_eq!(api_miss.header("cache-control"), Some("no-store"));
    assert!(
        api_miss.body.contains("\"error\""),
        "API misses are JSON, not the site"
    );

    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2f..%2fetc/passwd",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, text) = raw(server.addr(), request.as_bytes()).expect("a raw reply");
        assert!(
            !text.contains("root:"),
            "{path} escaped the site folder: {status}"
        );
    }
}

#[test]
fn tokens_are_rate_limited_and_cors_allows_only_the_listed_origin() {
    let backend = Backend::sqlite();
    let (_, token) = invite(Path::new(BIN), &backend, "Ada");
    let server = Intake::start(
        Path::new(BIN),
        &backend,
        &[
            "--rate-limit",
            "1",
            "--rate-burst",
            "3",
            "--cors-origin",
            "https://challenge.example.com",
        ],
    )
    .expect("sre-intake starts");
    let http = Http::new();
    let statuses: Vec<u16> = (0..5)
        .map(|_| http.get(&server.url("/api/v1/me"), &token).status)
        .collect();
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    let limited = http.get(&server.url("/api/v1/me"), &token);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(limited.json()["error"], "rate_limited");

    let preflight = |origin: &str| {
        http.send(
            "OPTIONS",
            &server.url("/api/v1/answers/feedback"),
            &[
                ("origin", origin),
                ("access-control-request-method", "PUT"),
                (
                    "access-control-request-headers",
                    "authorization, content-type, if-match",
                ),
            ],
            b"",
        )
        .expect("the server answers")
    };
    let allowed = preflight("https://challenge.example.com");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://challenge.example.com")
    );
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_owned();
    assert!(methods.contains("PUT"), "{methods}");
    let other = preflight("https://evil.example");
    assert_eq!(other.header("access-control-allow-origin"), None);
}
