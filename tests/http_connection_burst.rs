//! Bursts of keep-alive connections are all answered. tiny_http 0.12 can strand a connection
//! that arrives in a burst while fewer pool threads are idle than connections arrive, until
//! some other connection closes (see src/http/unstick.rs); daemons and event streams keep
//! their connections open, so without the workaround such a connection could wait forever.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::TestServer;

/// Connects, sends one request and waits for the status line; returns the open connection
/// (kept alive by the caller) and how long the answer took, or `None` if none came.
fn ask(addr: &str, start: &Barrier) -> Option<(TcpStream, Duration)> {
    start.wait();
    let began = Instant::now();
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(4))).ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .ok()?;
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).ok()?;
    buf.starts_with(b"HTTP/1.1 200")
        .then(|| (s, began.elapsed()))
}

#[test]
fn every_connection_of_a_keep_alive_burst_is_answered() {
    let s = TestServer::start();
    let addr = s.base.trim_start_matches("http://").to_string();
    let (rounds, clients, released) = (6, 8, 3);
    let mut open: Vec<TcpStream> = Vec::new();
    let mut slowest = Duration::ZERO;
    for round in 0..rounds {
        // Free a few pool threads, so the burst meets some idle threads but fewer than it needs.
        for _ in 0..released.min(open.len()) {
            open.remove(0);
        }
        std::thread::sleep(Duration::from_millis(50));
        let start = Arc::new(Barrier::new(clients));
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (a, st) = (addr.clone(), Arc::clone(&start));
                std::thread::spawn(move || ask(&a, &st))
            })
            .collect();
        for h in handles {
            let (stream, took) = h
                .join()
                .expect("client thread")
                .unwrap_or_else(|| panic!("round {round}: a connection was never answered"));
            slowest = slowest.max(took);
            open.push(stream);
        }
    }
    println!("slowest answer over {rounds} bursts of {clients}: {slowest:?}");
    assert!(
        slowest < Duration::from_secs(2),
        "slowest answer {slowest:?}"
    );
}
