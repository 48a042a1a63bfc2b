//! Threshold announcements: exactly once per threshold per period under concurrent
//! reporters, across a restart, through re-reports that lower and raise the spend, and through
//! edits; periods that start at local midnight in Asia/Kathmandu; status arithmetic equal to
//! the ledger's.
mod common;

use std::sync::{Arc, Barrier};

use chrono::Duration;
use common::budgets::{budget, crossings, spend, status, thresholds_announced, Crossing};
use common::ledger::{ms, report, Rig};
use common::{TestServer, World};
use serde_json::json;

const NOW: &str = "2026-06-15T12:00:00Z";

fn start() -> (TestServer, World, Rig) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    (s, w, rig)
}

fn workspace() -> serde_json::Value {
    json!({"type": "workspace"})
}

#[test]
fn each_threshold_is_announced_once_when_first_reached() {
    let (s, w, rig) = start();
    let id = budget(&s, &w.owner, workspace(), 10.0, "month", "UTC");
    let pay = |usd: &str| {
        let task = rig.new_task(&s, &s.ws);
        spend(&s, &w.owner_daemon, &task, usd, None).expect(200);
    };
    pay("4.99");
    assert_eq!(crossings(&s), vec![]);
    pay("0.01");
    pay("3");
    pay("1.999999");
    pay("0.000001");
    pay("5");
    let june = "2026-06-01T00:00:00.000Z".to_string();
    let expected = [(50, 5.0), (80, 8.0), (100, 10.0)].map(|(threshold, spent_usd)| Crossing {
        budget: id.clone(),
        threshold,
        spent_usd,
        period_start: june.clone(),
    });
    assert_eq!(crossings(&s), expected);
    // The event carries the budget as the API shows it, and the system is the actor.
    let (actor, payload): (String, String) = s
        .sql()
        .query_row(
            "SELECT actor_type, payload FROM event WHERE type = 'budget:threshold_crossed'
             ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, "system");
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let shown = s.get(&format!("/api/budgets/{id}"), &w.member).expect(200);
    assert_eq!(payload["budget"]["id"], shown.body["id"]);
    assert_eq!(payload["budget"]["amount_usd"], 10.0);
    let st = status(&s, &w.member, &id);
    let crossed: Vec<i64> = st["thresholds_crossed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["threshold"].as_i64().unwrap())
        .collect();
    assert_eq!(crossed, vec![50, 80, 100]);
    assert_eq!(st["thresholds_crossed"][1]["spent_usd"], 8.0);
    assert_eq!(st["spent_usd"], 15.0);
    assert_eq!(st["budget"]["state"], "exceeded");
}

#[test]
fn eight_concurrent_reporters_crossing_together_announce_each_threshold_once() {
    const REPORTERS: usize = 8;
    const ROUNDS: usize = 5;
    let (s, w, rig) = start();
    // Budgets that every reporter's spend crosses in the middle of the burst.
    let mut ids = Vec::new();
    for amount in [1.0, 2.0, 2.5, 3.0, 4.0] {
        let r = common::budgets::create(
            &s,
            &s.ws,
            &w.owner,
            json!({"scope": {"type": "workspace"}, "amount_usd": amount, "period": "day",
                   "thresholds": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]}),
        )
        .expect(201);
        ids.push((r.id(), amount));
    }
    let runtime_budget = budget(
        &s,
        &w.owner,
        json!({"type": "runtime", "id": rig.runtime}),
        3.2,
        "week",
        "UTC",
    );
    let tasks: Vec<Vec<String>> = (0..REPORTERS)
        .map(|_| (0..ROUNDS).map(|_| rig.new_task(&s, &s.ws)).collect())
        .collect();
    let s = Arc::new(s);
    let go = Arc::new(Barrier::new(REPORTERS));
    let threads: Vec<_> = tasks
        .into_iter()
        .map(|mine| {
            let (s, go, daemon) = (Arc::clone(&s), Arc::clone(&go), w.owner_daemon.clone());
            std::thread::spawn(move || {
                go.wait();
                for task in mine {
                    spend(&s, &daemon, &task, "0.1", None).expect(200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("reporter");
    }
    // 40 reports of $0.10: $4 in all.
    for (id, amount) in &ids {
        let reached: Vec<i64> = (1..=10)
            .map(|k| k * 10)
            .filter(|t| 4.0 * 100.0 >= *t as f64 * amount)
            .collect();
        assert_eq!(thresholds_announced(&s, id), reached, "budget of ${amount}");
    }
    // The runtime budget: 80 % of $3.20 is $2.56, reached once.
    assert_eq!(thresholds_announced(&s, &runtime_budget), vec![50, 80, 100]);
    let alerts = s.count("SELECT COUNT(*) FROM budget_alert");
    assert_eq!(alerts as usize, crossings(&s).len());
    // Each announcement names the spend that first reached it.
    for c in crossings(&s) {
        let amount = ids
            .iter()
            .find(|(id, _)| *id == c.budget)
            .map_or(3.2, |(_, a)| *a);
        let first = (1..=40)
            .map(|n| n as f64 / 10.0)
            .find(|spent| spent * 100.0 >= c.threshold as f64 * amount - 1e-9)
            .unwrap();
        assert!(
            (c.spent_usd - first).abs() < 1e-9,
            "{c:?}, expected {first}"
        );
    }
}

#[test]
fn a_restart_mid_period_announces_nothing_again() {
    let (mut s, w, rig) = start();
    let id = budget(&s, &w.owner, workspace(), 10.0, "week", "Europe/Paris");
    let task = rig.new_task(&s, &s.ws);
    spend(&s, &w.owner_daemon, &task, "8.5", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80]);

    s.restart();
    s.clock().advance(Duration::hours(30));
    // More spend below 100 %, a re-report of the same task, and a budget edit: no repeats.
    let more = rig.new_task(&s, &s.ws);
    spend(&s, &w.owner_daemon, &more, "1", None).expect(200);
    spend(&s, &w.owner_daemon, &task, "8.5", None).expect(200);
    s.patch(
        &format!("/api/budgets/{id}"),
        &w.owner,
        json!({"name": "after the restart"}),
    )
    .expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80]);
    let st = status(&s, &w.member, &id);
    assert_eq!(st["spent_usd"], 9.5);
    assert_eq!(st["period"]["start"], "2026-06-14T22:00:00.000Z");

    s.restart();
    spend(&s, &w.owner_daemon, &more, "1.5", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80, 100]);
    s.restart();
    spend(&s, &w.owner_daemon, &more, "2", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80, 100]);
}

