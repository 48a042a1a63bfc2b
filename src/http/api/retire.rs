//! `DELETE /api/runtimes/{id}` (strict) and `POST /api/runtimes/{id}/archive-agents-and-delete`
//! (confirmed cascade), API.md §6. Parse and validate here — path id, then body — and leave
//! every lookup, permission and plan check to `retire`, inside one write transaction.

use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::ids;
use crate::retire;

const EXPECTED_FIELD: &str = "expected_active_agent_ids";

#[derive(Deserialize)]
struct CascadeBody {
    /// Missing or null means "no active agents".
    expected_active_agent_ids: Option<Vec<String>>,
}

pub fn delete_strict(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    req.json_object()?;
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    ctx.write_large(|tx, before| retire::delete_strict(tx, before, &actor, uid, &id, now))?;
    Reply::json(json!({ "status": "ok" }))
}

pub fn archive_agents_and_delete(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let body: CascadeBody = req.body_as(Some(&[EXPECTED_FIELD]))?;
    let expected = body
        .expected_active_agent_ids
        .unwrap_or_default()
        .iter()
        .map(|raw| ids::parse(raw).ok_or_else(|| ApiError::invalid_id(EXPECTED_FIELD)))
        .collect::<Result<Vec<_>, _>>()?;
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let retired = ctx.write_large(|tx, before| {
        retire::archive_agents_and_delete(tx, before, &actor, uid, &id, &expected, now)
    })?;
    Reply::json(json!({
        "status": "ok",
        "agents_archived": retired.agents_archived,
        "tasks_cancelled": retired.tasks_cancelled,
    }))
}
