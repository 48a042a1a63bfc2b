//! What keeps a replicated database sane on the primary: one `serve` per file (an advisory
//! lock on `<db>.lock`, with a one-line error for the second), `wal_autocheckpoint` on every
//! connection, and `init`/`demo` never recreating an existing database.
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Barrier};

use common::TestServer;
use hangar::config::Config;

fn hangar() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hangar"));
    c.env_remove("HANGAR_DB")
        .env_remove("HANGAR_READ_ONLY")
        .env_remove("HANGAR_WAL_AUTOCHECKPOINT")
        .env("RUST_LOG", "warn");
    c
}

fn run(args: &[&str]) -> Output {
    hangar().args(args).output().expect("run hangar")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts a long-running subcommand and returns once it printed a line containing `ready`
/// on the named stream, with that line.
fn spawn_until(args: &[&str], ready: &str, on_stdout: bool) -> (Child, String) {
    let mut child = hangar()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangar");
    let stream: Box<dyn std::io::Read + Send> = if on_stdout {
        Box::new(child.stdout.take().unwrap())
    } else {
        Box::new(child.stderr.take().unwrap())
    };
    for line in BufReader::new(stream).lines() {
        let line = line.expect("read output");
        if line.contains(ready) {
            return (child, line);
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    panic!("hangar {args:?} exited before {ready:?}: {}", stderr(&out));
}

fn stop(mut child: Child) {
    child.kill().expect("kill");
    child.wait().expect("wait");
}

#[test]
fn a_second_serve_on_one_file_fails_with_the_lock_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db_s = db.to_str().unwrap();
    assert!(run(&["init", "--db", db_s]).status.success());
    let (first, _) = spawn_until(
        &["serve", "--db", db_s, "--addr", "127.0.0.1:0"],
        "listening on",
        false,
    );

    let out = run(&["serve", "--db", db_s, "--addr", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        format!("hangar: another hangar is serving {db_s} (lock {db_s}.lock)")
    );
    // A read-only replica takes no lock: it may run beside the primary.
    let (replica, _) = spawn_until(
        &[
            "serve",
            "--read-only",
            "--db",
            db_s,
            "--addr",
            "127.0.0.1:0",
        ],
        "listening on",
        false,
    );
    stop(replica);

    // The lock dies with its process: the next server starts.
    stop(first);
    let (again, _) = spawn_until(
        &["serve", "--db", db_s, "--addr", "127.0.0.1:0"],
        "listening on",
        false,
    );
    stop(again);
}

fn serve(config: Config) -> Result<hangar::ServerHandle, String> {
    hangar::serve(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), config)
}

#[test]
fn the_lock_is_held_for_the_servers_lifetime_and_released_after() {
    let s = TestServer::start();
    let err = serve(Config::new(s.db_path())).err().expect("second serve");
    let lock = format!("{}.lock", s.db_path().display());
    assert!(
        err.starts_with("another hangar is serving") && err.ends_with(&format!("(lock {lock})")),
        "{err}"
    );
    let mut s = s;
    s.stop();
    let again = serve(Config::new(s.db_path())).expect("serve after the first stopped");
    again.shutdown();
    assert!(
        Path::new(&lock).exists(),
        "the lock file is kept, never deleted"
    );
}

/// Reads the pragma on `n` connections at once, so each comes from a different slot.
fn autocheckpoint_of_every_connection(s: &TestServer, n: usize) -> Vec<i64> {
    let barrier = Arc::new(Barrier::new(n));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    s.handle()
                        .ctx()
                        .db
                        .read(|c| {
                            barrier.wait();
                            hangar::db::wal_autocheckpoint(c)
                        })
                        .expect("read pragma")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn wal_autocheckpoint_is_applied_to_every_connection() {
    // workers + 8 background connections: the whole pool, all held at once.
    let pool = 4 + 8;
    let s = TestServer::start_with(|c| c.wal_autocheckpoint = 0);
    assert_eq!(autocheckpoint_of_every_connection(&s, pool), vec![0; pool]);
    let s = TestServer::start_with(|c| c.wal_autocheckpoint = 250);
    assert_eq!(
        autocheckpoint_of_every_connection(&s, pool),
        vec![250; pool]
    );
    let s = TestServer::start();
    assert_eq!(
        autocheckpoint_of_every_connection(&s, pool),
        vec![i64::from(hangar::db::DEFAULT_WAL_AUTOCHECKPOINT); pool]
    );
    assert_eq!(hangar::db::DEFAULT_WAL_AUTOCHECKPOINT, 10_000);
}

#[test]
fn the_flag_and_the_variable_reach_the_config() {
    let out = run(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--wal-autocheckpoint",
        "HANGAR_WAL_AUTOCHECKPOINT",
        "--read-only",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let out = run(&["serve", "--wal-autocheckpoint", "-1"]);
    assert!(!out.status.success());
}

/// Every row of the identity tables, as text: what recreating a database would change.
fn identity_rows(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT id || name || created_at FROM workspace ORDER BY id",
        "SELECT id || email || created_at FROM users ORDER BY id",
        "SELECT id || hash || created_at FROM api_token ORDER BY id",
    ] {
        let mut stmt = c.prepare(sql).unwrap();
        let found = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.extend(found.map(Result::unwrap));
    }
    rows
}

#[test]
fn init_never_recreates_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db_s = db.to_str().unwrap();
    assert!(run(&["init", "--db", db_s, "--workspace", "acme"])
        .status
        .success());
    let before = identity_rows(&db);
    assert_eq!(before.len(), 3);
    let out = run(&[
        "init",
        "--db",
        db_s,
        "--workspace",
        "fresh",
        "--email",
        "new@x.test",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("already has a workspace") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert_eq!(identity_rows(&db), before);

    // Not a database at all: refused, and not a byte changes.
    let junk = dir.path().join("notes.db");
    std::fs::write(
        &junk,
        b"these are someone's notes, not a database\n".repeat(200),
    )
    .unwrap();
    let bytes = std::fs::read(&junk).unwrap();
    let out = run(&["init", "--db", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    assert_eq!(std::fs::read(&junk).unwrap(), bytes);
}

/// `hangar demo`'s mark on a database it created (the ASCII of "HGRD").
const DEMO_APPLICATION_ID: i64 = 0x4847_5244;

#[test]
fn demo_reuses_its_database_and_never_reseeds_it() {
    // A demo database as `demo` leaves it, minus the (slow) demo data: its owner and mark.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let db_s = db.to_str().unwrap();
    let init = [
        "init",
        "--db",
        db_s,
        "--workspace",
        "Demo",
        "--email",
        "demo@localhost",
    ];
    assert!(run(&init).status.success());
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "application_id", DEMO_APPLICATION_ID)
        .unwrap();
    // Rows per table but api_token (each demo issues a sign-in token), and the identity rows.
    let contents = |db: &Path| -> (Vec<(String, i64)>, Vec<String>) {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut stmt = c
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'api_token'")
            .unwrap();
        let tables: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let counts = tables
            .into_iter()
            .map(|t| {
                let n = c
                    .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                    .unwrap();
                (t, n)
            })
            .collect();
        (counts, identity_rows(db))
    };
    let before = contents(&db);

    let demo = ["demo", "--db", db_s, "--addr", "127.0.0.1:0"];
    let (first, url) = spawn_until(&demo, "#token=", true);
    assert!(url.starts_with("http://"), "{url}");
    // While it serves, a second demo (or serve) on the file is refused by the lock.
    let out = run(&demo);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("another hangar is serving"),
        "{}",
        stderr(&out)
    );
    stop(first);
    let (again, _) = spawn_until(&demo, "#token=", true);
    stop(again);
    let after = contents(&db);
    assert_eq!(after.0, before.0, "demo reseeded its database");
    // The workspace and its owner are the very rows `init` made.
    assert_eq!(after.1[..2], before.1[..2], "demo recreated its database");
    // The init token plus one sign-in token per demo that served; the refused one issued none.
    let tokens: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM api_token", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tokens, 3);
}

/// The names of the threads of process `pid` (Linux: /proc/PID/task/*/comm), once the
/// signal-handling thread (started last) and `expected` have named themselves (a thread sets
/// its own name just after it starts).
fn thread_names(pid: u32, expected: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .expect("proc tasks")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|n| n.trim().to_string())
            .collect();
        names.sort();
        let settled = [expected, "ctrl-c"]
            .iter()
            .all(|e| names.iter().any(|n| n == e));
        if settled || std::time::Instant::now() > deadline {
            return names;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_read_only_server_runs_no_background_writer_and_no_pool() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db_s = db.to_str().unwrap();
    assert!(run(&["init", "--db", db_s]).status.success());
    let args = [
        "serve",
        "--db",
        db_s,
        "--workers",
        "2",
        "--addr",
        "127.0.0.1:0",
    ];
    let (primary, _) = spawn_until(&args, "listening on", false);
    let primary_threads = thread_names(primary.id(), "sweeper");
    stop(primary);
    assert!(
        primary_threads.iter().any(|n| n == "sweeper"),
        "{primary_threads:?}"
    );

    let (replica, _) = spawn_until(
        &[&args[..], &["--read-only"]].concat(),
        "listening on",
        false,
    );
    let names = thread_names(replica.id(), "replica-followe");
    stop(replica);
    // tiny_http's own threads carry the process name; every thread hangar starts is named.
    // Linux keeps 15 bytes of a name: "replica-follower" reads "replica-followe".
    let unexpected: Vec<&String> = names
        .iter()
        .filter(|n| !matches!(n.as_str(), "hangar" | "ctrl-c" | "replica-followe"))
        .filter(|n| !n.starts_with("http-"))
        .collect();
    assert!(unexpected.is_empty(), "a replica runs {unexpected:?}");
    assert!(names.iter().any(|n| n == "replica-followe"), "{names:?}");
}
