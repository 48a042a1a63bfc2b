//! Strict runtime delete (API.md §6): the checks in contract order (400 → 404 → 403 → 409
//! active agents → 409 active squads), each refusal changing nothing, and the teardown in
//! one transaction — archived agents, their tasks and archived squads deleted, tasks still
//! pinned to the runtime cancelled, stale active autopilots paused, survivors' history kept
//! with a null runtime — with its events in order.
mod common;

use common::{TestServer, World};
use serde_json::{json, Value};

#[test]
fn strict_delete_tears_down_and_keeps_the_survivors_history() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.member_id, "private");
    let rt2 = s.insert_runtime(&w.member_id, "private");

    // `old` lives on rt: a task, an autopilot, an archived squad it leads; then archived.
    let old = s.create_agent(&w.member, &rt, "old");
    let old_task = s.enqueue(&w.member, &old, "old work");
    let old_pilot = s.create_autopilot(&w.member, &old, "old pilot");
    let mover = s.create_agent(&w.member, &rt, "mover");
    let led_by_old = s.create_squad(&w.member, "old squad", &old, &[&old, &mover]);
    s.archive_squad(&w.member, &led_by_old);
    let live_squad = s.create_squad(&w.member, "movers", &mover, &[&old, &mover]);
    s.archive_agent(&w.member, &old);
    // An active autopilot of an archived agent (left by an older version, say) must be paused.
    let stale_pilot = hangar::ids::new_id();
    s.sql()
        .execute(
            "INSERT INTO autopilot (id, workspace_id, assignee_agent_id, name, prompt,
                 interval_minutes, status, next_run_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'stale', 'p', 5, 'active', 1, 1, 1)",
            [&stale_pilot, &s.ws, &old],
        )
        .unwrap();

    // `mover` ran work on rt, then moved to rt2: its completed and dispatched tasks stay
    // pinned to rt, its queued one follows it.
    let done = s.enqueue(&w.member, &mover, "done on rt");
    assert_eq!(
        s.claim(&w.member_daemon, &rt).as_deref(),
        Some(done.as_str())
    );
    s.finish(&w.member_daemon, &done);
    let in_flight = s.enqueue(&w.member, &mover, "in flight on rt");
    assert_eq!(
        s.claim(&w.member_daemon, &rt).as_deref(),
        Some(in_flight.as_str())
    );
    let queued = s.enqueue(&w.member, &mover, "queued");
    s.move_agent(&w.member, &mover, &rt2);
    assert_eq!(s.task_row(&queued).1.as_deref(), Some(rt2.as_str()));

    let mark = s.newest_event_id();
    let r = s
        .delete(&format!("/api/runtimes/{rt}"), &w.member)
        .expect(200);
    assert_eq!(r.body, json!({"status": "ok"}));

    // Gone: the runtime, the archived agent with its tasks, the squad it led.
    assert!(!s.exists("runtime", &rt));
    assert!(!s.exists("agent", &old));
    assert!(!s.exists("task", &old_task));
    assert!(!s.exists("squad", &led_by_old));
    assert_eq!(
        s.count(&format!(
            "SELECT count(*) FROM squad_member WHERE squad_id = '{led_by_old}' OR agent_id = '{old}'"
        )),
        0
    );
    s.get(&format!("/api/agents/{old}"), &w.member)
        .expect_error(404, "not_found");
    // Kept: the survivor's history, with a null runtime; its queued task on rt2 untouched.
    assert_eq!(s.task_row(&done), ("completed".into(), None));
    assert_eq!(s.task_row(&in_flight), ("cancelled".into(), None));
    assert_eq!(s.task_row(&queued), ("queued".into(), Some(rt2.clone())));
    let squad = s
        .get(&format!("/api/squads/{live_squad}"), &w.member)
        .expect(200);
    assert_eq!(squad.body["member_agent_ids"], json!([mover]));
    // Autopilots outlive their agent, paused.
    for pilot in [&old_pilot, &stale_pilot] {
        let (status, next): (String, Option<i64>) = s
            .sql()
            .query_row(
                "SELECT status, next_run_at FROM autopilot WHERE id = ?1",
                [pilot],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((status.as_str(), next), ("paused", None));
    }

    let events = s.event_rows_after(mark);
    let summary: Vec<(&str, &str, Value)> = events
        .iter()
        .map(|(kind, actor, payload)| {
            let id = match kind.as_str() {
                "task:cancelled" => payload["task"]["id"].clone(),
                "autopilot:paused" => payload["autopilot"]["id"].clone(),
                _ => payload.clone(),
            };
            (kind.as_str(), actor.as_str(), id)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("task:cancelled", "member", json!(in_flight)),
            ("autopilot:paused", "member", json!(stale_pilot)),
            (
                "daemon:register",
                "member",
                json!({"action": "delete", "runtime_id": rt})
            ),
        ]
    );
    let cancelled = &events[0].2["task"];
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["completed_at"].is_string());
    assert_eq!(events[1].2["autopilot"]["status"], "paused");
    assert_eq!(events[1].2["autopilot"]["next_run_at"], Value::Null);
    assert!(s.foreign_key_violations().is_empty());

    s.delete(&format!("/api/runtimes/{rt}"), &w.member)
        .expect_error(404, "not_found");
}

