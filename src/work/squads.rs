//! Squads: a named group of agents of one workspace, led by an active agent. Any member of
//! the workspace may create, edit and archive them; an archived squad is read-only.

use serde_json::json;

use crate::access::member_role;
use crate::db::{self, agents::Agent, squads::Squad, Conn, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;
use crate::wire::squad_json;

/// Most members a squad may list.
pub const MAX_MEMBERS: usize = 100;

/// A validated create request (member ids canonical, possibly repeated).
pub struct NewSquad {
    pub name: String,
    pub leader_agent_id: String,
    pub member_agent_ids: Vec<String>,
}

/// A validated patch: `None` leaves a field as it is.
pub struct SquadChanges {
    pub name: Option<String>,
    pub leader_agent_id: Option<String>,
    pub member_agent_ids: Option<Vec<String>>,
}

/// A squad the caller may see; 404 otherwise.
pub fn visible(c: &Conn, user_id: &str, id: &str) -> Result<Squad, ApiError> {
    let squad = db::squads::get(c, id)?.ok_or_else(|| ApiError::not_found("squad"))?;
    member_role(c, &squad.workspace_id, user_id, "squad")?;
    Ok(squad)
}

pub fn create(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    workspace_id: &str,
    new: NewSquad,
    now: i64,
) -> Result<Squad, ApiError> {
    member_role(tx, workspace_id, user_id, "workspace")?;
    let leader = leader_in(tx, workspace_id, &new.leader_agent_id)?;
    let members = members_in(tx, workspace_id, new.member_agent_ids)?;
    require_active_leader(&leader)?;
    let squad = Squad {
        id: ids::new_id(),
        workspace_id: workspace_id.to_string(),
        name: new.name,
        leader_agent_id: leader.id,
        member_agent_ids: members,
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    db::squads::insert(tx, &squad)?;
    announce(tx, "squad:created", actor, &squad, now)?;
    Ok(squad)
}

/// Renames a squad, changes its leader or replaces its member list.
pub fn update(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    id: &str,
    changes: SquadChanges,
    now: i64,
) -> Result<Squad, ApiError> {
    let mut squad = visible(tx, user_id, id)?;
    let leader = match changes.leader_agent_id.as_deref() {
        Some(leader_id) if leader_id != squad.leader_agent_id => {
            Some(leader_in(tx, &squad.workspace_id, leader_id)?)
        }
        _ => None,
    };
    let members = changes
        .member_agent_ids
        .map(|ids| members_in(tx, &squad.workspace_id, ids))
        .transpose()?;
    if squad.archived_at.is_some() {
        return Err(ApiError::conflict(
            "squad_archived",
            "the squad is archived",
        ));
    }
    let before = squad.clone();
    if let Some(leader) = leader {
        require_active_leader(&leader)?;
        squad.leader_agent_id = leader.id;
    }
    if let Some(name) = changes.name {
        squad.name = name;
    }
    if let Some(members) = members {
        squad.member_agent_ids = members;
    }
    if squad == before {
        return Ok(squad);
    }
    squad.updated_at = now;
    db::squads::save(tx, &squad)?;
    announce(tx, "squad:updated", actor, &squad, now)?;
    Ok(squad)
}

pub fn archive(
    tx: &Tx,
    actor: &Actor,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<Squad, ApiError> {
    let mut squad = visible(tx, user_id, id)?;
    if squad.archived_at.is_some() {
        return Err(ApiError::conflict(
            "squad_archived",
            "the squad is already archived",
        ));
    }
    squad.archived_at = Some(now);
    squad.updated_at = now;
    db::squads::save(tx, &squad)?;
    announce(tx, "squad:archived", actor, &squad, now)?;
    Ok(squad)
}

/// The leader named in a body: an agent of the workspace, else 404 naming the field.
fn leader_in(c: &Conn, workspace_id: &str, agent_id: &str) -> Result<Agent, ApiError> {
    db::agents::get(c, agent_id)?
        .filter(|a| a.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("leader_agent_id: agent"))
}

fn require_active_leader(leader: &Agent) -> Result<(), ApiError> {
    if leader.archived_at.is_some() {
        return Err(ApiError::conflict(
            "agent_archived",
            "leader_agent_id: the leader must be an active agent",
        ));
    }
    Ok(())
}

/// Member ids, each an agent of the workspace (else 404 naming the field); sorted, unique.
fn members_in(
    c: &Conn,
    workspace_id: &str,
    mut agent_ids: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    agent_ids.sort();
    agent_ids.dedup();
    for id in &agent_ids {
        let known = db::agents::get(c, id)?.is_some_and(|a| a.workspace_id == workspace_id);
        if !known {
            return Err(ApiError::not_found(&format!(
                "member_agent_ids: agent {id}"
            )));
        }
    }
    Ok(agent_ids)
}

fn announce(tx: &Tx, kind: &str, actor: &Actor, squad: &Squad, now: i64) -> Result<(), ApiError> {
    let payload = json!({ "squad": squad_json(squad) });
    events::append(tx, &squad.workspace_id, kind, actor, payload, now)?;
    Ok(())
}
