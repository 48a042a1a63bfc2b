//! Slow and idle clients, within what tiny_http allows (DESIGN.md "HTTP edges"): idle
//! connections, headers sent a byte a second and bodies declared but never sent cost
//! tiny_http threads, never API workers, so normal requests stay fast while they are open;
//! a body over 1 MiB is refused with 413 from its headers alone; and a request declaring an
//! absurd length cannot bring the server down.
mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::raw::{self, read_response, RawResp};
use common::TestServer;

const WORKERS: usize = 4;
const IDLE: usize = 200;
const SLOW_HEADERS: usize = 8;
/// More than the workers: were they held by these, nothing else would be answered.
const UNSENT_BODIES: usize = 3 * WORKERS;
/// A normal request must be answered within this while all of the above are open. Generous
/// for a loaded debug build; a request stuck behind blocked workers never answers at all.
const FAST: Duration = Duration::from_secs(2);

#[test]
fn idle_connections_slow_headers_and_unsent_bodies_do_not_take_api_workers() {
    let s = TestServer::start_with(|c| c.workers = WORKERS);
    let addr = s.handle().addr();
    let auth = format!("Bearer {}", s.owner_token);

    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let slow: Vec<_> = (0..SLOW_HEADERS)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || one_byte_a_second(addr, &stop))
        })
        .collect();
    // Bodies declared and never sent, on routes that answer before reading them: a wrong
    // token, a GET, a length over the cap. Each waits for its answer, connection held open.
    let unsent: Vec<(TcpStream, RawResp)> = (0..UNSENT_BODIES)
        .map(|i| {
            let head = match i % 3 {
                0 => "GET /api/me HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".to_string(),
                1 => "GET /healthz HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".to_string(),
                _ => format!(
                    "POST /api/workspaces HTTP/1.1\r\nAuthorization: {auth}\r\n\
                     Content-Length: 2000000\r\n\r\n"
                ),
            };
            let (stream, resp) = headers_only(addr, &head);
            let expected = [401, 200, 413][i % 3];
            assert_eq!(resp.status, expected, "{head}: {}", resp.text());
            (stream, resp)
        })
        .collect();

    let mut slowest = Duration::ZERO;
    for i in 0..60 {
        let started = Instant::now();
        let path = ["/api/me", "/healthz", "/api/workspaces"][i % 3];
        let bytes = raw::request("GET", path.as_bytes(), &[("Authorization", &auth)], b"");
        let r = raw::once(addr, &bytes)
            .expect("answer")
            .expect("not closed");
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        slowest = slowest.max(started.elapsed());
    }
    eprintln!(
        "{IDLE} idle, {SLOW_HEADERS} slow-header and {UNSENT_BODIES} unsent-body connections \
         open on {WORKERS} workers: slowest of 60 normal requests {slowest:?}"
    );
    assert!(slowest < FAST, "a normal request took {slowest:?}");

    stop.store(true, Ordering::SeqCst);
    for t in slow {
        t.join().expect("slow client");
    }
    drop((idle, unsent));
    s.get("/healthz", "").expect(200);
}

#[test]
fn a_body_over_the_cap_is_refused_from_its_headers_without_being_sent() {
    let s = TestServer::start();
    let addr = s.handle().addr();
    let auth = format!("Bearer {}", s.owner_token);
    for (method, path) in [
        ("POST", "/api/workspaces".to_string()),
        ("PATCH", "/api/me".to_string()),
        ("POST", format!("/api/workspaces/{}/members", s.ws)),
        ("POST", "/api/tokens".to_string()),
    ] {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            1024 * 1024 + 1
        );
        // The connection stays open and the body never comes: the answer must not wait for it.
        let (_open, r) = headers_only(addr, &head);
        assert_eq!(r.status, 413, "{method} {path}: {}", r.text());
        assert_eq!(r.json().unwrap()["code"], "payload_too_large");
    }
    // The same with `Expect: 100-continue`: refused without inviting the body.
    let head = format!(
        "POST /api/workspaces HTTP/1.1\r\nAuthorization: {auth}\r\nExpect: 100-continue\r\n\
         Content-Length: 5000000\r\n\r\n"
    );
    let (_open, r) = headers_only(addr, &head);
    assert_eq!(r.status, 413);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM workspace"),
        1,
        "nothing written"
    );
}

/// tiny_http 0.12 drained an unread body into one buffer of the declared size, so a single
/// unauthenticated request declaring a petabyte aborted the process (see
/// vendor/tiny_http/PATCHED.md).
#[test]
fn an_absurd_declared_length_does_not_bring_the_server_down() {
    let s = TestServer::start();
    let addr = s.handle().addr();
    for length in [
        "1000000000000000",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999",
    ] {
        for line in ["GET /healthz", "POST /api/workspaces", "GET /index.html"] {
            let head = format!("{line} HTTP/1.1\r\nContent-Length: {length}\r\n\r\n");
            // Sent, then the client leaves: whatever answer, the body is dropped unread.
            let _ = raw::once(addr, head.as_bytes());
            let r = raw::once(addr, b"GET /healthz HTTP/1.1\r\n\r\n")
                .expect("the server still answers")
                .expect("not closed");
            assert_eq!(r.status, 200, "after {line} with Content-Length {length}");
        }
    }
}

/// Sends `head` (ending the headers, no body) and reads the answer; the connection is
/// returned open.
fn headers_only(addr: SocketAddr, head: &str) -> (TcpStream, RawResp) {
    let mut conn = raw::connect(addr).expect("connect");
    conn.get_mut().write_all(head.as_bytes()).expect("send");
    let resp = read_response(&mut conn, false)
        .expect("an answer without sending the body")
        .expect("not closed");
    (conn.into_inner(), resp)
}

/// A request whose headers never end: one byte a second until told to stop.
fn one_byte_a_second(addr: SocketAddr, stop: &AtomicBool) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /api/me HTTP/1.1\r\nX-Slow: ")
        .expect("send");
    while !stop.load(Ordering::SeqCst) {
        if stream.write_all(b"a").is_err() {
            return;
        }
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
