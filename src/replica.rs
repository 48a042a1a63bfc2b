//! A read-only replica's one background thread. Nothing in this process commits, so no
//! write wakes `EventHub`; the replicator changes the file behind hangar's back. The
//! follower polls the event table's newest id twice a second and wakes the event streams
//! when it moved; they re-read the table by cursor, exactly as on the primary.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::db;

/// How often the follower looks for new events.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Starts the follower; it stops once shutdown begins.
pub fn spawn(ctx: Arc<Ctx>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("replica-follower".into())
        .spawn(move || {
            let mut newest = None;
            while ctx.sleep_unless_shutdown(POLL_INTERVAL) {
                match ctx.db.read(db::events::last_id) {
                    Ok(id) if newest != Some(id) => {
                        newest = Some(id);
                        ctx.events.wake();
                    }
                    Ok(_) => {}
                    // The replicator may be rewriting the file (or recreating it): next time.
                    Err(e) => log::debug!("replica follower: cannot read the event table: {e}"),
                }
            }
        })
}
