//! Date ranges and buckets of the daily reports (`?since=&until=`, `?bucket=day|week|month`):
//! weeks start on Monday and months on the 1st in the viewer's zone (New York's November,
//! which has 30 days and 721 hours, included), buckets add up their days exactly, ranges are
//! inclusive local dates of at most 400 days, and every usage response states its terms.
mod common;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use common::ledger::{put, random_ledger, Rig, RANDOM_ZONES};
use common::{TestServer, World};
use hangar::usage::pricing::PriceTable;
use serde_json::Value;

const NOW: &str = "2026-12-10T12:00:00Z";

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
        .unwrap()
        .clone()
}

/// Input tokens by `date` of a report's rows, whose input field is `field`.
fn by_date(rows: &[Value], field: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r["date"].as_str().unwrap().to_string())
            .or_default() += r[field].as_i64().unwrap();
    }
    out
}

fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn weeks_start_on_monday_in_the_viewing_zone() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    // 2026-11-02 and 2026-11-09 are Mondays; Kathmandu is +05:45, New York −05:00 (EST).
    put(
        &s,
        &s.ws,
        &rig,
        &[
            ("claude-opus-5", "2026-11-01T20:00:00Z", 1), // Sun UTC, Mon Kathmandu, Sun NY
            ("claude-opus-5", "2026-11-02T03:00:00Z", 10), // Mon UTC, Mon Kathmandu, Sun NY
            ("claude-opus-5", "2026-11-09T04:30:00Z", 100), // Mon UTC, Mon Kathmandu, Sun NY
            ("claude-opus-5", "2026-11-08T18:00:00Z", 1000), // Sun everywhere (23:45 Kathmandu)
            ("claude-opus-5", "2026-11-08T18:15:00Z", 10000), // 00:00 Monday in Kathmandu
        ],
    );
    let cases = [
        (
            "UTC",
            map(&[
                ("2026-10-26", 1),
                ("2026-11-02", 11010),
                ("2026-11-09", 100),
            ]),
        ),
        (
            "Asia/Kathmandu",
            map(&[("2026-11-02", 1011), ("2026-11-09", 10100)]),
        ),
        (
            "America/New_York",
            map(&[("2026-10-26", 11), ("2026-11-02", 11100)]),
        ),
    ];
    for (tz, want) in cases {
        let q = format!("bucket=week&tz={tz}&since=2026-10-01&until=2026-11-30");
        let ws = rows(
            &s,
            &format!("/api/workspaces/{}/usage/daily?{q}", s.ws),
            &w.owner,
        );
        assert_eq!(by_date(&ws, "total_input_tokens"), want, "workspace {tz}");
        let rt = rows(
            &s,
            &format!("/api/runtimes/{}/usage?{q}", rig.runtime),
            &w.owner,
        );
        assert_eq!(by_date(&rt, "input_tokens"), want, "runtime {tz}");
        // Without a range, the `days` window buckets the same way.
        let q = format!("bucket=week&tz={tz}&days=60");
        let ws = rows(
            &s,
            &format!("/api/workspaces/{}/usage/daily?{q}", s.ws),
            &w.owner,
        );
        assert_eq!(
            by_date(&ws, "total_input_tokens"),
            want,
            "workspace {tz} days"
        );
        for r in &ws {
            assert_eq!(date(r["date"].as_str().unwrap()).weekday(), Weekday::Mon);
        }
    }
}

