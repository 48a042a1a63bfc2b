//! One total everywhere: on a randomized ledger in two workspaces, every usage view — daily by
//! model, by-agent, by-hour, the workspace summary, by-runtime and the CSV export — adds up to
//! the same tokens through HTTP, `hangar check` finds every cell equal to the ledger in ticks,
//! and a single corrupted rollup row makes `hangar check` (library and binary) fail.
mod common;

use std::process::Command;

use chrono_tz::Tz;
use common::ledger::{random_ledger, sql, RANDOM_ZONES};
use common::{TestServer, World};
use hangar::check::{run_all, Outcome};
use hangar::db::{Db, OpenMode};
use hangar::usage::agreement::{self, WINDOW_DAYS};
use hangar::usage::pricing::PriceTable;
use serde_json::Value;

const NOW: &str = "2026-11-29T11:30:00Z";
const AGREEMENT: &str = "usage views agree";
const ROLLUPS: &str = "every usage rollup equals the ledger recomputed";

fn outcomes(s: &TestServer) -> Vec<Outcome> {
    let db = Db::open(&s.db_path(), OpenMode::Existing, 1).unwrap();
    db.read(|c| Ok::<_, hangar::db::DbError>(run_all(c)))
        .unwrap()
}

fn problems<'a>(outcomes: &'a [Outcome], name: &str) -> &'a [String] {
    &outcomes
        .iter()
        .find(|o| o.name.starts_with(name))
        .unwrap_or_else(|| panic!("no check named {name}"))
        .problems
}

/// Input, output, cache read and cache write tokens summed over `rows`.
fn tokens(rows: &[Value], prefix: &str) -> [i64; 4] {
    ["input", "output", "cache_read", "cache_write"].map(|kind| {
        rows.iter()
            .map(|r| r[format!("{prefix}{kind}_tokens")].as_i64().unwrap())
            .sum()
    })
}

