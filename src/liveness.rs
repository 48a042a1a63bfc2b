//! Liveness: whether a runtime is still alive is a pure function of its last sign of life
//! and `now` (`stale`); the sweeper thread applies it every `sweep_interval`, flipping stale
//! runtimes offline with a `runtime:status` event, and prunes events past their retention in
//! small batches. A heartbeat (registry) brings a runtime back online.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::db::{self, DbResult};
use crate::events::Actor;
use crate::registry;
use crate::work;

/// Events deleted per transaction, so a large backlog never holds the write lock for long.
const PRUNE_BATCH: i64 = 500;
/// Batches per sweep; a larger backlog is finished by later sweeps.
const PRUNE_BATCHES_PER_SWEEP: usize = 40;
const DAY_MS: i64 = 86_400_000;

/// Whether a runtime last seen at `last_seen_at` is stale at `now`: silent for longer than
/// `offline_after` (exactly at the threshold it is still alive), or never seen.
pub fn stale(last_seen_at: Option<i64>, now: i64, offline_after: Duration) -> bool {
    let threshold = i64::try_from(offline_after.as_millis()).unwrap_or(i64::MAX);
    last_seen_at.is_none_or(|seen| now.saturating_sub(seen) > threshold)
}

/// Events created before this instant are past a retention of `days` at `now`.
pub fn retention_cutoff(now: i64, days: u32) -> i64 {
    now.saturating_sub(i64::from(days) * DAY_MS)
}

/// One step of a sweep: a name for the log and the work, given `now`.
type SweepStep = (&'static str, fn(&Ctx, i64) -> DbResult<()>);

/// What every sweep does, in order.
const SWEEP_STEPS: &[SweepStep] = &[
    ("mark stale runtimes offline", mark_stale_offline),
    (
        "fail tasks stranded past the reconnect grace",
        fail_stranded_tasks,
    ),
    ("prune expired events", prune_events),
];

/// Starts the sweeper; it stops once shutdown begins.
pub fn spawn(ctx: Arc<Ctx>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sweeper".into())
        .spawn(move || {
            while ctx.sleep_unless_shutdown(ctx.config.sweep_interval) {
                sweep(&ctx);
            }
        })
}

/// Runs every sweep step once at the current time; a failing step is logged and the
/// others still run.
pub fn sweep(ctx: &Ctx) {
    let now = ctx.now_ms();
    for (name, step) in SWEEP_STEPS {
        if let Err(e) = step(ctx, now) {
            log::warn!("sweeper: {name} failed: {e}");
        }
    }
}

fn mark_stale_offline(ctx: &Ctx, now: i64) -> DbResult<()> {
    let offline_after = ctx.config.offline_after;
    let is_stale = |rt: &db::runtimes::Runtime| stale(rt.last_seen_at, now, offline_after);
    // Most sweeps find nothing: look first, and only then take the write lock (which also
    // wakes every event stream).
    if !ctx.db.read(db::runtimes::list_online)?.iter().any(is_stale) {
        return Ok(());
    }
    let flipped = ctx.write(|tx| {
        let mut flipped = 0;
        for rt in db::runtimes::list_online(tx)?
            .iter()
            .filter(|rt| is_stale(rt))
        {
            if db::runtimes::mark_offline(tx, &rt.id)? {
                registry::append_status(
                    tx,
                    &rt.workspace_id,
                    &rt.id,
                    "offline",
                    &Actor::system(),
                    now,
                )?;
                flipped += 1;
            }
        }
        Ok::<_, db::DbError>(flipped)
    })?;
    log::info!("sweeper: {flipped} runtime(s) went offline");
    Ok(())
}

/// In-flight tasks on runtimes offline longer than `config.reconnect_grace` fail with
/// `runtime_offline`.
fn fail_stranded_tasks(ctx: &Ctx, now: i64) -> DbResult<()> {
    let grace_ms = i64::try_from(ctx.config.reconnect_grace.as_millis()).unwrap_or(i64::MAX);
    // Most sweeps find nothing: look before taking the write lock.
    if ctx
        .db
        .read(|c| db::tasks::stranded(c, now.saturating_sub(grace_ms)))?
        .is_empty()
    {
        return Ok(());
    }
    let failed = ctx.write(|tx| work::tasks::fail_stranded(tx, now, grace_ms))?;
    if failed > 0 {
        log::info!("sweeper: {failed} task(s) failed after the reconnect grace");
    }
    Ok(())
}

fn prune_events(ctx: &Ctx, now: i64) -> DbResult<()> {
    let cutoff = retention_cutoff(now, ctx.config.event_retention_days);
    for _ in 0..PRUNE_BATCHES_PER_SWEEP {
        // Pruning is not news: no stream needs waking, so this bypasses `ctx.write`.
        let deleted = ctx
            .db
            .write_tx(|tx| db::events::prune_before(tx, cutoff, PRUNE_BATCH))?;
        if deleted > 0 {
            log::debug!("sweeper: pruned {deleted} event(s)");
        }
        if deleted < PRUNE_BATCH as usize {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29T11:30:28.123Z
    const NOW: i64 = 1_795_951_828_123;

    #[test]
    fn stale_only_after_the_threshold() {
        let after = Duration::from_secs(150);
        let cases = [
            (Some(NOW), false),
            (Some(NOW - 149_999), false),
            (Some(NOW - 150_000), false),
            (Some(NOW - 150_001), true),
            (Some(NOW - 86_400_000), true),
            // A clock that moved back: seen "in the future" is alive.
            (Some(NOW + 5_000), false),
            (None, true),
        ];
        for (seen, expected) in cases {
            assert_eq!(stale(seen, NOW, after), expected, "{seen:?}");
        }
    }

    #[test]
    fn second_scale_thresholds() {
        let after = Duration::from_millis(1_000);
        assert!(!stale(Some(NOW - 1_000), NOW, after));
        assert!(stale(Some(NOW - 1_001), NOW, after));
        assert!(stale(Some(i64::MIN), NOW, after));
        assert!(!stale(Some(NOW), NOW, Duration::MAX));
    }

    #[test]
    fn retention_counts_whole_days_back() {
        assert_eq!(retention_cutoff(NOW, 7), NOW - 7 * DAY_MS);
        assert_eq!(retention_cutoff(NOW, 1), NOW - DAY_MS);
        assert_eq!(retention_cutoff(i64::MIN + 1, 3650), i64::MIN);
    }
}