#[test]
fn re_reports_that_lower_and_raise_the_spend_do_not_repeat() {
    let (s, w, rig) = start();
    let id = budget(&s, &w.owner, workspace(), 10.0, "month", "UTC");
    let task = rig.new_task(&s, &s.ws);
    spend(&s, &w.owner_daemon, &task, "9", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80]);
    for usd in ["1", "9", "0", "8.5", "2", "9.99"] {
        spend(&s, &w.owner_daemon, &task, usd, None).expect(200);
        assert_eq!(thresholds_announced(&s, &id), vec![50, 80], "after {usd}");
    }
    spend(&s, &w.owner_daemon, &task, "1", None).expect(200);
    let st = status(&s, &w.member, &id);
    assert_eq!(st["spent_usd"], 1.0);
    assert_eq!(st["percent"], 10.0);
    // What was announced this period stays listed while the spend is lower.
    assert_eq!(st["thresholds_crossed"].as_array().unwrap().len(), 2);
    spend(&s, &w.owner_daemon, &task, "10", None).expect(200);
    spend(&s, &w.owner_daemon, &task, "0.5", None).expect(200);
    spend(&s, &w.owner_daemon, &task, "12", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80, 100]);
}

#[test]
fn edits_mid_period_announce_only_what_is_newly_reached() {
    let (s, w, rig) = start();
    let id = budget(&s, &w.owner, workspace(), 10.0, "month", "UTC");
    let path = format!("/api/budgets/{id}");
    let task = rig.new_task(&s, &s.ws);
    spend(&s, &w.owner_daemon, &task, "6", None).expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50]);

    // $6 of $7 is 85.7 %: 80 is new, 50 is not announced again.
    let mark = s.newest_event_id();
    s.patch(&path, &w.owner, json!({"amount_usd": 7}))
        .expect(200);
    assert_eq!(
        s.event_types_after(mark),
        vec!["budget:updated", "budget:threshold_crossed"]
    );
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80]);
    s.patch(&path, &w.owner, json!({"amount_usd": 100}))
        .expect(200);
    s.patch(&path, &w.owner, json!({"amount_usd": 7}))
        .expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80]);
    // A new threshold already reached is announced once.
    s.patch(&path, &w.owner, json!({"thresholds": [50, 60, 80, 100]}))
        .expect(200);
    s.patch(&path, &w.owner, json!({"thresholds": [60, 100]}))
        .expect(200);
    s.patch(&path, &w.owner, json!({"thresholds": [50, 60, 80, 100]}))
        .expect(200);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80, 60]);
    // A budget created over its thresholds announces them at once.
    let late = budget(&s, &w.owner, workspace(), 6.0, "month", "UTC");
    assert_eq!(thresholds_announced(&s, &late), vec![50, 80, 100]);
    assert_eq!(
        s.get(&format!("/api/budgets/{late}"), &w.member)
            .expect(200)
            .body["state"],
        "exceeded"
    );
}

