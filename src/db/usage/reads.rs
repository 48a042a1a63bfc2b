//! What the usage reports read from the rollups: the rows of one scope at one span in a bucket
//! range, either one by one (`read_each`, for buckets that must be grouped separately) or
//! already summed per (runtime or agent, model) by SQLite (`summed_ranges`, for ranges that
//! each lie in one report group; all of a span's ranges in one query), which keeps long
//! windows cheap. Both add the deltas still waiting in `usage_pending` (read once per report
//! with `pending`), so what they return is exact before and after every fold.

use rusqlite::{params, Row};

use super::rollup::{bucket_start, sums_from, Sums, AGENT_SPANS, RUNTIME_SPANS, WORKSPACE_SPANS};
use crate::db::{Conn, DbResult};

macro_rules! sums_of_columns {
    () => {
        "SUM(ledger_rows), SUM(priced_input), SUM(priced_output), SUM(priced_cache_read), \
         SUM(priced_cache_write), SUM(reported_input), SUM(reported_output), \
         SUM(reported_cache_read), SUM(reported_cache_write), SUM(reported_cents), \
         SUM(reported_subcent)"
    };
}

/// Which rollup rows a report reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// One runtime's rows by model (`usage_rollup`).
    Runtime(&'a str),
    /// Every runtime of a workspace, deleted ones included, by runtime and model.
    RuntimesOfWorkspace(&'a str),
    /// A workspace's rows by model (`usage_workspace_rollup`).
    Workspace(&'a str),
    /// One runtime's rows by agent and model (`usage_agent_rollup`).
    AgentsOfRuntime(&'a str),
    /// A workspace's rows by agent and model.
    AgentsOfWorkspace(&'a str),
}

/// Sums of rollup rows of one bucket (`read_each`) or of a whole range (`summed_ranges`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    /// The bucket's start; for `summed_ranges` rows, the range's start.
    pub bucket: i64,
    pub model_id: i64,
    /// The runtime (`RuntimesOfWorkspace`) or agent (`AgentsOf…`) of the row; `None` otherwise.
    pub dimension: Option<String>,
    pub sums: Sums,
}

impl Scope<'_> {
    /// The bucket spans (minutes, ascending, each dividing the next) the scope's table holds.
    pub fn spans(&self) -> &'static [i64] {
        match self {
            Scope::Runtime(_) | Scope::RuntimesOfWorkspace(_) => RUNTIME_SPANS,
            Scope::Workspace(_) => WORKSPACE_SPANS,
            Scope::AgentsOfRuntime(_) | Scope::AgentsOfWorkspace(_) => AGENT_SPANS,
        }
    }

    fn id(&self) -> &str {
        match self {
            Scope::Runtime(id)
            | Scope::RuntimesOfWorkspace(id)
            | Scope::Workspace(id)
            | Scope::AgentsOfRuntime(id)
            | Scope::AgentsOfWorkspace(id) => id,
        }
    }
}

/// Calls `each` for every row of `scope` at `span` minutes with `start <= bucket < end`, in
/// bucket order, then for every `pending` row (of `pending(c, scope)`) in that range, as a row
/// of its `span`-minute bucket (`start` and `end` lie on the span's grid).
pub fn read_each(
    c: &Conn,
    scope: Scope,
    pending: &[RollupRow],
    span: i64,
    start: i64,
    end: i64,
    mut each: impl FnMut(RollupRow),
) -> DbResult<()> {
    let sql = match scope {
        Scope::Runtime(_) => EACH_RUNTIME,
        Scope::RuntimesOfWorkspace(_) => EACH_RUNTIMES_OF_WORKSPACE,
        Scope::Workspace(_) => EACH_WORKSPACE,
        Scope::AgentsOfRuntime(_) => EACH_AGENTS_OF_RUNTIME,
        Scope::AgentsOfWorkspace(_) => EACH_AGENTS_OF_WORKSPACE,
    };
    let mut stmt = c.raw().prepare_cached(sql)?;
    let mut rows = stmt.query(params![scope.id(), span, start, end])?;
    while let Some(r) = rows.next()? {
        each(rollup_row(r)?);
    }
    for row in pending
        .iter()
        .filter(|p| start <= p.bucket && p.bucket < end)
    {
        each(RollupRow {
            bucket: bucket_start(row.bucket, span),
            ..row.clone()
        });
    }
    Ok(())
}

/// The deltas of `scope` waiting in `usage_pending`, summed per (15-minute bucket, model,
/// runtime or agent): every read of the scope adds them.
pub fn pending(c: &Conn, scope: Scope) -> DbResult<Vec<RollupRow>> {
    let (_, id, dimension) = columns(scope);
    let sql = format!(
        "SELECT bucket, model_id, {dimension}, {} FROM usage_pending WHERE {id} = ?1 \
         GROUP BY 1, 2, 3",
        sums_of_columns!()
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map([scope.id()], rollup_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A row of columns (bucket, model id, dimension, the sums).
fn rollup_row(r: &Row) -> rusqlite::Result<RollupRow> {
    Ok(RollupRow {
        bucket: r.get(0)?,
        model_id: r.get(1)?,
        dimension: r.get(2)?,
        sums: sums_from(r, 3)?,
    })
}

/// The table a scope reads, its id column and its dimension column (`NULL` when none).
fn columns(scope: Scope) -> (&'static str, &'static str, &'static str) {
    match scope {
        Scope::Runtime(_) => ("usage_rollup", "runtime_id", "NULL"),
        Scope::RuntimesOfWorkspace(_) => ("usage_rollup", "workspace_id", "runtime_id"),
        Scope::Workspace(_) => ("usage_workspace_rollup", "workspace_id", "NULL"),
        Scope::AgentsOfRuntime(_) => ("usage_agent_rollup", "runtime_id", "agent_id"),
        Scope::AgentsOfWorkspace(_) => ("usage_agent_rollup", "workspace_id", "agent_id"),
    }
}

/// `WHERE` of every read: the scope's id column is ?1.
macro_rules! range {
    ($id:literal) => {
        concat!(
            " WHERE ",
            $id,
            " = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4"
        )
    };
}

const EACH_RUNTIME: &str = concat!(
    "SELECT bucket, model_id, NULL, ",
    sum_columns!(),
    " FROM usage_rollup",
    range!("runtime_id"),
    " ORDER BY bucket"
);
const EACH_RUNTIMES_OF_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, runtime_id, ",
    sum_columns!(),
    " FROM usage_rollup",
    range!("workspace_id"),
    " ORDER BY bucket"
);
const EACH_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, NULL, ",
    sum_columns!(),
    " FROM usage_workspace_rollup",
    range!("workspace_id"),
    " ORDER BY bucket"
);
const EACH_AGENTS_OF_RUNTIME: &str = concat!(
    "SELECT bucket, model_id, agent_id, ",
    sum_columns!(),
    " FROM usage_agent_rollup",
    range!("runtime_id"),
    " ORDER BY bucket"
);
const EACH_AGENTS_OF_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, agent_id, ",
    sum_columns!(),
    " FROM usage_agent_rollup",
    range!("workspace_id"),
    " ORDER BY bucket"
);

/// Sums of many ranges of one span in one query (not one query per range): calls `each` with
/// the range's index in `ranges` and the sums of its rows per (runtime or agent, model), then
/// with every `pending` row (of `pending(c, scope)`) that lies in a range. Ranges are
/// `(start, end)` on the span's grid, `start <= bucket < end`.
pub fn summed_ranges(
    c: &Conn,
    scope: Scope,
    pending: &[RollupRow],
    span: i64,
    ranges: &[(i64, i64)],
    mut each: impl FnMut(usize, RollupRow),
) -> DbResult<()> {
    // Far below SQLite's bound-parameter limit per statement.
    const CHUNK: usize = 2_000;
    let (table, id, dimension) = columns(scope);
    for (chunk_at, chunk) in ranges.chunks(CHUNK).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|k| format!("(?{}, ?{}, ?{})", 3 * k + 3, 3 * k + 4, 3 * k + 5))
            .collect();
        // The ranges drive the search (CROSS JOIN fixes the order): each is one index range.
        let sql = format!(
            "WITH r(i, lo, hi) AS (VALUES {}) \
             SELECT r.i, model_id, {dimension}, {} FROM r CROSS JOIN {table} \
             WHERE {id} = ?1 AND span = ?2 AND bucket >= r.lo AND bucket < r.hi \
             GROUP BY r.i, {dimension}, model_id",
            values.join(", "),
            sums_of_columns!()
        );
        let indexes: Vec<i64> = (0..chunk.len())
            .map(|k| (chunk_at * CHUNK + k) as i64)
            .collect();
        let mut bound: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(2 + 3 * chunk.len());
        let key = scope.id();
        bound.push(&key);
        bound.push(&span);
        for (k, (start, end)) in chunk.iter().enumerate() {
            bound.push(&indexes[k]);
            bound.push(start);
            bound.push(end);
        }
        let mut stmt = c.raw().prepare(&sql)?;
        let mut rows = stmt.query(bound.as_slice())?;
        while let Some(r) = rows.next()? {
            let at = usize::try_from(r.get::<_, i64>(0)?).unwrap_or(usize::MAX);
            let Some(&(start, _)) = ranges.get(at) else {
                continue;
            };
            each(
                at,
                RollupRow {
                    bucket: start,
                    model_id: r.get(1)?,
                    dimension: r.get(2)?,
                    sums: sums_from(r, 3)?,
                },
            );
        }
    }
    for row in pending {
        for (at, &(start, end)) in ranges.iter().enumerate() {
            if start <= row.bucket && row.bucket < end {
                each(
                    at,
                    RollupRow {
                        bucket: start,
                        ..row.clone()
                    },
                );
            }
        }
    }
    Ok(())
}
