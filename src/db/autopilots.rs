//! SQL for `autopilot`: recurring prompts for an agent. There is deliberately no foreign key
//! to the agent: an autopilot outlives its agent and is paused instead.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autopilot {
    pub id: String,
    pub workspace_id: String,
    pub assignee_agent_id: String,
    pub name: String,
    pub prompt: String,
    pub interval_minutes: i64,
    pub status: String,
    pub next_run_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const COLUMNS: &str =
    "id, workspace_id, assignee_agent_id, name, prompt, interval_minutes, \
     status, next_run_at, created_at, updated_at";

pub(super) fn from_row(r: &Row) -> rusqlite::Result<Autopilot> {
    Ok(Autopilot {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        assignee_agent_id: r.get(2)?,
        name: r.get(3)?,
        prompt: r.get(4)?,
        interval_minutes: r.get(5)?,
        status: r.get(6)?,
        next_run_at: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

fn collect(stmt: &mut rusqlite::Statement, p: impl rusqlite::Params) -> DbResult<Vec<Autopilot>> {
    let rows = stmt.query_map(p, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Autopilot>> {
    let sql = format!("SELECT {COLUMNS} FROM autopilot WHERE id = ?1");
    Ok(c.raw().query_row(&sql, [id], from_row).optional()?)
}

/// Autopilots of a workspace, oldest first.
pub fn list(c: &Conn, workspace_id: &str) -> DbResult<Vec<Autopilot>> {
    let sql =
        format!("SELECT {COLUMNS} FROM autopilot WHERE workspace_id = ?1 ORDER BY created_at, id");
    let mut stmt = c.raw().prepare(&sql)?;
    collect(&mut stmt, [workspace_id])
}

pub fn insert(tx: &Tx, a: &Autopilot) -> DbResult<()> {
    tx.raw().execute(
        &format!(
            "INSERT INTO autopilot ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            a.id,
            a.workspace_id,
            a.assignee_agent_id,
            a.name,
            a.prompt,
            a.interval_minutes,
            a.status,
            a.next_run_at,
            a.created_at,
            a.updated_at
        ],
    )?;
    Ok(())
}

/// Writes every mutable column of `a`.
pub fn save(tx: &Tx, a: &Autopilot) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE autopilot SET name = ?2, prompt = ?3, interval_minutes = ?4, status = ?5,
                next_run_at = ?6, updated_at = ?7
         WHERE id = ?1",
        params![
            a.id,
            a.name,
            a.prompt,
            a.interval_minutes,
            a.status,
            a.next_run_at,
            a.updated_at
        ],
    )?;
    Ok(())
}

/// Moves only the schedule; the scheduler's bookkeeping is not an edit (`updated_at` stays).
pub fn set_next_run(tx: &Tx, id: &str, next_run_at: i64) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE autopilot SET next_run_at = ?2 WHERE id = ?1",
        params![id, next_run_at],
    )?;
    Ok(())
}

pub fn delete(tx: &Tx, id: &str) -> DbResult<()> {
    tx.raw()
        .execute("DELETE FROM autopilot WHERE id = ?1", [id])?;
    Ok(())
}

/// Active autopilots whose next run is at or before `now`, earliest first.
pub fn due(c: &Conn, now: i64) -> DbResult<Vec<Autopilot>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM autopilot WHERE status = 'active' AND next_run_at <= ?1
         ORDER BY next_run_at, id"
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    collect(&mut stmt, [now])
}

/// Pauses the active autopilots assigned to an agent; returns them, oldest first.
pub fn pause_active_of_agent(tx: &Tx, agent_id: &str, now: i64) -> DbResult<Vec<Autopilot>> {
    let sql = format!(
        "UPDATE autopilot SET status = 'paused', next_run_at = NULL, updated_at = ?2
         WHERE assignee_agent_id = ?1 AND status = 'active' RETURNING {COLUMNS}"
    );
    let mut stmt = tx.raw().prepare(&sql)?;
    let mut paused = collect(&mut stmt, params![agent_id, now])?;
    paused.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(paused)
}

/// Schedules every active autopilot one interval after `now` (server start: missed runs are
/// not replayed). Returns how many were rescheduled.
pub fn reschedule_active(tx: &Tx, now: i64) -> DbResult<usize> {
    Ok(tx.raw().execute(
        "UPDATE autopilot SET next_run_at = ?1 + interval_minutes * 60000 WHERE status = 'active'",
        [now],
    )?)
}
