//! The access matrix: the callers, the objects each cell acts on (made fresh per cell), and
//! one row per route (some routes have variants) with the status the contract gives each
//! caller. Columns are `CALLERS`, in order.

use serde_json::{json, Value};

use crate::common::{TestServer, World};
use hangar::http::router::{all_routes, Auth};

pub const CALLERS: [&str; 11] = [
    "no token",
    "revoked user token",
    "revoked daemon token",
    "member of another workspace",
    "daemon of another workspace",
    "plain member",
    "plain member's daemon",
    "runtime owner (a member)",
    "runtime owner's daemon",
    "admin",
    "owner",
];

/// A token per column of `CALLERS` ("" = none).
pub struct Callers {
    tokens: [String; 11],
    rowner: String,
    rowner_daemon: String,
    member: String,
    owner: String,
}

impl Callers {
    pub fn make(s: &TestServer, w: &World) -> Callers {
        let (_, rowner) = s.add_member(&s.ws, &w.owner, "rowner@acme.test", "member");
        let rowner_daemon = s.daemon_token(&s.ws, &rowner);
        let outsider_daemon = s.daemon_token(&w.other_ws, &w.outsider);
        let revoked_user = s
            .post("/api/tokens", &w.admin, json!({"name": "gone"}))
            .expect(201);
        s.delete(&format!("/api/tokens/{}", revoked_user.id()), &w.admin)
            .expect(204);
        let revoked_daemon = s
            .post(
                &format!("/api/workspaces/{}/daemon-tokens", s.ws),
                &rowner,
                json!({"name": "gone"}),
            )
            .expect(201);
        s.delete(
            &format!(
                "/api/workspaces/{}/daemon-tokens/{}",
                s.ws,
                revoked_daemon.id()
            ),
            &rowner,
        )
        .expect(204);
        let secret = |r: &crate::common::Resp| r.body["token"].as_str().unwrap().to_string();
        Callers {
            tokens: [
                String::new(),
                secret(&revoked_user),
                secret(&revoked_daemon),
                w.outsider.clone(),
                outsider_daemon,
                w.member.clone(),
                w.member_daemon.clone(),
                rowner.clone(),
                rowner_daemon.clone(),
                w.admin.clone(),
                w.owner.clone(),
            ],
            rowner,
            rowner_daemon,
            member: w.member.clone(),
            owner: w.owner.clone(),
        }
    }

    pub fn token(&self, column: usize) -> &str {
        &self.tokens[column]
    }
}

/// Fresh objects for one cell, owned by the runtime owner (a plain member) in "acme".
pub struct Scene {
    pub tag: String,
    pub ws: String,
    pub daemon_id: String,
    pub runtime: String,
    pub agent: String,
    pub task: String,
    pub autopilot: String,
    pub squad: String,
    /// Set by the rows that need them.
    pub member_target: String,
    pub user_token_id: String,
    pub daemon_token_id: String,
    pub price: String,
    pub budget: String,
}

impl Scene {
    pub fn make(s: &TestServer, c: &Callers, row: &Row) -> Scene {
        let tag = hangar::ids::new_id()[..8].to_string();
        let daemon_id = format!("matrix-{tag}");
        let runtime = s.register_runtime(&c.rowner_daemon, &daemon_id, "claude");
        let agent = s.create_agent(&c.rowner, &runtime, &format!("agent-{tag}"));
        let mut sc = Scene {
            task: s.enqueue(&c.rowner, &agent, "work"),
            autopilot: create(s, &c.rowner, &s.ws, "autopilots", autopilot_body(&agent)),
            squad: create(s, &c.rowner, &s.ws, "squads", squad_body(&tag, &agent)),
            ws: s.ws.clone(),
            tag,
            daemon_id,
            runtime,
            agent,
            member_target: String::new(),
            user_token_id: String::new(),
            daemon_token_id: String::new(),
            price: String::new(),
            budget: String::new(),
        };
        (row.prep)(s, c, &mut sc);
        sc
    }

