//! `/api/workspaces/{ws}/agents` and `/api/agents/{id}`: list, create, get, patch, archive,
//! restore. Parse and validate here; the rules live in `work::agents`.

use serde::Deserialize;

use crate::access::member_role;
use crate::accounts::clean_name;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::ids;
use crate::wire::agent_json;
use crate::work::agents::{self, clean_description, AgentChanges, NewAgent};
use crate::work::visible_agent;

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    runtime_id: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    description: Option<String>,
    runtime_id: Option<String>,
}

/// An id given in a body or query field, or 400 `invalid_id` naming the field.
pub fn field_id(field: &str, raw: &str) -> Result<String, ApiError> {
    ids::parse(raw).ok_or_else(|| ApiError::invalid_id(field))
}

/// An optional id query parameter.
pub fn query_id(req: &Req, name: &str) -> Result<Option<String>, ApiError> {
    req.query(name).map(|raw| field_id(name, raw)).transpose()
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let runtime_id = query_id(req, "runtime_id")?;
    let include_archived = req.query("include_archived") == Some("true");
    let agents = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        Ok::<_, ApiError>(db::agents::list(
            c,
            &ws,
            runtime_id.as_deref(),
            include_archived,
        )?)
    })?;
    Reply::json(agents.iter().map(agent_json).collect::<Vec<_>>())
}

pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: CreateBody = req.body_as(Some(&["name", "runtime_id", "description"]))?;
    let new = NewAgent {
        name: clean_name("name", &body.name)?,
        runtime_id: field_id("runtime_id", &body.runtime_id)?,
        description: clean_description(body.description.as_deref().unwrap_or(""))?,
    };
    let now = ctx.now_ms();
    let agent = ctx.write(|tx| agents::create(tx, &Actor::of(caller), uid, &ws, new, now))?;
    Reply::created(agent_json(&agent))
}

pub fn get(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "agent id")?;
    let (agent, _) = ctx.db.read(|c| visible_agent(c, uid, &id))?;
    Reply::json(agent_json(&agent))
}

pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "agent id")?;
    let body: PatchBody = req.body_as(Some(&["name", "description", "runtime_id"]))?;
    let changes = AgentChanges {
        name: body.name.map(|n| clean_name("name", &n)).transpose()?,
        description: body
            .description
            .map(|d| clean_description(&d))
            .transpose()?,
        runtime_id: body
            .runtime_id
            .map(|r| field_id("runtime_id", &r))
            .transpose()?,
    };
    let now = ctx.now_ms();
    let agent = ctx.write(|tx| agents::update(tx, &Actor::of(caller), uid, &id, changes, now))?;
    Reply::json(agent_json(&agent))
}

pub fn archive(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "agent id")?;
    req.json_object()?;
    let now = ctx.now_ms();
    let agent = ctx.write(|tx| agents::archive(tx, &Actor::of(caller), uid, &id, now))?;
    Reply::json(agent_json(&agent))
}

pub fn restore(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "agent id")?;
    req.json_object()?;
    let now = ctx.now_ms();
    let agent = ctx.write(|tx| agents::restore(tx, &Actor::of(caller), uid, &id, now))?;
    Reply::json(agent_json(&agent))
}