fn rows(s: &TestServer, path: &str, token: &str) -> Vec<Value> {
    s.get(path, token)
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn all_views_agree_on_a_random_ledger() {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let ledger = random_ledger(&s, &s.ws, &w.owner_id, 2026, 400);
    random_ledger(&s, &w.other_ws, &w.owner_id, 7, 100);
    for o in outcomes(&s) {
        assert!(o.passed(), "{}: {:?}", o.name, o.problems);
    }
    // Zones beyond the three `hangar check` uses agree too.
    let db = Db::open(&s.db_path(), OpenMode::Existing, 1).unwrap();
    let now = s.now().timestamp_millis();
    for name in ["Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham"] {
        let tz: Tz = name.parse().unwrap();
        let found = db
            .read(|c| agreement::workspace_views(c, &PriceTable::builtin(), &s.ws, tz, now))
            .unwrap();
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
    // Through HTTP, over the same 30 local days (the runtime rule counts one day more).
    let (ws, days) = (&s.ws, WINDOW_DAYS);
    for tz in RANDOM_ZONES {
        let q = format!("days={days}&tz={tz}");
        let daily = rows(
            &s,
            &format!("/api/workspaces/{ws}/usage/daily?{q}"),
            &w.member,
        );
        let want = tokens(&daily, "total_");
        assert!(want[0] > 0);
        for view in ["summary", "by-runtime", "by-agent"] {
            let got = rows(
                &s,
                &format!("/api/workspaces/{ws}/usage/{view}?{q}"),
                &w.member,
            );
            assert_eq!(tokens(&got, "total_"), want, "{tz} {view}");
        }
        let csv = s
            .get(
                &format!("/api/workspaces/{ws}/usage/daily?{q}&format=csv"),
                &w.member,
            )
            .expect(200)
            .text;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let mut from_csv = [0i64; 4];
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            for (i, kind) in ["input", "output", "cache_read", "cache_write"]
                .iter()
                .enumerate()
            {
                from_csv[i] += cells[column(&format!("total_{kind}_tokens"))]
                    .parse::<i64>()
                    .unwrap();
            }
        }
        assert_eq!(from_csv, want, "{tz} csv");
        let q = format!("days={}&tz={tz}", days - 1);
        for (view, prefix) in [("usage", ""), ("usage/by-agent", ""), ("usage/by-hour", "")] {
            let mut sum = [0i64; 4];
            for rt in &ledger.runtimes {
                let got = tokens(
                    &rows(&s, &format!("/api/runtimes/{rt}/{view}?{q}"), &w.member),
                    prefix,
                );
                for (a, b) in sum.iter_mut().zip(got) {
                    *a += b;
                }
            }
            assert_eq!(sum, want, "{tz} runtime {view}");
        }
        let drill = s
            .get(
                &format!("/api/workspaces/{ws}/usage/tasks?days={days}&tz={tz}"),
                &w.member,
            )
            .expect(200)
            .body;
        let total = &drill["total"];
        let got = ["input", "output", "cache_read", "cache_write"]
            .map(|k| total[format!("{k}_tokens")].as_i64().unwrap());
        assert_eq!(got, want, "{tz} drill-down");
    }
}

#[test]
fn a_corrupted_rollup_row_is_reported_by_check() {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    random_ledger(&s, &s.ws, &w.owner_id, 16, 300);
    let hangar = |db: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_hangar"))
            .args(["check", "--db", db.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = hangar(&s.db_path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // One day bucket of the workspace rollup, ten days back, gains a token it never had.
    let day = chrono::DateTime::parse_from_rfc3339("2026-11-19T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let nudge = |by: i64| {
        sql(&s)
            .execute(
                "UPDATE usage_workspace_rollup SET priced_input = priced_input + ?3
                 WHERE workspace_id = ?1 AND span = 1440 AND bucket = ?2
                   AND model_id = (SELECT MIN(model_id) FROM usage_workspace_rollup
                                   WHERE workspace_id = ?1 AND span = 1440 AND bucket = ?2)",
                rusqlite::params![s.ws, day, by],
            )
            .unwrap()
    };
    assert_eq!(nudge(1), 1);
    let found = outcomes(&s);
    // The stored row is both wrong and stale.
    assert_eq!(
        problems(&found, ROLLUPS).len(),
        2,
        "{:?}",
        problems(&found, ROLLUPS)
    );
    let views = problems(&found, AGREEMENT);
    // UTC reads that day bucket: the daily report's cell and the summary's model differ.
    let utc: Vec<&String> = views.iter().filter(|p| p.contains(" in UTC:")).collect();
    assert!(
        utc.iter()
            .any(|p| p.contains("workspace daily (2026-11-19, ")),
        "{views:#?}"
    );
    assert!(
        utc.iter().any(|p| p.contains("workspace summary ")),
        "{views:#?}"
    );
    // Kathmandu and New York days are not UTC days, but their daily reports read that UTC
    // day's bucket (corrected by the hours outside the local day), so they see it too.
    for zone in ["Asia/Kathmandu", "America/New_York"] {
        let mine: Vec<&String> = views
            .iter()
            .filter(|p| p.contains(&format!(" in {zone}:")))
            .collect();
        assert!(
            mine.iter()
                .any(|p| p.contains("workspace daily (2026-11-19, ")),
            "{zone}: {views:#?}"
        );
        assert!(
            mine.iter().any(|p| p.contains(": workspace summary ")),
            "{zone}: {views:#?}"
        );
    }

    let out = hangar(&s.db_path());
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("FAIL  {ROLLUPS}")), "{stdout}");
    assert!(stdout.contains("FAIL  usage views agree"), "{stdout}");
    let summary = format!("2 of {} checks failed", hangar::check::CHECKS.len());
    assert!(stdout.contains(&summary), "{stdout}");

    assert_eq!(nudge(-1), 1);
    let out = hangar(&s.db_path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
