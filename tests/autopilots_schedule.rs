//! Autopilots (API.md §4) with a pinned clock and a fast scheduler tick: the first run one
//! interval after creation, skipping while the previous run is active, no replay of missed
//! runs, paused never fires, re-activation and server start reschedule, assignee_missing.
mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{TestServer, World};
use serde_json::json;

const TICK: StdDuration = StdDuration::from_millis(20);

fn start() -> TestServer {
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    TestServer::start_pinned(at, |c| c.scheduler_tick = TICK)
}

/// Polls `cond` until it holds (bounded: the scheduler ticks every 20 ms).
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(StdDuration::from_millis(5));
    }
}

/// Lets the scheduler run several ticks, to show that something does *not* happen.
fn let_ticks_pass() {
    std::thread::sleep(TICK * 8);
}

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn next_run(s: &TestServer, id: &str) -> Option<i64> {
    s.sql()
        .query_row(
            "SELECT next_run_at FROM autopilot WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

fn runs(s: &TestServer, id: &str) -> i64 {
    s.count(&format!(
        "SELECT COUNT(*) FROM task WHERE autopilot_id = '{id}'"
    ))
}

fn create(s: &TestServer, token: &str, agent: &str, minutes: i64, status: &str) -> String {
    s.post(
        &format!("/api/workspaces/{}/autopilots", s.ws),
        token,
        json!({"name": "nightly", "prompt": "run the checks", "assignee_agent_id": agent,
               "interval_minutes": minutes, "status": status}),
    )
    .expect(201)
    .id()
}

#[test]
fn fires_after_one_interval_skips_while_busy_and_never_replays() {
    let s = start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "nightly");
    let autopilot = create(&s, &w.owner, &agent, 5, "active");
    assert_eq!(next_run(&s, &autopilot), Some(ms(s.now()) + 5 * 60_000));

    s.clock()
        .advance(Duration::minutes(5) - Duration::milliseconds(1));
    let_ticks_pass();
    assert_eq!(runs(&s, &autopilot), 0, "not due yet");

    let mark = s.newest_event_id();
    s.clock().advance(Duration::milliseconds(1));
    wait_until("the first run", || runs(&s, &autopilot) == 1);
    let fired_at = ms(s.now());
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, actor, payload) = &events[0];
    assert_eq!((kind.as_str(), actor.as_str()), ("task:queued", "system"));
    assert_eq!(payload["task"]["autopilot_id"], autopilot.as_str());
    assert_eq!(payload["task"]["agent_id"], agent.as_str());
    assert_eq!(payload["task"]["runtime_id"], rt.as_str());
    assert_eq!(payload["task"]["prompt"], "run the checks");
    let first = payload["task"]["id"].as_str().unwrap().to_string();
    wait_until("the next run scheduled", || {
        next_run(&s, &autopilot) == Some(fired_at + 5 * 60_000)
    });

    // Due again while the first run is still queued: skipped, rescheduled.
    s.clock().advance(Duration::minutes(5));
    let skipped_at = ms(s.now());
    wait_until("the skip to reschedule", || {
        next_run(&s, &autopilot) == Some(skipped_at + 5 * 60_000)
    });
    assert_eq!(runs(&s, &autopilot), 1);

    // Once the run is over, the next due time fires — once, however much time was missed.
    let daemon = |what: &str| {
        s.post(
            &format!("/api/daemon/tasks/{first}/{what}"),
            &w.owner_daemon,
            json!({}),
        )
        .expect(200)
    };
    s.post(
        &format!("/api/daemon/runtimes/{rt}/claim"),
        &w.owner_daemon,
        json!({}),
    )
    .expect(200);
    daemon("start");
    daemon("complete");
    s.clock().advance(Duration::hours(3));
    wait_until("the second run", || runs(&s, &autopilot) == 2);
    let_ticks_pass();
    assert_eq!(runs(&s, &autopilot), 2, "missed runs are not replayed");
    assert_eq!(next_run(&s, &autopilot), Some(ms(s.now()) + 5 * 60_000));
}

