//! Retiring a runtime (API.md §6): the strict delete and the confirmed cascade, sharing one
//! teardown. Deleting a runtime destroys data, so both run entirely inside the caller's
//! write transaction: the checks read the state the teardown then changes, and any error —
//! a guard's 409 or a failing statement — rolls everything back. A concurrent agent create
//! or move onto the runtime therefore lands either before (the checks see it) or after (it
//! finds no runtime). The tasks the teardown announces cancelled are read, on another core,
//! from the state the transaction began from (`db::Before`): the teardown deletes them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::access::{can_edit_runtime, member_role};
use crate::db::agents::Agent;
use crate::db::autopilots::Autopilot;
use crate::db::retire::StartsElsewhere;
use crate::db::tasks::Task;
use crate::db::{self, runtimes::Runtime, Before, Conn, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::usage::window::quarter_start;
use crate::wire::{agent_json, autopilot_json, squad_json, TaskJson};
use crate::work::tasks::ACTIVE;

/// What a teardown did, for the cascade's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    pub agents_archived: usize,
    pub tasks_cancelled: usize,
}

/// Strict delete: refused while the runtime has non-archived agents or while a squad led by
/// one of its agents is live; otherwise the teardown.
pub fn delete_strict(
    tx: &Tx,
    before: Before,
    actor: &Actor,
    user_id: &str,
    runtime_id: &str,
    now: i64,
) -> Result<Retired, ApiError> {
    let runtime = editable_runtime(tx, user_id, runtime_id)?;
    let active = db::agents::list(tx, &runtime.workspace_id, Some(&runtime.id), false)?;
    if !active.is_empty() {
        return Err(ApiError::conflict(
            "runtime_has_active_agents",
            "the runtime still has active agents: archive or move them first",
        )
        .with_extra("active_agents", agents_value(&active)));
    }
    refuse_live_squads(tx, &runtime)?;
    teardown(tx, before, actor, user_id, &runtime, now)
}

/// Confirmed cascade: the caller saw `expected` as the runtime's active agents. If that is
/// still exactly the set (order and duplicates do not matter), archive them and tear down;
/// if not, 409 `runtime_delete_plan_changed` with the current agents.
pub fn archive_agents_and_delete(
    tx: &Tx,
    before: Before,
    actor: &Actor,
    user_id: &str,
    runtime_id: &str,
    expected: &[String],
    now: i64,
) -> Result<Retired, ApiError> {
    let runtime = editable_runtime(tx, user_id, runtime_id)?;
    let active = db::agents::list(tx, &runtime.workspace_id, Some(&runtime.id), false)?;
    let current: BTreeSet<&str> = active.iter().map(|a| a.id.as_str()).collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    if current != expected {
        return Err(ApiError::conflict(
            "runtime_delete_plan_changed",
            "the runtime's active agents changed since the plan was shown: review it and confirm again",
        )
        .with_extra("active_agents", agents_value(&active)));
    }
    refuse_live_squads(tx, &runtime)?;
    teardown(tx, before, actor, user_id, &runtime, now)
}

/// The runtime, if the caller is a member of its workspace (else 404) and may edit it
/// (else 403).
fn editable_runtime(c: &Conn, user_id: &str, runtime_id: &str) -> Result<Runtime, ApiError> {
    let runtime =
        db::runtimes::get(c, runtime_id)?.ok_or_else(|| ApiError::not_found("runtime"))?;
    let role = member_role(c, &runtime.workspace_id, user_id, "runtime")?;
    if !can_edit_runtime(role, user_id, runtime.owner_id.as_deref()) {
        return Err(ApiError::forbidden("you can only delete your own runtimes"));
    }
    Ok(runtime)
}

/// 409 `runtime_has_active_squads` while a non-archived squad is led by any agent of the
/// runtime: deleting the leader would break the squad, so it must be archived first.
fn refuse_live_squads(c: &Conn, runtime: &Runtime) -> Result<(), ApiError> {
    let ids = db::retire::live_squads_led_from(c, &runtime.id)?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut squads = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(squad) = db::squads::get(c, id)? {
            squads.push(squad_json(&squad));
        }
    }
    Err(ApiError::conflict(
        "runtime_has_active_squads",
        "squads led by this runtime's agents are still active: archive them first",
    )
    .with_extra("active_squads", Value::Array(squads)))
}

