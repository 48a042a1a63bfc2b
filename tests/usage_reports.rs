//! Usage reports (API.md §5): costs against hand-computed values, unpriced models, orderings,
//! windows and zones, CSV, membership, deletion, and the price table endpoint.
mod common;

use common::ledger::{self, report, Rig};
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn start() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    (s, w)
}

fn rows(s: &TestServer, path: &str, token: &str) -> Vec<Value> {
    s.get(path, token)
        .expect(200)
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{path} did not answer an array"))
        .clone()
}

/// The usage of the cost test: three priced models, one name that needs normalising, a
/// provider-reported cost, a half-micro-dollar rounding case and an unknown model.
fn seed_costs(s: &TestServer, w: &World) -> Rig {
    let rig = Rig::new(s, &s.ws, &w.owner_id, "claude", "UTC");
    let (t2, t3) = (rig.new_task(s, &s.ws), rig.new_task(s, &s.ws));
    report(
        s,
        &w.owner_daemon,
        &rig.task,
        json!([
            {"provider": "claude", "model": "claude-opus-5", "input_tokens": 1_000_000,
             "output_tokens": 200_000, "cache_read_tokens": 3_000_000,
             "cache_write_tokens": 40_000},
            {"provider": "claude", "model": "claude-haiku-4-5", "input_tokens": 2,
             "output_tokens": 0, "cache_read_tokens": 5}
        ]),
    )
    .expect(200);
    report(
        s,
        &w.owner_daemon,
        &t2,
        json!([
            {"provider": "codex", "model": "openai/gpt-5-2025-08-07", "input_tokens": 123_457,
             "output_tokens": 9_999},
            {"provider": "", "model": "deepseek-v4-pro", "input_tokens": 7, "output_tokens": 3,
             "cache_read_tokens": 1000}
        ]),
    )
    .expect(200);
    report(
        s,
        &w.owner_daemon,
        &t3,
        json!([
            {"provider": "claude", "model": "claude-opus-5", "input_tokens": 100,
             "output_tokens": 100, "cost_usd": 0.5},
            {"provider": "acme", "model": "mystery-model", "input_tokens": 100,
             "output_tokens": 50}
        ]),
    )
    .expect(200);
    rig
}