#[test]
fn paused_never_fires_and_reactivation_schedules_from_now() {
    let s = start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "a");
    let autopilot = create(&s, &w.owner, &agent, 1, "paused");
    let path = format!("/api/autopilots/{autopilot}");
    assert_eq!(next_run(&s, &autopilot), None);
    s.clock().advance(Duration::days(2));
    let_ticks_pass();
    assert_eq!(runs(&s, &autopilot), 0);

    s.clock().advance(Duration::minutes(7));
    let mark = s.newest_event_id();
    let r = s
        .patch(&path, &w.owner, json!({"status": "active"}))
        .expect(200);
    assert_eq!(r.body["status"], "active");
    let due = ms(s.now()) + 60_000;
    assert_eq!(next_run(&s, &autopilot), Some(due));
    assert_eq!(r.body["next_run_at"], hangar::clock::rfc3339(due));
    assert_eq!(s.event_types_after(mark), ["autopilot:updated"]);

    let mark = s.newest_event_id();
    let r = s
        .patch(&path, &w.owner, json!({"status": "paused"}))
        .expect(200);
    assert_eq!(r.body["next_run_at"], serde_json::Value::Null);
    assert_eq!(s.event_types_after(mark), ["autopilot:paused"]);
    s.clock().advance(Duration::minutes(2));
    let_ticks_pass();
    assert_eq!(runs(&s, &autopilot), 0, "paused never fires");

    // An archived agent cannot be given a re-activated autopilot; a deleted one is missing.
    s.post(&format!("/api/agents/{agent}/archive"), &w.owner, json!({}))
        .expect(200);
    s.patch(&path, &w.owner, json!({"status": "active"}))
        .expect_error(409, "agent_archived");
    s.sql()
        .execute("DELETE FROM agent WHERE id = ?1", [&agent])
        .unwrap();
    let mark = s.newest_event_id();
    s.patch(&path, &w.member, json!({"status": "active"}))
        .expect_error(403, "forbidden");
    s.patch(&path, &w.owner, json!({"status": "active"}))
        .expect_error(409, "assignee_missing");
    assert_eq!(next_run(&s, &autopilot), None);
    assert!(s.event_rows_after(mark).is_empty());
    // It can still be renamed or deleted by an admin.
    s.patch(&path, &w.admin, json!({"name": "orphan"}))
        .expect(200);
    s.delete(&path, &w.admin).expect(204);
}

#[test]
fn an_active_autopilot_of_an_archived_agent_is_skipped() {
    let s = start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "a");
    let autopilot = create(&s, &w.owner, &agent, 1, "active");
    // Archive behind the API's back, leaving the autopilot active.
    s.sql()
        .execute("UPDATE agent SET archived_at = 1 WHERE id = ?1", [&agent])
        .unwrap();
    s.clock().advance(Duration::minutes(1));
    let at = ms(s.now());
    wait_until("the skip", || next_run(&s, &autopilot) == Some(at + 60_000));
    assert_eq!(runs(&s, &autopilot), 0);
}

#[test]
fn a_server_start_schedules_the_first_run_one_interval_later() {
    let mut s = start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "a");
    let active = create(&s, &w.owner, &agent, 10, "active");
    let paused = create(&s, &w.owner, &agent, 10, "paused");
    s.stop();

    // Back three hours later: the missed runs are not replayed, the next one is 10 min away.
    let later = s.now() + Duration::hours(3);
    let clock = Arc::new(hangar::clock::PinnedClock::new(later));
    let mut config = hangar::config::Config::new(s.db_path());
    config.workers = 2;
    config.scheduler_tick = TICK;
    config.clock = clock.clone();
    let server = hangar::serve(TcpListener::bind("127.0.0.1:0").unwrap(), config).expect("serve");
    assert_eq!(next_run(&s, &active), Some(ms(later) + 10 * 60_000));
    assert_eq!(next_run(&s, &paused), None);
    let_ticks_pass();
    assert_eq!(runs(&s, &active), 0);
    clock.advance(Duration::minutes(10));
    wait_until("the first run after start", || runs(&s, &active) == 1);
    server.shutdown();
}

