//! Test harness: a real hangar server on 127.0.0.1:0 over a temp database, stopped on Drop,
//! plus a seeded world of callers and loud request helpers.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use hangar::clock::{Clock, PinnedClock, SystemClock};
use hangar::config::Config;
use hangar::ServerHandle;

pub struct TestServer {
    handle: Option<ServerHandle>,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The first workspace ("acme") and its owner, made with `hangar init`.
    pub owner_token: String,
    pub ws: String,
    pub clock: Option<Arc<PinnedClock>>,
}

/// A response as a test sees it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status, printing the whole response when it differs.
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; response: {self:#?}"
        );
        self
    }

    /// Asserts an error status and code.
    pub fn expect_error(self, status: u16, code: &str) -> Resp {
        assert_eq!(
            (self.status, self.body["code"].as_str()),
            (status, Some(code)),
            "unexpected error; response: {self:#?}"
        );
        assert!(
            self.body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{self:#?}"
        );
        self
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {self:#?}"))
            .to_string()
    }
}

impl TestServer {
    /// A server with the real clock and default settings.
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    /// A server whose clock is pinned at `at`; move it with `self.clock()`.
    pub fn start_pinned(at: DateTime<Utc>, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let clock = Arc::new(PinnedClock::new(at));
        let c2 = Arc::clone(&clock);
        let mut server = TestServer::start_with(move |c| {
            c.clock = c2;
            tweak(c)
        });
        server.clock = Some(clock);
        server
    }

    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let acme = ("acme", "owner@acme.test", "Olivia Owner");
        TestServer::launch(acme, tweak, |_| {})
    }

    /// Inits a database with one workspace and its owner (`names`: workspace, email, name),
    /// runs `prepare(db path)` on it, serves it with `tweak`ed settings and learns the
    /// workspace id.
    fn launch(
        names: (&str, &str, &str),
        tweak: impl FnOnce(&mut Config),
        prepare: impl FnOnce(&std::path::Path),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("hangar.db");
        let mut config = Config::new(&db);
        config.workers = 4;
        tweak(&mut config);
        let (workspace, email, name) = names;
        let owner_token =
            hangar::commands::init(&db, workspace, email, name, config.clock.as_ref())
                .expect("init");
        prepare(&db);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let handle = hangar::serve(listener, config).expect("serve");
        let base = format!("http://{}", handle.addr());
        let mut server = TestServer {
            handle: Some(handle),
            base,
            dir,
            owner_token,
            ws: String::new(),
            clock: None,
        };
        let me = server
            .get("/api/me", &server.owner_token.clone())
            .expect(200);
        server.ws = me.body["workspaces"][0]["id"]
            .as_str()
            .expect("workspace")
            .to_string();
        server
    }

    pub fn clock(&self) -> &PinnedClock {
        self.clock
            .as_deref()
            .expect("this server has no pinned clock")
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.clock {
            Some(c) => c.now(),
            None => SystemClock.now(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hangar.db")
    }

    /// A direct connection to the server's database, for asserting rows.
    pub fn sql(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db_path()).expect("open db");
        c.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy timeout");
        c
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.sql()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("running")
    }

    /// Stops the server now (Drop would do it too).
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown();
        }
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let mut rq = ureq::request(method, &format!("{}{}", self.base, path));
        for (k, v) in headers {
            rq = rq.set(k, v);
        }
        let result = match body {
            Some(b) => rq.send_bytes(b),
            None => rq.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = response.header(&n).unwrap_or_default().to_string();
                (n, v)
            })
            .collect();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub fn call(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("Content-Type", "application/json")];
        if !token.is_empty() {
            headers.push(("Authorization", &auth));
        }
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.raw(method, path, &headers, bytes.as_deref())
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, token, None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, token, Some(&body))
    }

    pub fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, token, Some(&body))
    }

    pub fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, token, None)
    }

    /// Adds a member to `ws` through the API as `by`; returns (user id, their token).
    pub fn add_member(&self, ws: &str, by: &str, email: &str, role: &str) -> (String, String) {
        let r = self
            .post(
                &format!("/api/workspaces/{ws}/members"),
                by,
                serde_json::json!({"email": email, "role": role}),
            )
            .expect(201);
        let token = r.body["token"]
            .as_str()
            .expect("a token for a new user")
            .to_string();
        (
            r.body["user_id"].as_str().expect("user_id").to_string(),
            token,
        )
    }

    /// A daemon token of `user_token`'s user in `ws`.
    pub fn daemon_token(&self, ws: &str, user_token: &str) -> String {
        let r = self
            .post(
                &format!("/api/workspaces/{ws}/daemon-tokens"),
                user_token,
                serde_json::json!({"name": "d"}),
            )
            .expect(201);
        r.body["token"].as_str().expect("token").to_string()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The callers every access test needs, in workspace "acme" unless said otherwise.
pub struct World {
    pub owner: String,
    pub owner_id: String,
    pub admin: String,
    pub admin_id: String,
    pub member: String,
    pub member_id: String,
    /// A member of another workspace only.
    pub outsider: String,
    pub other_ws: String,
    pub owner_daemon: String,
    pub member_daemon: String,
}

impl World {
    pub fn seed(s: &TestServer) -> World {
        let owner = s.owner_token.clone();
        let owner_id = s.get("/api/me", &owner).body["id"]
            .as_str()
            .expect("id")
            .to_string();
        let (admin_id, admin) = s.add_member(&s.ws, &owner, "admin@acme.test", "admin");
        let (member_id, member) = s.add_member(&s.ws, &owner, "member@acme.test", "member");
        let other_ws = s
            .post(
                "/api/workspaces",
                &owner,
                serde_json::json!({"name": "other"}),
            )
            .expect(201)
            .id();
        let (_, outsider) = s.add_member(&other_ws, &owner, "outsider@else.test", "owner");
        // The owner leaves "other" so that it truly belongs to someone else.
        s.delete(
            &format!("/api/workspaces/{other_ws}/members/{owner_id}"),
            &owner,
        )
        .expect(204);
        let owner_daemon = s.daemon_token(&s.ws, &owner);
        let member_daemon = s.daemon_token(&s.ws, &member);
        World {
            owner,
            owner_id,
            admin,
            admin_id,
            member,
            member_id,
            outsider,
            other_ws,
            owner_daemon,
            member_daemon,
        }
    }
}

impl TestServer {
    /// A second server on this server's database file, started as `serve --read-only` (a
    /// replica following it); same owner token and workspace. Its `dir` is empty: assert
    /// rows through the primary's `sql()`.
    pub fn read_only_follower(&self, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::new(self.db_path());
        config.workers = 2;
        config.read_only = true;
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let handle = hangar::serve(listener, config).expect("serve --read-only");
        TestServer {
            base: format!("http://{}", handle.addr()),
            handle: Some(handle),
            dir: tempfile::tempdir().expect("temp dir"),
            owner_token: self.owner_token.clone(),
            ws: self.ws.clone(),
            clock: None,
        }
    }
}

pub mod budgets;
pub mod ledger;
pub mod sse;

/// Registry helpers: daemon registration and the event outbox.
impl TestServer {
    /// `POST /api/daemon/register` with one runtime per (name, provider).
    pub fn register(&self, daemon_token: &str, daemon_id: &str, runtimes: &[(&str, &str)]) -> Resp {
        let runtimes: Vec<Value> = runtimes
            .iter()
            .map(|(name, provider)| serde_json::json!({"name": name, "provider": provider}))
            .collect();
        self.post(
            "/api/daemon/register",
            daemon_token,
            serde_json::json!({"daemon_id": daemon_id, "runtimes": runtimes}),
        )
    }

    /// Registers one runtime and returns its id.
    pub fn register_runtime(&self, daemon_token: &str, daemon_id: &str, provider: &str) -> String {
        let r = self
            .register(daemon_token, daemon_id, &[(provider, provider)])
            .expect(200);
        r.body["runtimes"][0]["id"]
            .as_str()
            .expect("runtime id")
            .to_string()
    }

    /// Every event of `ws` after `after`, oldest first (through the API).
    pub fn api_events(&self, ws: &str, token: &str, after: i64) -> Vec<Value> {
        let r = self
            .get(
                &format!("/api/workspaces/{ws}/events?after={after}&limit=1000"),
                token,
            )
            .expect(200);
        r.body["events"].as_array().expect("events").clone()
    }

    /// The newest event id of `ws` (0 when none), as a cursor for `api_events`.
    pub fn last_event_id_in(&self, ws: &str) -> i64 {
        self.sql()
            .query_row(
                "SELECT COALESCE(MAX(id), 0) FROM event WHERE workspace_id = ?1",
                [ws],
                |r| r.get(0),
            )
            .expect("last event id")
    }
}

// --- Work (agents, tasks, autopilots, squads) helpers ---

impl TestServer {
    /// A runtime row inserted directly (registration has its own tests): in `s.ws`, owned by
    /// `owner_id`, online and seen now. Returns its id.
    pub fn insert_runtime(&self, owner_id: &str, visibility: &str) -> String {
        self.insert_runtime_in(&self.ws, owner_id, visibility)
    }

    pub fn insert_runtime_in(&self, ws: &str, owner_id: &str, visibility: &str) -> String {
        let id = hangar::ids::new_id();
        let now = self.now().timestamp_millis();
        self.sql()
            .execute(
                "INSERT INTO runtime (id, workspace_id, daemon_id, name, provider, runtime_mode,
                     device_info, metadata, owner_id, visibility, timezone, status,
                     last_seen_at, created_at, updated_at)
                 VALUES (?1, ?2, ?1, 'laptop', 'claude', 'local', '', '{}', ?3, ?4, 'UTC',
                     'online', ?5, ?5, ?5)",
                rusqlite::params![id, ws, owner_id, visibility, now],
            )
            .expect("insert runtime");
        id
    }

    /// The id of the newest event of any workspace (0 when there is none).
    pub fn newest_event_id(&self) -> i64 {
        self.count("SELECT COALESCE(MAX(id), 0) FROM event")
    }

    /// Events of any workspace after `after`, oldest first: (type, actor_type, payload).
    pub fn event_rows_after(&self, after: i64) -> Vec<(String, String, Value)> {
        let c = self.sql();
        let mut stmt = c
            .prepare("SELECT type, actor_type, payload FROM event WHERE id > ?1 ORDER BY id")
            .expect("prepare");
        let rows = stmt
            .query_map([after], |r| {
                let payload: String = r.get(2)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    serde_json::from_str(&payload).unwrap_or(Value::Null),
                ))
            })
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// Just the types of the events after `after`.
    pub fn event_types_after(&self, after: i64) -> Vec<String> {
        self.event_rows_after(after)
            .into_iter()
            .map(|e| e.0)
            .collect()
    }

    /// Creates an agent through the API; returns its id.
    pub fn create_agent(&self, token: &str, runtime_id: &str, name: &str) -> String {
        self.post(
            &format!("/api/workspaces/{}/agents", self.ws),
            token,
            serde_json::json!({"name": name, "runtime_id": runtime_id}),
        )
        .expect(201)
        .id()
    }

    /// Enqueues a task through the API; returns its id.
    pub fn enqueue(&self, token: &str, agent_id: &str, prompt: &str) -> String {
        self.post(
            &format!("/api/agents/{agent_id}/tasks"),
            token,
            serde_json::json!({ "prompt": prompt }),
        )
        .expect(201)
        .id()
    }

    /// A task's status straight from the database.
    pub fn task_status(&self, task_id: &str) -> String {
        self.sql()
            .query_row("SELECT status FROM task WHERE id = ?1", [task_id], |r| {
                r.get(0)
            })
            .expect("task row")
    }
}

