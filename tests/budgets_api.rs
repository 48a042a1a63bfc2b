//! Budgets as a resource: create with defaults, read as a member, write as an admin only,
//! other workspaces 404, patch and delete with their events, and every bad input answered 400
//! naming the field with nothing written.
mod common;

use common::budgets::create;
use common::ledger::Rig;
use common::{TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn start() -> (TestServer, World) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    (s, w)
}

#[test]
fn a_budget_is_created_with_defaults_and_read_by_members() {
    let (s, w) = start();
    let mark = s.newest_event_id();
    let r = create(
        &s,
        &s.ws,
        &w.admin,
        json!({"scope": {"type": "workspace"}, "amount_usd": 250.5, "period": "month"}),
    )
    .expect(201);
    let id = r.id();
    let b = &r.body;
    assert_eq!(b["workspace_id"], s.ws.as_str());
    assert_eq!(b["name"], Value::Null);
    assert_eq!(b["scope"], json!({"type": "workspace", "id": null}));
    assert_eq!(b["amount_usd"], 250.5);
    assert_eq!(b["period"], "month");
    assert_eq!(b["timezone"], "UTC");
    assert_eq!(b["thresholds"], json!([50, 80, 100]));
    assert_eq!(b["action"], "alert");
    assert_eq!(b["state"], "ok");
    assert_eq!(b["created_at"], "2026-06-15T12:00:00.000Z");
    assert_eq!(b["updated_at"], b["created_at"]);
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "budget:created");
    assert_eq!(events[0].1, "member");
    assert_eq!(events[0].2["budget"], r.body);

    let got = s.get(&format!("/api/budgets/{id}"), &w.member).expect(200);
    assert_eq!(got.body, r.body);
    let list = s
        .get(&format!("/api/workspaces/{}/budgets", s.ws), &w.member)
        .expect(200);
    assert_eq!(list.body, json!([r.body]));
    // Other workspaces see nothing.
    s.get(&format!("/api/budgets/{id}"), &w.outsider)
        .expect_error(404, "not_found");
    s.get(&format!("/api/budgets/{id}/status"), &w.outsider)
        .expect_error(404, "not_found");
    s.get(&format!("/api/workspaces/{}/budgets", s.ws), &w.outsider)
        .expect_error(404, "not_found");
    s.get(&format!("/api/workspaces/{}/budgets", w.other_ws), &w.owner)
        .expect_error(404, "not_found");
    s.get("/api/budgets/not-an-id", &w.owner)
        .expect_error(400, "invalid_id");
    s.get(&format!("/api/budgets/{}", hangar::ids::new_id()), &w.owner)
        .expect_error(404, "not_found");
}

#[test]
fn scopes_name_a_runtime_or_agent_of_the_workspace() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let body = |scope: Value| {
        json!({"name": " Team cap ", "scope": scope, "amount_usd": 10, "period": "week",
               "timezone": "Asia/Kathmandu", "thresholds": [100, 25], "action": "pause_dispatch"})
    };
    let r = create(
        &s,
        &s.ws,
        &w.owner,
        body(json!({"type": "runtime", "id": rig.runtime})),
    )
    .expect(201);
    assert_eq!(r.body["name"], "Team cap");
    assert_eq!(
        r.body["scope"],
        json!({"type": "runtime", "id": rig.runtime})
    );
    assert_eq!(r.body["timezone"], "Asia/Kathmandu");
    assert_eq!(r.body["thresholds"], json!([25, 100]));
    assert_eq!(r.body["action"], "pause_dispatch");
    let r = create(
        &s,
        &s.ws,
        &w.owner,
        body(json!({"type": "agent", "id": rig.agent})),
    )
    .expect(201);
    assert_eq!(r.body["scope"], json!({"type": "agent", "id": rig.agent}));
}

