//! SQL for `workspace`.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

fn from_row(r: &Row) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
    })
}

pub fn insert(tx: &Tx, ws: &Workspace) -> DbResult<()> {
    tx.raw().execute(
        "INSERT INTO workspace (id, name, created_at) VALUES (?1, ?2, ?3)",
        params![ws.id, ws.name, ws.created_at],
    )?;
    Ok(())
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Workspace>> {
    Ok(c.raw()
        .query_row(
            "SELECT id, name, created_at FROM workspace WHERE id = ?1",
            [id],
            from_row,
        )
        .optional()?)
}

/// Workspaces with this exact name, oldest first (names are not unique).
pub fn by_name(c: &Conn, name: &str) -> DbResult<Vec<Workspace>> {
    let mut stmt = c.raw().prepare(
        "SELECT id, name, created_at FROM workspace WHERE name = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([name], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The workspaces a user belongs to with their role, oldest first.
pub fn list_for_user(c: &Conn, user_id: &str) -> DbResult<Vec<(Workspace, String)>> {
    let mut stmt = c.raw().prepare(
        "SELECT w.id, w.name, w.created_at, m.role FROM workspace w
         JOIN member m ON m.workspace_id = w.id
         WHERE m.user_id = ?1 ORDER BY w.created_at, w.id",
    )?;
    let rows = stmt.query_map([user_id], |r| Ok((from_row(r)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// All workspace ids, oldest first (for maintenance loops).
pub fn all_ids(c: &Conn) -> DbResult<Vec<String>> {
    let mut stmt = c
        .raw()
        .prepare("SELECT id FROM workspace ORDER BY created_at, id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
