//! SQL for `budget` (spend limits) and `budget_alert` (the thresholds each period announced),
//! plus the reads budgets make of the usage rollups: a scope's sums per model over a range of
//! buckets of one span, summed in SQL so an evaluation moves a few rows, not thousands, and the
//! scope's deltas still pending in `usage_pending`.

use rusqlite::types::ToSql;
use rusqlite::{params, OptionalExtension, Row};

use super::usage::rollup::TokenSums;
use super::{Conn, DbResult, Tx};

/// A budget row. `thresholds` are ascending percentages (stored as "50,80,100").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub id: String,
    pub workspace_id: String,
    pub name: Option<String>,
    /// `workspace`, `runtime` or `agent`.
    pub scope_type: String,
    /// The runtime or agent id; `None` for a workspace budget.
    pub scope_id: Option<String>,
    /// The amount in micro-dollars (10⁻⁶ USD).
    pub amount_micros: i64,
    /// `day`, `week` or `month`.
    pub period: String,
    pub timezone: String,
    pub thresholds: Vec<i64>,
    /// `alert` or `pause_dispatch`.
    pub action: String,
    /// End of the period in which the last evaluation found the amount spent; `None` if not.
    pub exceeded_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One announced threshold of one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub threshold: i64,
    pub spent_micros: i64,
    pub crossed_at: i64,
}

/// What one model spent in a range of buckets: tokens to price from the table, and the cost
/// the daemons reported for the rest (its tokens need no price).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpend {
    pub model_id: i64,
    pub priced: TokenSums,
    pub reported_ticks: i128,
}

