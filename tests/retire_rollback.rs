//! A failure at any step of a runtime's teardown leaves the database exactly as before
//! (API.md §6). Each case installs a real trigger that raises at one step — cancelling tasks,
//! archiving agents, pausing autopilots, deleting squads and their members, deleting agents
//! and their tasks, deleting the runtime, nulling the survivors' runtime, taking back the
//! activity its deleted tasks counted for another runtime, appending the first or the last
//! event — and proves the request answers 500 `internal` and every table is
//! unchanged. Without a trigger the same request then succeeds, so every step was reached.
mod common;

use common::{TestServer, World};
use serde_json::json;

/// (what fails, the trigger's timing and event). Every one of them fires during a teardown
/// of the worlds below.
const STEPS: &[(&str, &str)] = &[
    ("cancel tasks", "BEFORE UPDATE OF status ON task"),
    ("archive agents", "BEFORE UPDATE OF archived_at ON agent"),
    ("pause autopilots", "BEFORE UPDATE ON autopilot"),
    ("delete squads", "BEFORE DELETE ON squad"),
    ("delete squad members", "BEFORE DELETE ON squad_member"),
    ("delete agents", "BEFORE DELETE ON agent"),
    ("delete their tasks", "BEFORE DELETE ON task"),
    ("delete the runtime", "BEFORE DELETE ON runtime"),
    (
        "null the survivors' runtime",
        "BEFORE UPDATE OF runtime_id ON task",
    ),
    (
        "take back the starts counted elsewhere",
        // Only another runtime's rows: the retired runtime's go, before this step, with it.
        "BEFORE UPDATE ON task_start_rollup \
         WHEN EXISTS (SELECT 1 FROM runtime WHERE id = OLD.runtime_id)",
    ),
    ("append the first event", "BEFORE INSERT ON event"),
    (
        "append the last event",
        "BEFORE INSERT ON event WHEN NEW.type = 'daemon:register'",
    ),
];

/// Runs `request` once per step with that step's trigger installed, asserting 500 and an
/// unchanged database; `skip` names steps this endpoint does not have.
fn each_failure_rolls_back(s: &TestServer, skip: &[&str], request: impl Fn() -> common::Resp) {
    for (step, timing) in STEPS.iter().filter(|(step, _)| !skip.contains(step)) {
        s.sql()
            .execute_batch(&format!(
                "CREATE TRIGGER injected_failure {timing} BEGIN SELECT RAISE(ABORT, 'injected'); END;"
            ))
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        let before = s.snapshot();
        let r = request();
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (500, Some("internal")),
            "{step}: the failure did not surface: {r:#?}"
        );
        let after = s.snapshot();
        let changed: Vec<_> = before.iter().zip(&after).filter(|(b, a)| b != a).collect();
        assert!(
            changed.is_empty(),
            "{step}: a failed teardown left changes behind: {changed:#?}"
        );
        s.sql()
            .execute_batch("DROP TRIGGER injected_failure;")
            .unwrap();
    }
}

/// A runtime owned by the member with: an archived agent that leads an archived squad (with
/// a member) and has an autopilot left active; an archived agent that ran a task on another
/// runtime before it moved here; a survivor that moved away, leaving an in-flight task and a
/// completed one pinned to the runtime. Returns the runtime's id. The stale autopilot's next
/// run is far away, so the scheduler never touches it mid-comparison.
fn world_with_archived_agents(s: &TestServer, w: &World) -> String {
    let rt = s.insert_runtime(&w.member_id, "private");
    let rt2 = s.insert_runtime(&w.member_id, "private");
    let arrival = s.create_agent(&w.member, &rt2, "arrival");
    let ran_elsewhere = s.enqueue(&w.member, &arrival, "ran elsewhere");
    assert_eq!(s.claim(&w.member_daemon, &rt2), Some(ran_elsewhere.clone()));
    s.finish(&w.member_daemon, &ran_elsewhere);
    s.move_agent(&w.member, &arrival, &rt);
    s.archive_agent(&w.member, &arrival);
    let old = s.create_agent(&w.member, &rt, "old");
    s.enqueue(&w.member, &old, "old work");
    let survivor = s.create_agent(&w.member, &rt, "survivor");
    let squad = s.create_squad(&w.member, "old squad", &old, &[&survivor]);
    s.archive_squad(&w.member, &squad);
    s.archive_agent(&w.member, &old);
    s.sql()
        .execute(
            "INSERT INTO autopilot (id, workspace_id, assignee_agent_id, name, prompt,
                 interval_minutes, status, next_run_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'stale', 'p', 5, 'active', 4102444800000, 1, 1)",
            [&hangar::ids::new_id(), &s.ws, &old],
        )
        .unwrap();
    let done = s.enqueue(&w.member, &survivor, "done");
    assert_eq!(s.claim(&w.member_daemon, &rt), Some(done.clone()));
    s.finish(&w.member_daemon, &done);
    let running = s.enqueue(&w.member, &survivor, "running");
    assert_eq!(s.claim(&w.member_daemon, &rt), Some(running));
    s.move_agent(&w.member, &survivor, &rt2);
    rt
}

#[test]
fn a_failure_at_any_step_of_the_strict_delete_rolls_everything_back() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = world_with_archived_agents(&s, &w);
    let path = format!("/api/runtimes/{rt}");
    each_failure_rolls_back(&s, &["archive agents"], || s.delete(&path, &w.member));
    s.delete(&path, &w.member).expect(200);
    assert!(!s.exists("runtime", &rt));
    assert!(s.foreign_key_violations().is_empty());
}

#[test]
fn a_failure_at_any_step_of_the_cascade_rolls_everything_back() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = world_with_archived_agents(&s, &w);
    let a = s.create_agent(&w.member, &rt, "a");
    s.enqueue(&w.member, &a, "queued");
    s.create_autopilot(&w.member, &a, "pilot");
    let b = s.create_agent(&w.member, &rt, "b");
    let path = format!("/api/runtimes/{rt}/archive-agents-and-delete");
    let body = json!({ "expected_active_agent_ids": [a, b] });
    each_failure_rolls_back(&s, &[], || s.post(&path, &w.member, body.clone()));
    let r = s.post(&path, &w.member, body.clone()).expect(200);
    assert_eq!(r.body["agents_archived"], 2);
    assert_eq!(r.body["tasks_cancelled"], 2);
    assert!(!s.exists("runtime", &rt));
    assert!(s.foreign_key_violations().is_empty());
}