    /// The same objects in the other workspace, made by its member (the outsider).
    pub fn foreign(s: &TestServer, w: &World, c: &Callers) -> Scene {
        let tag = "foreign".to_string();
        let daemon = c.token(4);
        let runtime = s.register_runtime(daemon, "foreign-daemon", "claude");
        let agent = s
            .post(
                &format!("/api/workspaces/{}/agents", w.other_ws),
                &w.outsider,
                json!({"name": "far", "runtime_id": runtime}),
            )
            .expect(201)
            .id();
        let task = s
            .post(
                &format!("/api/agents/{agent}/tasks"),
                &w.outsider,
                json!({"prompt": "far away"}),
            )
            .expect(201)
            .id();
        let me = s.get("/api/me", &w.outsider).body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = s
            .post("/api/tokens", &w.outsider, json!({"name": "far"}))
            .expect(201)
            .id();
        let daemon_token = s
            .post(
                &format!("/api/workspaces/{}/daemon-tokens", w.other_ws),
                &w.outsider,
                json!({"name": "far"}),
            )
            .expect(201)
            .id();
        Scene {
            price: create(s, &w.outsider, &w.other_ws, "prices", price_body(&tag)),
            budget: create(s, &w.outsider, &w.other_ws, "budgets", budget_body()),
            autopilot: create(
                s,
                &w.outsider,
                &w.other_ws,
                "autopilots",
                autopilot_body(&agent),
            ),
            squad: create(
                s,
                &w.outsider,
                &w.other_ws,
                "squads",
                squad_body(&tag, &agent),
            ),
            ws: w.other_ws.clone(),
            daemon_id: "foreign-daemon".into(),
            tag,
            runtime,
            agent,
            task,
            member_target: me,
            user_token_id: token,
            daemon_token_id: daemon_token,
        }
    }

    /// `pattern` with its placeholders filled from this scene.
    pub fn path(&self, pattern: &str) -> String {
        let id = if pattern.starts_with("/api/tokens/") {
            &self.user_token_id
        } else if pattern.contains("/daemon-tokens/") {
            &self.daemon_token_id
        } else if pattern.contains("/runtimes/{id}") {
            &self.runtime
        } else if pattern.contains("/agents/{id}") {
            &self.agent
        } else if pattern.contains("/tasks/{id}") {
            &self.task
        } else if pattern.contains("/autopilots/{id}") {
            &self.autopilot
        } else if pattern.contains("/prices/{id}") {
            &self.price
        } else if pattern.contains("/budgets/{id}") {
            &self.budget
        } else {
            &self.squad
        };
        pattern
            .replace("{ws}", &self.ws)
            .replace("{user}", &self.member_target)
            .replace("{id}", id)
    }
}

fn create(s: &TestServer, token: &str, ws: &str, what: &str, body: Value) -> String {
    s.post(&format!("/api/workspaces/{ws}/{what}"), token, body)
        .expect(201)
        .id()
}

fn autopilot_body(agent: &str) -> Value {
    json!({"name": "ap", "prompt": "p", "assignee_agent_id": agent, "interval_minutes": 60})
}

/// An override on its own `valid_from` per tag (one model and instant may be stored once).
fn price_body(tag: &str) -> Value {
    let hash = tag
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let minutes = 15 * (hash % 2_000_000);
    let valid_from = chrono::DateTime::from_timestamp(1_700_000_000 - 1_700_000_000 % 900, 0)
        .map(|t| t + chrono::Duration::minutes(minutes as i64))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    json!({"model": "claude-opus-4-5", "input": 1, "output": 2, "cache_read": 0.5,
           "cache_write": 1.25, "valid_from": valid_from})
}

fn budget_body() -> Value {
    json!({"scope": {"type": "workspace"}, "amount_usd": 100, "period": "month"})
}

fn squad_body(tag: &str, agent: &str) -> Value {
    json!({"name": format!("squad-{tag}"), "leader_agent_id": agent})
}

type BodyFn = fn(&Scene) -> Option<Value>;
type PrepFn = fn(&TestServer, &Callers, &mut Scene);

pub struct Row {
    pub method: &'static str,
    pub pattern: &'static str,
    /// Empty for a route's main row; else what this variant changes.
    pub variant: &'static str,
    pub expect: [u16; 11],
    pub body: BodyFn,
    pub prep: PrepFn,
}

impl Row {
    pub fn auth(&self) -> Auth {
        all_routes()
            .into_iter()
            .find(|(m, p, _)| *m == self.method && *p == self.pattern)
            .map_or(Auth::Public, |(_, _, a)| a)
    }
}