#[test]
fn only_admins_write_and_members_are_refused_with_nothing_written() {
    let (s, w) = start();
    let body = json!({"scope": {"type": "workspace"}, "amount_usd": 10, "period": "day"});
    let before = s.snapshot();
    create(&s, &s.ws, &w.member, body.clone()).expect_error(403, "forbidden");
    create(&s, &s.ws, &w.outsider, body.clone()).expect_error(404, "not_found");
    create(&s, &w.other_ws, &w.owner, body.clone()).expect_error(404, "not_found");
    assert_eq!(s.snapshot(), before);

    let id = create(&s, &s.ws, &w.owner, body).expect(201).id();
    let before = s.snapshot();
    let path = format!("/api/budgets/{id}");
    s.patch(&path, &w.member, json!({"amount_usd": 20}))
        .expect_error(403, "forbidden");
    s.delete(&path, &w.member).expect_error(403, "forbidden");
    s.patch(&path, &w.outsider, json!({"amount_usd": 20}))
        .expect_error(404, "not_found");
    s.delete(&path, &w.outsider).expect_error(404, "not_found");
    assert_eq!(s.snapshot(), before);
}

#[test]
fn patch_changes_what_it_names_and_delete_removes_the_budget() {
    let (s, w) = start();
    let r = create(
        &s,
        &s.ws,
        &w.admin,
        json!({"name": "cap", "scope": {"type": "workspace"}, "amount_usd": 10, "period": "day"}),
    )
    .expect(201);
    let id = r.id();
    let path = format!("/api/budgets/{id}");
    s.clock().advance(chrono::Duration::minutes(5));

    // The same values again: no write, no event.
    let mark = s.newest_event_id();
    let same = s
        .patch(
            &path,
            &w.admin,
            json!({"amount_usd": 10.0, "period": "day"}),
        )
        .expect(200);
    assert_eq!(same.body, r.body);
    assert_eq!(s.event_types_after(mark), Vec::<String>::new());

    let changed = s
        .patch(
            &path,
            &w.admin,
            json!({"name": null, "amount_usd": 12.25, "period": "month", "timezone": "Europe/Paris",
                   "thresholds": [90], "action": "pause_dispatch"}),
        )
        .expect(200);
    let b = &changed.body;
    assert_eq!(b["name"], Value::Null);
    assert_eq!(b["amount_usd"], 12.25);
    assert_eq!(b["period"], "month");
    assert_eq!(b["timezone"], "Europe/Paris");
    assert_eq!(b["thresholds"], json!([90]));
    assert_eq!(b["action"], "pause_dispatch");
    assert_eq!(b["created_at"], r.body["created_at"]);
    assert_eq!(b["updated_at"], "2026-06-15T12:05:00.000Z");
    assert_eq!(s.event_types_after(mark), vec!["budget:updated"]);
    assert_eq!(s.get(&path, &w.member).expect(200).body, changed.body);

    let mark = s.newest_event_id();
    s.delete(&path, &w.owner).expect(204);
    assert_eq!(s.event_types_after(mark), vec!["budget:deleted"]);
    s.get(&path, &w.owner).expect_error(404, "not_found");
    s.delete(&path, &w.owner).expect_error(404, "not_found");
    assert_eq!(s.count("SELECT COUNT(*) FROM budget"), 0);
}

