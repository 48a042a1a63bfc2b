//! The workspace price book (issue 15): dated overrides reprice exactly the buckets at and
//! after `valid_from` (in every report shape), the preview predicts the change to the tick,
//! deleting restores the old figures, unknown models stay listed as unpriced until priced,
//! and bad input, non-admins and other workspaces are refused with nothing written.
mod common;

use std::collections::BTreeMap;

use common::ledger::{report, Rig};
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";
/// Ticks in one micro-dollar: reports round to micro-dollars, and every cost here is whole.
const TICKS_PER_MICRO: i64 = 10_000;

fn start() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    (s, w)
}

/// One usage per (instant, provider, model, input, output), each on its own task.
fn seed(s: &TestServer, w: &World, usages: &[(&str, &str, &str, i64, i64)]) -> Rig {
    let rig = Rig::new(s, &s.ws, &w.owner_id, "claude", "UTC");
    for (at, provider, model, input, output) in usages {
        let task = rig.new_task(s, &s.ws);
        report(
            s,
            &w.owner_daemon,
            &task,
            json!([{"provider": provider, "model": model, "input_tokens": input,
                    "output_tokens": output, "occurred_at": at}]),
        )
        .expect(200);
    }
    rig
}

/// `key fields` joined → cost in micro-dollars (`None` when unpriced).
fn costs(s: &TestServer, token: &str, path: &str, keys: &[&str]) -> BTreeMap<String, Option<i64>> {
    let body = s.get(path, token).expect(200).body;
    body.as_array()
        .unwrap_or_else(|| panic!("{path}: not an array"))
        .iter()
        .map(|row| {
            let key: Vec<String> = keys
                .iter()
                .map(|k| row[*k].as_str().unwrap_or_default().to_string())
                .collect();
            let micros = row["cost_usd"]
                .as_f64()
                .map(|usd| (usd * 1e6).round() as i64);
            (key.join(" "), micros)
        })
        .collect()
}

fn price_body(model: &str, input: Value, valid_from: &str) -> Value {
    json!({"model": model, "input": input, "output": 11, "cache_read": 0.5,
           "cache_write": 3, "valid_from": valid_from})
}

/// The reports a price change must move, each as key → micro-dollars.
fn reports(s: &TestServer, token: &str, rig: &Rig) -> Vec<BTreeMap<String, Option<i64>>> {
    let ws = &s.ws;
    vec![
        costs(
            s,
            token,
            &format!("/api/workspaces/{ws}/usage/daily?days=60&tz=UTC"),
            &["date", "model"],
        ),
        costs(
            s,
            token,
            &format!("/api/workspaces/{ws}/usage/summary?days=60&tz=UTC"),
            &["model"],
        ),
        costs(
            s,
            token,
            &format!("/api/workspaces/{ws}/usage/by-agent?days=60&tz=UTC"),
            &["agent_id"],
        ),
        costs(
            s,
            token,
            &format!("/api/runtimes/{}/usage?days=60&tz=UTC", rig.runtime),
            &["date", "model"],
        ),
    ]
}

