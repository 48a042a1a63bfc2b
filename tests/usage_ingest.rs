//! Usage ingest (API.md §3): replace semantics, instants, provider defaults, who may report,
//! and every bad input rejected with the field named and nothing written.
mod common;

use common::ledger::{self, assert_rollups_match, ms, report, Rig};
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn start() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    (s, w)
}

fn ledger_rows(s: &TestServer) -> i64 {
    s.count("SELECT COUNT(*) FROM task_usage")
}

/// Rows of the rollups once every pending delta is folded in.
fn rollup_rows(s: &TestServer) -> i64 {
    ledger::fold(s);
    s.count(
        "SELECT (SELECT COUNT(*) FROM usage_rollup) + (SELECT COUNT(*) FROM usage_workspace_rollup)
              + (SELECT COUNT(*) FROM usage_agent_rollup) + (SELECT COUNT(*) FROM usage_pending)",
    )
}

#[test]
fn a_report_is_recorded_with_its_event_and_echoed() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let r = report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([
            {"provider": "Claude", "model": " claude-opus-5 ", "input_tokens": 1000,
             "output_tokens": 200, "cache_read_tokens": 50, "cost_usd": 0.0123456789,
             "newer_daemon_field": true},
            {"provider": "", "model": "claude-sonnet-5", "input_tokens": 10, "output_tokens": 1}
        ]),
    )
    .expect(200);
    assert_eq!(r.body["task_id"], rig.task.as_str());
    let rows = r.body["usage"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["provider"], "claude");
    assert_eq!(rows[0]["model"], "claude-opus-5");
    assert_eq!(rows[0]["input_tokens"], 1000);
    assert_eq!(rows[0]["cache_write_tokens"], 0);
    assert!(r.text.contains("\"cost_usd\":0.0123456789"), "{}", r.text);
    assert_eq!(rows[0]["occurred_at"], "2026-06-15T12:00:00.000Z");
    // A blank provider is the runtime's.
    assert_eq!(rows[1]["provider"], "claude");
    assert_eq!(rows[1]["cost_usd"], Value::Null);
    assert_eq!(ledger_rows(&s), 2);
    // The task view carries the same rows.
    let task = s
        .get(&format!("/api/tasks/{}", rig.task), &w.member)
        .expect(200);
    assert_eq!(task.body["usage"], r.body["usage"]);
    let (kind, payload): (String, String) = s
        .sql()
        .query_row(
            "SELECT type, payload FROM event ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "usage:reported");
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        payload,
        json!({"task_id": rig.task, "runtime_id": rig.runtime, "agent_id": rig.agent})
    );
    assert_rollups_match(&s);
}

#[test]
fn re_reports_replace_and_keep_or_move_the_instant() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let entry = |input: i64, at: Option<&str>| {
        let mut e = json!({"provider": "claude", "model": "claude-opus-5",
                           "input_tokens": input, "output_tokens": 1});
        if let Some(at) = at {
            e["occurred_at"] = json!(at);
        }
        json!([e])
    };
    report(&s, &w.owner_daemon, &rig.task, entry(100, None)).expect(200);
    s.clock().advance(chrono::Duration::hours(3));
    // Same key again: the counts are replaced, the first-report instant kept.
    let r = report(&s, &w.owner_daemon, &rig.task, entry(250, None)).expect(200);
    assert_eq!(r.body["usage"][0]["input_tokens"], 250);
    assert_eq!(
        r.body["usage"][0]["occurred_at"],
        "2026-06-15T12:00:00.000Z"
    );
    assert_eq!(r.body["usage"][0]["updated_at"], "2026-06-15T15:00:00.000Z");
    assert_eq!(ledger_rows(&s), 1);
    assert_rollups_match(&s);
    // A new occurred_at moves the row (and its rollup share) to another day.
    let r = report(
        &s,
        &w.owner_daemon,
        &rig.task,
        entry(300, Some("2026-06-01T08:00:00+02:00")),
    )
    .expect(200);
    assert_eq!(
        r.body["usage"][0]["occurred_at"],
        "2026-06-01T06:00:00.000Z"
    );
    assert_rollups_match(&s);
    let daily = s
        .get(&format!("/api/runtimes/{}/usage", rig.runtime), &w.owner)
        .expect(200);
    let days: Vec<(&str, i64)> = daily
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap(),
                r["input_tokens"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(days, vec![("2026-06-01", 300)]);
    // Re-reporting without occurred_at keeps the moved instant.
    report(&s, &w.owner_daemon, &rig.task, entry(310, None)).expect(200);
    let at: i64 = s.count("SELECT occurred_at FROM task_usage");
    assert_eq!(at, ms("2026-06-01T06:00:00Z"));
    assert_rollups_match(&s);
}

