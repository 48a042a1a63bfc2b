//! SQL for the `event` outbox.

use rusqlite::{params, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub workspace_id: String,
    pub event_type: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    /// JSON text.
    pub payload: String,
    pub created_at: i64,
}

fn from_row(r: &Row) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        event_type: r.get(2)?,
        actor_type: r.get(3)?,
        actor_id: r.get(4)?,
        payload: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// Appends one event; returns its id.
pub fn insert(tx: &Tx, event: &EventRow) -> DbResult<i64> {
    Ok(tx
        .raw()
        .prepare_cached(
            "INSERT INTO event (workspace_id, type, actor_type, actor_id, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )?
        .query_row(
            params![
                event.workspace_id,
                event.event_type,
                event.actor_type,
                event.actor_id,
                event.payload,
                event.created_at
            ],
            |r| r.get(0),
        )?)
}

/// Events of a workspace with id > `after`, oldest first, at most `limit`.
pub fn list_after(c: &Conn, workspace_id: &str, after: i64, limit: i64) -> DbResult<Vec<EventRow>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT id, workspace_id, type, actor_type, actor_id, payload, created_at
         FROM event WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![workspace_id, after, limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
