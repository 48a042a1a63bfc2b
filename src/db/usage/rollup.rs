//! SQL for the usage rollups: three tables of sums over the ledger, each at several bucket
//! spans (schema step 4). `usage_rollup` is keyed by runtime and model, `usage_workspace_rollup`
//! by workspace and model, `usage_agent_rollup` by workspace, agent, runtime and model. The
//! ledger write calls `replace` in its own transaction; reports call `read_each`; `mismatches`
//! compares every rollup with a recomputation from the ledger (for `hangar check` and tests).

use rusqlite::types::{ToSql, ValueRef};
use rusqlite::Row;

use super::LedgerRow;
use crate::db::{Conn, DbResult, Tx};

/// Ticks in one reported-cost "cent" column unit (10⁸ ticks = 0.01 USD).
const TICKS_PER_CENT: i64 = 100_000_000;

/// Milliseconds in one minute of `span`.
const MS_PER_MINUTE: i64 = 60_000;

/// Token counts summed over ledger rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenSums {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
}

/// What a rollup row holds: the ledger rows it sums, their tokens split by whether the row has
/// a reported cost, and the reported cost. Each row's cost is split into whole cents and the
/// remaining ticks before summing, so the two sums never overflow and a delta (new row minus
/// old row) lands on exactly the sums a recomputation gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sums {
    pub ledger_rows: i64,
    /// Tokens of rows without a reported cost: priced from the table at read time.
    pub priced: TokenSums,
    /// Tokens of rows that carry a reported cost.
    pub reported: TokenSums,
    /// Σ cost ÷ 10⁸ ticks over the rows (whole cents).
    pub reported_cents: i64,
    /// Σ cost mod 10⁸ ticks over the rows.
    pub reported_subcent: i64,
}

/// One ledger row's share of the rollups: its keys, its instant and its sums.
#[derive(Debug, Clone, Copy)]
pub struct Contribution<'a> {
    pub workspace_id: &'a str,
    pub runtime_id: &'a str,
    pub agent_id: &'a str,
    pub model_id: i64,
    pub instant: i64,
    pub sums: Sums,
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

/// One rollup row as a report reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    pub bucket: i64,
    pub model_id: i64,
    /// The runtime (`RuntimesOfWorkspace`) or agent (`AgentsOf…`) of the row; `None` otherwise.
    pub dimension: Option<String>,
    pub sums: Sums,
}

impl TokenSums {
    pub fn total(&self) -> i128 {
        i128::from(self.input)
            + i128::from(self.output)
            + i128::from(self.cache_read)
            + i128::from(self.cache_write)
    }

    fn minus(&self, o: &TokenSums) -> TokenSums {
        TokenSums {
            input: self.input - o.input,
            output: self.output - o.output,
            cache_read: self.cache_read - o.cache_read,
            cache_write: self.cache_write - o.cache_write,
        }
    }
}

impl Sums {
    /// The share of one ledger row.
    pub fn of_row(row: &LedgerRow) -> Sums {
        let tokens = TokenSums {
            input: row.input_tokens,
            output: row.output_tokens,
            cache_read: row.cache_read_tokens,
            cache_write: row.cache_write_tokens,
        };
        match row.cost_ticks {
            Some(ticks) => Sums {
                ledger_rows: 1,
                reported: tokens,
                reported_cents: ticks.div_euclid(TICKS_PER_CENT),
                reported_subcent: ticks.rem_euclid(TICKS_PER_CENT),
                ..Sums::default()
            },
            None => Sums {
                ledger_rows: 1,
                priced: tokens,
                ..Sums::default()
            },
        }
    }

    fn minus(&self, o: &Sums) -> Sums {
        Sums {
            ledger_rows: self.ledger_rows - o.ledger_rows,
            priced: self.priced.minus(&o.priced),
            reported: self.reported.minus(&o.reported),
            reported_cents: self.reported_cents - o.reported_cents,
            reported_subcent: self.reported_subcent - o.reported_subcent,
        }
    }

    /// The reported cost in ticks.
    pub fn reported_ticks(&self) -> i128 {
        i128::from(self.reported_cents) * i128::from(TICKS_PER_CENT)
            + i128::from(self.reported_subcent)
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

impl Scope<'_> {
    /// The bucket spans (minutes, ascending, each dividing the next) the scope's table holds.
    pub fn spans(&self) -> &'static [i64] {
        match self {
            Scope::Runtime(_) | Scope::RuntimesOfWorkspace(_) => Family::Runtime.spans(),
            Scope::Workspace(_) => Family::Workspace.spans(),
            Scope::AgentsOfRuntime(_) | Scope::AgentsOfWorkspace(_) => Family::Agent.spans(),
        }
    }
}