#[test]
fn late_reports_for_finished_tasks_are_kept() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "codex", "UTC");
    for status in ["completed", "failed", "cancelled", "queued"] {
        let task = ledger::task(&s, &s.ws, &rig.agent, Some(&rig.runtime), status, None);
        report(
            &s,
            &w.owner_daemon,
            &task,
            json!([{"model": "gpt-5", "input_tokens": 1, "output_tokens": 1}]),
        )
        .expect(200);
    }
    assert_eq!(ledger_rows(&s), 4);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM task_usage WHERE provider = 'codex'"),
        4
    );
}

#[test]
fn only_the_daemon_of_the_tasks_runtime_may_report() {
    let (s, w) = start();
    let mine = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let theirs = Rig::new(&s, &s.ws, &w.member_id, "claude", "UTC");
    let one = json!([{"model": "m", "input_tokens": 1, "output_tokens": 1}]);
    // Another user's runtime, an unknown task, a malformed id, a user token.
    report(&s, &w.owner_daemon, &theirs.task, one.clone()).expect_error(404, "not_found");
    report(&s, &w.owner_daemon, &hangar::ids::new_id(), one.clone()).expect_error(404, "not_found");
    report(&s, &w.owner_daemon, "nope", one.clone()).expect_error(400, "invalid_id");
    report(&s, &w.owner, &mine.task, one.clone()).expect_error(401, "unauthorized");
    // A task whose runtime was deleted (runtime_id null) has no daemon to report it.
    let orphan = ledger::task(&s, &s.ws, &mine.agent, None, "completed", None);
    report(&s, &w.owner_daemon, &orphan, one.clone()).expect_error(404, "not_found");
    // A task in another workspace is not found either.
    let outsider_id: String = s.get("/api/me", &w.outsider).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let elsewhere = Rig::new(&s, &w.other_ws, &outsider_id, "claude", "UTC");
    report(&s, &w.owner_daemon, &elsewhere.task, one.clone()).expect_error(404, "not_found");
    assert_eq!(ledger_rows(&s), 0);
    report(&s, &w.member_daemon, &theirs.task, one).expect(200);
    assert_eq!(ledger_rows(&s), 1);
}

