//! `/api/workspaces/{ws}/autopilots` (list, create) and `/api/autopilots/{id}` (patch,
//! delete). Validation here; the schedule rules live in `work::autopilots`.

use serde::Deserialize;
use serde_json::Number;

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
use crate::wire::autopilot_json;
use crate::work::autopilots::{self, check_interval, check_status, AutopilotChanges, NewAutopilot};
use crate::work::check_prompt;

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    prompt: String,
    assignee_agent_id: String,
    interval_minutes: Number,
    status: Option<String>,
}

#[derive(Deserialize)]
struct PatchBody {
    name: Option<String>,
    prompt: Option<String>,
    interval_minutes: Option<Number>,
    status: Option<String>,
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let found = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        Ok::<_, ApiError>(db::autopilots::list(c, &ws)?)
    })?;
    Reply::json(found.iter().map(autopilot_json).collect::<Vec<_>>())
}

pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: CreateBody = req.body_as(Some(&[
        "name",
        "prompt",
        "assignee_agent_id",
        "interval_minutes",
        "status",
    ]))?;
    check_prompt("prompt", &body.prompt)?;
    let new = NewAutopilot {
        name: clean_name("name", &body.name)?,
        prompt: body.prompt,
        assignee_agent_id: field_id("assignee_agent_id", &body.assignee_agent_id)?,
        interval_minutes: check_interval(&body.interval_minutes)?,
        active: check_status(body.status.as_deref().unwrap_or("active"))?,
    };
    let now = ctx.now_ms();
    let autopilot =
        ctx.write(|tx| autopilots::create(tx, &Actor::of(caller), uid, &ws, new, now))?;
    Reply::created(autopilot_json(&autopilot))
}

pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "autopilot id")?;
    let body: PatchBody = req.body_as(Some(&["name", "prompt", "interval_minutes", "status"]))?;
    if let Some(prompt) = &body.prompt {
        check_prompt("prompt", prompt)?;
    }
    let changes = AutopilotChanges {
        name: body.name.map(|n| clean_name("name", &n)).transpose()?,
        prompt: body.prompt,
        interval_minutes: body
            .interval_minutes
            .as_ref()
            .map(check_interval)
            .transpose()?,
        active: body.status.as_deref().map(check_status).transpose()?,
    };
    let now = ctx.now_ms();
    let autopilot =
        ctx.write(|tx| autopilots::update(tx, &Actor::of(caller), uid, &id, changes, now))?;
    Reply::json(autopilot_json(&autopilot))
}

pub fn delete(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "autopilot id")?;
    let now = ctx.now_ms();
    ctx.write(|tx| autopilots::delete(tx, &Actor::of(caller), uid, &id, now))?;
    Reply::no_content()
}
