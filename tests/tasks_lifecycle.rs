//! Tasks over HTTP (API.md §3–§4): enqueue → claim → start → complete, cancel beating a late
//! daemon report, the daemon's ownership boundary, claim as a heartbeat, claim order, and
//! the reconnect-grace rule.
mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{TestServer, World};
use serde_json::{json, Value};

fn claim(s: &TestServer, daemon: &str, runtime: &str) -> common::Resp {
    s.post(
        &format!("/api/daemon/runtimes/{runtime}/claim"),
        daemon,
        json!({}),
    )
}

fn step(s: &TestServer, daemon: &str, task: &str, what: &str, body: Value) -> common::Resp {
    s.post(&format!("/api/daemon/tasks/{task}/{what}"), daemon, body)
}

#[test]
fn a_task_goes_from_queued_to_completed() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let mark = s.newest_event_id();

    let queued = s
        .post(
            &format!("/api/agents/{agent}/tasks"),
            &w.owner,
            json!({"prompt": "fix the build"}),
        )
        .expect(201);
    let task = queued.id();
    assert_eq!(queued.body["status"], "queued");
    assert_eq!(queued.body["runtime_id"], rt.as_str());
    assert_eq!(queued.body["agent_id"], agent.as_str());
    assert_eq!(queued.body["prompt"], "fix the build");
    assert_eq!(queued.body["dispatched_at"], Value::Null);

    let claimed = claim(&s, &w.owner_daemon, &rt).expect(200);
    assert_eq!(claimed.body["task"]["id"], task.as_str());
    assert_eq!(claimed.body["task"]["status"], "dispatched");
    assert!(claimed.body["task"]["dispatched_at"].is_string());
    claim(&s, &w.owner_daemon, &rt).expect(204);

    let running = step(&s, &w.owner_daemon, &task, "start", json!({})).expect(200);
    assert_eq!(running.body["status"], "running");
    assert!(running.body["started_at"].is_string());
    // Daemon endpoints ignore fields they do not know.
    let done = step(
        &s,
        &w.owner_daemon,
        &task,
        "complete",
        json!({"output": "all green", "from_the_future": 1}),
    )
    .expect(200);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["output"], "all green");
    assert!(done.body["completed_at"].is_string());

    step(&s, &w.owner_daemon, &task, "complete", json!({})).expect_error(409, "invalid_transition");
    step(&s, &w.owner_daemon, &task, "start", json!({})).expect_error(409, "invalid_transition");
    step(&s, &w.owner_daemon, &task, "fail", json!({"error": "x"}))
        .expect_error(409, "invalid_transition");

    let got = s.get(&format!("/api/tasks/{task}"), &w.member).expect(200);
    assert_eq!(got.body["status"], "completed");
    assert_eq!(got.body["usage"], json!([]));

    let events = s.event_rows_after(mark);
    let kinds: Vec<_> = events
        .iter()
        .map(|(t, a, p)| (t.as_str(), a.as_str(), p["task"]["status"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("task:queued", "member", json!("queued")),
            ("task:dispatched", "daemon", json!("dispatched")),
            ("task:running", "daemon", json!("running")),
            ("task:completed", "daemon", json!("completed")),
        ]
    );
    assert_eq!(events[3].2["task"], {
        let mut t = got.body.clone();
        t.as_object_mut().unwrap().remove("usage");
        t
    });
}

#[test]
fn fail_moves_dispatched_or_running_tasks_and_needs_an_error() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let task = s.enqueue(&w.owner, &agent, "p");
    step(&s, &w.owner_daemon, &task, "start", json!({})).expect_error(409, "invalid_transition");
    claim(&s, &w.owner_daemon, &rt).expect(200);
    step(&s, &w.owner_daemon, &task, "fail", json!({})).expect_error(400, "invalid_field");
    step(&s, &w.owner_daemon, &task, "fail", json!({"error": 3})).expect_error(400, "invalid_json");
    assert_eq!(s.task_status(&task), "dispatched");
    let failed = step(
        &s,
        &w.owner_daemon,
        &task,
        "fail",
        json!({"error": "no disk"}),
    )
    .expect(200);
    assert_eq!(failed.body["status"], "failed");
    assert_eq!(failed.body["error"], "no disk");
}

