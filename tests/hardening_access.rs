//! Access control, proven over the router's whole table: for every route (some with
//! variants) and every kind of caller, the exact status the contract gives — wrong-kind
//! tokens 401, someone else's workspace 404 never 403, members 403 on admin-only writes —
//! each cell on fresh objects so one cell's write cannot decide the next. Then the
//! contract's error order (405 → 401 → 413 → 400 path id → 400 body → 404) route by route,
//! and other workspaces' objects are 404 on every route that names an object. No answer
//! but a creation's carries a token.
mod common;
#[path = "hardening_access/scene.rs"]
mod scene;

use std::collections::BTreeSet;

use common::raw::{request, RawClient, RawResp};
use common::{TestServer, World};
use hangar::http::router::{all_routes, Auth};
use scene::{Callers, Row, Scene, CALLERS};

#[test]
fn every_route_answers_every_kind_of_caller_as_the_contract_says() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let callers = Callers::make(&s, &w);
    let rows = scene::rows();
    assert_every_route_has_a_row(&rows);
    let mut client = RawClient::new(s.handle().addr());
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for (column, expected) in row.expect.iter().enumerate() {
            let sc = Scene::make(&s, &callers, row);
            let (path, body) = (sc.path(row.pattern), (row.body)(&sc));
            let token = callers.token(column);
            let resp = send(&mut client, row.method, &path, token, body.as_ref());
            cells += 1;
            if resp.status != *expected {
                mismatches.push(format!(
                    "{} {} [{}] as {}: expected {expected}, got {} {}",
                    row.method,
                    row.pattern,
                    row.variant,
                    CALLERS[column],
                    resp.status,
                    resp.text()
                ));
            }
            assert_no_token_unless_created(row.method, row.pattern, &resp);
        }
    }
    eprintln!("access matrix: {} rows, {cells} cells", rows.len());
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from the contract:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// API.md §0: route 404/405 → 401 → 413 → 400 path id → 400 body/query → 404 object.
#[test]
fn errors_come_in_the_contract_order_on_every_route() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let addr = s.handle().addr();
    let mut client = RawClient::new(addr);
    let unknown = hangar::ids::new_id();
    let mut checked = 0;
    for (method, pattern, auth) in all_routes() {
        let token = match auth {
            Auth::Daemon => w.owner_daemon.as_str(),
            _ => w.owner.as_str(),
        };
        let with_ids = |id: &str| fill(pattern, id);
        let has_path_id = pattern.contains('{');
        // A method the path does not take: 405 before anything, even without a token.
        let r = send(&mut client, "PUT", &with_ids("bad"), "", None);
        assert_eq!(r.status, 405, "PUT {pattern}: {}", r.text());
        // No token: 401 before a body over the cap and before a bad path id (public
        // routes have no 401, so their oversized body is 413).
        let big = declared_only(method, &with_ids("bad"), "", 6 * 1024 * 1024);
        let r = common::raw::once(addr, &big).unwrap().expect("an answer");
        let first = if auth == Auth::Public { 413 } else { 401 };
        assert_eq!(
            r.status,
            first,
            "{method} {pattern} unauthenticated: {}",
            r.text()
        );
        if auth == Auth::Public {
            continue;
        }
        // A token: 413 before a bad path id — the body is refused without being sent.
        let big = declared_only(method, &with_ids("bad"), token, 6 * 1024 * 1024);
        let r = common::raw::once(addr, &big).unwrap().expect("an answer");
        assert_eq!(r.status, 413, "{method} {pattern} oversized: {}", r.text());
        assert!(r.is_error_json());
        // A bad path id before a broken body.
        let broken = Some(b"{nope".as_slice());
        if has_path_id {
            let r = send_bytes(&mut client, method, &with_ids("bad"), token, broken);
            assert_eq!(
                (r.status, code(&r)),
                (400, "invalid_id".into()),
                "{method} {pattern}: {}",
                r.text()
            );
        }
        // A broken body before an unknown object: writes that take a body say invalid_json,
        // everything else finds no such object.
        let r = send_bytes(&mut client, method, &with_ids(&unknown), token, broken);
        let got = (r.status, code(&r));
        let (invalid_json, not_found) = ((400, "invalid_json".into()), (404, "not_found".into()));
        if pattern.ends_with("/usage/reconcile") {
            // The one body that is a CSV bill, not JSON.
            assert_eq!(got, (400, "invalid_csv".into()), "{pattern}: {}", r.text());
        } else if scene::takes_body(method, pattern) {
            assert_eq!(got, invalid_json, "{method} {pattern}: {}", r.text());
        } else if pattern.contains('{') {
            // No body in the contract: a broken one may be refused or ignored.
            assert!(
                got == not_found || got == invalid_json,
                "{method} {pattern}: {got:?}"
            );
        }
        assert!(r.status < 500, "{method} {pattern}: {}", r.text());
        checked += 1;
    }
    eprintln!("error order: {checked} authenticated routes checked");
}

