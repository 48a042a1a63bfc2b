//! The fuzz test's request generator: real objects to aim at (so requests reach validation
//! and permission checks, not only 404s), and one function that turns a seeded PRNG into a
//! request — a route of `all_routes()` with hostile ids, query, headers and body, a UI path,
//! or bytes tiny_http may not parse at all.

use serde_json::json;

use crate::common::raw::{request, Rng};
use crate::common::{TestServer, World};
use hangar::http::router::{all_routes, Auth};

/// One generated request and what may be said about its answer.
pub struct Case {
    pub bytes: Vec<u8>,
    pub framing: Framing,
    /// tiny_http may refuse it (empty 400) or close the connection unanswered.
    pub unparseable: bool,
    /// A creation route, whose answer carries a new token.
    pub may_show_token: bool,
}

pub enum Framing {
    /// On the thread's keep-alive connection.
    KeepAlive,
    /// On a connection of its own (it may leave the connection out of step).
    Alone,
}

/// Ids and tokens of a seeded workspace.
pub struct Fixtures {
    routes: Vec<(&'static str, &'static str, Auth)>,
    ws: String,
    other_ws: String,
    users: Vec<String>,
    runtimes: Vec<String>,
    agents: Vec<String>,
    tasks: Vec<String>,
    autopilots: Vec<String>,
    squads: Vec<String>,
    token_ids: Vec<String>,
    user_tokens: Vec<String>,
    daemon_tokens: Vec<String>,
    revoked: String,
}

impl Fixtures {
    pub fn make(s: &TestServer, w: &World) -> Fixtures {
        let rt_owner = s.register_runtime(&w.owner_daemon, "fuzz-owner", "claude");
        let rt_member = s.register_runtime(&w.member_daemon, "fuzz-member", "codex");
        let agent = s.create_agent(&w.owner, &rt_owner, "fuzz-agent");
        let queued = s.enqueue(&w.owner, &agent, "stay queued");
        let running = s.enqueue(&w.owner, &agent, "run");
        let claim = format!("/api/daemon/runtimes/{rt_owner}/claim");
        s.post(&claim, &w.owner_daemon, json!({})).expect(200);
        let autopilot = s
            .post(
                &format!("/api/workspaces/{}/autopilots", s.ws),
                &w.owner,
                json!({"name": "ap", "prompt": "p", "assignee_agent_id": agent,
                       "interval_minutes": 60}),
            )
            .expect(201)
            .id();
        let squad = s
            .post(
                &format!("/api/workspaces/{}/squads", s.ws),
                &w.owner,
                json!({"name": "sq", "leader_agent_id": agent}),
            )
            .expect(201)
            .id();
        let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
        let rt_other = s.register_runtime(&outsider_daemon, "fuzz-other", "claude");
        let spare = s
            .post("/api/tokens", &w.member, json!({"name": "spare"}))
            .expect(201);
        let revoked = spare.body["token"].as_str().expect("token").to_string();
        s.delete(&format!("/api/tokens/{}", spare.id()), &w.member)
            .expect(204);
        let spare_user = s
            .post("/api/tokens", &w.admin, json!({"name": "spare"}))
            .expect(201)
            .id();
        let me = |t: &str| s.get("/api/me", t).body["id"].as_str().unwrap().to_string();
        Fixtures {
            routes: all_routes(),
            ws: s.ws.clone(),
            other_ws: w.other_ws.clone(),
            users: vec![w.owner_id.clone(), w.member_id.clone(), me(&w.outsider)],
            runtimes: vec![rt_owner, rt_member, rt_other],
            agents: vec![agent],
            tasks: vec![queued, running],
            autopilots: vec![autopilot],
            squads: vec![squad],
            token_ids: vec![spare_user],
            user_tokens: vec![
                w.owner.clone(),
                w.admin.clone(),
                w.member.clone(),
                w.outsider.clone(),
            ],
            daemon_tokens: vec![
                w.owner_daemon.clone(),
                w.member_daemon.clone(),
                outsider_daemon,
            ],
            revoked,
        }
    }