#[test]
fn crud_validates_everything_before_writing() {
    let s = start();
    let w = World::seed(&s);
    let owners = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &owners, "a");
    let elsewhere_rt = s.insert_runtime_in(&w.other_ws, &w.owner_id, "public");
    let foreign: String = {
        // An agent of the other workspace, inserted directly.
        let id = hangar::ids::new_id();
        s.sql()
            .execute(
                "INSERT INTO agent (id, workspace_id, runtime_id, name, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'far', 0, 0)",
                [&id, &w.other_ws, &elsewhere_rt],
            )
            .unwrap();
        id
    };
    let path = format!("/api/workspaces/{}/autopilots", s.ws);
    let body = |minutes: serde_json::Value| json!({"name": "n", "prompt": "p", "assignee_agent_id": agent, "interval_minutes": minutes});
    let mark = s.newest_event_id();
    for (minutes, code) in [
        (json!(0), "invalid_field"),
        (json!(10_081), "invalid_field"),
        (json!(-5), "invalid_field"),
        (json!(1.5), "invalid_field"),
        (json!(1e20), "invalid_field"),
        (json!("5"), "invalid_json"),
        (json!(null), "invalid_json"),
    ] {
        s.post(&path, &w.owner, body(minutes))
            .expect_error(400, code);
    }
    let with = |k: &str, v: serde_json::Value| {
        let mut b = body(json!(5));
        b[k] = v;
        b
    };
    for (b, status, code) in [
        (with("status", json!("on")), 400, "invalid_field"),
        (with("name", json!("")), 400, "invalid_field"),
        (with("prompt", json!("")), 400, "invalid_field"),
        (with("assignee_agent_id", json!("a1")), 400, "invalid_id"),
        (with("cron", json!("* * *")), 400, "unknown_field"),
        (
            with("assignee_agent_id", json!(hangar::ids::new_id())),
            404,
            "not_found",
        ),
        (with("assignee_agent_id", json!(foreign)), 404, "not_found"),
    ] {
        s.post(&path, &w.owner, b).expect_error(status, code);
    }
    s.post(&path, &w.member, body(json!(5)))
        .expect_error(403, "forbidden");
    s.post(&path, &w.outsider, body(json!(5)))
        .expect_error(404, "not_found");
    assert_eq!(s.count("SELECT COUNT(*) FROM autopilot"), 0);
    assert!(s.event_rows_after(mark).is_empty());

    // 1 and 10080 are the bounds; status defaults to active.
    s.post(&path, &w.owner, body(json!(10_080))).expect(201);
    let created = s.post(&path, &w.admin, body(json!(1))).expect(201);
    let id = created.id();
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["assignee_agent_id"], agent.as_str());
    assert_eq!(created.body["interval_minutes"], 1);
    let listed = s.get(&path, &w.member).expect(200);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    s.get(&path, &w.outsider).expect_error(404, "not_found");

    let one = format!("/api/autopilots/{id}");
    s.patch(&one, &w.member, json!({"name": "x"}))
        .expect_error(403, "forbidden");
    s.patch(&one, &w.outsider, json!({"name": "x"}))
        .expect_error(404, "not_found");
    s.patch(&one, &w.owner, json!({"interval_minutes": 0}))
        .expect_error(400, "invalid_field");
    s.patch(&one, &w.owner, json!({"assignee_agent_id": agent}))
        .expect_error(400, "unknown_field");
    s.clock().advance(Duration::seconds(30));
    let r = s
        .patch(
            &one,
            &w.owner,
            json!({"interval_minutes": 90, "prompt": "new"}),
        )
        .expect(200);
    assert_eq!(r.body["prompt"], "new");
    assert_eq!(
        next_run(&s, &id),
        Some(ms(s.now()) + 90 * 60_000),
        "rescheduled from now"
    );

    s.delete(&one, &w.member).expect_error(403, "forbidden");
    let mark = s.newest_event_id();
    s.delete(&one, &w.owner).expect(204);
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "autopilot:deleted");
    assert_eq!(events[0].2["autopilot"]["id"], id.as_str());
    s.delete(&one, &w.owner).expect_error(404, "not_found");
    s.delete("/api/autopilots/zz", &w.owner)
        .expect_error(400, "invalid_id");
}