#[test]
fn costs_match_hand_computed_values() {
    let (s, w) = start();
    let rig = seed_costs(&s, &w);
    let daily = rows(
        &s,
        &format!("/api/runtimes/{}/usage", rig.runtime),
        &w.owner,
    );
    let shape: Vec<Value> = daily
        .iter()
        .map(|r| {
            json!([
                r["date"],
                r["provider"],
                r["model"],
                r["input_tokens"],
                r["output_tokens"],
                r["cache_read_tokens"],
                r["cache_write_tokens"],
                r["cost_usd"],
                r["cache_savings_usd"],
                r["unpriced_tokens"]
            ])
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            // Unknown model: its tokens are unpriced, never $0.
            json!([
                "2026-06-15",
                "acme",
                "mystery-model",
                100,
                50,
                0,
                0,
                null,
                null,
                150
            ]),
            // 2 × $1/M + 5 × $0.1/M = 2.5 µ$ → 3 µ$ (half away from zero); savings 5 × $0.9/M.
            json!([
                "2026-06-15",
                "claude",
                "claude-haiku-4-5",
                2,
                0,
                5,
                0,
                0.000003,
                0.000005,
                0
            ]),
            // $5 + $5 + $1.5 + $0.25 from the table, plus $0.5 reported for 200 more tokens.
            json!([
                "2026-06-15",
                "claude",
                "claude-opus-5",
                1_000_100,
                200_100,
                3_000_000,
                40_000,
                12.25,
                13.5,
                0
            ]),
            // 7 × 1.74 + 3 × 3.48 + 1000 × 0.0145 = 37.12 µ$; savings 1000 × 1.7255 µ$.
            json!([
                "2026-06-15",
                "claude",
                "deepseek-v4-pro",
                7,
                3,
                1000,
                0,
                0.000037,
                0.001726,
                0
            ]),
            // openai/gpt-5-2025-08-07 is priced as gpt-5: 123457 × 1.25 + 9999 × 10 µ$.
            json!([
                "2026-06-15",
                "codex",
                "openai/gpt-5-2025-08-07",
                123_457,
                9_999,
                0,
                0,
                0.254311,
                0.0,
                0
            ]),
        ]
    );
    assert!(daily
        .iter()
        .all(|r| r["runtime_id"] == rig.runtime.as_str()));
    let summary = rows(
        &s,
        &format!("/api/workspaces/{}/usage/summary", s.ws),
        &w.owner,
    );
    let order: Vec<(&str, i64, Value)> = summary
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap(),
                r["task_count"].as_i64().unwrap(),
                r["cost_usd"].clone(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("claude-opus-5", 2, json!(12.25)),
            ("openai/gpt-5-2025-08-07", 1, json!(0.254311)),
            ("deepseek-v4-pro", 1, json!(0.000037)),
            ("claude-haiku-4-5", 1, json!(0.000003)),
            ("mystery-model", 1, Value::Null),
        ]
    );
    // Sums across models stay exact in ticks: 122.5e9 + 2543112500 + 371200 + 25000 ticks.
    let by_runtime = rows(
        &s,
        &format!("/api/workspaces/{}/usage/by-runtime", s.ws),
        &w.owner,
    );
    assert_eq!(
        by_runtime,
        vec![
            json!({"runtime_id": rig.runtime, "total_input_tokens": 1_123_666,
                    "total_output_tokens": 210_152, "total_cache_read_tokens": 3_001_005,
                    "total_cache_write_tokens": 40_000, "task_count": 6,
                    "cost_usd": 12.504351, "unpriced_tokens": 150})
        ]
    );
    let by_agent = rows(
        &s,
        &format!("/api/workspaces/{}/usage/by-agent", s.ws),
        &w.member,
    );
    assert_eq!(by_agent.len(), 1);
    assert_eq!(by_agent[0]["agent_id"], rig.agent.as_str());
    assert_eq!(by_agent[0]["cost_usd"], json!(12.504351));
    let per_agent = rows(
        &s,
        &format!("/api/runtimes/{}/usage/by-agent", rig.runtime),
        &w.member,
    );
    let keys: Vec<(&str, &str, i64)> = per_agent
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap(),
                r["model"].as_str().unwrap(),
                r["task_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("acme", "mystery-model", 1),
            ("claude", "claude-haiku-4-5", 1),
            ("claude", "claude-opus-5", 2),
            ("claude", "deepseek-v4-pro", 1),
            ("codex", "openai/gpt-5-2025-08-07", 1),
        ]
    );
}

