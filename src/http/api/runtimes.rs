//! `/api/workspaces/{ws}/runtimes` and `/api/runtimes/{id}`: list, read and edit the
//! settings of runtimes (API.md §2). Deleting lives with retirement.

use serde::Deserialize;

use crate::access::member_role;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::registry::{self, SettingsPatch};
use crate::wire::runtime_json;

#[derive(Deserialize)]
struct PatchRuntime {
    visibility: Option<String>,
    timezone: Option<String>,
}

/// All runtimes of the workspace, oldest first; `?owner=me` → only the caller's.
pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let only_mine = match req.query("owner") {
        None => false,
        Some("me") => true,
        Some(_) => return Err(ApiError::invalid_field("owner", "must be \"me\"")),
    };
    let runtimes = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        Ok::<_, ApiError>(db::runtimes::list(c, &ws, only_mine.then_some(uid))?)
    })?;
    Reply::json(runtimes.iter().map(runtime_json).collect::<Vec<_>>())
}

pub fn get(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let (runtime, _) = ctx.db.read(|c| registry::runtime_for_member(c, uid, &id))?;
    Reply::json(runtime_json(&runtime))
}

/// Every field is validated before the transaction that reads and writes the runtime.
pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let body: PatchRuntime = req.body_as(Some(&["visibility", "timezone"]))?;
    let patch = SettingsPatch {
        visibility: body
            .visibility
            .as_deref()
            .map(registry::parse_visibility)
            .transpose()?,
        timezone: body
            .timezone
            .as_deref()
            .map(registry::parse_timezone)
            .transpose()?,
    };
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let runtime = ctx.write(|tx| registry::edit_settings(tx, uid, &id, &patch, &actor, now))?;
    Reply::json(runtime_json(&runtime))
}
