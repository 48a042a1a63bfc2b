//! The autopilot scheduler: a background thread that, every tick, fires the autopilots that
//! are due. Time comes from `ctx.now_ms()`, so a pinned test clock drives it; the tick only
//! bounds how late a run can be.

use std::sync::Arc;
use std::thread::JoinHandle;

use crate::ctx::Ctx;
use crate::db::{self, DbError};
use crate::work::autopilots;

/// Reschedules every active autopilot one interval after now (runs missed while the server
/// was down are not replayed), then starts the thread.
pub fn start(ctx: Arc<Ctx>) -> Result<JoinHandle<()>, String> {
    let now = ctx.now_ms();
    ctx.write(|tx| autopilots::reschedule_after_start(tx, now))
        .map_err(|e| format!("cannot schedule autopilots: {e}"))?;
    std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || {
            while ctx.sleep_unless_shutdown(ctx.config.scheduler_tick) {
                if let Err(e) = tick(&ctx) {
                    log::error!("autopilot scheduler: {e}");
                }
            }
        })
        .map_err(|e| e.to_string())
}

/// One pass. A read first, so an idle tick never takes the write lock.
fn tick(ctx: &Ctx) -> Result<(), DbError> {
    let now = ctx.now_ms();
    if ctx.db.read(|c| db::autopilots::due(c, now))?.is_empty() {
        return Ok(());
    }
    let report = ctx.write(|tx| autopilots::run_due(tx, now))?;
    log::debug!(
        "autopilots: {} fired, {} skipped",
        report.fired,
        report.skipped
    );
    Ok(())
}
