//! The one routing table: (method, path) → route. Unknown paths are 404, known paths with
//! another method 405 with `Allow`. A route says how it authenticates and whether it writes.

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::{ApiError, ErrorKind};
use crate::http::api::{
    agents, autopilots, budgets, daemon, daemon_tasks, daemon_usage, events, health, me, members,
    metrics, prices, reconcile, retire, runtimes, squads, tasks, tokens, usage, usage_tasks,
    workspaces,
};
use crate::http::request::{Req, MAX_BILL_BYTES, MAX_BODY_BYTES};
use crate::http::response::Reply;

use Auth::{Daemon, Public, User};

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
    /// The largest request body this route reads, in bytes.
    pub max_body: usize,
}

impl Route {
    /// Whether the request path's segments fit this route's pattern.
    pub fn matches(&self, segments: &[&str]) -> bool {
        let mut pattern = self.pattern.split('/').filter(|p| !p.is_empty());
        let mut path = segments.iter();
        loop {
            match (pattern.next(), path.next()) {
                (None, None) => return true,
                (Some(p), Some(s)) if p.starts_with('{') || p == *s => {}
                _ => return false,
            }
        }
    }

    /// Every method but GET changes something.
    pub fn writes(method: &str) -> bool {
        method != "GET"
    }
}

pub fn resolve(method: &str, segments: &[&str]) -> Result<Route, ApiError> {
    let matching = || ENDPOINTS.iter().filter(|(_, r)| r.matches(segments));
    // A literal segment beats a placeholder (`…/prices/preview` over `…/prices/{id}`): only
    // the most specific matching pattern answers, and only its methods are allowed.
    let Some(best) =
        matching().map(|(_, r)| r.pattern).reduce(
            |best, p| {
                if more_specific(p, best) {
                    p
                } else {
                    best
                }
            },
        )
    else {
        return Err(ApiError::new(
            ErrorKind::NotFound,
            "not_found",
            "no such route",
        ));
    };
    let mut allow = Vec::new();
    for (m, route) in matching().filter(|(_, r)| r.pattern == best) {
        if *m == method {
            return Ok(*route);
        }
        allow.push(*m);
    }
    Err(ApiError::method_not_allowed(allow))
}

/// Whether pattern `a` has a literal segment where `b` has a placeholder before the other way
/// round (both of the same length; compared left to right).
fn more_specific(a: &str, b: &str) -> bool {
    let placeholder = |s: &str| s.starts_with('{');
    for (x, y) in a.split('/').zip(b.split('/')) {
        match (placeholder(x), placeholder(y)) {
            (false, true) => return true,
            (true, false) => return false,
            _ => {}
        }
    }
    false
}

/// Every (method, path pattern, auth) the router serves, in table order: for tests and
/// tools that must cover every route, so a new route cannot be forgotten by them.
pub fn all_routes() -> Vec<(&'static str, &'static str, Auth)> {
    ENDPOINTS
        .iter()
        .map(|(method, route)| (*method, route.pattern, route.auth))
        .collect()
}

const fn r(pattern: &'static str, auth: Auth, handler: Handler) -> Route {
    Route {
        pattern,
        auth,
        handler,
        max_body: MAX_BODY_BYTES,
    }
}

/// A route taking a provider's bill: CSV exports of a month run to megabytes.
const fn bill(route: Route) -> Route {
    Route {
        max_body: MAX_BILL_BYTES,
        ..route
    }
}

