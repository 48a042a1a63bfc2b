//! The fuzz test's requests that are not aimed at a route: UI and asset paths, and bytes that
//! are barely HTTP (invalid request lines and headers, lying lengths, smuggled requests).

use crate::cases::{Case, Framing};
use crate::common::raw::{request, Rng};

/// A non-API path: the UI or the asset server.
pub fn ui_path(rng: &mut Rng) -> Case {
    let paths: &[&[u8]] = &[
        b"/",
        b"/index.html",
        b"/runtimes/x",
        b"/../../etc/passwd",
        b"/%2e%2e/Cargo.toml",
        b"/..%2f..%2fCargo.toml",
        b"/assets/../../src/main.rs",
        b"//etc/passwd",
        b"/%ff%fe",
        b"/\\..\\..\\Cargo.toml",
    ];
    let method = rng.pick(&["GET", "GET", "GET", "POST", "DELETE"]);
    Case {
        bytes: request(method, rng.pick::<&[u8]>(paths), &[], b""),
        framing: Framing::KeepAlive,
        unparseable: false,
        may_show_token: false,
    }
}

/// Bytes that are barely HTTP: tiny_http may refuse them with an empty 400, close the
/// connection, or hand them to hangar, which must then answer them like any other request.
pub fn barely_http(rng: &mut Rng, user_tokens: &[String]) -> Case {
    let token = format!("Bearer {}", rng.pick(user_tokens));
    let me = b"/api/me".as_slice();
    let long = "v".repeat(64 * 1024);
    let many: Vec<(&str, &str)> = (0..500).map(|_| ("X-Many", "1")).collect();
    let bytes: Vec<u8> = match rng.below(20) {
        0 => request("GET", b"/api/\xff\xfe", &[("Authorization", &token)], b""),
        1 => request("GET", b"/api/me\x00", &[("Authorization", &token)], b""),
        2 => request(
            "GET",
            b"http://evil.example/api/me",
            &[("Authorization", &token)],
            b"",
        ),
        3 => b"GET  /api/me  HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        4 => request("GET", me, &[("Authorization", "Bearer \u{e9}\u{e9}")], b""),
        5 => b"GET /api/me HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n".to_vec(),
        6 => b"GET /api/me HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        7 => b"GET /api/me\r\nHost: x\r\n\r\n".to_vec(),
        8 => request(
            "GET",
            me,
            &[("X-Long", &long), ("Authorization", &token)],
            b"",
        ),
        9 => request("GET", me, &many, b""),
        10 => b"POST /api/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}".to_vec(),
        11 => b"POST /api/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}".to_vec(),
        12 => format!(
            "POST /api/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\
             Content-Length: 2\r\nContent-Length: 40\r\n\r\n{{}}"
        )
        .into_bytes(),
        13 => format!(
            "POST /api/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\
             Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
        )
        .into_bytes(),
        14 => format!(
            "POST /api/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\
             Content-Length: 400\r\n\r\n{{\"name\": \"short\"}}"
        )
        .into_bytes(),
        15 => format!(
            "POST /api/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\
             Content-Length: 2\r\n\r\n{{}}GARBAGE / HTTP/1.1\r\n\r\n"
        )
        .into_bytes(),
        16 => b"GET /api/me HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n".to_vec(),
        17 => b"\r\n\r\n".to_vec(),
        18 => b"GET /api/me HTTP/1.1\nHost: x\n\n".to_vec(),
        _ => (0..1 + rng.below(300))
            .map(|_| rng.next_u64() as u8)
            .collect(),
    };
    Case {
        bytes,
        framing: Framing::Alone,
        unparseable: true,
        may_show_token: false,
    }
}