    /// Real ids that fit a placeholder of `pattern`.
    fn ids_for(&self, pattern: &str, placeholder: &str) -> Vec<String> {
        let family = |name: &str| pattern.contains(name);
        match placeholder {
            "{ws}" => vec![self.ws.clone(), self.other_ws.clone()],
            "{user}" => self.users.clone(),
            _ if family("/runtimes/") => self.runtimes.clone(),
            _ if family("/agents/") => self.agents.clone(),
            _ if family("/tasks/") => self.tasks.clone(),
            _ if family("/autopilots/") => self.autopilots.clone(),
            _ if family("/squads/") => self.squads.clone(),
            _ => self.token_ids.clone(),
        }
    }

    fn any_id(&self, rng: &mut Rng) -> String {
        let all = [
            &self.runtimes,
            &self.agents,
            &self.tasks,
            &self.autopilots,
            &self.squads,
            &self.users,
        ];
        let family: &Vec<String> = rng.pick::<&Vec<String>>(&all);
        rng.pick(family).clone()
    }
}

#[rustfmt::skip]
const BAD_IDS: &[&str] = &[
    "not-a-uuid", "0", "-1", "1e99", "null", "00000000-0000-0000-0000-000000000000", "{id}",
    "%00", "%ff%fe", "..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%C3%A9", "%20",
    "12345678-1234-1234-1234-1234567890abc", "123e4567e89b12d3a456426614174000",
    "{123e4567-e89b-12d3-a456-426614174000}", "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
    "123e4567-e89b-12d3-a456-42661417400g",
];

#[rustfmt::skip]
const ODD_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "get",
    "M-SEARCH",
];

#[rustfmt::skip]
const QUERIES: &[&str] = &[
    "days=-1", "days=0", "days=366", "days=1e99", "days=abc", "days=99999999999999999999999",
    "days=7", "days=", "tz=../../etc/passwd", "tz=%00", "tz=Asia%2FKathmandu", "tz=",
    "tz=Not/AZone", "tz=%ff%fe", "limit=1e99", "limit=-5", "limit=0", "limit=3",
    "limit=99999999999999999999999", "after=-1", "after=abc", "after=99999999999",
    "before=not-a-uuid", "status=bogus", "status=queued", "owner=you", "owner=me", "format=csv",
    "format=xml", "include_archived=maybe", "include_archived=true", "runtime_id=bad",
    "agent_id=%00", "days=1&days=2&days=-3", "tz=UTC&tz=../x", "%", "&&&", "=", "==x", "a=%",
    "%zz=1", "x=%E2%82",
];

#[rustfmt::skip]
const STRINGS: &[&str] = &[
    "", " ", "x", "Olivia", "\\u0000", "\\\"quoted\\\"", "../../etc/passwd",
    "<script>alert(1)</script>", "' OR 1=1 --", "%s%n", "\\ud83d\\ude00", "\\ud800",
    "Europe/London", "UTC", "Asia/Kolkata", "public", "private", "owner", "admin", "member",
    "active", "paused", "claude", "codex", "gpt-5", "claude-opus-4-5", "1e99", "-1", "null",
    "cloud", "local", "2026-11-29T11:30:28.123Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-13-45T99:99:99Z", "a@b.c", "not an email", "é",
];

#[rustfmt::skip]
const NUMBERS: &[&str] = &[
    "0", "-1", "1", "1.5", "-0", "1e308", "1e999", "18446744073709551616", "-9223372036854775809",
    "9223372036854775807", "1000000000000", "1000000000001", "0.0000000001", "0.00000000001",
    "1000000", "1000000.0000000001", "1e-400", "60", "10080", "10081",
    "123456789012345678901234567890",
];

/// Syntactically broken JSON.
#[rustfmt::skip]
const BROKEN: &[&str] = &[
    "{", "}", "{,}", "{\"a\":}", "{'a':1}", "{\"a\":1}{\"b\":2}", "{\"a\":1,}", "[1,]", "NaN",
    "Infinity", "{\"a\": 01}", "{\"a\": .5}", "{\"a\": +1}", "\u{feff}{}", "/* c */ {}",
    "{\"a\": \"\\x41\"}", "{\"a\" 1}", "{\"a\": tru}", "{\"a\": \"open}", "{\"a\": [1, 2}",
    "{\"a\":1} trailing",
];

