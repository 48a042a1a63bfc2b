//! The event stream (API.md §7, DESIGN "HTTP edges"): prompt delivery, resume after a
//! reconnect without gaps or duplicates, header-only auth, the stream cap, streams that do
//! not slow the API, and streams that end when their reader may no longer read.
mod common;

use std::time::{Duration, Instant};

use common::sse::{Frame, SseClient, SseEvent};
use common::{TestServer, World};
use serde_json::json;

/// Flips the runtime's visibility: exactly one `daemon:register {action:"update"}` event.
fn toggle(s: &TestServer, token: &str, runtime: &str, i: usize) {
    let visibility = if i.is_multiple_of(2) {
        "public"
    } else {
        "private"
    };
    s.patch(
        &format!("/api/runtimes/{runtime}"),
        token,
        json!({ "visibility": visibility }),
    )
    .expect(200);
}

fn ids(events: &[SseEvent]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

#[test]
fn a_change_reaches_an_open_stream_within_a_second() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.member_daemon, "m", "claude");
    let mut stream = SseClient::connect(&s.base, &s.ws, &w.admin, None);
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("Content-Type"), Some("text/event-stream"));
    assert_eq!(stream.header("Cache-Control"), Some("no-cache"));
    // Without a cursor it starts from now: the registration is not replayed.
    assert!(matches!(
        stream.next_frame(Duration::from_millis(300)),
        Frame::Timeout
    ));
    let changed = Instant::now();
    toggle(&s, &w.member, &rt, 0);
    let event = stream
        .next_event(Duration::from_secs(1))
        .expect("an event within a second");
    assert!(changed.elapsed() < Duration::from_secs(1));
    assert_eq!(event.event, "daemon:register");
    assert_eq!(event.data["id"], event.id);
    assert_eq!(event.data["type"], "daemon:register");
    assert_eq!(
        event.data["payload"],
        json!({"action": "update", "runtime_id": rt})
    );
    assert_eq!(event.data["workspace_id"], s.ws.as_str());
}

#[test]
fn a_reconnect_resumes_without_gaps_or_duplicates() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.member_daemon, "m", "claude");
    let mut stream = SseClient::connect(&s.base, &s.ws, &w.member, None);
    for i in 0..3 {
        toggle(&s, &w.member, &rt, i);
    }
    let before = stream.take(3, Duration::from_secs(2));
    drop(stream);
    // Changes while disconnected, including some in another workspace.
    let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
    for i in 3..6 {
        toggle(&s, &w.member, &rt, i);
        s.register_runtime(&outsider_daemon, &format!("x{i}"), "claude");
    }
    let last = before.last().unwrap().id;
    let mut resumed = SseClient::connect(&s.base, &s.ws, &w.member, Some(last));
    assert_eq!(resumed.status, 200);
    let mut after = resumed.take(3, Duration::from_secs(2));
    toggle(&s, &w.member, &rt, 6);
    after.extend(resumed.take(1, Duration::from_secs(2)));
    assert!(matches!(
        resumed.next_frame(Duration::from_millis(300)),
        Frame::Timeout
    ));
    let mut seen = ids(&before);
    seen.extend(ids(&after));
    let expected: Vec<i64> = s
        .api_events(&s.ws, &w.member, before[0].id - 1)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, expected);
    assert!(after
        .iter()
        .all(|e| e.data["workspace_id"] == s.ws.as_str()));
    // `?after=` replays the same way.
    let mut by_query = SseClient::open(
        &s.base,
        &format!("/api/workspaces/{}/events/stream?after={last}", s.ws),
        &[("Authorization", &format!("Bearer {}", w.member))],
    );
    assert_eq!(ids(&by_query.take(4, Duration::from_secs(2))), ids(&after));
}

