//! Budgets: a spend limit for a workspace, a runtime or an agent over the current day, week
//! (from Monday) or calendar month in a named zone, announcing percentage thresholds once per
//! period and, with `pause_dispatch`, holding back new work while the amount is spent.
//! Admins write budgets; members read them. `input` checks what a client sends, `period` has
//! the calendar, `evaluate` the spend and the announcements, `kept` the spend evaluation keeps
//! across reports, `hold` what claims and autopilots consult, `status` the read-side
//! arithmetic.

pub mod evaluate;
pub mod hold;
pub mod input;
pub mod kept;
pub mod period;
pub mod status;

use chrono_tz::Tz;
use serde_json::json;

use crate::access::{member_role, Role};
use crate::db::budgets::{self as store, Budget};
use crate::db::{self, Conn, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;
use crate::usage::pricing::PriceTable;
use crate::wire::budget_json;
use period::Period;

/// Thresholds a budget gets when none are given (percent of the amount).
pub const DEFAULT_THRESHOLDS: [i64; 3] = [50, 80, 100];

/// Whose spend a budget watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Workspace,
    Runtime(String),
    Agent(String),
}

/// A validated create request.
pub struct NewBudget {
    pub name: Option<String>,
    pub scope: Scope,
    pub amount_micros: i64,
    pub period: Period,
    /// A canonical IANA name.
    pub timezone: String,
    /// Ascending, unique, each in 1..=100.
    pub thresholds: Vec<i64>,
    pub action: String,
}

/// A validated patch: `None` leaves a field as it is (`name: Some(None)` clears the name).
#[derive(Default)]
pub struct BudgetChanges {
    pub name: Option<Option<String>>,
    pub scope: Option<Scope>,
    pub amount_micros: Option<i64>,
    pub period: Option<Period>,
    pub timezone: Option<String>,
    pub thresholds: Option<Vec<i64>>,
    pub action: Option<String>,
}

/// A budget the caller may see, with the caller's role; 404 otherwise.
pub fn visible(c: &Conn, user_id: &str, id: &str) -> Result<(Budget, Role), ApiError> {
    let budget = store::get(c, id)?.ok_or_else(|| ApiError::not_found("budget"))?;
    let role = member_role(c, &budget.workspace_id, user_id, "budget")?;
    Ok((budget, role))
}

/// The budgets of a workspace the caller belongs to, oldest first.
pub fn list(c: &Conn, user_id: &str, workspace_id: &str) -> Result<Vec<Budget>, ApiError> {
    member_role(c, workspace_id, user_id, "workspace")?;
    Ok(store::list(c, workspace_id)?)
}

/// Creates a budget (admins), announces it, then evaluates it at `now`: thresholds the
/// period's spend already reaches are announced at once.
pub fn create(
    tx: &Tx,
    pricing: &PriceTable,
    actor: &Actor,
    user_id: &str,
    workspace_id: &str,
    new: NewBudget,
    now: i64,
) -> Result<Budget, ApiError> {
    let role = member_role(tx, workspace_id, user_id, "workspace")?;
    require_scope_exists(tx, workspace_id, &new.scope)?;
    require_admin(role)?;
    let (scope_type, scope_id) = scope_columns(new.scope);
    let mut budget = Budget {
        id: ids::new_id(),
        workspace_id: workspace_id.to_string(),
        name: new.name,
        scope_type,
        scope_id,
        amount_micros: new.amount_micros,
        period: new.period.as_str().to_string(),
        timezone: new.timezone,
        thresholds: new.thresholds,
        action: new.action,
        exceeded_until: None,
        created_at: now,
        updated_at: now,
    };
    let measured = evaluate::measure(tx, pricing, &budget, now)?;
    budget.exceeded_until = measured.exceeded_until();
    store::insert(tx, &budget)?;
    announce(tx, "budget:created", actor, &budget, now)?;
    evaluate::announce_crossings(tx, &budget, &measured, now)?;
    Ok(budget)
}