pub fn case(rng: &mut Rng, f: &Fixtures) -> Case {
    match rng.below(100) {
        0..=4 => protocol_case(rng, f),
        5..=7 => ui_case(rng),
        _ => route_case(rng, f),
    }
}

fn route_case(rng: &mut Rng, f: &Fixtures) -> Case {
    let (route_method, pattern, auth) = *rng.pick(&f.routes);
    let method = if rng.chance(85) {
        route_method
    } else {
        rng.pick(ODD_METHODS)
    };
    let mut path = Vec::new();
    for segment in pattern.split('/').filter(|s| !s.is_empty()) {
        path.push(b'/');
        if segment.starts_with('{') {
            path.extend_from_slice(path_id(rng, f, pattern, segment).as_bytes());
        } else {
            path.extend_from_slice(segment.as_bytes());
        }
    }
    if rng.chance(35) {
        let params: Vec<&str> = (0..1 + rng.below(4)).map(|_| *rng.pick(QUERIES)).collect();
        path.push(b'?');
        path.extend_from_slice(params.join("&").as_bytes());
    }
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(value) = authorization(rng, f, auth) {
        headers.push(("Authorization", value));
    }
    if rng.chance(10) {
        let odd = [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "",
        ];
        headers.push(("Content-Type", rng.pick(&odd).to_string()));
    } else {
        headers.push(("Content-Type", "application/json".into()));
    }
    if rng.chance(3) {
        headers.push(("Last-Event-ID", rng.pick(QUERIES).to_string()));
    }
    if rng.chance(3) {
        headers.push(("Authorization", rng.pick(&f.user_tokens).clone()));
    }
    let writes = method != "GET";
    let body = if writes || rng.chance(10) {
        body(rng, f, pattern)
    } else {
        Vec::new()
    };
    let may_show_token = method == "POST"
        && matches!(
            pattern,
            "/api/tokens" | "/api/workspaces/{ws}/daemon-tokens" | "/api/workspaces/{ws}/members"
        );
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (bytes, framing) = match rng.below(100) {
        0..=2 if !body.is_empty() => (chunked(method, &path, &header_refs, &body), Framing::Alone),
        3..=5 if !body.is_empty() => {
            let mut h = header_refs.clone();
            h.push(("Expect", "100-continue"));
            (request(method, &path, &h, &body), Framing::Alone)
        }
        _ => (
            request(method, &path, &header_refs, &body),
            Framing::KeepAlive,
        ),
    };
    Case {
        bytes,
        framing,
        unparseable: false,
        may_show_token,
    }
}

fn path_id(rng: &mut Rng, f: &Fixtures, pattern: &str, placeholder: &str) -> String {
    match rng.below(100) {
        0..=54 => rng.pick(&f.ids_for(pattern, placeholder)).clone(),
        55..=59 => rng.pick(&f.ids_for(pattern, placeholder)).to_uppercase(),
        60..=69 => hangar::ids::new_id(),
        70..=74 => f.any_id(rng),
        75..=76 => "a".repeat(5000),
        _ => rng.pick(BAD_IDS).to_string(),
    }
}

fn authorization(rng: &mut Rng, f: &Fixtures, auth: Auth) -> Option<String> {
    let right = match auth {
        Auth::Daemon => rng.pick(&f.daemon_tokens).clone(),
        _ => rng.pick(&f.user_tokens).clone(),
    };
    if rng.chance(85) {
        return Some(format!("Bearer {right}"));
    }
    let any_user = rng.pick(&f.user_tokens).clone();
    let any_daemon = rng.pick(&f.daemon_tokens).clone();
    Some(match rng.below(10) {
        0 => return None,
        1 => format!("Bearer {}", f.revoked),
        2 => format!("Bearer {any_daemon}"),
        3 => format!("Bearer {any_user}"),
        4 => format!("bearer {right}"),
        5 => format!("Bearer  {right}  "),
        6 => format!("Bearer {right} extra"),
        7 => "Basic Zm9vOmJhcg==".into(),
        8 => "Bearer hgr_u_0000000000000000000000000000000000000000000000000000000000000000".into(),
        _ => "Bearer".into(),
    })
}

