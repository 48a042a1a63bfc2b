//! What budget evaluation keeps across transactions of the spend it reads. Every usage report
//! re-measures the budgets watching its task: the sums of the scope's rollup rows over the
//! period, plus its deltas still pending. Between two folds (100 ms) the rollups do not change
//! and the pending deltas only grow, by the reports' appends, while reports arrive by the
//! thousand; so this keeps the rollup sums it read, and per scope the pending deltas it has
//! summed so far, and a report reads only the deltas appended since.
//!
//! Kept spend is used only while it is still what the transaction would read:
//! - every write of rollup rows and every fold of pending deltas, on any connection, draws a
//!   new random version (schema step 13, `db::usage::rollup`): a kept read is used only at the
//!   version it was read at;
//! - a write the writer rolls back (a failed report, or a batch that could not commit) may have
//!   appended deltas that are then gone, and their `seq` reused: `Db::rollbacks` counts those,
//!   and a rollback since forgets everything kept.
//!
//! Otherwise a delta with `seq` up to the last one summed is still there, unchanged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::db::budgets::{self as store, ModelSpend, SpendTable};
use crate::db::{Conn, Db, DbResult};

/// Kept reads beyond this many are dropped all at once (a few hundred budgets' periods).
const MAX_KEPT: usize = 4_096;

/// The spend kept, shared by every report's evaluation (`Ctx::kept_spend`).
pub struct KeptSpend {
    /// The writer's rollback count (`Db::rollbacks`).
    rollbacks: Arc<AtomicU64>,
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// The version everything kept was read at.
    version: Option<i64>,
    /// The writer's rollback count then.
    rollbacks: u64,
    sums: HashMap<TileKey, Vec<ModelSpend>>,
    pending: HashMap<ScopeKey, Pending>,
}

/// A scope's pending deltas summed so far: those with `seq <= through`, per (bucket, model).
#[derive(Default)]
struct Pending {
    through: i64,
    by_bucket: HashMap<(i64, i64), ModelSpend>,
}

/// A spend table and the ids it is keyed by.
type ScopeKey = (u8, String, String);

/// One read: the table and the ids it is keyed by, the span, and the bucket range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TileKey {
    table: ScopeKey,
    span: i64,
    from: i64,
    to: i64,
}

impl KeptSpend {
    /// Keeps spend read through `db`'s writer.
    pub fn new(db: &Db) -> KeptSpend {
        KeptSpend {
            rollbacks: db.rollbacks(),
            kept: Mutex::default(),
        }
    }

    /// The version `c` sees; pass it to every `sums` and `pending` of the same transaction.
    pub fn version(c: &Conn) -> DbResult<i64> {
        store::rollup_version(c)
    }

    /// `store::sums_by_model(c, table, span, from, to)`, from what is kept when the rollups
    /// are still at `version` (which `c` must see), else read and kept.
    pub fn sums(
        &self,
        c: &Conn,
        version: i64,
        table: SpendTable,
        span: i64,
        from: i64,
        to: i64,
    ) -> DbResult<Vec<ModelSpend>> {
        let key = TileKey {
            table: owned(table),
            span,
            from,
            to,
        };
        let mut kept = self.current(version);
        if let Some(sums) = kept.sums.get(&key) {
            return Ok(sums.clone());
        }
        let sums = store::sums_by_model(c, table, span, from, to)?;
        if kept.sums.len() >= MAX_KEPT {
            kept.sums.clear();
        }
        kept.sums.insert(key, sums.clone());
        Ok(sums)
    }

    /// `store::pending_by_model(c, table, start, end)`: the deltas summed so far for the scope
    /// at `version` (which `c` must see), plus those appended since, which are then kept too.
    pub fn pending(
        &self,
        c: &Conn,
        version: i64,
        table: SpendTable,
        start: i64,
        end: i64,
    ) -> DbResult<Vec<(i64, ModelSpend)>> {
        let last = store::pending_last_seq(c)?;
        let mut kept = self.current(version);
        if kept.pending.len() >= MAX_KEPT {
            kept.pending.clear();
        }
        let scope = kept.pending.entry(owned(table)).or_default();
        if scope.through > last {
            // Only a delete lowers the last seq, and a delete changes the version.
            *scope = Pending::default();
        }
        if last > scope.through {
            for (bucket, part) in store::pending_in_seqs(c, table, scope.through + 1, last + 1)? {
                let sum = scope
                    .by_bucket
                    .entry((bucket, part.model_id))
                    .or_insert(ModelSpend {
                        model_id: part.model_id,
                        priced: Default::default(),
                        reported_ticks: 0,
                    });
                add(sum, &part);
            }
            scope.through = last;
        }
        Ok(scope
            .by_bucket
            .iter()
            .filter(|((bucket, _), _)| (start..end).contains(bucket))
            .map(|((bucket, _), sum)| (*bucket, *sum))
            .collect())
    }

