//! Agents over HTTP (API.md §4): create on a usable runtime, unique names, list / get, and
//! patch with its permission and conflict rules; nothing is written on any error.
mod common;

use common::{TestServer, World};
use serde_json::{json, Value};

fn agents_path(s: &TestServer) -> String {
    format!("/api/workspaces/{}/agents", s.ws)
}

#[test]
fn create_list_and_get() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let public = s.insert_runtime(&w.owner_id, "public");
    let private = s.insert_runtime(&w.owner_id, "private");
    let mark = s.newest_event_id();
    let created = s
        .post(
            &agents_path(&s),
            &w.member,
            json!({"name": " reviewer ", "runtime_id": public.to_uppercase(), "description": "reads diffs"}),
        )
        .expect(201);
    let agent = created.id();
    assert_eq!(created.body["name"], "reviewer");
    assert_eq!(created.body["runtime_id"], public.as_str());
    assert_eq!(created.body["owner_id"], w.member_id.as_str());
    assert_eq!(created.body["workspace_id"], s.ws.as_str());
    assert_eq!(created.body["description"], "reads diffs");
    assert_eq!(created.body["archived_at"], Value::Null);
    assert_eq!(created.body["archived_by"], Value::Null);
    assert!(created.body["created_at"].as_str().unwrap().ends_with('Z'));
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].0.as_str(), events[0].1.as_str()),
        ("agent:created", "member")
    );
    assert_eq!(events[0].2["agent"], created.body);

    let other = s.create_agent(&w.owner, &private, "builder");
    let got = s.get(&format!("/api/agents/{agent}"), &w.admin).expect(200);
    assert_eq!(got.body, created.body);
    let names = |q: &str| -> Vec<String> {
        s.get(&format!("{}{q}", agents_path(&s)), &w.member)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(""), ["reviewer", "builder"]);
    assert_eq!(names(&format!("?runtime_id={private}")), ["builder"]);
    s.get(&format!("{}?runtime_id=x", agents_path(&s)), &w.member)
        .expect_error(400, "invalid_id");
    s.get(&agents_path(&s), &w.outsider)
        .expect_error(404, "not_found");
    s.get(&format!("/api/agents/{other}"), &w.outsider)
        .expect_error(404, "not_found");
    s.get("/api/agents/123", &w.member)
        .expect_error(400, "invalid_id");
    s.get(&format!("/api/agents/{}", hangar::ids::new_id()), &w.member)
        .expect_error(404, "not_found");
}

#[test]
fn create_rejects_bad_input_unusable_runtimes_and_taken_names() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let owners_private = s.insert_runtime(&w.owner_id, "private");
    let elsewhere = s.insert_runtime_in(&w.other_ws, &w.owner_id, "public");
    s.create_agent(&w.owner, &owners_private, "taken");
    let mark = s.newest_event_id();
    let path = agents_path(&s);
    let rt = owners_private.as_str();
    let cases = [
        (
            &w.member,
            json!({"name": "a", "runtime_id": rt}),
            403,
            "runtime_not_usable",
        ),
        (
            &w.owner,
            json!({"name": "a", "runtime_id": elsewhere}),
            404,
            "not_found",
        ),
        (
            &w.owner,
            json!({"name": "a", "runtime_id": hangar::ids::new_id()}),
            404,
            "not_found",
        ),
        (
            &w.owner,
            json!({"name": "a", "runtime_id": "rt-1"}),
            400,
            "invalid_id",
        ),
        (
            &w.owner,
            json!({"name": "  ", "runtime_id": rt}),
            400,
            "invalid_field",
        ),
        (
            &w.owner,
            json!({"name": "n".repeat(201), "runtime_id": rt}),
            400,
            "invalid_field",
        ),
        (
            &w.owner,
            json!({"name": "a", "runtime_id": rt, "description": "d".repeat(256)}),
            400,
            "invalid_field",
        ),
        (&w.owner, json!({"runtime_id": rt}), 400, "invalid_field"),
        (
            &w.owner,
            json!({"name": "a", "runtime_id": rt, "model": "x"}),
            400,
            "unknown_field",
        ),
        (
            &w.owner,
            json!({"name": 1, "runtime_id": rt}),
            400,
            "invalid_json",
        ),
        (
            &w.owner,
            json!({"name": "taken", "runtime_id": rt}),
            409,
            "agent_name_taken",
        ),
        (
            &w.outsider,
            json!({"name": "a", "runtime_id": rt}),
            404,
            "not_found",
        ),
    ];
    for (caller, body, status, code) in cases {
        s.post(&path, caller, body).expect_error(status, code);
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM agent"), 1, "nothing written");
    assert!(s.event_rows_after(mark).is_empty());
    // 255 characters is fine; an admin may use any runtime; the member their own.
    s.post(
        &path,
        &w.admin,
        json!({"name": "a", "runtime_id": rt, "description": "é".repeat(255)}),
    )
    .expect(201);
    let members = s.insert_runtime(&w.member_id, "private");
    s.create_agent(&w.member, &members, "mine");
}

#[test]
fn patch_renames_describes_and_checks_permissions() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let agent = s.create_agent(&w.member, &rt, "alpha");
    s.create_agent(&w.owner, &rt, "beta");
    let path = format!("/api/agents/{agent}");
    let mark = s.newest_event_id();

    s.patch(&path, &w.admin, json!({"name": "beta"}))
        .expect_error(409, "agent_name_taken");
    s.patch(&path, &w.member, json!({"description": "x".repeat(256)}))
        .expect_error(400, "invalid_field");
    s.patch(&path, &w.member, json!({"owner_id": w.owner_id}))
        .expect_error(400, "unknown_field");
    s.patch(&path, &w.outsider, json!({"name": "z"}))
        .expect_error(404, "not_found");
    let by_other = s.create_agent(&w.owner, &rt, "gamma");
    s.patch(
        &format!("/api/agents/{by_other}"),
        &w.member,
        json!({"name": "z"}),
    )
    .expect_error(403, "forbidden");
    assert!(s
        .event_rows_after(mark)
        .iter()
        .all(|e| e.0 == "agent:created"));

    let mark = s.newest_event_id();
    let r = s
        .patch(
            &path,
            &w.member,
            json!({"name": "alpha2", "description": "new"}),
        )
        .expect(200);
    assert_eq!(
        (r.body["name"].as_str(), r.body["description"].as_str()),
        (Some("alpha2"), Some("new"))
    );
    let r2 = s
        .patch(&path, &w.admin, json!({"name": "alpha2"}))
        .expect(200);
    assert_eq!(r2.body, r.body, "a no-op patch changes nothing");
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "agent:updated");
    assert_eq!(events[0].2["agent"], r.body);
}
