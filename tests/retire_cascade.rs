//! Confirmed cascade (API.md §6): input errors in contract order, the plan check inside the
//! transaction (stale by an added, a removed or an archived agent → 409 with the current
//! agents, nothing changed), the squad guard, and the teardown with its rows and events in
//! the contract's order.
mod common;

use common::{TestServer, World};
use serde_json::{json, Value};

fn cascade(s: &TestServer, token: &str, rt: &str, body: Value) -> common::Resp {
    s.post(
        &format!("/api/runtimes/{rt}/archive-agents-and-delete"),
        token,
        body,
    )
}

fn plan(ids: &[&String]) -> Value {
    json!({ "expected_active_agent_ids": ids })
}

/// The agents as the API shows them now, oldest first.
fn agents_json(s: &TestServer, token: &str, ids: &[&String]) -> Value {
    Value::Array(
        s.oldest_first("agent", ids)
            .iter()
            .map(|id| s.get(&format!("/api/agents/{id}"), token).expect(200).body)
            .collect(),
    )
}

#[test]
fn cascade_archives_the_confirmed_agents_and_tears_down_in_order() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.member_id, "private");
    let rt2 = s.insert_runtime(&w.member_id, "private");

    // `a` on rt: a dispatched, a completed and a queued task; an active autopilot; an
    // archived squad it leads.
    let a = s.create_agent(&w.member, &rt, "a");
    let a_done = s.enqueue(&w.member, &a, "a done");
    assert_eq!(s.claim(&w.member_daemon, &rt), Some(a_done.clone()));
    s.finish(&w.member_daemon, &a_done);
    let a_running = s.enqueue(&w.member, &a, "a running");
    assert_eq!(s.claim(&w.member_daemon, &rt), Some(a_running.clone()));
    // `stayer` worked on rt and moved away: its in-flight task pinned to rt is cancelled,
    // its history stays with a null runtime. It leads a live squad with `a` as a member.
    let stayer = s.create_agent(&w.member, &rt, "stayer");
    let stayer_running = s.enqueue(&w.member, &stayer, "stayer running");
    assert_eq!(s.claim(&w.member_daemon, &rt), Some(stayer_running.clone()));
    s.move_agent(&w.member, &stayer, &rt2);
    let a_queued = s.enqueue(&w.member, &a, "a queued");
    let a_pilot = s.create_autopilot(&w.member, &a, "a pilot");
    let b = s.create_agent(&w.member, &rt, "b");
    let b_queued = s.enqueue(&w.member, &b, "b queued");
    let b_pilot = s.create_autopilot(&w.member, &b, "b pilot");
    let b_paused = s
        .post(
            &format!("/api/workspaces/{}/autopilots", s.ws),
            &w.member,
            json!({"name": "b paused", "prompt": "p", "assignee_agent_id": b,
                   "interval_minutes": 5, "status": "paused"}),
        )
        .expect(201)
        .id();
    let old_squad = s.create_squad(&w.member, "old squad", &a, &[&b]);
    s.archive_squad(&w.member, &old_squad);
    // `gone` was archived before; it stays archived and is deleted.
    let gone = s.create_agent(&w.member, &rt, "gone");
    s.archive_agent(&w.member, &gone);
    let crew = s.create_squad(&w.member, "crew", &stayer, &[&a, &stayer]);
    // `arrival` came from rt2 with an in-flight task pinned there: archived with the
    // runtime, so that task is cancelled too.
    let arrival = s.create_agent(&w.member, &rt2, "arrival");
    let arrival_running = s.enqueue(&w.member, &arrival, "arrival running");
    assert_eq!(
        s.claim(&w.member_daemon, &rt2),
        Some(arrival_running.clone())
    );
    s.move_agent(&w.member, &arrival, &rt);
    let bystander = s.create_agent(&w.member, &rt2, "bystander");
    let bystander_queued = s.enqueue(&w.member, &bystander, "elsewhere");

    // Within each kind, events come oldest first (by creation instant, then id).
    let cancelled = s.oldest_first(
        "task",
        &[
            &a_running,
            &a_queued,
            &b_queued,
            &stayer_running,
            &arrival_running,
        ],
    );
    let archived = s.oldest_first("agent", &[&a, &b, &arrival]);
    let paused = s.oldest_first("autopilot", &[&a_pilot, &b_pilot]);

    let mark = s.newest_event_id();
    // An admin confirms, listing the plan out of order and with a duplicate.
    let r = cascade(&s, &w.admin, &rt, plan(&[&b, &arrival, &a, &b])).expect(200);
    assert_eq!(
        r.body,
        json!({"status": "ok", "agents_archived": 3, "tasks_cancelled": 5})
    );

    for agent in [&a, &b, &gone, &arrival] {
        assert!(!s.exists("agent", agent), "agent {agent} survived");
    }
    for task in [&a_done, &a_running, &a_queued, &b_queued, &arrival_running] {
        assert!(!s.exists("task", task), "task {task} survived its agent");
    }
    assert!(!s.exists("runtime", &rt));
    assert!(!s.exists("squad", &old_squad));
    assert_eq!(s.task_row(&stayer_running), ("cancelled".into(), None));
    assert_eq!(
        s.task_row(&bystander_queued),
        ("queued".into(), Some(rt2.clone()))
    );
    let crew_now = s.get(&format!("/api/squads/{crew}"), &w.member).expect(200);
    assert_eq!(crew_now.body["member_agent_ids"], json!([stayer]));
    let pilots: Vec<(String, String, Option<i64>)> = {
        let c = s.sql();
        let mut stmt = c
            .prepare("SELECT id, status, next_run_at FROM autopilot ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    // By id: two of them may share a creation instant.
    let mut expected = vec![
        (a_pilot.clone(), "paused".to_string(), None),
        (b_pilot.clone(), "paused".into(), None),
        (b_paused.clone(), "paused".into(), None),
    ];
    expected.sort();
    assert_eq!(pilots, expected);

    // Events: task:cancelled per task (oldest first), agent:archived per agent, then
    // autopilot:paused per autopilot, then daemon:register delete — all by the admin.
    let events = s.event_rows_after(mark);
    let summary: Vec<(&str, Value)> = events
        .iter()
        .map(|(kind, actor, payload)| {
            assert_eq!(actor, "member", "{kind}");
            let id = match kind.as_str() {
                "task:cancelled" => payload["task"]["id"].clone(),
                "agent:archived" => payload["agent"]["id"].clone(),
                "autopilot:paused" => payload["autopilot"]["id"].clone(),
                _ => payload.clone(),
            };
            (kind.as_str(), id)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("task:cancelled", json!(cancelled[0])),
            ("task:cancelled", json!(cancelled[1])),
            ("task:cancelled", json!(cancelled[2])),
            ("task:cancelled", json!(cancelled[3])),
            ("task:cancelled", json!(cancelled[4])),
            ("agent:archived", json!(archived[0])),
            ("agent:archived", json!(archived[1])),
            ("agent:archived", json!(archived[2])),
            ("autopilot:paused", json!(paused[0])),
            ("autopilot:paused", json!(paused[1])),
            (
                "daemon:register",
                json!({"action": "delete", "runtime_id": rt})
            ),
        ]
    );
    let admin_id = w.admin_id.as_str();
    for (kind, _, payload) in &events {
        match kind.as_str() {
            "task:cancelled" => {
                assert_eq!(payload["task"]["status"], "cancelled");
                assert!(payload["task"]["completed_at"].is_string());
            }
            "agent:archived" => {
                assert_eq!(payload["agent"]["archived_by"], admin_id);
                assert!(payload["agent"]["archived_at"].is_string());
            }
            "autopilot:paused" => {
                assert_eq!(payload["autopilot"]["status"], "paused");
                assert_eq!(payload["autopilot"]["next_run_at"], Value::Null);
            }
            _ => {}
        }
    }
    let actor_ids = s.count(&format!(
        "SELECT count(*) FROM event WHERE id > {mark} AND actor_id = '{admin_id}'"
    ));
    assert_eq!(actor_ids, events.len() as i64);
    assert!(s.foreign_key_violations().is_empty());
    cascade(&s, &w.admin, &rt, json!({})).expect_error(404, "not_found");
}

#[test]
fn cascade_input_errors_come_in_contract_order_and_change_nothing() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let a = s.create_agent(&w.member, &rt, "a");
    let foreign = s.insert_runtime_in(&w.other_ws, &w.owner_id, "public");
    let unknown = hangar::ids::new_id();
    let path = |id: &str| format!("/api/runtimes/{id}/archive-agents-and-delete");
    let raw = |id: &str, token: &str, body: &str| {
        s.raw(
            "POST",
            &path(id),
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            Some(body.as_bytes()),
        )
    };
    let before = s.snapshot();

    // 400 path id first, even with a bad body.
    raw("nope", &w.owner, "[").expect_error(400, "invalid_id");
    // Then the body, even for a runtime that does not exist.
    for body in [
        "[",
        "[]",
        "\"plan\"",
        "{\"expected_active_agent_ids\": \"x\"}",
        "{\"expected_active_agent_ids\": [1]}",
        "{\"expected_active_agent_ids\": {}}",
    ] {
        raw(&unknown, &w.owner, body).expect_error(400, "invalid_json");
    }
    let bad_ids = json!({"expected_active_agent_ids": [a, "not-a-uuid"]});
    cascade(&s, &w.owner, &unknown, bad_ids).expect_error(400, "invalid_id");
    cascade(&s, &w.owner, &unknown, json!({"expected": []})).expect_error(400, "unknown_field");
    // Then 404: unknown, another workspace's, or not a member.
    cascade(&s, &w.owner, &unknown, plan(&[])).expect_error(404, "not_found");
    cascade(&s, &w.owner, &foreign, plan(&[])).expect_error(404, "not_found");
    cascade(&s, &w.outsider, &rt, plan(&[&a])).expect_error(404, "not_found");
    // Then 403, even with a stale plan.
    let r = cascade(&s, &w.member, &rt, plan(&[])).expect_error(403, "forbidden");
    assert_eq!(r.body["error"], "you can only delete your own runtimes");
    assert_eq!(s.snapshot(), before, "a refused cascade changed something");

    // Missing, null and empty plans all mean "no active agents".
    for body in [
        json!({}),
        json!({"expected_active_agent_ids": null}),
        plan(&[]),
    ] {
        let r = cascade(&s, &w.owner, &rt, body).expect_error(409, "runtime_delete_plan_changed");
        assert_eq!(r.body["active_agents"], agents_json(&s, &w.owner, &[&a]));
    }
    assert_eq!(s.snapshot(), before, "a refused cascade changed something");
    let empty = s.insert_runtime(&w.owner_id, "public");
    let r = s
        .raw(
            "POST",
            &path(&empty),
            &[("Authorization", &format!("Bearer {}", w.owner))],
            None,
        )
        .expect(200);
    assert_eq!(
        r.body,
        json!({"status": "ok", "agents_archived": 0, "tasks_cancelled": 0})
    );
    // Ids are accepted in any case.
    let upper = json!({"expected_active_agent_ids": [a.to_uppercase()]});
    cascade(&s, &w.owner, &rt, upper).expect(200);
    assert!(!s.exists("runtime", &rt));
    assert!(s.exists("runtime", &foreign));
}

