//! `/api/tokens` (a user's own tokens) and `/api/workspaces/{ws}/daemon-tokens`.

use serde::{Deserialize, Serialize};

use crate::access::member_role;
use crate::accounts::{self, IssuedToken};
use crate::auth::{Caller, TokenKind};
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;

/// A token at creation: the only time its secret is shown.
#[derive(Serialize)]
struct CreatedToken {
    id: String,
    name: String,
    token: String,
    created_at: String,
}

impl From<IssuedToken> for CreatedToken {
    fn from(t: IssuedToken) -> CreatedToken {
        CreatedToken {
            id: t.token.id,
            name: t.token.name,
            token: t.secret,
            created_at: rfc3339(t.token.created_at),
        }
    }
}

/// A token in a list: never the secret.
#[derive(Serialize)]
struct TokenView {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
}

impl TokenView {
    fn from(t: db::tokens::Token, with_user: bool) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name,
            user_id: with_user.then_some(t.user_id),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

pub fn create_user_token(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let body: NewToken = req.body_as(Some(&["name"]))?;
    let name = accounts::clean_name("name", &body.name)?;
    let now = ctx.now_ms();
    let issued =
        ctx.write(|tx| accounts::issue_token(tx, TokenKind::User, uid, None, &name, now))?;
    Reply::created(CreatedToken::from(issued))
}

pub fn list_user_tokens(ctx: &Ctx, caller: &Caller, _: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let tokens = ctx.db.read(|c| db::tokens::list_user_tokens(c, uid))?;
    Reply::json(
        tokens
            .into_iter()
            .map(|t| TokenView::from(t, false))
            .collect::<Vec<_>>(),
    )
}

pub fn revoke_user_token(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "token id")?;
    let now = ctx.now_ms();
    ctx.write(|tx| {
        match db::tokens::get(tx, &id)? {
            Some(t) if t.user_id == uid && t.kind == "user" && t.revoked_at.is_none() => {}
            _ => return Err(ApiError::not_found("token")),
        }
        Ok(db::tokens::revoke(tx, &id, now)?)
    })?;
    Reply::no_content()
}

pub fn create_daemon_token(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: NewToken = req.body_as(Some(&["name"]))?;
    let name = accounts::clean_name("name", &body.name)?;
    let now = ctx.now_ms();
    let issued = ctx.write(|tx| {
        member_role(tx, &ws, uid, "workspace")?;
        accounts::issue_token(tx, TokenKind::Daemon, uid, Some(&ws), &name, now)
    })?;
    Reply::created(CreatedToken::from(issued))
}

/// Members see their own daemon tokens; admins see all of the workspace's.
pub fn list_daemon_tokens(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let tokens = ctx.db.read(|c| {
        let role = member_role(c, &ws, uid, "workspace")?;
        let only = (!role.is_admin()).then_some(uid);
        Ok::<_, ApiError>(db::tokens::list_daemon_tokens(c, &ws, only)?)
    })?;
    Reply::json(
        tokens
            .into_iter()
            .map(|t| TokenView::from(t, true))
            .collect::<Vec<_>>(),
    )
}

pub fn revoke_daemon_token(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let id = req.path_id(4, "token id")?;
    let now = ctx.now_ms();
    ctx.write(|tx| {
        let role = member_role(tx, &ws, uid, "workspace")?;
        let token = match db::tokens::get(tx, &id)? {
            Some(t) if t.workspace_id.as_deref() == Some(ws.as_str()) && t.revoked_at.is_none() => {
                t
            }
            _ => return Err(ApiError::not_found("token")),
        };
        if token.user_id != uid && !role.is_admin() {
            return Err(ApiError::forbidden(
                "you can only revoke your own daemon tokens",
            ));
        }
        Ok(db::tokens::revoke(tx, &id, now)?)
    })?;
    Reply::no_content()
}
