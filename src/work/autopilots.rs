//! Autopilots: a prompt given to an agent every `interval_minutes`. The first run is one
//! interval after creation, re-activation or server start; missed runs are not replayed; a
//! run is skipped while the previous one is still active; paused autopilots never fire.

use serde_json::json;

use crate::access::{member_role, Role};
use crate::budgets;
use crate::db::{self, agents::Agent, autopilots::Autopilot, Conn, DbError, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;
use crate::wire::autopilot_json;
use crate::work::{agents::archived, require_may_enqueue, tasks};

pub const MIN_INTERVAL_MINUTES: i64 = 1;
/// One week.
pub const MAX_INTERVAL_MINUTES: i64 = 10_080;

const MINUTE_MS: i64 = 60_000;

/// A validated create request.
pub struct NewAutopilot {
    pub name: String,
    pub prompt: String,
    pub assignee_agent_id: String,
    pub interval_minutes: i64,
    pub active: bool,
}

/// A validated patch: `None` leaves a field as it is.
pub struct AutopilotChanges {
    pub name: Option<String>,
    pub prompt: Option<String>,
    pub interval_minutes: Option<i64>,
    pub active: Option<bool>,
}

/// What one scheduler pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub fired: usize,
    pub skipped: usize,
}

/// `interval_minutes` must be a whole number in 1..=10080.
pub fn check_interval(value: &serde_json::Number) -> Result<i64, ApiError> {
    value
        .as_i64()
        .filter(|m| (MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(m))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "interval_minutes",
                &format!(
                    "must be a whole number from {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}"
                ),
            )
        })
}

/// `status` is `active` or `paused`; returns whether it is active.
pub fn check_status(status: &str) -> Result<bool, ApiError> {
    match status {
        "active" => Ok(true),
        "paused" => Ok(false),
        _ => Err(ApiError::invalid_field(
            "status",
            "must be active or paused",
        )),
    }
}

/// An autopilot the caller may see, with the caller's role; 404 otherwise.
pub fn visible(c: &Conn, user_id: &str, id: &str) -> Result<(Autopilot, Role), ApiError> {
    let autopilot = db::autopilots::get(c, id)?.ok_or_else(|| ApiError::not_found("autopilot"))?;
    let role = member_role(c, &autopilot.workspace_id, user_id, "autopilot")?;
    Ok((autopilot, role))
}

pub fn create(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    workspace_id: &str,
    new: NewAutopilot,
    now: i64,
) -> Result<Autopilot, ApiError> {
    let role = member_role(tx, workspace_id, user_id, "workspace")?;
    let agent = db::agents::get(tx, &new.assignee_agent_id)?
        .filter(|a| a.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("assignee_agent_id: agent"))?;
    require_may_enqueue(tx, role, user_id, &agent)?;
    if agent.archived_at.is_some() {
        return Err(archived());
    }
    let autopilot = Autopilot {
        id: ids::new_id(),
        workspace_id: workspace_id.to_string(),
        assignee_agent_id: agent.id,
        name: new.name,
        prompt: new.prompt,
        interval_minutes: new.interval_minutes,
        status: status_text(new.active),
        next_run_at: new.active.then(|| now + new.interval_minutes * MINUTE_MS),
        created_at: now,
        updated_at: now,
    };
    db::autopilots::insert(tx, &autopilot)?;
    announce(tx, "autopilot:created", actor, &autopilot, now)?;
    Ok(autopilot)
}

/// Edits an autopilot. Pausing clears `next_run_at` (event `autopilot:paused`); activating
/// or changing the interval of an active one schedules the next run one interval from now.
pub fn update(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    id: &str,
    changes: AutopilotChanges,
    now: i64,
) -> Result<Autopilot, ApiError> {
    let (mut autopilot, role) = visible(tx, user_id, id)?;
    let agent = require_writer(tx, role, user_id, &autopilot)?;
    let was_active = autopilot.status == "active";
    let activating = changes.active == Some(true) && !was_active;
    if activating {
        match &agent {
            None => {
                return Err(ApiError::conflict(
                    "assignee_missing",
                    "the autopilot's agent no longer exists",
                ))
            }
            Some(a) if a.archived_at.is_some() => return Err(archived()),
            Some(_) => {}
        }
    }
    let before = autopilot.clone();
    if let Some(name) = changes.name {
        autopilot.name = name;
    }
    if let Some(prompt) = changes.prompt {
        autopilot.prompt = prompt;
    }
    if let Some(minutes) = changes.interval_minutes {
        autopilot.interval_minutes = minutes;
    }
    if let Some(active) = changes.active {
        autopilot.status = status_text(active);
    }
    let active = autopilot.status == "active";
    let interval_changed = autopilot.interval_minutes != before.interval_minutes;
    if !active {
        autopilot.next_run_at = None;
    } else if activating || interval_changed {
        autopilot.next_run_at = Some(now + autopilot.interval_minutes * MINUTE_MS);
    }
    if autopilot == before {
        return Ok(autopilot);
    }
    autopilot.updated_at = now;
    db::autopilots::save(tx, &autopilot)?;
    let kind = if was_active && !active {
        "autopilot:paused"
    } else {
        "autopilot:updated"
    };
    announce(tx, kind, actor, &autopilot, now)?;
    Ok(autopilot)
}

