//! SIGTERM during a write load: the real binary, four keep-alive writers recording every
//! write the server acknowledged, then `kill -TERM`. The process must exit 0, stop
//! accepting connections, and every acknowledged write must be in the database. And the
//! in-process `ServerHandle::shutdown` closes its listener.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hangar::bench::load::{Client, Request};
use serde_json::json;

use common::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_hangar");
const WRITERS: usize = 4;

fn hangar(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run hangar {args:?}: {e}"))
}

/// Starts `hangar serve` on a free port; returns the child and the address it printed.
fn serve(db: &Path) -> (Child, SocketAddr, Arc<Mutex<String>>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--workers", "4", "--db"])
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangar serve");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    // Keep draining stderr so the server never blocks on a full pipe.
    let rest = Arc::new(Mutex::new(line));
    let sink = Arc::clone(&rest);
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        sink.lock().unwrap().push_str(&text);
    });
    (child, addr, rest)
}

/// Creates workspaces until the server stops answering; returns the ids it acknowledged.
fn write_until_refused(
    addr: SocketAddr,
    token: &str,
    writer: usize,
    acked: &Mutex<Vec<String>>,
    signalled: &AtomicBool,
) {
    let mut client = None;
    for i in 0.. {
        if client.is_none() {
            match Client::connect(addr) {
                Ok(c) => client = Some(c),
                Err(_) if signalled.load(Ordering::SeqCst) => return,
                Err(e) => panic!("writer {writer} could not connect before SIGTERM: {e}"),
            }
        }
        let rq = Request::json(
            "POST",
            "/api/workspaces",
            &json!({"name": format!("w{writer}-{i}")}),
        )
        .bearer(token);
        let sent = client.as_mut().map(|c| c.send(&rq));
        match sent {
            Some(Ok(r)) if r.status == 201 => {
                let id = r.json().expect("json")["id"]
                    .as_str()
                    .expect("id")
                    .to_string();
                acked.lock().unwrap().push(id);
            }
            Some(Ok(r)) => {
                assert!(
                    signalled.load(Ordering::SeqCst),
                    "writer {writer} got {} before SIGTERM: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                client = None;
            }
            _ => {
                assert!(
                    signalled.load(Ordering::SeqCst),
                    "writer {writer} lost its connection before SIGTERM"
                );
                client = None;
            }
        }
    }
}

fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hangar serve did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_during_writes_exits_zero_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("hangar.db");
    let init = hangar(&["init", "--db", db.to_str().expect("utf-8 path")]);
    assert!(init.status.success(), "init: {init:?}");
    let token = String::from_utf8_lossy(&init.stdout)
        .lines()
        .last()
        .expect("token line")
        .to_string();

    let (mut child, addr, stderr) = serve(&db);
    let acked = Mutex::new(Vec::new());
    let signalled = AtomicBool::new(false);
    let status = std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (acked, signalled, token) = (&acked, &signalled, token.as_str());
            scope.spawn(move || write_until_refused(addr, token, writer, acked, signalled));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < 200 {
            assert!(Instant::now() < deadline, "writers made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        signalled.store(true, Ordering::SeqCst);
        let kill = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        wait_for_exit(&mut child, Duration::from_secs(10))
    });
    let log = stderr.lock().unwrap().clone();
    assert!(status.success(), "exit status {status:?}; stderr:\n{log}");
    assert!(log.contains("shutting down"), "stderr:\n{log}");
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "still accepting connections after exit"
    );

    let acked = acked.into_inner().unwrap();
    let conn = rusqlite::Connection::open(&db).expect("reopen");
    let mut stmt = conn
        .prepare("SELECT count(*) FROM workspace WHERE id = ?1")
        .expect("prepare");
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| stmt.query_row([id], |r| r.get::<_, i64>(0)).expect("count") != 1)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged workspaces are missing: {missing:?}",
        missing.len(),
        acked.len()
    );
    let check = hangar(&["check", "--db", db.to_str().expect("utf-8 path")]);
    assert!(check.status.success(), "check after shutdown: {check:?}");
}

#[test]
fn shutdown_closes_the_listener() {
    let mut s = TestServer::start();
    let addr = s.handle().addr();
    let mut client = Client::connect(addr).expect("connect");
    let r = client.send(&Request::get("/healthz")).expect("healthz");
    assert_eq!(r.status, 200);
    s.stop();
    // The accept thread notices the stop on its next wake-up; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(2);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after shutdown");
        std::thread::sleep(Duration::from_millis(10));
    }
}