#[test]
fn months_start_on_the_first_local_day_dst_months_included() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    put(
        &s,
        &s.ws,
        &rig,
        &[
            ("claude-opus-5", "2026-03-31T23:30:00Z", 1), // NY Mar 31 (EDT since the 8th)
            ("claude-opus-5", "2026-04-01T03:59:00Z", 2), // NY Mar 31 23:59 EDT
            ("claude-opus-5", "2026-11-01T03:30:00Z", 10), // NY Oct 31 23:30 EDT
            ("claude-opus-5", "2026-11-01T04:30:00Z", 100), // NY Nov 1 00:30 EDT
            ("claude-opus-5", "2026-12-01T04:30:00Z", 1000), // NY Nov 30 23:30 EST
            ("claude-opus-5", "2026-12-01T05:00:00Z", 10000), // NY Dec 1 00:00 EST
        ],
    );
    let cases = [
        (
            "UTC",
            map(&[
                ("2026-03-01", 1),
                ("2026-04-01", 2),
                ("2026-11-01", 110),
                ("2026-12-01", 11000),
            ]),
        ),
        (
            "America/New_York",
            map(&[
                ("2026-03-01", 3),
                ("2026-10-01", 10),
                ("2026-11-01", 1100),
                ("2026-12-01", 10000),
            ]),
        ),
        (
            "Asia/Kathmandu",
            map(&[
                ("2026-04-01", 3),
                ("2026-11-01", 110),
                ("2026-12-01", 11000),
            ]),
        ),
    ];
    for (tz, want) in cases {
        let q = format!("bucket=month&tz={tz}&since=2026-01-01&until=2026-12-31");
        let ws = rows(
            &s,
            &format!("/api/workspaces/{}/usage/daily?{q}", s.ws),
            &w.owner,
        );
        assert_eq!(by_date(&ws, "total_input_tokens"), want, "workspace {tz}");
        let rt = rows(
            &s,
            &format!("/api/runtimes/{}/usage?{q}", rig.runtime),
            &w.owner,
        );
        assert_eq!(by_date(&rt, "input_tokens"), want, "runtime {tz}");
    }
    // A range cuts the buckets at its local dates: 2026-11-01..2026-11-30 in New York holds
    // neither Oct 31 23:30 nor Dec 1 00:00.
    let q = "bucket=month&tz=America/New_York&since=2026-11-01&until=2026-11-30";
    let ws = s
        .get(
            &format!("/api/workspaces/{}/usage/daily?{q}", s.ws),
            &w.owner,
        )
        .expect(200);
    assert_eq!(
        by_date(ws.body.as_array().unwrap(), "total_input_tokens"),
        map(&[("2026-11-01", 1100)])
    );
    assert_eq!(ws.header("X-Hangar-Window"), Some("2026-11-01..2026-11-30"));
    assert_eq!(ws.header("X-Hangar-Days"), Some("30"));
}

