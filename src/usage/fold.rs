//! The background fold: a usage report defers its rollup deltas to `usage_pending` (schema
//! step 12), which keeps its transaction small; this thread adds them to the rollups every
//! `usage_fold_interval` (100 ms), `FOLD_ROWS` at a time, each batch in its own short write
//! transaction so that reports queue behind none for more than a few milliseconds. Readers
//! count the pending rows meanwhile, so no report or budget ever sees a fold half done or not
//! done.

use std::sync::Arc;
use std::thread::JoinHandle;

use crate::ctx::Ctx;
use crate::db::usage::rollup;
use crate::db::{Db, DbResult};

/// Pending rows folded per write transaction.
const FOLD_ROWS: i64 = 1_000;

/// Starts the fold thread; it stops at shutdown.
pub fn spawn(ctx: Arc<Ctx>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("usage-fold".into())
        .spawn(move || {
            while ctx.sleep_unless_shutdown(ctx.config.usage_fold_interval) {
                if let Err(e) = fold_all(&ctx.db) {
                    log::warn!("folding usage into the rollups failed: {e}");
                }
            }
        })
}

/// Folds the pending deltas into the rollups, batch by batch, until a batch finds fewer
/// than `FOLD_ROWS` (what arrives meanwhile waits for the next round); returns the rows
/// folded.
pub fn fold_all(db: &Db) -> DbResult<usize> {
    let mut folded = 0;
    while db.read(rollup::has_pending)? {
        let batch = db.write_tx(|tx| rollup::fold_pending(tx, FOLD_ROWS))?;
        folded += batch;
        if batch < FOLD_ROWS as usize {
            break;
        }
    }
    Ok(folded)
}
