//! `/api/me`: the signed-in user and their workspaces.

use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;

#[derive(Serialize)]
struct MeView {
    id: String,
    email: String,
    name: String,
    timezone: Option<String>,
    workspaces: Vec<MyWorkspace>,
}

#[derive(Serialize)]
struct MyWorkspace {
    id: String,
    name: String,
    role: String,
}

#[derive(Deserialize)]
struct PatchMe {
    name: Option<String>,
    /// `Some(None)` is an explicit null (clear the zone).
    #[serde(default, deserialize_with = "explicit_null")]
    timezone: Option<Option<String>>,
}

fn explicit_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

pub fn get(ctx: &Ctx, caller: &Caller, _: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    Reply::json(ctx.db.read(|c| me_view(c, uid))?)
}

pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let body: PatchMe = req.body_as(Some(&["name", "timezone"]))?;
    let name = body
        .name
        .as_deref()
        .map(|n| accounts::clean_name("name", n))
        .transpose()?;
    if let Some(Some(zone)) = &body.timezone {
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(ApiError::bad_request(
                "invalid_timezone",
                format!("timezone: {zone:?} is not an IANA time zone name"),
            ));
        }
    }
    let view = ctx.write(|tx| {
        let user = db::users::get(tx, uid)?.ok_or_else(|| ApiError::not_found("user"))?;
        let name = name.unwrap_or(user.name);
        let timezone = body.timezone.clone().unwrap_or(user.timezone);
        db::users::update_profile(tx, uid, &name, timezone.as_deref())?;
        me_view(tx, uid)
    })?;
    Reply::json(view)
}

fn me_view(c: &db::Conn, uid: &str) -> Result<MeView, ApiError> {
    let user = db::users::get(c, uid)?.ok_or_else(|| ApiError::not_found("user"))?;
    let workspaces = db::workspaces::list_for_user(c, uid)?
        .into_iter()
        .map(|(ws, role)| MyWorkspace {
            id: ws.id,
            name: ws.name,
            role,
        })
        .collect();
    Ok(MeView {
        id: user.id,
        email: user.email,
        name: user.name,
        timezone: user.timezone,
        workspaces,
    })
}