#[test]
fn buckets_add_up_their_days_and_their_drill_downs_in_three_zones() {
    let (s, w) = start();
    random_ledger(&s, &s.ws, &w.owner_id, 41, 300);
    let ws = &s.ws;
    for tz in RANDOM_ZONES {
        let base =
            format!("/api/workspaces/{ws}/usage/daily?tz={tz}&since=2026-10-20&until=2026-12-10");
        let days = rows(&s, &base, &w.owner);
        for (bucket, first_day) in [
            (
                "week",
                (|d: NaiveDate| d - chrono::Days::new(d.weekday().num_days_from_monday().into()))
                    as fn(NaiveDate) -> NaiveDate,
            ),
            ("month", |d: NaiveDate| d.with_day(1).unwrap()),
        ] {
            let buckets = rows(&s, &format!("{base}&bucket={bucket}"), &w.owner);
            let mut want: BTreeMap<(String, String), i64> = BTreeMap::new();
            for r in &days {
                let key = (
                    first_day(date(r["date"].as_str().unwrap())).to_string(),
                    r["model"].as_str().unwrap().to_string(),
                );
                *want.entry(key).or_default() += r["total_input_tokens"].as_i64().unwrap();
            }
            let got: BTreeMap<(String, String), i64> = buckets
                .iter()
                .map(|r| {
                    let key = (
                        r["date"].as_str().unwrap().to_string(),
                        r["model"].as_str().unwrap().to_string(),
                    );
                    (key, r["total_input_tokens"].as_i64().unwrap())
                })
                .collect();
            assert_eq!(got, want, "{tz} {bucket}");
            // Newest bucket first, then model, as the daily rows.
            let keys: Vec<(String, String)> = buckets
                .iter()
                .map(|r| {
                    (
                        r["date"].as_str().unwrap().to_string(),
                        r["model"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let mut sorted = keys.clone();
            sorted.sort_by(|a, b| (&b.0, &a.1).cmp(&(&a.0, &b.1)));
            assert_eq!(keys, sorted, "{tz} {bucket} order");
            // A bucket's cost is its days' ticks rounded once: the drill-down over the same
            // dates (clipped to the range) renders the same tick sum.
            for r in buckets.iter().take(6) {
                let first = date(r["date"].as_str().unwrap()).max(date("2026-10-20"));
                let next = match bucket {
                    "week" => first_day(first) + chrono::Days::new(7),
                    _ => first_day(first) + chrono::Months::new(1),
                };
                let last = (next - chrono::Days::new(1)).min(date("2026-12-10"));
                let path = format!(
                    "/api/workspaces/{ws}/usage/tasks?tz={tz}&since={first}&until={last}&model={}",
                    r["model"].as_str().unwrap().replace('/', "%2F")
                );
                let total = &s.get(&path, &w.owner).expect(200).body["total"];
                assert_eq!(total["cost_usd"], r["cost_usd"], "{path}");
                assert_eq!(total["input_tokens"], r["total_input_tokens"], "{path}");
                assert_eq!(total["task_count"], r["task_count"], "{path}");
            }
        }
    }
}

#[test]
fn ranges_are_inclusive_local_dates_of_at_most_400_days() {
    let (s, w) = start();
    let ledger = random_ledger(&s, &s.ws, &w.owner_id, 7, 200);
    let ws = &s.ws;
    let rt = &ledger.runtimes[0];
    for tz in RANDOM_ZONES {
        let all = rows(
            &s,
            &format!("/api/workspaces/{ws}/usage/daily?days=60&tz={tz}"),
            &w.owner,
        );
        let want: Vec<&Value> = all
            .iter()
            .filter(|r| ("2026-11-03".."2026-11-06").contains(&r["date"].as_str().unwrap()))
            .collect();
        assert!(!want.is_empty());
        let got = rows(
            &s,
            &format!(
                "/api/workspaces/{ws}/usage/daily?since=2026-11-03&until=2026-11-05&tz={tz}&days=2"
            ),
            &w.owner,
        );
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{tz}");
        let all = rows(
            &s,
            &format!("/api/runtimes/{rt}/usage?days=60&tz={tz}"),
            &w.owner,
        );
        let one = rows(
            &s,
            &format!("/api/runtimes/{rt}/usage?since=2026-11-04&until=2026-11-04&tz={tz}"),
            &w.owner,
        );
        let want: Vec<&Value> = all.iter().filter(|r| r["date"] == "2026-11-04").collect();
        assert_eq!(one.iter().collect::<Vec<_>>(), want, "{tz} runtime");
    }
    // 2025-11-06..2026-12-10 is 400 days; one more is too many.
    s.get(
        &format!("/api/workspaces/{ws}/usage/daily?since=2025-11-07&until=2026-12-10"),
        &w.owner,
    )
    .expect(200);
    s.get(
        &format!("/api/workspaces/{ws}/usage/daily?since=2025-11-06&until=2026-12-10"),
        &w.owner,
    )
    .expect(200);
    for query in [
        "since=2025-11-05&until=2026-12-10",
        "since=2026-11-02&until=2026-11-01",
        "since=2026-11-02",
        "until=2026-11-02",
        "since=2026-11-2&until=2026-11-03",
        "since=2026-02-29&until=2026-03-03",
        "bucket=year",
        "bucket=Week",
        "days=7&bucket=days",
    ] {
        for path in [
            format!("/api/workspaces/{ws}/usage/daily"),
            format!("/api/runtimes/{rt}/usage"),
        ] {
            s.get(&format!("{path}?{query}"), &w.owner)
                .expect_error(400, "invalid_field");
            // The query is checked before membership.
            s.get(&format!("{path}?{query}"), &w.outsider)
                .expect_error(400, "invalid_field");
        }
    }
    s.get(
        &format!("/api/workspaces/{ws}/usage/daily?bucket=week"),
        &w.outsider,
    )
    .expect_error(404, "not_found");
    s.get("/api/runtimes/x/usage?bucket=year", &w.owner)
        .expect_error(400, "invalid_id");
    // Other reports ignore since, until and bucket (unknown parameters are ignored).
    s.get(
        &format!("/api/workspaces/{ws}/usage/summary?bucket=year&since=x"),
        &w.owner,
    )
    .expect(200);
}

#[test]
fn every_usage_report_states_its_terms_in_headers_and_the_envelope() {
    let (s, w) = start();
    let ledger = random_ledger(&s, &s.ws, &w.owner_id, 11, 60);
    let (ws, rt) = (&s.ws, &ledger.runtimes[0]);
    let prices = PriceTable::builtin().version().to_string();
    // (path, window, days) in UTC at 2026-12-10T12:00Z.
    let cases = [
        (format!("/api/runtimes/{rt}/usage?tz=UTC"), "2026-09-11..2026-12-10", "90"),
        (format!("/api/runtimes/{rt}/usage/by-agent?tz=UTC"), "2026-11-10..2026-12-10", "30"),
        (format!("/api/runtimes/{rt}/usage/by-hour?tz=UTC&days=1"), "2026-12-09..2026-12-10", "1"),
        (format!("/api/runtimes/{rt}/activity?tz=UTC"), "..2026-12-10", "all"),
        (format!("/api/runtimes/{rt}/activity?tz=UTC&days=3"), "2026-12-07..2026-12-10", "3"),
        (format!("/api/workspaces/{ws}/usage/daily?tz=UTC"), "2026-11-11..2026-12-10", "30"),
        (format!("/api/workspaces/{ws}/usage/summary?tz=UTC"), "2026-11-11..2026-12-10", "30"),
        (format!("/api/workspaces/{ws}/usage/by-runtime?tz=UTC"), "2026-12-04..2026-12-10", "7"),
        (format!("/api/workspaces/{ws}/usage/by-agent?tz=UTC&days=1"), "2026-12-10..2026-12-10", "1"),
        (format!("/api/workspaces/{ws}/usage/tasks?tz=UTC"), "2026-11-11..2026-12-10", "30"),
        (format!("/api/runtimes/{rt}/usage/tasks?tz=UTC&days=2"), "2026-12-08..2026-12-10", "2"),
        (
            format!("/api/workspaces/{ws}/usage/daily?tz=UTC&since=2026-10-01&until=2026-11-29&bucket=week"),
            "2026-10-01..2026-11-29",
            "60",
        ),
    ];
    for (path, window, days) in cases {
        for format in ["", "&format=csv", "&envelope=1"] {
            let r = s.get(&format!("{path}{format}"), &w.member).expect(200);
            assert_eq!(r.header("X-Hangar-Timezone"), Some("UTC"), "{path}{format}");
            assert_eq!(r.header("X-Hangar-Window"), Some(window), "{path}{format}");
            assert_eq!(r.header("X-Hangar-Days"), Some(days), "{path}{format}");
            assert_eq!(
                r.header("X-Hangar-Prices"),
                Some(prices.as_str()),
                "{path}{format}"
            );
        }
        let plain = s.get(&path, &w.member).expect(200).body;
        let wrapped = s
            .get(&format!("{path}&envelope=1"), &w.member)
            .expect(200)
            .body;
        assert_eq!(wrapped["timezone"], "UTC");
        assert_eq!(wrapped["window"], window);
        assert_eq!(wrapped["prices"], prices.as_str());
        let plain_rows = plain.get("rows").unwrap_or(&plain);
        assert_eq!(&wrapped["rows"], plain_rows, "{path}");
        assert!(wrapped["rows"].is_array());
    }
}