#[test]
fn field_order_is_the_contracts_with_unpriced_tokens_last() {
    let (s, w) = start();
    let rig = seed_costs(&s, &w);
    let first_keys = |path: &str| -> Vec<String> {
        let text = s.get(path, &w.owner).expect(200).text;
        let first = text
            .trim_start_matches("[{")
            .split('}')
            .next()
            .unwrap()
            .to_string();
        first
            .split(',')
            .filter_map(|kv| {
                kv.split_once("\":")
                    .map(|(k, _)| k.trim_matches('"').to_string())
            })
            .collect()
    };
    let ws = &s.ws;
    let rt = &rig.runtime;
    let expected: Vec<(String, &str)> = vec![
        (format!("/api/runtimes/{rt}/usage"), "runtime_id,date,provider,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,cache_savings_usd,unpriced_tokens"),
        (format!("/api/runtimes/{rt}/usage/by-agent"), "agent_id,provider,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
        (format!("/api/runtimes/{rt}/usage/by-hour"), "hour,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
        (format!("/api/workspaces/{ws}/usage/daily"), "date,model,total_input_tokens,total_output_tokens,total_cache_read_tokens,total_cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
        (format!("/api/workspaces/{ws}/usage/summary"), "model,total_input_tokens,total_output_tokens,total_cache_read_tokens,total_cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
        (format!("/api/workspaces/{ws}/usage/by-runtime"), "runtime_id,total_input_tokens,total_output_tokens,total_cache_read_tokens,total_cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
        (format!("/api/workspaces/{ws}/usage/by-agent"), "agent_id,total_input_tokens,total_output_tokens,total_cache_read_tokens,total_cache_write_tokens,task_count,cost_usd,unpriced_tokens"),
    ];
    for (path, fields) in expected {
        assert_eq!(first_keys(&path).join(","), fields, "{path}");
        let csv = s.get(&format!("{path}?format=csv"), &w.owner).expect(200);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(csv.text.split("\r\n").next(), Some(fields), "{path}");
    }
}

#[test]
fn csv_is_rfc_4180_with_nulls_empty() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([{"model": "odd, \"quoted\" name", "input_tokens": 3, "output_tokens": 4}]),
    )
    .expect(200);
    let r = s
        .get(
            &format!(
                "/api/runtimes/{}/usage?format=csv&tz=Asia/Tokyo",
                rig.runtime
            ),
            &w.owner,
        )
        .expect(200);
    assert_eq!(r.header("x-hangar-timezone"), Some("Asia/Tokyo"));
    assert_eq!(
        r.text,
        format!(
            "runtime_id,date,provider,model,input_tokens,output_tokens,cache_read_tokens,\
             cache_write_tokens,cost_usd,cache_savings_usd,unpriced_tokens\r\n\
             {},2026-06-15,claude,\"odd, \"\"quoted\"\" name\",3,4,0,0,,,7\r\n",
            rig.runtime
        )
    );
    let empty = s
        .get(
            &format!(
                "/api/workspaces/{}/usage/by-agent?format=csv&days=1&tz=Pacific/Kiritimati",
                w.other_ws
            ),
            &w.outsider,
        )
        .expect(200);
    assert_eq!(
        empty.text,
        "agent_id,total_input_tokens,total_output_tokens,total_cache_read_tokens,\
         total_cache_write_tokens,task_count,cost_usd,unpriced_tokens\r\n"
    );
}

#[test]
fn largest_cost_first_puts_null_last_and_breaks_ties_by_id() {
    let (s, w) = start();
    let big = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let tie_a = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let tie_b = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let unknown = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let sonnet =
        |n: i64| json!([{"model": "claude-sonnet-5", "input_tokens": n, "output_tokens": 0}]);
    report(&s, &w.owner_daemon, &big.task, sonnet(5_000_000)).expect(200);
    report(&s, &w.owner_daemon, &tie_a.task, sonnet(1_000_000)).expect(200);
    report(&s, &w.owner_daemon, &tie_b.task, sonnet(1_000_000)).expect(200);
    report(
        &s,
        &w.owner_daemon,
        &unknown.task,
        json!([{"model": "who-knows", "input_tokens": 99_000_000, "output_tokens": 0}]),
    )
    .expect(200);
    let mut ties = [tie_a.runtime.clone(), tie_b.runtime.clone()];
    ties.sort();
    let by_runtime = rows(
        &s,
        &format!("/api/workspaces/{}/usage/by-runtime", s.ws),
        &w.owner,
    );
    let ids: Vec<&str> = by_runtime
        .iter()
        .map(|r| r["runtime_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            big.runtime.as_str(),
            &ties[0],
            &ties[1],
            unknown.runtime.as_str()
        ]
    );
    assert_eq!(by_runtime[3]["cost_usd"], Value::Null);
    assert_eq!(by_runtime[3]["unpriced_tokens"], 99_000_000);
    let mut agent_ties = [tie_a.agent.clone(), tie_b.agent.clone()];
    agent_ties.sort();
    let by_agent = rows(
        &s,
        &format!("/api/workspaces/{}/usage/by-agent", s.ws),
        &w.owner,
    );
    let ids: Vec<&str> = by_agent
        .iter()
        .map(|r| r["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            big.agent.as_str(),
            &agent_ties[0],
            &agent_ties[1],
            unknown.agent.as_str()
        ]
    );
    // The summary orders by volume but still puts an unknown cost last.
    let summary = rows(
        &s,
        &format!("/api/workspaces/{}/usage/summary", s.ws),
        &w.owner,
    );
    let models: Vec<&str> = summary
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, vec!["claude-sonnet-5", "who-knows"]);
}

#[test]
fn zero_rows_are_omitted_and_priced_zero_is_not_null() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "glm", "UTC");
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([
            {"model": "claude-opus-5", "input_tokens": 0, "output_tokens": 0},
            {"model": "glm-4.7-flash", "input_tokens": 10, "output_tokens": 10},
            {"model": "nothing-known", "input_tokens": 0, "output_tokens": 0, "cost_usd": 0}
        ]),
    )
    .expect(200);
    let daily = rows(
        &s,
        &format!("/api/runtimes/{}/usage", rig.runtime),
        &w.owner,
    );
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(daily[0]["model"], "glm-4.7-flash");
    assert_eq!(daily[0]["cost_usd"], json!(0.0));
    assert_eq!(daily[0]["unpriced_tokens"], 0);
}