/// The fields a route's body takes, as API.md lists them.
fn fields(pattern: &str) -> &'static [&'static str] {
    match pattern {
        "/api/me" => &["name", "timezone"],
        "/api/tokens" | "/api/workspaces" | "/api/workspaces/{ws}/daemon-tokens" => &["name"],
        "/api/workspaces/{ws}/members" => &["email", "name", "role"],
        "/api/workspaces/{ws}/members/{user}" => &["role"],
        "/api/runtimes/{id}" => &["visibility", "timezone"],
        "/api/runtimes/{id}/archive-agents-and-delete" => &["expected_active_agent_ids"],
        "/api/daemon/register" => &["daemon_id", "device_info", "runtimes"],
        "/api/daemon/heartbeat" | "/api/daemon/deregister" => &["runtime_ids"],
        "/api/workspaces/{ws}/agents" | "/api/agents/{id}" => {
            &["name", "runtime_id", "description"]
        }
        "/api/agents/{id}/tasks" => &["prompt"],
        "/api/workspaces/{ws}/autopilots" | "/api/autopilots/{id}" => &[
            "name",
            "prompt",
            "assignee_agent_id",
            "interval_minutes",
            "status",
        ],
        "/api/workspaces/{ws}/squads" | "/api/squads/{id}" => {
            &["name", "leader_agent_id", "member_agent_ids"]
        }
        "/api/daemon/tasks/{id}/complete" => &["output"],
        "/api/daemon/tasks/{id}/fail" => &["error"],
        "/api/daemon/tasks/{id}/usage" => &["usage"],
        _ => &[],
    }
}

