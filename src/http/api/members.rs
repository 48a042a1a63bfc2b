//! `/api/workspaces/{ws}/members`: list, add, change role, remove.

use serde::{Deserialize, Serialize};

use crate::access::{member_role, Role};
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
struct MemberView {
    user_id: String,
    email: String,
    name: String,
    role: String,
    joined_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl MemberView {
    fn from(m: db::members::Member, token: Option<String>) -> MemberView {
        MemberView {
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role,
            joined_at: rfc3339(m.joined_at),
            token,
        }
    }
}

#[derive(Deserialize)]
struct NewMember {
    email: String,
    name: Option<String>,
    role: String,
}

#[derive(Deserialize)]
struct RoleChange {
    role: String,
}

fn parse_role(raw: &str) -> Result<Role, ApiError> {
    Role::parse(raw)
        .ok_or_else(|| ApiError::invalid_field("role", "must be owner, admin or member"))
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let members = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        Ok::<_, ApiError>(db::members::list(c, &ws)?)
    })?;
    Reply::json(
        members
            .into_iter()
            .map(|m| MemberView::from(m, None))
            .collect::<Vec<_>>(),
    )
}

pub fn add(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: NewMember = req.body_as(Some(&["email", "name", "role"]))?;
    let email = accounts::clean_email(&body.email)?;
    let name = body
        .name
        .as_deref()
        .map(|n| accounts::clean_name("name", n))
        .transpose()?;
    let role = parse_role(&body.role)?;
    let now = ctx.now_ms();
    let (member, token) = ctx.write(|tx| {
        let caller_role = member_role(tx, &ws, uid, "workspace")?;
        accounts::add_member(tx, &ws, caller_role, &email, name.as_deref(), role, now)
    })?;
    Reply::created(MemberView::from(member, token))
}

pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let target = req.path_id(4, "user id")?;
    let body: RoleChange = req.body_as(Some(&["role"]))?;
    let role = parse_role(&body.role)?;
    let member = ctx.write(|tx| {
        let caller_role = member_role(tx, &ws, uid, "workspace")?;
        accounts::change_role(tx, &ws, caller_role, &target, role)
    })?;
    Reply::json(MemberView::from(member, None))
}

pub fn remove(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let target = req.path_id(4, "user id")?;
    let now = ctx.now_ms();
    ctx.write(|tx| {
        let caller_role = member_role(tx, &ws, uid, "workspace")?;
        accounts::remove_member(tx, &ws, uid, caller_role, &target, now)
    })?;
    Reply::no_content()
}
