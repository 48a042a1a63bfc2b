//! `/api/agents/{id}/tasks` (enqueue), `/api/workspaces/{ws}/tasks` (list, newest first, with
//! keyset paging), `/api/tasks/{id}` (get, with usage) and `/api/tasks/{id}/cancel`.

use serde::Deserialize;
use serde_json::Value;

use crate::access::member_role;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db::{self, tasks::TaskFilter, Conn};
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::agents::query_id;
use crate::http::api::daemon_usage::usage_rows_view;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::wire::task_json;
use crate::work::{check_prompt, tasks};

/// Page size when `limit` is not given, and the largest one served.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Deserialize)]
struct EnqueueBody {
    prompt: String,
}

pub fn enqueue(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let agent_id = req.path_id(2, "agent id")?;
    let body: EnqueueBody = req.body_as(Some(&["prompt"]))?;
    check_prompt("prompt", &body.prompt)?;
    let now = ctx.now_ms();
    let task =
        ctx.write(|tx| tasks::enqueue(tx, &Actor::of(caller), uid, &agent_id, &body.prompt, now))?;
    Reply::created(task_json(&task))
}

pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let agent_id = query_id(req, "agent_id")?;
    let runtime_id = query_id(req, "runtime_id")?;
    let before = query_id(req, "before")?;
    let status = req
        .query("status")
        .map(|s| {
            tasks::STATUSES
                .contains(&s)
                .then(|| s.to_string())
                .ok_or_else(|| ApiError::invalid_field("status", "is not a task status"))
        })
        .transpose()?;
    let limit = parse_limit(req.query("limit"))?;
    let found = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        // The cursor is a task of this workspace; its (created_at, id) is where paging resumes.
        let before = before
            .map(|id| {
                db::tasks::get(c, &id)?
                    .filter(|t| t.workspace_id == ws)
                    .map(|t| (t.created_at, t.id))
                    .ok_or_else(|| ApiError::not_found("task"))
            })
            .transpose()?;
        let filter = TaskFilter {
            workspace_id: ws.clone(),
            agent_id,
            runtime_id,
            status,
            before,
            limit,
        };
        Ok::<_, ApiError>(db::tasks::list(c, &filter)?)
    })?;
    Reply::json(found.iter().map(task_json).collect::<Vec<_>>())
}

pub fn get(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "task id")?;
    let (task, usage) = ctx.db.read(|c| {
        let task = tasks::visible_task(c, uid, &id)?;
        let usage = usage_for_task(c, &task.id)?;
        Ok::<_, ApiError>((task, usage))
    })?;
    let mut body = task_json(&task);
    body["usage"] = Value::Array(usage);
    Reply::json(body)
}

pub fn cancel(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "task id")?;
    req.json_object()?;
    let now = ctx.now_ms();
    let task = ctx.write(|tx| tasks::cancel(tx, &Actor::of(caller), uid, &id, now))?;
    Reply::json(task_json(&task))
}

/// The usage rows shown with a task: its ledger rows, by provider then model.
pub fn usage_for_task(c: &Conn, task_id: &str) -> Result<Vec<Value>, ApiError> {
    let rows = usage_rows_view(db::usage::rows_for_task(c, task_id)?);
    rows.iter()
        .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
        .collect()
}

/// `limit`: a positive whole number, clamped to `MAX_LIMIT`; absent means `DEFAULT_LIMIT`.
fn parse_limit(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<i64>() {
        Ok(n) if digits && n > 0 => Ok(n.min(MAX_LIMIT)),
        // Only digits, yet too large for i64: clamped like any other large value.
        Err(_) if digits => Ok(MAX_LIMIT),
        _ => Err(ApiError::invalid_field(
            "limit",
            "must be a positive whole number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_clamps_and_rejects() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("7")), Ok(7));
        assert_eq!(parse_limit(Some("5000")), Ok(200));
        assert_eq!(parse_limit(Some("99999999999999999999")), Ok(200));
        for bad in ["0", "000", "-1", "+5", "1.5", "x", ""] {
            assert_eq!(
                parse_limit(Some(bad)).map_err(|e| e.code),
                Err("invalid_field".to_string()),
                "{bad}"
            );
        }
    }
}