    /// What is kept, emptied first unless it was read at `version` with no rollback since.
    fn current(&self, version: i64) -> MutexGuard<'_, Kept> {
        let rollbacks = self.rollbacks.load(Ordering::SeqCst);
        let mut kept = self.lock();
        if kept.version != Some(version) || kept.rollbacks != rollbacks {
            *kept = Kept {
                version: Some(version),
                rollbacks,
                ..Kept::default()
            };
        }
        kept
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // What is kept is a cache: after a panic elsewhere it is still consistent per entry.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn add(sum: &mut ModelSpend, part: &ModelSpend) {
    let (s, p) = (&mut sum.priced, &part.priced);
    s.input += p.input;
    s.output += p.output;
    s.cache_read += p.cache_read;
    s.cache_write += p.cache_write;
    sum.reported_ticks += part.reported_ticks;
}

fn owned(table: SpendTable) -> ScopeKey {
    match table {
        SpendTable::Workspace(id) => (0, id.to_string(), String::new()),
        SpendTable::Runtime(id) => (1, id.to_string(), String::new()),
        SpendTable::Agent {
            workspace_id,
            agent_id,
        } => (2, workspace_id.to_string(), agent_id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::usage::rollup;
    use crate::db::{DbError, OpenMode, Tx};

    const DAY_MS: i64 = 86_400_000;
    /// 2026-06-15T12:00:00Z, and the UTC day holding it.
    const AT: i64 = 1_781_524_800_000;
    const DAY: (i64, i64) = (AT - AT % DAY_MS, AT - AT % DAY_MS + DAY_MS);

    /// Appends a delta of `input` priced tokens for the workspace, as a report does.
    fn defer(tx: &Tx, input: i64) -> DbResult<()> {
        rollup::defer(tx, &[(None, rollup::test_share(input, AT))])
    }

    fn input(parts: impl IntoIterator<Item = ModelSpend>) -> i64 {
        parts.into_iter().map(|p| p.priced.input).sum()
    }

    /// The workspace's input tokens today as `kept` gives them, and as read afresh.
    fn kept_and_read(c: &Conn, kept: &KeptSpend) -> DbResult<(i64, i64)> {
        let table = SpendTable::Workspace("ws");
        let version = KeptSpend::version(c)?;
        let from_kept = input(kept.sums(c, version, table, 1440, DAY.0, DAY.1)?)
            + input(
                kept.pending(c, version, table, DAY.0, DAY.1)?
                    .into_iter()
                    .map(|p| p.1),
            );
        let read = input(store::sums_by_model(c, table, 1440, DAY.0, DAY.1)?)
            + input(
                store::pending_by_model(c, table, DAY.0, DAY.1)?
                    .into_iter()
                    .map(|p| p.1),
            );
        Ok((from_kept, read))
    }

    fn write(db: &Db, kept: &KeptSpend, input: i64) -> (i64, i64) {
        db.write_tx(|tx| {
            defer(tx, input)?;
            kept_and_read(tx, kept)
        })
        .unwrap()
    }

    fn fold(db: &Db) {
        db.write_tx(|tx| rollup::fold_pending(tx, 1_000)).unwrap();
    }

    #[test]
    fn kept_spend_is_what_a_fresh_read_gives_across_appends_folds_and_rollbacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let db = Db::open(&path, OpenMode::ReadWrite, 2).unwrap();
        let spend = KeptSpend::new(&db);
        // Appends are summed as they come.
        assert_eq!(write(&db, &spend, 100), (100, 100));
        assert_eq!(write(&db, &spend, 20), (120, 120));
        // A fold moves them into the rollups.
        fold(&db);
        assert_eq!(write(&db, &spend, 0), (120, 120));
        // A write rolled back after its delta was summed: the next one reuses its seq.
        let failed = db.write_tx(|tx| {
            defer(tx, 7)?;
            assert_eq!(kept_and_read(tx, &spend)?, (127, 127));
            Err::<(), _>(DbError::Other("refused".into()))
        });
        assert!(failed.is_err());
        assert_eq!(write(&db, &spend, 3), (123, 123));
        // Another connection folds: the version it leaves is new.
        let other = Db::open(&path, OpenMode::Existing, 1).unwrap();
        fold(&other);
        assert_eq!(write(&db, &spend, 1), (124, 124));
        // The answers above came from what is kept: one tile, one scope's deltas to the last.
        let version = db.read(KeptSpend::version).unwrap();
        let last = db.read(store::pending_last_seq).unwrap();
        let kept = spend.lock();
        assert_eq!(kept.version, Some(version));
        assert_eq!(kept.sums.len(), 1);
        assert_eq!(kept.pending.len(), 1);
        assert_eq!(
            kept.pending.values().map(|p| p.through).collect::<Vec<_>>(),
            [last]
        );
    }
}