#[test]
fn streams_authenticate_by_header_only_and_are_for_members() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let path = format!("/api/workspaces/{}/events/stream", s.ws);
    let anonymous = SseClient::open(&s.base, &format!("{path}?token={}", w.member), &[]);
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.error["code"], "unauthorized");
    let outsider = SseClient::connect(&s.base, &s.ws, &w.outsider, None);
    assert_eq!(
        (outsider.status, &outsider.error["code"]),
        (404, &json!("not_found"))
    );
    let daemon = SseClient::connect(&s.base, &s.ws, &w.member_daemon, None);
    assert_eq!(daemon.status, 401);
    let bad = SseClient::open(
        &s.base,
        &path,
        &[
            ("Authorization", &format!("Bearer {}", w.member)),
            ("Last-Event-ID", "yesterday"),
        ],
    );
    assert_eq!(
        (bad.status, &bad.error["code"]),
        (400, &json!("invalid_field"))
    );
}

#[test]
fn streams_beyond_the_cap_get_503_and_closed_ones_give_their_slot_back() {
    let s = TestServer::start_with(|c| c.max_streams = 2);
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.member_daemon, "m", "claude");
    let first = SseClient::connect(&s.base, &s.ws, &w.member, None);
    let second = SseClient::connect(&s.base, &s.ws, &w.member, None);
    assert_eq!((first.status, second.status), (200, 200));
    let third = SseClient::connect(&s.base, &s.ws, &w.member, None);
    assert_eq!(
        (third.status, &third.error["code"]),
        (503, &json!("too_many_streams"))
    );
    // The API itself is unaffected.
    s.get("/api/me", &w.member).expect(200);
    // A client that left is noticed at the next write, and its slot freed.
    drop(first);
    let ctx = s.handle().ctx();
    let until = Instant::now() + Duration::from_secs(5);
    let mut i = 0;
    while ctx.events.open_streams() > 1 && Instant::now() < until {
        toggle(&s, &w.member, &rt, i);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ctx.events.open_streams(), 1);
    let again = SseClient::connect(&s.base, &s.ws, &w.member, None);
    assert_eq!(again.status, 200);
    drop(second);
}

#[test]
fn twelve_open_streams_do_not_slow_the_api() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.member_daemon, "m", "claude");
    let list = format!("/api/workspaces/{}/runtimes", s.ws);
    let round = |offset: usize| {
        let started = Instant::now();
        for i in 0..30 {
            toggle(&s, &w.member, &rt, offset + i);
            s.get(&list, &w.member).expect(200);
        }
        started.elapsed()
    };
    // Best of three on both sides, so a busy machine does not decide the outcome.
    let best = |round: &dyn Fn(usize) -> Duration| (0..3).map(|_| round(0)).min().unwrap();
    let baseline = best(&round);
    let mut streams: Vec<SseClient> = (0..12)
        .map(|_| SseClient::connect(&s.base, &s.ws, &w.member, None))
        .collect();
    assert!(streams.iter().all(|c| c.status == 200));
    let loaded = best(&round);
    // Generous: the point is that streams hold no API worker (4 here) and wait cheaply.
    assert!(
        loaded < baseline * 3 + Duration::from_millis(300),
        "baseline {baseline:?}, with 12 streams {loaded:?}"
    );
    for stream in &mut streams {
        let got = stream.take(90, Duration::from_secs(5));
        assert!(got.windows(2).all(|p| p[0].id < p[1].id));
    }
}

#[test]
fn a_stream_ends_when_its_reader_leaves_the_workspace_or_the_server_stops() {
    let mut s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.register_runtime(&w.owner_daemon, "o", "claude");
    let mut member = SseClient::connect(&s.base, &s.ws, &w.member, None);
    let mut admin = SseClient::connect(&s.base, &s.ws, &w.admin, None);
    s.delete(
        &format!("/api/workspaces/{}/members/{}", s.ws, w.member_id),
        &w.owner,
    )
    .expect(204);
    toggle(&s, &w.owner, &rt, 0);
    assert_eq!(
        admin.take(1, Duration::from_secs(2))[0].event,
        "daemon:register"
    );
    assert!(matches!(
        member.next_frame(Duration::from_secs(2)),
        Frame::Closed
    ));
    let stopping = Instant::now();
    s.stop();
    assert!(matches!(
        admin.next_frame(Duration::from_secs(3)),
        Frame::Closed
    ));
    assert!(stopping.elapsed() < Duration::from_secs(3));
}
