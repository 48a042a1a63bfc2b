//! `/api/workspaces/{ws}/budgets` (list, create), `/api/budgets/{id}` (get, patch, delete),
//! `/api/budgets/{id}/status` and `/api/workspaces/{ws}/usage/projection`. Bodies are checked
//! here field by field; the rules and the arithmetic live in `budgets`.

use chrono::SecondsFormat;
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Number, Value};

use crate::access::member_role;
use crate::accounts::clean_name;
use crate::auth::Caller;
use crate::budgets::input::{
    check_action, check_amount, check_period, check_scope, check_thresholds,
};
use crate::budgets::{self, status, tz_of, BudgetChanges, NewBudget, Scope, DEFAULT_THRESHOLDS};
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::registry::parse_timezone;
use crate::usage::money::{ticks_to_usd, Ticks};
use crate::usage::window::{instant_of_ms, resolve_zone};
use crate::wire::budget_json;

const FIELDS: [&str; 7] = [
    "name",
    "scope",
    "amount_usd",
    "period",
    "timezone",
    "thresholds",
    "action",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeBody {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

#[derive(Deserialize)]
struct CreateBody {
    name: Option<String>,
    scope: ScopeBody,
    amount_usd: Number,
    period: String,
    timezone: Option<String>,
    thresholds: Option<Vec<Number>>,
    action: Option<String>,
}

#[derive(Deserialize)]
struct PatchBody {
    /// `Some(None)` is an explicit null (clear the name).
    #[serde(default, deserialize_with = "explicit_null")]
    name: Option<Option<String>>,
    scope: Option<ScopeBody>,
    amount_usd: Option<Number>,
    period: Option<String>,
    timezone: Option<String>,
    thresholds: Option<Vec<Number>>,
    action: Option<String>,
}

fn explicit_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// `GET /api/workspaces/{ws}/budgets`
pub fn list(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let found = ctx.db.read(|c| budgets::list(c, uid, &ws))?;
    let now = ctx.now_ms();
    Reply::json(
        found
            .iter()
            .map(|b| budget_json(b, now))
            .collect::<Vec<_>>(),
    )
}

/// `POST /api/workspaces/{ws}/budgets`
pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let body: CreateBody = req.body_as(Some(&FIELDS))?;
    let new = NewBudget {
        name: body.name.as_deref().map(clean_optional_name).transpose()?,
        scope: scope(&body.scope)?,
        amount_micros: check_amount(&body.amount_usd)?,
        period: check_period(&body.period)?,
        timezone: parse_timezone(body.timezone.as_deref().unwrap_or("UTC"))?,
        thresholds: match &body.thresholds {
            Some(values) => check_thresholds(values)?,
            None => DEFAULT_THRESHOLDS.to_vec(),
        },
        action: check_action(body.action.as_deref().unwrap_or("alert"))?,
    };
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let budget = ctx.write(|tx| budgets::create(tx, &ctx.pricing, &actor, uid, &ws, new, now))?;
    Reply::created(budget_json(&budget, now))
}

/// `GET /api/budgets/{id}`
pub fn get(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "budget id")?;
    let (budget, _) = ctx.db.read(|c| budgets::visible(c, uid, &id))?;
    Reply::json(budget_json(&budget, ctx.now_ms()))
}

/// `PATCH /api/budgets/{id}`
pub fn patch(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "budget id")?;
    let body: PatchBody = req.body_as(Some(&FIELDS))?;
    let changes = BudgetChanges {
        name: body
            .name
            .map(|n| n.as_deref().map(clean_optional_name).transpose())
            .transpose()?,
        scope: body.scope.as_ref().map(scope).transpose()?,
        amount_micros: body.amount_usd.as_ref().map(check_amount).transpose()?,
        period: body.period.as_deref().map(check_period).transpose()?,
        timezone: body.timezone.as_deref().map(parse_timezone).transpose()?,
        thresholds: body
            .thresholds
            .as_deref()
            .map(check_thresholds)
            .transpose()?,
        action: body.action.as_deref().map(check_action).transpose()?,
    };
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    let budget =
        ctx.write(|tx| budgets::update(tx, &ctx.pricing, &actor, uid, &id, changes, now))?;
    Reply::json(budget_json(&budget, now))
}

