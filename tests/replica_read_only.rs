//! `serve --read-only`: every write route answers 503 `read_only` (in the one place that
//! decides it), reads equal the primary's, a replica writes nothing (not even a token's
//! `last_used_at`), keeps no connection open between requests, sees the primary's writes
//! (its event streams too, by polling the event table), and refuses a schema it does not know.
mod common;

use std::time::{Duration, Instant};

use common::sse::SseClient;
use common::{TestServer, World};
use hangar::config::Config;
use hangar::db::SCHEMA_VERSION;
use serde_json::json;

/// Every write of the contract (API.md), with `{ws}`/`{user}` filled in and other ids made
/// up: a replica refuses before it looks at ids or bodies. Routes not built yet are skipped
/// by asking the primary first.
const WRITE_ROUTES: &[(&str, &str)] = &[
    ("PATCH", "/api/me"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{id}"),
    ("POST", "/api/workspaces"),
    ("POST", "/api/workspaces/{ws}/members"),
    ("PATCH", "/api/workspaces/{ws}/members/{user}"),
    ("DELETE", "/api/workspaces/{ws}/members/{user}"),
    ("POST", "/api/workspaces/{ws}/daemon-tokens"),
    ("DELETE", "/api/workspaces/{ws}/daemon-tokens/{id}"),
    ("PATCH", "/api/runtimes/{id}"),
    ("DELETE", "/api/runtimes/{id}"),
    ("POST", "/api/runtimes/{id}/archive-agents-and-delete"),
    ("POST", "/api/daemon/register"),
    ("POST", "/api/daemon/heartbeat"),
    ("POST", "/api/daemon/deregister"),
    ("POST", "/api/daemon/runtimes/{id}/claim"),
    ("POST", "/api/daemon/tasks/{id}/start"),
    ("POST", "/api/daemon/tasks/{id}/complete"),
    ("POST", "/api/daemon/tasks/{id}/fail"),
    ("POST", "/api/daemon/tasks/{id}/usage"),
    ("POST", "/api/workspaces/{ws}/agents"),
    ("PATCH", "/api/agents/{id}"),
    ("POST", "/api/agents/{id}/archive"),
    ("POST", "/api/agents/{id}/restore"),
    ("POST", "/api/agents/{id}/tasks"),
    ("POST", "/api/tasks/{id}/cancel"),
    ("POST", "/api/workspaces/{ws}/autopilots"),
    ("PATCH", "/api/autopilots/{id}"),
    ("DELETE", "/api/autopilots/{id}"),
    ("POST", "/api/workspaces/{ws}/squads"),
    ("PATCH", "/api/squads/{id}"),
    ("POST", "/api/squads/{id}/archive"),
];

/// Reads that the replica must answer exactly as the primary does.
const READS: &[&str] = &[
    "/api/me",
    "/api/workspaces",
    "/api/tokens",
    "/api/workspaces/{ws}/members",
    "/api/workspaces/{ws}/daemon-tokens",
];

const MADE_UP_ID: &str = "0b6d4a8e-6a4f-4c52-9f1e-5c3c2b1a0d9e";

fn fill(path: &str, s: &TestServer, w: &World) -> String {
    path.replace("{ws}", &s.ws)
        .replace("{user}", &w.member_id)
        .replace("{id}", MADE_UP_ID)
}

/// Row counts of every table, and every token's `last_used_at`: what a write would change.
fn fingerprint(s: &TestServer) -> Vec<(String, i64)> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out: Vec<(String, i64)> = tables
        .into_iter()
        .map(|t| {
            let n = s.count(&format!("SELECT count(*) FROM \"{t}\""));
            (t, n)
        })
        .collect();
    let mut stmt = c
        .prepare("SELECT id, COALESCE(last_used_at, -1) FROM api_token ORDER BY id")
        .unwrap();
    let used = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<(String, i64)>, _>>()
        .unwrap();
    out.extend(used);
    out
}

