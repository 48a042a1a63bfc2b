//! JSON shapes that appear both in API responses and inside event payloads (Runtime, Agent,
//! Task, Autopilot, Squad, Budget), defined once so the two never drift. Each is built by hand
//! from a db row: renaming a db field must not silently change the contract.

use serde::Serialize;
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::db::agents::Agent;
use crate::db::autopilots::Autopilot;
use crate::db::budgets::Budget;
use crate::db::runtimes::Runtime;
use crate::db::squads::Squad;
use crate::db::tasks::Task;
use crate::registry;

// ---- Runtime (API.md §2) -------------------------------------------------------------

/// `Runtime` as API.md §2 shows it; `metadata` is an object (`{}` when none).
pub fn runtime_json(rt: &Runtime) -> Value {
    let metadata = serde_json::from_str::<Value>(&rt.metadata)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    json!({
        "id": rt.id,
        "workspace_id": rt.workspace_id,
        "daemon_id": rt.daemon_id,
        "name": rt.name,
        "runtime_mode": rt.runtime_mode,
        "provider": rt.provider,
        "launch_header": registry::launch_header(&rt.provider),
        "status": rt.status,
        "device_info": rt.device_info,
        "metadata": metadata,
        "owner_id": rt.owner_id,
        "visibility": rt.visibility,
        "timezone": rt.timezone,
        "last_seen_at": rt.last_seen_at.map(rfc3339),
        "created_at": rfc3339(rt.created_at),
        "updated_at": rfc3339(rt.updated_at),
    })
}

pub fn agent_json(a: &Agent) -> Value {
    json!({
        "id": a.id,
        "workspace_id": a.workspace_id,
        "runtime_id": a.runtime_id,
        "name": a.name,
        "description": a.description,
        "owner_id": a.owner_id,
        "archived_at": a.archived_at.map(rfc3339),
        "archived_by": a.archived_by,
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
    })
}

pub fn task_json(t: &Task) -> Value {
    json!(TaskJson::of(t))
}

/// `Task` as it goes on the wire, serialisable without building a `Value` first: a retiring
/// runtime announces tens of thousands of tasks. Its field names are the contract's keys,
/// listed in the alphabetical order in which a `Value` prints them, so both spellings of a
/// task are the same bytes.
#[derive(Serialize)]
pub struct TaskJson<'a> {
    agent_id: &'a str,
    autopilot_id: Option<&'a str>,
    completed_at: Option<String>,
    created_at: String,
    dispatched_at: Option<String>,
    error: Option<&'a str>,
    id: &'a str,
    output: Option<&'a str>,
    prompt: &'a str,
    runtime_id: Option<&'a str>,
    started_at: Option<String>,
    status: &'a str,
    workspace_id: &'a str,
}

impl<'a> TaskJson<'a> {
    pub fn of(t: &'a Task) -> TaskJson<'a> {
        TaskJson {
            agent_id: &t.agent_id,
            autopilot_id: t.autopilot_id.as_deref(),
            completed_at: t.completed_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
            dispatched_at: t.dispatched_at.map(rfc3339),
            error: t.error.as_deref(),
            id: &t.id,
            output: t.output.as_deref(),
            prompt: &t.prompt,
            runtime_id: t.runtime_id.as_deref(),
            started_at: t.started_at.map(rfc3339),
            status: &t.status,
            workspace_id: &t.workspace_id,
        }
    }
}

pub fn autopilot_json(a: &Autopilot) -> Value {
    json!({
        "id": a.id,
        "workspace_id": a.workspace_id,
        "assignee_agent_id": a.assignee_agent_id,
        "name": a.name,
        "prompt": a.prompt,
        "interval_minutes": a.interval_minutes,
        "status": a.status,
        "next_run_at": a.next_run_at.map(rfc3339),
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
    })
}

pub fn squad_json(s: &Squad) -> Value {
    json!({
        "id": s.id,
        "workspace_id": s.workspace_id,
        "name": s.name,
        "leader_agent_id": s.leader_agent_id,
        "member_agent_ids": s.member_agent_ids,
        "archived_at": s.archived_at.map(rfc3339),
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    })
}

// ---- Budget (README "Budgets") ----------------------------------------------------------

/// `Budget`: `state` is `paused` while a spent `pause_dispatch` budget holds work back,
/// `exceeded` while a spent `alert` budget's period lasts, else `ok`.
pub fn budget_json(b: &Budget, now: i64) -> Value {
    let spent = b.exceeded_until.is_some_and(|until| until > now);
    let state = match (spent, b.action.as_str()) {
        (false, _) => "ok",
        (true, "pause_dispatch") => "paused",
        (true, _) => "exceeded",
    };
    json!({
        "id": b.id,
        "workspace_id": b.workspace_id,
        "name": b.name,
        "scope": {"type": b.scope_type, "id": b.scope_id},
        // Micro-dollars below 2⁵³ are exact as the float nearest their decimal.
        "amount_usd": b.amount_micros as f64 / 1_000_000.0,
        "period": b.period,
        "timezone": b.timezone,
        "thresholds": b.thresholds,
        "action": b.action,
        "state": state,
        "created_at": rfc3339(b.created_at),
        "updated_at": rfc3339(b.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(finished: bool) -> Task {
        Task {
            id: "t".into(),
            workspace_id: "w".into(),
            agent_id: "a".into(),
            runtime_id: finished.then(|| "r".to_string()),
            autopilot_id: finished.then(|| "p".to_string()),
            prompt: "say \"hi\"\n".into(),
            status: if finished { "failed" } else { "queued" }.into(),
            error: finished.then(|| "exit 1".to_string()),
            output: finished.then(|| "é".to_string()),
            created_at: 1_795_951_828_123,
            dispatched_at: finished.then_some(1_795_951_828_124),
            started_at: finished.then_some(1_795_951_828_125),
            completed_at: finished.then_some(1_795_951_828_126),
        }
    }

    #[test]
    fn a_task_serialised_directly_is_the_same_bytes_as_its_value() {
        for t in [task(false), task(true)] {
            let direct = serde_json::to_string(&TaskJson::of(&t)).unwrap();
            assert_eq!(direct, task_json(&t).to_string());
        }
        let value = task_json(&task(true));
        assert_eq!(value["completed_at"], "2026-11-29T11:30:28.126Z");
        assert_eq!(value.as_object().unwrap().len(), 13);
    }
}