/// Every endpoint: (method, route), one screen per resource. A `{name}` segment of a pattern
/// matches any one path segment; no two patterns match the same path (a test checks), so
/// the order only sets the order of `Allow`.
#[rustfmt::skip]
const ENDPOINTS: &[(&str, Route)] = &[
    // Operations.
    ("GET",    r("/healthz",                                  Public, health::healthz)),
    ("GET",    r("/metrics",                                  Public, metrics::get)),

    // Users, workspaces, members, tokens.
    ("GET",    r("/api/me",                                   User,   me::get)),
    ("PATCH",  r("/api/me",                                   User,   me::patch)),
    ("GET",    r("/api/tokens",                               User,   tokens::list_user_tokens)),
    ("POST",   r("/api/tokens",                               User,   tokens::create_user_token)),
    ("DELETE", r("/api/tokens/{id}",                          User,   tokens::revoke_user_token)),
    ("GET",    r("/api/workspaces",                           User,   workspaces::list)),
    ("POST",   r("/api/workspaces",                           User,   workspaces::create)),
    ("GET",    r("/api/workspaces/{ws}/members",              User,   members::list)),
    ("POST",   r("/api/workspaces/{ws}/members",              User,   members::add)),
    ("PATCH",  r("/api/workspaces/{ws}/members/{user}",       User,   members::patch)),
    ("DELETE", r("/api/workspaces/{ws}/members/{user}",       User,   members::remove)),
    ("GET",    r("/api/workspaces/{ws}/daemon-tokens",        User,   tokens::list_daemon_tokens)),
    ("POST",   r("/api/workspaces/{ws}/daemon-tokens",        User,   tokens::create_daemon_token)),
    ("DELETE", r("/api/workspaces/{ws}/daemon-tokens/{id}",   User,   tokens::revoke_daemon_token)),

    // Runtimes.
    ("GET",    r("/api/workspaces/{ws}/runtimes",             User,   runtimes::list)),
    ("GET",    r("/api/runtimes/{id}",                        User,   runtimes::get)),
    ("PATCH",  r("/api/runtimes/{id}",                        User,   runtimes::patch)),
    ("DELETE", r("/api/runtimes/{id}",                        User,   retire::delete_strict)),
    ("POST",   r("/api/runtimes/{id}/archive-agents-and-delete", User, retire::archive_agents_and_delete)),

    // The daemon protocol (daemon tokens).
    ("POST",   r("/api/daemon/register",                      Daemon, daemon::register)),
    ("POST",   r("/api/daemon/heartbeat",                     Daemon, daemon::heartbeat)),
    ("POST",   r("/api/daemon/deregister",                    Daemon, daemon::deregister)),
    ("POST",   r("/api/daemon/runtimes/{id}/claim",           Daemon, daemon_tasks::claim)),
    ("POST",   r("/api/daemon/tasks/{id}/start",              Daemon, daemon_tasks::start)),
    ("POST",   r("/api/daemon/tasks/{id}/complete",           Daemon, daemon_tasks::complete)),
    ("POST",   r("/api/daemon/tasks/{id}/fail",               Daemon, daemon_tasks::fail)),
    ("POST",   r("/api/daemon/tasks/{id}/usage",              Daemon, daemon_usage::report)),

    // Events.
    ("GET",    r("/api/workspaces/{ws}/events",               User,   events::list)),
    ("GET",    r("/api/workspaces/{ws}/events/stream",        User,   events::stream)),

    // Agents.
    ("GET",    r("/api/workspaces/{ws}/agents",               User,   agents::list)),
    ("POST",   r("/api/workspaces/{ws}/agents",               User,   agents::create)),
    ("GET",    r("/api/agents/{id}",                          User,   agents::get)),
    ("PATCH",  r("/api/agents/{id}",                          User,   agents::patch)),
    ("POST",   r("/api/agents/{id}/archive",                  User,   agents::archive)),
    ("POST",   r("/api/agents/{id}/restore",                  User,   agents::restore)),
    ("POST",   r("/api/agents/{id}/tasks",                    User,   tasks::enqueue)),

    // Tasks.
    ("GET",    r("/api/workspaces/{ws}/tasks",                User,   tasks::list)),
    ("GET",    r("/api/tasks/{id}",                           User,   tasks::get)),
    ("POST",   r("/api/tasks/{id}/cancel",                    User,   tasks::cancel)),

    // Autopilots.
    ("GET",    r("/api/workspaces/{ws}/autopilots",           User,   autopilots::list)),
    ("POST",   r("/api/workspaces/{ws}/autopilots",           User,   autopilots::create)),
    ("PATCH",  r("/api/autopilots/{id}",                      User,   autopilots::patch)),
    ("DELETE", r("/api/autopilots/{id}",                      User,   autopilots::delete)),

    // Squads.
    ("GET",    r("/api/workspaces/{ws}/squads",               User,   squads::list)),
    ("POST",   r("/api/workspaces/{ws}/squads",               User,   squads::create)),
    ("GET",    r("/api/squads/{id}",                          User,   squads::get)),
    ("PATCH",  r("/api/squads/{id}",                          User,   squads::patch)),
    ("POST",   r("/api/squads/{id}/archive",                  User,   squads::archive)),

    // Usage reports.
    ("GET",    r("/api/pricing",                              User,   usage::pricing)),
    ("GET",    r("/api/runtimes/{id}/usage",                  User,   usage::runtime_usage)),
    ("GET",    r("/api/runtimes/{id}/usage/by-agent",         User,   usage::runtime_by_agent)),
    ("GET",    r("/api/runtimes/{id}/usage/by-hour",          User,   usage::runtime_by_hour)),
    ("GET",    r("/api/runtimes/{id}/usage/tasks",            User,   usage_tasks::runtime_tasks)),
    ("GET",    r("/api/runtimes/{id}/activity",               User,   usage::runtime_activity)),
    ("GET",    r("/api/workspaces/{ws}/usage/daily",          User,   usage::workspace_daily)),
    ("GET",    r("/api/workspaces/{ws}/usage/summary",        User,   usage::workspace_summary)),
    ("GET",    r("/api/workspaces/{ws}/usage/by-runtime",     User,   usage::workspace_by_runtime)),
    ("GET",    r("/api/workspaces/{ws}/usage/by-agent",       User,   usage::workspace_by_agent)),
    ("GET",    r("/api/workspaces/{ws}/usage/tasks",          User,   usage_tasks::workspace_tasks)),
    // The price book and reconciliation.
    ("GET",    r("/api/workspaces/{ws}/pricing",              User,   prices::show)),
    ("POST",   r("/api/workspaces/{ws}/prices/preview",       User,   prices::preview)),
    ("POST",   r("/api/workspaces/{ws}/prices",               User,   prices::create)),
    ("DELETE", r("/api/workspaces/{ws}/prices/{id}",          User,   prices::delete)),
    ("GET",    r("/api/workspaces/{ws}/usage/unpriced",       User,   prices::unpriced)),
    ("POST",   bill(r("/api/workspaces/{ws}/usage/reconcile", User, reconcile::reconcile))),

    // Budgets.
    ("GET",    r("/api/workspaces/{ws}/budgets",              User,   budgets::list)),
    ("POST",   r("/api/workspaces/{ws}/budgets",              User,   budgets::create)),
    ("GET",    r("/api/budgets/{id}",                         User,   budgets::get)),
    ("PATCH",  r("/api/budgets/{id}",                         User,   budgets::patch)),
    ("DELETE", r("/api/budgets/{id}",                         User,   budgets::delete)),
    ("GET",    r("/api/budgets/{id}/status",                  User,   budgets::get_status)),
    ("GET",    r("/api/workspaces/{ws}/usage/projection",     User,   budgets::projection)),
];

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

    fn segments(pattern: &'static str) -> Vec<&'static str> {
        pattern.split('/').filter(|p| !p.is_empty()).collect()
    }

    /// Whether some path would fit both patterns with neither a literal where the other has
    /// a placeholder throughout (the router could not tell which one is meant).
    fn ambiguous(a: &'static str, b: &'static str) -> bool {
        let (a, b) = (segments(a), segments(b));
        let placeholder = |s: &str| s.starts_with('{');
        let fits_both = a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| placeholder(x) || placeholder(y) || x == y);
        let a_wins = a
            .iter()
            .zip(&b)
            .any(|(x, y)| !placeholder(x) && placeholder(y));
        let b_wins = a
            .iter()
            .zip(&b)
            .any(|(x, y)| placeholder(x) && !placeholder(y));
        fits_both && a_wins == b_wins
    }

    #[test]
    fn every_route_resolves_from_its_own_pattern_and_no_two_patterns_are_ambiguous() {
        let routes = all_routes();
        assert_eq!(routes.len(), ENDPOINTS.len());
        for (method, pattern, auth) in &routes {
            let path: Vec<&str> = segments(pattern)
                .into_iter()
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect();
            let found = resolve(method, &path).ok().map(|r| (r.pattern, r.auth));
            assert_eq!(found, Some((*pattern, *auth)), "{method} {pattern}");
            for (_, other) in ENDPOINTS {
                if other.pattern != *pattern {
                    assert!(
                        !ambiguous(pattern, other.pattern),
                        "{pattern} vs {}",
                        other.pattern
                    );
                }
            }
        }
        let mut seen: Vec<(&str, &str)> = routes.iter().map(|(m, p, _)| (*m, *p)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), routes.len(), "a (method, pattern) listed twice");
    }

    #[test]
    fn a_literal_segment_beats_a_placeholder() {
        let at = |m: &str, last: &'static str| {
            resolve(m, &["api", "workspaces", "w", "prices", last]).map(|r| r.pattern)
        };
        assert_eq!(
            at("POST", "preview").ok(),
            Some("/api/workspaces/{ws}/prices/preview")
        );
        assert_eq!(
            at("DELETE", "abc").ok(),
            Some("/api/workspaces/{ws}/prices/{id}")
        );
        let e = at("DELETE", "preview").err().unwrap();
        assert_eq!(e.allow, vec!["POST"]);
        assert!(more_specific("/a/b/{x}", "/a/{y}/c"));
        assert!(!more_specific("/a/{y}/c", "/a/b/{x}"));
    }

    #[test]
    fn placeholders_match_exactly_one_segment() {
        let runtime = ENDPOINTS
            .iter()
            .find(|(_, r)| r.pattern == "/api/runtimes/{id}")
            .map(|(_, r)| *r)
            .unwrap();
        assert!(runtime.matches(&["api", "runtimes", "abc"]));
        assert!(!runtime.matches(&["api", "runtimes"]));
        assert!(!runtime.matches(&["api", "runtimes", "abc", "def"]));
        assert!(!runtime.matches(&["api", "runtime", "abc"]));
    }
}