#[test]
fn strict_delete_checks_in_contract_order_and_refusals_change_nothing() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let a = s.create_agent(&w.member, &rt, "a");
    let b = s.create_agent(&w.owner, &rt, "b");
    s.enqueue(&w.member, &a, "work");
    let foreign = s.insert_runtime_in(&w.other_ws, &w.owner_id, "public");
    let before = s.snapshot();
    let path = format!("/api/runtimes/{rt}");

    s.delete("/api/runtimes/not-a-uuid", &w.owner)
        .expect_error(400, "invalid_id");
    s.call("DELETE", &path, &w.owner, Some(&json!([1])))
        .expect_error(400, "invalid_json");
    s.delete(
        &format!("/api/runtimes/{}", hangar::ids::new_id()),
        &w.owner,
    )
    .expect_error(404, "not_found");
    // Another workspace's runtime is as unknown as a missing one, for anyone outside it.
    let r = s
        .delete(&format!("/api/runtimes/{foreign}"), &w.owner)
        .expect_error(404, "not_found");
    assert_eq!(r.body["error"], "runtime not found");
    s.delete(&path, &w.outsider).expect_error(404, "not_found");
    // A member who does not own the runtime: 403 even though 409 would also apply.
    let r = s.delete(&path, &w.member).expect_error(403, "forbidden");
    assert_eq!(r.body["error"], "you can only delete your own runtimes");
    s.delete(&path, &w.owner_daemon)
        .expect_error(401, "unauthorized");

    let r = s
        .delete(&path, &w.admin)
        .expect_error(409, "runtime_has_active_agents");
    let expected: Vec<Value> = s
        .oldest_first("agent", &[&a, &b])
        .iter()
        .map(|id| {
            s.get(&format!("/api/agents/{id}"), &w.owner)
                .expect(200)
                .body
        })
        .collect();
    assert_eq!(r.body["active_agents"], Value::Array(expected));
    assert_eq!(s.snapshot(), before, "a refused delete changed something");

    // Archived agents, but a live squad led by one of them → runtime_has_active_squads.
    let squad = s.create_squad(&w.member, "crew", &a, &[&b]);
    s.archive_agent(&w.owner, &a);
    s.archive_agent(&w.owner, &b);
    let before = s.snapshot();
    let r = s
        .delete(
            &path
                .to_uppercase()
                .replace("/API/RUNTIMES", "/api/runtimes"),
            &w.owner,
        )
        .expect_error(409, "runtime_has_active_squads");
    let squad_json = s
        .get(&format!("/api/squads/{squad}"), &w.owner)
        .expect(200)
        .body;
    assert_eq!(r.body["active_squads"], json!([squad_json]));
    assert_eq!(s.snapshot(), before, "a refused delete changed something");

    s.archive_squad(&w.member, &squad);
    let mark = s.newest_event_id();
    s.delete(&path, &w.owner).expect(200);
    assert!(!s.exists("runtime", &rt));
    assert!(!s.exists("squad", &squad));
    assert_eq!(s.count("SELECT count(*) FROM agent"), 0);
    assert_eq!(s.count("SELECT count(*) FROM task"), 0);
    assert_eq!(s.event_types_after(mark), ["daemon:register"]);
    assert!(s.exists("runtime", &foreign));
}
