//! The work that runs on runtimes: agents, tasks, autopilots and squads (API.md §3–§4).
//! Plain functions over a transaction and an explicit `now`; every change appends its event
//! in the same transaction. This file holds the lookups and permission rules they share.

pub mod agents;
pub mod autopilots;
pub mod squads;
pub mod tasks;

use crate::access::{can_use_runtime, member_role, Role};
use crate::db::{self, agents::Agent, runtimes::Runtime, Conn};
use crate::error::ApiError;

/// Longest accepted prompt, in characters.
pub const MAX_PROMPT_CHARS: usize = 100_000;

/// An agent the caller may see, with the caller's role in its workspace; 404 otherwise.
pub fn visible_agent(c: &Conn, user_id: &str, agent_id: &str) -> Result<(Agent, Role), ApiError> {
    let agent = db::agents::get(c, agent_id)?.ok_or_else(|| ApiError::not_found("agent"))?;
    let role = member_role(c, &agent.workspace_id, user_id, "agent")?;
    Ok((agent, role))
}

/// A runtime of `workspace_id`; one of another workspace is as unknown as a missing one.
pub fn runtime_in(c: &Conn, workspace_id: &str, runtime_id: &str) -> Result<Runtime, ApiError> {
    db::runtimes::get(c, runtime_id)?
        .filter(|r| r.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("runtime"))
}

/// 403 `runtime_not_usable` unless the caller may bind an agent to `runtime`.
pub fn require_usable(role: Role, user_id: &str, runtime: &Runtime) -> Result<(), ApiError> {
    if can_use_runtime(
        role,
        user_id,
        runtime.owner_id.as_deref(),
        &runtime.visibility,
    ) {
        Ok(())
    } else {
        Err(ApiError::forbidden_code(
            "runtime_not_usable",
            "you cannot use this runtime for an agent",
        ))
    }
}

/// 403 unless the caller owns the agent or is an admin (edit, archive, restore).
pub fn require_agent_owner(role: Role, user_id: &str, agent: &Agent) -> Result<(), ApiError> {
    if role.is_admin() || agent.owner_id.as_deref() == Some(user_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden("you can only change your own agents"))
    }
}

/// 403 unless the caller may give the agent work: its owner, an admin, or a member who can
/// use its runtime. Cancelling tasks and writing autopilots follow the same rule.
pub fn require_may_enqueue(
    c: &Conn,
    role: Role,
    user_id: &str,
    agent: &Agent,
) -> Result<(), ApiError> {
    if role.is_admin() || agent.owner_id.as_deref() == Some(user_id) {
        return Ok(());
    }
    let usable = db::runtimes::get(c, &agent.runtime_id)?
        .is_some_and(|r| can_use_runtime(role, user_id, r.owner_id.as_deref(), &r.visibility));
    if usable {
        Ok(())
    } else {
        Err(ApiError::forbidden("you may not give work to this agent"))
    }
}

/// A prompt of 1..=`MAX_PROMPT_CHARS` characters that is not only whitespace.
pub fn check_prompt(field: &str, prompt: &str) -> Result<(), ApiError> {
    if prompt.trim().is_empty() {
        return Err(ApiError::invalid_field(field, "must not be empty"));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(ApiError::invalid_field(
            field,
            &format!("must be at most {MAX_PROMPT_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_non_blank_and_counted_in_characters() {
        let code = |p: &str| check_prompt("prompt", p).err().map(|e| e.code);
        assert_eq!(code("do it"), None);
        assert_eq!(code(&"é".repeat(MAX_PROMPT_CHARS)), None);
        for bad in ["", " \n\t", &"x".repeat(MAX_PROMPT_CHARS + 1)] {
            assert_eq!(code(bad).as_deref(), Some("invalid_field"));
        }
    }
}
