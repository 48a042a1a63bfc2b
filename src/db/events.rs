//! SQL for the `event` outbox and its pruning mark (`event_pruned`: per workspace, the
//! highest event id deleted by retention, so a cursor at or below it is known to be stale).

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row};

use super::{value_rows, Conn, DbResult, Tx};

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

/// Rows per multi-row insert: 6 parameters each stays far below SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 256;

/// Appends events of one workspace, type and actor with the given payloads (JSON texts), in
/// order: one multi-row statement per chunk, for the teardowns that announce thousands.
pub fn insert_all(
    tx: &Tx,
    workspace_id: &str,
    event_type: &str,
    actor_type: &str,
    actor_id: Option<&str>,
    payloads: &[String],
    created_at: i64,
) -> DbResult<()> {
    for chunk in payloads.chunks(INSERT_CHUNK) {
        let values = value_rows(chunk.len(), 6);
        let sql = format!(
            "INSERT INTO event (workspace_id, type, actor_type, actor_id, payload, created_at)
             VALUES {values}"
        );
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 6);
        for payload in chunk {
            params.extend::<[&dyn rusqlite::ToSql; 6]>([
                &workspace_id,
                &event_type,
                &actor_type,
                &actor_id,
                payload,
                &created_at,
            ]);
        }
        tx.raw().prepare_cached(&sql)?.execute(params.as_slice())?;
    }
    Ok(())
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

/// The newest event id of any workspace (0 when there is none): "now" for a new stream.
pub fn last_id(c: &Conn) -> DbResult<i64> {
    Ok(c.raw()
        .query_row("SELECT COALESCE(MAX(id), 0) FROM event", [], |r| r.get(0))?)
}

/// The highest event id of the workspace that retention has deleted, if any.
pub fn pruned_through(c: &Conn, workspace_id: &str) -> DbResult<Option<i64>> {
    Ok(c.raw()
        .query_row(
            "SELECT through_id FROM event_pruned WHERE workspace_id = ?1",
            [workspace_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Deletes up to `limit` of the oldest events created before `cutoff` and raises each
/// affected workspace's pruning mark; returns how many were deleted.
pub fn prune_before(tx: &Tx, cutoff: i64, limit: i64) -> DbResult<usize> {
    let deleted: Vec<(String, i64)> = {
        let mut stmt = tx.raw().prepare_cached(
            "DELETE FROM event WHERE id IN
               (SELECT id FROM event WHERE created_at < ?1 ORDER BY id LIMIT ?2)
             RETURNING workspace_id, id",
        )?;
        let rows = stmt.query_map(params![cutoff, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut marks: HashMap<&str, i64> = HashMap::new();
    for (ws, id) in &deleted {
        let mark = marks.entry(ws.as_str()).or_insert(*id);
        *mark = (*mark).max(*id);
    }
    let mut stmt = tx.raw().prepare_cached(
        "INSERT INTO event_pruned (workspace_id, through_id) VALUES (?1, ?2)
         ON CONFLICT (workspace_id) DO UPDATE SET through_id =
           CASE WHEN excluded.through_id > event_pruned.through_id
                THEN excluded.through_id ELSE event_pruned.through_id END",
    )?;
    for (ws, id) in marks {
        stmt.execute(params![ws, id])?;
    }
    Ok(deleted.len())
}

/// Whether a stream's reader may still read the workspace's events: still a member, and
/// the token they opened it with not revoked.
pub fn reader_allowed(
    c: &Conn,
    workspace_id: &str,
    user_id: &str,
    token_id: &str,
) -> DbResult<bool> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM member WHERE workspace_id = ?1 AND user_id = ?2)
            AND EXISTS (SELECT 1 FROM api_token
                        WHERE id = ?3 AND user_id = ?2 AND revoked_at IS NULL)",
    )?;
    Ok(stmt.query_row(params![workspace_id, user_id, token_id], |r| r.get(0))?)
}