#[test]
fn cancel_wins_over_a_late_complete() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let task = s.enqueue(&w.owner, &agent, "long job");
    claim(&s, &w.owner_daemon, &rt).expect(200);
    step(&s, &w.owner_daemon, &task, "start", json!({})).expect(200);

    let cancelled = s
        .post(&format!("/api/tasks/{task}/cancel"), &w.admin, json!({}))
        .expect(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let mark = s.newest_event_id();
    for (what, body) in [
        ("complete", json!({"output": "too late"})),
        ("fail", json!({"error": "too late"})),
        ("start", json!({})),
    ] {
        step(&s, &w.owner_daemon, &task, what, body).expect_error(409, "task_cancelled");
    }
    assert_eq!(s.task_status(&task), "cancelled");
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM task WHERE id = '{task}' AND output IS NULL"
        )),
        1
    );
    assert!(
        s.event_rows_after(mark).is_empty(),
        "nothing written on 409"
    );
    s.post(&format!("/api/tasks/{task}/cancel"), &w.owner, json!({}))
        .expect_error(409, "task_not_active");
    // Cancelling needs the enqueue permission; a queued task can be cancelled too.
    let queued = s.enqueue(&w.owner, &agent, "second");
    s.post(&format!("/api/tasks/{queued}/cancel"), &w.member, json!({}))
        .expect_error(403, "forbidden");
    s.post(
        &format!("/api/tasks/{queued}/cancel"),
        &w.outsider,
        json!({}),
    )
    .expect_error(404, "not_found");
    s.post("/api/tasks/nope/cancel", &w.owner, json!({}))
        .expect_error(400, "invalid_id");
    assert_eq!(s.task_status(&queued), "queued");
    s.post(&format!("/api/tasks/{queued}/cancel"), &w.owner, json!({}))
        .expect(200);
    claim(&s, &w.owner_daemon, &rt).expect(204);
}

#[test]
fn a_daemon_only_touches_its_own_runtimes_and_tasks() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let task = s.enqueue(&w.owner, &agent, "p");
    let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    let mark = s.newest_event_id();
    let seen_before = s.count(&format!(
        "SELECT last_seen_at FROM runtime WHERE id = '{rt}'"
    ));

    claim(&s, &w.member_daemon, &rt).expect_error(404, "not_found");
    claim(&s, &outsider_daemon, &rt).expect_error(404, "not_found");
    claim(&s, &w.owner_daemon, &hangar::ids::new_id()).expect_error(404, "not_found");
    claim(&s, &w.owner_daemon, "not-an-id").expect_error(400, "invalid_id");
    claim(&s, &w.owner, &rt).expect_error(401, "unauthorized");
    s.get(&format!("/api/daemon/runtimes/{rt}/claim"), &w.owner_daemon)
        .expect_error(405, "method_not_allowed");
    assert_eq!(s.task_status(&task), "queued");
    assert_eq!(
        s.count(&format!(
            "SELECT last_seen_at FROM runtime WHERE id = '{rt}'"
        )),
        seen_before,
        "a refused claim is no heartbeat"
    );

    claim(&s, &w.owner_daemon, &rt).expect(200);
    step(&s, &w.member_daemon, &task, "start", json!({})).expect_error(404, "not_found");
    step(&s, &outsider_daemon, &task, "start", json!({})).expect_error(404, "not_found");
    step(
        &s,
        &w.owner_daemon,
        &hangar::ids::new_id(),
        "start",
        json!({}),
    )
    .expect_error(404, "not_found");
    step(&s, &w.owner_daemon, "x", "start", json!({})).expect_error(400, "invalid_id");
    assert_eq!(s.task_status(&task), "dispatched");
    assert_eq!(s.event_types_after(mark), ["task:dispatched"]);
}

#[test]
fn a_claim_counts_as_a_heartbeat() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    s.sql()
        .execute(
            "UPDATE runtime SET status = 'offline', last_seen_at = 5 WHERE id = ?1",
            [&rt],
        )
        .unwrap();
    s.clock().advance(Duration::seconds(10));
    let mark = s.newest_event_id();
    claim(&s, &w.owner_daemon, &rt).expect(204);
    let (status, seen): (String, i64) = s
        .sql()
        .query_row(
            "SELECT status, last_seen_at FROM runtime WHERE id = ?1",
            [&rt],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), seen),
        ("online", s.now().timestamp_millis())
    );
    claim(&s, &w.owner_daemon, &rt).expect(204);
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "runtime:status");
    assert_eq!(events[0].2, json!({"runtime_id": rt, "status": "online"}));
}