// --- Retire helpers ---

/// Every row of every table but `api_token` (whose `last_used_at` a request may touch), as
/// text, table by table: two equal snapshots prove a request changed nothing.
pub type Snapshot = Vec<(String, Vec<String>)>;

impl TestServer {
    pub fn snapshot(&self) -> Snapshot {
        let c = self.sql();
        let tables: Vec<String> = c
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'api_token'
                 ORDER BY name",
            )
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("tables")
            .map(|r| r.expect("name"))
            .collect();
        tables
            .into_iter()
            .map(|table| {
                let mut stmt = c
                    .prepare(&format!("SELECT * FROM \"{table}\""))
                    .expect("prepare");
                let width = stmt.column_count();
                // Sorted in Rust: WITHOUT ROWID tables have no rowid to order by.
                let mut rows: Vec<String> = stmt
                    .query_map([], |r| {
                        (0..width)
                            .map(|i| r.get::<_, rusqlite::types::Value>(i))
                            .collect::<Result<Vec<_>, _>>()
                            .map(|values| format!("{values:?}"))
                    })
                    .expect("query")
                    .map(|r| r.expect("row"))
                    .collect();
                rows.sort();
                (table, rows)
            })
            .collect()
    }

    /// `PRAGMA foreign_key_check` rows, as text (empty when every reference holds).
    pub fn foreign_key_violations(&self) -> Vec<String> {
        let c = self.sql();
        let mut stmt = c.prepare("PRAGMA foreign_key_check").expect("prepare");
        let width = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..width)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|values| format!("{values:?}"))
            })
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }
}