#[test]
fn runtime_windows_have_n_plus_one_buckets_and_workspace_windows_n() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    for (i, day) in ["2026-06-15", "2026-06-14", "2026-06-13", "2026-06-12"]
        .iter()
        .enumerate()
    {
        let task = rig.new_task(&s, &s.ws);
        report(
            &s,
            &w.owner_daemon,
            &task,
            json!([{"model": "claude-sonnet-5", "input_tokens": 10 + i, "output_tokens": 1,
                    "occurred_at": format!("{day}T00:00:00Z")}]),
        )
        .expect(200);
    }
    let dates = |path: &str, field: &str| -> (Vec<String>, String) {
        let r = s.get(path, &w.owner).expect(200);
        let days = r.header("x-hangar-days").unwrap().to_string();
        let list = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_str().unwrap().to_string())
            .collect();
        (list, days)
    };
    let rt = format!("/api/runtimes/{}/usage", rig.runtime);
    let ws = format!("/api/workspaces/{}/usage/daily", s.ws);
    assert_eq!(
        dates(&format!("{rt}?days=2"), "date"),
        (
            vec![
                "2026-06-15".into(),
                "2026-06-14".into(),
                "2026-06-13".into()
            ],
            "2".into()
        )
    );
    assert_eq!(
        dates(&format!("{ws}?days=2"), "date"),
        (vec!["2026-06-15".into(), "2026-06-14".into()], "2".into())
    );
    assert_eq!(
        dates(&format!("{ws}?days=1"), "date"),
        (vec!["2026-06-15".into()], "1".into())
    );
    assert_eq!(dates(&format!("{rt}?days=1"), "date").0.len(), 2);
    // Anything that is not 1..=365 means the endpoint's default.
    for bad in ["0", "-3", "366", "abc", "2.5", ""] {
        assert_eq!(
            dates(&format!("{rt}?days={bad}"), "date").1,
            "90",
            "days={bad}"
        );
        assert_eq!(
            dates(&format!("{ws}?days={bad}"), "date").1,
            "30",
            "days={bad}"
        );
    }
    let defaults = [
        (
            format!("/api/runtimes/{}/usage/by-agent", rig.runtime),
            "30",
        ),
        (format!("/api/runtimes/{}/usage/by-hour", rig.runtime), "30"),
        (format!("/api/runtimes/{}/activity", rig.runtime), "all"),
        (format!("/api/workspaces/{}/usage/summary", s.ws), "30"),
        (format!("/api/workspaces/{}/usage/by-runtime", s.ws), "7"),
        (format!("/api/workspaces/{}/usage/by-agent", s.ws), "30"),
    ];
    for (path, days) in defaults {
        let r = s.get(&path, &w.owner).expect(200);
        assert_eq!(r.header("x-hangar-days"), Some(days), "{path}");
        assert_eq!(r.header("x-hangar-timezone"), Some("UTC"), "{path}");
    }
    // by-runtime's window holds the two newest days for days=2.
    let totals = rows(
        &s,
        &format!("/api/workspaces/{}/usage/by-runtime?days=2", s.ws),
        &w.owner,
    );
    assert_eq!(totals[0]["total_input_tokens"], 10 + 11);
    assert_eq!(totals[0]["task_count"], 2);
}

#[test]
fn the_viewing_zone_falls_from_query_to_user_to_runtime_to_utc() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "Europe/Paris");
    let zone = |path: &str, token: &str| {
        s.get(path, token)
            .expect(200)
            .header("x-hangar-timezone")
            .unwrap()
            .to_string()
    };
    let rt = format!("/api/runtimes/{}/usage", rig.runtime);
    let ws = format!("/api/workspaces/{}/usage/daily", s.ws);
    assert_eq!(zone(&rt, &w.owner), "Europe/Paris");
    assert_eq!(zone(&ws, &w.owner), "UTC");
    assert_eq!(
        zone(&format!("{rt}?tz=Asia/Kathmandu"), &w.owner),
        "Asia/Kathmandu"
    );
    assert_eq!(
        zone(&format!("{rt}?tz=Mars/Base"), &w.owner),
        "Europe/Paris"
    );
    s.patch("/api/me", &w.admin, json!({"timezone": "America/Santiago"}))
        .expect(200);
    assert_eq!(zone(&rt, &w.admin), "America/Santiago");
    assert_eq!(zone(&format!("{ws}?tz=nope"), &w.admin), "America/Santiago");
    assert_eq!(
        zone(&format!("{ws}?tz=Asia/Kolkata"), &w.admin),
        "Asia/Kolkata"
    );
}

