//! `/api/daemon/register`, `/heartbeat` and `/deregister` (API.md §3), with a daemon token.
//! Daemon endpoints ignore unknown fields so that a newer daemon can talk to an older hangar.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::daemon_of;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::ids;
use crate::registry::{self, DaemonScope, RuntimeSpec, MAX_IDS_PER_CALL};
use crate::wire::runtime_json;

#[derive(Deserialize)]
struct Register {
    daemon_id: String,
    device_info: Option<String>,
    runtimes: Vec<RegisterRuntime>,
}

#[derive(Deserialize)]
struct RegisterRuntime {
    name: String,
    provider: String,
    runtime_mode: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct RuntimeIds {
    runtime_ids: Vec<String>,
}

pub fn register(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (user_id, workspace_id) = daemon_of(caller)?;
    let body: Register = req.body_as(None)?;
    let specs = body
        .runtimes
        .into_iter()
        .map(|r| RuntimeSpec {
            name: r.name,
            provider: r.provider,
            runtime_mode: r.runtime_mode,
            metadata: r.metadata,
        })
        .collect();
    let reg = registry::check_registration(&body.daemon_id, body.device_info.as_deref(), specs)?;
    let scope = DaemonScope {
        user_id,
        workspace_id,
    };
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let runtimes = ctx.write(|tx| registry::register(tx, scope, &reg, &actor, now))?;
    let runtimes: Vec<Value> = runtimes.iter().map(runtime_json).collect();
    Reply::json(json!({ "runtimes": runtimes }))
}

/// `{runtimes:[{id, status}]}`: `online`, or `gone` for ids that are not this daemon's.
/// A malformed id is 400 `invalid_id` for the whole call (nothing written): it cannot be a
/// runtime hangar ever handed out, so the daemon is broken rather than out of date.
pub fn heartbeat(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (user_id, workspace_id) = daemon_of(caller)?;
    let (user_id, workspace_id) = (user_id.to_string(), workspace_id.to_string());
    let ids = runtime_ids(req)?;
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let beating = ids.clone();
    let beats = ctx.write_grouped(move |tx| {
        let scope = DaemonScope {
            user_id: &user_id,
            workspace_id: &workspace_id,
        };
        beating
            .iter()
            .map(|id| registry::heartbeat_one(tx, scope, id, &actor, now))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let runtimes: Vec<Value> = ids
        .iter()
        .zip(beats)
        .map(|(id, beat)| json!({"id": id, "status": beat.as_str()}))
        .collect();
    Reply::json(json!({ "runtimes": runtimes }))
}

/// Marks the daemon's runtimes offline; any id that is not this daemon's → 404, nothing
/// written. Answers `{runtimes:[{id, status:"offline"}]}`.
pub fn deregister(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (user_id, workspace_id) = daemon_of(caller)?;
    let ids = runtime_ids(req)?;
    let scope = DaemonScope {
        user_id,
        workspace_id,
    };
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    ctx.write(|tx| registry::deregister(tx, scope, &ids, &actor, now))?;
    let runtimes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "status": "offline"}))
        .collect();
    Reply::json(json!({ "runtimes": runtimes }))
}

/// The body's `runtime_ids`, each canonical; at most `MAX_IDS_PER_CALL`.
fn runtime_ids(req: &Req) -> Result<Vec<String>, ApiError> {
    let body: RuntimeIds = req.body_as(None)?;
    if body.runtime_ids.len() > MAX_IDS_PER_CALL {
        return Err(ApiError::invalid_field(
            "runtime_ids",
            &format!("must hold at most {MAX_IDS_PER_CALL} ids"),
        ));
    }
    body.runtime_ids
        .iter()
        .map(|id| ids::parse(id).ok_or_else(|| ApiError::invalid_id("runtime id")))
        .collect()
}