impl TestServer {
    /// A daemon claim on `runtime`; returns the claimed task's id (None on 204).
    pub fn claim(&self, daemon: &str, runtime: &str) -> Option<String> {
        let r = self.post(
            &format!("/api/daemon/runtimes/{runtime}/claim"),
            daemon,
            serde_json::json!({}),
        );
        match r.status {
            200 => Some(r.body["task"]["id"].as_str().expect("task id").to_string()),
            204 => None,
            _ => panic!("claim failed: {r:#?}"),
        }
    }

    /// Moves a claimed task through `start` and `complete`.
    pub fn finish(&self, daemon: &str, task: &str) {
        for step in ["start", "complete"] {
            self.post(
                &format!("/api/daemon/tasks/{task}/{step}"),
                daemon,
                serde_json::json!({}),
            )
            .expect(200);
        }
    }

    pub fn move_agent(&self, token: &str, agent: &str, runtime: &str) {
        self.patch(
            &format!("/api/agents/{agent}"),
            token,
            serde_json::json!({ "runtime_id": runtime }),
        )
        .expect(200);
    }

    pub fn archive_agent(&self, token: &str, agent: &str) {
        self.post(
            &format!("/api/agents/{agent}/archive"),
            token,
            serde_json::json!({}),
        )
        .expect(200);
    }