#[test]
fn a_back_dated_price_moves_exactly_the_later_buckets_by_the_previewed_delta() {
    let (s, w) = start();
    // claude-sonnet-5 in the table: 2 USD/M input, 10 USD/M output.
    let rig = seed(
        &s,
        &w,
        &[
            (
                "2026-05-20T10:00:00Z",
                "claude",
                "claude-sonnet-5",
                1000,
                100,
            ),
            (
                "2026-06-03T09:00:00Z",
                "claude",
                "claude-sonnet-5",
                2000,
                200,
            ),
            (
                "2026-06-03T11:30:00Z",
                "claude",
                "claude-sonnet-5",
                4000,
                400,
            ),
            (
                "2026-06-10T08:00:00Z",
                "claude",
                "claude-sonnet-5",
                8000,
                800,
            ),
        ],
    );
    let before = reports(&s, &w.owner, &rig);
    let daily_before = &before[0];
    assert_eq!(
        daily_before["2026-06-03 claude-sonnet-5"],
        Some(6000 + 12000)
    );

    // 10:15 on 3 June: mid-day, so day buckets straddle it.
    let body = price_body("claude-sonnet-5", json!(7), "2026-06-03T10:15:00Z");
    let preview = s
        .post(
            &format!("/api/workspaces/{}/prices/preview", s.ws),
            &w.member,
            body.clone(),
        )
        .expect(200)
        .body;
    // C: 4000×7 + 400×11 = 32400 (was 12000); D: 64800 (was 24000).
    let expected_delta_micros = (32400 - 12000) + (64800 - 24000);
    assert_eq!(
        preview["delta_ticks"],
        json!(expected_delta_micros * TICKS_PER_MICRO)
    );
    assert_eq!(preview["months_zone"], "UTC");
    let months = preview["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "{preview}");
    assert_eq!(months[0]["month"], "2026-06");
    assert_eq!(
        months[0]["old_cost_ticks"],
        json!((6000 + 12000 + 24000) * TICKS_PER_MICRO)
    );
    assert_eq!(months[0]["delta_ticks"], preview["delta_ticks"]);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM price_override"),
        0,
        "preview saved nothing"
    );
    assert_eq!(
        reports(&s, &w.owner, &rig),
        before,
        "preview changed no report"
    );

    let prices_version = || {
        let path = format!("/api/workspaces/{}/usage/summary", s.ws);
        let r = s.get(&path, &w.owner).expect(200);
        r.header("x-hangar-prices")
            .expect("stated prices")
            .to_string()
    };
    let table_version = prices_version();
    let created = s
        .post(&format!("/api/workspaces/{}/prices", s.ws), &w.admin, body)
        .expect(201)
        .body;
    assert_eq!(created["valid_from"], "2026-06-03T10:15:00.000Z");
    assert_eq!(created["input"], json!(7.0));
    let after = reports(&s, &w.owner, &rig);
    let daily = &after[0];
    assert_eq!(daily["2026-05-20 claude-sonnet-5"], Some(3000));
    assert_eq!(daily["2026-06-03 claude-sonnet-5"], Some(6000 + 32400));
    assert_eq!(daily["2026-06-10 claude-sonnet-5"], Some(64800));
    // Every report moved by exactly the previewed delta, and only at or after valid_from.
    for (b, a) in before.iter().zip(&after) {
        let total =
            |m: &BTreeMap<String, Option<i64>>| m.values().map(|v| v.unwrap_or(0)).sum::<i64>();
        assert_eq!(total(a) - total(b), expected_delta_micros, "{b:?} → {a:?}");
    }
    assert_eq!(daily.len(), daily_before.len());
    // The drill-down prices each ledger row with the price in force at its instant: the rows
    // behind a day straddling valid_from add up to the day's cell.
    let drill = s
        .get(
            &format!(
                "/api/workspaces/{}/usage/tasks?date=2026-06-03&model=claude-sonnet-5&tz=UTC",
                s.ws
            ),
            &w.owner,
        )
        .expect(200)
        .body;
    let micros = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i64;
    assert_eq!(micros(&drill["total"]["cost_usd"]), 6000 + 32400, "{drill}");
    assert_eq!(
        hangar_check(&s),
        "",
        "hangar check agrees with overrides in force"
    );

    let pricing = s
        .get(&format!("/api/workspaces/{}/pricing", s.ws), &w.member)
        .expect(200)
        .body;
    let row = pricing["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "claude-sonnet-5")
        .expect("listed");
    assert_eq!(
        (row["input"].clone(), row["source"].clone()),
        (json!(7.0), json!("workspace"))
    );
    assert_eq!(pricing["overrides"].as_array().unwrap().len(), 1);

    let id = created["id"].as_str().unwrap();
    s.delete(&format!("/api/workspaces/{}/prices/{id}", s.ws), &w.owner)
        .expect(204);
    assert_eq!(
        reports(&s, &w.owner, &rig),
        before,
        "deleting restores the old figures"
    );
    assert_eq!(prices_version(), table_version);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM event WHERE type IN ('price:created', 'price:deleted')"),
        2
    );
}

#[test]
fn an_unknown_model_is_unpriced_until_priced_then_costed_from_valid_from_on() {
    let (s, w) = start();
    let rig = seed(
        &s,
        &w,
        &[
            ("2026-06-01T10:00:00Z", "acme", "mystery-model", 1000, 10),
            ("2026-06-10T10:00:00Z", "acme", "mystery-model", 2000, 20),
            ("2026-06-10T11:00:00Z", "claude", "claude-sonnet-5", 5, 5),
        ],
    );
    let unpriced = |s: &TestServer| {
        s.get(
            &format!("/api/workspaces/{}/usage/unpriced?days=30&tz=UTC", s.ws),
            &w.member,
        )
        .expect(200)
        .body
    };
    assert_eq!(
        unpriced(&s),
        json!([{"provider": "acme", "model": "mystery-model", "unpriced_tokens": 3030,
                "first_seen": "2026-06-01", "last_seen": "2026-06-10"}])
    );
    s.post(
        &format!("/api/workspaces/{}/prices", s.ws),
        &w.owner,
        price_body("acme/mystery-model", json!(1), "2026-06-05T00:00:00Z"),
    )
    .expect(201);
    assert_eq!(
        unpriced(&s),
        json!([{"provider": "acme", "model": "mystery-model", "unpriced_tokens": 1010,
                "first_seen": "2026-06-01", "last_seen": "2026-06-01"}])
    );
    let daily = costs(
        &s,
        &w.owner,
        &format!("/api/runtimes/{}/usage?days=30&tz=UTC", rig.runtime),
        &["date", "model"],
    );
    assert_eq!(daily["2026-06-01 mystery-model"], None);
    assert_eq!(daily["2026-06-10 mystery-model"], Some(2000 + 20 * 11));
    // A second, earlier price covers the rest: nothing is unpriced any more.
    s.post(
        &format!("/api/workspaces/{}/prices", s.ws),
        &w.owner,
        price_body("mystery-model", json!(2), "2026-05-01T00:00:00Z"),
    )
    .expect(201);
    assert_eq!(unpriced(&s), json!([]));
}

