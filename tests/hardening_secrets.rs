//! Secrets and the UI edge: no token ever reaches the log of a real `hangar serve` (even one a
//! client put in a URL), a token is shown once — at creation — and never by a list, a GET, an
//! event or the database; UI responses carry a strict CSP, nosniff, a referrer policy and no
//! framing; and no path, however encoded, gets the asset server outside its embedded files.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use common::raw::{self, RawClient, RawResp};
use common::{TestServer, World};
use hangar::http::router::{all_routes, Auth};

#[test]
fn no_token_reaches_the_log_of_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hangar.db");
    let bin = env!("CARGO_BIN_EXE_hangar");
    let init = Command::new(bin)
        .args(["init", "--db"])
        .arg(&db)
        .output()
        .expect("init");
    assert!(init.status.success());
    let owner = String::from_utf8(init.stdout).unwrap().trim().to_string();
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = Arc::clone(&lines);
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        })
    };
    let addr = wait_for_address(&lines);
    let mut c = RawClient::new(addr);
    let call = |c: &mut RawClient, method: &str, path: &str, token: &str, body: &str| {
        let auth = format!("Bearer {token}");
        let bytes = raw::request(
            method,
            path.as_bytes(),
            &[("Authorization", &auth)],
            body.as_bytes(),
        );
        c.send(&bytes).unwrap().expect("answer")
    };
    let ws = call(&mut c, "GET", "/api/me", &owner, "").json().unwrap()["workspaces"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user_token = call(&mut c, "POST", "/api/tokens", &owner, r#"{"name":"ci"}"#);
    let user_token = user_token.json().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let daemon = call(
        &mut c,
        "POST",
        &format!("/api/workspaces/{ws}/daemon-tokens"),
        &owner,
        r#"{"name":"d"}"#,
    );
    let daemon = daemon.json().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = call(
        &mut c,
        "POST",
        &format!("/api/workspaces/{ws}/members"),
        &owner,
        r#"{"email":"m@x.test","role":"member"}"#,
    );
    assert!(member.json().unwrap()["token"].as_str().is_some());
    let reg = r#"{"daemon_id":"box","runtimes":[{"name":"c","provider":"claude"}]}"#;
    assert_eq!(
        call(&mut c, "POST", "/api/daemon/register", &daemon, reg).status,
        200
    );
    // Mistakes a client might make: tokens in the path or the query, wrong and unknown tokens.
    for (path, token) in [
        (format!("/api/tokens/{user_token}"), owner.as_str()),
        (format!("/api/me?token={user_token}"), user_token.as_str()),
        (format!("/{daemon}"), ""),
        ("/api/me".to_string(), daemon.as_str()),
        ("/api/daemon/register".to_string(), user_token.as_str()),
        ("/api/me".to_string(), "hgr_u_0000"),
    ] {
        let r = call(&mut c, "GET", &path, token, "");
        assert!(r.status < 500, "{path}: {}", r.text());
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("serve exits");
    assert!(status.success(), "serve exited with {status}");
    reader.join().unwrap();
    let lines = lines.lock().unwrap();
    let access = lines.iter().filter(|l| l.contains(" access]")).count();
    assert!(access >= 10, "the access log was captured: {lines:#?}");
    let trouble: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("panicked") || l.contains("ERROR"))
        .collect();
    assert!(trouble.is_empty(), "{trouble:#?}");
    let leaks: Vec<&String> = lines.iter().filter(|l| l.contains("hgr_")).collect();
    assert!(leaks.is_empty(), "tokens in the log: {leaks:#?}");
    eprintln!(
        "{} log lines ({access} access lines), no token",
        lines.len()
    );
}

#[test]
fn a_token_is_shown_once_and_stored_only_as_a_hash() {
    let s = TestServer::start();
    let w = World::seed(&s);
    let created = s
        .post("/api/tokens", &w.member, json!({"name": "laptop"}))
        .expect(201);
    assert!(created.body["token"]
        .as_str()
        .unwrap()
        .starts_with("hgr_u_"));
    let runtime = s.register_runtime(&w.member_daemon, "box", "claude");
    let agent = s.create_agent(&w.member, &runtime, "a");
    let task = s.enqueue(&w.member, &agent, "p");
    // Every GET route, as every user, with real ids: no answer carries a token (theirs, the
    // new one, anyone's).
    let mut client = RawClient::new(s.handle().addr());
    let mut answers = 0;
    for (method, pattern, auth) in all_routes() {
        if method != "GET" || pattern.ends_with("/stream") {
            continue;
        }
        let path = pattern
            .replace("{ws}", &s.ws)
            .replace("/runtimes/{id}", &format!("/runtimes/{runtime}"))
            .replace("/agents/{id}", &format!("/agents/{agent}"))
            .replace("/tasks/{id}", &format!("/tasks/{task}"));
        for token in [&w.owner, &w.admin, &w.member, &w.outsider] {
            let token = if auth == Auth::Public {
                ""
            } else {
                token.as_str()
            };
            let r = get(&mut client, &path, token);
            assert!(!r.text().contains("hgr_"), "GET {path}: {}", r.text());
            answers += 1;
        }
    }
    assert!(answers > 60);
    // The lists show what a token is, never its secret.
    let mine = s.get("/api/tokens", &w.member).expect(200);
    assert!(mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "laptop"));
    assert!(mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("token").is_none()));
    // The database holds hashes only: no text anywhere contains a token.
    let c = s.sql();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let width = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..width {
                if let Ok(text) = row.get::<_, String>(i) {
                    assert!(!text.contains("hgr_"), "{table} holds a token: {text}");
                }
            }
        }
    }
}