/// `DELETE /api/budgets/{id}`
pub fn delete(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "budget id")?;
    let now = ctx.now_ms();
    let actor = Actor::of(caller);
    ctx.write(|tx| budgets::delete(tx, &actor, uid, &id, now))?;
    Reply::no_content()
}

/// `GET /api/budgets/{id}/status`
pub fn get_status(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "budget id")?;
    let now = ctx.now_ms();
    let (budget, s) = ctx.db.read(|c| {
        let (budget, _) = budgets::visible(c, uid, &id)?;
        let s = status::status(c, &ctx.pricing, &budget, now)?;
        Ok::<_, ApiError>((budget, s))
    })?;
    let tz = tz_of(&budget);
    let m = &s.measure;
    let crossed: Vec<Value> = s
        .alerts
        .iter()
        .map(|a| {
            json!({
                "threshold": a.threshold,
                "spent_usd": a.spent_micros as f64 / 1_000_000.0,
                "crossed_at": rfc3339(a.crossed_at),
            })
        })
        .collect();
    Reply::json(json!({
        "budget": budget_json(&budget, now),
        "period": {
            "start": rfc3339(m.bounds.start),
            "end": rfc3339(m.bounds.end),
            "start_local": local(m.bounds.start, tz),
            "end_local": local(m.bounds.end, tz),
            "timezone": tz.name(),
        },
        "amount_usd": ticks_to_usd(m.amount),
        "spent_usd": ticks_to_usd(m.spent),
        "remaining_usd": ticks_to_usd((m.amount - m.spent).max(0)),
        "percent": percent(m.spent, m.amount),
        "thresholds_crossed": crossed,
        "burn_usd_last_24h": ticks_to_usd(s.burn_per_day),
        "burn_rate_usd_per_hour": ticks_to_usd(s.burn_per_day / 24),
        "projected_usd": ticks_to_usd(s.projected),
        "runs_out_at": s.runs_out_at.map(rfc3339),
        "runs_out_at_local": s.runs_out_at.map(|at| local(at, tz)),
    }))
}

/// `GET /api/workspaces/{ws}/usage/projection?tz=`
pub fn projection(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let now = ctx.now_ms();
    let (tz, p) = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
        let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), None);
        let p = status::workspace_month(c, &ctx.pricing, &ws, tz, now)?;
        Ok::<_, ApiError>((tz, p))
    })?;
    Reply::json(json!({
        "timezone": tz.name(),
        "month_start": rfc3339(p.month.start),
        "month_end": rfc3339(p.month.end),
        "month_start_local": local(p.month.start, tz),
        "month_end_local": local(p.month.end, tz),
        "month_to_date_usd": ticks_to_usd(p.to_date),
        "burn_usd_last_24h": ticks_to_usd(p.burn_per_day),
        "burn_rate_usd_per_hour": ticks_to_usd(p.burn_per_day / 24),
        "projected_month_end_usd": ticks_to_usd(p.projected),
    }))
}

fn scope(body: &ScopeBody) -> Result<Scope, ApiError> {
    check_scope(&body.kind, body.id.as_deref())
}

fn clean_optional_name(name: &str) -> Result<String, ApiError> {
    clean_name("name", name)
}

/// An instant as local time with its offset, always numeric: `2026-03-10T00:00:00.000+05:45`,
/// `…+00:00` in UTC.
fn local(ms: i64, tz: Tz) -> String {
    instant_of_ms(ms)
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `spent / amount` in percent, rounded down to a hundredth so that a threshold not yet
/// crossed never shows as reached.
fn percent(spent: Ticks, amount: Ticks) -> f64 {
    if amount <= 0 {
        return 0.0;
    }
    let hundredths = spent.max(0) * 10_000 / amount;
    hundredths as f64 / 100.0
}
