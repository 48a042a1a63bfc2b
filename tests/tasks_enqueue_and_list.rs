//! Tasks over HTTP (API.md §4): who may enqueue, bad input on enqueue (nothing written), and
//! the task list's filters and keyset paging.
mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{TestServer, World};
use serde_json::json;

fn claim(s: &TestServer, daemon: &str, runtime: &str) -> common::Resp {
    s.post(
        &format!("/api/daemon/runtimes/{runtime}/claim"),
        daemon,
        json!({}),
    )
}

#[test]
fn who_may_enqueue() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let owners_private = s.insert_runtime(&w.owner_id, "private");
    let members_private = s.insert_runtime(&w.member_id, "private");
    let public = s.insert_runtime(&w.owner_id, "public");
    // An agent owned by the workspace owner on each runtime, and one the member owns.
    let on_owners = s.create_agent(&w.owner, &owners_private, "on-owners");
    let on_members = s.create_agent(&w.owner, &members_private, "on-members");
    let on_public = s.create_agent(&w.owner, &public, "on-public");
    let members_own = s.create_agent(&w.member, &public, "members-own");
    s.sql()
        .execute(
            "UPDATE runtime SET visibility = 'private' WHERE id = ?1",
            [&public],
        )
        .unwrap();

    let cases = [
        // (caller, agent, expected status)
        (&w.owner, &on_owners, 201),
        (&w.admin, &on_owners, 201),
        (&w.member, &on_owners, 403),
        (&w.outsider, &on_owners, 404),
        (&w.member, &on_members, 201), // the member can use their own runtime
        (&w.member, &members_own, 201), // the agent's owner, runtime now private to another
        (&w.admin, &members_own, 201),
        (&w.member, &on_public, 403), // the runtime went private
    ];
    for (caller, agent, expected) in cases {
        let before = s.count("SELECT COUNT(*) FROM task");
        let r = s.post(
            &format!("/api/agents/{agent}/tasks"),
            caller,
            json!({"prompt": "go"}),
        );
        assert_eq!(r.status, expected, "{agent}: {r:#?}");
        let written = s.count("SELECT COUNT(*) FROM task") - before;
        assert_eq!(written, i64::from(expected == 201), "{r:#?}");
        if expected == 403 {
            assert_eq!(r.body["code"], "forbidden");
        }
    }
    s.sql()
        .execute(
            "UPDATE runtime SET visibility = 'public' WHERE id = ?1",
            [&public],
        )
        .unwrap();
    s.enqueue(&w.member, &on_public, "public again");
}

#[test]
fn enqueue_rejects_bad_input_and_writes_nothing() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &rt, "coder");
    let path = format!("/api/agents/{agent}/tasks");
    let mark = s.newest_event_id();
    for (body, code) in [
        (json!({}), "invalid_field"),
        (json!({"prompt": ""}), "invalid_field"),
        (json!({"prompt": "   "}), "invalid_field"),
        (json!({"prompt": "x".repeat(100_001)}), "invalid_field"),
        (json!({"prompt": 5}), "invalid_json"),
        (json!({"prompt": "ok", "priority": 1}), "unknown_field"),
        (json!(["prompt"]), "invalid_json"),
    ] {
        s.post(&path, &w.owner, body).expect_error(400, code);
    }
    s.post("/api/agents/xyz/tasks", &w.owner, json!({"prompt": "p"}))
        .expect_error(400, "invalid_id");
    s.post(
        &format!("/api/agents/{}/tasks", hangar::ids::new_id()),
        &w.owner,
        json!({"prompt": "p"}),
    )
    .expect_error(404, "not_found");
    assert_eq!(s.count("SELECT COUNT(*) FROM task"), 0);
    assert!(s.event_rows_after(mark).is_empty());
    // The longest prompt is accepted, in characters (not bytes).
    s.post(&path, &w.owner, json!({"prompt": "é".repeat(100_000)}))
        .expect(201);
    s.post(&format!("/api/agents/{agent}/archive"), &w.owner, json!({}))
        .expect(200);
    s.post(&path, &w.owner, json!({"prompt": "p"}))
        .expect_error(409, "agent_archived");
    s.post(&path, &w.member, json!({"prompt": "p"}))
        .expect_error(403, "forbidden");
    assert_eq!(s.count("SELECT COUNT(*) FROM task"), 1);
}

#[test]
fn listing_filters_and_pages_newest_first() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let s = TestServer::start_pinned(at, |_| {});
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "private");
    let rt2 = s.insert_runtime(&w.owner_id, "private");
    let a = s.create_agent(&w.owner, &rt, "a");
    let b = s.create_agent(&w.owner, &rt2, "b");
    let mut ids = Vec::new();
    for i in 0..5 {
        let agent = if i % 2 == 0 { &a } else { &b };
        ids.push(s.enqueue(&w.owner, agent, &format!("t{i}")));
        s.clock().advance(Duration::seconds(1));
    }
    // Two more at the same instant: the id breaks the tie, and paging still sees each once.
    ids.push(s.enqueue(&w.owner, &a, "t5"));
    ids.push(s.enqueue(&w.owner, &a, "t6"));
    claim(&s, &w.owner_daemon, &rt2).expect(200); // t1 → dispatched

    let list = |q: &str| -> Vec<String> {
        s.get(&format!("/api/workspaces/{}/tasks{q}", s.ws), &w.member)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["prompt"].as_str().unwrap().to_string())
            .collect()
    };
    let all = list("");
    assert_eq!(all.len(), 7);
    assert_eq!(&all[2..], ["t4", "t3", "t2", "t1", "t0"]);
    assert_eq!(list(&format!("?agent_id={b}")), ["t3", "t1"]);
    assert_eq!(list(&format!("?runtime_id={rt2}")), ["t3", "t1"]);
    assert_eq!(list("?status=dispatched"), ["t1"]);
    assert_eq!(list(&format!("?status=queued&agent_id={b}")), ["t3"]);

    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = s
            .get(
                &format!("/api/workspaces/{}/tasks?limit=2{cursor}", s.ws),
                &w.member,
            )
            .expect(200);
        let page = page.body.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        cursor = format!("&before={}", page.last().unwrap()["id"].as_str().unwrap());
        paged.extend(
            page.iter()
                .map(|t| t["prompt"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(paged, all);

    let base = format!("/api/workspaces/{}/tasks", s.ws);
    s.get(&format!("{base}?status=lost"), &w.member)
        .expect_error(400, "invalid_field");
    s.get(&format!("{base}?limit=0"), &w.member)
        .expect_error(400, "invalid_field");
    s.get(&format!("{base}?limit=two"), &w.member)
        .expect_error(400, "invalid_field");
    s.get(&format!("{base}?before=zzz"), &w.member)
        .expect_error(400, "invalid_id");
    s.get(&format!("{base}?agent_id=zzz"), &w.member)
        .expect_error(400, "invalid_id");
    s.get(
        &format!("{base}?before={}", hangar::ids::new_id()),
        &w.member,
    )
    .expect_error(404, "not_found");
    s.get(&base, &w.outsider).expect_error(404, "not_found");
    assert_eq!(list("?limit=100000").len(), 7);
    s.get(&format!("/api/tasks/{}", ids[0]), &w.outsider)
        .expect_error(404, "not_found");
}
