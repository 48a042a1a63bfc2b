//! The rollup fold (schema step 12): a usage report defers its rollup deltas to
//! `usage_pending`, and a background thread folds them into the rollups. Every reader counts
//! the deltas not yet folded, so reports, budget spend and threshold announcements are the
//! same while deltas wait, after a fold cut short, and after the last fold.
mod common;

use std::time::{Duration, Instant};

use common::budgets::{budget, crossings, spend, status};
use common::ledger::{self, assert_rollups_match, report, Rig};
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn pending(s: &TestServer) -> i64 {
    s.count("SELECT count(*) FROM usage_pending")
}

/// Every runtime and workspace report, in Asia/Kathmandu, as the API answers them: now, and
/// seen from three days earlier, when the usage lies past the reports' horizon (a window's
/// open tail, read bucket by bucket).
fn every_report(s: &TestServer, token: &str, runtime: &str) -> Vec<String> {
    let runtime_reports = ["usage", "usage/by-agent", "usage/by-hour"]
        .map(|kind| format!("/api/runtimes/{runtime}/{kind}?days=30&tz=Asia/Kathmandu"));
    let workspace_reports = ["daily", "summary", "by-runtime", "by-agent"].map(|kind| {
        format!(
            "/api/workspaces/{}/usage/{kind}?days=30&tz=Asia/Kathmandu",
            s.ws
        )
    });
    let mut texts = Vec::new();
    for back in [0, 3] {
        s.clock().advance(chrono::Duration::days(-back));
        texts.extend(
            runtime_reports
                .iter()
                .chain(&workspace_reports)
                .map(|path| s.get(path, token).expect(200).text),
        );
        s.clock().advance(chrono::Duration::days(back));
    }
    texts
}

#[test]
fn reports_and_budgets_count_deferred_usage_exactly_before_and_after_each_fold() {
    // The fold thread never comes round here: the test folds when it chooses.
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |c| {
        c.usage_fold_interval = Duration::from_secs(3600)
    });
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "Asia/Kathmandu");
    let budgets = [
        budget(
            &s,
            &w.owner,
            json!({"type": "workspace"}),
            10.0,
            "day",
            "Asia/Kathmandu",
        ),
        budget(
            &s,
            &w.owner,
            json!({"type": "runtime", "id": rig.runtime}),
            10.0,
            "day",
            "UTC",
        ),
        budget(
            &s,
            &w.owner,
            json!({"type": "agent", "id": rig.agent}),
            10.0,
            "day",
            "UTC",
        ),
    ];
    let opus = |input: i64, at: Option<&str>| {
        let mut e = json!({"model": "claude-opus-5", "input_tokens": input, "output_tokens": 10});
        if let Some(at) = at {
            e["occurred_at"] = json!(at);
        }
        Value::Array(vec![e])
    };
    report(&s, &w.owner_daemon, &rig.task, opus(1_000, None)).expect(200);
    // A re-report that moves the row to 23:59 yesterday in Kathmandu (18:14 UTC).
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        opus(2_000, Some("2026-06-14T18:14:00Z")),
    )
    .expect(200);
    let second = rig.new_task(&s, &s.ws);
    report(
        &s,
        &w.owner_daemon,
        &second,
        opus(500, Some("2026-06-15T06:00:00Z")),
    )
    .expect(200);
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "6", None).expect(200);
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "5", None).expect(200);
    assert!(pending(&s) > 0, "the reports' deltas wait for the fold");
    assert_eq!(s.count("SELECT count(*) FROM usage_workspace_rollup"), 0);

    // Budgets were evaluated against the pending deltas: 11 USD reported crosses every
    // threshold of each 10 USD budget, once.
    let announced: Vec<(String, i64)> = crossings(&s)
        .into_iter()
        .map(|c| (c.budget, c.threshold))
        .collect();
    for id in &budgets {
        for threshold in [50, 80, 100] {
            assert_eq!(
                announced
                    .iter()
                    .filter(|a| **a == (id.clone(), threshold))
                    .count(),
                1,
                "{id} at {threshold}% in {announced:?}"
            );
        }
    }
    let statuses = || -> Vec<Value> {
        budgets
            .iter()
            .map(|id| status(&s, &w.owner, id)["spent_usd"].clone())
            .collect()
    };
    let reports_pending = every_report(&s, &w.owner, &rig.runtime);
    let spent_pending = statuses();
    assert!(
        spent_pending.iter().all(|v| v.as_f64().unwrap() > 11.0),
        "{spent_pending:?}"
    );
    assert!(ledger::rollup_mismatches(&s).is_empty());

    // The first two deltas cancel (the first report's row, taken back by the re-report): a
    // fold of them leaves no rollup row.
    assert_eq!(ledger::fold_some(&s, 2), 2);
    assert_eq!(s.count("SELECT count(*) FROM usage_workspace_rollup"), 0);
    assert_eq!(every_report(&s, &w.owner, &rig.runtime), reports_pending);
    // A fold cut short leaves part of the deltas waiting: nothing a reader sees moves.
    assert_eq!(ledger::fold_some(&s, 1), 1);
    assert!(pending(&s) > 0);
    assert!(s.count("SELECT count(*) FROM usage_workspace_rollup") > 0);
    assert_eq!(every_report(&s, &w.owner, &rig.runtime), reports_pending);
    assert_eq!(statuses(), spent_pending);

    assert_rollups_match(&s);
    assert_eq!(pending(&s), 0);
    assert_eq!(every_report(&s, &w.owner, &rig.runtime), reports_pending);
    assert_eq!(statuses(), spent_pending);
    assert_eq!(
        crossings(&s).len(),
        announced.len(),
        "a fold announced again"
    );
}