/// Whether the contract (API.md) gives the route a body; the others take none (or `{}`).
pub fn takes_body(method: &str, pattern: &str) -> bool {
    let bodiless = matches!(
        pattern,
        "/api/agents/{id}/archive"
            | "/api/agents/{id}/restore"
            | "/api/tasks/{id}/cancel"
            | "/api/squads/{id}/archive"
            | "/api/daemon/runtimes/{id}/claim"
            | "/api/daemon/tasks/{id}/start"
    );
    method != "GET" && method != "DELETE" && !bodiless
}

// --- bodies ---

fn none(_: &Scene) -> Option<Value> {
    None
}
fn named(sc: &Scene) -> Option<Value> {
    Some(json!({"name": format!("n-{}", sc.tag)}))
}
fn new_member(sc: &Scene) -> Option<Value> {
    Some(json!({"email": format!("new-{}@acme.test", sc.tag), "role": "member"}))
}
fn role_admin(_: &Scene) -> Option<Value> {
    Some(json!({"role": "admin"}))
}
fn role_owner(_: &Scene) -> Option<Value> {
    Some(json!({"role": "owner"}))
}
fn public(_: &Scene) -> Option<Value> {
    Some(json!({"visibility": "public"}))
}
fn register(sc: &Scene) -> Option<Value> {
    Some(json!({"daemon_id": sc.daemon_id, "runtimes": [{"name": "n", "provider": "claude"}]}))
}
fn runtime_ids(sc: &Scene) -> Option<Value> {
    Some(json!({"runtime_ids": [sc.runtime]}))
}
fn new_agent(sc: &Scene) -> Option<Value> {
    Some(json!({"name": format!("new-{}", sc.tag), "runtime_id": sc.runtime}))
}
fn describe(_: &Scene) -> Option<Value> {
    Some(json!({"description": "changed"}))
}
fn prompt(_: &Scene) -> Option<Value> {
    Some(json!({"prompt": "more work"}))
}
fn new_autopilot(sc: &Scene) -> Option<Value> {
    Some(autopilot_body(&sc.agent))
}
fn new_squad(sc: &Scene) -> Option<Value> {
    Some(squad_body(&format!("{}-2", sc.tag), &sc.agent))
}
fn output(_: &Scene) -> Option<Value> {
    Some(json!({"output": "done"}))
}
fn error(_: &Scene) -> Option<Value> {
    Some(json!({"error": "boom"}))
}
fn usage(_: &Scene) -> Option<Value> {
    Some(
        json!({"usage": [{"provider": "claude", "model": "claude-opus-4-5",
                           "input_tokens": 10, "output_tokens": 5}]}),
    )
}

fn new_price(sc: &Scene) -> Option<Value> {
    Some(price_body(&sc.tag))
}
fn new_budget(_: &Scene) -> Option<Value> {
    Some(budget_body())
}
fn amount(_: &Scene) -> Option<Value> {
    Some(json!({"amount_usd": 5}))
}
/// A JSON string is sent as raw text: the reconcile route takes a CSV bill.
fn bill(_: &Scene) -> Option<Value> {
    Some(Value::String(
        "date,model,cost_usd\n2026-11-01,claude-opus-4-5,1.00\n".into(),
    ))
}

fn expected_agent(sc: &Scene) -> Option<Value> {
    Some(json!({"expected_active_agent_ids": [sc.agent]}))
}
fn expected_nobody(_: &Scene) -> Option<Value> {
    Some(json!({"expected_active_agent_ids": []}))
}

// --- extra setup per row ---

fn nothing(_: &TestServer, _: &Callers, _: &mut Scene) {}