/// Which rollup table a spend is read from, and the id it is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendTable<'a> {
    /// `usage_workspace_rollup` of a workspace.
    Workspace(&'a str),
    /// `usage_rollup` of a runtime.
    Runtime(&'a str),
    /// `usage_agent_rollup` of (workspace, agent).
    Agent {
        workspace_id: &'a str,
        agent_id: &'a str,
    },
}

/// Ticks in one `reported_cents` unit of the rollups (10⁸ ticks = 0.01 USD).
const TICKS_PER_CENT: i128 = 100_000_000;

const COLUMNS: &str = "id, workspace_id, name, scope_type, scope_id, amount_micros, period, \
     timezone, thresholds, action, exceeded_until, created_at, updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Budget> {
    let thresholds: String = r.get(8)?;
    Ok(Budget {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        name: r.get(2)?,
        scope_type: r.get(3)?,
        scope_id: r.get(4)?,
        amount_micros: r.get(5)?,
        period: r.get(6)?,
        timezone: r.get(7)?,
        thresholds: thresholds
            .split(',')
            .filter_map(|t| t.trim().parse().ok())
            .collect(),
        action: r.get(9)?,
        exceeded_until: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

fn thresholds_text(thresholds: &[i64]) -> String {
    thresholds
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Budget>> {
    let sql = format!("SELECT {COLUMNS} FROM budget WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// Budgets of a workspace, oldest first.
pub fn list(c: &Conn, workspace_id: &str) -> DbResult<Vec<Budget>> {
    let sql =
        format!("SELECT {COLUMNS} FROM budget WHERE workspace_id = ?1 ORDER BY created_at, id");
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map([workspace_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Budgets a usage row of (workspace, runtime, agent) counts toward: the workspace's own, the
/// runtime's and the agent's.
pub fn watching(
    c: &Conn,
    workspace_id: &str,
    runtime_id: &str,
    agent_id: &str,
) -> DbResult<Vec<Budget>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM budget
         WHERE workspace_id = ?1 AND (scope_type = 'workspace'
            OR (scope_type = 'runtime' AND scope_id = ?2)
            OR (scope_type = 'agent' AND scope_id = ?3))
         ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map(params![workspace_id, runtime_id, agent_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// (scope type, scope id) of each `pause_dispatch` budget of a workspace whose amount is spent
/// in a period that has not ended at `now`.
pub fn holding(c: &Conn, workspace_id: &str, now: i64) -> DbResult<Vec<(String, Option<String>)>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT scope_type, scope_id FROM budget
         WHERE workspace_id = ?1 AND action = 'pause_dispatch' AND exceeded_until > ?2",
    )?;
    let rows = stmt.query_map(params![workspace_id, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert(tx: &Tx, b: &Budget) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO budget ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    );
    tx.raw().execute(
        &sql,
        params![
            b.id,
            b.workspace_id,
            b.name,
            b.scope_type,
            b.scope_id,
            b.amount_micros,
            b.period,
            b.timezone,
            thresholds_text(&b.thresholds),
            b.action,
            b.exceeded_until,
            b.created_at,
            b.updated_at
        ],
    )?;
    Ok(())
}

/// Writes every mutable column of `b`.
pub fn save(tx: &Tx, b: &Budget) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE budget SET name = ?2, scope_type = ?3, scope_id = ?4, amount_micros = ?5,
            period = ?6, timezone = ?7, thresholds = ?8, action = ?9, exceeded_until = ?10,
            updated_at = ?11
         WHERE id = ?1",
        params![
            b.id,
            b.name,
            b.scope_type,
            b.scope_id,
            b.amount_micros,
            b.period,
            b.timezone,
            thresholds_text(&b.thresholds),
            b.action,
            b.exceeded_until,
            b.updated_at
        ],
    )?;
    Ok(())
}

pub fn set_exceeded_until(tx: &Tx, id: &str, until: Option<i64>) -> DbResult<()> {
    tx.raw()
        .prepare_cached("UPDATE budget SET exceeded_until = ?2 WHERE id = ?1")?
        .execute(params![id, until])?;
    Ok(())
}

/// Deletes a budget and (by cascade) its alerts.
pub fn delete(tx: &Tx, id: &str) -> DbResult<()> {
    tx.raw().execute("DELETE FROM budget WHERE id = ?1", [id])?;
    Ok(())
}

/// Records that `threshold` was crossed in the period starting at `period_start`; true only
/// for the first record, so the caller announces each threshold of a period once.
pub fn record_alert(tx: &Tx, budget_id: &str, period_start: i64, alert: &Alert) -> DbResult<bool> {
    let mut stmt = tx.raw().prepare_cached(
        "INSERT INTO budget_alert (budget_id, period_start, threshold, spent_micros, crossed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (budget_id, period_start, threshold) DO NOTHING
         RETURNING threshold",
    )?;
    let inserted: Option<i64> = stmt
        .query_row(
            params![
                budget_id,
                period_start,
                alert.threshold,
                alert.spent_micros,
                alert.crossed_at
            ],
            |r| r.get(0),
        )
        .optional()?;
    Ok(inserted.is_some())
}

/// The thresholds announced in the period starting at `period_start`, lowest first.
pub fn alerts(c: &Conn, budget_id: &str, period_start: i64) -> DbResult<Vec<Alert>> {
    let mut stmt = c.raw().prepare_cached(
        "SELECT threshold, spent_micros, crossed_at FROM budget_alert
         WHERE budget_id = ?1 AND period_start = ?2 ORDER BY threshold",
    )?;
    let rows = stmt.query_map(params![budget_id, period_start], |r| {
        Ok(Alert {
            threshold: r.get(0)?,
            spent_micros: r.get(1)?,
            crossed_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The version of the rollups this connection sees: `rollup::add`, the one writer of rollup
/// rows and part of every fold, draws a new random value (schema step 13), so equal versions
/// mean equal rollups, and no pending delta ended between them.
pub fn rollup_version(c: &Conn) -> DbResult<i64> {
    Ok(c.raw()
        .prepare_cached("SELECT version FROM usage_rollup_version WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

/// The spend per model of `table`'s rows at `span` minutes with `start <= bucket < end`.
pub fn sums_by_model(
    c: &Conn,
    table: SpendTable,
    span: i64,
    start: i64,
    end: i64,
) -> DbResult<Vec<ModelSpend>> {
    let rows: rusqlite::Result<Vec<ModelSpend>> = match table {
        SpendTable::Workspace(id) => c
            .raw()
            .prepare_cached(SUM_WORKSPACE)?
            .query_map(params![id, span, start, end], |r| model_spend(r, 0))?
            .collect::<Result<_, _>>(),
        SpendTable::Runtime(id) => c
            .raw()
            .prepare_cached(SUM_RUNTIME)?
            .query_map(params![id, span, start, end], |r| model_spend(r, 0))?
            .collect::<Result<_, _>>(),
        SpendTable::Agent {
            workspace_id,
            agent_id,
        } => c
            .raw()
            .prepare_cached(SUM_AGENT)?
            .query_map(params![workspace_id, span, start, end, agent_id], |r| {
                model_spend(r, 0)
            })?
            .collect::<Result<_, _>>(),
    };
    Ok(rows?)
}

/// The spend per (15-minute bucket, model) of the deltas of `table`'s scope still waiting in
/// `usage_pending` (not yet folded into the rollups), for buckets in `[start, end)`.
pub fn pending_by_model(
    c: &Conn,
    table: SpendTable,
    start: i64,
    end: i64,
) -> DbResult<Vec<(i64, ModelSpend)>> {
    pending_grouped(c, table, "bucket", start, end)
}

/// `pending_by_model` over every bucket, for the deltas with `from <= seq < to`.
pub fn pending_in_seqs(
    c: &Conn,
    table: SpendTable,
    from: i64,
    to: i64,
) -> DbResult<Vec<(i64, ModelSpend)>> {
    pending_grouped(c, table, "seq", from, to)
}

/// The newest pending delta's `seq` (0 when none waits). Deltas are only appended, with a
/// larger `seq` each, until the fold deletes the oldest.
pub fn pending_last_seq(c: &Conn) -> DbResult<i64> {
    Ok(c.raw()
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM usage_pending")?
        .query_row([], |r| r.get(0))?)
}

/// The scope's pending spend per (bucket, model), of the rows with `lo <= range < hi`, where
/// `range` is the column `bucket` or `seq`.
fn pending_grouped(
    c: &Conn,
    table: SpendTable,
    range: &'static str,
    lo: i64,
    hi: i64,
) -> DbResult<Vec<(i64, ModelSpend)>> {
    let (filter, bound): (&str, Vec<&dyn ToSql>) = match &table {
        SpendTable::Workspace(id) => ("workspace_id = ?1", vec![id, &lo, &hi]),
        SpendTable::Runtime(id) => ("runtime_id = ?1", vec![id, &lo, &hi]),
        SpendTable::Agent {
            workspace_id,
            agent_id,
        } => (
            "workspace_id = ?1 AND agent_id = ?4",
            vec![workspace_id, &lo, &hi, agent_id],
        ),
    };
    let sql = format!(
        "SELECT bucket, model_id, SUM(priced_input), SUM(priced_output), SUM(priced_cache_read),
                SUM(priced_cache_write), SUM(reported_cents), SUM(reported_subcent)
         FROM usage_pending WHERE {filter} AND {range} >= ?2 AND {range} < ?3
         GROUP BY bucket, model_id"
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map(bound.as_slice(), |r| Ok((r.get(0)?, model_spend(r, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A `ModelSpend` from columns `at..at + 7`: model id, the four priced token sums, cents and
/// the remaining ticks.
fn model_spend(r: &Row, at: usize) -> rusqlite::Result<ModelSpend> {
    let cents: i64 = r.get(at + 5)?;
    let subcent: i64 = r.get(at + 6)?;
    Ok(ModelSpend {
        model_id: r.get(at)?,
        priced: TokenSums {
            input: r.get(at + 1)?,
            output: r.get(at + 2)?,
            cache_read: r.get(at + 3)?,
            cache_write: r.get(at + 4)?,
        },
        reported_ticks: i128::from(cents) * TICKS_PER_CENT + i128::from(subcent),
    })
}

/// Each statement binds ?1 the key id, ?2 span, ?3 start, ?4 end, ?5 the agent id (agent only).
macro_rules! sum_by_model {
    ($table:literal, $filter:literal) => {
        concat!(
            "SELECT model_id, SUM(priced_input), SUM(priced_output),
                    SUM(priced_cache_read), SUM(priced_cache_write), SUM(reported_cents),
                    SUM(reported_subcent)
             FROM ",
            $table,
            " WHERE ",
            $filter,
            " AND span = ?2 AND bucket >= ?3 AND bucket < ?4 GROUP BY model_id"
        )
    };
}

const SUM_WORKSPACE: &str = sum_by_model!("usage_workspace_rollup", "workspace_id = ?1");
const SUM_RUNTIME: &str = sum_by_model!("usage_rollup", "runtime_id = ?1");
const SUM_AGENT: &str = sum_by_model!("usage_agent_rollup", "workspace_id = ?1 AND agent_id = ?5");