#[test]
fn a_stale_plan_is_refused_with_the_current_agents_and_changes_nothing() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let rt2 = s.insert_runtime(&w.owner_id, "public");
    let a = s.create_agent(&w.member, &rt, "a");
    let b = s.create_agent(&w.member, &rt, "b");
    let c = s.create_agent(&w.member, &rt, "c");
    for agent in [&a, &b, &c] {
        s.enqueue(&w.member, agent, "work");
        s.create_autopilot(&w.member, agent, &format!("pilot {agent}"));
    }
    let shown = [&a, &b, &c];

    let stale = |changed: &str, current: &[&String]| {
        let before = s.snapshot();
        let r = cascade(&s, &w.owner, &rt, plan(&shown))
            .expect_error(409, "runtime_delete_plan_changed");
        assert_eq!(
            r.body["active_agents"],
            agents_json(&s, &w.owner, current),
            "{changed}"
        );
        assert_eq!(
            s.snapshot(),
            before,
            "{changed}: a refused cascade changed something"
        );
    };

    // One added since the plan was shown.
    let d = s.create_agent(&w.member, &rt, "d");
    stale("added", &[&a, &b, &c, &d]);
    s.move_agent(&w.member, &d, &rt2);
    // One removed (moved away).
    s.move_agent(&w.member, &c, &rt2);
    stale("removed", &[&a, &b]);
    s.move_agent(&w.member, &c, &rt);
    // One archived.
    s.archive_agent(&w.member, &b);
    stale("archived", &[&a, &c]);
    // A well-formed id of no agent at all is stale too.
    let ghost = hangar::ids::new_id();
    let r = cascade(&s, &w.owner, &rt, plan(&[&a, &c, &ghost]));
    r.expect_error(409, "runtime_delete_plan_changed");

    let r = cascade(&s, &w.owner, &rt, plan(&[&c, &a])).expect(200);
    assert_eq!(r.body["agents_archived"], 2);
    assert!(!s.exists("runtime", &rt));
    assert!(s.exists("agent", &d));
}