#[test]
fn reports_are_for_members_only() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    for path in [
        format!("/api/runtimes/{}/usage", rig.runtime),
        format!("/api/runtimes/{}/usage/by-agent", rig.runtime),
        format!("/api/runtimes/{}/usage/by-hour", rig.runtime),
        format!("/api/runtimes/{}/activity", rig.runtime),
    ] {
        s.get(&path, &w.member).expect(200);
        let e = s.get(&path, &w.outsider).expect_error(404, "not_found");
        assert_eq!(e.body["error"], "runtime not found");
        s.get(&path, &w.owner_daemon)
            .expect_error(401, "unauthorized");
        s.get(&path.replace(&rig.runtime, "bad-id"), &w.owner)
            .expect_error(400, "invalid_id");
        s.get(
            &path.replace(&rig.runtime, &hangar::ids::new_id()),
            &w.owner,
        )
        .expect_error(404, "not_found");
    }
    for kind in ["daily", "summary", "by-runtime", "by-agent"] {
        let path = format!("/api/workspaces/{}/usage/{kind}", s.ws);
        s.get(&path, &w.member).expect(200);
        s.get(&path, &w.outsider).expect_error(404, "not_found");
        s.get(&path.replace(&s.ws, "x"), &w.owner)
            .expect_error(400, "invalid_id");
    }
}

#[test]
fn deleting_a_runtime_leaves_workspace_totals_unchanged() {
    let (s, w) = start();
    let doomed = seed_costs(&s, &w);
    let kept = Rig::new(&s, &s.ws, &w.owner_id, "codex", "UTC");
    report(
        &s,
        &w.owner_daemon,
        &kept.task,
        json!([{"model": "gpt-5", "input_tokens": 1000, "output_tokens": 10}]),
    )
    .expect(200);
    let paths: Vec<String> = ["daily", "summary", "by-runtime", "by-agent"]
        .iter()
        .map(|k| format!("/api/workspaces/{}/usage/{k}", s.ws))
        .collect();
    let before: Vec<String> = paths
        .iter()
        .map(|p| s.get(p, &w.owner).expect(200).text)
        .collect();
    // What runtime deletion does to the rows (§6): tasks of its agents go with the agents,
    // then the runtime itself.
    let sql = s.sql();
    sql.execute("DELETE FROM task WHERE agent_id = ?1", [&doomed.agent])
        .unwrap();
    sql.execute("DELETE FROM agent WHERE runtime_id = ?1", [&doomed.runtime])
        .unwrap();
    sql.execute("DELETE FROM runtime WHERE id = ?1", [&doomed.runtime])
        .unwrap();
    let after: Vec<String> = paths
        .iter()
        .map(|p| s.get(p, &w.owner).expect(200).text)
        .collect();
    assert_eq!(before, after);
    assert!(
        after[2].contains(&doomed.runtime),
        "deleted runtime missing: {}",
        after[2]
    );
    s.get(&format!("/api/runtimes/{}/usage", doomed.runtime), &w.owner)
        .expect_error(404, "not_found");
    ledger::assert_rollups_match(&s);
}

