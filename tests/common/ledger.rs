//! Usage-test fixtures: runtimes, agents and tasks inserted with plain SQL (so the usage tests
//! do not depend on the registry and work endpoints), a usage report helper, and the rollup
//! recomputation check.

use rusqlite::params;
use serde_json::{json, Value};

use super::{Resp, TestServer};

/// Inserts a runtime of `provider` owned by `owner_id` in `ws`, in zone `timezone`.
pub fn runtime(s: &TestServer, ws: &str, owner_id: &str, provider: &str, timezone: &str) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO runtime (id, workspace_id, daemon_id, name, provider, owner_id, timezone,
                                  status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'online', ?8, ?8)",
            params![
                id,
                ws,
                format!("daemon-{id}"),
                format!("rt {provider}"),
                provider,
                owner_id,
                timezone,
                now
            ],
        )
        .expect("insert runtime");
    id
}

/// Inserts an agent on `runtime_id`.
pub fn agent(s: &TestServer, ws: &str, runtime_id: &str, owner_id: &str) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO agent (id, workspace_id, runtime_id, owner_id, name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![id, ws, runtime_id, owner_id, format!("agent {id}"), now],
        )
        .expect("insert agent");
    id
}

/// Inserts a task of `agent_id` pinned to `runtime_id`, in `status`, started at `started_at`.
pub fn task(
    s: &TestServer,
    ws: &str,
    agent_id: &str,
    runtime_id: Option<&str>,
    status: &str,
    started_at: Option<i64>,
) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO task (id, workspace_id, agent_id, runtime_id, prompt, status, created_at,
                               started_at)
             VALUES (?1, ?2, ?3, ?4, 'do it', ?5, ?6, ?7)",
            params![id, ws, agent_id, runtime_id, status, now, started_at],
        )
        .expect("insert task");
    id
}

/// A runtime with one agent and one running task, owned by `owner_id`.
pub struct Rig {
    pub runtime: String,
    pub agent: String,
    pub task: String,
}

impl Rig {
    pub fn new(s: &TestServer, ws: &str, owner_id: &str, provider: &str, timezone: &str) -> Rig {
        let runtime = runtime(s, ws, owner_id, provider, timezone);
        let agent = agent(s, ws, &runtime, owner_id);
        let task = task(s, ws, &agent, Some(&runtime), "running", None);
        Rig {
            runtime,
            agent,
            task,
        }
    }

    /// Another task of the same agent.
    pub fn new_task(&self, s: &TestServer, ws: &str) -> String {
        task(s, ws, &self.agent, Some(&self.runtime), "running", None)
    }
}

/// A connection to the server's database that commits without waiting for the disk (WAL with
/// `synchronous=NORMAL`, as the server runs): fixtures write many rows.
pub fn sql(s: &TestServer) -> rusqlite::Connection {
    let c = s.sql();
    c.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous=NORMAL");
    c
}

/// `POST /api/daemon/tasks/{task}/usage` with `{"usage": entries}`.
pub fn report(s: &TestServer, daemon: &str, task: &str, entries: Value) -> Resp {
    s.post(
        &format!("/api/daemon/tasks/{task}/usage"),
        daemon,
        json!({ "usage": entries }),
    )
}

/// Differences between the rollups and a recomputation from the ledger (empty when equal).
pub fn rollup_mismatches(s: &TestServer) -> Vec<String> {
    let db = hangar::db::Db::open(&s.db_path(), hangar::db::OpenMode::Existing, 1)
        .expect("open the database");
    db.read(hangar::db::usage::rollup::mismatches)
        .expect("recompute rollups")
}

/// Asserts that every rollup equals its recomputation from the ledger.
pub fn assert_rollups_match(s: &TestServer) {
    let found = rollup_mismatches(s);
    assert!(
        found.is_empty(),
        "rollups differ from the ledger:\n{}",
        found.join("\n")
    );
}

/// Unix ms of an RFC 3339 text.
pub fn ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339 in a test")
        .timestamp_millis()
}
