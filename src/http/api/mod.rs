//! Handlers, one file per resource: parse → call the domain → serialise wire types.

pub mod agents;
pub mod autopilots;
pub mod budgets;
pub mod daemon;
pub mod daemon_tasks;
pub mod daemon_usage;
pub mod events;
pub mod health;
pub mod me;
pub mod members;
pub mod metrics;
pub mod prices;
pub mod reconcile;
pub mod retire;
pub mod runtimes;
pub mod squads;
pub mod tasks;
pub mod tokens;
pub mod usage;
pub mod usage_tasks;
pub mod workspaces;

use crate::auth::Caller;
use crate::error::ApiError;

/// The user behind a user token (the router only lets user callers reach user routes).
pub fn user_id(caller: &Caller) -> Result<&str, ApiError> {
    match caller {
        Caller::User { user_id, .. } => Ok(user_id),
        _ => Err(ApiError::unauthorized()),
    }
}

/// (user, workspace) behind a daemon token.
pub fn daemon_of(caller: &Caller) -> Result<(&str, &str), ApiError> {
    match caller {
        Caller::Daemon {
            user_id,
            workspace_id,
            ..
        } => Ok((user_id, workspace_id)),
        _ => Err(ApiError::unauthorized()),
    }
}
