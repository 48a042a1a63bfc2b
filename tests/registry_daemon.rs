//! The daemon protocol (API.md §3): registration upserts without duplicates or takeovers,
//! validation writes nothing, heartbeats answer `online`/`gone`, deregistration.
mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::{TestServer, World};
use serde_json::{json, Value};

fn pinned() -> TestServer {
    TestServer::start_pinned(
        Utc.with_ymd_and_hms(2026, 11, 29, 11, 30, 0).unwrap(),
        |_| {},
    )
}

fn runtime_rows(s: &TestServer) -> i64 {
    s.count("SELECT COUNT(*) FROM runtime")
}

fn event_rows(s: &TestServer) -> i64 {
    s.count("SELECT COUNT(*) FROM event")
}

#[test]
fn registration_creates_runtimes_with_the_contract_defaults() {
    let s = pinned();
    let w = World::seed(&s);
    let r = s
        .post(
            "/api/daemon/register",
            &w.member_daemon,
            json!({
                "daemon_id": "laptop-7",
                "device_info": "MacBook Pro (arm64)",
                "runtimes": [
                    {"name": "Claude on laptop", "provider": "claude"},
                    {"name": "Codex", "provider": "codex", "runtime_mode": "cloud",
                     "metadata": {"version": "1.2.3"}},
                    {"name": "Gemini", "provider": "gemini"}
                ]
            }),
        )
        .expect(200);
    let runtimes = r.body["runtimes"].as_array().expect("runtimes");
    assert_eq!(runtimes.len(), 3);
    let now = "2026-11-29T11:30:00.000Z";
    for (rt, (header, mode)) in runtimes.iter().zip([
        ("Claude Code", "local"),
        ("Codex", "cloud"),
        ("Gemini", "local"),
    ]) {
        assert_eq!(rt["launch_header"], header, "{rt}");
        assert_eq!(rt["runtime_mode"], mode, "{rt}");
        assert_eq!(rt["workspace_id"], s.ws.as_str());
        assert_eq!(rt["owner_id"], w.member_id.as_str());
        assert_eq!(rt["daemon_id"], "laptop-7");
        assert_eq!(rt["device_info"], "MacBook Pro (arm64)");
        assert_eq!(rt["status"], "online");
        assert_eq!(rt["visibility"], "private");
        assert_eq!(rt["timezone"], "UTC");
        assert_eq!(rt["last_seen_at"], now);
        assert_eq!(rt["created_at"], now);
        assert_eq!(rt["updated_at"], now);
    }
    assert_eq!(runtimes[0]["metadata"], json!({}));
    assert_eq!(runtimes[1]["metadata"], json!({"version": "1.2.3"}));
    assert_eq!(runtime_rows(&s), 3);
    // One daemon:register event per runtime, by the daemon.
    let events = s.api_events(&s.ws, &w.owner, 0);
    let registered: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "daemon:register")
        .collect();
    assert_eq!(registered.len(), 3);
    for (e, rt) in registered.iter().zip(runtimes) {
        assert_eq!(
            e["payload"],
            json!({"action": "register", "runtime_id": rt["id"]})
        );
        assert_eq!(e["actor_type"], "daemon");
        assert_eq!(e["actor_id"], w.member_id.as_str());
    }
}