    /// An active autopilot for `agent`, every hour; returns its id.
    pub fn create_autopilot(&self, token: &str, agent: &str, name: &str) -> String {
        self.post(
            &format!("/api/workspaces/{}/autopilots", self.ws),
            token,
            serde_json::json!({"name": name, "prompt": "check", "assignee_agent_id": agent,
                               "interval_minutes": 60}),
        )
        .expect(201)
        .id()
    }

    pub fn create_squad(&self, token: &str, name: &str, leader: &str, members: &[&str]) -> String {
        self.post(
            &format!("/api/workspaces/{}/squads", self.ws),
            token,
            serde_json::json!({"name": name, "leader_agent_id": leader,
                               "member_agent_ids": members}),
        )
        .expect(201)
        .id()
    }

    pub fn archive_squad(&self, token: &str, squad: &str) {
        self.post(
            &format!("/api/squads/{squad}/archive"),
            token,
            serde_json::json!({}),
        )
        .expect(200);
    }

    /// Whether a row with this id exists in `table`.
    pub fn exists(&self, table: &str, id: &str) -> bool {
        self.sql()
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE id = ?1"),
                [id],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
            == 1
    }

    /// (status, runtime_id) of a task straight from the database.
    pub fn task_row(&self, task: &str) -> (String, Option<String>) {
        self.sql()
            .query_row(
                "SELECT status, runtime_id FROM task WHERE id = ?1",
                [task],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("task row")
    }
}

impl TestServer {
    /// `ids` of rows of `table` sorted by (created_at, id): the order lists and events of
    /// one kind come in, robust to two rows created in the same millisecond.
    pub fn oldest_first(&self, table: &str, ids: &[&String]) -> Vec<String> {
        let c = self.sql();
        let mut keyed: Vec<(i64, String)> = ids
            .iter()
            .map(|id| {
                let at = c
                    .query_row(
                        &format!("SELECT created_at FROM {table} WHERE id = ?1"),
                        [id],
                        |r| r.get(0),
                    )
                    .unwrap_or_else(|e| panic!("{table} {id}: {e}"));
                (at, id.to_string())
            })
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, id)| id).collect()
    }
}

/// Raw HTTP over TcpStream and a seeded PRNG, for the hardening tests.
pub mod raw;

impl TestServer {
    /// Like `start`, with `prepare(db path)` run between `init` and serving: for tests that
    /// seed the database through library functions first (the demo data).
    pub fn start_prepared(prepare: impl FnOnce(&std::path::Path)) -> TestServer {
        let demo = ("demo", "demo@localhost", "Demo Owner");
        TestServer::launch(demo, |_| {}, prepare)
    }
}

// --- Budgets helpers ---

impl TestServer {
    /// Stops the server and serves the same database again on a new port, with the same
    /// pinned clock if there is one (other settings back to the test defaults), as an
    /// operator's restart would.
    pub fn restart(&mut self) {
        self.stop();
        let mut config = Config::new(self.db_path());
        config.workers = 4;
        if let Some(clock) = &self.clock {
            let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
            config.clock = clock;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let handle = hangar::serve(listener, config).expect("serve again");
        self.base = format!("http://{}", handle.addr());
        self.handle = Some(handle);
    }
}
