//! SQL for `task`: the queue and the history of work. Claiming is one named helper
//! (`claim_next`) so that a backend with row locks can swap in `FOR UPDATE SKIP LOCKED` there.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub workspace_id: String,
    pub agent_id: String,
    pub runtime_id: Option<String>,
    pub autopilot_id: Option<String>,
    pub prompt: String,
    pub status: String,
    pub error: Option<String>,
    pub output: Option<String>,
    pub created_at: i64,
    pub dispatched_at: Option<i64>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

/// What a task list is narrowed to; `before` is the (created_at, id) of the paging cursor.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub workspace_id: String,
    pub agent_id: Option<String>,
    pub runtime_id: Option<String>,
    pub status: Option<String>,
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

pub(super) const COLUMNS: &str =
    "id, workspace_id, agent_id, runtime_id, autopilot_id, prompt, status, \
     error, output, created_at, dispatched_at, started_at, completed_at";

/// The active statuses, as an SQL list.
pub(super) const ACTIVE: &str = "('queued', 'dispatched', 'running')";

pub(super) fn from_row(r: &Row) -> rusqlite::Result<Task> {
    Ok(Task {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        agent_id: r.get(2)?,
        runtime_id: r.get(3)?,
        autopilot_id: r.get(4)?,
        prompt: r.get(5)?,
        status: r.get(6)?,
        error: r.get(7)?,
        output: r.get(8)?,
        created_at: r.get(9)?,
        dispatched_at: r.get(10)?,
        started_at: r.get(11)?,
        completed_at: r.get(12)?,
    })
}

fn collect(stmt: &mut rusqlite::Statement, p: impl rusqlite::Params) -> DbResult<Vec<Task>> {
    let rows = stmt.query_map(p, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Task>> {
    let sql = format!("SELECT {COLUMNS} FROM task WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

pub fn insert(tx: &Tx, t: &Task) -> DbResult<()> {
    tx.raw().execute(
        &format!(
            "INSERT INTO task ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            t.id,
            t.workspace_id,
            t.agent_id,
            t.runtime_id,
            t.autopilot_id,
            t.prompt,
            t.status,
            t.error,
            t.output,
            t.created_at,
            t.dispatched_at,
            t.started_at,
            t.completed_at
        ],
    )?;
    Ok(())
}

/// Writes the lifecycle columns of `t` (status, error, output, transition instants).
pub fn save(tx: &Tx, t: &Task) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE task SET status = ?2, error = ?3, output = ?4, dispatched_at = ?5,
                started_at = ?6, completed_at = ?7
         WHERE id = ?1",
        params![
            t.id,
            t.status,
            t.error,
            t.output,
            t.dispatched_at,
            t.started_at,
            t.completed_at
        ],
    )?;
    Ok(())
}

/// Tasks of a workspace, newest first, after the filter's cursor.
pub fn list(c: &Conn, f: &TaskFilter) -> DbResult<Vec<Task>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM task
         WHERE workspace_id = ?1 AND (?2 IS NULL OR agent_id = ?2)
           AND (?3 IS NULL OR runtime_id = ?3) AND (?4 IS NULL OR status = ?4)
           AND (?5 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id < ?6))
         ORDER BY created_at DESC, id DESC LIMIT ?7"
    );
    let (before_at, before_id) = f.before.clone().unzip();
    let mut stmt = c.raw().prepare(&sql)?;
    collect(
        &mut stmt,
        params![
            f.workspace_id,
            f.agent_id,
            f.runtime_id,
            f.status,
            before_at,
            before_id,
            f.limit
        ],
    )
}

