//! Slow clients (issue 13.3): a connection that sends its headers slowly or sits idle is closed
//! after `--header-timeout`; at most `--max-connections` are served at once; a body that stops
//! arriving is answered 408 after `--body-timeout`, with a JSON error.
//!
//! Before, idle and slow connections stayed open for over 70 s (500 held at once), and a short
//! body was answered 503 when the 30 s request timeout ran out.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use sre_e2e::intake::{Backend, Intake, invite};

const BIN: &str = env!("CARGO_BIN_EXE_sre-intake");

/// Reads until the server closes the connection; what it sent, or `None` if it was still open
/// after `within` (generous: these tests check that connections close, not how fast).
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    stream
        .set_read_timeout(Some(within))
        .expect("a read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&got).into_owned());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
}

#[test]
fn idle_slow_and_kept_alive_connections_are_closed() {
    let backend = Backend::sqlite();
    let server = Intake::start(Path::new(BIN), &backend, &["--header-timeout", "1"])
        .expect("sre-intake starts");
    let addr = server.addr();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");

    // Many at once, as the probe did: every kind is closed, none is left open.
    let mut idle: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(addr).expect("connects"))
        .collect();
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connects");
            // Half a request head, the rest never sent.
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("writes");
            s
        })
        .collect();
    let mut kept_alive: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connects");
            s.write_all(request.as_bytes()).expect("writes");
            s
        })
        .collect();
    let within = Duration::from_secs(20);
    for s in &mut idle {
        assert!(
            read_until_closed(s, within).is_some(),
            "an idle connection stayed open"
        );
    }
    for s in &mut slow {
        assert!(
            read_until_closed(s, within).is_some(),
            "a slow connection stayed open"
        );
    }
    for s in &mut kept_alive {
        let reply = read_until_closed(s, within).expect("a kept-alive connection is closed");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
    // The server still serves.
    let mut s = TcpStream::connect(addr).expect("connects");
    s.write_all(request.as_bytes()).expect("writes");
    let mut head = [0u8; 12];
    s.read_exact(&mut head).expect("a reply");
    assert_eq!(&head, b"HTTP/1.1 200");
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let backend = Backend::sqlite();
    let server = Intake::start(
        Path::new(BIN),
        &backend,
        &["--max-connections", "4", "--header-timeout", "120"],
    )
    .expect("sre-intake starts");
    let addr = server.addr();
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(addr).expect("connects"))
        .collect();
    // Give the server a moment to accept the four.
    std::thread::sleep(Duration::from_millis(500));
    let mut fifth = TcpStream::connect(addr).expect("the kernel queues it");
    fifth
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("writes");
    fifth
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("a read timeout");
    let mut buf = [0u8; 12];
    let early = fifth.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a fifth connection was served while four were held: {early:?}"
    );
    drop(held);
    let reply = read_until_closed(&mut fifth, Duration::from_secs(20))
        .expect("served once a slot was free");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[test]
fn a_body_shorter_than_declared_is_answered_408_with_json() {
    let bin = Path::new(BIN);
    let backend = Backend::sqlite();
    let (_, token) = invite(bin, &backend, "Ada");
    let server = Intake::start(bin, &backend, &["--body-timeout", "1"]).expect("sre-intake starts");
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).expect("connects");
    let body = br#"{"text": "#;
    s.write_all(
        format!(
            "PUT /api/v1/answers/feedback HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        .as_bytes(),
    )
    .expect("writes");
    s.write_all(body).expect("writes");
    let reply = read_until_closed(&mut s, Duration::from_secs(20)).expect("an answer");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let json = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(json.contains(r#""error":"body_timeout""#), "{reply}");
}
