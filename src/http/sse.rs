//! Event streams (API.md §7) on the raw connection: tiny_http's `respond()` with a blocking
//! reader buffers and would deliver events late, so the stream takes the request's writer,
//! writes the status line and headers itself and runs on its own thread — never an API
//! worker — within `config.max_streams` slots. It re-reads the event table by cursor
//! whenever `EventHub` signals a commit, flushes after each batch, writes a comment every
//! 15 s to keep the connection alive, and ends on a failed write (the client left), at
//! shutdown, or once the member left the workspace or revoked the token.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::db::{self, events::EventRow, Conn, DbResult};
use crate::http::api::events::event_json;
use crate::metrics;

const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events read and written per round; a longer replay takes several rounds.
const BATCH: i64 = 200;

const HEAD: &str = "HTTP/1.1 200 OK\r\n\
    Content-Type: text/event-stream\r\n\
    Cache-Control: no-cache\r\n\
    Connection: close\r\n\
    X-Accel-Buffering: no\r\n\r\n";

/// A stream the events handler has authorised, starting after event `after`.
#[derive(Debug)]
pub struct StreamSpec {
    pub workspace_id: String,
    pub after: i64,
    pub user_id: String,
    pub token_id: String,
}

/// A stream slot (one of `config.max_streams`), given back when the stream ends however
/// it ends. `None` when every slot is taken: the caller answers 503.
pub fn take_slot(ctx: &Arc<Ctx>) -> Option<Slot> {
    let taken = ctx.events.try_open_stream(ctx.config.max_streams);
    taken.then(|| {
        metrics::sse_clients_inc();
        Slot(Arc::clone(ctx))
    })
}

pub struct Slot(Arc<Ctx>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.events.close_stream();
        metrics::sse_clients_dec();
    }
}

/// Moves `rq`'s connection to a new stream thread that holds `slot`. The writer is taken on
/// that thread: taking it drops the request, and dropping a request drains whatever body the
/// client declared — which must never wait on an API worker.
pub fn start(slot: Slot, rq: tiny_http::Request, spec: StreamSpec) {
    let spawned = std::thread::Builder::new()
        .name("sse".into())
        .spawn(move || run(&slot.0, rq.into_writer(), &spec));
    if let Err(e) = spawned {
        // The closure (with the slot and the writer) is dropped: the slot is given back and
        // the connection closes.
        log::error!("cannot start an event stream thread: {e}");
    }
}

fn run(ctx: &Ctx, mut out: Box<dyn Write + Send>, spec: &StreamSpec) {
    if out
        .write_all(HEAD.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    let mut cursor = spec.after;
    while !ctx.is_shutting_down() {
        // Read the generation before the table, so a commit in between still wakes us.
        let seen = ctx.events.generation();
        let batch = match ctx.db.read(|c| next_batch(c, spec, cursor)) {
            Ok(Some(batch)) => batch,
            Ok(None) => return,
            Err(e) => {
                log::warn!("event stream ends: {e}");
                return;
            }
        };
        if let Some(last) = batch.last() {
            if send(&mut out, &batch).is_err() {
                return;
            }
            cursor = last.id;
            if batch.len() as i64 == BATCH {
                continue;
            }
        }
        if ctx.events.wait(seen, KEEP_ALIVE) == seen && !ctx.is_shutting_down() {
            let alive = matches!(
                ctx.db.read(|c| db::events::reader_allowed(
                    c,
                    &spec.workspace_id,
                    &spec.user_id,
                    &spec.token_id
                )),
                Ok(true)
            ) && out
                .write_all(b": keep-alive\n\n")
                .and_then(|()| out.flush())
                .is_ok();
            if !alive {
                return;
            }
        }
    }
}

/// The workspace's events after `cursor`, or `None` when there are some but the reader may
/// no longer see them.
fn next_batch(c: &Conn, spec: &StreamSpec, cursor: i64) -> DbResult<Option<Vec<EventRow>>> {
    let batch = db::events::list_after(c, &spec.workspace_id, cursor, BATCH)?;
    if batch.is_empty()
        || db::events::reader_allowed(c, &spec.workspace_id, &spec.user_id, &spec.token_id)?
    {
        Ok(Some(batch))
    } else {
        Ok(None)
    }
}

/// One frame per event (`id`, `event`, `data` on one line: JSON text has no raw newlines),
/// then a flush.
fn send(out: &mut dyn Write, batch: &[EventRow]) -> std::io::Result<()> {
    for e in batch {
        write!(
            out,
            "id: {}\nevent: {}\ndata: {}\n\n",
            e.id,
            e.event_type,
            event_json(e)
        )?;
    }
    out.flush()
}
