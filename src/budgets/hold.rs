//! What spent `pause_dispatch` budgets hold back. A budget holds its scope from the
//! evaluation that found its amount spent until its period ends or an evaluation (a lower
//! re-report, a raised amount) finds it under again; meanwhile claims skip the held tasks,
//! which stay queued, and autopilots of held agents do not enqueue. Only stored state is read
//! here, so a claim never prices anything.

use crate::db::budgets as store;
use crate::db::{Conn, DbResult};

/// The tasks a claim on one runtime must leave queued.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Every task on the runtime (a workspace or runtime budget is spent).
    pub everything: bool,
    /// The tasks of these agents (their agent budgets are spent).
    pub agents: Vec<String>,
}

/// The hold on claims for `runtime_id` of `workspace_id` at `now`.
pub fn on_runtime(c: &Conn, workspace_id: &str, runtime_id: &str, now: i64) -> DbResult<Hold> {
    let mut hold = Hold::default();
    for (scope_type, scope_id) in store::holding(c, workspace_id, now)? {
        match (scope_type.as_str(), scope_id) {
            ("workspace", _) => hold.everything = true,
            ("runtime", Some(id)) if id == runtime_id => hold.everything = true,
            ("agent", Some(id)) => hold.agents.push(id),
            _ => {}
        }
    }
    Ok(hold)
}

/// Whether new work for `agent_id` (on `runtime_id`) is held at `now`.
pub fn holds_agent(
    c: &Conn,
    workspace_id: &str,
    runtime_id: &str,
    agent_id: &str,
    now: i64,
) -> DbResult<bool> {
    let hold = on_runtime(c, workspace_id, runtime_id, now)?;
    Ok(hold.everything || hold.agents.iter().any(|a| a == agent_id))
}
