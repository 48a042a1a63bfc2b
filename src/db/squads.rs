//! SQL for `squad` and `squad_member`: a named group of agents with a leader.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squad {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub leader_agent_id: String,
    /// Sorted, without duplicates.
    pub member_agent_ids: Vec<String>,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, workspace_id, name, leader_agent_id, archived_at, created_at, updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Squad> {
    Ok(Squad {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        name: r.get(2)?,
        leader_agent_id: r.get(3)?,
        member_agent_ids: Vec::new(),
        archived_at: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn members_of(c: &Conn, squad_id: &str) -> DbResult<Vec<String>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT agent_id FROM squad_member WHERE squad_id = ?1 ORDER BY agent_id",
    )?;
    let rows = stmt.query_map([squad_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Squad>> {
    let sql = format!("SELECT {COLUMNS} FROM squad WHERE id = ?1");
    let Some(mut squad) = c.raw().query_row(&sql, [id], from_row).optional()? else {
        return Ok(None);
    };
    squad.member_agent_ids = members_of(c, &squad.id)?;
    Ok(Some(squad))
}

/// Squads of a workspace, oldest first; archived ones only when asked for.
pub fn list(c: &Conn, workspace_id: &str, include_archived: bool) -> DbResult<Vec<Squad>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM squad WHERE workspace_id = ?1 AND (?2 OR archived_at IS NULL)
         ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map(params![workspace_id, include_archived], from_row)?;
    let mut squads: Vec<Squad> = rows.collect::<Result<_, _>>()?;
    for s in &mut squads {
        s.member_agent_ids = members_of(c, &s.id)?;
    }
    Ok(squads)
}

pub fn insert(tx: &Tx, s: &Squad) -> DbResult<()> {
    tx.raw().execute(
        &format!("INSERT INTO squad ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            s.id,
            s.workspace_id,
            s.name,
            s.leader_agent_id,
            s.archived_at,
            s.created_at,
            s.updated_at
        ],
    )?;
    insert_members(tx, s)
}

/// Writes every mutable column of `s` and replaces its member list.
pub fn save(tx: &Tx, s: &Squad) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE squad SET name = ?2, leader_agent_id = ?3, archived_at = ?4, updated_at = ?5
         WHERE id = ?1",
        params![s.id, s.name, s.leader_agent_id, s.archived_at, s.updated_at],
    )?;
    tx.raw()
        .execute("DELETE FROM squad_member WHERE squad_id = ?1", [&s.id])?;
    insert_members(tx, s)
}

fn insert_members(tx: &Tx, s: &Squad) -> DbResult<()> {
    let mut stmt = tx
        .raw()
        .prepare_cached("INSERT INTO squad_member (squad_id, agent_id) VALUES (?1, ?2)")?;
    for agent_id in &s.member_agent_ids {
        stmt.execute(params![s.id, agent_id])?;
    }
    Ok(())
}