#[test]
fn activity_counts_started_tasks_by_local_hour() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "Asia/Kolkata");
    let started = [
        "2026-06-15T03:40:00Z", // 09:10 Kolkata
        "2026-06-14T03:31:00Z", // 09:01
        "2026-06-14T04:29:59Z", // 09:59
        "2025-01-01T18:30:00Z", // 00:00, long ago
    ];
    for at in started {
        ledger::task(
            &s,
            &s.ws,
            &rig.agent,
            Some(&rig.runtime),
            "completed",
            Some(ledger::ms(at)),
        );
    }
    // Never started, and another runtime's task: not counted.
    ledger::task(&s, &s.ws, &rig.agent, Some(&rig.runtime), "queued", None);
    let other = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    ledger::task(
        &s,
        &s.ws,
        &other.agent,
        Some(&other.runtime),
        "running",
        Some(ledger::ms(NOW)),
    );
    let path = format!("/api/runtimes/{}/activity", rig.runtime);
    let r = s.get(&path, &w.owner).expect(200);
    assert_eq!(r.header("x-hangar-days"), Some("all"));
    assert_eq!(r.header("x-hangar-timezone"), Some("Asia/Kolkata"));
    assert_eq!(
        r.body,
        json!([{"hour": 0, "count": 1}, {"hour": 9, "count": 3}])
    );
    let r = s.get(&format!("{path}?days=1"), &w.owner).expect(200);
    assert_eq!(r.header("x-hangar-days"), Some("1"));
    assert_eq!(r.body, json!([{"hour": 9, "count": 3}]));
    let r = s
        .get(&format!("{path}?days=1&tz=UTC&format=csv"), &w.owner)
        .expect(200);
    assert_eq!(r.text, "hour,count\r\n3,2\r\n4,1\r\n");
}

#[test]
fn pricing_shows_the_table_in_force() {
    let (s, w) = start();
    let table = rows(&s, "/api/pricing", &w.member);
    assert_eq!(
        table[0],
        json!({"model": "claude-sonnet-5", "input": 2.0, "output": 10.0, "cache_read": 0.2,
               "cache_write": 2.5})
    );
    assert!(s.get("/api/pricing", &w.owner).text.starts_with(
        "[{\"model\":\"claude-sonnet-5\",\"input\":2.0,\"output\":10.0,\"cache_read\":0.2,"
    ));
    s.get("/api/pricing", "").expect_error(401, "unauthorized");
    drop(s);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prices.json");
    std::fs::write(
        &file,
        r#"{"models": [{"model": "house-model", "input": 1, "output": 2, "cache_read": 0.5,
                        "cache_write": 0}]}"#,
    )
    .unwrap();
    let custom = file.clone();
    let s = TestServer::start_pinned(NOW.parse().unwrap(), move |c| c.pricing_file = Some(custom));
    let w = World::seed(&s);
    assert_eq!(
        rows(&s, "/api/pricing", &w.owner),
        vec![
            json!({"model": "house-model", "input": 1.0, "output": 2.0, "cache_read": 0.5,
                    "cache_write": 0.0})
        ]
    );
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    report(
        &s,
        &w.owner_daemon,
        &rig.task,
        json!([{"model": "house-model", "input_tokens": 1_000_000, "output_tokens": 1_000_000},
               {"model": "claude-sonnet-5", "input_tokens": 1, "output_tokens": 0}]),
    )
    .expect(200);
    let summary = rows(
        &s,
        &format!("/api/workspaces/{}/usage/summary", s.ws),
        &w.owner,
    );
    assert_eq!(summary[0]["cost_usd"], json!(3.0));
    assert_eq!(
        summary[1]["cost_usd"],
        Value::Null,
        "no longer in the table"
    );

    std::fs::write(&file, r#"{"models": [{"model": "x", "input": -1}]}"#).unwrap();
    let mut config = hangar::config::Config::new(dir.path().join("bad.db"));
    config.pricing_file = Some(file);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = hangar::serve(listener, config)
        .err()
        .expect("a bad price table stops the start");
    assert!(
        err.contains("price table") && err.contains("prices.json"),
        "{err}"
    );
}

#[test]
fn keep_alive_clients_get_large_answers_without_a_delayed_ack_stall() {
    use std::io::{BufRead, BufReader, Read, Write};
    let (s, w) = start();
    let addr = s.base.trim_start_matches("http://").to_string();
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut took = Vec::new();
    for _ in 0..9 {
        let started = std::time::Instant::now();
        // The price table is ~5 KiB: head and body used to leave in two writes, and Nagle held
        // the body until the client's delayed ACK, 40 ms later.
        let request = format!(
            "GET /api/pricing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            w.member
        );
        writer.write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert!(body.len() > 4096, "{}", body.len());
        took.push(started.elapsed());
    }
    took.sort();
    assert!(
        took[4] < std::time::Duration::from_millis(30),
        "median {:?} of {took:?}",
        took[4]
    );
}