#[test]
fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let good = json!({"provider": "claude", "model": "ok", "input_tokens": 5, "output_tokens": 5});
    report(&s, &w.owner_daemon, &rig.task, json!([good.clone()])).expect(200);
    let (ledger_before, rollups_before) = (ledger_rows(&s), rollup_rows(&s));
    let with = |field: &str, value: Value| {
        let mut e = json!({"provider": "claude", "model": "m2", "input_tokens": 1,
                           "output_tokens": 1});
        e[field] = value;
        e
    };
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"model": format!("m{i}"), "input_tokens": 1, "output_tokens": 1}))
        .collect();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!([with("input_tokens", json!(-1))]),
            "invalid_field",
            "input_tokens",
        ),
        (
            json!([with("output_tokens", json!(2.5))]),
            "invalid_field",
            "output_tokens",
        ),
        (
            json!([with("cache_read_tokens", json!(1_000_000_000_001i64))]),
            "invalid_field",
            "cache_read_tokens",
        ),
        (
            json!([with("cache_write_tokens", json!("7"))]),
            "invalid_json",
            "cache_write_tokens",
        ),
        (json!([with("model", json!(""))]), "invalid_field", "model"),
        (
            json!([with("model", json!("  "))]),
            "invalid_field",
            "model",
        ),
        (json!(many), "invalid_field", "usage"),
        (json!([]), "invalid_field", "usage"),
        (
            json!([good.clone(), with("model", json!("ok"))]),
            "invalid_field",
            "model",
        ),
        (
            json!([with("cost_usd", json!(1_000_001))]),
            "invalid_field",
            "cost_usd",
        ),
        (
            json!([with("cost_usd", json!(-0.01))]),
            "invalid_field",
            "cost_usd",
        ),
        (
            json!([with("cost_usd", json!(0.00000000001))]),
            "invalid_field",
            "cost_usd",
        ),
        (
            json!([with("occurred_at", json!("2026-06-15T12:05:00.001Z"))]),
            "invalid_field",
            "occurred_at",
        ),
        (
            json!([with("occurred_at", json!("2025-05-10T11:59:59Z"))]),
            "invalid_field",
            "occurred_at",
        ),
        (
            json!([with("occurred_at", json!("last tuesday"))]),
            "invalid_field",
            "occurred_at",
        ),
    ];
    for (entries, code, field) in cases {
        // Each bad entry comes after a valid one: the whole report must be refused.
        let entries = match entries.as_array().map(Vec::len) {
            Some(1) => json!([with("model", json!("first")), entries[0].clone()]),
            _ => entries,
        };
        let r = report(&s, &w.owner_daemon, &rig.task, entries.clone()).expect_error(400, code);
        let message = r.body["error"].as_str().unwrap();
        assert!(
            message.contains(field),
            "{field} not named in {message:?} for {entries}"
        );
        assert_eq!(ledger_rows(&s), ledger_before, "written despite {entries}");
        assert_eq!(
            rollup_rows(&s),
            rollups_before,
            "rolled up despite {entries}"
        );
    }
    // A body that is not a report at all.
    s.post(
        &format!("/api/daemon/tasks/{}/usage", rig.task),
        &w.owner_daemon,
        json!({"usage": {"model": "m"}}),
    )
    .expect_error(400, "invalid_json");
    s.post(
        &format!("/api/daemon/tasks/{}/usage", rig.task),
        &w.owner_daemon,
        json!({}),
    )
    .expect_error(400, "invalid_field");
    // A blank provider and an explicit one that name the same key collide too.
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([
            with("provider", json!("")),
            with("provider", json!("CLAUDE"))
        ]),
    )
    .expect_error(400, "invalid_field");
    assert_eq!(ledger_rows(&s), ledger_before);
    assert_rollups_match(&s);
}

#[test]
fn the_edges_of_the_ranges_are_accepted() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([
            {"model": "a", "input_tokens": 1_000_000_000_000i64, "output_tokens": 0,
             "cost_usd": 1_000_000, "occurred_at": "2026-06-15T12:05:00Z"},
            {"model": "b", "input_tokens": 1.0, "output_tokens": 1e3,
             "cost_usd": 0.0000000001, "occurred_at": "2025-05-11T12:00:00Z"},
            {"model": "c", "input_tokens": 0, "output_tokens": 0, "cost_usd": 0}
        ]),
    )
    .expect(200);
    let costs: Vec<Option<i64>> = s
        .sql()
        .prepare("SELECT cost_ticks FROM task_usage ORDER BY model")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(costs, vec![Some(10_000_000_000_000_000), Some(1), Some(0)]);
    assert_eq!(
        s.count("SELECT output_tokens FROM task_usage WHERE model = 'b'"),
        1000
    );
    assert_rollups_match(&s);
}