#[test]
fn every_write_route_answers_503_read_only_and_reads_equal_the_primary() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let r = s.read_only_follower(|_| {});
    // The primary's answers first: its reads record token use, the replica's must not.
    let expected: Vec<(String, serde_json::Value)> = READS
        .iter()
        .map(|pattern| {
            let path = fill(pattern, &s, &w);
            let body = s.get(&path, &w.admin).expect(200).body;
            (path, body)
        })
        .collect();
    let before = fingerprint(&s);

    let mut refused = 0;
    for (method, pattern) in WRITE_ROUTES {
        let path = fill(pattern, &s, &w);
        for token in [w.owner.as_str(), w.owner_daemon.as_str(), ""] {
            let primary = s.call(method, &path, "", Some(&json!({})));
            let replica = r.call(method, &path, token, Some(&json!({"name": "x"})));
            if primary.status == 404 && primary.body["error"] == "no such route"
                || primary.status == 405
            {
                // Not built (yet): the replica routes it the same way.
                assert_eq!(replica.status, primary.status, "{method} {path}");
                continue;
            }
            replica.expect_error(503, "read_only");
            refused += 1;
        }
    }
    assert!(refused >= 3 * 9, "only {refused} write routes were checked");
    // Methods the contract does not have are still 405 first, as on the primary.
    r.call("PUT", "/api/me", &w.owner, None).expect(405);
    r.call("POST", "/", "", None).expect(405);

    for (path, primary) in &expected {
        let replica = r.get(path, &w.admin).expect(200);
        assert_eq!(&replica.body, primary, "GET {path}");
    }
    r.get("/healthz", "").expect(200);
    let ui = r.get("/", "").expect(200);
    assert!(
        ui.text.contains("<html") || ui.text.contains("<!doctype"),
        "{ui:?}"
    );
    r.get("/api/me", "").expect_error(401, "unauthorized");

    assert_eq!(fingerprint(&s), before, "the replica changed the database");
}

#[test]
fn a_replica_never_records_token_use() {
    let s = TestServer::start();
    let fresh = s
        .post("/api/tokens", &s.owner_token, json!({"name": "dashboards"}))
        .expect(201);
    let (id, token) = (
        fresh.id(),
        fresh.body["token"].as_str().unwrap().to_string(),
    );
    let r = s.read_only_follower(|_| {});
    r.get("/api/me", &token).expect(200);
    r.get("/api/workspaces", &token).expect(200);
    let used = s.count(&format!(
        "SELECT count(*) FROM api_token WHERE id = '{id}' AND last_used_at IS NOT NULL"
    ));
    assert_eq!(used, 0, "a read-only server wrote last_used_at");
    // The primary does record it: the skip is the replica's alone.
    s.get("/api/me", &token).expect(200);
    let used = s.count(&format!(
        "SELECT count(*) FROM api_token WHERE id = '{id}' AND last_used_at IS NOT NULL"
    ));
    assert_eq!(used, 1);
}

#[test]
fn a_replica_sees_each_new_write_at_its_next_request() {
    let s = TestServer::start();
    let r = s.read_only_follower(|_| {});
    for i in 0..5 {
        let name = format!("team-{i}");
        s.post("/api/workspaces", &s.owner_token, json!({"name": name}))
            .expect(201);
        let seen = r.get("/api/workspaces", &s.owner_token).expect(200);
        let names: Vec<&str> = seen
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["name"].as_str())
            .collect();
        assert!(names.contains(&name.as_str()), "{names:?}");
    }
}