#[test]
fn re_registration_updates_the_description_but_never_the_settings() {
    let s = pinned();
    let w = World::seed(&s);
    let first = s
        .post(
            "/api/daemon/register",
            &w.member_daemon,
            json!({"daemon_id": "box", "device_info": "old",
                   "runtimes": [{"name": "old name", "provider": "claude",
                                 "metadata": {"v": 1}}]}),
        )
        .expect(200);
    let id = first.body["runtimes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.patch(
        &format!("/api/runtimes/{id}"),
        &w.member,
        json!({"visibility": "public", "timezone": "Asia/Kolkata"}),
    )
    .expect(200);
    s.post(
        "/api/daemon/deregister",
        &w.member_daemon,
        json!({"runtime_ids": [id]}),
    )
    .expect(200);
    s.clock().advance(chrono::Duration::seconds(60));
    let again = s
        .post(
            "/api/daemon/register",
            &w.member_daemon,
            json!({"daemon_id": "box", "device_info": "new",
                   "runtimes": [{"name": "new name", "provider": "claude",
                                 "runtime_mode": "cloud", "metadata": {"v": 2}}]}),
        )
        .expect(200);
    let rt = &again.body["runtimes"][0];
    assert_eq!(rt["id"], id.as_str());
    assert_eq!(rt["name"], "new name");
    assert_eq!(rt["device_info"], "new");
    assert_eq!(rt["metadata"], json!({"v": 2}));
    assert_eq!(rt["runtime_mode"], "cloud");
    assert_eq!(rt["status"], "online");
    assert_eq!(rt["last_seen_at"], "2026-11-29T11:31:00.000Z");
    assert_eq!(rt["created_at"], "2026-11-29T11:30:00.000Z");
    assert_eq!(rt["visibility"], "public");
    assert_eq!(rt["timezone"], "Asia/Kolkata");
    // Fields left out keep their value.
    let third = s
        .register(&w.member_daemon, "box", &[("third name", "claude")])
        .expect(200);
    let rt = &third.body["runtimes"][0];
    assert_eq!(
        (
            &rt["name"],
            &rt["device_info"],
            &rt["metadata"],
            &rt["runtime_mode"]
        ),
        (
            &json!("third name"),
            &json!("new"),
            &json!({"v": 2}),
            &json!("cloud")
        )
    );
    assert_eq!(runtime_rows(&s), 1);
    // The same daemon id in another workspace is another runtime.
    let other_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    s.register(&other_daemon, "box", &[("x", "claude")])
        .expect(200);
    assert_eq!(runtime_rows(&s), 2);
}

