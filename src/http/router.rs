//! The one routing table: (method, path) → route. Unknown paths are 404, known paths with
//! another method 405 with `Allow`. A route says how it authenticates and whether it writes.

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::{ApiError, ErrorKind};
use crate::http::api::{
    agents, autopilots, budgets, daemon, daemon_tasks, daemon_usage, events, health, me, members,
    metrics, retire, runtimes, squads, tasks, tokens, usage, workspaces,
};
use crate::http::request::Req;
use crate::http::response::Reply;

pub type Handler = fn(&Ctx, &Caller, &Req) -> Result<Reply, ApiError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Public,
    User,
    Daemon,
}

#[derive(Clone, Copy)]
pub struct Route {
    /// The path pattern, used as the route label in logs and metrics.
    pub pattern: &'static str,
    pub auth: Auth,
    pub handler: Handler,
}

impl Route {
    /// Every method but GET changes something.
    pub fn writes(method: &str) -> bool {
        method != "GET"
    }
}

pub fn resolve(method: &str, segments: &[&str]) -> Result<Route, ApiError> {
    let Some(options) = endpoints(segments) else {
        return Err(ApiError::new(
            ErrorKind::NotFound,
            "not_found",
            "no such route",
        ));
    };
    options
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, route)| *route)
        .ok_or_else(|| ApiError::method_not_allowed(options.iter().map(|(m, _)| *m).collect()))
}

fn route(pattern: &'static str, auth: Auth, handler: Handler) -> Route {
    Route {
        pattern,
        auth,
        handler,
    }
}

