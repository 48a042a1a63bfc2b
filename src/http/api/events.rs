//! `GET /api/workspaces/{ws}/events` (a page of the outbox after a cursor) and
//! `GET /api/workspaces/{ws}/events/stream` (hands the connection to `http::sse`). A cursor
//! at or below what retention has pruned answers 410 `cursor_expired`.

use serde_json::{json, Value};

use crate::access::member_role;
use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db::{self, events::EventRow, Conn};
use crate::error::{ApiError, ErrorKind};
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::{Body, Reply};
use crate::http::sse::StreamSpec;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// `Event` as API.md §7 shows it.
pub fn event_json(e: &EventRow) -> Value {
    json!({
        "id": e.id,
        "workspace_id": e.workspace_id,
        "type": e.event_type,
        "actor_type": e.actor_type,
        "actor_id": e.actor_id,
        "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
        "created_at": rfc3339(e.created_at),
    })
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let after = req
        .query("after")
        .map(|text| parse_cursor("after", text))
        .transpose()?
        .unwrap_or(0);
    let limit = match req.query("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => {
                return Err(ApiError::invalid_field(
                    "limit",
                    "must be a positive integer",
                ))
            }
        },
    };
    let events = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        check_cursor(c, &ws, after)?;
        Ok::<_, ApiError>(db::events::list_after(c, &ws, after, limit)?)
    })?;
    let next_after = events.last().map_or(after, |e| e.id);
    Reply::json(json!({
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "next_after": next_after,
    }))
}

/// Resolves where the stream starts — after `Last-Event-ID` (or `?after=`), else after the
/// newest event now — and lets the HTTP edge move the connection to a stream thread.
pub fn stream(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let Caller::User { user_id, token_id } = caller else {
        return Err(ApiError::unauthorized());
    };
    let ws = req.path_id(2, "workspace id")?;
    let requested = match req.header("last-event-id") {
        Some(text) => Some(parse_cursor("Last-Event-ID", text)?),
        None => req
            .query("after")
            .map(|text| parse_cursor("after", text))
            .transpose()?,
    };
    let after = ctx.db.read(|c| {
        member_role(c, &ws, user_id, "workspace")?;
        match requested {
            Some(after) => check_cursor(c, &ws, after).map(|()| after),
            None => Ok(db::events::last_id(c)?),
        }
    })?;
    Ok(Reply {
        status: 200,
        body: Body::EventStream(StreamSpec {
            workspace_id: ws,
            after,
            user_id: user_id.clone(),
            token_id: token_id.clone(),
        }),
        headers: Vec::new(),
    })
}

/// 410 `cursor_expired` when events after `after` may have been pruned: the cursor is at
/// or below the workspace's pruning mark. `0` (from the start) is never expired.
fn check_cursor(c: &Conn, workspace_id: &str, after: i64) -> Result<(), ApiError> {
    match db::events::pruned_through(c, workspace_id)? {
        Some(mark) if after > 0 && after <= mark => Err(ApiError::new(
            ErrorKind::Gone,
            "cursor_expired",
            "events after this id have been pruned; reload and start again from now",
        )),
        _ => Ok(()),
    }
}

fn parse_cursor(field: &str, text: &str) -> Result<i64, ApiError> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(ApiError::invalid_field(
            field,
            "must be a non-negative integer event id",
        )),
    }
}
