//! The HTTP edge: error shapes and their order, 405 with Allow, the body cap, healthz, the UI.
mod common;

use common::{TestServer, World};
use serde_json::json;

#[test]
fn healthz_answers_without_auth() {
    let s = TestServer::start();
    let r = s.get("/healthz", "").expect(200);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn unknown_routes_and_methods() {
    let s = TestServer::start();
    s.get("/api/nope", &s.owner_token)
        .expect_error(404, "not_found");
    // Route errors come before auth.
    s.get("/api/nope", "").expect_error(404, "not_found");
    let r = s
        .call("PUT", "/api/me", "", None)
        .expect_error(405, "method_not_allowed");
    assert_eq!(r.header("Allow"), Some("GET, PATCH"));
}

#[test]
fn errors_apply_in_the_contract_order() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let big = vec![b'x'; 1024 * 1024 + 1];
    let members = |ws: &str| format!("/api/workspaces/{ws}/members");
    // 401 before 413.
    let r = s.raw("POST", &members(&s.ws), &[], Some(&big));
    assert_eq!(r.status, 401, "{r:#?}");
    // 413 before a bad path id.
    let auth = format!("Bearer {}", w.admin);
    let r = s.raw(
        "POST",
        &members("bad-id"),
        &[("Authorization", &auth)],
        Some(&big),
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (413, Some("payload_too_large")),
        "{r:#?}"
    );
    // A bad path id before a bad body.
    s.call("POST", &members("bad-id"), &w.admin, None)
        .expect_error(400, "invalid_id");
    let r = s.raw(
        "POST",
        &members("bad-id"),
        &[("Authorization", &auth)],
        Some(b"{nope"),
    );
    assert_eq!(r.body["code"], "invalid_id");
    // A bad body before a missing workspace.
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = s.raw(
        "POST",
        &members(&unknown),
        &[("Authorization", &auth)],
        Some(b"{nope"),
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("invalid_json"))
    );
    // A missing workspace before a permission problem.
    s.post(
        &members(&unknown),
        &w.member,
        json!({"email": "a@b.c", "role": "member"}),
    )
    .expect_error(404, "not_found");
    // 403 before 409: a plain member adding an existing member.
    s.post(
        &members(&s.ws),
        &w.member,
        json!({"email": "admin@acme.test", "role": "member"}),
    )
    .expect_error(403, "forbidden");
    s.post(
        &members(&s.ws),
        &w.admin,
        json!({"email": "admin@acme.test", "role": "member"}),
    )
    .expect_error(409, "already_member");
}

#[test]
fn malformed_bodies_are_clear_400s() {
    let s = TestServer::start();
    let auth = format!("Bearer {}", s.owner_token);
    let h = [("Authorization", auth.as_str())];
    for body in [
        &b"{"[..],
        b"[]",
        b"\"x\"",
        b"null",
        b"\xff\xfe",
        b"{\"name\": {\"a\": [1, 2]}}",
    ] {
        let r = s.raw("POST", "/api/workspaces", &h, Some(body));
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (400, Some("invalid_json")),
            "{body:?}: {r:#?}"
        );
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = s.raw("POST", "/api/workspaces", &h, Some(deep.as_bytes()));
    assert_eq!(r.status, 400);
    s.post("/api/workspaces", &s.owner_token, json!({}))
        .expect_error(400, "invalid_field");
    s.post("/api/workspaces", &s.owner_token, json!({"name": "  "}))
        .expect_error(400, "invalid_field");
    s.post(
        "/api/workspaces",
        &s.owner_token,
        json!({"name": "a", "x": 1}),
    )
    .expect_error(400, "unknown_field");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM workspace"),
        1,
        "nothing written"
    );
}

#[test]
fn the_ui_is_served_with_security_headers_for_client_routes() {
    let s = TestServer::start();
    let r = s.get("/runtimes/abc", "").expect(200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    let csp = r.header("Content-Security-Policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert!(r.header("Referrer-Policy").is_some());
}