#[test]
fn the_server_folds_deferred_usage_in_the_background() {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let entries = json!([{"model": "claude-opus-5", "input_tokens": 7, "output_tokens": 1}]);
    report(&s, &w.owner_daemon, &rig.task, entries).expect(200);
    let until = Instant::now() + Duration::from_secs(10);
    while pending(&s) > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pending(&s), 0, "the fold thread did not fold");
    // One row per span in each family: runtime and workspace 3 spans, agent 2.
    assert_eq!(s.count("SELECT count(*) FROM usage_rollup"), 3);
    assert_eq!(s.count("SELECT count(*) FROM usage_workspace_rollup"), 3);
    assert_eq!(s.count("SELECT count(*) FROM usage_agent_rollup"), 2);
    assert!(ledger::rollup_mismatches(&s).is_empty());
}

#[test]
fn budgets_measure_exact_spend_between_folds_by_any_connection() {
    // The server's fold thread is parked; another connection folds, as `hangar` run from the
    // command line might.
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |c| {
        c.usage_fold_interval = Duration::from_secs(3600)
    });
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let workspace = budget(
        &s,
        &w.owner,
        json!({"type": "workspace"}),
        10.0,
        "day",
        "UTC",
    );
    let runtime = budget(
        &s,
        &w.owner,
        json!({"type": "runtime", "id": rig.runtime}),
        10.0,
        "month",
        "UTC",
    );
    // Sorted: one report announces for both budgets in no set order.
    let announced = |s: &TestServer| -> Vec<(i64, String)> {
        let mut all: Vec<_> = crossings(s)
            .into_iter()
            .map(|c| (c.threshold, c.budget))
            .collect();
        all.sort();
        all
    };
    let both = |threshold: i64| {
        let mut two = [(threshold, workspace.clone()), (threshold, runtime.clone())];
        two.sort();
        two
    };
    let mut expected = Vec::new();
    // Each report's evaluation keeps what it read; each step below changes what it must read.
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "5", None).expect(200);
    expected.extend(both(50));
    assert_eq!(announced(&s), expected, "5 USD pending");
    ledger::fold(&s);
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "3", None).expect(200);
    expected.extend(both(80));
    assert_eq!(announced(&s), expected, "5 USD folded, 3 pending");
    // An unknown task is refused inside the transaction: nothing kept goes stale.
    spend(&s, &w.owner_daemon, &hangar::ids::new_id(), "100", None).expect(404);
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "1", None).expect(200);
    assert_eq!(announced(&s), expected, "9 USD");
    ledger::fold(&s);
    spend(&s, &w.owner_daemon, &rig.new_task(&s, &s.ws), "1", None).expect(200);
    expected.extend(both(100));
    assert_eq!(announced(&s), expected, "9 USD folded, 1 pending");
    for id in [&workspace, &runtime] {
        assert_eq!(status(&s, &w.owner, id)["spent_usd"], json!(10.0));
    }
}
