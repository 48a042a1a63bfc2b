//! SQL that keeps the usage rollups: three tables of sums over the ledger, each at several
//! bucket spans (schema step 5). `usage_rollup` is keyed by runtime and model,
//! `usage_workspace_rollup` by workspace and model, `usage_agent_rollup` by workspace, agent,
//! runtime and model. A usage report `defer`s its shares to `usage_pending` in its own
//! transaction (schema step 12) and `fold_pending` later adds them to the three tables in
//! batches; bulk seeding adds shares at once with `replace`. Readers add the pending rows to
//! what they read. `mismatches` compares every rollup, pending rows included, with a
//! recomputation from the ledger (for `hangar check` and tests).

use std::collections::HashMap;

use rusqlite::types::{ToSql, ValueRef};
use rusqlite::Row;

use super::LedgerRow;
use crate::db::{value_rows, Conn, DbResult, Tx};

/// Ticks in one reported-cost "cent" column unit (10⁸ ticks = 0.01 USD).
const TICKS_PER_CENT: i64 = 100_000_000;

/// Milliseconds in one minute of `span`.
const MS_PER_MINUTE: i64 = 60_000;

/// The bucket spans (minutes) each table holds: ascending, each dividing the next.
pub const RUNTIME_SPANS: &[i64] = &[15, 60, 1440];
pub const WORKSPACE_SPANS: &[i64] = &[15, 60, 1440];
/// Agent reports have no per-day grouping: quarters for the window's edge, days for the rest.
pub const AGENT_SPANS: &[i64] = &[15, 1440];

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

    /// `self + o`.
    fn plus(&self, o: &Sums) -> Sums {
        self.minus(&Sums::default().minus(o))
    }

    /// `self − o`.
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

/// Moves each ledger row's share in every rollup from its previous state (if any) to its new
/// one at once, in the caller's transaction (bulk seeding; a report `defer`s instead).
pub fn replace(tx: &Tx, changes: &[(Option<Contribution>, Contribution)]) -> DbResult<()> {
    add(tx, &signed(changes))
}

/// Appends the shares of `changes` to `usage_pending` for `fold_pending` to add to the rollups
/// later, in the caller's transaction: netted per (workspace, runtime, agent, model, 15-minute
/// bucket), in one statement.
pub fn defer(tx: &Tx, changes: &[(Option<Contribution>, Contribution)]) -> DbResult<()> {
    let mut deltas: Vec<(Key, Sums)> = Vec::new();
    let mut at: HashMap<Key, usize> = HashMap::new();
    for share in signed(changes) {
        // The agent family's key holds every id.
        let key = Family::Agent.key(&share, PENDING_SPAN);
        net(&mut deltas, &mut at, key, share.sums);
    }
    deltas.retain(|(_, d)| !d.is_zero());
    if deltas.is_empty() {
        return Ok(());
    }
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(deltas.len() * 16);
    for (key, d) in &deltas {
        params.extend::<[&dyn ToSql; 5]>([
            &key.workspace_id,
            &key.runtime_id,
            &key.agent_id,
            &key.model_id,
            &key.bucket,
        ]);
        params.extend(sum_params(d));
    }
    let sql = format!(
        "INSERT INTO usage_pending ({PENDING_KEY_COLUMNS}, {SUM_COLUMNS}) VALUES {}",
        value_rows(deltas.len(), 16)
    );
    tx.raw().prepare_cached(&sql)?.execute(params.as_slice())?;
    Ok(())
}

