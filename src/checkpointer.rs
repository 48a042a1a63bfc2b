//! The background checkpointer: copies the WAL back into the database file every
//! `CHECKPOINT_INTERVAL` when something was written, so writers never do it. A checkpoint
//! in the committing writer (SQLite's default) holds the process-wide write lock through the
//! copying and an fsync; here it runs beside the writers (PASSIVE: it never waits for them).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ctx::Ctx;

/// How often the WAL is checkpointed while writes arrive.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// Starts the checkpointer thread; it stops at shutdown (which checkpoints once more).
pub fn spawn(ctx: Arc<Ctx>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("checkpointer".into())
        .spawn(move || {
            let mut seen = ctx.db.commits();
            while ctx.sleep_unless_shutdown(CHECKPOINT_INTERVAL) {
                let commits = ctx.db.commits();
                if commits == seen {
                    continue;
                }
                seen = commits;
                if let Err(e) = ctx.db.checkpoint() {
                    log::warn!("WAL checkpoint failed: {e}");
                }
            }
        })
}
