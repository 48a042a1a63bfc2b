//! `/api/workspaces`: list the caller's workspaces, create one.

use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;

#[derive(Serialize)]
pub struct WorkspaceView {
    id: String,
    name: String,
    role: String,
    created_at: String,
}

#[derive(Deserialize)]
struct NewWorkspace {
    name: String,
}

pub fn list(ctx: &Ctx, caller: &Caller, _: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let rows = ctx.db.read(|c| db::workspaces::list_for_user(c, uid))?;
    let views: Vec<WorkspaceView> = rows
        .into_iter()
        .map(|(ws, role)| WorkspaceView {
            id: ws.id,
            name: ws.name,
            role,
            created_at: rfc3339(ws.created_at),
        })
        .collect();
    Reply::json(views)
}

pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let body: NewWorkspace = req.body_as(Some(&["name"]))?;
    let name = accounts::clean_name("name", &body.name)?;
    let now = ctx.now_ms();
    let ws = ctx.write(|tx| accounts::create_workspace(tx, uid, &name, now))?;
    Reply::created(WorkspaceView {
        id: ws.id,
        name: ws.name,
        role: "owner".into(),
        created_at: rfc3339(ws.created_at),
    })
}
