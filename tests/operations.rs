//! Operations through the real binary and a real server: `hangar backup` under concurrent
//! writes, `hangar check` catching broken invariants, and `GET /metrics` as Prometheus text
//! whose counters move.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use common::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_hangar");

fn hangar(args: &[&str], db: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap_or_else(|e| panic!("run hangar {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn backup_under_concurrent_writes_holds_every_earlier_write_and_passes_check() {
    let s = TestServer::start();
    let acked = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let file = s.dir.path().join("backup.db");
    let (before, after_backup) = std::thread::scope(|scope| {
        for writer in 0..3 {
            let (s, acked, stop) = (&s, &acked, &stop);
            scope.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("w{writer}-{i}");
                    let id = s
                        .post("/api/workspaces", &s.owner_token, json!({"name": name}))
                        .expect(201)
                        .id();
                    acked.lock().unwrap().push(id);
                    i += 1;
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < 50 {
            assert!(Instant::now() < deadline, "writers made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        let before: Vec<String> = acked.lock().unwrap().clone();
        let out = hangar(&["backup", file.to_str().unwrap()], &s.db_path());
        assert!(out.status.success(), "backup failed: {out:?}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("integrity ok"), "{stdout}");
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with("workspace ")),
            "no row count for workspace in:\n{stdout}"
        );
        // The server kept taking writes while and after the backup ran.
        let after_backup = acked.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < after_backup + 20 {
            assert!(Instant::now() < deadline, "writes stalled after the backup");
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::SeqCst);
        (before, after_backup)
    });
    assert!(after_backup >= before.len());

    let copy = rusqlite::Connection::open(&file).expect("open backup");
    let in_copy: HashSet<String> = copy
        .prepare("SELECT id FROM workspace")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let missing: Vec<&String> = before.iter().filter(|id| !in_copy.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "backup lacks acknowledged writes: {missing:?}"
    );
    let version: i64 = copy
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, hangar::db::SCHEMA_VERSION);
    drop(copy);

    let check = hangar(&["check"], &file);
    assert!(check.status.success(), "check of the backup: {check:?}");
    assert!(text(&check.stdout).contains("checks passed"));

    let again = hangar(&["backup", file.to_str().unwrap()], &s.db_path());
    assert!(!again.status.success(), "overwrote without --force");
    let stderr = text(&again.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    let forced = hangar(&["backup", file.to_str().unwrap(), "--force"], &s.db_path());
    assert!(forced.status.success(), "{forced:?}");
    assert!(!s.dir.path().join("backup.db.partial").exists());
}

/// Inserts a runtime, an agent on it (archived when `archived`) and a task of `status`.
fn insert_task(s: &TestServer, tag: &str, archived: bool, status: &str) -> String {
    let c = s.sql();
    let (runtime, agent, task) = (
        format!("00000000-0000-4000-8000-0000000000{tag}1"),
        format!("00000000-0000-4000-8000-0000000000{tag}2"),
        format!("00000000-0000-4000-8000-0000000000{tag}3"),
    );
    c.execute(
        "INSERT INTO runtime (id, workspace_id, name, provider, status, created_at, updated_at)
         VALUES (?1, ?2, 'box', 'claude', 'online', 1, 1)",
        [&runtime, &s.ws],
    )
    .unwrap();
    c.execute(
        "INSERT INTO agent (id, workspace_id, runtime_id, name, archived_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, 1)",
        rusqlite::params![agent, s.ws, runtime, format!("agent-{tag}"), archived.then_some(5)],
    )
    .unwrap();
    c.execute(
        "INSERT INTO task (id, workspace_id, agent_id, runtime_id, prompt, status, created_at)
         VALUES (?1, ?2, ?3, ?4, 'p', ?5, 1)",
        rusqlite::params![task, s.ws, agent, runtime, status],
    )
    .unwrap();
    task
}

#[test]
fn check_passes_a_sound_database_and_reports_broken_invariants() {
    let s = TestServer::start();
    s.post("/api/workspaces", &s.owner_token, json!({"name": "x"}))
        .expect(201);
    insert_task(&s, "a", true, "completed");
    insert_task(&s, "b", false, "queued");
    let ok = hangar(&["check"], &s.db_path());
    assert!(ok.status.success(), "sound database failed: {ok:?}");
    assert!(text(&ok.stdout).contains("checks passed"), "{ok:?}");

    let bad_task = insert_task(&s, "c", true, "running");
    let c = s.sql();
    c.execute(
        "INSERT INTO event (workspace_id, type, actor_type, payload, created_at)
         VALUES (?1, 'test', 'system', '{}', 1)",
        [&s.ws],
    )
    .unwrap();
    c.execute(
        "UPDATE sqlite_sequence SET seq = 0 WHERE name = 'event'",
        [],
    )
    .unwrap();
    let out = hangar(&["check"], &s.db_path());
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("FAIL  no active task on an archived agent"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("task {bad_task} is running")),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL  event ids only increase"), "{stdout}");
    assert!(stdout.contains("ok    integrity"), "{stdout}");
    assert!(text(&out.stderr).contains("checks failed"), "{out:?}");
}

/// A parsed exposition: (name, labels) → value, after checking every line's syntax.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn parse_prometheus(body: &str) -> Samples {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Samples::new();
    let is_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (parts.next(), parts.next(), parts.next());
            let name = name.unwrap_or_else(|| panic!("bad comment {line:?}"));
            assert!(is_name(name), "bad name in {line:?}");
            match kind {
                Some("HELP") => assert!(tail.is_some(), "{line:?}"),
                Some("TYPE") => {
                    let t = tail.unwrap_or_default();
                    assert!(["counter", "gauge", "histogram"].contains(&t), "{line:?}");
                    typed.insert(name.to_string(), t.to_string());
                }
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line:?}"));
                let labels = inner
                    .split("\",")
                    .map(|pair| {
                        let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line:?}"));
                        assert!(is_name(k), "bad label in {line:?}");
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                (name, labels)
            }
        };
        assert!(is_name(name), "bad name in {line:?}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            typed.contains_key(family),
            "sample before its TYPE: {line:?}"
        );
        let fresh = samples.insert((name.to_string(), labels), value).is_none();
        assert!(fresh, "duplicate series {line:?}");
    }
    samples
}

fn scrape(s: &TestServer) -> Samples {
    let r = s.get("/metrics", "").expect(200);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{r:#?}"
    );
    parse_prometheus(&r.text)
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (
        name.to_string(),
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    samples.get(&key).copied().unwrap_or(0.0)
}

#[test]
fn metrics_parse_as_prometheus_text_and_move_with_work() {
    let s = TestServer::start();
    let before = scrape(&s);
    for _ in 0..3 {
        s.get("/healthz", "").expect(200);
    }
    s.get("/api/nope", &s.owner_token).expect(404);
    insert_task(&s, "d", false, "queued");
    hangar::metrics::add_tokens_ingested("metrics_test", 1234);
    hangar::metrics::sse_clients_inc();
    let after = scrape(&s);
    hangar::metrics::sse_clients_dec();

    let healthz = [("route", "/healthz"), ("status", "200")];
    let requests = "hangar_http_requests_total";
    assert!(value(&after, requests, &healthz) >= value(&before, requests, &healthz) + 3.0);
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(value(&after, requests, &unmatched) >= value(&before, requests, &unmatched) + 1.0);

    let route = [("route", "/healthz")];
    let count = value(&after, "hangar_http_request_duration_seconds_count", &route);
    let inf = value(
        &after,
        "hangar_http_request_duration_seconds_bucket",
        &[("route", "/healthz"), ("le", "+Inf")],
    );
    assert!(
        count >= 3.0 && inf == count,
        "count {count}, +Inf bucket {inf}"
    );
    assert!(value(&after, "hangar_http_request_duration_seconds_sum", &route) > 0.0);
    let mut last = 0.0;
    for ((name, labels), v) in &after {
        if name == "hangar_http_request_duration_seconds_bucket" && labels["route"] == "/healthz" {
            assert!(*v >= 0.0);
            last = f64::max(last, *v);
        }
    }
    assert_eq!(last, count, "buckets are cumulative up to the count");

    assert_eq!(
        value(&after, "hangar_runtimes", &[("status", "online")]),
        1.0
    );
    assert_eq!(
        value(&after, "hangar_runtimes", &[("status", "offline")]),
        0.0
    );
    assert_eq!(value(&after, "hangar_tasks", &[("status", "queued")]), 1.0);
    for status in ["dispatched", "running", "completed", "failed", "cancelled"] {
        let key = (
            "hangar_tasks".to_string(),
            [("status".to_string(), status.to_string())].into(),
        );
        assert_eq!(
            after.get(&key),
            Some(&0.0),
            "hangar_tasks{{status={status}}}"
        );
    }
    assert_eq!(
        value(
            &after,
            "hangar_usage_tokens_ingested_total",
            &[("kind", "metrics_test")]
        ),
        1234.0
    );
    assert!(value(&after, "hangar_sse_clients", &[]) >= 1.0);
    assert!(value(&after, "hangar_db_size_bytes", &[]) > 4096.0);
    assert!(value(&before, "hangar_db_size_bytes", &[]) > 0.0);
}
