//! Drill-down (`…/usage/tasks`): on random ledgers viewed in three zones, the rows listed for
//! a report cell add up to the cell — exactly in ticks through the library, and field by field
//! (tokens, task count, rounded cost) through HTTP — for the daily, by-agent and by-runtime
//! cells of runtime and workspace reports; plus the drill-down's validation and shape.
mod common;

use chrono::NaiveDate;
use chrono_tz::Tz;
use common::ledger::{random_ledger, Rng, RANDOM_ZONES};
use common::{TestServer, World};
use hangar::db::usage::LedgerFilter;
use hangar::db::{Db, OpenMode};
use hangar::usage::pricing::PriceTable;
use hangar::usage::reports::calendar::Period;
use hangar::usage::reports::{self, drill, View};
use serde_json::Value;

const NOW: &str = "2026-11-29T11:30:00Z";

fn start() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    (s, w)
}

/// Percent-encodes a query value.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rows(s: &TestServer, path: &str, token: &str) -> Vec<Value> {
    s.get(path, token)
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .clone()
}

/// Asserts that a drill-down answer adds up to `cell`, whose token fields carry `prefix`
/// (`total_` in workspace reports).
fn assert_adds_up(cell: &Value, drill: &Value, prefix: &str, what: &str) {
    let total = &drill["total"];
    let listed = drill["rows"].as_array().unwrap();
    for kind in ["input", "output", "cache_read", "cache_write"] {
        let field = format!("{kind}_tokens");
        let want = cell[format!("{prefix}{field}")].as_i64().unwrap();
        assert_eq!(total[&field].as_i64(), Some(want), "{what}: {field}");
        let sum: i64 = listed.iter().map(|r| r[&field].as_i64().unwrap()).sum();
        assert_eq!(sum, want, "{what}: rows' {field}");
    }
    assert_eq!(total["cost_usd"], cell["cost_usd"], "{what}: cost_usd");
    assert_eq!(
        total["unpriced_tokens"], cell["unpriced_tokens"],
        "{what}: unpriced"
    );
    assert_eq!(total["task_count"].as_u64(), Some(listed.len() as u64));
    if let Some(count) = cell.get("task_count") {
        assert_eq!(&total["task_count"], count, "{what}: task_count");
    }
}

#[test]
fn drill_down_totals_equal_report_cells_through_http_in_three_zones() {
    let (s, w) = start();
    let ledger = random_ledger(&s, &s.ws, &w.owner_id, 16, 400);
    let mut rng = Rng(99);
    let ws = &s.ws;
    for tz in RANDOM_ZONES {
        let z = enc(tz);
        let daily = rows(
            &s,
            &format!("/api/workspaces/{ws}/usage/daily?days=45&tz={z}"),
            &w.owner,
        );
        assert!(daily.len() > 100, "{tz}: {} daily cells", daily.len());
        // A third of the cells, at random: the property is the same for each.
        for cell in daily.iter().filter(|_| rng.chance(33)) {
            let (date, model) = (
                cell["date"].as_str().unwrap(),
                cell["model"].as_str().unwrap(),
            );
            let path = format!(
                "/api/workspaces/{ws}/usage/tasks?date={date}&model={}&tz={z}",
                enc(model)
            );
            let drill = s.get(&path, &w.member).expect(200).body;
            assert_adds_up(cell, &drill, "total_", &path);
            for r in drill["rows"].as_array().unwrap() {
                assert_eq!(
                    (r["date"].as_str(), r["model"].as_str()),
                    (Some(date), Some(model))
                );
            }
        }
        for rt in &ledger.runtimes {
            let days = rows(
                &s,
                &format!("/api/runtimes/{rt}/usage?days=45&tz={z}"),
                &w.owner,
            );
            for cell in days.iter().filter(|_| rng.chance(15)) {
                let path = format!(
                    "/api/runtimes/{rt}/usage/tasks?date={}&provider={}&model={}&tz={z}",
                    cell["date"].as_str().unwrap(),
                    enc(cell["provider"].as_str().unwrap()),
                    enc(cell["model"].as_str().unwrap()),
                );
                assert_adds_up(cell, &s.get(&path, &w.owner).expect(200).body, "", &path);
            }
            let by_agent = rows(
                &s,
                &format!("/api/runtimes/{rt}/usage/by-agent?days=20&tz={z}"),
                &w.owner,
            );
            for cell in &by_agent {
                let path = format!(
                    "/api/runtimes/{rt}/usage/tasks?days=20&agent_id={}&provider={}&model={}&tz={z}",
                    cell["agent_id"].as_str().unwrap(),
                    enc(cell["provider"].as_str().unwrap()),
                    enc(cell["model"].as_str().unwrap()),
                );
                assert_adds_up(cell, &s.get(&path, &w.owner).expect(200).body, "", &path);
            }
        }
        let by_agent = rows(
            &s,
            &format!("/api/workspaces/{ws}/usage/by-agent?days=12&tz={z}"),
            &w.owner,
        );
        assert_eq!(by_agent.len(), ledger.agents.len(), "{tz}");
        for cell in &by_agent {
            let agent = cell["agent_id"].as_str().unwrap();
            let path = format!("/api/workspaces/{ws}/usage/tasks?days=12&agent_id={agent}&tz={z}");
            assert_adds_up(
                cell,
                &s.get(&path, &w.owner).expect(200).body,
                "total_",
                &path,
            );
        }
        let by_runtime = rows(
            &s,
            &format!("/api/workspaces/{ws}/usage/by-runtime?tz={z}"),
            &w.owner,
        );
        for cell in &by_runtime {
            let rt = cell["runtime_id"].as_str().unwrap();
            let path = format!("/api/workspaces/{ws}/usage/tasks?days=7&runtime_id={rt}&tz={z}");
            assert_adds_up(
                cell,
                &s.get(&path, &w.owner).expect(200).body,
                "total_",
                &path,
            );
        }
    }
}