fn body(rng: &mut Rng, f: &Fixtures, pattern: &str) -> Vec<u8> {
    match rng.below(1000) {
        0..=79 => Vec::new(),
        80..=99 => b"  \r\n\t ".to_vec(),
        100..=159 => rng
            .pick(&["[]", "\"x\"", "1", "null", "true", "[{}]"])
            .as_bytes()
            .to_vec(),
        160..=279 => {
            let good = object(rng, f, pattern, 2);
            if rng.chance(50) {
                good.as_bytes()[..rng.below(good.len().max(1))].to_vec()
            } else {
                rng.pick(BROKEN).as_bytes().to_vec()
            }
        }
        280..=339 => {
            let mut good = object(rng, f, pattern, 1).into_bytes();
            let bads: [&[u8]; 4] = [b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\x80"];
            let bad = *rng.pick(&bads);
            let at = good.iter().position(|b| *b == b'"').map_or(0, |p| p + 1);
            good.splice(at..at, bad.iter().copied());
            good
        }
        340..=389 => {
            let depth = *rng.pick(&[64usize, 127, 128, 129, 1000, 100_000]);
            let (open, close) = if rng.chance(50) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }
        390..=439 => (0..1 + rng.below(200))
            .map(|_| rng.next_u64() as u8)
            .collect(),
        440..=443 => {
            // Just under the 1 MiB cap: read and judged on its merits.
            let field = fields(pattern).first().copied().unwrap_or("name");
            let filler = 1024 * 1024 - field.len() - 16;
            format!("{{\"{field}\": \"{}\"}}", "x".repeat(filler)).into_bytes()
        }
        444..=447 => vec![b' '; 1024 * 1024 + 1 + rng.below(100)],
        _ => object(rng, f, pattern, 3).into_bytes(),
    }
}

/// A JSON object with some of the route's fields (and sometimes unknown ones), each given
/// a value that is hostile for its kind or of another type entirely.
fn object(rng: &mut Rng, f: &Fixtures, pattern: &str, depth: usize) -> String {
    let known = fields(pattern);
    let mut members = Vec::new();
    for field in known {
        if rng.chance(70) {
            members.push(format!(
                "\"{field}\": {}",
                field_value(rng, f, field, depth)
            ));
        }
    }
    if known.is_empty() || rng.chance(10) {
        let name = rng.pick(&["x", "id", "workspace_id", "admin", "__proto__", ""]);
        members.push(format!("\"{name}\": {}", any_value(rng, depth)));
    }
    if rng.chance(5) && !members.is_empty() {
        let dup = members[0].clone();
        members.push(dup);
    }
    format!("{{{}}}", members.join(", "))
}

fn field_value(rng: &mut Rng, f: &Fixtures, field: &str, depth: usize) -> String {
    if rng.chance(25) {
        return any_value(rng, depth);
    }
    let id = |rng: &mut Rng| -> String {
        if rng.chance(60) {
            format!("\"{}\"", f.any_id(rng))
        } else {
            format!("\"{}\"", rng.pick(BAD_IDS))
        }
    };
    match field {
        _ if field.ends_with("_ids") => {
            let n = *rng.pick(&[0usize, 1, 2, 33, 200]);
            let ids: Vec<String> = (0..n).map(|_| id(rng)).collect();
            format!("[{}]", ids.join(","))
        }
        _ if field.ends_with("_id") => id(rng),
        "runtimes" => {
            let n = *rng.pick(&[0usize, 1, 2, 33]);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let fields = ["name", "provider", "runtime_mode", "metadata"];
                    some_fields(rng, f, &fields, depth)
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        "usage" => {
            let n = *rng.pick(&[0usize, 1, 2, 101]);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let fields = [
                        "provider",
                        "model",
                        "input_tokens",
                        "output_tokens",
                        "cache_read_tokens",
                        "cache_write_tokens",
                        "cost_usd",
                        "occurred_at",
                    ];
                    some_fields(rng, f, &fields, depth)
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        "metadata" => {
            if rng.chance(10) {
                format!("{{\"big\": \"{}\"}}", "m".repeat(17 * 1024))
            } else {
                any_object(rng, depth)
            }
        }
        _ if field.ends_with("_tokens") || field == "interval_minutes" || field == "cost_usd" => {
            rng.pick(NUMBERS).to_string()
        }
        "prompt" if rng.chance(5) => format!("\"{}\"", "p".repeat(100_001)),
        _ => string(rng),
    }
}

/// An object with about three quarters of `fields`, each with a hostile value.
fn some_fields(rng: &mut Rng, f: &Fixtures, fields: &[&str], depth: usize) -> String {
    let mut parts = Vec::new();
    for k in fields {
        if rng.chance(75) {
            parts.push(format!("\"{k}\": {}", field_value(rng, f, k, depth)));
        }
    }
    format!("{{{}}}", parts.join(","))
}

fn string(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => format!(
            "\"{}\"",
            "a".repeat(*rng.pick(&[199usize, 200, 201, 255, 256, 501]))
        ),
        1 => format!("\"{}\"", "é".repeat(300)),
        _ => format!("\"{}\"", rng.pick(STRINGS)),
    }
}

fn any_value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => string(rng),
        1 => rng.pick(NUMBERS).to_string(),
        2 => rng.pick(&["true", "false"]).to_string(),
        3 | 4 => "null".into(),
        5 => {
            let items: Vec<String> = (0..rng.below(5))
                .map(|_| any_value(rng, depth - 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => any_object(rng, depth.saturating_sub(1)),
    }
}

fn any_object(rng: &mut Rng, depth: usize) -> String {
    let parts: Vec<String> = (0..rng.below(4))
        .map(|i| format!("\"k{i}\": {}", any_value(rng, depth)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The same request with a chunked body instead of Content-Length.
fn chunked(method: &str, path: &[u8], headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut h = headers.to_vec();
    h.push(("Transfer-Encoding", "chunked"));
    let mut out = request(method, path, &h, &[]);
    for piece in body.chunks(700) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A non-API path: the UI or the asset server.
fn ui_case(rng: &mut Rng) -> Case {
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
fn protocol_case(rng: &mut Rng, f: &Fixtures) -> Case {
    let token = format!("Bearer {}", rng.pick(&f.user_tokens));
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
