//! Events: rows appended to the outbox inside the transaction of the change they describe,
//! plus `EventHub`, a wake-up hint for event streams once that transaction has committed.
//! Streams always re-read the table by cursor; the hub carries no data.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::auth::Caller;
use crate::db::{self, DbResult, Tx};

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

    pub fn of(caller: &Caller) -> Actor {
        match caller {
            Caller::User { user_id, .. } => Actor {
                kind: "member",
                id: Some(user_id.clone()),
            },
            Caller::Daemon { user_id, .. } => Actor {
                kind: "daemon",
                id: Some(user_id.clone()),
            },
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

/// Wakes waiting streams after a commit. A generation counter avoids lost wake-ups.
#[derive(Default)]
pub struct EventHub {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl EventHub {
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
