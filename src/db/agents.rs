//! SQL for `agent`: the named workers bound to a runtime. Names are unique among the
//! non-archived agents of a workspace (a partial unique index backs the domain's check).

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub workspace_id: String,
    pub runtime_id: String,
    pub owner_id: Option<String>,
    pub name: String,
    pub description: String,
    pub archived_at: Option<i64>,
    pub archived_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const COLUMNS: &str = "id, workspace_id, runtime_id, owner_id, name, description, \
     archived_at, archived_by, created_at, updated_at";

pub(super) fn from_row(r: &Row) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        runtime_id: r.get(2)?,
        owner_id: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        archived_at: r.get(6)?,
        archived_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Agent>> {
    let sql = format!("SELECT {COLUMNS} FROM agent WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// Agents of a workspace, oldest first; optionally only those on one runtime, and archived
/// ones only when asked for.
pub fn list(
    c: &Conn,
    workspace_id: &str,
    runtime_id: Option<&str>,
    include_archived: bool,
) -> DbResult<Vec<Agent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM agent
         WHERE workspace_id = ?1 AND (?2 IS NULL OR runtime_id = ?2)
           AND (?3 OR archived_at IS NULL)
         ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map(
        params![workspace_id, runtime_id, include_archived],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a non-archived agent other than `except_id` already has `name` in the workspace.
pub fn name_taken(
    c: &Conn,
    workspace_id: &str,
    name: &str,
    except_id: Option<&str>,
) -> DbResult<bool> {
    Ok(c.raw()
        .query_row(
            "SELECT 1 FROM agent WHERE workspace_id = ?1 AND name = ?2
               AND archived_at IS NULL AND (?3 IS NULL OR id <> ?3)",
            params![workspace_id, name, except_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn insert(tx: &Tx, a: &Agent) -> DbResult<()> {
    tx.raw().execute(
        &format!("INSERT INTO agent ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            a.id,
            a.workspace_id,
            a.runtime_id,
            a.owner_id,
            a.name,
            a.description,
            a.archived_at,
            a.archived_by,
            a.created_at,
            a.updated_at
        ],
    )?;
    Ok(())
}

/// Writes every mutable column of `a` (name, description, runtime, archive state, updated_at).
pub fn save(tx: &Tx, a: &Agent) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE agent SET runtime_id = ?2, name = ?3, description = ?4, archived_at = ?5,
                archived_by = ?6, updated_at = ?7
         WHERE id = ?1",
        params![
            a.id,
            a.runtime_id,
            a.name,
            a.description,
            a.archived_at,
            a.archived_by,
            a.updated_at
        ],
    )?;
    Ok(())
}