/// Every endpoint, by path shape: the whole API on one screen.
#[rustfmt::skip]
fn endpoints(segments: &[&str]) -> Option<Vec<(&'static str, Route)>> {
    use Auth::{Daemon, Public, User};
    let r = route;
    Some(match segments {
        ["healthz"] => vec![("GET", r("/healthz", Public, health::healthz))],
        ["metrics"] => vec![("GET", r("/metrics", Public, metrics::get))],
        ["api", "me"] => vec![
            ("GET", r("/api/me", User, me::get)),
            ("PATCH", r("/api/me", User, me::patch)),
        ],
        ["api", "tokens"] => vec![
            ("GET", r("/api/tokens", User, tokens::list_user_tokens)),
            ("POST", r("/api/tokens", User, tokens::create_user_token)),
        ],
        ["api", "tokens", _] => vec![("DELETE", r("/api/tokens/{id}", User, tokens::revoke_user_token))],
        ["api", "workspaces"] => vec![
            ("GET", r("/api/workspaces", User, workspaces::list)),
            ("POST", r("/api/workspaces", User, workspaces::create)),
        ],
        ["api", "workspaces", _, "members"] => vec![
            ("GET", r("/api/workspaces/{ws}/members", User, members::list)),
            ("POST", r("/api/workspaces/{ws}/members", User, members::add)),
        ],
        ["api", "workspaces", _, "members", _] => vec![
            ("PATCH", r("/api/workspaces/{ws}/members/{user}", User, members::patch)),
            ("DELETE", r("/api/workspaces/{ws}/members/{user}", User, members::remove)),
        ],
        ["api", "workspaces", _, "daemon-tokens"] => vec![
            ("GET", r("/api/workspaces/{ws}/daemon-tokens", User, tokens::list_daemon_tokens)),
            ("POST", r("/api/workspaces/{ws}/daemon-tokens", User, tokens::create_daemon_token)),
        ],
        ["api", "workspaces", _, "daemon-tokens", _] => vec![("DELETE", r("/api/workspaces/{ws}/daemon-tokens/{id}", User, tokens::revoke_daemon_token))],
        ["api", "workspaces", _, "runtimes"] => vec![("GET", r("/api/workspaces/{ws}/runtimes", User, runtimes::list))],
        ["api", "runtimes", _] => vec![
            ("GET", r("/api/runtimes/{id}", User, runtimes::get)),
            ("PATCH", r("/api/runtimes/{id}", User, runtimes::patch)),
            ("DELETE", r("/api/runtimes/{id}", User, retire::delete_strict)),
        ],
        ["api", "daemon", "register"] => vec![("POST", r("/api/daemon/register", Daemon, daemon::register))],
        ["api", "daemon", "heartbeat"] => vec![("POST", r("/api/daemon/heartbeat", Daemon, daemon::heartbeat))],
        ["api", "daemon", "deregister"] => vec![("POST", r("/api/daemon/deregister", Daemon, daemon::deregister))],
        ["api", "workspaces", _, "events"] => vec![("GET", r("/api/workspaces/{ws}/events", User, events::list))],
        ["api", "workspaces", _, "events", "stream"] => vec![("GET", r("/api/workspaces/{ws}/events/stream", User, events::stream))],
        ["api", "workspaces", _, "agents"] => vec![
            ("GET", r("/api/workspaces/{ws}/agents", User, agents::list)),
            ("POST", r("/api/workspaces/{ws}/agents", User, agents::create)),
        ],
        ["api", "agents", _] => vec![
            ("GET", r("/api/agents/{id}", User, agents::get)),
            ("PATCH", r("/api/agents/{id}", User, agents::patch)),
        ],
        ["api", "agents", _, "archive"] => vec![("POST", r("/api/agents/{id}/archive", User, agents::archive))],
        ["api", "agents", _, "restore"] => vec![("POST", r("/api/agents/{id}/restore", User, agents::restore))],
        ["api", "agents", _, "tasks"] => vec![("POST", r("/api/agents/{id}/tasks", User, tasks::enqueue))],
        ["api", "workspaces", _, "tasks"] => vec![("GET", r("/api/workspaces/{ws}/tasks", User, tasks::list))],
        ["api", "tasks", _] => vec![("GET", r("/api/tasks/{id}", User, tasks::get))],
        ["api", "tasks", _, "cancel"] => vec![("POST", r("/api/tasks/{id}/cancel", User, tasks::cancel))],
        ["api", "workspaces", _, "autopilots"] => vec![
            ("GET", r("/api/workspaces/{ws}/autopilots", User, autopilots::list)),
            ("POST", r("/api/workspaces/{ws}/autopilots", User, autopilots::create)),
        ],
        ["api", "autopilots", _] => vec![
            ("PATCH", r("/api/autopilots/{id}", User, autopilots::patch)),
            ("DELETE", r("/api/autopilots/{id}", User, autopilots::delete)),
        ],
        ["api", "workspaces", _, "squads"] => vec![
            ("GET", r("/api/workspaces/{ws}/squads", User, squads::list)),
            ("POST", r("/api/workspaces/{ws}/squads", User, squads::create)),
        ],
        ["api", "squads", _] => vec![
            ("GET", r("/api/squads/{id}", User, squads::get)),
            ("PATCH", r("/api/squads/{id}", User, squads::patch)),
        ],
        ["api", "squads", _, "archive"] => vec![("POST", r("/api/squads/{id}/archive", User, squads::archive))],
        ["api", "runtimes", _, "archive-agents-and-delete"] => vec![("POST", r("/api/runtimes/{id}/archive-agents-and-delete", User, retire::archive_agents_and_delete))],
        ["api", "daemon", "runtimes", _, "claim"] => vec![("POST", r("/api/daemon/runtimes/{id}/claim", Daemon, daemon_tasks::claim))],
        ["api", "daemon", "tasks", _, "start"] => vec![("POST", r("/api/daemon/tasks/{id}/start", Daemon, daemon_tasks::start))],
        ["api", "daemon", "tasks", _, "complete"] => vec![("POST", r("/api/daemon/tasks/{id}/complete", Daemon, daemon_tasks::complete))],
        ["api", "daemon", "tasks", _, "fail"] => vec![("POST", r("/api/daemon/tasks/{id}/fail", Daemon, daemon_tasks::fail))],
        ["api", "pricing"] => vec![("GET", r("/api/pricing", User, usage::pricing))],
        ["api", "runtimes", _, "usage"] => vec![("GET", r("/api/runtimes/{id}/usage", User, usage::runtime_usage))],
        ["api", "runtimes", _, "usage", "by-agent"] => vec![("GET", r("/api/runtimes/{id}/usage/by-agent", User, usage::runtime_by_agent))],
        ["api", "runtimes", _, "usage", "by-hour"] => vec![("GET", r("/api/runtimes/{id}/usage/by-hour", User, usage::runtime_by_hour))],
        ["api", "runtimes", _, "activity"] => vec![("GET", r("/api/runtimes/{id}/activity", User, usage::runtime_activity))],
        ["api", "workspaces", _, "usage", "daily"] => vec![("GET", r("/api/workspaces/{ws}/usage/daily", User, usage::workspace_daily))],
        ["api", "workspaces", _, "usage", "summary"] => vec![("GET", r("/api/workspaces/{ws}/usage/summary", User, usage::workspace_summary))],
        ["api", "workspaces", _, "usage", "by-runtime"] => vec![("GET", r("/api/workspaces/{ws}/usage/by-runtime", User, usage::workspace_by_runtime))],
        ["api", "workspaces", _, "usage", "by-agent"] => vec![("GET", r("/api/workspaces/{ws}/usage/by-agent", User, usage::workspace_by_agent))],
        ["api", "daemon", "tasks", _, "usage"] => vec![("POST", r("/api/daemon/tasks/{id}/usage", Daemon, daemon_usage::report))],
        ["api", "workspaces", _, "budgets"] => vec![
            ("GET", r("/api/workspaces/{ws}/budgets", User, budgets::list)),
            ("POST", r("/api/workspaces/{ws}/budgets", User, budgets::create)),
        ],
        ["api", "budgets", _] => vec![
            ("GET", r("/api/budgets/{id}", User, budgets::get)),
            ("PATCH", r("/api/budgets/{id}", User, budgets::patch)),
            ("DELETE", r("/api/budgets/{id}", User, budgets::delete)),
        ],
        ["api", "budgets", _, "status"] => vec![("GET", r("/api/budgets/{id}/status", User, budgets::get_status))],
        ["api", "workspaces", _, "usage", "projection"] => vec![("GET", r("/api/workspaces/{ws}/usage/projection", User, budgets::projection))],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_path_is_404_and_wrong_method_is_405_with_allow() {
        assert_eq!(
            resolve("GET", &["api", "nope"]).err().map(|e| e.kind),
            Some(ErrorKind::NotFound)
        );
        let e = resolve("PUT", &["api", "me"]).err().unwrap();
        assert_eq!(e.kind, ErrorKind::MethodNotAllowed);
        assert_eq!(e.allow, vec!["GET", "PATCH"]);
        assert_eq!(
            resolve("GET", &["api", "me"]).ok().map(|r| r.pattern),
            Some("/api/me")
        );
    }
}
