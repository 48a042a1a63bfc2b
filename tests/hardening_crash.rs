//! Crash safety: the real binary (`hangar serve`) under a writer load — tasks enqueued,
//! claimed, started, completed and failed, usage reported (cumulative snapshots that replace
//! each other), runtimes retired by cascade — is killed with SIGKILL at random moments and
//! restarted, round after round. After every kill: each write answered 2xx is in the
//! database, nothing is half-applied (a cascade happened entirely or not at all; every task
//! has its `task:queued` event; rollups equal the ledger), and `hangar check` passes.
//!
//! More rounds: `HANGAR_CRASH_ROUNDS=500 cargo test --test hardening_crash`
//! (`HANGAR_CRASH_SEED` replays one run).
mod common;
#[path = "hardening_crash/load.rs"]
mod load;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use common::raw::Rng;
use load::{Acked, Load};

const DEFAULT_ROUNDS: u64 = 20;
const DEFAULT_SEED: u64 = 0xc4a5_4bad_f00d_0001;
const BIN: &str = env!("CARGO_BIN_EXE_hangar");

#[test]
fn acknowledged_writes_survive_sigkill_and_nothing_is_half_applied() {
    let rounds = env_number("HANGAR_CRASH_ROUNDS", DEFAULT_ROUNDS);
    let seed = env_number("HANGAR_CRASH_SEED", DEFAULT_SEED);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hangar.db");
    let init = Command::new(BIN)
        .args(["init", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let owner = String::from_utf8(init.stdout).unwrap().trim().to_string();

    let (mut server, mut addr) = Server::start(&db);
    let load = Load::setup(addr, &owner);
    let mut acked = Acked::default();
    let mut writes_before = 0;
    for round in 1..=rounds {
        let run_for = Duration::from_millis(30 + rng.below(400) as u64);
        let round_seed = rng.next_u64();
        let killer = {
            let pid = server.child.id();
            std::thread::spawn(move || {
                std::thread::sleep(run_for);
                let killed = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                assert!(killed.is_ok_and(|s| s.success()), "kill -KILL {pid}");
            })
        };
        load.run_until_the_server_dies(addr, round_seed, &mut acked);
        killer.join().unwrap();
        let status = server.child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the server should have been killed"
        );

        let killed_at = Instant::now();
        let verified = load::verify(&db, &acked)
            .unwrap_or_else(|problems| panic!("round {round} after SIGKILL:\n{problems}"));
        check_passes(&db, round);
        eprintln!(
            "round {round}: killed after {run_for:?}, {} writes acknowledged this round; \
             {verified} ({:?} to verify and check)",
            acked.writes - writes_before,
            killed_at.elapsed()
        );
        writes_before = acked.writes;
        let restarting = Instant::now();
        (server, addr) = Server::start(&db);
        eprintln!("  restarted in {:?}", restarting.elapsed());
    }
    // The last restart serves normally and stops cleanly.
    load.sanity(addr);
    server.terminate();
    check_passes(&db, rounds + 1);
    eprintln!(
        "{rounds} SIGKILLs: {} writes acknowledged ({} tasks, {} transitions, {} usage reports, \
         {} cascades), all present",
        acked.writes,
        acked.tasks.len(),
        acked.transitions,
        acked.usage_reports,
        acked.cascades.iter().filter(|c| c.acked).count()
    );
    assert!(
        acked.writes > rounds * 3,
        "the load wrote too little to prove anything"
    );
}

/// `hangar check` (the binary's subcommand) on the database.
fn check_passes(db: &Path, round: u64) {
    let out = Command::new(BIN)
        .args(["check", "--db"])
        .arg(db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "round {round}: hangar check failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("checks passed"), "{text}");
}

struct Server {
    child: Child,
}

/// Lines of any server's stderr that report a panic or an error, over all rounds.
static TROUBLE: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl Server {
    /// `hangar serve` on a free port, once it says where it listens.
    fn start(db: &Path) -> (Server, SocketAddr) {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--workers", "4", "--db"])
            .arg(db)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("hangar listening on http://") {
                    sent = tx.send(Ok(a.to_string())).is_ok();
                } else if !sent && line.starts_with("hangar:") {
                    sent = tx.send(Err(line)).is_ok();
                } else if line.contains("panicked") || line.contains("ERROR") {
                    TROUBLE.lock().unwrap().push(line);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(a)) => (Server { child }, a.parse().unwrap()),
            other => {
                let _ = child.kill();
                panic!("serve did not start: {other:?}");
            }
        }
    }

    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve after SIGTERM: {status}");
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        let v = v.trim();
        match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse(),
        }
        .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}
