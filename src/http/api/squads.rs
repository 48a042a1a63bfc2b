//! `/api/workspaces/{ws}/squads` (list, create) and `/api/squads/{id}` (get, patch,
//! archive). Any member of the workspace may use them.

use serde::Deserialize;

use crate::access::member_role;
use crate::accounts::clean_name;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::agents::field_id;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::wire::squad_json;
use crate::work::squads::{self, NewSquad, SquadChanges, MAX_MEMBERS};

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    leader_agent_id: String,
    member_agent_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    leader_agent_id: Option<String>,
    member_agent_ids: Option<Vec<String>>,
}

/// Member ids as canonical ids, at most `MAX_MEMBERS` of them.
fn member_ids(raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    if raw.len() > MAX_MEMBERS {
        return Err(ApiError::invalid_field(
            "member_agent_ids",
            &format!("at most {MAX_MEMBERS} members"),
        ));
    }
    raw.iter()
        .map(|id| field_id("member_agent_ids", id))
        .collect()
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let include_archived = req.query("include_archived") == Some("true");
    let found = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        Ok::<_, ApiError>(db::squads::list(c, &ws, include_archived)?)
    })?;
    Reply::json(found.iter().map(squad_json).collect::<Vec<_>>())
}

pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: CreateBody = req.body_as(Some(&["name", "leader_agent_id", "member_agent_ids"]))?;
    let new = NewSquad {
        name: clean_name("name", &body.name)?,
        leader_agent_id: field_id("leader_agent_id", &body.leader_agent_id)?,
        member_agent_ids: member_ids(body.member_agent_ids.unwrap_or_default())?,
    };
    let now = ctx.now_ms();
    let squad = ctx.write(|tx| squads::create(tx, &Actor::of(caller), uid, &ws, new, now))?;
    Reply::created(squad_json(&squad))
}

pub fn get(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "squad id")?;
    let squad = ctx.db.read(|c| squads::visible(c, uid, &id))?;
    Reply::json(squad_json(&squad))
}

pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "squad id")?;
    let body: PatchBody = req.body_as(Some(&["name", "leader_agent_id", "member_agent_ids"]))?;
    let changes = SquadChanges {
        name: body.name.map(|n| clean_name("name", &n)).transpose()?,
        leader_agent_id: body
            .leader_agent_id
            .map(|l| field_id("leader_agent_id", &l))
            .transpose()?,
        member_agent_ids: body.member_agent_ids.map(member_ids).transpose()?,
    };
    let now = ctx.now_ms();
    let squad = ctx.write(|tx| squads::update(tx, &Actor::of(caller), uid, &id, changes, now))?;
    Reply::json(squad_json(&squad))
}

pub fn archive(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "squad id")?;
    req.json_object()?;
    let now = ctx.now_ms();
    let squad = ctx.write(|tx| squads::archive(tx, &Actor::of(caller), uid, &id, now))?;
    Reply::json(squad_json(&squad))
}