/// Edits a budget (admins) and re-evaluates it: thresholds its period already announced are
/// not announced again; newly reached ones are. No change, no write and no event.
pub fn update(
    tx: &Tx,
    pricing: &PriceTable,
    actor: &Actor,
    user_id: &str,
    id: &str,
    changes: BudgetChanges,
    now: i64,
) -> Result<Budget, ApiError> {
    let (mut budget, role) = visible(tx, user_id, id)?;
    if let Some(scope) = &changes.scope {
        require_scope_exists(tx, &budget.workspace_id, scope)?;
    }
    require_admin(role)?;
    let before = budget.clone();
    if let Some(name) = changes.name {
        budget.name = name;
    }
    if let Some(scope) = changes.scope {
        (budget.scope_type, budget.scope_id) = scope_columns(scope);
    }
    if let Some(amount) = changes.amount_micros {
        budget.amount_micros = amount;
    }
    if let Some(period) = changes.period {
        budget.period = period.as_str().to_string();
    }
    if let Some(timezone) = changes.timezone {
        budget.timezone = timezone;
    }
    if let Some(thresholds) = changes.thresholds {
        budget.thresholds = thresholds;
    }
    if let Some(action) = changes.action {
        budget.action = action;
    }
    if budget == before {
        return Ok(budget);
    }
    let measured = evaluate::measure(tx, pricing, &budget, now)?;
    budget.exceeded_until = measured.exceeded_until();
    budget.updated_at = now;
    store::save(tx, &budget)?;
    announce(tx, "budget:updated", actor, &budget, now)?;
    evaluate::announce_crossings(tx, &budget, &measured, now)?;
    Ok(budget)
}

/// Deletes a budget (admins) with its record of announced thresholds.
pub fn delete(tx: &Tx, actor: &Actor, user_id: &str, id: &str, now: i64) -> Result<(), ApiError> {
    let (budget, role) = visible(tx, user_id, id)?;
    require_admin(role)?;
    store::delete(tx, &budget.id)?;
    announce(tx, "budget:deleted", actor, &budget, now)?;
    Ok(())
}

/// The budget's period kind (the schema allows only valid names).
pub fn period_of(budget: &Budget) -> Period {
    Period::parse(&budget.period).unwrap_or(Period::Month)
}

/// The budget's zone (validated on write; UTC should the tz database ever drop a name).
pub fn tz_of(budget: &Budget) -> Tz {
    budget.timezone.parse().unwrap_or(Tz::UTC)
}

/// The budget's scope.
pub fn scope_of(budget: &Budget) -> Scope {
    match (budget.scope_type.as_str(), &budget.scope_id) {
        ("runtime", Some(id)) => Scope::Runtime(id.clone()),
        ("agent", Some(id)) => Scope::Agent(id.clone()),
        _ => Scope::Workspace,
    }
}

fn scope_columns(scope: Scope) -> (String, Option<String>) {
    match scope {
        Scope::Workspace => ("workspace".to_string(), None),
        Scope::Runtime(id) => ("runtime".to_string(), Some(id)),
        Scope::Agent(id) => ("agent".to_string(), Some(id)),
    }
}

/// A scope's runtime or agent must be in the budget's workspace (archived agents count: their
/// spend is history).
fn require_scope_exists(c: &Conn, workspace_id: &str, scope: &Scope) -> Result<(), ApiError> {
    let found = match scope {
        Scope::Workspace => true,
        Scope::Runtime(id) => {
            db::runtimes::get(c, id)?.is_some_and(|r| r.workspace_id == workspace_id)
        }
        Scope::Agent(id) => db::agents::get(c, id)?.is_some_and(|a| a.workspace_id == workspace_id),
    };
    if found {
        return Ok(());
    }
    let what = if matches!(scope, Scope::Agent(_)) {
        "agent"
    } else {
        "runtime"
    };
    Err(ApiError::invalid_field(
        "scope.id",
        &format!("no {what} with this id in the workspace"),
    ))
}

fn require_admin(role: Role) -> Result<(), ApiError> {
    if role.is_admin() {
        return Ok(());
    }
    Err(ApiError::forbidden("only an admin may change budgets"))
}

fn announce(tx: &Tx, kind: &str, actor: &Actor, budget: &Budget, now: i64) -> Result<(), ApiError> {
    let payload = json!({ "budget": budget_json(budget, now) });
    events::append(tx, &budget.workspace_id, kind, actor, payload, now)?;
    Ok(())
}
