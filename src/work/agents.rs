//! Agents: create on a usable runtime, rename / describe / move, archive (cancelling active
//! tasks and pausing autopilots in the same transaction) and restore.

use serde_json::json;

use crate::db::{self, agents::Agent, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;
use crate::wire::{agent_json, autopilot_json, task_json};
use crate::work::{require_agent_owner, require_usable, runtime_in, visible_agent};

/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// A validated create request.
pub struct NewAgent {
    pub name: String,
    pub runtime_id: String,
    pub description: String,
}

/// A validated patch: `None` leaves a field as it is.
pub struct AgentChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub runtime_id: Option<String>,
}

/// A description of at most `MAX_DESCRIPTION_CHARS`, trimmed.
pub fn clean_description(raw: &str) -> Result<String, ApiError> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid_field(
            "description",
            &format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

pub fn create(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    workspace_id: &str,
    new: NewAgent,
    now: i64,
) -> Result<Agent, ApiError> {
    let role = crate::access::member_role(tx, workspace_id, user_id, "workspace")?;
    let runtime = runtime_in(tx, workspace_id, &new.runtime_id)?;
    require_usable(role, user_id, &runtime)?;
    ensure_name_free(tx, workspace_id, &new.name, None)?;
    let agent = Agent {
        id: ids::new_id(),
        workspace_id: workspace_id.to_string(),
        runtime_id: runtime.id,
        owner_id: Some(user_id.to_string()),
        name: new.name,
        description: new.description,
        archived_at: None,
        archived_by: None,
        created_at: now,
        updated_at: now,
    };
    db::agents::insert(tx, &agent)?;
    announce(tx, "agent:created", actor, &agent, now)?;
    Ok(agent)
}

/// Renames, describes or moves an agent. Moving re-pins its queued tasks; dispatched and
/// running ones finish where they are. A patch that changes nothing writes nothing.
pub fn update(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    agent_id: &str,
    changes: AgentChanges,
    now: i64,
) -> Result<Agent, ApiError> {
    let (mut agent, role) = visible_agent(tx, user_id, agent_id)?;
    let target = match changes.runtime_id.as_deref() {
        Some(id) if id != agent.runtime_id => Some(runtime_in(tx, &agent.workspace_id, id)?),
        _ => None,
    };
    require_agent_owner(role, user_id, &agent)?;
    if let Some(runtime) = &target {
        require_usable(role, user_id, runtime)?;
    }
    if agent.archived_at.is_some() {
        return Err(archived());
    }
    let before = agent.clone();
    if let Some(name) = changes.name {
        if name != agent.name {
            ensure_name_free(tx, &agent.workspace_id, &name, Some(&agent.id))?;
            agent.name = name;
        }
    }
    if let Some(description) = changes.description {
        agent.description = description;
    }
    if let Some(runtime) = target {
        agent.runtime_id = runtime.id;
        db::tasks::repin_queued(tx, &agent.id, &agent.runtime_id)?;
    }
    if agent == before {
        return Ok(agent);
    }
    agent.updated_at = now;
    db::agents::save(tx, &agent)?;
    announce(tx, "agent:updated", actor, &agent, now)?;
    Ok(agent)
}

/// Archives an agent: cancels its active tasks and pauses its active autopilots, appending
/// `task:cancelled`…, `agent:archived`, then `autopilot:paused`… (the cascade's order).
pub fn archive(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    agent_id: &str,
    now: i64,
) -> Result<Agent, ApiError> {
    let (mut agent, role) = visible_agent(tx, user_id, agent_id)?;
    require_agent_owner(role, user_id, &agent)?;
    if agent.archived_at.is_some() {
        return Err(archived());
    }
    let cancelled = db::tasks::cancel_active_of_agent(tx, &agent.id, now)?;
    agent.archived_at = Some(now);
    agent.archived_by = Some(user_id.to_string());
    agent.updated_at = now;
    db::agents::save(tx, &agent)?;
    let paused = db::autopilots::pause_active_of_agent(tx, &agent.id, now)?;
    for task in &cancelled {
        let payload = json!({ "task": task_json(task) });
        events::append(
            tx,
            &agent.workspace_id,
            "task:cancelled",
            actor,
            payload,
            now,
        )?;
    }
    announce(tx, "agent:archived", actor, &agent, now)?;
    for autopilot in &paused {
        let payload = json!({ "autopilot": autopilot_json(autopilot) });
        events::append(
            tx,
            &agent.workspace_id,
            "autopilot:paused",
            actor,
            payload,
            now,
        )?;
    }
    Ok(agent)
}

/// Brings an archived agent back, unless its name was taken meanwhile. Its autopilots stay
/// paused: re-activating them is a separate, deliberate act.
pub fn restore(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    agent_id: &str,
    now: i64,
) -> Result<Agent, ApiError> {
    let (mut agent, role) = visible_agent(tx, user_id, agent_id)?;
    require_agent_owner(role, user_id, &agent)?;
    if agent.archived_at.is_none() {
        return Err(ApiError::conflict(
            "agent_not_archived",
            "the agent is not archived",
        ));
    }
    ensure_name_free(tx, &agent.workspace_id, &agent.name, Some(&agent.id))?;
    agent.archived_at = None;
    agent.archived_by = None;
    agent.updated_at = now;
    db::agents::save(tx, &agent)?;
    announce(tx, "agent:restored", actor, &agent, now)?;
    Ok(agent)
}

/// 409 `agent_archived`.
pub fn archived() -> ApiError {
    ApiError::conflict("agent_archived", "the agent is archived")
}

fn ensure_name_free(
    tx: &Tx,
    workspace_id: &str,
    name: &str,
    except_id: Option<&str>,
) -> Result<(), ApiError> {
    if db::agents::name_taken(tx, workspace_id, name, except_id)? {
        return Err(ApiError::conflict(
            "agent_name_taken",
            format!("an agent named {name:?} already exists in this workspace"),
        ));
    }
    Ok(())
}

fn announce(tx: &Tx, kind: &str, actor: &Actor, agent: &Agent, now: i64) -> Result<(), ApiError> {
    let payload = json!({ "agent": agent_json(agent) });
    events::append(tx, &agent.workspace_id, kind, actor, payload, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_trimmed_and_at_most_255_characters() {
        assert_eq!(clean_description("  hi ").ok().as_deref(), Some("hi"));
        assert!(clean_description(&"é".repeat(255)).is_ok());
        assert_eq!(
            clean_description(&"x".repeat(256)).err().map(|e| e.code),
            Some("invalid_field".to_string())
        );
    }
}