#[test]
fn ui_answers_carry_the_security_headers() {
    let s = TestServer::start();
    let mut client = RawClient::new(s.handle().addr());
    for path in [
        "/",
        "/index.html",
        "/runtimes/abc",
        "/settings/tokens?x=1",
        "/nope.js",
    ] {
        let r = get(&mut client, path, "");
        assert_eq!(r.status, 200, "{path}");
        let csp = r.header("Content-Security-Policy").expect("CSP");
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with(name))
                .unwrap_or_else(|| panic!("{path}: no {name} in {csp}"))
                .to_string()
        };
        let scripts = directive("script-src");
        assert!(
            !scripts.contains("unsafe-inline") && !scripts.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(!scripts.contains('*') && !scripts.contains("http"), "{csp}");
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert!(directive("default-src").contains("'self'"));
        assert_eq!(
            r.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"), "{path}");
        assert_eq!(r.header("X-Frame-Options"), Some("DENY"), "{path}");
        // No inline script in the page itself, or the policy would break it.
        let html = r.text();
        if r.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
        {
            for tag in html.split("<script").skip(1) {
                let open = &tag[..tag.find('>').unwrap_or(tag.len())];
                assert!(
                    open.contains("src="),
                    "{path}: an inline <script>: {tag:.80}"
                );
            }
        }
    }
}

#[test]
fn no_path_leaves_the_embedded_assets() {
    let s = TestServer::start();
    let addr = s.handle().addr();
    let index = get(&mut RawClient::new(addr), "/index.html", "").body;
    let paths: &[&[u8]] = &[
        b"/../Cargo.toml",
        b"/../../../../../../etc/passwd",
        b"/..%2fCargo.toml",
        b"/..%2FCargo.toml",
        b"/%2e%2e/Cargo.toml",
        b"/%2e%2e%2fCargo.toml",
        b"/.%2e/.%2e/etc/passwd",
        b"/..%252fCargo.toml",
        b"/assets/../../Cargo.toml",
        b"/assets/..%5c..%5cCargo.toml",
        b"/..\\Cargo.toml",
        b"/\\..\\..\\etc\\passwd",
        b"//etc/passwd",
        b"/%2F%2Fetc%2Fpasswd",
        b"/./Cargo.toml",
        b"/Cargo.toml",
        b"/src/main.rs",
        b"/.git/config",
        b"/index.html/../../Cargo.toml",
        b"/index.html%00.js",
        b"http://hangar.test/../Cargo.toml",
        b"http://hangar.test/%2e%2e/Cargo.toml",
        b"/%c0%ae%c0%ae/Cargo.toml",
        b"/\xc0\xae\xc0\xae/Cargo.toml",
    ];
    let mut answered = 0;
    for path in paths {
        let bytes = raw::request("GET", path, &[], b"");
        let shown = String::from_utf8_lossy(path);
        match raw::once(addr, &bytes).expect("no transport error") {
            // tiny_http closes a connection whose request line is not ASCII.
            None => assert!(!path.is_ascii(), "{shown}: closed without an answer"),
            Some(r) => {
                answered += 1;
                let text = r.text();
                for secret in [
                    "[package]",
                    "root:",
                    "fn main",
                    "[core]",
                    "repositoryformatversion",
                ] {
                    assert!(!text.contains(secret), "{shown} served a file: {text:.200}");
                }
                assert!(
                    r.body == index || (400..500).contains(&r.status),
                    "{shown}: {} {text:.200}",
                    r.status
                );
            }
        }
    }
    assert!(answered >= paths.len() - 1);
}

fn get(client: &mut RawClient, path: &str, token: &str) -> RawResp {
    let auth = format!("Bearer {token}");
    let headers: Vec<(&str, &str)> = if token.is_empty() {
        Vec::new()
    } else {
        vec![("Authorization", &auth)]
    };
    let bytes = raw::request("GET", path.as_bytes(), &headers, b"");
    client.send(&bytes).unwrap().expect("answer")
}

fn wait_for_address(lines: &Mutex<Vec<String>>) -> std::net::SocketAddr {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let found = lines.lock().unwrap().iter().find_map(|l| {
            l.strip_prefix("hangar listening on http://")
                .map(str::to_string)
        });
        if let Some(addr) = found {
            return addr.parse().expect("address");
        }
        assert!(
            Instant::now() < until,
            "serve did not start: {:?}",
            lines.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
