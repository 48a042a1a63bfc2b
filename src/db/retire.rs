//! SQL for retiring a runtime (API.md §6): the squad guard's read and the teardown. Every
//! teardown statement is set-based — one statement per step, whatever the number of agents
//! or tasks — so a runtime with a thousand agents and a hundred thousand tasks retires in
//! one short write transaction. `RETURNING` hands back the rows the events describe; its
//! order is unspecified, so agents and autopilots come back sorted oldest first, and tasks
//! (from two statements) are left for the caller to sort.
//!
//! The steps are meant to run in this order inside one transaction: cancel the surviving
//! tasks, archive the remaining agents, pause autopilots, delete archived squads, delete
//! all the agents' tasks, delete the agents, delete the runtime. The agents' active tasks,
//! which the teardown announces, are read from the state before it.
//! Each later step relies on the earlier ones (e.g. "the runtime's agents" are all archived
//! once `archive_active_agents` ran), and the foreign keys refuse anything left
//! inconsistent: a non-archived squad still led by a deleted agent, or an agent still
//! pinning the runtime.

use rusqlite::params;

use super::agents::{self, Agent};
use super::autopilots::{self, Autopilot};
use super::tasks::{self, Task, ACTIVE};
use super::{Conn, DbResult, Tx};

/// Ids of the non-archived squads led by any agent (active or archived) of the runtime,
/// oldest first.
pub fn live_squads_led_from(c: &Conn, runtime_id: &str) -> DbResult<Vec<String>> {
    let mut stmt = c.raw().prepare(
        "SELECT s.id FROM squad s JOIN agent a ON a.id = s.leader_agent_id
         WHERE a.runtime_id = ?1 AND s.archived_at IS NULL
         ORDER BY s.created_at, s.id",
    )?;
    let rows = stmt.query_map([runtime_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Cancels the active tasks pinned to the runtime whose agents live elsewhere — the only
/// cancelled tasks that outlive the teardown (the others are deleted with the runtime's
/// agents, see `delete_tasks_of_archived_agents`). Returns them as they now stand.
pub fn cancel_surviving_tasks(tx: &Tx, runtime_id: &str, now: i64) -> DbResult<Vec<Task>> {
    let mut stmt = tx.raw().prepare(&cancel_surviving_sql())?;
    let rows = stmt.query_map(params![runtime_id, now], tasks::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn cancel_surviving_sql() -> String {
    format!(
        "UPDATE task SET status = 'cancelled', completed_at = ?2
         WHERE runtime_id = ?1 AND status IN {ACTIVE}
           AND agent_id NOT IN (SELECT id FROM agent WHERE runtime_id = ?1)
         RETURNING {}",
        tasks::COLUMNS
    )
}

/// Archives the runtime's non-archived agents (by `user_id`, at `now`); returns them
/// oldest first.
pub fn archive_active_agents(
    tx: &Tx,
    runtime_id: &str,
    user_id: &str,
    now: i64,
) -> DbResult<Vec<Agent>> {
    let sql = format!(
        "UPDATE agent SET archived_at = ?2, archived_by = ?3, updated_at = ?2
         WHERE runtime_id = ?1 AND archived_at IS NULL
         RETURNING {}",
        agents::COLUMNS
    );
    let mut stmt = tx.raw().prepare(&sql)?;
    let rows = stmt.query_map(params![runtime_id, now, user_id], agents::from_row)?;
    let mut archived: Vec<Agent> = rows.collect::<Result<_, _>>()?;
    archived.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(archived)
}

/// Pauses the active autopilots assigned to any agent of the runtime; returns them oldest
/// first.
pub fn pause_autopilots(tx: &Tx, runtime_id: &str, now: i64) -> DbResult<Vec<Autopilot>> {
    // CROSS JOIN fixes the join order in SQLite (which has no statistics here): the
    // runtime's agents drive the search through `autopilot_by_assignee`, instead of a walk
    // over every active autopilot of the database. Other engines treat it as a plain join.
    let sql = format!(
        "UPDATE autopilot SET status = 'paused', next_run_at = NULL, updated_at = ?2
         WHERE id IN (SELECT p.id FROM agent a CROSS JOIN autopilot p
                      WHERE a.runtime_id = ?1 AND p.assignee_agent_id = a.id
                        AND p.status = 'active')
         RETURNING {}",
        autopilots::COLUMNS
    );
    let mut stmt = tx.raw().prepare(&sql)?;
    let rows = stmt.query_map(params![runtime_id, now], autopilots::from_row)?;
    let mut paused: Vec<Autopilot> = rows.collect::<Result<_, _>>()?;
    paused.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(paused)
}

/// Deletes the archived squads led by agents of the runtime (their member rows cascade).
/// A non-archived one is left alone, so that deleting its leader fails loudly.
pub fn delete_archived_squads(tx: &Tx, runtime_id: &str) -> DbResult<usize> {
    Ok(tx.raw().execute(
        "DELETE FROM squad
         WHERE archived_at IS NOT NULL
           AND leader_agent_id IN (SELECT id FROM agent WHERE runtime_id = ?1)",
        [runtime_id],
    )?)
}

/// Starts counted in another runtime's activity rollup, per 15-minute bucket: those of tasks
/// that ran elsewhere before their agent moved to this runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartsElsewhere {
    pub runtime_id: String,
    pub bucket: i64,
    pub count: i64,
}

/// The tasks of the runtime's agents, archived or not, that the teardown deletes and must
/// account for: the active ones, which it announces cancelled, and those that started on
/// another runtime (before their agent moved here), whose starts it takes back from that
/// runtime's activity. Read before the teardown, in one pass over the agents' tasks.
pub fn tasks_to_account_for(c: &Conn, runtime_id: &str) -> DbResult<Vec<Task>> {
    let mut stmt = c.raw().prepare(&format!(
        "SELECT {} FROM task
         WHERE agent_id IN (SELECT id FROM agent WHERE runtime_id = ?1)
           AND (status IN {ACTIVE} OR (runtime_id <> ?1 AND started_at IS NOT NULL))",
        tasks::COLUMNS
    ))?;
    let rows = stmt.query_map([runtime_id], tasks::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Takes starts back out of the activity rollup, for tasks about to be deleted.
pub fn uncount_starts(tx: &Tx, starts: &[StartsElsewhere]) -> DbResult<()> {
    let mut stmt = tx.raw().prepare(
        "UPDATE task_start_rollup SET started = started - ?3
         WHERE runtime_id = ?1 AND bucket = ?2",
    )?;
    for s in starts {
        stmt.execute(params![s.runtime_id, s.bucket, s.count])?;
    }
    Ok(())
}

/// Deletes the tasks of the runtime's archived agents in one statement. The foreign key
/// would cascade them too, but agent by agent, which costs a fifth more on a big runtime;
/// and one pass over the pages beats a pass for the active ones and another for the rest
/// (`DELETE … RETURNING` them), which costs a fifth more again.
pub fn delete_tasks_of_archived_agents(tx: &Tx, runtime_id: &str) -> DbResult<usize> {
    Ok(tx.raw().execute(
        "DELETE FROM task
         WHERE agent_id IN (SELECT id FROM agent
                            WHERE runtime_id = ?1 AND archived_at IS NOT NULL)",
        [runtime_id],
    )?)
}

/// Deletes the runtime's archived agents; their squad memberships cascade.
pub fn delete_archived_agents(tx: &Tx, runtime_id: &str) -> DbResult<usize> {
    Ok(tx.raw().execute(
        "DELETE FROM agent WHERE runtime_id = ?1 AND archived_at IS NOT NULL",
        [runtime_id],
    )?)
}

/// Deletes the runtime row; tasks that still name it keep their history with a null
/// runtime (ON DELETE SET NULL). Returns how many rows went (0 or 1).
pub fn delete_runtime(tx: &Tx, runtime_id: &str) -> DbResult<usize> {
    Ok(tx
        .raw()
        .execute("DELETE FROM runtime WHERE id = ?1", [runtime_id])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_support::{migrated, query_plan};

    #[test]
    fn cancelling_the_surviving_tasks_uses_the_partial_claim_index() {
        let conn = migrated();
        let plan = query_plan(&conn, &cancel_surviving_sql());
        assert!(plan.contains("task_for_claim"), "{plan}");
    }
}