#[test]
fn a_kathmandu_day_starts_at_local_midnight_and_resets_the_thresholds() {
    // 18:20 UTC is 00:05 on the 16th in Kathmandu (+05:45).
    let s = TestServer::start_pinned("2026-06-15T18:20:00Z".parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let local = budget(&s, &w.owner, workspace(), 10.0, "day", "Asia/Kathmandu");
    let utc = budget(&s, &w.owner, workspace(), 10.0, "day", "UTC");
    let before_midnight = rig.new_task(&s, &s.ws);
    let after_midnight = rig.new_task(&s, &s.ws);
    // 23:59:59.999 local on the 15th, then 00:00 local on the 16th.
    spend(
        &s,
        &w.owner_daemon,
        &before_midnight,
        "5",
        Some("2026-06-15T18:14:59.999Z"),
    )
    .expect(200);
    spend(
        &s,
        &w.owner_daemon,
        &after_midnight,
        "3",
        Some("2026-06-15T18:15:00Z"),
    )
    .expect(200);

    let st = status(&s, &w.member, &local);
    assert_eq!(st["period"]["start"], "2026-06-15T18:15:00.000Z");
    assert_eq!(st["period"]["end"], "2026-06-16T18:15:00.000Z");
    assert_eq!(st["period"]["start_local"], "2026-06-16T00:00:00.000+05:45");
    assert_eq!(st["period"]["end_local"], "2026-06-17T00:00:00.000+05:45");
    assert_eq!(st["period"]["timezone"], "Asia/Kathmandu");
    assert_eq!(st["spent_usd"], 3.0);
    assert_eq!(thresholds_announced(&s, &local), Vec::<i64>::new());
    // The same spend in UTC's day is $8.
    let st = status(&s, &w.member, &utc);
    assert_eq!(st["period"]["start"], "2026-06-15T00:00:00.000Z");
    assert_eq!(st["spent_usd"], 8.0);
    assert_eq!(thresholds_announced(&s, &utc), vec![50, 80]);

    spend(&s, &w.owner_daemon, &after_midnight, "5", None).expect(200);
    assert_eq!(thresholds_announced(&s, &local), vec![50]);
    // The next local midnight starts a new period: the spend and the thresholds reset.
    s.clock()
        .advance(Duration::hours(24) - Duration::minutes(5));
    let next_day = rig.new_task(&s, &s.ws);
    spend(&s, &w.owner_daemon, &next_day, "4.99", None).expect(200);
    let st = status(&s, &w.member, &local);
    assert_eq!(st["period"]["start_local"], "2026-06-17T00:00:00.000+05:45");
    assert_eq!(st["spent_usd"], 4.99);
    assert_eq!(st["thresholds_crossed"], json!([]));
    spend(&s, &w.owner_daemon, &next_day, "5", None).expect(200);
    let found: Vec<(i64, String)> = crossings(&s)
        .into_iter()
        .filter(|c| c.budget == local)
        .map(|c| (c.threshold, c.period_start))
        .collect();
    assert_eq!(
        found,
        vec![
            (50, "2026-06-15T18:15:00.000Z".to_string()),
            (50, "2026-06-16T18:15:00.000Z".to_string()),
        ]
    );
}

#[test]
fn status_arithmetic_matches_the_ledger() {
    let (s, w, rig) = start();
    let other = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let ws_budget = budget(&s, &w.owner, workspace(), 2.0, "month", "UTC");
    let rt_budget = budget(
        &s,
        &w.owner,
        json!({"type": "runtime", "id": rig.runtime}),
        2.0,
        "month",
        "UTC",
    );
    let agent_budget = budget(
        &s,
        &w.owner,
        json!({"type": "agent", "id": other.agent}),
        3.0,
        "month",
        "UTC",
    );
    // claude-sonnet-5 is $2 / $10 / $0.20 / $2.50 per million: 20,000 / 100,000 / 2,000 /
    // 25,000 ticks per token.
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([
            {"model": "claude-sonnet-5", "input_tokens": 1000, "output_tokens": 500,
             "cache_read_tokens": 3000, "cache_write_tokens": 40},
            {"model": "some-unpriced-model", "input_tokens": 999, "output_tokens": 999},
            {"model": "claude-opus-5", "input_tokens": 7, "output_tokens": 7,
             "cost_usd": 1.2345678912},
        ]),
    )
    .expect(200);
    report(
        &s,
        &w.owner_daemon,
        &other.task,
        json!([{"model": "claude-sonnet-5", "input_tokens": 10, "output_tokens": 1,
                "occurred_at": "2026-06-01T00:00:00Z"},
               {"model": "old", "input_tokens": 1, "output_tokens": 1, "cost_usd": 100,
                "occurred_at": "2026-05-31T23:59:59.999Z"}]),
    )
    .expect(200);
    let rig_ticks: i128 =
        1000 * 20_000 + 500 * 100_000 + 3000 * 2_000 + 40 * 25_000 + 12_345_678_912;
    let other_ticks: i128 = 10 * 20_000 + 100_000;
    // The same sums straight from the ledger's June rows.
    let ledger_ticks = |runtime: &str| -> i128 {
        let c = s.sql();
        let mut stmt = c
            .prepare(
                "SELECT model, input_tokens, output_tokens, cache_read_tokens,
                        cache_write_tokens, cost_ticks FROM task_usage
                 WHERE runtime_id = ?1 AND occurred_at >= ?2",
            )
            .unwrap();
        let rows = stmt
            .query_map(
                rusqlite::params![runtime, ms("2026-06-01T00:00:00Z")],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                        r.get::<_, Option<i64>>(5)?,
                    ))
                },
            )
            .unwrap();
        rows.map(|r| {
            let (model, tokens, cost) = r.unwrap();
            match (cost, model.as_str()) {
                (Some(c), _) => i128::from(c),
                (None, "claude-sonnet-5") => tokens
                    .iter()
                    .zip([20_000, 100_000, 2_000, 25_000])
                    .map(|(n, p)| i128::from(*n) * p)
                    .sum(),
                (None, _) => 0,
            }
        })
        .sum()
    };
    assert_eq!(ledger_ticks(&rig.runtime), rig_ticks);
    assert_eq!(ledger_ticks(&other.runtime), other_ticks);

    let usd = |ticks: i128| (ticks as f64 / 1e4).round() / 1e6;
    let ws = status(&s, &w.member, &ws_budget);
    assert_eq!(ws["spent_usd"], usd(rig_ticks + other_ticks));
    assert_eq!(ws["amount_usd"], 2.0);
    assert_eq!(
        ws["remaining_usd"],
        usd(2 * 10_000_000_000 - rig_ticks - other_ticks)
    );
    let hundredths = (rig_ticks + other_ticks) * 10_000 / (2 * 10_000_000_000);
    assert_eq!(ws["percent"], hundredths as f64 / 100.0);
    assert_eq!(ws["percent"], 62.11);
    let rt = status(&s, &w.member, &rt_budget);
    assert_eq!(rt["spent_usd"], usd(rig_ticks));
    assert_eq!(rt["spent_usd"], 1.242268);
    assert_eq!(rt["percent"], 62.11);
    let ag = status(&s, &w.member, &agent_budget);
    assert_eq!(ag["spent_usd"], usd(other_ticks));
    assert_eq!(ag["spent_usd"], 0.00003);
    assert_eq!(ag["remaining_usd"], 2.99997);
    assert_eq!(ag["percent"], 0.0);
    assert_eq!(ag["period"]["start"], "2026-06-01T00:00:00.000Z");
    assert_eq!(ag["period"]["end"], "2026-07-01T00:00:00.000Z");
    // Over the amount, nothing remains.
    let tiny = budget(&s, &w.owner, workspace(), 0.5, "month", "UTC");
    let st = status(&s, &w.member, &tiny);
    assert_eq!(st["remaining_usd"], 0.0);
    assert_eq!(st["percent"], 248.45);
}