#[test]
fn concurrent_registrations_of_one_key_make_one_row() {
    let s = Arc::new(TestServer::start());
    let w = World::seed(&s);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let s = Arc::clone(&s);
            let token = w.member_daemon.clone();
            std::thread::spawn(move || {
                let r = s
                    .register(&token, "shared-box", &[(&format!("name {i}"), "claude")])
                    .expect(200);
                r.body["runtimes"][0]["id"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(runtime_rows(&s), 1);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM event WHERE type = 'daemon:register'"),
        8
    );
}

#[test]
fn another_member_cannot_take_over_a_runtime_by_its_daemon_id() {
    let s = pinned();
    let w = World::seed(&s);
    let id = s.register_runtime(&w.owner_daemon, "owners-box", "claude");
    let before = s.get(&format!("/api/runtimes/{id}"), &w.owner).expect(200);
    let events = event_rows(&s);
    s.clock().advance(chrono::Duration::seconds(30));
    s.register(&w.member_daemon, "owners-box", &[("mine now", "claude")])
        .expect_error(409, "runtime_owned_by_another_user");
    // A registration that also holds a free provider writes none of it.
    s.register(
        &w.member_daemon,
        "owners-box",
        &[("free", "codex"), ("mine now", "claude")],
    )
    .expect_error(409, "runtime_owned_by_another_user");
    let after = s.get(&format!("/api/runtimes/{id}"), &w.owner).expect(200);
    assert_eq!(before.body, after.body);
    assert_eq!(runtime_rows(&s), 1);
    assert_eq!(event_rows(&s), events);
    // Not even an admin's daemon may take it.
    let admin_daemon = s.daemon_token(&s.ws, &w.admin);
    s.register(&admin_daemon, "owners-box", &[("x", "claude")])
        .expect_error(409, "runtime_owned_by_another_user");
}

#[test]
fn bad_registrations_are_refused_and_write_nothing() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let ok = json!({"name": "n", "provider": "claude"});
    let rt = |extra: Value| {
        let mut r = ok.clone();
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    let many: Vec<Value> = (0..33)
        .map(|i| json!({"name": "n", "provider": format!("p{i}")}))
        .collect();
    let cases = [
        (json!({"runtimes": [ok]}), "invalid_field"),
        (json!({"daemon_id": "", "runtimes": [ok]}), "invalid_field"),
        (
            json!({"daemon_id": "x".repeat(201), "runtimes": [ok]}),
            "invalid_field",
        ),
        (json!({"daemon_id": 7, "runtimes": [ok]}), "invalid_json"),
        (json!({"daemon_id": "d"}), "invalid_field"),
        (json!({"daemon_id": "d", "runtimes": []}), "invalid_field"),
        (json!({"daemon_id": "d", "runtimes": many}), "invalid_field"),
        (
            json!({"daemon_id": "d", "runtimes": {"name": "n"}}),
            "invalid_json",
        ),
        (
            json!({"daemon_id": "d", "device_info": "x".repeat(501), "runtimes": [ok]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [ok, rt(json!({"name": "x".repeat(201)}))]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [rt(json!({"name": " "}))]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [{"provider": "claude"}]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [rt(json!({"provider": "p".repeat(51)}))]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [rt(json!({"runtime_mode": "edge"}))]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [rt(json!({"metadata": [1, 2]}))]}),
            "invalid_json",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [rt(json!({"metadata": "text"}))]}),
            "invalid_json",
        ),
        (
            json!({"daemon_id": "d",
                   "runtimes": [rt(json!({"metadata": {"blob": "x".repeat(16 * 1024)}}))]}),
            "invalid_field",
        ),
        (
            json!({"daemon_id": "d", "runtimes": [ok, rt(json!({"name": "again"}))]}),
            "invalid_field",
        ),
    ];
    for (body, code) in cases {
        let r = s.post("/api/daemon/register", &w.member_daemon, body.clone());
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (400, Some(code)),
            "{body}: {r:#?}"
        );
    }
    let r = s.raw(
        "POST",
        "/api/daemon/register",
        &[("Authorization", &format!("Bearer {}", w.member_daemon))],
        Some(b"{not json"),
    );
    assert_eq!(r.body["code"], "invalid_json", "{r:#?}");
    // Wrong kinds of token.
    let body = json!({"daemon_id": "d", "runtimes": [ok]});
    s.post("/api/daemon/register", &w.member, body.clone())
        .expect_error(401, "unauthorized");
    s.post("/api/daemon/register", "", body)
        .expect_error(401, "unauthorized");
    assert_eq!(runtime_rows(&s), 0);
    assert_eq!(event_rows(&s), 0);
}

#[test]
fn daemon_endpoints_ignore_unknown_fields() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let r = s
        .post(
            "/api/daemon/register",
            &w.member_daemon,
            json!({"daemon_id": "d", "protocol": 9, "capabilities": ["x"],
                   "runtimes": [{"name": "n", "provider": "claude", "gpu": true}]}),
        )
        .expect(200);
    let id = r.body["runtimes"][0]["id"].as_str().unwrap().to_string();
    s.post(
        "/api/daemon/heartbeat",
        &w.member_daemon,
        json!({"runtime_ids": [id], "load": 0.5}),
    )
    .expect(200);
    s.post(
        "/api/daemon/deregister",
        &w.member_daemon,
        json!({"runtime_ids": [id], "reason": "bye"}),
    )
    .expect(200);
}

