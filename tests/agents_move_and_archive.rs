//! Agents over HTTP (API.md §4): the side effects of moving (queued tasks follow, in-flight
//! ones stay), archiving (tasks cancelled, autopilots paused, events in cascade order) and
//! restoring (409 when the name was reused).
mod common;

use common::{TestServer, World};
use serde_json::{json, Value};

fn agents_path(s: &TestServer) -> String {
    format!("/api/workspaces/{}/agents", s.ws)
}

#[test]
fn moving_repins_queued_tasks_and_leaves_in_flight_ones() {
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 5, 4, 8, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let w = World::seed(&s);
    let from = s.insert_runtime(&w.member_id, "private");
    let to = s.insert_runtime(&w.member_id, "private");
    let owners = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.member, &from, "mover");
    let mut tasks = Vec::new();
    for i in 0..4 {
        tasks.push(s.enqueue(&w.member, &agent, &format!("t{i}")));
        s.clock().advance(chrono::Duration::seconds(1));
    }
    let claim = |rt: &str| {
        s.post(
            &format!("/api/daemon/runtimes/{rt}/claim"),
            &w.member_daemon,
            json!({}),
        )
    };
    claim(&from).expect(200); // t0 dispatched
    claim(&from).expect(200); // t1 dispatched …
    s.post(
        &format!("/api/daemon/tasks/{}/start", tasks[1]),
        &w.member_daemon,
        json!({}),
    )
    .expect(200); // … and running

    let path = format!("/api/agents/{agent}");
    s.patch(&path, &w.member, json!({"runtime_id": owners}))
        .expect_error(403, "runtime_not_usable");
    s.patch(
        &path,
        &w.member,
        json!({"runtime_id": hangar::ids::new_id()}),
    )
    .expect_error(404, "not_found");
    let moved = s
        .patch(&path, &w.member, json!({"runtime_id": to}))
        .expect(200);
    assert_eq!(moved.body["runtime_id"], to.as_str());
    let pinned: Vec<String> = tasks
        .iter()
        .map(|t| {
            s.sql()
                .query_row("SELECT runtime_id FROM task WHERE id = ?1", [t], |r| {
                    r.get(0)
                })
                .unwrap()
        })
        .collect();
    assert_eq!(pinned, [from.clone(), from.clone(), to.clone(), to.clone()]);
    // The new runtime serves the queued ones, oldest first; the old one finishes its own.
    let got = claim(&to).expect(200);
    assert_eq!(got.body["task"]["id"], tasks[2].as_str());
    claim(&from).expect(204);
    s.post(
        &format!("/api/daemon/tasks/{}/complete", tasks[1]),
        &w.member_daemon,
        json!({}),
    )
    .expect(200);
    // New work lands on the new runtime.
    let fresh = s
        .post(
            &format!("/api/agents/{agent}/tasks"),
            &w.member,
            json!({"prompt": "p"}),
        )
        .expect(201);
    assert_eq!(fresh.body["runtime_id"], to.as_str());
    // An admin may move it anywhere.
    s.patch(&path, &w.admin, json!({"runtime_id": owners}))
        .expect(200);
}

