//! SQL for the usage ledger (`task_usage`), its interned model names (`usage_model`), the task
//! facts an ingest needs, the ledger rows a drill-down lists (and which workspaces and
//! runtimes have any, for `hangar check`), and the started-task counts of the activity report.
//! The rollups live in `rollup` (kept by delta, checked against the ledger) and `reads` (what
//! reports read).

/// The sum columns every rollup table has, in this order.
macro_rules! sum_columns {
    () => {
        "ledger_rows, priced_input, priced_output, priced_cache_read, priced_cache_write, \
         reported_input, reported_output, reported_cache_read, reported_cache_write, \
         reported_cents, reported_subcent"
    };
}

pub mod reads;
pub mod rollup;

use std::collections::HashMap;

use rusqlite::types::ToSql;
use rusqlite::{params, OptionalExtension, Row};

use super::{value_rows, Conn, DbResult, Tx};

/// One ledger row: the usage of one task with one (provider, model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub task_id: String,
    pub provider: String,
    pub model: String,
    pub workspace_id: String,
    pub runtime_id: String,
    pub agent_id: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// The provider-reported cost in ticks (10⁻¹⁰ USD), when the daemon sent one.
    pub cost_ticks: Option<i64>,
    /// The instant the row is bucketed at.
    pub occurred_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an ingest must know about a task: where it runs and who owns that runtime. The
/// runtime fields are `None` once the runtime is deleted (the task keeps `runtime_id` null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskContext {
    pub task_id: String,
    pub workspace_id: String,
    pub agent_id: String,
    pub runtime_id: Option<String>,
    pub runtime_workspace_id: Option<String>,
    pub runtime_provider: Option<String>,
    pub runtime_owner_id: Option<String>,
}

const COLUMNS: &str = "task_id, provider, model, workspace_id, runtime_id, agent_id, \
     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_ticks, \
     occurred_at, created_at, updated_at";

fn from_row(r: &Row) -> rusqlite::Result<LedgerRow> {
    Ok(LedgerRow {
        task_id: r.get(0)?,
        provider: r.get(1)?,
        model: r.get(2)?,
        workspace_id: r.get(3)?,
        runtime_id: r.get(4)?,
        agent_id: r.get(5)?,
        input_tokens: r.get(6)?,
        output_tokens: r.get(7)?,
        cache_read_tokens: r.get(8)?,
        cache_write_tokens: r.get(9)?,
        cost_ticks: r.get(10)?,
        occurred_at: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// The task, its agent and workspace, and its runtime's workspace, provider and owner.
pub fn task_context(c: &Conn, task_id: &str) -> DbResult<Option<TaskContext>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT t.id, t.workspace_id, t.agent_id, t.runtime_id, r.workspace_id, r.provider,
                r.owner_id
         FROM task t LEFT JOIN runtime r ON r.id = t.runtime_id
         WHERE t.id = ?1",
    )?;
    let found = stmt
        .query_row([task_id], |r| {
            Ok(TaskContext {
                task_id: r.get(0)?,
                workspace_id: r.get(1)?,
                agent_id: r.get(2)?,
                runtime_id: r.get(3)?,
                runtime_workspace_id: r.get(4)?,
                runtime_provider: r.get(5)?,
                runtime_owner_id: r.get(6)?,
            })
        })
        .optional()?;
    Ok(found)
}

/// Writes `rows` in one statement, each replacing every field of an existing (task, provider,
/// model) row except `created_at`.
pub fn upsert(tx: &Tx, rows: &[LedgerRow]) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let values = value_rows(rows.len(), 14);
    let sql = format!(
        "INSERT INTO task_usage ({COLUMNS}) VALUES {values}
         ON CONFLICT (task_id, provider, model) DO UPDATE SET
            workspace_id = excluded.workspace_id, runtime_id = excluded.runtime_id,
            agent_id = excluded.agent_id, input_tokens = excluded.input_tokens,
            output_tokens = excluded.output_tokens,
            cache_read_tokens = excluded.cache_read_tokens,
            cache_write_tokens = excluded.cache_write_tokens, cost_ticks = excluded.cost_ticks,
            occurred_at = excluded.occurred_at, updated_at = excluded.updated_at"
    );
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(rows.len() * 14);
    for row in rows {
        params.extend::<[&dyn ToSql; 14]>([
            &row.task_id,
            &row.provider,
            &row.model,
            &row.workspace_id,
            &row.runtime_id,
            &row.agent_id,
            &row.input_tokens,
            &row.output_tokens,
            &row.cache_read_tokens,
            &row.cache_write_tokens,
            &row.cost_ticks,
            &row.occurred_at,
            &row.created_at,
            &row.updated_at,
        ]);
    }
    tx.raw().prepare_cached(&sql)?.execute(params.as_slice())?;
    Ok(())
}

