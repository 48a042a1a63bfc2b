//! Liveness through the running sweeper at second scale: a silent runtime goes offline after
//! the threshold (not before), a heartbeat brings it back, and the events say so in order.
mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::{TestServer, World};
use serde_json::{json, Value};

/// Polls `status_of` until it answers `want` or `within` passes; returns the last answer.
fn wait_for_status(status_of: impl Fn() -> String, want: &str, within: Duration) -> String {
    let until = Instant::now() + within;
    loop {
        let status = status_of();
        if status == want || Instant::now() > until {
            return status;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn kinds(events: &[Value]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["payload"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_silent_runtime_goes_offline_and_a_heartbeat_brings_it_back() {
    let s = TestServer::start_with(|c| {
        c.offline_after = Duration::from_secs(1);
        c.sweep_interval = Duration::from_millis(200);
    });
    let w = World::seed(&s);
    let id = s.register_runtime(&w.member_daemon, "m", "claude");
    let registered = Instant::now();
    let status = || {
        s.get(&format!("/api/runtimes/{id}"), &w.member).body["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        wait_for_status(status, "offline", Duration::from_secs(5)),
        "offline"
    );
    assert!(
        registered.elapsed() >= Duration::from_millis(900),
        "offline too early: {:?}",
        registered.elapsed()
    );
    s.post(
        "/api/daemon/heartbeat",
        &w.member_daemon,
        json!({"runtime_ids": [id]}),
    )
    .expect(200);
    assert_eq!(status(), "online");
    let offline = json!({"runtime_id": id, "status": "offline"});
    let online = json!({"runtime_id": id, "status": "online"});
    let events = s.api_events(&s.ws, &w.member, 0);
    assert_eq!(
        kinds(&events),
        vec![
            (
                "daemon:register".to_string(),
                json!({"action": "register", "runtime_id": id})
            ),
            ("runtime:status".to_string(), offline),
            ("runtime:status".to_string(), online),
        ]
    );
    assert_eq!(events[1]["actor_type"], "system");
    assert_eq!(events[1]["actor_id"], Value::Null);
    assert_eq!(events[2]["actor_type"], "daemon");
}

#[test]
fn the_threshold_is_exact_at_pinned_instants() {
    let s = TestServer::start_pinned(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(), |c| {
        c.sweep_interval = Duration::from_millis(50);
    });
    let w = World::seed(&s);
    let quiet = s.register_runtime(&w.member_daemon, "m", "claude");
    let chatty = s.register_runtime(&w.owner_daemon, "o", "claude");
    let status = |id: &str| {
        s.get(&format!("/api/runtimes/{id}"), &w.owner).body["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Exactly 150 s of silence is still alive, through several sweeps.
    s.clock().advance(chrono::Duration::seconds(100));
    s.post(
        "/api/daemon/heartbeat",
        &w.owner_daemon,
        json!({"runtime_ids": [chatty]}),
    )
    .expect(200);
    s.clock().advance(chrono::Duration::seconds(50));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status(&quiet), "online");
    // One millisecond more and the next sweep takes it offline; the other one stays.
    s.clock().advance(chrono::Duration::milliseconds(1));
    assert_eq!(
        wait_for_status(|| status(&quiet), "offline", Duration::from_secs(5)),
        "offline"
    );
    assert_eq!(status(&chatty), "online");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM event WHERE type = 'runtime:status'"),
        1
    );
}