#[test]
fn archiving_cancels_tasks_pauses_autopilots_and_restoring_checks_the_name() {
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 5, 4, 8, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let tick = || s.clock().advance(chrono::Duration::seconds(1));
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.member_id, "private");
    let agent = s.create_agent(&w.member, &rt, "worker");
    let done = s.enqueue(&w.member, &agent, "done");
    let claim = || {
        s.post(
            &format!("/api/daemon/runtimes/{rt}/claim"),
            &w.member_daemon,
            json!({}),
        )
        .expect(200)
    };
    claim();
    s.post(
        &format!("/api/daemon/tasks/{done}/start"),
        &w.member_daemon,
        json!({}),
    )
    .expect(200);
    s.post(
        &format!("/api/daemon/tasks/{done}/complete"),
        &w.member_daemon,
        json!({}),
    )
    .expect(200);
    tick();
    let running = s.enqueue(&w.member, &agent, "running");
    claim();
    s.post(
        &format!("/api/daemon/tasks/{running}/start"),
        &w.member_daemon,
        json!({}),
    )
    .expect(200);
    tick();
    let dispatched = s.enqueue(&w.member, &agent, "dispatched");
    claim();
    tick();
    let queued = s.enqueue(&w.member, &agent, "queued");
    let autopilot = |name: &str, status: &str| {
        s.post(
            &format!("/api/workspaces/{}/autopilots", s.ws),
            &w.member,
            json!({"name": name, "prompt": "p", "assignee_agent_id": agent,
                   "interval_minutes": 60, "status": status}),
        )
        .expect(201)
        .id()
    };
    let active = autopilot("nightly", "active");
    let paused = autopilot("weekly", "paused");

    let path = format!("/api/agents/{agent}");
    let other = s.create_agent(&w.owner, &s.insert_runtime(&w.owner_id, "public"), "other");
    s.post(
        &format!("/api/agents/{other}/archive"),
        &w.member,
        json!({}),
    )
    .expect_error(403, "forbidden");
    s.post(&format!("{path}/archive"), &w.outsider, json!({}))
        .expect_error(404, "not_found");
    let mark = s.newest_event_id();
    let archived = s
        .post(&format!("{path}/archive"), &w.member, json!({}))
        .expect(200);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(archived.body["archived_by"], w.member_id.as_str());
    for (task, status) in [
        (&done, "completed"),
        (&running, "cancelled"),
        (&dispatched, "cancelled"),
        (&queued, "cancelled"),
    ] {
        assert_eq!(s.task_status(task), status);
    }
    let (status, next): (String, Option<i64>) = s
        .sql()
        .query_row(
            "SELECT status, next_run_at FROM autopilot WHERE id = ?1",
            [&active],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), next), ("paused", None));
    let events = s.event_rows_after(mark);
    let summary: Vec<(String, Value)> = events
        .iter()
        .map(|(t, _, p)| {
            let id = p
                .get("task")
                .or(p.get("agent"))
                .or(p.get("autopilot"))
                .map(|o| o["id"].clone())
                .unwrap_or(Value::Null);
            (t.clone(), id)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("task:cancelled".to_string(), json!(running)),
            ("task:cancelled".to_string(), json!(dispatched)),
            ("task:cancelled".to_string(), json!(queued)),
            ("agent:archived".to_string(), json!(agent)),
            ("autopilot:paused".to_string(), json!(active)),
        ]
    );
    assert_ne!(paused, active);
    // The late daemon learns its task is gone.
    s.post(
        &format!("/api/daemon/tasks/{running}/complete"),
        &w.member_daemon,
        json!({}),
    )
    .expect_error(409, "task_cancelled");

    s.post(&format!("{path}/archive"), &w.member, json!({}))
        .expect_error(409, "agent_archived");
    s.patch(&path, &w.member, json!({"name": "x"}))
        .expect_error(409, "agent_archived");
    let listed = |q: &str| {
        s.get(&format!("{}{q}", agents_path(&s)), &w.member)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed(""), 1);
    assert_eq!(listed("?include_archived=true"), 2);

    // The name is free while archived; restoring then conflicts until it is free again.
    let reuse = s.create_agent(&w.member, &rt, "worker");
    s.post(&format!("{path}/restore"), &w.member, json!({}))
        .expect_error(409, "agent_name_taken");
    s.patch(
        &format!("/api/agents/{reuse}"),
        &w.member,
        json!({"name": "worker-2"}),
    )
    .expect(200);
    let mark = s.newest_event_id();
    let restored = s
        .post(&format!("{path}/restore"), &w.member, json!({}))
        .expect(200);
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(restored.body["archived_by"], Value::Null);
    assert_eq!(s.event_types_after(mark), ["agent:restored"]);
    s.post(&format!("{path}/restore"), &w.member, json!({}))
        .expect_error(409, "agent_not_archived");
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM autopilot WHERE id = '{active}' AND status = 'paused'"
        )),
        1,
        "restoring does not re-activate autopilots"
    );
}
