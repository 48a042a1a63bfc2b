//! The background checkpointer: shortly after a write, the database file itself — without
//! its WAL — holds the change, though no writer checkpointed; with checkpoints left to a
//! replicator (`--wal-autocheckpoint 0`) nothing here copies the WAL back.
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::json;

/// Whether the database file alone (a copy without `-wal`) has a workspace named `name`.
fn file_alone_has(db: &Path, name: &str) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("copy.db");
    std::fs::copy(db, &copy).expect("copy the database file");
    let c = rusqlite::Connection::open(&copy).expect("open the copy");
    c.query_row(
        "SELECT COUNT(*) FROM workspace WHERE name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .expect("count")
        == 1
}

fn create_workspace(s: &TestServer, name: &str) {
    s.post("/api/workspaces", &s.owner_token, json!({"name": name}))
        .expect(201);
}

#[test]
fn a_write_reaches_the_database_file_within_moments() {
    // A writer would checkpoint only past a million pages: only the checkpointer can do it.
    let s = TestServer::start_with(|c| c.wal_autocheckpoint = 1_000_000);
    create_workspace(&s, "checkpointed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !file_alone_has(&s.db_path(), "checkpointed") {
        assert!(Instant::now() < deadline, "not checkpointed within 5 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn with_checkpoints_left_to_a_replicator_the_wal_keeps_the_write() {
    let s = TestServer::start_with(|c| c.wal_autocheckpoint = 0);
    create_workspace(&s, "in-the-wal");
    std::thread::sleep(Duration::from_millis(600));
    assert!(!file_alone_has(&s.db_path(), "in-the-wal"));
    // The server itself reads it, of course.
    let listed = s.get("/api/workspaces", &s.owner_token).expect(200).body;
    assert!(listed.to_string().contains("in-the-wal"));
}