pub fn delete(tx: &Tx, actor: &Actor, user_id: &str, id: &str, now: i64) -> Result<(), ApiError> {
    let (autopilot, role) = visible(tx, user_id, id)?;
    require_writer(tx, role, user_id, &autopilot)?;
    db::autopilots::delete(tx, &autopilot.id)?;
    announce(tx, "autopilot:deleted", actor, &autopilot, now)?;
    Ok(())
}

/// One scheduler pass: every due active autopilot enqueues a task for its assignee when that
/// agent is active, no spent `pause_dispatch` budget holds it, and the autopilot's previous
/// task is no longer active; either way its next run is one interval from now (missed runs
/// are not replayed).
pub fn run_due(tx: &Tx, now: i64) -> Result<RunReport, DbError> {
    let mut report = RunReport::default();
    for autopilot in db::autopilots::due(tx, now)? {
        let agent =
            db::agents::get(tx, &autopilot.assignee_agent_id)?.filter(|a| a.archived_at.is_none());
        let busy = db::tasks::autopilot_has_active(tx, &autopilot.id)?;
        // An agent whose spend a `pause_dispatch` budget holds gets no new work.
        let held = match &agent {
            Some(a) => budgets::hold::holds_agent(tx, &a.workspace_id, &a.runtime_id, &a.id, now)?,
            None => false,
        };
        match agent {
            Some(agent) if !busy && !held => {
                tasks::enqueue_for(
                    tx,
                    &Actor::system(),
                    &agent,
                    &autopilot.prompt,
                    Some(&autopilot.id),
                    now,
                )?;
                report.fired += 1;
            }
            _ => report.skipped += 1,
        }
        let next = now + autopilot.interval_minutes * MINUTE_MS;
        db::autopilots::set_next_run(tx, &autopilot.id, next)?;
    }
    Ok(report)
}

/// At server start every active autopilot's first run is one interval away.
pub fn reschedule_after_start(tx: &Tx, now: i64) -> Result<usize, DbError> {
    db::autopilots::reschedule_active(tx, now)
}

/// Writers are those who may enqueue for the assignee; once the agent is gone, admins.
/// Returns the assignee when it still exists.
fn require_writer(
    c: &Conn,
    role: Role,
    user_id: &str,
    autopilot: &Autopilot,
) -> Result<Option<Agent>, ApiError> {
    let agent = db::agents::get(c, &autopilot.assignee_agent_id)?;
    match &agent {
        Some(a) => require_may_enqueue(c, role, user_id, a)?,
        None if role.is_admin() => {}
        None => {
            return Err(ApiError::forbidden(
                "only an admin may change an autopilot whose agent is gone",
            ))
        }
    }
    Ok(agent)
}

fn status_text(active: bool) -> String {
    if active { "active" } else { "paused" }.to_string()
}

fn announce(
    tx: &Tx,
    kind: &str,
    actor: &Actor,
    autopilot: &Autopilot,
    now: i64,
) -> Result<(), ApiError> {
    let payload = json!({ "autopilot": autopilot_json(autopilot) });
    events::append(tx, &autopilot.workspace_id, kind, actor, payload, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_whole_minutes_within_a_week() {
        let check = |text: &str| {
            let n: serde_json::Number = serde_json::from_str(text).unwrap();
            check_interval(&n).ok()
        };
        assert_eq!(check("1"), Some(1));
        assert_eq!(check("10080"), Some(10_080));
        for bad in [
            "0",
            "10081",
            "-1",
            "1.5",
            "5.0",
            "1e3",
            "18446744073709551615",
        ] {
            assert_eq!(check(bad), None, "{bad}");
        }
    }

    #[test]
    fn statuses_are_active_or_paused() {
        assert_eq!(check_status("active").ok(), Some(true));
        assert_eq!(check_status("paused").ok(), Some(false));
        assert!(check_status("Active").is_err() && check_status("").is_err());
    }
}