#[test]
fn heartbeats_answer_online_or_gone_and_touch_only_the_daemons_runtimes() {
    let s = pinned();
    let w = World::seed(&s);
    let mine = s.register_runtime(&w.member_daemon, "m", "claude");
    let owners = s.register_runtime(&w.owner_daemon, "o", "claude");
    let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    let elsewhere = s.register_runtime(&outsider_daemon, "x", "claude");
    let unknown = "6f1c1d4e-8a2b-4c3d-9e8f-0a1b2c3d4e5f";
    s.clock().advance(chrono::Duration::seconds(15));
    let events = event_rows(&s);
    let r = s
        .post(
            "/api/daemon/heartbeat",
            &w.member_daemon,
            json!({"runtime_ids": [mine.to_uppercase(), owners, elsewhere, unknown]}),
        )
        .expect(200);
    assert_eq!(
        r.body,
        json!({"runtimes": [
            {"id": mine, "status": "online"},
            {"id": owners, "status": "gone"},
            {"id": elsewhere, "status": "gone"},
            {"id": unknown, "status": "gone"},
        ]})
    );
    let seen = |id: &str| {
        s.get(&format!("/api/runtimes/{id}"), &w.owner).body["last_seen_at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(seen(&mine), "2026-11-29T11:30:15.000Z");
    assert_eq!(seen(&owners), "2026-11-29T11:30:00.000Z");
    // An online runtime's heartbeat is not news.
    assert_eq!(event_rows(&s), events);
    // A malformed id fails the whole call and writes nothing.
    s.clock().advance(chrono::Duration::seconds(15));
    s.post(
        "/api/daemon/heartbeat",
        &w.member_daemon,
        json!({"runtime_ids": [mine, "not-an-id"]}),
    )
    .expect_error(400, "invalid_id");
    assert_eq!(seen(&mine), "2026-11-29T11:30:15.000Z");
    s.post("/api/daemon/heartbeat", &w.member_daemon, json!({}))
        .expect_error(400, "invalid_field");
    s.post(
        "/api/daemon/heartbeat",
        &w.member_daemon,
        json!({"runtime_ids": []}),
    )
    .expect(200);
    s.post(
        "/api/daemon/heartbeat",
        &w.member,
        json!({"runtime_ids": [mine]}),
    )
    .expect_error(401, "unauthorized");
}

#[test]
fn deregistration_marks_offline_and_a_heartbeat_brings_it_back() {
    let s = pinned();
    let w = World::seed(&s);
    let id = s.register_runtime(&w.member_daemon, "m", "claude");
    let owners = s.register_runtime(&w.owner_daemon, "o", "claude");
    let cursor = s.last_event_id_in(&s.ws);
    // Someone else's runtime in the list: 404 and nothing written.
    s.post(
        "/api/daemon/deregister",
        &w.member_daemon,
        json!({"runtime_ids": [id, owners]}),
    )
    .expect_error(404, "not_found");
    let status = |id: &str| {
        s.get(&format!("/api/runtimes/{id}"), &w.owner).body["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(&id), "online");
    assert!(s.api_events(&s.ws, &w.owner, cursor).is_empty());
    let r = s
        .post(
            "/api/daemon/deregister",
            &w.member_daemon,
            json!({"runtime_ids": [id]}),
        )
        .expect(200);
    assert_eq!(
        r.body,
        json!({"runtimes": [{"id": id, "status": "offline"}]})
    );
    assert_eq!(status(&id), "offline");
    // Deregistering again is not news.
    s.post(
        "/api/daemon/deregister",
        &w.member_daemon,
        json!({"runtime_ids": [id]}),
    )
    .expect(200);
    s.post(
        "/api/daemon/heartbeat",
        &w.member_daemon,
        json!({"runtime_ids": [id]}),
    )
    .expect(200);
    assert_eq!(status(&id), "online");
    let events: Vec<(Value, Value, Value)> = s
        .api_events(&s.ws, &w.owner, cursor)
        .into_iter()
        .map(|e| {
            (
                e["type"].clone(),
                e["payload"].clone(),
                e["actor_type"].clone(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (
                json!("runtime:status"),
                json!({"runtime_id": id, "status": "offline"}),
                json!("daemon")
            ),
            (
                json!("runtime:status"),
                json!({"runtime_id": id, "status": "online"}),
                json!("daemon")
            ),
        ]
    );
}