#[test]
fn a_replica_event_stream_delivers_the_primarys_new_events() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.member_daemon, "m", "claude");
    let r = s.read_only_follower(|_| {});
    let mut stream = SseClient::connect(&r.base, &s.ws, &w.admin, None);
    assert_eq!(stream.status, 200);
    for (i, visibility) in ["public", "private"].into_iter().enumerate() {
        let written = Instant::now();
        s.patch(
            &format!("/api/runtimes/{rt}"),
            &w.member,
            json!({ "visibility": visibility }),
        )
        .expect(200);
        // Nothing in the replica commits: only its poll of the event table (every
        // `replica::POLL_INTERVAL`) can wake the stream.
        let event = stream
            .next_event(Duration::from_secs(3))
            .unwrap_or_else(|| panic!("event {i} never reached the replica's stream"));
        assert!(written.elapsed() < hangar::replica::POLL_INTERVAL * 3);
        assert_eq!(event.event, "daemon:register");
        assert_eq!(event.id, s.last_event_id_in(&s.ws));
        assert_eq!(event.data["payload"]["runtime_id"], rt.as_str());
    }
    // A resumed stream replays from its cursor, as on the primary.
    let primary = s.api_events(&s.ws, &w.admin, 0);
    let mut resumed = SseClient::connect(&r.base, &s.ws, &w.admin, Some(0));
    let replayed = resumed.take(primary.len(), Duration::from_secs(2));
    let ids: Vec<i64> = replayed.iter().map(|e| e.id).collect();
    let expected: Vec<i64> = primary.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, expected);
}

/// Descriptors of this process open on `db` (the test and both servers share the process).
fn open_descriptors_on(db: &std::path::Path) -> usize {
    let db = std::fs::canonicalize(db).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| *target == db)
        .count()
}

#[test]
fn a_replica_keeps_no_connection_open_between_requests() {
    let primary = TestServer::start();
    let db = primary.db_path();
    let mut primary = primary;
    primary.stop();
    assert_eq!(
        open_descriptors_on(&db),
        0,
        "the stopped primary left files open"
    );
    let r = primary.read_only_follower(|_| {});
    for _ in 0..3 {
        r.get("/api/me", &r.owner_token).expect(200);
        r.get("/api/workspaces", &r.owner_token).expect(200);
    }
    // Open connections would hold the replicator's exclusive lock off (and cache pages).
    assert_eq!(open_descriptors_on(&db), 0);
}

fn read_only_config(db: &std::path::Path) -> Config {
    let mut c = Config::new(db);
    c.workers = 1;
    c.read_only = true;
    c
}

fn serve_read_only(db: &std::path::Path) -> Result<hangar::ServerHandle, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    hangar::serve(listener, read_only_config(db))
}

#[test]
fn read_only_refuses_a_schema_it_does_not_know_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (version, says) in [
        (SCHEMA_VERSION + 1, "newer"),
        (SCHEMA_VERSION - 1, "older"),
        (0, "older"),
    ] {
        let path = dir.path().join(format!("v{version}.db"));
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
            c.pragma_update(None, "user_version", version).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let err = serve_read_only(&path).err().expect("refused");
        assert!(
            err.contains(says) && err.contains(&format!("version {version}")),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "file changed");
        assert!(!dir.path().join(format!("v{version}.db-wal")).exists());
    }
    let missing = dir.path().join("missing.db");
    let err = serve_read_only(&missing).err().expect("refused");
    assert!(err.contains("no database at"), "{err}");
    assert!(!missing.exists(), "a read-only open created the file");
}

#[test]
fn a_replica_whose_file_is_being_recreated_answers_503_then_recovers() {
    let mut s = TestServer::start();
    s.stop();
    let db = s.db_path();
    let r = s.read_only_follower(|_| {});
    r.get("/api/me", &r.owner_token).expect(200);
    // What a follower restart does: the file goes away, then a fresh restore renames in.
    let aside = db.with_extension("aside");
    std::fs::rename(&db, &aside).unwrap();
    r.get("/api/me", &r.owner_token).expect_error(503, "busy");
    r.get("/healthz", "").expect(503);
    std::fs::rename(&aside, &db).unwrap();
    r.get("/api/me", &r.owner_token).expect(200);
}