/// Each bad body, as (body, status, code, the field its message names).
fn bad_creates(runtime: &str, other_agent: &str) -> Vec<(Value, &'static str, &'static str)> {
    let ok = json!({"scope": {"type": "workspace"}, "amount_usd": 10, "period": "month"});
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let unknown = hangar::ids::new_id();
    vec![
        (with("amount_usd", json!(0)), "invalid_field", "amount_usd"),
        (with("amount_usd", json!(-5)), "invalid_field", "amount_usd"),
        (
            with("amount_usd", json!(1_000_000_000.5)),
            "invalid_field",
            "amount_usd",
        ),
        (
            with("amount_usd", json!(1e10)),
            "invalid_field",
            "amount_usd",
        ),
        (
            with("amount_usd", json!(0.0000001)),
            "invalid_field",
            "amount_usd",
        ),
        // A wrong JSON type is the decoder's invalid_json, as everywhere in the API.
        (
            with("amount_usd", json!("10")),
            "invalid_json",
            "expected a JSON number",
        ),
        (without("amount_usd"), "invalid_field", "amount_usd"),
        (with("period", json!("year")), "invalid_field", "period"),
        (with("period", json!("Month")), "invalid_field", "period"),
        (without("period"), "invalid_field", "period"),
        (
            with("timezone", json!("Mars/Olympus_Mons")),
            "invalid_timezone",
            "timezone",
        ),
        (
            with("timezone", json!("+05:45")),
            "invalid_timezone",
            "timezone",
        ),
        (
            with("thresholds", json!([0])),
            "invalid_field",
            "thresholds",
        ),
        (
            with("thresholds", json!([50, 101])),
            "invalid_field",
            "thresholds",
        ),
        (
            with("thresholds", json!([80, 50, 80])),
            "invalid_field",
            "thresholds",
        ),
        (
            with("thresholds", json!([50.5])),
            "invalid_field",
            "thresholds",
        ),
        (with("action", json!("stop")), "invalid_field", "action"),
        (
            with("scope", json!({"type": "team"})),
            "invalid_field",
            "scope.type",
        ),
        (
            with("scope", json!({"type": "runtime"})),
            "invalid_field",
            "scope.id",
        ),
        (
            with("scope", json!({"type": "agent", "id": "x"})),
            "invalid_field",
            "scope.id",
        ),
        (
            with("scope", json!({"type": "workspace", "id": runtime})),
            "invalid_field",
            "scope.id",
        ),
        (
            with("scope", json!({"type": "runtime", "id": unknown})),
            "invalid_field",
            "scope.id",
        ),
        (
            with("scope", json!({"type": "agent", "id": runtime})),
            "invalid_field",
            "scope.id",
        ),
        (
            with("scope", json!({"type": "agent", "id": other_agent})),
            "invalid_field",
            "scope.id",
        ),
        (without("scope"), "invalid_field", "scope"),
        (with("budget", json!(1)), "unknown_field", "budget"),
    ]
}

#[test]
fn bad_input_is_400_naming_the_field_and_writes_nothing() {
    let (s, w) = start();
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let elsewhere = Rig::new(&s, &w.other_ws, &w.owner_id, "claude", "UTC");
    let before = s.snapshot();
    for (body, code, field) in bad_creates(&rig.runtime, &elsewhere.agent) {
        let r = create(&s, &s.ws, &w.owner, body.clone()).expect_error(400, code);
        let message = r.body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{field} not named for {body}: {r:#?}"
        );
    }
    assert_eq!(s.snapshot(), before, "a refused create wrote something");

    let id = create(
        &s,
        &s.ws,
        &w.owner,
        json!({"scope": {"type": "workspace"}, "amount_usd": 10, "period": "month"}),
    )
    .expect(201)
    .id();
    let before = s.snapshot();
    let path = format!("/api/budgets/{id}");
    let patches = [
        (json!({"amount_usd": 0}), "invalid_field", "amount_usd"),
        (json!({"amount_usd": 2e9}), "invalid_field", "amount_usd"),
        (json!({"period": "fortnight"}), "invalid_field", "period"),
        (
            json!({"timezone": "Nowhere/City"}),
            "invalid_timezone",
            "timezone",
        ),
        (
            json!({"thresholds": [50, 50]}),
            "invalid_field",
            "thresholds",
        ),
        (
            json!({"thresholds": [100, 0]}),
            "invalid_field",
            "thresholds",
        ),
        (
            json!({"scope": {"type": "agent", "id": hangar::ids::new_id()}}),
            "invalid_field",
            "scope.id",
        ),
        (json!({"name": ""}), "invalid_field", "name"),
        (json!({"action": "pause"}), "invalid_field", "action"),
        (
            json!({"workspace_id": s.ws}),
            "unknown_field",
            "workspace_id",
        ),
    ];
    for (body, code, field) in patches {
        let r = s
            .patch(&path, &w.owner, body.clone())
            .expect_error(400, code);
        let message = r.body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{field} not named for {body}: {r:#?}"
        );
    }
    assert_eq!(s.snapshot(), before, "a refused patch wrote something");
}