/// Moves a ledger row's share in every rollup from `old` (its previous state, if any) to
/// `new`, in the caller's transaction. Where both land in the same rollup row only the
/// difference is written; a row left summing no ledger rows is deleted.
pub fn replace(tx: &Tx, old: Option<&Contribution>, new: &Contribution) -> DbResult<()> {
    for family in FAMILIES {
        for &span in family.spans() {
            let new_key = family.key(new, span);
            match old.map(|o| (o, family.key(o, span))) {
                Some((o, old_key)) if old_key == new_key => {
                    let delta = new.sums.minus(&o.sums);
                    if !delta.is_zero() {
                        add(tx, family, &new_key, &delta)?;
                    }
                }
                Some((o, old_key)) => {
                    add(tx, family, &old_key, &Sums::default().minus(&o.sums))?;
                    add(tx, family, &new_key, &new.sums)?;
                }
                None => add(tx, family, &new_key, &new.sums)?,
            }
        }
    }
    Ok(())
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
    let (sql, id) = match scope {
        Scope::Runtime(id) => (READ_RUNTIME, id),
        Scope::RuntimesOfWorkspace(id) => (READ_RUNTIMES_OF_WORKSPACE, id),
        Scope::Workspace(id) => (READ_WORKSPACE, id),
        Scope::AgentsOfRuntime(id) => (READ_AGENTS_OF_RUNTIME, id),
        Scope::AgentsOfWorkspace(id) => (READ_AGENTS_OF_WORKSPACE, id),
    };
    let mut stmt = c.raw().prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params![id, span, start, end])?;
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

