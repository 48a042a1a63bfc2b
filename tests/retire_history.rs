//! History outlives a retired runtime (API.md §6): after the strict delete and after the
//! cascade, the usage ledger and its rollups are unchanged row for row, every workspace
//! report answers exactly as before (the deleted runtime still appears in `by-runtime`), and
//! tasks of surviving agents keep their rows with a null runtime.
mod common;

use common::ledger::{self, report};
use common::{TestServer, World};
use serde_json::json;

const NOW: &str = "2026-06-15T12:00:00Z";

/// Tables of the usage ledger and its rollups, as rows, with every pending delta folded in.
fn usage_tables(s: &TestServer) -> common::Snapshot {
    ledger::fold(s);
    s.snapshot()
        .into_iter()
        .filter(|(table, _)| table.starts_with("usage") || table == "task_usage")
        .collect()
}

/// Every workspace report, as the API answers it.
fn workspace_reports(s: &TestServer, token: &str) -> Vec<String> {
    ["daily", "summary", "by-runtime", "by-agent"]
        .iter()
        .map(|kind| {
            s.get(&format!("/api/workspaces/{}/usage/{kind}", s.ws), token)
                .expect(200)
                .text
        })
        .collect()
}

/// A runtime owned by the owner with two agents, one of which ran a task that reported usage
/// and moved away to `elsewhere` (leaving a completed task behind); the other has a task that
/// reported usage and is still running. Returns (runtime, staying agent, moved agent, the
/// moved agent's task).
fn runtime_with_usage(s: &TestServer, w: &World, tag: &str, elsewhere: &str) -> [String; 4] {
    let rt = s.insert_runtime(&w.owner_id, "private");
    let stays = s.create_agent(&w.owner, &rt, &format!("{tag} stays"));
    let moves = s.create_agent(&w.owner, &rt, &format!("{tag} moves"));
    let moved_task = s.enqueue(&w.owner, &moves, "done before the move");
    assert_eq!(s.claim(&w.owner_daemon, &rt), Some(moved_task.clone()));
    s.finish(&w.owner_daemon, &moved_task);
    let running = s.enqueue(&w.owner, &stays, "still running");
    assert_eq!(s.claim(&w.owner_daemon, &rt), Some(running.clone()));
    for (task, tokens) in [(&moved_task, 1_000), (&running, 2_500)] {
        let usage = json!([
            {"provider": "claude", "model": "claude-opus-5", "input_tokens": tokens,
             "output_tokens": tokens / 10},
            {"provider": "claude", "model": "claude-haiku-4-5", "input_tokens": 7,
             "output_tokens": 3, "cost_usd": 0.25}
        ]);
        report(s, &w.owner_daemon, task, usage).expect(200);
    }
    s.move_agent(&w.owner, &moves, elsewhere);
    [rt, stays, moves, moved_task]
}

#[test]
fn usage_ledger_and_workspace_reports_outlive_both_deletes() {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let elsewhere = s.insert_runtime(&w.owner_id, "private");
    let [strict_rt, strict_stays, strict_moves, strict_task] =
        runtime_with_usage(&s, &w, "strict", &elsewhere);
    let [cascade_rt, cascade_stays, cascade_moves, cascade_task] =
        runtime_with_usage(&s, &w, "cascade", &elsewhere);
    assert_eq!(s.count("SELECT count(*) FROM task_usage"), 8);
    let ledger_before = usage_tables(&s);
    let reports_before = workspace_reports(&s, &w.owner);

    s.archive_agent(&w.owner, &strict_stays);
    s.delete(&format!("/api/runtimes/{strict_rt}"), &w.owner)
        .expect(200);
    let body = json!({ "expected_active_agent_ids": [cascade_stays] });
    let r = s
        .post(
            &format!("/api/runtimes/{cascade_rt}/archive-agents-and-delete"),
            &w.owner,
            body,
        )
        .expect(200);
    assert_eq!(r.body["agents_archived"], 1);

    assert_eq!(
        usage_tables(&s),
        ledger_before,
        "a delete touched the ledger"
    );
    let reports_after = workspace_reports(&s, &w.owner);
    assert_eq!(reports_after, reports_before, "a delete changed a report");
    for rt in [&strict_rt, &cascade_rt] {
        assert!(!s.exists("runtime", rt));
        assert!(
            reports_after[2].contains(rt.as_str()),
            "{rt} left by-runtime"
        );
    }
    ledger::assert_rollups_match(&s);
    // The survivors' history stays, runtime-less; the retired agents are gone.
    for (agent, task) in [
        (&strict_moves, &strict_task),
        (&cascade_moves, &cascade_task),
    ] {
        assert!(s.exists("agent", agent));
        assert_eq!(s.task_row(task), ("completed".into(), None));
        let shown = s.get(&format!("/api/tasks/{task}"), &w.owner).expect(200);
        assert_eq!(shown.body["runtime_id"], serde_json::Value::Null);
        assert_eq!(shown.body["usage"].as_array().map(Vec::len), Some(2));
    }
    assert!(!s.exists("agent", &strict_stays));
    assert!(!s.exists("agent", &cascade_stays));
    assert!(s.foreign_key_violations().is_empty());
}

#[test]
fn activity_loses_the_starts_of_the_deleted_tasks_only() {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let first = s.insert_runtime(&w.owner_id, "private");
    let doomed = s.insert_runtime(&w.owner_id, "private");
    // The mover runs a task on `first`, moves to `doomed` and runs one there; the stayer
    // runs one on `first`. Retiring `doomed` deletes the mover with both its tasks.
    let mover = s.create_agent(&w.owner, &first, "mover");
    let stayer = s.create_agent(&w.owner, &first, "stayer");
    for (agent, runtime) in [(&mover, &first), (&stayer, &first)] {
        let task = s.enqueue(&w.owner, agent, "work");
        assert_eq!(s.claim(&w.owner_daemon, runtime), Some(task.clone()));
        s.finish(&w.owner_daemon, &task);
    }
    s.move_agent(&w.owner, &mover, &doomed);
    let there = s.enqueue(&w.owner, &mover, "work there");
    assert_eq!(s.claim(&w.owner_daemon, &doomed), Some(there.clone()));
    s.finish(&w.owner_daemon, &there);
    let activity = |rt: &str| {
        s.get(&format!("/api/runtimes/{rt}/activity?tz=UTC"), &w.owner)
            .expect(200)
            .body
    };
    assert_eq!(activity(&first), json!([{"hour": 12, "count": 2}]));
    assert_eq!(activity(&doomed), json!([{"hour": 12, "count": 1}]));
    ledger::assert_rollups_match(&s);

    let body = json!({ "expected_active_agent_ids": [mover] });
    s.post(
        &format!("/api/runtimes/{doomed}/archive-agents-and-delete"),
        &w.owner,
        body,
    )
    .expect(200);
    // The mover's task on `first` went with the mover; the stayer's stays counted.
    assert_eq!(activity(&first), json!([{"hour": 12, "count": 1}]));
    assert_eq!(
        s.count(&format!(
            "SELECT count(*) FROM task_start_rollup WHERE runtime_id = '{doomed}'"
        )),
        0
    );
    ledger::assert_rollups_match(&s);
}