#[test]
fn bad_input_is_refused_with_400_and_nothing_is_written() {
    let (s, w) = start();
    let path = format!("/api/workspaces/{}/prices", s.ws);
    let grid = "2026-06-03T10:15:00Z";
    let mut unknown = price_body("m", json!(1), grid);
    unknown["currency"] = json!("EUR");
    let mut missing = price_body("m", json!(1), grid);
    missing.as_object_mut().unwrap().remove("cache_write");
    let cases: Vec<(Value, &str, &str)> = vec![
        (unknown, "unknown_field", "currency"),
        (missing, "invalid_field", "cache_write"),
        (price_body("", json!(1), grid), "invalid_field", "model"),
        (price_body(" m", json!(1), grid), "invalid_field", "model"),
        (price_body("m", json!("1"), grid), "invalid_field", "input"),
        (price_body("m", json!(-1), grid), "invalid_field", "input"),
        (
            price_body("m", json!(0.00001), grid),
            "invalid_field",
            "input",
        ),
        (price_body("m", json!(2e6), grid), "invalid_field", "input"),
        (
            price_body("m", json!(1), "2026-06-03T10:10:00Z"),
            "invalid_field",
            "valid_from",
        ),
        (
            price_body("m", json!(1), "2026-06-03T10:15:00.001Z"),
            "invalid_field",
            "valid_from",
        ),
        (
            price_body("m", json!(1), "yesterday"),
            "invalid_field",
            "valid_from",
        ),
        (json!([1]), "invalid_json", ""),
    ];
    for (body, code, field) in cases {
        for p in [
            path.clone(),
            format!("/api/workspaces/{}/prices/preview", s.ws),
        ] {
            let r = s.post(&p, &w.owner, body.clone()).expect_error(400, code);
            assert!(r.text.contains(field), "{p} {body}: {}", r.text);
        }
    }
    // A whole number of ticks with the most decimals allowed is fine; a duplicate start is 409.
    s.post(&path, &w.owner, price_body("m", json!(0.0001), grid))
        .expect(201);
    s.post(&path, &w.owner, price_body("m", json!(5), grid))
        .expect_error(409, "price_exists");
    assert_eq!(s.count("SELECT COUNT(*) FROM price_override"), 1);
    assert_eq!(s.count("SELECT input FROM price_override"), 1);
    s.delete(
        &format!("/api/workspaces/{}/prices/not-an-id!", s.ws),
        &w.owner,
    )
    .expect_error(400, "invalid_id");
}

#[test]
fn only_admins_change_prices_and_other_workspaces_see_nothing() {
    let (s, w) = start();
    let ws = &s.ws;
    let body = price_body("claude-sonnet-5", json!(3), "2026-06-01T00:00:00Z");
    s.post(
        &format!("/api/workspaces/{ws}/prices"),
        &w.member,
        body.clone(),
    )
    .expect_error(403, "forbidden");
    let id = s
        .post(
            &format!("/api/workspaces/{ws}/prices"),
            &w.admin,
            body.clone(),
        )
        .expect(201)
        .id();
    s.delete(&format!("/api/workspaces/{ws}/prices/{id}"), &w.member)
        .expect_error(403, "forbidden");
    for path in [
        format!("/api/workspaces/{ws}/pricing"),
        format!("/api/workspaces/{ws}/usage/unpriced"),
    ] {
        s.get(&path, &w.member).expect(200);
        s.get(&path, &w.outsider).expect_error(404, "not_found");
    }
    for path in [
        format!("/api/workspaces/{ws}/prices"),
        format!("/api/workspaces/{ws}/prices/preview"),
    ] {
        s.post(&path, &w.outsider, body.clone())
            .expect_error(404, "not_found");
    }
    s.delete(&format!("/api/workspaces/{ws}/prices/{id}"), &w.outsider)
        .expect_error(404, "not_found");
    // The outsider owns the other workspace, but the override is not there.
    s.delete(
        &format!("/api/workspaces/{}/prices/{id}", w.other_ws),
        &w.outsider,
    )
    .expect_error(404, "not_found");
    let other = s
        .get(
            &format!("/api/workspaces/{}/pricing", w.other_ws),
            &w.outsider,
        )
        .expect(200);
    assert_eq!(other.body["overrides"], json!([]));
    assert_eq!(s.count("SELECT COUNT(*) FROM price_override"), 1);
}

/// The failing lines of `hangar check` on this server's database (empty when all pass).
fn hangar_check(s: &TestServer) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hangar"))
        .args(["check", "--db"])
        .arg(s.db_path())
        .output()
        .expect("run hangar check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("checks passed"), "{text}");
    text.lines()
        .filter(|l| l.starts_with("FAIL"))
        .collect::<Vec<_>>()
        .join("\n")
}