#[test]
fn claims_take_the_oldest_queued_task_of_a_live_agent() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let other_rt = s.insert_runtime(&w.owner_id, "private");
    let a = s.create_agent(&w.owner, &rt, "a");
    let b = s.create_agent(&w.owner, &rt, "b");
    let elsewhere = s.create_agent(&w.owner, &other_rt, "c");
    s.enqueue(&w.owner, &elsewhere, "not here");
    let first = s.enqueue(&w.owner, &b, "first");
    s.clock().advance(Duration::seconds(1));
    let of_archived = s.enqueue(&w.owner, &a, "archived agent");
    s.clock().advance(Duration::seconds(1));
    let second = s.enqueue(&w.owner, &b, "second");
    s.post(&format!("/api/agents/{a}/archive"), &w.owner, json!({}))
        .expect(200);
    // Archiving cancelled it; force it back to queued to prove the claim itself skips it.
    s.sql()
        .execute(
            "UPDATE task SET status = 'queued' WHERE id = ?1",
            [&of_archived],
        )
        .unwrap();
    let got: Vec<String> = (0..2)
        .map(|_| {
            claim(&s, &w.owner_daemon, &rt).expect(200).body["task"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, [first, second]);
    claim(&s, &w.owner_daemon, &rt).expect(204);
    assert_eq!(s.task_status(&of_archived), "queued");
}

#[test]
fn in_flight_tasks_fail_once_their_runtime_stays_offline_past_the_grace() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let live_rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let live_agent = s.create_agent(&w.owner, &live_rt, "live");
    let running = s.enqueue(&w.owner, &agent, "running");
    s.clock().advance(Duration::seconds(1));
    let dispatched = s.enqueue(&w.owner, &agent, "dispatched");
    s.clock().advance(Duration::seconds(1));
    let queued = s.enqueue(&w.owner, &agent, "queued");
    let on_live = s.enqueue(&w.owner, &live_agent, "on a live runtime");
    claim(&s, &w.owner_daemon, &rt).expect(200);
    claim(&s, &w.owner_daemon, &rt).expect(200);
    claim(&s, &w.owner_daemon, &live_rt).expect(200);
    step(&s, &w.owner_daemon, &running, "start", json!({})).expect(200);

    s.sql()
        .execute("UPDATE runtime SET status = 'offline' WHERE id = ?1", [&rt])
        .unwrap();
    let grace_ms = 60_000;
    let sweep = |s: &TestServer| -> usize {
        let now = s.now().timestamp_millis();
        s.handle()
            .ctx()
            .write(|tx| hangar::work::tasks::fail_stranded(tx, now, grace_ms))
            .expect("sweep")
    };
    s.clock().advance(Duration::seconds(30));
    assert_eq!(sweep(&s), 0, "still within the grace");
    s.clock().advance(Duration::seconds(31));
    // The live runtime was last seen just as long ago but is online: untouched.
    let mark = s.newest_event_id();
    assert_eq!(sweep(&s), 2);
    assert_eq!(sweep(&s), 0, "idempotent");
    for (task, status) in [
        (&running, "failed"),
        (&dispatched, "failed"),
        (&queued, "queued"),
        (&on_live, "dispatched"),
    ] {
        assert_eq!(s.task_status(task), status, "{task}");
    }
    let events = s.event_rows_after(mark);
    let got: Vec<_> = events
        .iter()
        .map(|(t, a, p)| {
            (
                t.as_str(),
                a.as_str(),
                p["task"]["id"].as_str().unwrap().to_string(),
                p["task"]["error"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "task:failed",
                "system",
                running.clone(),
                json!("runtime_offline")
            ),
            (
                "task:failed",
                "system",
                dispatched.clone(),
                json!("runtime_offline")
            ),
        ]
    );
    // The daemon coming back learns the task is over.
    step(&s, &w.owner_daemon, &running, "complete", json!({}))
        .expect_error(409, "invalid_transition");
}