#[test]
fn cascade_refuses_live_squads_led_by_any_of_the_runtimes_agents() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let a = s.create_agent(&w.member, &rt, "a");
    let old = s.create_agent(&w.member, &rt, "old");
    let led_by_active = s.create_squad(&w.member, "by a", &a, &[]);
    let led_by_archived = s.create_squad(&w.member, "by old", &old, &[&a]);
    s.archive_agent(&w.member, &old);

    // The plan check comes first.
    cascade(&s, &w.owner, &rt, plan(&[])).expect_error(409, "runtime_delete_plan_changed");
    let before = s.snapshot();
    let r = cascade(&s, &w.owner, &rt, plan(&[&a])).expect_error(409, "runtime_has_active_squads");
    let squads: Vec<Value> = s
        .oldest_first("squad", &[&led_by_active, &led_by_archived])
        .iter()
        .map(|id| {
            s.get(&format!("/api/squads/{id}"), &w.owner)
                .expect(200)
                .body
        })
        .collect();
    assert_eq!(r.body["active_squads"], Value::Array(squads));
    assert_eq!(s.snapshot(), before);

    s.archive_squad(&w.member, &led_by_active);
    let r = cascade(&s, &w.owner, &rt, plan(&[&a])).expect_error(409, "runtime_has_active_squads");
    assert_eq!(r.body["active_squads"][0]["id"], led_by_archived.as_str());
    assert_eq!(s.snapshot().len(), before.len());

    s.archive_squad(&w.member, &led_by_archived);
    cascade(&s, &w.owner, &rt, plan(&[&a])).expect(200);
    assert_eq!(s.count("SELECT count(*) FROM squad"), 0);
    assert_eq!(s.count("SELECT count(*) FROM squad_member"), 0);
    assert!(s.foreign_key_violations().is_empty());
}