/// Every ledger row of a task, by provider then model.
pub fn rows_for_task(c: &Conn, task_id: &str) -> DbResult<Vec<LedgerRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM task_usage WHERE task_id = ?1 ORDER BY provider, model");
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map([task_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which ledger rows a drill-down lists: one workspace's, optionally narrowed to a runtime, an
/// agent, a provider and a model name.
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerFilter<'a> {
    pub workspace_id: &'a str,
    pub runtime_id: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
}

/// The rows of `filter` with `start <= occurred_at < end`, oldest first, then by task,
/// provider and model.
pub fn rows_between(
    c: &Conn,
    filter: &LedgerFilter,
    start: i64,
    end: i64,
) -> DbResult<Vec<LedgerRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM task_usage
         WHERE workspace_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3
           AND (?4 IS NULL OR runtime_id = ?4) AND (?5 IS NULL OR agent_id = ?5)
           AND (?6 IS NULL OR provider = ?6) AND (?7 IS NULL OR model = ?7)
         ORDER BY occurred_at, task_id, provider, model"
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            filter.workspace_id,
            start,
            end,
            filter.runtime_id,
            filter.agent_id,
            filter.provider,
            filter.model
        ],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every workspace with ledger rows, with the instant of its latest row.
pub fn workspaces_with_usage(c: &Conn) -> DbResult<Vec<(String, i64)>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT workspace_id, MAX(occurred_at) FROM task_usage
         GROUP BY workspace_id ORDER BY workspace_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The runtimes a workspace's ledger rows name (deleted runtimes too), sorted.
pub fn runtimes_with_usage(c: &Conn, workspace_id: &str) -> DbResult<Vec<String>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT DISTINCT runtime_id FROM task_usage WHERE workspace_id = ?1 ORDER BY runtime_id",
    )?;
    let rows = stmt.query_map([workspace_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The id of (provider, model), interning the pair on first use.
pub fn model_id(tx: &Tx, provider: &str, model: &str) -> DbResult<i64> {
    let mut find = tx
        .raw()
        .prepare_cached("SELECT id FROM usage_model WHERE provider = ?1 AND model = ?2")?;
    if let Some(id) = find
        .query_row(params![provider, model], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    Ok(tx.raw().query_row(
        "INSERT INTO usage_model (provider, model) VALUES (?1, ?2) RETURNING id",
        params![provider, model],
        |r| r.get(0),
    )?)
}

/// (provider, model) of each id in `ids` that exists.
pub fn model_names(c: &Conn, ids: &[i64]) -> DbResult<HashMap<i64, (String, String)>> {
    let mut stmt = c
        .raw()
        .prepare_cached("SELECT provider, model FROM usage_model WHERE id = ?1")?;
    let mut names = HashMap::with_capacity(ids.len());
    for &id in ids {
        let name = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some(name) = name {
            names.insert(id, name);
        }
    }
    Ok(names)
}

/// Every difference between the activity rollup and a recount of the tasks' starts, one line
/// each (empty when they agree).
pub fn start_mismatches(c: &Conn) -> DbResult<Vec<String>> {
    let recounted = "SELECT runtime_id,
                            started_at - ((started_at % 900000) + 900000) % 900000, COUNT(*)
                     FROM task WHERE runtime_id IS NOT NULL AND started_at IS NOT NULL
                     GROUP BY 1, 2";
    let stored = "SELECT runtime_id, bucket, started FROM task_start_rollup WHERE started <> 0";
    Ok(rollup::differences(c, recounted, stored, &[])?
        .into_iter()
        .map(|(label, values)| {
            format!("task_start_rollup {label}: (runtime_id, bucket, started) = ({values})")
        })
        .collect())
}

/// Started tasks of a runtime counted per 15-minute UTC bucket of `started_at` (bucket start
/// in Unix ms), from `since` on when given: the activity report's input, from the rollup.
pub fn started_per_quarter(
    c: &Conn,
    runtime_id: &str,
    since: Option<i64>,
) -> DbResult<Vec<(i64, i64)>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT bucket, started FROM task_start_rollup
         WHERE runtime_id = ?1 AND bucket >= ?2 AND started > 0",
    )?;
    let rows = stmt.query_map(params![runtime_id, since.unwrap_or(i64::MIN)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