fn claim(s: &TestServer, c: &Callers, sc: &mut Scene) {
    let path = format!("/api/daemon/runtimes/{}/claim", sc.runtime);
    s.post(&path, &c.rowner_daemon, json!({})).expect(200);
}
fn claim_start(s: &TestServer, c: &Callers, sc: &mut Scene) {
    claim(s, c, sc);
    let path = format!("/api/daemon/tasks/{}/start", sc.task);
    s.post(&path, &c.rowner_daemon, json!({})).expect(200);
}
fn archive_agent(s: &TestServer, c: &Callers, sc: &mut Scene) {
    let path = format!("/api/agents/{}/archive", sc.agent);
    s.post(&path, &c.rowner, json!({})).expect(200);
}
fn archive_squad(s: &TestServer, c: &Callers, sc: &mut Scene) {
    let path = format!("/api/squads/{}/archive", sc.squad);
    s.post(&path, &c.rowner, json!({})).expect(200);
}
fn archive_squad_and_agent(s: &TestServer, c: &Callers, sc: &mut Scene) {
    archive_squad(s, c, sc);
    archive_agent(s, c, sc);
}
fn make_public(s: &TestServer, c: &Callers, sc: &mut Scene) {
    let path = format!("/api/runtimes/{}", sc.runtime);
    s.patch(&path, &c.rowner, json!({"visibility": "public"}))
        .expect(200);
}
fn target_member(s: &TestServer, c: &Callers, sc: &mut Scene) {
    let email = format!("target-{}@acme.test", sc.tag);
    sc.member_target = s.add_member(&sc.ws, &c.owner, &email, "member").0;
}
fn rowner_user_token(s: &TestServer, c: &Callers, sc: &mut Scene) {
    sc.user_token_id = s
        .post("/api/tokens", &c.rowner, json!({"name": "x"}))
        .expect(201)
        .id();
}
fn rowner_daemon_token(s: &TestServer, c: &Callers, sc: &mut Scene) {
    sc.daemon_token_id = daemon_token_of(s, &c.rowner, &sc.ws);
}
fn member_daemon_token(s: &TestServer, c: &Callers, sc: &mut Scene) {
    sc.daemon_token_id = daemon_token_of(s, &c.member, &sc.ws);
}
fn price_of_owner(s: &TestServer, c: &Callers, sc: &mut Scene) {
    sc.price = create(s, &c.owner, &sc.ws, "prices", price_body(&sc.tag));
}
fn budget_of_owner(s: &TestServer, c: &Callers, sc: &mut Scene) {
    sc.budget = create(s, &c.owner, &sc.ws, "budgets", budget_body());
}
fn daemon_token_of(s: &TestServer, token: &str, ws: &str) -> String {
    let path = format!("/api/workspaces/{ws}/daemon-tokens");
    s.post(&path, token, json!({"name": "x"})).expect(201).id()
}

fn row(
    method: &'static str,
    pattern: &'static str,
    variant: &'static str,
    expect: [u16; 11],
    body: BodyFn,
    prep: PrepFn,
) -> Row {
    Row {
        method,
        pattern,
        variant,
        expect,
        body,
        prep,
    }
}