#[test]
fn drill_down_totals_equal_report_cells_in_ticks_for_random_ledgers() {
    let (s, w) = start();
    for seed in [3u64, 2026] {
        random_ledger(&s, &s.ws, &w.owner_id, seed, 250);
    }
    let db = Db::open(&s.db_path(), OpenMode::Existing, 1).unwrap();
    let pricing = PriceTable::builtin();
    let now = s.now().timestamp_millis();
    let runtimes: Vec<String> = {
        let c = s.sql();
        let mut stmt = c
            .prepare("SELECT DISTINCT runtime_id FROM task_usage")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(runtimes.len(), 6);
    let mut cells = 0;
    for name in RANDOM_ZONES {
        let tz: Tz = name.parse().unwrap();
        let period = Period::workspace_days(now, tz, 45);
        let view = View {
            pricing: &pricing,
            tz,
            since: period.since,
            now,
        };
        db.read(|c| {
            let drill_day = |date: NaiveDate, filter: LedgerFilter| {
                let day = Period::range(tz, date, date);
                let book = hangar::usage::pricebook::PriceBook::table_only(&pricing);
                drill::task_usage(c, &book, tz, &filter, day.since, day.end).map(|d| d.1)
            };
            for cell in reports::workspace_daily(c, view, &s.ws)? {
                let filter = LedgerFilter {
                    workspace_id: &s.ws,
                    model: Some(&cell.model),
                    ..LedgerFilter::default()
                };
                assert_eq!(
                    drill_day(cell.date, filter)?,
                    cell.totals,
                    "{name} {cell:?}"
                );
                cells += 1;
            }
            for rt in &runtimes {
                for cell in reports::runtime_daily(c, view, rt)? {
                    let filter = LedgerFilter {
                        workspace_id: &s.ws,
                        runtime_id: Some(rt),
                        provider: Some(&cell.provider),
                        model: Some(&cell.model),
                        ..LedgerFilter::default()
                    };
                    assert_eq!(
                        drill_day(cell.date, filter)?,
                        cell.totals,
                        "{name} {cell:?}"
                    );
                    cells += 1;
                }
            }
            Ok::<_, hangar::db::DbError>(())
        })
        .unwrap();
    }
    assert!(cells > 1000, "only {cells} cells compared");
}

#[test]
fn drill_down_validates_its_query_before_looking_anything_up() {
    let (s, w) = start();
    let ledger = random_ledger(&s, &s.ws, &w.owner_id, 5, 30);
    let rt = &ledger.runtimes[0];
    let ws = &s.ws;
    for (query, code) in [
        ("date=2026-13-01", "invalid_field"),
        ("date=yesterday", "invalid_field"),
        (
            "date=2026-11-01&since=2026-11-01&until=2026-11-02",
            "invalid_field",
        ),
        ("since=2026-11-01", "invalid_field"),
        ("since=2026-11-02&until=2026-11-01", "invalid_field"),
        ("since=2025-01-01&until=2026-11-01", "invalid_field"),
        ("agent_id=nope", "invalid_id"),
        ("runtime_id=123", "invalid_id"),
    ] {
        s.get(
            &format!("/api/workspaces/{ws}/usage/tasks?{query}"),
            &w.owner,
        )
        .expect_error(400, code);
        s.get(
            &format!("/api/runtimes/{rt}/usage/tasks?{query}"),
            &w.outsider,
        )
        .expect_error(400, code);
        s.get(
            &format!("/api/workspaces/{ws}/usage/tasks?{query}"),
            &w.outsider,
        )
        .expect_error(400, code);
    }
    s.get("/api/runtimes/nope/usage/tasks?date=x", &w.owner)
        .expect_error(400, "invalid_id");
    s.get(&format!("/api/workspaces/{ws}/usage/tasks"), &w.outsider)
        .expect_error(404, "not_found");
    s.get(&format!("/api/runtimes/{rt}/usage/tasks"), &w.outsider)
        .expect_error(404, "not_found");
    s.get(
        &format!("/api/workspaces/{}/usage/tasks", w.other_ws),
        &w.owner,
    )
    .expect_error(404, "not_found");
}

#[test]
fn drill_down_states_its_terms_and_exports_csv() {
    let (s, w) = start();
    random_ledger(&s, &s.ws, &w.owner_id, 8, 60);
    let version = PriceTable::builtin().version().to_string();
    let ws = &s.ws;
    let plain = s.get(
        &format!("/api/workspaces/{ws}/usage/tasks?date=2026-11-01&tz=America/New_York"),
        &w.owner,
    );
    let plain = plain.expect(200);
    assert_eq!(plain.header("X-Hangar-Timezone"), Some("America/New_York"));
    assert_eq!(
        plain.header("X-Hangar-Window"),
        Some("2026-11-01..2026-11-01")
    );
    assert_eq!(plain.header("X-Hangar-Days"), Some("1"));
    assert_eq!(plain.header("X-Hangar-Prices"), Some(version.as_str()));
    let keys: Vec<&String> = plain.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["rows", "total"]);
    let first = &plain.body["rows"][0];
    let fields: Vec<&String> = first.as_object().unwrap().keys().collect();
    let mut expected = [
        "task_id",
        "agent_id",
        "runtime_id",
        "provider",
        "model",
        "date",
        "occurred_at",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "unpriced_tokens",
    ];
    expected.sort();
    assert_eq!(fields, expected, "serde_json sorts keys in a Value");
    // 2026-11-01 in New York runs from 04:00 UTC to 05:00 UTC next day (25 hours).
    for r in plain.body["rows"].as_array().unwrap() {
        let at = r["occurred_at"].as_str().unwrap();
        assert!(
            ("2026-11-01T04:00:00.000Z".."2026-11-02T05:00:00.000Z").contains(&at),
            "{at}"
        );
    }

    let wrapped = s
        .get(
            &format!(
                "/api/workspaces/{ws}/usage/tasks?date=2026-11-01&tz=America/New_York&envelope=1"
            ),
            &w.owner,
        )
        .expect(200);
    assert_eq!(wrapped.body["timezone"], "America/New_York");
    assert_eq!(wrapped.body["window"], "2026-11-01..2026-11-01");
    assert_eq!(wrapped.body["prices"], version.as_str());
    assert_eq!(wrapped.body["rows"], plain.body["rows"]);
    assert_eq!(wrapped.body["total"], plain.body["total"]);

    let csv = s
        .get(
            &format!(
                "/api/workspaces/{ws}/usage/tasks?date=2026-11-01&tz=America/New_York&format=csv"
            ),
            &w.owner,
        )
        .expect(200);
    assert_eq!(
        csv.header("X-Hangar-Window"),
        Some("2026-11-01..2026-11-01")
    );
    assert_eq!(csv.header("X-Hangar-Prices"), Some(version.as_str()));
    let text = csv.text;
    assert!(text.starts_with(
        "task_id,agent_id,runtime_id,provider,model,date,occurred_at,input_tokens,output_tokens,\
         cache_read_tokens,cache_write_tokens,cost_usd,unpriced_tokens\r\n"
    ), "{text}");
    assert_eq!(
        text.lines().count(),
        plain.body["rows"].as_array().unwrap().len() + 1
    );
}
