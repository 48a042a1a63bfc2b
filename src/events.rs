//! Events: rows appended to the outbox inside the transaction of the change they describe,
//! plus `EventHub`, a wake-up hint for event streams once that transaction has committed.
//! Streams always re-read the table by cursor; the hub carries no data.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::auth::Caller;
use crate::db::{self, DbError, DbResult, Tx};

/// Who made a change, as events report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `member`, `daemon` or `system`.
    pub kind: &'static str,
    pub id: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            kind: "system",
            id: None,
        }
    }

    pub fn member(user_id: &str) -> Actor {
        Actor {
            kind: "member",
            id: Some(user_id.to_string()),
        }
    }

    pub fn daemon(user_id: &str) -> Actor {
        Actor {
            kind: "daemon",
            id: Some(user_id.to_string()),
        }
    }

    pub fn of(caller: &Caller) -> Actor {
        match caller {
            Caller::User { user_id, .. } => Actor::member(user_id),
            Caller::Daemon { user_id, .. } => Actor::daemon(user_id),
            Caller::Anonymous => Actor::system(),
        }
    }
}

/// Appends an event in the caller's transaction.
pub fn append(
    tx: &Tx,
    workspace_id: &str,
    event_type: &str,
    actor: &Actor,
    payload: Value,
    now: i64,
) -> DbResult<i64> {
    db::events::insert(
        tx,
        &db::events::EventRow {
            id: 0,
            workspace_id: workspace_id.to_string(),
            event_type: event_type.to_string(),
            actor_type: actor.kind.to_string(),
            actor_id: actor.id.clone(),
            payload: payload.to_string(),
            created_at: now,
        },
    )
}

/// Appends one event per item, in order, in the caller's transaction, each with the payload
/// `{key: item}` (a teardown's thousands of announcements in a few statements, serialised
/// straight to text).
pub fn append_all<T: Serialize>(
    tx: &Tx,
    workspace_id: &str,
    event_type: &str,
    actor: &Actor,
    key: &'static str,
    items: impl Iterator<Item = T>,
    now: i64,
) -> DbResult<()> {
    let texts = payloads(key, items)?;
    append_payloads(tx, workspace_id, event_type, actor, &texts, now)
}

/// The payloads `{key: item}` of `append_all`, as text: made ahead of the transaction's
/// writes, they can be serialised on another thread while those run.
pub fn payloads<T: Serialize>(
    key: &'static str,
    items: impl Iterator<Item = T>,
) -> DbResult<Vec<String>> {
    items
        .map(|value| serde_json::to_string(&Single { key, value }))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| DbError::Other(format!("cannot serialise an event: {e}")))
}

/// Appends one event per payload text (from `payloads`), in order.
pub fn append_payloads(
    tx: &Tx,
    workspace_id: &str,
    event_type: &str,
    actor: &Actor,
    texts: &[String],
    now: i64,
) -> DbResult<()> {
    db::events::insert_all(
        tx,
        workspace_id,
        event_type,
        actor.kind,
        actor.id.as_deref(),
        texts,
        now,
    )
}

/// `{key: value}`: the payload of an event about one object.
struct Single<T> {
    key: &'static str,
    value: T,
}

impl<T: Serialize> Serialize for Single<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.key, &self.value)?;
        map.end()
    }
}

/// Wakes waiting streams after a commit. A generation counter avoids lost wake-ups. It also
/// counts the open streams, which are capped.
#[derive(Default)]
pub struct EventHub {
    generation: Mutex<u64>,
    changed: Condvar,
    open_streams: AtomicUsize,
}

impl EventHub {
    /// Takes one of `max` stream slots; false when all are taken.
    pub fn try_open_stream(&self, max: usize) -> bool {
        self.open_streams
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back a slot taken with `try_open_stream`.
    pub fn close_stream(&self) {
        let _ = self
            .open_streams
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::SeqCst)
    }

    pub fn wake(&self) {
        let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        *g = g.wrapping_add(1);
        self.changed.notify_all();
    }

    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the generation moves past `seen` or `timeout` passes; returns the new one.
    pub fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let guard = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |g| *g == seen)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}