/// Every route, and its expected status per caller. Contract notes:
/// - a user token on a daemon route and a daemon token on a user route are 401 (API.md §0),
///   as are missing and revoked tokens of either kind;
/// - a workspace the caller is not a member of is 404, never 403 (§0); a daemon acts only on
///   runtimes owned by its token's user in its workspace, any other id is 404 (§3);
/// - "admin" rows are owner or admin; the runtime owner is a plain member who owns the cell's
///   runtime, agent, task, autopilot and squad.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    //                 none rvU  rvD  out  outD mem  memD row  rowD adm  own
    const OK: [u16; 11] = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200];
    vec![
        // Operations: public, tokens are not even looked at.
        row("GET", "/healthz", "", OK, none, nothing),
        row("GET", "/metrics", "", OK, none, nothing),

        // Any signed-in user, about themselves (§1).
        row("GET", "/api/me", "",                [401, 401, 401, 200, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("PATCH", "/api/me", "",              [401, 401, 401, 200, 401, 200, 401, 200, 401, 200, 200], named, nothing),
        row("GET", "/api/tokens", "",            [401, 401, 401, 200, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/tokens", "",           [401, 401, 401, 201, 401, 201, 401, 201, 401, 201, 201], named, nothing),
        // Own tokens only: someone else's token is unknown (the runtime owner's here).
        row("DELETE", "/api/tokens/{id}", "",    [401, 401, 401, 404, 401, 404, 401, 204, 401, 404, 404], none, rowner_user_token),
        row("GET", "/api/workspaces", "",        [401, 401, 401, 200, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces", "",       [401, 401, 401, 201, 401, 201, 401, 201, 401, 201, 201], named, nothing),

        // Members: any member reads; admins write; only an owner grants owner (§1).
        row("GET", "/api/workspaces/{ws}/members", "",            [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/members", "",           [401, 401, 401, 404, 401, 403, 401, 403, 401, 201, 201], new_member, nothing),
        row("PATCH", "/api/workspaces/{ws}/members/{user}", "",   [401, 401, 401, 404, 401, 403, 401, 403, 401, 200, 200], role_admin, target_member),
        row("PATCH", "/api/workspaces/{ws}/members/{user}", "grant owner",
                                                                  [401, 401, 401, 404, 401, 403, 401, 403, 401, 403, 200], role_owner, target_member),
        row("DELETE", "/api/workspaces/{ws}/members/{user}", "",  [401, 401, 401, 404, 401, 403, 401, 403, 401, 204, 204], none, target_member),
        // Daemon tokens: members list their own and revoke their own; admins any (§1).
        row("GET", "/api/workspaces/{ws}/daemon-tokens", "",      [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/daemon-tokens", "",     [401, 401, 401, 404, 401, 201, 401, 201, 401, 201, 201], named, nothing),
        row("DELETE", "/api/workspaces/{ws}/daemon-tokens/{id}", "the runtime owner's",
                                                                  [401, 401, 401, 404, 401, 403, 401, 204, 401, 204, 204], none, rowner_daemon_token),
        row("DELETE", "/api/workspaces/{ws}/daemon-tokens/{id}", "the plain member's",
                                                                  [401, 401, 401, 404, 401, 204, 401, 403, 401, 204, 204], none, member_daemon_token),

        // Runtimes: members read; admins or the runtime's owner edit (§2).
        row("GET", "/api/workspaces/{ws}/runtimes", "",           [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}", "",                      [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("PATCH", "/api/runtimes/{id}", "",                    [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], public, nothing),
        // Retiring (§6): admins or the runtime's owner; 404 and 403 come before the 409s
        // (an active agent; an active squad led by one of the runtime's agents; a stale plan).
        row("DELETE", "/api/runtimes/{id}", "",                   [401, 401, 401, 404, 401, 403, 401, 409, 401, 409, 409], none, nothing),
        row("DELETE", "/api/runtimes/{id}", "its agent and squad archived",
                                                                  [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], none, archive_squad_and_agent),
        row("POST", "/api/runtimes/{id}/archive-agents-and-delete", "",
                                                                  [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], expected_agent, archive_squad),
        row("POST", "/api/runtimes/{id}/archive-agents-and-delete", "squad still active",
                                                                  [401, 401, 401, 404, 401, 403, 401, 409, 401, 409, 409], expected_agent, nothing),
        row("POST", "/api/runtimes/{id}/archive-agents-and-delete", "stale plan",
                                                                  [401, 401, 401, 404, 401, 403, 401, 409, 401, 409, 409], expected_nobody, archive_squad),

        // The daemon protocol (§3). Registering the owner's (daemon_id, provider) from
        // another member's daemon is 409 runtime_owned_by_another_user; another workspace
        // registers its own. A heartbeat answers 200 with "gone" for ids that are not the
        // daemon's; deregistering them is 404.
        row("POST", "/api/daemon/register", "",                   [401, 401, 401, 401, 200, 401, 409, 401, 200, 401, 401], register, nothing),
        row("POST", "/api/daemon/heartbeat", "",                  [401, 401, 401, 401, 200, 401, 200, 401, 200, 401, 401], runtime_ids, nothing),
        row("POST", "/api/daemon/deregister", "",                 [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], runtime_ids, nothing),
        row("POST", "/api/daemon/runtimes/{id}/claim", "",        [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], none, nothing),
        row("POST", "/api/daemon/tasks/{id}/start", "",           [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], none, claim),
        row("POST", "/api/daemon/tasks/{id}/complete", "",        [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], output, claim_start),
        row("POST", "/api/daemon/tasks/{id}/fail", "",            [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], error, claim),
        row("POST", "/api/daemon/tasks/{id}/usage", "",           [401, 401, 401, 401, 404, 401, 404, 401, 200, 401, 401], usage, nothing),

        // Events: members of the workspace only (§7).
        row("GET", "/api/workspaces/{ws}/events", "",             [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/events/stream", "",      [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),

        // Agents (§4): creating needs *can use* the runtime (403 runtime_not_usable);
        // editing, archiving and restoring need the agent's owner or an admin.
        row("GET", "/api/workspaces/{ws}/agents", "",             [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/agents", "private runtime",
                                                                  [401, 401, 401, 404, 401, 403, 401, 201, 401, 201, 201], new_agent, nothing),
        row("POST", "/api/workspaces/{ws}/agents", "public runtime",
                                                                  [401, 401, 401, 404, 401, 201, 401, 201, 401, 201, 201], new_agent, make_public),
        row("GET", "/api/agents/{id}", "",                        [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("PATCH", "/api/agents/{id}", "",                      [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], describe, nothing),
        row("POST", "/api/agents/{id}/archive", "",               [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/agents/{id}/restore", "",               [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], none, archive_agent),
        // Tasks: enqueue and cancel need the agent's owner, an admin, or *can use* its runtime.
        row("POST", "/api/agents/{id}/tasks", "private runtime",  [401, 401, 401, 404, 401, 403, 401, 201, 401, 201, 201], prompt, nothing),
        row("POST", "/api/agents/{id}/tasks", "public runtime",   [401, 401, 401, 404, 401, 201, 401, 201, 401, 201, 201], prompt, make_public),
        row("GET", "/api/workspaces/{ws}/tasks", "",              [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/tasks/{id}", "",                         [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/tasks/{id}/cancel", "",                 [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], none, nothing),
        // Autopilots: list for members; writes for those who may enqueue for the assignee.
        row("GET", "/api/workspaces/{ws}/autopilots", "",         [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/autopilots", "",        [401, 401, 401, 404, 401, 403, 401, 201, 401, 201, 201], new_autopilot, nothing),
        row("PATCH", "/api/autopilots/{id}", "",                  [401, 401, 401, 404, 401, 403, 401, 200, 401, 200, 200], named, nothing),
        row("DELETE", "/api/autopilots/{id}", "",                 [401, 401, 401, 404, 401, 403, 401, 204, 401, 204, 204], none, nothing),
        // Squads: any member.
        row("GET", "/api/workspaces/{ws}/squads", "",             [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/squads", "",            [401, 401, 401, 404, 401, 201, 401, 201, 401, 201, 201], new_squad, nothing),
        row("GET", "/api/squads/{id}", "",                        [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("PATCH", "/api/squads/{id}", "",                      [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], named, nothing),
        row("POST", "/api/squads/{id}/archive", "",               [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),

        // Usage reports: any member of the workspace; pricing: any signed-in user (§5).
        row("GET", "/api/pricing", "",                            [401, 401, 401, 200, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}/usage", "",                [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}/usage/by-agent", "",       [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}/usage/by-hour", "",        [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}/usage/tasks", "",          [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/runtimes/{id}/activity", "",             [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/usage/daily", "",        [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/usage/summary", "",      [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/usage/by-runtime", "",   [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/usage/by-agent", "",     [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("GET", "/api/workspaces/{ws}/usage/tasks", "",        [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),

        // The price book: members read and preview, admins change it; reconciling is a read.
        row("GET", "/api/workspaces/{ws}/pricing", "",            [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/prices/preview", "",    [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], new_price, nothing),
        row("POST", "/api/workspaces/{ws}/prices", "",            [401, 401, 401, 404, 401, 403, 401, 403, 401, 201, 201], new_price, nothing),
        row("DELETE", "/api/workspaces/{ws}/prices/{id}", "",     [401, 401, 401, 404, 401, 403, 401, 403, 401, 204, 204], none, price_of_owner),
        row("GET", "/api/workspaces/{ws}/usage/unpriced", "",     [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/usage/reconcile", "",   [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], bill, nothing),

        // Budgets: members read them, admins write them.
        row("GET", "/api/workspaces/{ws}/budgets", "",            [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
        row("POST", "/api/workspaces/{ws}/budgets", "",           [401, 401, 401, 404, 401, 403, 401, 403, 401, 201, 201], new_budget, nothing),
        row("GET", "/api/budgets/{id}", "",                       [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, budget_of_owner),
        row("PATCH", "/api/budgets/{id}", "",                     [401, 401, 401, 404, 401, 403, 401, 403, 401, 200, 200], amount, budget_of_owner),
        row("DELETE", "/api/budgets/{id}", "",                    [401, 401, 401, 404, 401, 403, 401, 403, 401, 204, 204], none, budget_of_owner),
        row("GET", "/api/budgets/{id}/status", "",                [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, budget_of_owner),
        row("GET", "/api/workspaces/{ws}/usage/projection", "",   [401, 401, 401, 404, 401, 200, 401, 200, 401, 200, 200], none, nothing),
    ]
}