/// Every difference between the rollups and a full recomputation from the ledger, one line
/// each (empty when they agree).
pub fn mismatches(c: &Conn) -> DbResult<Vec<String>> {
    let mut out = Vec::new();
    for family in FAMILIES {
        let keys = family.key_columns();
        for &span in family.spans() {
            let fresh = family.recompute_sql();
            let stored = format!(
                "SELECT {keys}, {SUM_COLUMNS} FROM {} WHERE span = ?1",
                family.table()
            );
            for (label, a, b) in [
                ("missing or wrong", &fresh, &stored),
                ("stale", &stored, &fresh),
            ] {
                let sql = format!("{a} EXCEPT {b}");
                let mut stmt = c.raw().prepare(&sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query([span])?;
                while let Some(r) = rows.next()? {
                    let values: Vec<String> = (0..columns)
                        .map(|i| match r.get_ref(i) {
                            Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                            Ok(ValueRef::Integer(n)) => n.to_string(),
                            Ok(other) => format!("{other:?}"),
                            Err(e) => e.to_string(),
                        })
                        .collect();
                    out.push(format!(
                        "{} span {span} {label}: ({keys}, {SUM_COLUMNS}) = ({})",
                        family.table(),
                        values.join(", ")
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Row counts of the ledger and each rollup table, for benchmarks and operators.
pub fn table_rows(c: &Conn) -> DbResult<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for table in [
        "task_usage",
        "usage_rollup",
        "usage_workspace_rollup",
        "usage_agent_rollup",
    ] {
        let n = c
            .raw()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        out.push((table, n));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Runtime,
    Workspace,
    Agent,
}

const FAMILIES: [Family; 3] = [Family::Runtime, Family::Workspace, Family::Agent];

/// A rollup row's identity. Every statement binds the same parameters: ?1 workspace,
/// ?2 runtime, ?3 agent, ?4 span, ?5 bucket, ?6 model, then the sums from ?7; each table's
/// SQL uses the keys it has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key<'a> {
    workspace_id: &'a str,
    runtime_id: &'a str,
    agent_id: &'a str,
    span: i64,
    bucket: i64,
    model_id: i64,
}

impl Family {
    fn spans(self) -> &'static [i64] {
        match self {
            Family::Runtime | Family::Workspace => &[15, 60, 1440],
            // Agent windows have no per-day grouping: quarters for the edge, days for the rest.
            Family::Agent => &[15, 1440],
        }
    }

    fn table(self) -> &'static str {
        match self {
            Family::Runtime => "usage_rollup",
            Family::Workspace => "usage_workspace_rollup",
            Family::Agent => "usage_agent_rollup",
        }
    }

    fn key_columns(self) -> &'static str {
        match self {
            Family::Runtime => "runtime_id, span, bucket, model_id, workspace_id",
            Family::Workspace => "workspace_id, span, bucket, model_id",
            Family::Agent => "workspace_id, span, bucket, agent_id, runtime_id, model_id",
        }
    }

    /// The key of `c`'s row at `span`, holding only the ids this table is keyed by.
    fn key<'a>(self, c: &Contribution<'a>, span: i64) -> Key<'a> {
        let span_ms = span * MS_PER_MINUTE;
        let full = Key {
            workspace_id: c.workspace_id,
            runtime_id: c.runtime_id,
            agent_id: c.agent_id,
            span,
            bucket: c.instant - c.instant.rem_euclid(span_ms),
            model_id: c.model_id,
        };
        match self {
            Family::Runtime => Key {
                agent_id: "",
                ..full
            },
            Family::Workspace => Key {
                runtime_id: "",
                agent_id: "",
                ..full
            },
            Family::Agent => full,
        }
    }

    fn upsert_sql(self) -> &'static str {
        match self {
            Family::Runtime => UPSERT_RUNTIME,
            Family::Workspace => UPSERT_WORKSPACE,
            Family::Agent => UPSERT_AGENT,
        }
    }

    fn delete_sql(self) -> &'static str {
        match self {
            Family::Runtime => DELETE_RUNTIME,
            Family::Workspace => DELETE_WORKSPACE,
            Family::Agent => DELETE_AGENT,
        }
    }

    /// The table's rows recomputed from the ledger at span ?1, columns as `key_columns` then
    /// `SUM_COLUMNS`.
    fn recompute_sql(self) -> String {
        let group = match self {
            Family::Runtime => "u.runtime_id, bucket, m.id, u.workspace_id",
            Family::Workspace => "u.workspace_id, bucket, m.id",
            Family::Agent => "u.workspace_id, bucket, u.agent_id, u.runtime_id, m.id",
        };
        let keys = match self {
            Family::Runtime => "u.runtime_id, ?1, BUCKET, m.id, u.workspace_id",
            Family::Workspace => "u.workspace_id, ?1, BUCKET, m.id",
            Family::Agent => "u.workspace_id, ?1, BUCKET, u.agent_id, u.runtime_id, m.id",
        }
        .replace(
            "BUCKET",
            "u.occurred_at - ((u.occurred_at % (?1 * 60000)) + ?1 * 60000) % (?1 * 60000) AS bucket",
        );
        format!(
            "SELECT {keys}, COUNT(*),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN u.input_tokens ELSE 0 END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN u.output_tokens ELSE 0 END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN u.cache_read_tokens ELSE 0 END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN u.cache_write_tokens ELSE 0 END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN 0 ELSE u.input_tokens END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN 0 ELSE u.output_tokens END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN 0 ELSE u.cache_read_tokens END),
                SUM(CASE WHEN u.cost_ticks IS NULL THEN 0 ELSE u.cache_write_tokens END),
                SUM(COALESCE(u.cost_ticks, 0) / {TICKS_PER_CENT}),
                SUM(COALESCE(u.cost_ticks, 0) % {TICKS_PER_CENT})
             FROM task_usage u JOIN usage_model m ON m.provider = u.provider AND m.model = u.model
             GROUP BY {group}"
        )
    }
}

/// Adds `delta` to the row at `key`, creating it if needed and deleting it once it sums no
/// ledger rows.
fn add(tx: &Tx, family: Family, key: &Key, delta: &Sums) -> DbResult<()> {
    let keys: [&dyn ToSql; 6] = [
        &key.workspace_id,
        &key.runtime_id,
        &key.agent_id,
        &key.span,
        &key.bucket,
        &key.model_id,
    ];
    let sums: [&dyn ToSql; 11] = [
        &delta.ledger_rows,
        &delta.priced.input,
        &delta.priced.output,
        &delta.priced.cache_read,
        &delta.priced.cache_write,
        &delta.reported.input,
        &delta.reported.output,
        &delta.reported.cache_read,
        &delta.reported.cache_write,
        &delta.reported_cents,
        &delta.reported_subcent,
    ];
    let params: Vec<&dyn ToSql> = keys.iter().chain(sums.iter()).copied().collect();
    let mut upsert = tx.raw().prepare_cached(family.upsert_sql())?;
    let rows_left: i64 = upsert.query_row(params.as_slice(), |r| r.get(0))?;
    if rows_left == 0 {
        let identity: Vec<&dyn ToSql> = match family {
            Family::Runtime => vec![&key.runtime_id, &key.span, &key.bucket, &key.model_id],
            Family::Workspace => vec![&key.workspace_id, &key.span, &key.bucket, &key.model_id],
            Family::Agent => vec![
                &key.workspace_id,
                &key.span,
                &key.bucket,
                &key.agent_id,
                &key.runtime_id,
                &key.model_id,
            ],
        };
        let mut delete = tx.raw().prepare_cached(family.delete_sql())?;
        delete.execute(identity.as_slice())?;
    }
    Ok(())
}