#[test]
fn a_back_dated_price_moves_the_spend_and_announces_once() {
    let (s, w, rig) = start();
    let id = budget(&s, &w.owner, workspace(), 1.0, "month", "UTC");
    // 100,000 input tokens of a model the table does not price: nothing spent yet.
    let tokens = |task: &str, at: &str| {
        report(
            &s,
            &w.owner_daemon,
            task,
            json!([{"model": "house-model", "input_tokens": 100_000, "output_tokens": 0,
                    "occurred_at": at}]),
        )
        .expect(200);
    };
    tokens(&rig.task, "2026-06-02T09:00:00Z");
    tokens(&rig.new_task(&s, &s.ws), "2026-06-10T09:00:00Z");
    assert_eq!(status(&s, &w.owner, &id)["spent_usd"], 0.0);
    // $6 per million from June 5th on prices the second report only: $0.60.
    let price = |usd: f64| {
        json!({"model": "house-model", "input": usd, "output": 0, "cache_read": 0,
               "cache_write": 0, "valid_from": "2026-06-05T00:00:00Z"})
    };
    let path = format!("/api/workspaces/{}/prices", s.ws);
    let first = s.post(&path, &w.owner, price(6.0)).expect(201).id();
    assert_eq!(status(&s, &w.owner, &id)["spent_usd"], 0.6);
    assert_eq!(thresholds_announced(&s, &id), vec![50]);
    // Raised to $12: the 80 and 100 % thresholds are reached by the price alone.
    s.delete(&format!("{path}/{first}"), &w.owner).expect(204);
    assert_eq!(status(&s, &w.owner, &id)["spent_usd"], 0.0);
    s.post(&path, &w.owner, price(12.0)).expect(201);
    let st = status(&s, &w.owner, &id);
    assert_eq!(st["spent_usd"], 1.2);
    assert_eq!(thresholds_announced(&s, &id), vec![50, 80, 100]);
    // The budget's spend is the workspace report's cost.
    let summary = s
        .get(
            &format!("/api/workspaces/{}/usage/summary?days=30&tz=UTC", s.ws),
            &w.owner,
        )
        .expect(200)
        .body;
    assert_eq!(summary[0]["model"], "house-model", "{summary}");
    assert_eq!(summary[0]["cost_usd"], 1.2, "{summary}");
}
