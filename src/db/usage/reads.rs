//! What the usage reports read from the rollups: the rows of one scope at one span in a bucket
//! range, either one by one (`read_each`, for buckets that must be grouped separately) or
//! already summed per (runtime or agent, model) by SQLite (`summed`, for a range that lies in
//! one report group), which keeps long windows cheap.

use rusqlite::params;

use super::rollup::{sums_from, Sums, AGENT_SPANS, RUNTIME_SPANS, WORKSPACE_SPANS};
use crate::db::{Conn, DbResult};

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

/// Sums of rollup rows of one bucket (`read_each`) or of a whole range (`summed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    /// The bucket's start; for `summed` rows, the range's start.
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
/// bucket order.
pub fn read_each(
    c: &Conn,
    scope: Scope,
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
        each(RollupRow {
            bucket: r.get(0)?,
            model_id: r.get(1)?,
            dimension: r.get(2)?,
            sums: sums_from(r, 3)?,
        });
    }
    Ok(())
}

/// Calls `each` once per (runtime or agent, model) of `scope` at `span` minutes with
/// `start <= bucket < end`, with the sums of the whole range (`bucket` is `start`).
pub fn summed(
    c: &Conn,
    scope: Scope,
    span: i64,
    start: i64,
    end: i64,
    mut each: impl FnMut(RollupRow),
) -> DbResult<()> {
    let sql = match scope {
        Scope::Runtime(_) => SUM_RUNTIME,
        Scope::RuntimesOfWorkspace(_) => SUM_RUNTIMES_OF_WORKSPACE,
        Scope::Workspace(_) => SUM_WORKSPACE,
        Scope::AgentsOfRuntime(_) => SUM_AGENTS_OF_RUNTIME,
        Scope::AgentsOfWorkspace(_) => SUM_AGENTS_OF_WORKSPACE,
    };
    let mut stmt = c.raw().prepare_cached(sql)?;
    let mut rows = stmt.query(params![scope.id(), span, start, end])?;
    while let Some(r) = rows.next()? {
        each(RollupRow {
            bucket: start,
            model_id: r.get(0)?,
            dimension: r.get(1)?,
            sums: sums_from(r, 2)?,
        });
    }
    Ok(())
}

macro_rules! sums_of_columns {
    () => {
        "SUM(ledger_rows), SUM(priced_input), SUM(priced_output), SUM(priced_cache_read), \
         SUM(priced_cache_write), SUM(reported_input), SUM(reported_output), \
         SUM(reported_cache_read), SUM(reported_cache_write), SUM(reported_cents), \
         SUM(reported_subcent)"
    };
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

const SUM_RUNTIME: &str = concat!(
    "SELECT model_id, NULL, ",
    sums_of_columns!(),
    " FROM usage_rollup",
    range!("runtime_id"),
    " GROUP BY model_id"
);
const SUM_RUNTIMES_OF_WORKSPACE: &str = concat!(
    "SELECT model_id, runtime_id, ",
    sums_of_columns!(),
    " FROM usage_rollup",
    range!("workspace_id"),
    " GROUP BY runtime_id, model_id"
);
const SUM_WORKSPACE: &str = concat!(
    "SELECT model_id, NULL, ",
    sums_of_columns!(),
    " FROM usage_workspace_rollup",
    range!("workspace_id"),
    " GROUP BY model_id"
);
const SUM_AGENTS_OF_RUNTIME: &str = concat!(
    "SELECT model_id, agent_id, ",
    sums_of_columns!(),
    " FROM usage_agent_rollup",
    range!("runtime_id"),
    " GROUP BY agent_id, model_id"
);
const SUM_AGENTS_OF_WORKSPACE: &str = concat!(
    "SELECT model_id, agent_id, ",
    sums_of_columns!(),
    " FROM usage_agent_rollup",
    range!("workspace_id"),
    " GROUP BY agent_id, model_id"
);
