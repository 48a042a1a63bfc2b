//! `hangar demo`'s seeded data, read back through the public API: a team in several zones,
//! 3+ runtimes on 2+ machines, a dozen agents, squads and autopilots, half a year of tasks and
//! usage across several models with one unpriced, and work still active; a workspace price,
//! and budgets of each scope, one of them pausing dispatch because it is spent; and every
//! check of `hangar check` passes on it.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use serde_json::Value;

use hangar::clock::{Clock, SystemClock};
use hangar::db::{Db, OpenMode};

fn seeded() -> (TestServer, Vec<String>) {
    let mut lines = Vec::new();
    let server = TestServer::start_prepared(|path| {
        let db = Db::open(path, OpenMode::ReadWrite, 2).expect("open");
        hangar::demo::seed(&db, SystemClock.now_ms(), |l| lines.push(l.to_string())).expect("seed");
    });
    (server, lines)
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

fn strings(rows: &[Value], field: &str) -> BTreeSet<String> {
    rows.iter()
        .filter_map(|r| r[field].as_str().map(str::to_string))
        .collect()
}

#[test]
fn demo_seeds_a_realistic_workspace_with_progress() {
    let (s, lines) = seeded();
    let t = s.owner_token.clone();
    assert!(lines
        .first()
        .is_some_and(|l| l.starts_with("demo: seeding")));
    assert!(
        lines.iter().filter(|l| l.contains("history")).count() >= 5,
        "{lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("demo: done"));

    let ws = s.ws.clone();
    let members = s
        .get(&format!("/api/workspaces/{ws}/members"), &t)
        .expect(200)
        .body;
    assert!(list(&members).len() >= 3, "a team: {members}");

    let runtimes = s
        .get(&format!("/api/workspaces/{ws}/runtimes"), &t)
        .expect(200)
        .body;
    let runtimes = list(&runtimes);
    assert!(runtimes.len() >= 3);
    assert!(strings(runtimes, "daemon_id").len() >= 2, "2+ machines");
    assert!(
        strings(runtimes, "timezone").len() >= 2,
        "machines in different zones"
    );
    assert!(
        strings(runtimes, "status").len() == 2,
        "online and offline runtimes"
    );

    let agents = s
        .get(&format!("/api/workspaces/{ws}/agents"), &t)
        .expect(200)
        .body;
    assert!(list(&agents).len() >= 12, "a dozen active agents");
    let squads = s
        .get(&format!("/api/workspaces/{ws}/squads"), &t)
        .expect(200)
        .body;
    assert!(!list(&squads).is_empty());
    let autopilots = s
        .get(&format!("/api/workspaces/{ws}/autopilots"), &t)
        .expect(200)
        .body;
    assert_eq!(
        strings(list(&autopilots), "status").len(),
        2,
        "active and paused"
    );
    let active = s
        .get(&format!("/api/workspaces/{ws}/tasks?status=running"), &t)
        .expect(200)
        .body;
    assert!(!list(&active).is_empty(), "work still running");

    let summary = s
        .get(
            &format!("/api/workspaces/{ws}/usage/summary?days=90&tz=UTC"),
            &t,
        )
        .expect(200)
        .body;
    let summary = list(&summary);
    assert!(summary.len() >= 5, "several models: {summary:?}");
    let unpriced: Vec<&Value> = summary.iter().filter(|r| r["cost_usd"].is_null()).collect();
    assert_eq!(unpriced.len(), 1, "exactly one unpriced model");
    assert!(unpriced[0]["unpriced_tokens"].as_i64().unwrap_or(0) > 0);

    let daily = s
        .get(
            &format!("/api/workspaces/{ws}/usage/daily?days=90&tz=UTC"),
            &t,
        )
        .expect(200)
        .body;
    assert!(
        strings(list(&daily), "date").len() >= 85,
        "90 days of history"
    );
    let half_year = s
        .get(
            &format!("/api/workspaces/{ws}/usage/daily?days=180&tz=UTC"),
            &t,
        )
        .expect(200)
        .body;
    assert!(
        strings(list(&half_year), "date").len() >= 170,
        "enough for the 180-day range"
    );

    // Usage lands near midnight somewhere, so a +05:45 viewer sees other daily totals.
    let ktm = s
        .get(
            &format!("/api/workspaces/{ws}/usage/daily?days=30&tz=Asia/Kathmandu"),
            &t,
        )
        .expect(200)
        .body;
    let utc = s
        .get(
            &format!("/api/workspaces/{ws}/usage/daily?days=30&tz=UTC"),
            &t,
        )
        .expect(200)
        .body;
    assert_ne!(ktm, utc);

    // Spend controls: one workspace price, budgets of every scope, one holding dispatch.
    let pricing = s
        .get(&format!("/api/workspaces/{ws}/pricing"), &t)
        .expect(200)
        .body;
    assert_eq!(list(&pricing["overrides"]).len(), 1, "{pricing}");
    let unpriced = s
        .get(&format!("/api/workspaces/{ws}/usage/unpriced?days=30"), &t)
        .expect(200)
        .body;
    assert_eq!(
        strings(list(&unpriced), "model"),
        BTreeSet::from(["qwen3-coder-30b".to_string()])
    );
    let budgets = s
        .get(&format!("/api/workspaces/{ws}/budgets"), &t)
        .expect(200)
        .body;
    let budgets = list(&budgets);
    let scopes: BTreeSet<String> = budgets
        .iter()
        .filter_map(|b| b["scope"]["type"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        scopes.len(),
        3,
        "workspace, runtime and agent budgets: {budgets:?}"
    );
    let paused: Vec<&Value> = budgets.iter().filter(|b| b["state"] == "paused").collect();
    assert_eq!(paused.len(), 1, "{budgets:?}");
    assert_eq!(paused[0]["action"], "pause_dispatch");
    assert_eq!(paused[0]["scope"]["type"], "agent");
    let status = s
        .get(
            &format!(
                "/api/budgets/{}/status",
                paused[0]["id"].as_str().unwrap_or("")
            ),
            &t,
        )
        .expect(200)
        .body;
    assert!(
        status["percent"].as_f64().unwrap_or(0.0) >= 100.0,
        "{status}"
    );

    // The seeded database passes every check `hangar check` runs (events in time order
    // included: the history's usage is recorded at the seeding's instant).
    let db = Db::open(&s.db_path(), OpenMode::Existing, 1).expect("open");
    let outcomes = db
        .read(|c| Ok::<_, hangar::db::DbError>(hangar::check::run_all(c)))
        .expect("run the checks");
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}
