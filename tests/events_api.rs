//! `GET /api/workspaces/{ws}/events` (API.md §7): paging by cursor, members only, and
//! retention — pruned by the sweeper, after which an old cursor answers 410.
mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::sse::SseClient;
use common::{TestServer, World};
use serde_json::json;

fn event_ids(body: &serde_json::Value) -> Vec<i64> {
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect()
}

#[test]
fn events_page_oldest_first_by_cursor() {
    let s = TestServer::start_pinned(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(), |_| {});
    let w = World::seed(&s);
    s.register(
        &w.member_daemon,
        "d",
        &[("a", "claude"), ("b", "codex"), ("c", "gemini")],
    )
    .expect(200);
    // Events of another workspace never show.
    let other_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    s.register_runtime(&other_daemon, "x", "claude");
    let base = format!("/api/workspaces/{}/events", s.ws);
    let all = s.get(&base, &w.member).expect(200).body;
    let ids = event_ids(&all);
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "{ids:?}");
    assert_eq!(all["next_after"], ids[2]);
    let first = &all["events"][0];
    assert_eq!(first["workspace_id"], s.ws.as_str());
    assert_eq!(first["type"], "daemon:register");
    assert_eq!(first["actor_type"], "daemon");
    assert_eq!(first["actor_id"], w.member_id.as_str());
    assert_eq!(first["created_at"], "2026-01-02T03:04:05.000Z");
    assert_eq!(first["payload"]["action"], "register");
    let page = s
        .get(&format!("{base}?after={}&limit=1", ids[0]), &w.member)
        .expect(200)
        .body;
    assert_eq!(event_ids(&page), [ids[1]]);
    assert_eq!(page["next_after"], ids[1]);
    let empty = s
        .get(&format!("{base}?after={}", ids[2]), &w.member)
        .expect(200)
        .body;
    assert_eq!(empty, json!({"events": [], "next_after": ids[2]}));
    // Large limits are clamped, not refused; nonsense is refused.
    s.get(&format!("{base}?limit=100000"), &w.member)
        .expect(200);
    for query in ["after=-1", "after=x", "limit=0", "limit=-5", "limit=1.5"] {
        s.get(&format!("{base}?{query}"), &w.member)
            .expect_error(400, "invalid_field");
    }
    s.get(&base, &w.outsider).expect_error(404, "not_found");
    s.get(&base, &w.member_daemon)
        .expect_error(401, "unauthorized");
}

#[test]
fn pruned_cursors_answer_410_for_the_list_and_the_stream() {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let s = TestServer::start_pinned(start, |c| {
        c.event_retention_days = 1;
        c.sweep_interval = Duration::from_millis(50);
        c.offline_after = Duration::from_secs(365 * 86_400);
    });
    let w = World::seed(&s);
    s.register(&w.member_daemon, "d", &[("a", "claude"), ("b", "codex")])
        .expect(200);
    let old = s.api_events(&s.ws, &w.member, 0);
    let (first, last) = (
        old[0]["id"].as_i64().unwrap(),
        old[1]["id"].as_i64().unwrap(),
    );
    // A day later nothing is pruned yet (older *than* the retention only).
    s.clock().advance(chrono::Duration::days(1));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.count("SELECT COUNT(*) FROM event"), 2);
    s.clock().advance(chrono::Duration::milliseconds(1));
    let until = Instant::now() + Duration::from_secs(5);
    while s.count("SELECT COUNT(*) FROM event") > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM event"), 0);
    let base = format!("/api/workspaces/{}/events", s.ws);
    for after in [first, last] {
        s.get(&format!("{base}?after={after}"), &w.member)
            .expect_error(410, "cursor_expired");
        let stream = SseClient::connect(&s.base, &s.ws, &w.member, Some(after));
        assert_eq!(stream.status, 410);
        assert_eq!(stream.error["code"], "cursor_expired");
    }
    // From the start, or from a cursor past the pruned ones, is fine.
    assert!(event_ids(&s.get(&base, &w.member).expect(200).body).is_empty());
    let id = s.register_runtime(&w.member_daemon, "d2", "claude");
    let fresh = s.last_event_id_in(&s.ws);
    s.get(&format!("{base}?after={fresh}"), &w.member)
        .expect(200);
    let page = s.get(&base, &w.member).expect(200).body;
    assert_eq!(page["events"][0]["payload"]["runtime_id"], id.as_str());
    // The mark is per workspace: the same old cursor is fine where nothing was pruned.
    s.get(
        &format!("/api/workspaces/{}/events?after={first}", w.other_ws),
        &w.outsider,
    )
    .expect(200);
}
