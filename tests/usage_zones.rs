//! Reports are exact in the viewer's zone (API.md §5): :45 and :30 offsets split days where a
//! UTC-hour rollup could not, and DST days in America/New_York have 23 and 25 hours.
mod common;

use std::collections::BTreeMap;

use common::ledger::{report, Rig};
use common::{TestServer, World};
use serde_json::json;

/// Reports one usage per instant on its own task, with input tokens 1, 2, 4, 8, … so every sum
/// names exactly the usages it holds.
fn seed(s: &TestServer, w: &World, instants: &[&str]) -> Rig {
    let rig = Rig::new(s, &s.ws, &w.owner_id, "claude", "UTC");
    for (i, at) in instants.iter().enumerate() {
        let task = rig.new_task(s, &s.ws);
        report(
            s,
            &w.owner_daemon,
            &task,
            json!([{"model": "claude-sonnet-5", "input_tokens": 1i64 << i, "output_tokens": 0,
                    "occurred_at": at}]),
        )
        .expect(200);
    }
    rig
}

/// `field` → summed input tokens over the report's rows.
fn sums(
    s: &TestServer,
    token: &str,
    path: &str,
    field: &str,
    tokens: &str,
) -> BTreeMap<String, i64> {
    let r = s.get(path, token).expect(200);
    let mut out = BTreeMap::new();
    for row in r.body.as_array().unwrap() {
        let key = match &row[field] {
            serde_json::Value::String(s) => s.clone(),
            other => format!("{:02}", other.as_u64().unwrap()),
        };
        *out.entry(key).or_insert(0) += row[tokens].as_i64().unwrap();
    }
    out
}

fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn a_minute_before_and_after_local_midnight_land_on_different_dates() {
    let s = TestServer::start_pinned("2026-06-15T12:00:00Z".parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = seed(
        &s,
        &w,
        &[
            "2026-06-10T23:59:00+05:45", // Kathmandu: 18:14 UTC
            "2026-06-11T00:01:00+05:45", // 18:16 UTC, same UTC hour
            "2026-06-10T23:59:00+05:30", // Kolkata: 18:29 UTC
            "2026-06-11T00:01:00+05:30", // 18:31 UTC
        ],
    );
    let rt = format!("/api/runtimes/{}/usage", rig.runtime);
    let ws = format!("/api/workspaces/{}/usage/daily", s.ws);
    let hours = format!("/api/runtimes/{}/usage/by-hour", rig.runtime);
    for (path, tokens) in [(&rt, "input_tokens"), (&ws, "total_input_tokens")] {
        assert_eq!(
            sums(
                &s,
                &w.owner,
                &format!("{path}?tz=Asia/Kathmandu"),
                "date",
                tokens
            ),
            map(&[("2026-06-10", 1), ("2026-06-11", 2 + 4 + 8)]),
            "{path}"
        );
        assert_eq!(
            sums(
                &s,
                &w.owner,
                &format!("{path}?tz=Asia/Kolkata"),
                "date",
                tokens
            ),
            map(&[("2026-06-10", 1 + 2 + 4), ("2026-06-11", 8)]),
            "{path}"
        );
        assert_eq!(
            sums(&s, &w.owner, path, "date", tokens),
            map(&[("2026-06-10", 15)]),
            "{path} in UTC"
        );
    }
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("{hours}?tz=Asia/Kathmandu"),
            "hour",
            "input_tokens"
        ),
        map(&[("00", 2 + 4 + 8), ("23", 1)])
    );
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("{hours}?tz=Asia/Kolkata"),
            "hour",
            "input_tokens"
        ),
        map(&[("00", 8), ("23", 1 + 2 + 4)])
    );
    // Through the user's own zone as well.
    s.patch("/api/me", &w.owner, json!({"timezone": "Asia/Kathmandu"}))
        .expect(200);
    assert_eq!(
        sums(&s, &w.owner, &ws, "date", "total_input_tokens"),
        map(&[("2026-06-10", 1), ("2026-06-11", 14)])
    );
}

#[test]
fn new_york_spring_forward_day_has_23_hours_and_no_hour_2() {
    let s = TestServer::start_pinned("2026-03-20T12:00:00Z".parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = seed(
        &s,
        &w,
        &[
            "2026-03-08T04:59:00Z", // 23:59 EST on the 7th
            "2026-03-08T05:30:00Z", // 00:30 EST
            "2026-03-08T06:45:00Z", // 01:45 EST
            "2026-03-08T07:00:00Z", // 03:00 EDT: 02:00 never happened
            "2026-03-08T07:59:00Z", // 03:59 EDT
            "2026-03-09T03:59:00Z", // 23:59 EDT on the 8th
            "2026-03-09T04:00:00Z", // 00:00 EDT on the 9th
        ],
    );
    let q = "?tz=America/New_York";
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("/api/runtimes/{}/usage{q}", rig.runtime),
            "date",
            "input_tokens"
        ),
        map(&[
            ("2026-03-07", 1),
            ("2026-03-08", 2 + 4 + 8 + 16 + 32),
            ("2026-03-09", 64)
        ])
    );
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("/api/runtimes/{}/usage/by-hour{q}", rig.runtime),
            "hour",
            "input_tokens"
        ),
        map(&[("00", 2 + 64), ("01", 4), ("03", 8 + 16), ("23", 1 + 32)])
    );
}

#[test]
fn new_york_fall_back_day_has_25_hours_and_hour_1_twice() {
    let s = TestServer::start_pinned("2026-11-10T12:00:00Z".parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = seed(
        &s,
        &w,
        &[
            "2026-11-01T03:59:00Z", // 23:59 EDT on Oct 31
            "2026-11-01T04:30:00Z", // 00:30 EDT
            "2026-11-01T05:30:00Z", // 01:30 EDT
            "2026-11-01T06:30:00Z", // 01:30 EST, the second one
            "2026-11-01T07:30:00Z", // 02:30 EST
            "2026-11-02T04:30:00Z", // 23:30 EST, still Nov 1 (the 25th hour of the day)
            "2026-11-02T05:00:00Z", // 00:00 EST on Nov 2
        ],
    );
    let q = "?tz=America/New_York";
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("/api/workspaces/{}/usage/daily{q}", s.ws),
            "date",
            "total_input_tokens"
        ),
        map(&[
            ("2026-10-31", 1),
            ("2026-11-01", 2 + 4 + 8 + 16 + 32),
            ("2026-11-02", 64)
        ])
    );
    assert_eq!(
        sums(
            &s,
            &w.owner,
            &format!("/api/runtimes/{}/usage/by-hour{q}", rig.runtime),
            "hour",
            "input_tokens"
        ),
        map(&[("00", 2 + 64), ("01", 4 + 8), ("02", 16), ("23", 1 + 32)])
    );
    // A 9-day window starts at local midnight of Nov 1 (EDT, 04:00 UTC): the usage a minute
    // before it stays out.
    let r = sums(
        &s,
        &w.owner,
        &format!("/api/runtimes/{}/usage{q}&days=9", rig.runtime),
        "date",
        "input_tokens",
    );
    assert_eq!(r, map(&[("2026-11-01", 62), ("2026-11-02", 64)]));
}
