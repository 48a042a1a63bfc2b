//! Tasks: enqueue and cancel (members), the daemon's claim and lifecycle transitions, and the
//! reconnect-grace rule that fails work stranded on a runtime that stayed offline.

use serde_json::json;

use crate::budgets;
use crate::db::{self, agents::Agent, tasks::Task, Conn, DbError, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;
use crate::registry;
use crate::wire::task_json;
use crate::work::{agents::archived, require_may_enqueue, visible_agent};

/// The statuses in which a task still occupies its agent.
pub const ACTIVE: [&str; 3] = ["queued", "dispatched", "running"];

/// Every status a task can have, for validating list filters.
pub const STATUSES: [&str; 6] = [
    "queued",
    "dispatched",
    "running",
    "completed",
    "failed",
    "cancelled",
];

/// A daemon's report about a task it was given.
pub enum Transition {
    Start,
    Complete { output: Option<String> },
    Fail { error: String },
}

/// A member gives the agent a prompt: a `queued` task on the agent's current runtime.
pub fn enqueue(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    agent_id: &str,
    prompt: &str,
    now: i64,
) -> Result<Task, ApiError> {
    let (agent, role) = visible_agent(tx, user_id, agent_id)?;
    require_may_enqueue(tx, role, user_id, &agent)?;
    if agent.archived_at.is_some() {
        return Err(archived());
    }
    Ok(enqueue_for(tx, actor, &agent, prompt, None, now)?)
}

/// Inserts a queued task for `agent` and appends `task:queued`; shared with the scheduler.
pub fn enqueue_for(
    tx: &Tx,
    actor: &Actor,
    agent: &Agent,
    prompt: &str,
    autopilot_id: Option<&str>,
    now: i64,
) -> Result<Task, DbError> {
    let task = Task {
        id: ids::task_id(now),
        workspace_id: agent.workspace_id.clone(),
        agent_id: agent.id.clone(),
        runtime_id: Some(agent.runtime_id.clone()),
        autopilot_id: autopilot_id.map(str::to_string),
        prompt: prompt.to_string(),
        status: "queued".to_string(),
        error: None,
        output: None,
        created_at: now,
        dispatched_at: None,
        started_at: None,
        completed_at: None,
    };
    db::tasks::insert(tx, &task)?;
    announce(tx, actor, &task, now)?;
    Ok(task)
}

/// A task the caller may see (a member of its workspace); 404 otherwise.
pub fn visible_task(c: &Conn, user_id: &str, task_id: &str) -> Result<Task, ApiError> {
    let task = db::tasks::get(c, task_id)?.ok_or_else(|| ApiError::not_found("task"))?;
    crate::access::member_role(c, &task.workspace_id, user_id, "task")?;
    Ok(task)
}

/// Cancels an active task; those who may enqueue for its agent may cancel.
pub fn cancel(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    task_id: &str,
    now: i64,
) -> Result<Task, ApiError> {
    let mut task = visible_task(tx, user_id, task_id)?;
    let (agent, role) = visible_agent(tx, user_id, &task.agent_id)?;
    require_may_enqueue(tx, role, user_id, &agent)?;
    if !ACTIVE.contains(&task.status.as_str()) {
        return Err(ApiError::conflict(
            "task_not_active",
            format!("the task is already {}", task.status),
        ));
    }
    task.status = "cancelled".to_string();
    task.completed_at = Some(now);
    db::tasks::save(tx, &task)?;
    announce(tx, actor, &task, now)?;
    Ok(task)
}

/// The daemon's claim: a heartbeat, then the oldest queued task of a non-archived agent on
/// the runtime moved to `dispatched` (or `None`). Runs in the caller's write transaction.
pub fn claim(
    tx: &Tx,
    actor: &Actor,
    daemon_user: &str,
    daemon_ws: &str,
    runtime_id: &str,
    now: i64,
) -> Result<Option<Task>, ApiError> {
    let scope = registry::DaemonScope {
        user_id: daemon_user,
        workspace_id: daemon_ws,
    };
    // A claim counts as a heartbeat; a runtime that is not the daemon's is 404.
    if registry::heartbeat_one(tx, scope, runtime_id, actor, now)? == registry::Beat::Gone {
        return Err(ApiError::not_found("runtime"));
    }
    // Tasks a spent `pause_dispatch` budget holds back stay queued.
    let hold = budgets::hold::on_runtime(tx, daemon_ws, runtime_id, now)?;
    if hold.everything {
        return Ok(None);
    }
    let Some(task) = db::tasks::claim_next(tx, runtime_id, &hold.agents, now)? else {
        return Ok(None);
    };
    announce(tx, actor, &task, now)?;
    Ok(Some(task))
}

/// start (dispatched → running), complete (running → completed), fail (dispatched/running →
/// failed) for a task on one of the daemon's runtimes. A cancelled task answers
/// `task_cancelled` so the daemon knows to stop; any other wrong state `invalid_transition`.
pub fn transition(
    tx: &Tx,
    actor: &Actor,
    daemon_user: &str,
    daemon_ws: &str,
    task_id: &str,
    step: Transition,
    now: i64,
) -> Result<Task, ApiError> {
    let mut task = db::tasks::get(tx, task_id)?
        .filter(|t| t.workspace_id == daemon_ws)
        .ok_or_else(|| ApiError::not_found("task"))?;
    // A task whose runtime was deleted (runtime_id null) belongs to no daemon any more.
    let runtime = match task.runtime_id.as_deref() {
        Some(id) => db::runtimes::get(tx, id)?,
        None => None,
    };
    let owned = runtime.is_some_and(|r| r.owner_id.as_deref() == Some(daemon_user));
    if !owned {
        return Err(ApiError::not_found("task"));
    }
    let allowed: &[&str] = match step {
        Transition::Start => &["dispatched"],
        Transition::Complete { .. } => &["running"],
        Transition::Fail { .. } => &["dispatched", "running"],
    };
    if task.status == "cancelled" {
        return Err(ApiError::conflict(
            "task_cancelled",
            "the task was cancelled; stop working on it",
        ));
    }
    if !allowed.contains(&task.status.as_str()) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("a {} task cannot be moved that way", task.status),
        ));
    }
    match step {
        Transition::Start => {
            task.status = "running".to_string();
            task.started_at = Some(now);
        }
        Transition::Complete { output } => {
            task.status = "completed".to_string();
            task.output = output;
            task.completed_at = Some(now);
        }
        Transition::Fail { error } => {
            task.status = "failed".to_string();
            task.error = Some(error);
            task.completed_at = Some(now);
        }
    }
    db::tasks::save(tx, &task)?;
    announce(tx, actor, &task, now)?;
    Ok(task)
}

/// Fails `dispatched`/`running` tasks on runtimes that are offline and were last seen more
/// than `grace_ms` ago, with error `runtime_offline` and a `task:failed` event each (actor
/// system). The liveness sweeper calls it; returns how many tasks failed.
pub fn fail_stranded(tx: &Tx, now: i64, grace_ms: i64) -> Result<usize, DbError> {
    let stranded = db::tasks::stranded(tx, now.saturating_sub(grace_ms))?;
    for mut task in stranded.iter().cloned() {
        task.status = "failed".to_string();
        task.error = Some("runtime_offline".to_string());
        task.completed_at = Some(now);
        db::tasks::save(tx, &task)?;
        announce(tx, &Actor::system(), &task, now)?;
    }
    Ok(stranded.len())
}

/// Appends `task:<status>` with the task as it now is.
fn announce(tx: &Tx, actor: &Actor, task: &Task, now: i64) -> Result<(), DbError> {
    let kind = format!("task:{}", task.status);
    let payload = json!({ "task": task_json(task) });
    events::append(tx, &task.workspace_id, &kind, actor, payload, now)?;
    Ok(())
}