fn sums_from(r: &Row, at: usize) -> rusqlite::Result<Sums> {
    Ok(Sums {
        ledger_rows: r.get(at)?,
        priced: TokenSums {
            input: r.get(at + 1)?,
            output: r.get(at + 2)?,
            cache_read: r.get(at + 3)?,
            cache_write: r.get(at + 4)?,
        },
        reported: TokenSums {
            input: r.get(at + 5)?,
            output: r.get(at + 6)?,
            cache_read: r.get(at + 7)?,
            cache_write: r.get(at + 8)?,
        },
        reported_cents: r.get(at + 9)?,
        reported_subcent: r.get(at + 10)?,
    })
}

macro_rules! sum_columns {
    () => {
        "ledger_rows, priced_input, priced_output, priced_cache_read, priced_cache_write, \
         reported_input, reported_output, reported_cache_read, reported_cache_write, \
         reported_cents, reported_subcent"
    };
}

macro_rules! add_sums {
    () => {
        "ledger_rows = ledger_rows + excluded.ledger_rows, \
         priced_input = priced_input + excluded.priced_input, \
         priced_output = priced_output + excluded.priced_output, \
         priced_cache_read = priced_cache_read + excluded.priced_cache_read, \
         priced_cache_write = priced_cache_write + excluded.priced_cache_write, \
         reported_input = reported_input + excluded.reported_input, \
         reported_output = reported_output + excluded.reported_output, \
         reported_cache_read = reported_cache_read + excluded.reported_cache_read, \
         reported_cache_write = reported_cache_write + excluded.reported_cache_write, \
         reported_cents = reported_cents + excluded.reported_cents, \
         reported_subcent = reported_subcent + excluded.reported_subcent \
         RETURNING ledger_rows"
    };
}

const SUM_COLUMNS: &str = sum_columns!();

const UPSERT_RUNTIME: &str = concat!(
    "INSERT INTO usage_rollup (runtime_id, span, bucket, model_id, workspace_id, ",
    sum_columns!(),
    ") VALUES (?2, ?4, ?5, ?6, ?1, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
     ON CONFLICT (runtime_id, span, bucket, model_id) DO UPDATE SET ",
    add_sums!()
);
const UPSERT_WORKSPACE: &str = concat!(
    "INSERT INTO usage_workspace_rollup (workspace_id, span, bucket, model_id, ",
    sum_columns!(),
    ") VALUES (?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
     ON CONFLICT (workspace_id, span, bucket, model_id) DO UPDATE SET ",
    add_sums!()
);
const UPSERT_AGENT: &str = concat!(
    "INSERT INTO usage_agent_rollup (workspace_id, span, bucket, agent_id, runtime_id, model_id, ",
    sum_columns!(),
    ") VALUES (?1, ?4, ?5, ?3, ?2, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
     ON CONFLICT (workspace_id, span, bucket, agent_id, runtime_id, model_id) DO UPDATE SET ",
    add_sums!()
);

const DELETE_RUNTIME: &str = "DELETE FROM usage_rollup
     WHERE runtime_id = ?1 AND span = ?2 AND bucket = ?3 AND model_id = ?4";
const DELETE_WORKSPACE: &str = "DELETE FROM usage_workspace_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket = ?3 AND model_id = ?4";
const DELETE_AGENT: &str = "DELETE FROM usage_agent_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket = ?3 AND agent_id = ?4 AND runtime_id = ?5
       AND model_id = ?6";

const READ_RUNTIME: &str = concat!(
    "SELECT bucket, model_id, NULL, ",
    sum_columns!(),
    " FROM usage_rollup WHERE runtime_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4
     ORDER BY bucket"
);
const READ_RUNTIMES_OF_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, runtime_id, ",
    sum_columns!(),
    " FROM usage_rollup WHERE workspace_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4
     ORDER BY bucket"
);
const READ_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, NULL, ",
    sum_columns!(),
    " FROM usage_workspace_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4 ORDER BY bucket"
);
const READ_AGENTS_OF_RUNTIME: &str = concat!(
    "SELECT bucket, model_id, agent_id, ",
    sum_columns!(),
    " FROM usage_agent_rollup WHERE runtime_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4
     ORDER BY bucket"
);
const READ_AGENTS_OF_WORKSPACE: &str = concat!(
    "SELECT bucket, model_id, agent_id, ",
    sum_columns!(),
    " FROM usage_agent_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4 ORDER BY bucket"
);
