//! The daemon's side of a task (daemon token): claim on a runtime, then start, complete or
//! fail. Unknown body fields are ignored so a newer daemon can talk to an older hangar.

use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::daemon_of;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::wire::task_json;
use crate::work::tasks::{self, Transition};

#[derive(Deserialize)]
struct CompleteBody {
    output: Option<String>,
}

#[derive(Deserialize)]
struct FailBody {
    error: String,
}

/// `POST /api/daemon/runtimes/{id}/claim` → 200 `{"task": Task}` or 204.
pub fn claim(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (uid, ws) = daemon_of(caller)?;
    let runtime_id = req.path_id(3, "runtime id")?;
    let now = ctx.now_ms();
    let claimed =
        ctx.write(|tx| tasks::claim(tx, &Actor::of(caller), uid, ws, &runtime_id, now))?;
    match claimed {
        Some(task) => Reply::json(json!({ "task": task_json(&task) })),
        None => Reply::no_content(),
    }
}

pub fn start(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let task_id = req.path_id(3, "task id")?;
    req.json_object()?;
    apply(ctx, caller, &task_id, Transition::Start)
}

pub fn complete(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let task_id = req.path_id(3, "task id")?;
    let body: CompleteBody = req.body_as(None)?;
    let output = body.output;
    apply(ctx, caller, &task_id, Transition::Complete { output })
}

pub fn fail(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let task_id = req.path_id(3, "task id")?;
    let body: FailBody = req.body_as(None)?;
    apply(
        ctx,
        caller,
        &task_id,
        Transition::Fail { error: body.error },
    )
}

/// Runs one lifecycle step in a write transaction and answers the task as it now is.
fn apply(ctx: &Ctx, caller: &Caller, task_id: &str, step: Transition) -> Result<Reply, ApiError> {
    let (uid, ws) = daemon_of(caller)?;
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let task = ctx.write(|tx| tasks::transition(tx, &actor, uid, ws, task_id, step, now))?;
    Reply::json(task_json(&task))
}