/// Objects of a workspace the caller does not belong to are unknown (404) on every route
/// that names one, whatever the caller's role at home: existence is not leaked.
#[test]
fn another_workspaces_objects_are_404_on_every_route_that_names_one() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let callers = Callers::make(&s, &w);
    // The scene lives in the outsider's workspace; acme's owner and owner daemon ask.
    let foreign = Scene::foreign(&s, &w, &callers);
    let mut client = RawClient::new(s.handle().addr());
    let mut checked = 0;
    for row in scene::rows() {
        if !row.pattern.contains('{') || !row.variant.is_empty() {
            continue;
        }
        let token = match row.auth() {
            Auth::Daemon => &w.owner_daemon,
            _ => &w.owner,
        };
        let path = foreign.path(row.pattern);
        let body = (row.body)(&foreign);
        let r = send(&mut client, row.method, &path, token, body.as_ref());
        assert_eq!(
            (r.status, code(&r)),
            (404, "not_found".to_string()),
            "{} {}: {}",
            row.method,
            row.pattern,
            r.text()
        );
        checked += 1;
    }
    // The daemon routes that name runtimes in the body: another workspace's are unknown too.
    let r = send(
        &mut client,
        "POST",
        "/api/daemon/heartbeat",
        &w.owner_daemon,
        Some(&serde_json::json!({"runtime_ids": [foreign.runtime]})),
    );
    assert_eq!(r.json().unwrap()["runtimes"][0]["status"], "gone");
    let r = send(
        &mut client,
        "POST",
        "/api/daemon/deregister",
        &w.owner_daemon,
        Some(&serde_json::json!({"runtime_ids": [foreign.runtime]})),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    eprintln!("cross-workspace: {checked} routes checked");
}

fn assert_every_route_has_a_row(rows: &[Row]) {
    let covered: BTreeSet<(&str, &str)> = rows.iter().map(|r| (r.method, r.pattern)).collect();
    let missing: Vec<String> = all_routes()
        .into_iter()
        .filter(|(m, p, _)| !covered.contains(&(*m, *p)))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    let known: BTreeSet<(&str, &str)> = all_routes().into_iter().map(|(m, p, _)| (m, p)).collect();
    for r in rows {
        assert!(
            known.contains(&(r.method, r.pattern)),
            "no such route: {} {}",
            r.method,
            r.pattern
        );
    }
}

/// Only a creation shows a token: a new user token, a new daemon token, a new user's token.
fn assert_no_token_unless_created(method: &str, pattern: &str, resp: &RawResp) {
    let creation = method == "POST"
        && matches!(
            pattern,
            "/api/tokens" | "/api/workspaces/{ws}/daemon-tokens" | "/api/workspaces/{ws}/members"
        );
    if !creation {
        assert!(
            !resp.text().contains("hgr_"),
            "{method} {pattern} returned a token: {}",
            resp.text()
        );
    }
}

/// `pattern` with every placeholder set to `id`.
fn fill(pattern: &str, id: &str) -> String {
    pattern
        .replace("{ws}", id)
        .replace("{id}", id)
        .replace("{user}", id)
}

fn code(r: &RawResp) -> String {
    r.json()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn send(
    client: &mut RawClient,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> RawResp {
    let bytes = body.map(|b| match b {
        serde_json::Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    });
    send_bytes(client, method, path, token, bytes.as_deref())
}

fn send_bytes(
    client: &mut RawClient,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&[u8]>,
) -> RawResp {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Content-Type", "application/json")];
    if !token.is_empty() {
        headers.push(("Authorization", &auth));
    }
    let bytes = request(method, path.as_bytes(), &headers, body.unwrap_or_default());
    client
        .send(&bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
        .unwrap_or_else(|| panic!("{method} {path}: closed without an answer"))
}

/// Headers declaring a body of `length` bytes, and no body.
fn declared_only(method: &str, path: &str, token: &str, length: usize) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n");
    if !token.is_empty() {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}
