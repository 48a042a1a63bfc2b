//! Workspaces, members and roles (API.md §1).
mod common;

use common::{TestServer, World};
use serde_json::json;

#[test]
fn me_and_workspaces() {
    let s = TestServer::start();
    let me = s.get("/api/me", &s.owner_token).expect(200);
    assert_eq!(me.body["email"], "owner@acme.test");
    assert_eq!(me.body["timezone"], serde_json::Value::Null);
    assert_eq!(me.body["workspaces"][0]["role"], "owner");
    let created = s
        .post(
            "/api/workspaces",
            &s.owner_token,
            json!({"name": " second "}),
        )
        .expect(201);
    assert_eq!(created.body["name"], "second");
    assert_eq!(created.body["role"], "owner");
    let list = s.get("/api/workspaces", &s.owner_token).expect(200);
    assert_eq!(list.body.as_array().unwrap().len(), 2);
}

#[test]
fn patch_me_validates_the_zone_before_writing() {
    let s = TestServer::start();
    s.patch(
        "/api/me",
        &s.owner_token,
        json!({"name": "New", "timezone": "Mars/Olympus"}),
    )
    .expect_error(400, "invalid_timezone");
    assert_eq!(
        s.get("/api/me", &s.owner_token).body["name"],
        "Olivia Owner"
    );
    let r = s
        .patch(
            "/api/me",
            &s.owner_token,
            json!({"timezone": "Asia/Kathmandu"}),
        )
        .expect(200);
    assert_eq!(r.body["timezone"], "Asia/Kathmandu");
    let r = s
        .patch("/api/me", &s.owner_token, json!({"timezone": null}))
        .expect(200);
    assert_eq!(r.body["timezone"], serde_json::Value::Null);
    s.patch("/api/me", &s.owner_token, json!({"email": "x@y"}))
        .expect_error(400, "unknown_field");
    s.patch("/api/me", &s.owner_token, json!({"name": 5}))
        .expect_error(400, "invalid_json");
    s.patch("/api/me", &s.owner_token, json!({"name": "x".repeat(201)}))
        .expect_error(400, "invalid_field");
}

#[test]
fn adding_members_gives_a_token_only_to_users_the_call_created() {
    let s = TestServer::start();
    let w = World::seed(&s);
    // The outsider already exists: adding them to acme yields no token.
    let r = s
        .post(
            &format!("/api/workspaces/{}/members", s.ws),
            &w.admin,
            json!({"email": "outsider@else.test", "role": "member"}),
        )
        .expect(201);
    assert!(r.body.get("token").is_none(), "{r:#?}");
    assert_eq!(r.body["role"], "member");
    // Twice → 409.
    s.post(
        &format!("/api/workspaces/{}/members", s.ws),
        &w.admin,
        json!({"email": "OUTSIDER@else.test", "role": "member"}),
    )
    .expect_error(409, "already_member");
    // A plain member may not add anyone; an admin may not grant owner.
    s.post(
        &format!("/api/workspaces/{}/members", s.ws),
        &w.member,
        json!({"email": "n@x.test", "role": "member"}),
    )
    .expect_error(403, "forbidden");
    s.post(
        &format!("/api/workspaces/{}/members", s.ws),
        &w.admin,
        json!({"email": "n@x.test", "role": "owner"}),
    )
    .expect_error(403, "forbidden");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM users WHERE email = 'n@x.test'"),
        0,
        "nothing written on 403"
    );
    // Bad bodies.
    s.post(
        &format!("/api/workspaces/{}/members", s.ws),
        &w.admin,
        json!({"email": "nope", "role": "member"}),
    )
    .expect_error(400, "invalid_field");
    s.post(
        &format!("/api/workspaces/{}/members", s.ws),
        &w.admin,
        json!({"email": "a@b.c", "role": "king"}),
    )
    .expect_error(400, "invalid_field");
    let list = s
        .get(&format!("/api/workspaces/{}/members", s.ws), &w.member)
        .expect(200);
    assert_eq!(list.body.as_array().unwrap().len(), 4);
    assert!(list.body[0]["joined_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn roles_change_and_the_last_owner_is_protected() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let member_path = |uid: &str| format!("/api/workspaces/{}/members/{uid}", s.ws);
    // Admin promotes a member to admin; cannot grant or remove owner.
    s.patch(
        &member_path(&w.member_id),
        &w.admin,
        json!({"role": "admin"}),
    )
    .expect(200);
    s.patch(
        &member_path(&w.member_id),
        &w.admin,
        json!({"role": "owner"}),
    )
    .expect_error(403, "forbidden");
    s.patch(
        &member_path(&w.owner_id),
        &w.admin,
        json!({"role": "member"}),
    )
    .expect_error(403, "forbidden");
    // The only owner cannot demote or remove themselves.
    s.patch(
        &member_path(&w.owner_id),
        &w.owner,
        json!({"role": "admin"}),
    )
    .expect_error(409, "last_owner");
    s.delete(&member_path(&w.owner_id), &w.owner)
        .expect_error(409, "last_owner");
    // With a second owner, they can.
    s.patch(
        &member_path(&w.admin_id),
        &w.owner,
        json!({"role": "owner"}),
    )
    .expect(200);
    s.patch(
        &member_path(&w.owner_id),
        &w.owner,
        json!({"role": "member"}),
    )
    .expect(200);
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM member WHERE workspace_id='{}' AND role='owner'",
            s.ws
        )),
        1
    );
    // Anyone may leave; a plain member may not remove others.
    s.delete(&member_path(&w.admin_id), &w.owner)
        .expect_error(403, "forbidden");
    s.delete(&member_path(&w.owner_id), &w.owner).expect(204);
    // Unknown member → 404; malformed id → 400.
    s.patch(
        &member_path(&w.owner_id),
        &w.admin,
        json!({"role": "member"}),
    )
    .expect_error(404, "not_found");
    s.patch(&member_path("nope"), &w.admin, json!({"role": "member"}))
        .expect_error(400, "invalid_id");
}

#[test]
fn another_workspace_is_404_never_403() {
    let s = TestServer::start();
    let w = World::seed(&s);
    for (method, path) in [
        ("GET", format!("/api/workspaces/{}/members", w.other_ws)),
        (
            "POST",
            format!("/api/workspaces/{}/daemon-tokens", w.other_ws),
        ),
        (
            "GET",
            format!("/api/workspaces/{}/daemon-tokens", w.other_ws),
        ),
    ] {
        let body = (method == "POST").then(|| json!({"name": "x"}));
        let r = s.call(method, &path, &w.member, body.as_ref());
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}: {r:#?}"
        );
    }
    // An unknown but well-formed workspace id is the same 404.
    let r = s.get(
        &format!("/api/workspaces/{}/members", uuid::Uuid::new_v4()),
        &w.member,
    );
    assert_eq!(r.status, 404);
}
