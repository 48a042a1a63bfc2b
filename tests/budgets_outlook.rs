//! Projections against a synthetic linear ledger: $0.25 every hour on the hour for the last
//! 72 hours, so the last 24 hours burnt exactly $6 and every projection has an exact value.
mod common;

use chrono::{DateTime, Duration, Utc};
use common::budgets::{spend, status};
use common::ledger::Rig;
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn linear_ledger() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let now: DateTime<Utc> = NOW.parse().unwrap();
    for hours_ago in 0..72 {
        let at = (now - Duration::hours(hours_ago)).to_rfc3339();
        let task = rig.new_task(&s, &s.ws);
        spend(&s, &w.owner_daemon, &task, "0.25", Some(&at)).expect(200);
    }
    (s, w)
}

fn budget(s: &TestServer, w: &World, amount: f64, period: &str, timezone: &str) -> String {
    common::budgets::budget(
        s,
        &w.owner,
        json!({"type": "workspace"}),
        amount,
        period,
        timezone,
    )
}

#[test]
fn budget_projections_are_exact_for_a_linear_ledger() {
    let (s, w) = linear_ledger();

    // A UTC month: $18 so far, $6 a day for the 15.5 days left.
    let month = status(&s, &w.member, &budget(&s, &w, 50.0, "month", "UTC"));
    assert_eq!(month["spent_usd"], 18.0);
    assert_eq!(month["burn_usd_last_24h"], 6.0);
    assert_eq!(month["burn_rate_usd_per_hour"], 0.25);
    assert_eq!(month["projected_usd"], 111.0);
    // $32 left at $6 a day is 5⅓ days: 128 hours.
    assert_eq!(month["runs_out_at"], "2026-06-20T20:00:00.000Z");
    assert_eq!(month["runs_out_at_local"], "2026-06-20T20:00:00.000+00:00");

    // Kathmandu's month ends at 18:15 UTC on June 30: 15 days 6¼ hours left.
    let kathmandu = status(
        &s,
        &w.member,
        &budget(&s, &w, 50.0, "month", "Asia/Kathmandu"),
    );
    assert_eq!(kathmandu["spent_usd"], 18.0);
    assert_eq!(kathmandu["projected_usd"], 109.5625);
    assert_eq!(kathmandu["runs_out_at"], "2026-06-20T20:00:00.000Z");
    assert_eq!(
        kathmandu["runs_out_at_local"],
        "2026-06-21T01:45:00.000+05:45"
    );

    // Today: 13 hours of $0.25 so far, half a day left; $10 lasts beyond the day.
    let day = status(&s, &w.member, &budget(&s, &w, 10.0, "day", "UTC"));
    assert_eq!(day["spent_usd"], 3.25);
    assert_eq!(day["projected_usd"], 6.25);
    assert_eq!(day["runs_out_at"], Value::Null);
    assert_eq!(day["runs_out_at_local"], Value::Null);

    // An exhausted budget has run out now. (June 15, 2026 is a Monday: the week began today.)
    let week = status(&s, &w.member, &budget(&s, &w, 3.0, "week", "UTC"));
    assert_eq!(week["period"]["start"], "2026-06-15T00:00:00.000Z");
    assert_eq!(week["spent_usd"], 3.25);
    assert_eq!(week["runs_out_at"], "2026-06-15T12:00:00.000Z");
    assert_eq!(week["budget"]["state"], "exceeded");

    // The window is the 96 quarters up to the current one: at 12:45 it still starts at 13:00
    // yesterday; at 13:00 that hour's $0.25 has left it.
    let id = budget(&s, &w, 50.0, "month", "UTC");
    s.clock().advance(Duration::minutes(45));
    assert_eq!(status(&s, &w.member, &id)["burn_usd_last_24h"], 6.0);
    s.clock().advance(Duration::minutes(15));
    assert_eq!(status(&s, &w.member, &id)["burn_usd_last_24h"], 5.75);
}

#[test]
fn the_workspace_projection_follows_the_viewing_zone() {
    let (s, w) = linear_ledger();
    let path = format!("/api/workspaces/{}/usage/projection", s.ws);
    let utc = s.get(&format!("{path}?tz=UTC"), &w.member).expect(200).body;
    assert_eq!(
        utc,
        json!({
            "timezone": "UTC",
            "month_start": "2026-06-01T00:00:00.000Z",
            "month_end": "2026-07-01T00:00:00.000Z",
            "month_start_local": "2026-06-01T00:00:00.000+00:00",
            "month_end_local": "2026-07-01T00:00:00.000+00:00",
            "month_to_date_usd": 18.0,
            "burn_usd_last_24h": 6.0,
            "burn_rate_usd_per_hour": 0.25,
            "projected_month_end_usd": 111.0,
        })
    );
    let ktm = s
        .get(&format!("{path}?tz=Asia/Kathmandu"), &w.member)
        .expect(200)
        .body;
    assert_eq!(ktm["month_start"], "2026-05-31T18:15:00.000Z");
    assert_eq!(ktm["month_start_local"], "2026-06-01T00:00:00.000+05:45");
    assert_eq!(ktm["month_to_date_usd"], 18.0);
    assert_eq!(ktm["projected_month_end_usd"], 109.5625);
    // Without ?tz= the member's own zone applies, then UTC.
    let plain = s.get(&path, &w.member).expect(200).body;
    assert_eq!(plain["timezone"], "UTC");
    s.patch("/api/me", &w.member, json!({"timezone": "Asia/Kathmandu"}))
        .expect(200);
    let mine = s.get(&path, &w.member).expect(200).body;
    assert_eq!(mine["timezone"], "Asia/Kathmandu");
    s.get(&path, &w.outsider).expect_error(404, "not_found");
}
