//! JSON shapes that appear both in API responses and inside event payloads (Runtime, Agent,
//! Task, Autopilot, Squad, Budget), defined once so the two never drift. Each is built by hand
//! from a db row: renaming a Rust field must not silently change the contract.

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
    json!({
        "id": t.id,
        "workspace_id": t.workspace_id,
        "agent_id": t.agent_id,
        "runtime_id": t.runtime_id,
        "autopilot_id": t.autopilot_id,
        "prompt": t.prompt,
        "status": t.status,
        "error": t.error,
        "output": t.output,
        "created_at": rfc3339(t.created_at),
        "dispatched_at": t.dispatched_at.map(rfc3339),
        "started_at": t.started_at.map(rfc3339),
        "completed_at": t.completed_at.map(rfc3339),
    })
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