/// The shared teardown, after the guards passed: cancel active tasks (pinned to the runtime
/// or of its agents being archived), archive the remaining agents (none for the strict
/// delete), pause their autopilots, delete archived squads they lead, delete the agents and
/// their tasks, delete the runtime. Events follow in the contract's order:
/// `task:cancelled`…, `agent:archived`…, `autopilot:paused`…, `daemon:register` delete.
fn teardown(
    tx: &Tx,
    before: Before,
    actor: &Actor,
    user_id: &str,
    runtime: &Runtime,
    now: i64,
) -> Result<Retired, ApiError> {
    let surviving = db::retire::cancel_surviving_tasks(tx, &runtime.id, now)?;
    // What the deletes will take — tens of thousands of tasks to announce on a big runtime,
    // and the starts they counted for other runtimes — is read on another core, from the
    // state before the teardown, while the writes run.
    let (written, read) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| read_before(before, &runtime.id, surviving, now));
        let written = archive_and_delete(tx, user_id, &runtime.id, now);
        let read = reading.join().unwrap_or_else(|_| {
            Err(db::DbError::Other("reading the tasks to delete panicked".into()).into())
        });
        (written, read)
    });
    let (archived, paused) = written?;
    let (payloads, starts_elsewhere) = read?;
    db::retire::uncount_starts(tx, &starts_elsewhere)?;

    let ws = &runtime.workspace_id;
    events::append_payloads(tx, ws, "task:cancelled", actor, &payloads, now)?;
    let agents = archived.iter().map(agent_json);
    events::append_all(tx, ws, "agent:archived", actor, "agent", agents, now)?;
    let autopilots = paused.iter().map(autopilot_json);
    events::append_all(
        tx,
        ws,
        "autopilot:paused",
        actor,
        "autopilot",
        autopilots,
        now,
    )?;
    let payload = json!({ "action": "delete", "runtime_id": runtime.id });
    events::append(tx, ws, "daemon:register", actor, payload, now)?;
    Ok(Retired {
        agents_archived: archived.len(),
        tasks_cancelled: payloads.len(),
    })
}

/// The teardown's writes after the surviving tasks' cancellation: archive the remaining
/// agents, pause their autopilots, delete the archived squads they lead, then their tasks,
/// the agents and the runtime. Returns the agents archived and the autopilots paused.
fn archive_and_delete(
    tx: &Tx,
    user_id: &str,
    runtime_id: &str,
    now: i64,
) -> Result<(Vec<Agent>, Vec<Autopilot>), ApiError> {
    let archived = db::retire::archive_active_agents(tx, runtime_id, user_id, now)?;
    let paused = db::retire::pause_autopilots(tx, runtime_id, now)?;
    db::retire::delete_archived_squads(tx, runtime_id)?;
    db::retire::delete_tasks_of_archived_agents(tx, runtime_id)?;
    db::retire::delete_archived_agents(tx, runtime_id)?;
    if db::retire::delete_runtime(tx, runtime_id)? != 1 {
        return Err(ApiError::not_found("runtime"));
    }
    Ok((archived, paused))
}

/// From the state before the teardown: the `task:cancelled` payloads, oldest task first —
/// the active tasks of the runtime's agents, which the teardown deletes, as they would stand
/// had they been cancelled, and the surviving tasks it cancelled — and the starts that the
/// deleted tasks counted for other runtimes.
fn read_before(
    before: Before,
    runtime_id: &str,
    surviving: Vec<Task>,
    now: i64,
) -> Result<(Vec<String>, Vec<StartsElsewhere>), ApiError> {
    let tasks = before.read(|c| db::retire::tasks_to_account_for(c, runtime_id))?;
    let starts = starts_elsewhere(&tasks, runtime_id);
    let mut cancelled: Vec<Task> = tasks
        .into_iter()
        .filter(|t| ACTIVE.contains(&t.status.as_str()))
        .collect();
    for task in &mut cancelled {
        task.status = "cancelled".to_string();
        task.completed_at = Some(now);
    }
    cancelled.extend(surviving);
    db::tasks::sort_oldest_first(&mut cancelled);
    let payloads = events::payloads("task", cancelled.iter().map(TaskJson::of))?;
    Ok((payloads, starts))
}

/// The starts of `tasks` on runtimes other than `runtime_id`, per runtime and 15-minute bucket.
fn starts_elsewhere(tasks: &[Task], runtime_id: &str) -> Vec<StartsElsewhere> {
    let mut counts: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    for task in tasks {
        if let (Some(other), Some(started_at)) = (task.runtime_id.as_deref(), task.started_at) {
            if other != runtime_id {
                *counts
                    .entry((other, quarter_start(started_at)))
                    .or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|((runtime_id, bucket), count)| StartsElsewhere {
            runtime_id: runtime_id.to_string(),
            bucket,
            count,
        })
        .collect()
}

fn agents_value(agents: &[db::agents::Agent]) -> Value {
    Value::Array(agents.iter().map(agent_json).collect())
}
