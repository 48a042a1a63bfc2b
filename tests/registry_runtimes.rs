//! Reading and editing runtimes (API.md §2): the list and `?owner=me`, 404 across
//! workspaces, and the PATCH rules — validation before any write, no-ops, 403, events.
mod common;

use chrono::{TimeZone, Utc};
use common::{TestServer, World};
use serde_json::{json, Value};

fn pinned() -> TestServer {
    TestServer::start_pinned(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(), |_| {})
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn members_list_runtimes_oldest_first_and_their_own_with_owner_me() {
    let s = pinned();
    let w = World::seed(&s);
    let a = s.register_runtime(&w.owner_daemon, "o", "claude");
    s.clock().advance(chrono::Duration::seconds(1));
    let b = s.register_runtime(&w.member_daemon, "m", "claude");
    s.clock().advance(chrono::Duration::seconds(1));
    let c = s.register_runtime(&w.owner_daemon, "o", "codex");
    let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    s.register_runtime(&outsider_daemon, "x", "claude");
    let list = |token: &str, query: &str| {
        s.get(&format!("/api/workspaces/{}/runtimes{query}", s.ws), token)
            .expect(200)
            .body
    };
    assert_eq!(ids(&list(&w.member, "")), [&a, &b, &c]);
    assert_eq!(ids(&list(&w.owner, "?owner=me")), [&a, &c]);
    assert_eq!(ids(&list(&w.member, "?owner=me")), [&b]);
    assert!(ids(&list(&w.admin, "?owner=me")).is_empty());
    s.get(
        &format!("/api/workspaces/{}/runtimes?owner=someone", s.ws),
        &w.member,
    )
    .expect_error(400, "invalid_field");
    s.get(&format!("/api/workspaces/{}/runtimes", s.ws), &w.outsider)
        .expect_error(404, "not_found");
    s.get("/api/workspaces/nope/runtimes", &w.member)
        .expect_error(400, "invalid_id");
    s.get(
        &format!("/api/workspaces/{}/runtimes", s.ws),
        &w.member_daemon,
    )
    .expect_error(401, "unauthorized");
}

#[test]
fn one_runtime_is_visible_to_members_only() {
    let s = pinned();
    let w = World::seed(&s);
    let id = s.register_runtime(&w.member_daemon, "m", "claude");
    let r = s.get(&format!("/api/runtimes/{id}"), &w.admin).expect(200);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["launch_header"], "Claude Code");
    let r = s
        .get(&format!("/api/runtimes/{id}"), &w.outsider)
        .expect_error(404, "not_found");
    assert_eq!(r.body["error"], "runtime not found");
    s.get(
        "/api/runtimes/6f1c1d4e-8a2b-4c3d-9e8f-0a1b2c3d4e5f",
        &w.member,
    )
    .expect_error(404, "not_found");
    s.get("/api/runtimes/12", &w.member)
        .expect_error(400, "invalid_id");
}

#[test]
fn patch_changes_settings_in_one_step_with_one_event() {
    let s = pinned();
    let w = World::seed(&s);
    let id = s.register_runtime(&w.member_daemon, "m", "claude");
    let path = format!("/api/runtimes/{id}");
    let cursor = s.last_event_id_in(&s.ws);
    s.clock().advance(chrono::Duration::minutes(5));
    let r = s
        .patch(
            &path,
            &w.member,
            json!({"visibility": "public", "timezone": "Asia/Kathmandu"}),
        )
        .expect(200);
    assert_eq!(r.body["visibility"], "public");
    assert_eq!(r.body["timezone"], "Asia/Kathmandu");
    assert_eq!(r.body["updated_at"], "2026-03-01T08:05:00.000Z");
    let events = s.api_events(&s.ws, &w.owner, cursor);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "daemon:register");
    assert_eq!(
        events[0]["payload"],
        json!({"action": "update", "runtime_id": id})
    );
    assert_eq!(events[0]["actor_type"], "member");
    assert_eq!(events[0]["actor_id"], w.member_id.as_str());
    // Unchanged values are a no-op: no event, no new updated_at.
    s.clock().advance(chrono::Duration::minutes(5));
    for body in [
        json!({}),
        json!({"visibility": "public"}),
        json!({"visibility": "public", "timezone": "Asia/Kathmandu"}),
    ] {
        let r = s.patch(&path, &w.member, body).expect(200);
        assert_eq!(r.body["updated_at"], "2026-03-01T08:05:00.000Z");
    }
    assert_eq!(s.api_events(&s.ws, &w.owner, cursor).len(), 1);
    // "" means UTC; admins may edit anyone's runtime.
    let r = s
        .patch(&path, &w.admin, json!({"timezone": ""}))
        .expect(200);
    assert_eq!(r.body["timezone"], "UTC");
    assert_eq!(r.body["visibility"], "public");
    assert_eq!(s.api_events(&s.ws, &w.owner, cursor).len(), 2);
}

#[test]
fn patch_validates_every_field_before_writing_anything() {
    let s = pinned();
    let w = World::seed(&s);
    let id = s.register_runtime(&w.member_daemon, "m", "claude");
    let path = format!("/api/runtimes/{id}");
    let before = s.get(&path, &w.member).expect(200).body;
    let events = s.count("SELECT COUNT(*) FROM event");
    let cases = [
        (
            json!({"visibility": "public", "timezone": "Mars/Olympus"}),
            "invalid_timezone",
        ),
        (
            json!({"visibility": "everyone", "timezone": "UTC"}),
            "invalid_visibility",
        ),
        (
            json!({"visibility": "public", "name": "x"}),
            "unknown_field",
        ),
        (json!({"visibility": 1}), "invalid_json"),
        (json!(["public"]), "invalid_json"),
    ];
    for (body, code) in cases {
        let r = s.patch(&path, &w.member, body.clone());
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (400, Some(code)),
            "{body}: {r:#?}"
        );
    }
    assert_eq!(s.get(&path, &w.member).expect(200).body, before);
    assert_eq!(s.count("SELECT COUNT(*) FROM event"), events);
}

#[test]
fn patch_errors_come_in_the_contract_order() {
    let s = pinned();
    let w = World::seed(&s);
    let owners = s.register_runtime(&w.owner_daemon, "o", "claude");
    let unknown = "/api/runtimes/6f1c1d4e-8a2b-4c3d-9e8f-0a1b2c3d4e5f";
    // 400 path id → 400 body → 404 → 403.
    s.patch("/api/runtimes/x", &w.member, json!({"visibility": "bad"}))
        .expect_error(400, "invalid_id");
    s.patch(unknown, &w.member, json!({"visibility": "bad"}))
        .expect_error(400, "invalid_visibility");
    s.patch(unknown, &w.member, json!({"visibility": "public"}))
        .expect_error(404, "not_found");
    s.patch(
        &format!("/api/runtimes/{owners}"),
        &w.outsider,
        json!({"visibility": "public"}),
    )
    .expect_error(404, "not_found");
    let r = s
        .patch(
            &format!("/api/runtimes/{owners}"),
            &w.member,
            json!({"visibility": "public"}),
        )
        .expect_error(403, "forbidden");
    assert_eq!(r.body["error"], "you can only edit your own runtimes");
    // A no-op is still refused to someone who may not edit.
    s.patch(&format!("/api/runtimes/{owners}"), &w.member, json!({}))
        .expect_error(403, "forbidden");
    let rt = s.get(&format!("/api/runtimes/{owners}"), &w.owner).body;
    assert_eq!(rt["visibility"], "private");
}