/// Adds the oldest `limit` rows of `usage_pending` to the rollups and deletes them, in the
/// caller's transaction; returns how many it folded.
pub fn fold_pending(tx: &Tx, limit: i64) -> DbResult<usize> {
    let sql = format!(
        "SELECT seq, {PENDING_KEY_COLUMNS}, {SUM_COLUMNS} FROM usage_pending
         ORDER BY seq LIMIT ?1"
    );
    let mut stmt = tx.raw().prepare_cached(&sql)?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(PendingRow {
                seq: r.get(0)?,
                workspace_id: r.get(1)?,
                runtime_id: r.get(2)?,
                agent_id: r.get(3)?,
                model_id: r.get(4)?,
                bucket: r.get(5)?,
                sums: sums_from(r, 6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(0);
    };
    let shares: Vec<Contribution> = rows
        .iter()
        .map(|r| Contribution {
            workspace_id: &r.workspace_id,
            runtime_id: &r.runtime_id,
            agent_id: &r.agent_id,
            model_id: r.model_id,
            instant: r.bucket,
            sums: r.sums,
        })
        .collect();
    add(tx, &shares)?;
    tx.raw()
        .prepare_cached("DELETE FROM usage_pending WHERE seq <= ?1")?
        .execute([last])?;
    Ok(rows.len())
}

/// Whether any usage delta waits to be folded into the rollups.
pub fn has_pending(c: &Conn) -> DbResult<bool> {
    Ok(c.raw()
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM usage_pending)")?
        .query_row([], |r| r.get(0))?)
}

/// One row of `usage_pending`.
struct PendingRow {
    seq: i64,
    workspace_id: String,
    runtime_id: String,
    agent_id: String,
    model_id: i64,
    bucket: i64,
    sums: Sums,
}

/// Each change as shares to add: the old share (if any) negated, then the new one.
fn signed<'a>(changes: &[(Option<Contribution<'a>>, Contribution<'a>)]) -> Vec<Contribution<'a>> {
    let mut shares = Vec::with_capacity(changes.len() * 2);
    for (old, new) in changes {
        if let Some(old) = old {
            shares.push(Contribution {
                sums: Sums::default().minus(&old.sums),
                ..*old
            });
        }
        shares.push(*new);
    }
    shares
}

/// Adds `shares` to every rollup. Shares landing in the same rollup row are netted first, each
/// table then gets multi-row upserts (a statement per `UPSERT_ROWS` rows, not one per row),
/// and rows left summing no ledger rows are deleted. The only writer of rollup rows, and part
/// of every fold: it draws the rollups' new version (schema step 13) even when the shares
/// cancel out, as the pending deltas a fold ends may.
fn add(tx: &Tx, shares: &[Contribution]) -> DbResult<()> {
    new_version(tx)?;
    for family in FAMILIES {
        let mut deltas: Vec<(Key, Sums)> = Vec::new();
        let mut at: HashMap<Key, usize> = HashMap::new();
        for share in shares {
            for &span in family.spans() {
                net(&mut deltas, &mut at, family.key(share, span), share.sums);
            }
        }
        deltas.retain(|(_, d)| !d.is_zero());
        for chunk in deltas.chunks(UPSERT_ROWS) {
            upsert(tx, family, chunk)?;
        }
        for (key, delta) in &deltas {
            if delta.ledger_rows < 0 {
                delete_if_empty(tx, family, key)?;
            }
        }
    }
    Ok(())
}

/// Gives the rollups a new random version: what budgets kept of them is stale (schema step 13).
fn new_version(tx: &Tx) -> DbResult<()> {
    tx.raw()
        .prepare_cached("UPDATE usage_rollup_version SET version = random() WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// Every difference between the rollups and a full recomputation from the ledger, one line
/// each (empty when they agree).
pub fn mismatches(c: &Conn) -> DbResult<Vec<String>> {
    let mut out = Vec::new();
    for family in FAMILIES {
        let keys = family.key_columns();
        for &span in family.spans() {
            let stored = family.stored_sql();
            for (label, values) in differences(c, &family.recompute_sql(), &stored, &[&span])? {
                out.push(format!(
                    "{} span {span} {label}: ({keys}, {SUM_COLUMNS}) = ({values})",
                    family.table()
                ));
            }
        }
    }
    Ok(out)
}

/// How a rollup differs from its recomputation: the rows of `fresh` missing from `stored`
/// ("missing or wrong") and those of `stored` missing from `fresh` ("stale"), each with its
/// values as comma-separated text. Both queries take `params`.
pub fn differences(
    c: &Conn,
    fresh: &str,
    stored: &str,
    params: &[&dyn ToSql],
) -> DbResult<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for (label, a, b) in [
        ("missing or wrong", fresh, stored),
        ("stale", stored, fresh),
    ] {
        let mut stmt = c.raw().prepare(&format!("{a} EXCEPT {b}"))?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            let values: Vec<String> = (0..columns)
                .map(|i| match r.get_ref(i) {
                    Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                    Ok(ValueRef::Integer(n)) => n.to_string(),
                    Ok(other) => format!("{other:?}"),
                    Err(e) => e.to_string(),
                })
                .collect();
            out.push((label, values.join(", ")));
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
        "usage_pending",
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

/// A rollup row's identity; ids a table is not keyed by are left empty (`Family::key`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            Family::Runtime => RUNTIME_SPANS,
            Family::Workspace => WORKSPACE_SPANS,
            Family::Agent => AGENT_SPANS,
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
        let full = Key {
            workspace_id: c.workspace_id,
            runtime_id: c.runtime_id,
            agent_id: c.agent_id,
            span,
            bucket: bucket_start(c.instant, span),
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

    /// The key columns of `key` in this table's column order (`key_columns` without the
    /// workspace of `usage_rollup`, which follows them).
    fn identity<'k>(self, key: &'k Key) -> Vec<&'k dyn ToSql> {
        match self {
            Family::Runtime => vec![
                &key.runtime_id,
                &key.span,
                &key.bucket,
                &key.model_id,
                &key.workspace_id,
            ],
            Family::Workspace => vec![&key.workspace_id, &key.span, &key.bucket, &key.model_id],
            Family::Agent => vec![
                &key.workspace_id,
                &key.span,
                &key.bucket,
                &key.agent_id,
                &key.runtime_id,
                &key.model_id,
            ],
        }
    }

    /// The table's rows at span ?1 as readers see them: its own rows plus the pending deltas
    /// at that span, rows summing to nothing left out. Columns as `recompute_sql`.
    fn stored_sql(self) -> String {
        let keys = self.key_columns();
        let pending_keys = match self {
            Family::Runtime => "runtime_id, ?1, BUCKET, model_id, workspace_id",
            Family::Workspace => "workspace_id, ?1, BUCKET, model_id",
            Family::Agent => "workspace_id, ?1, BUCKET, agent_id, runtime_id, model_id",
        }
        .replace(
            "BUCKET",
            "bucket - ((bucket % (?1 * 60000)) + ?1 * 60000) % (?1 * 60000)",
        );
        let sums: Vec<&str> = SUM_COLUMNS.split(", ").collect();
        let summed: Vec<String> = sums.iter().map(|c| format!("SUM({c})")).collect();
        let any: Vec<String> = summed.iter().map(|c| format!("{c} <> 0")).collect();
        format!(
            "SELECT {keys}, {} FROM (
                SELECT {keys}, {SUM_COLUMNS} FROM {} WHERE span = ?1
                UNION ALL SELECT {pending_keys}, {SUM_COLUMNS} FROM usage_pending)
             GROUP BY {keys} HAVING {}",
            summed.join(", "),
            self.table(),
            any.join(" OR ")
        )
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

/// Adds `sums` to the delta of `key`, appending a new delta for a key not seen yet.
fn net<'a>(
    deltas: &mut Vec<(Key<'a>, Sums)>,
    at: &mut HashMap<Key<'a>, usize>,
    key: Key<'a>,
    sums: Sums,
) {
    match at.get(&key) {
        Some(&i) => deltas[i].1 = deltas[i].1.plus(&sums),
        None => {
            at.insert(key.clone(), deltas.len());
            deltas.push((key, sums));
        }
    }
}

/// Adds each delta to its row, creating rows as needed, in one statement.
fn upsert(tx: &Tx, family: Family, deltas: &[(Key, Sums)]) -> DbResult<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let (table, columns, conflict) = match family {
        Family::Runtime => (
            "usage_rollup",
            "runtime_id, span, bucket, model_id, workspace_id",
            "runtime_id, span, bucket, model_id",
        ),
        Family::Workspace => (
            "usage_workspace_rollup",
            "workspace_id, span, bucket, model_id",
            "workspace_id, span, bucket, model_id",
        ),
        Family::Agent => (
            "usage_agent_rollup",
            "workspace_id, span, bucket, agent_id, runtime_id, model_id",
            "workspace_id, span, bucket, agent_id, runtime_id, model_id",
        ),
    };
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(deltas.len() * 17);
    for (key, d) in deltas {
        params.extend(family.identity(key));
        params.extend(sum_params(d));
    }
    let sql = format!(
        "INSERT INTO {table} ({columns}, {SUM_COLUMNS}) VALUES {}
         ON CONFLICT ({conflict}) DO UPDATE SET {}",
        value_rows(deltas.len(), params.len() / deltas.len()),
        ADD_SUMS
    );
    // A fold's statements of odd lengths are prepared afresh, so that they do not push the
    // reports' statements out of the writer's cache.
    if deltas.len() <= CACHED_UPSERT_ROWS || deltas.len() == UPSERT_ROWS {
        tx.raw().prepare_cached(&sql)?.execute(params.as_slice())?;
    } else {
        tx.raw().prepare(&sql)?.execute(params.as_slice())?;
    }
    Ok(())
}

/// The sum columns of `d`, in the order of `sum_columns!`.
fn sum_params(d: &Sums) -> [&dyn ToSql; 11] {
    [
        &d.ledger_rows,
        &d.priced.input,
        &d.priced.output,
        &d.priced.cache_read,
        &d.priced.cache_write,
        &d.reported.input,
        &d.reported.output,
        &d.reported.cache_read,
        &d.reported.cache_write,
        &d.reported_cents,
        &d.reported_subcent,
    ]
}

/// Deletes the row at `key` if it no longer sums any ledger row.
fn delete_if_empty(tx: &Tx, family: Family, key: &Key) -> DbResult<()> {
    let sql = match family {
        Family::Runtime => DELETE_RUNTIME,
        Family::Workspace => DELETE_WORKSPACE,
        Family::Agent => DELETE_AGENT,
    };
    tx.raw()
        .prepare_cached(sql)?
        .execute(family.identity(key).as_slice())?;
    Ok(())
}

/// The start of the `span`-minute bucket that holds `instant` (Unix ms).
pub(super) fn bucket_start(instant: i64, span: i64) -> i64 {
    instant - instant.rem_euclid(span * MS_PER_MINUTE)
}

/// The sums in columns `at..at + 11` (the order of `sum_columns!`).
pub(super) fn sums_from(r: &Row, at: usize) -> rusqlite::Result<Sums> {
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

const SUM_COLUMNS: &str = sum_columns!();

/// The bucket span (minutes) of `usage_pending`: the finest, of which every coarser span's
/// buckets are unions.
const PENDING_SPAN: i64 = 15;

/// The key columns of `usage_pending`, in the order `defer` binds them.
const PENDING_KEY_COLUMNS: &str = "workspace_id, runtime_id, agent_id, model_id, bucket";

/// Rows per upsert statement: far below SQLite's bound-parameter limit at 17 per row.
const UPSERT_ROWS: usize = 500;

/// Upserts of at most this many rows (a small fold's, a test's) keep their statement cached.
const CACHED_UPSERT_ROWS: usize = 32;

const ADD_SUMS: &str = "ledger_rows = ledger_rows + excluded.ledger_rows, \
     priced_input = priced_input + excluded.priced_input, \
     priced_output = priced_output + excluded.priced_output, \
     priced_cache_read = priced_cache_read + excluded.priced_cache_read, \
     priced_cache_write = priced_cache_write + excluded.priced_cache_write, \
     reported_input = reported_input + excluded.reported_input, \
     reported_output = reported_output + excluded.reported_output, \
     reported_cache_read = reported_cache_read + excluded.reported_cache_read, \
     reported_cache_write = reported_cache_write + excluded.reported_cache_write, \
     reported_cents = reported_cents + excluded.reported_cents, \
     reported_subcent = reported_subcent + excluded.reported_subcent";

// `?5` (the workspace) is bound to keep one parameter list per table; `usage_rollup` is keyed
// without it.
const DELETE_RUNTIME: &str = "DELETE FROM usage_rollup
     WHERE runtime_id = ?1 AND span = ?2 AND bucket = ?3 AND model_id = ?4 AND ledger_rows = 0
       AND workspace_id = ?5";
const DELETE_WORKSPACE: &str = "DELETE FROM usage_workspace_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket = ?3 AND model_id = ?4 AND ledger_rows = 0";
const DELETE_AGENT: &str = "DELETE FROM usage_agent_rollup
     WHERE workspace_id = ?1 AND span = ?2 AND bucket = ?3 AND agent_id = ?4 AND runtime_id = ?5
       AND model_id = ?6 AND ledger_rows = 0";

/// One ledger row's share for tests: `input` priced tokens of model 1 at `instant`, for
/// workspace `ws`, runtime `rt` and agent `agent`.
#[cfg(test)]
pub(crate) fn test_share(input: i64, instant: i64) -> Contribution<'static> {
    Contribution {
        workspace_id: "ws",
        runtime_id: "rt",
        agent_id: "agent",
        model_id: 1,
        instant,
        sums: Sums {
            ledger_rows: 1,
            priced: TokenSums {
                input,
                ..TokenSums::default()
            },
            ..Sums::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::budgets::rollup_version;
    use crate::db::{Db, OpenMode};

    /// True when `write` gave the rollups a new version.
    fn moves_version(db: &Db, write: impl FnOnce(&Tx) -> DbResult<()>) -> bool {
        let before = db.read(rollup_version).unwrap();
        db.write_tx(write).unwrap();
        db.read(rollup_version).unwrap() != before
    }

    #[test]
    fn every_rollup_write_and_every_fold_draws_a_new_version_and_an_append_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("v.db"), OpenMode::ReadWrite, 2).unwrap();
        let day = 1_781_524_800_000;
        // Readers sum the deltas appended after the last they read: no new version.
        assert!(!moves_version(&db, |tx| defer(
            tx,
            &[(None, test_share(5, day))]
        )));
        assert!(moves_version(&db, |tx| fold_pending(tx, 10).map(|_| ())));
        // A row reported a day earlier, then moved back to today: its first two deltas
        // cancel, and folding only them writes no rollup row but still ends pending rows.
        let rows = |db: &Db| {
            let mut counts = db.read(table_rows).unwrap();
            counts.retain(|(table, _)| table.ends_with("rollup"));
            counts
        };
        let before = rows(&db);
        let earlier = test_share(7, day - 86_400_000);
        let changes = [(None, earlier), (Some(earlier), test_share(7, day))];
        assert!(!moves_version(&db, |tx| {
            defer(tx, &changes[..1])?;
            defer(tx, &changes[1..])
        }));
        assert!(moves_version(&db, |tx| fold_pending(tx, 2).map(|_| ())));
        assert_eq!(
            rows(&db),
            before,
            "the cancelling deltas wrote a rollup row"
        );
        assert!(db.read(has_pending).unwrap());
        // Bulk seeding writes the rollups directly.
        assert!(moves_version(&db, |tx| replace(
            tx,
            &[(None, test_share(1, day))]
        )));
    }
}