/// Moves the oldest `queued` task of a non-archived agent on `runtime_id`, other than the
/// `held` agents' (a spent budget holds them back), to `dispatched` and returns it. Runs
/// inside the caller's write transaction, which is what makes two concurrent claims see
/// different tasks.
pub fn claim_next(tx: &Tx, runtime_id: &str, held: &[String], now: i64) -> DbResult<Option<Task>> {
    let sql = claim_sql(held.len());
    let next: Option<String> = tx
        .raw()
        .prepare_cached(&sql)?
        .query_row(
            rusqlite::params_from_iter(
                std::iter::once(runtime_id).chain(held.iter().map(String::as_str)),
            ),
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = next else {
        return Ok(None);
    };
    let sql = format!(
        "UPDATE task SET status = 'dispatched', dispatched_at = ?2
         WHERE id = ?1 AND status = 'queued' RETURNING {COLUMNS}"
    );
    Ok(tx
        .raw()
        .prepare_cached(&sql)?
        .query_row(params![id, now], from_row)
        .optional()?)
}

fn claim_sql(held: usize) -> String {
    let held_filter = if held == 0 {
        String::new()
    } else {
        format!("AND t.agent_id NOT IN ({})", vec!["?"; held].join(", "))
    };
    // `status IN {ACTIVE}` lets SQLite use the partial `task_for_claim` index.
    format!(
        "SELECT t.id FROM task t JOIN agent a ON a.id = t.agent_id
         WHERE t.runtime_id = ? AND t.status = 'queued' AND t.status IN {ACTIVE}
           AND a.archived_at IS NULL {held_filter}
         ORDER BY t.created_at, t.id LIMIT 1"
    )
}

/// Cancels every active task of an agent; returns them, oldest first.
pub fn cancel_active_of_agent(tx: &Tx, agent_id: &str, now: i64) -> DbResult<Vec<Task>> {
    let sql = format!(
        "UPDATE task SET status = 'cancelled', completed_at = ?2
         WHERE agent_id = ?1 AND status IN {ACTIVE} RETURNING {COLUMNS}"
    );
    let mut stmt = tx.raw().prepare(&sql)?;
    let mut tasks = collect(&mut stmt, params![agent_id, now])?;
    sort_oldest_first(&mut tasks);
    Ok(tasks)
}

/// Orders tasks as events announce them: by creation, then id.
pub fn sort_oldest_first(tasks: &mut [Task]) {
    tasks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
}

/// Re-pins an agent's `queued` tasks to `runtime_id`; dispatched and running ones stay.
pub fn repin_queued(tx: &Tx, agent_id: &str, runtime_id: &str) -> DbResult<usize> {
    Ok(tx.raw().execute(
        "UPDATE task SET runtime_id = ?2 WHERE agent_id = ?1 AND status = 'queued'",
        params![agent_id, runtime_id],
    )?)
}

/// Whether an autopilot still has a task in flight.
pub fn autopilot_has_active(c: &Conn, autopilot_id: &str) -> DbResult<bool> {
    let sql = format!("SELECT 1 FROM task WHERE autopilot_id = ?1 AND status IN {ACTIVE} LIMIT 1");
    Ok(c.raw()
        .query_row(&sql, [autopilot_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// `dispatched`/`running` tasks on offline runtimes last seen before `seen_before`
/// (never seen counts as before), oldest first.
pub fn stranded(c: &Conn, seen_before: i64) -> DbResult<Vec<Task>> {
    let mut stmt = c.raw().prepare(&stranded_sql())?;
    collect(&mut stmt, [seen_before])
}

fn stranded_sql() -> String {
    let cols = COLUMNS
        .split(", ")
        .map(|col| format!("t.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    // `status IN {ACTIVE}` lets SQLite use the partial `task_for_claim` index.
    format!(
        "SELECT {cols} FROM task t JOIN runtime r ON r.id = t.runtime_id
         WHERE t.status IN ('dispatched', 'running') AND t.status IN {ACTIVE}
           AND r.status = 'offline'
           AND (r.last_seen_at IS NULL OR r.last_seen_at < ?1)
         ORDER BY t.created_at, t.id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_support::{migrated, query_plan};

    #[test]
    fn claims_and_sweeps_use_the_partial_claim_index() {
        let conn = migrated();
        for held in [0, 2] {
            let plan = query_plan(&conn, &claim_sql(held));
            assert!(plan.contains("task_for_claim"), "{plan}");
        }
        let plan = query_plan(&conn, &stranded_sql());
        assert!(plan.contains("task_for_claim"), "{plan}");
    }
}
