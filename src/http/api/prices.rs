//! The workspace price book (issue 15): `GET …/pricing` (the table in force, members),
//! `POST …/prices` and `DELETE …/prices/{id}` (admins), `POST …/prices/preview` (members: the
//! cost per UTC month under the current and the proposed book, nothing saved) and
//! `GET …/usage/unpriced` (members). Prices arrive in USD per million tokens and are stored
//! exactly as whole ticks per token; `valid_from` must lie on the 15-minute UTC grid.

use chrono::{DateTime, Datelike, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::access::member_role;
use crate::auth::Caller;
use crate::budgets;
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db::prices::PriceOverride;
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::http::api::usage::json_text;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::ids;
use crate::usage::money::{ticks_to_usd, usd_per_million_to_ticks_per_token};
use crate::usage::pricebook::{price_of, PriceBook};
use crate::usage::pricing::Price;
use crate::usage::reports::{book, View};
use crate::usage::window::{
    instant_of_ms, ms_of_instant, parse_days, resolve_zone, workspace_since, QUARTER_MS,
};

const FIELDS: &[&str] = &[
    "model",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "valid_from",
];

#[derive(Deserialize)]
struct PriceBody {
    model: Value,
    input: Value,
    output: Value,
    cache_read: Value,
    cache_write: Value,
    valid_from: Value,
}

/// A validated body.
struct Proposal {
    model: String,
    price: Price,
    valid_from: i64,
}

#[derive(Serialize)]
struct InForceRow {
    model: String,
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
    source: &'static str,
    valid_from: Option<String>,
}

#[derive(Serialize)]
struct MonthRow {
    month: String,
    old_cost_ticks: i128,
    new_cost_ticks: i128,
    delta_ticks: i128,
    old_cost_usd: f64,
    new_cost_usd: f64,
    delta_usd: f64,
    old_unpriced_tokens: i128,
    new_unpriced_tokens: i128,
}

#[derive(Serialize)]
struct UnpricedRow {
    provider: String,
    model: String,
    unpriced_tokens: i128,
    first_seen: String,
    last_seen: String,
}

/// `GET /api/workspaces/{ws}/pricing`
pub fn show(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let (book_rows, overrides) = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        let book = PriceBook::load(c, &ctx.pricing, &ws)?;
        Ok::<_, ApiError>((book.in_force(ctx.now_ms()), db::prices::list(c, &ws)?))
    })?;
    let models: Vec<InForceRow> = book_rows
        .into_iter()
        .map(|e| {
            let usd = e.price.usd_per_million();
            InForceRow {
                model: e.model,
                input: usd.input,
                output: usd.output,
                cache_read: usd.cache_read,
                cache_write: usd.cache_write,
                source: if e.valid_from.is_some() {
                    "workspace"
                } else {
                    "table"
                },
                valid_from: e.valid_from.map(rfc3339),
            }
        })
        .collect();
    let overrides: Vec<Value> = overrides.iter().map(override_json).collect();
    json_text(&json!({
        "as_of": ctx.pricing.as_of(),
        "version": ctx.pricing.version(),
        "models": models,
        "overrides": overrides,
    }))
}

/// `POST /api/workspaces/{ws}/prices`
pub fn create(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let p = proposal(req)?;
    let now = ctx.now_ms();
    let row = ctx.write(|tx| {
        require_admin(tx, &ws, uid)?;
        if db::prices::find(tx, &ws, &p.model, p.valid_from)?.is_some() {
            return Err(ApiError::conflict(
                "price_exists",
                "an override of this model already starts at valid_from; delete it first",
            ));
        }
        let row = PriceOverride {
            id: ids::new_id(),
            workspace_id: ws.clone(),
            model: p.model.clone(),
            input: to_i64(p.price.input)?,
            output: to_i64(p.price.output)?,
            cache_read: to_i64(p.price.cache_read)?,
            cache_write: to_i64(p.price.cache_write)?,
            valid_from: p.valid_from,
            created_at: now,
            created_by: uid.to_string(),
        };
        db::prices::insert(tx, &row)?;
        let actor = Actor::of(caller);
        events::append(tx, &ws, "price:created", &actor, override_json(&row), now)?;
        // A new price moves what budgets have spent.
        budgets::evaluate::evaluate_workspace(tx, &ctx.pricing, &ws, now)?;
        Ok(row)
    })?;
    Reply::created(override_json(&row))
}

/// `DELETE /api/workspaces/{ws}/prices/{id}`
pub fn delete(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let id = req.path_id(4, "price id")?;
    let now = ctx.now_ms();
    ctx.write(|tx| {
        require_admin(tx, &ws, uid)?;
        let row = db::prices::delete(tx, &ws, &id)?.ok_or_else(|| ApiError::not_found("price"))?;
        let actor = Actor::of(caller);
        events::append(tx, &ws, "price:deleted", &actor, override_json(&row), now)?;
        budgets::evaluate::evaluate_workspace(tx, &ctx.pricing, &ws, now)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// `POST /api/workspaces/{ws}/prices/preview`: UTC months from `valid_from`'s on.
pub fn preview(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let p = proposal(req)?;
    let now = ctx.now_ms();
    let months = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        let old = PriceBook::load(c, &ctx.pricing, &ws)?;
        let new = old.with(&p.model, p.price, p.valid_from);
        let from = instant_of_ms(p.valid_from);
        let month_start = Tz::UTC
            .with_ymd_and_hms(from.year(), from.month(), 1, 0, 0, 0)
            .single()
            .map(|t| ms_of_instant(t.to_utc()))
            .unwrap_or(p.valid_from);
        let view = View {
            pricing: &ctx.pricing,
            tz: Tz::UTC,
            since: month_start,
            now,
        };
        Ok::<_, ApiError>(book::monthly_change(c, view, &old, &new, &ws)?)
    })?;
    let rows: Vec<MonthRow> = months
        .into_iter()
        .map(|m| MonthRow {
            month: m.month,
            old_cost_ticks: m.old_ticks,
            new_cost_ticks: m.new_ticks,
            delta_ticks: m.new_ticks - m.old_ticks,
            old_cost_usd: ticks_to_usd(m.old_ticks),
            new_cost_usd: ticks_to_usd(m.new_ticks),
            delta_usd: ticks_to_usd(m.new_ticks - m.old_ticks),
            old_unpriced_tokens: m.old_unpriced_tokens,
            new_unpriced_tokens: m.new_unpriced_tokens,
        })
        .collect();
    let delta: i128 = rows.iter().map(|m| m.delta_ticks).sum();
    json_text(&json!({
        "model": p.model,
        "valid_from": rfc3339(p.valid_from),
        "months_zone": "UTC",
        "months": rows,
        "delta_ticks": delta,
        "delta_usd": ticks_to_usd(delta),
    }))
}

/// `GET /api/workspaces/{ws}/usage/unpriced?days=&tz=`
pub fn unpriced(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let (rows, tz, days) = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
        let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), None);
        let days = parse_days(req.query("days"), 30);
        let now = ctx.now_ms();
        let since = ms_of_instant(workspace_since(instant_of_ms(now), tz, days));
        let view = View {
            pricing: &ctx.pricing,
            tz,
            since,
            now,
        };
        let book = PriceBook::load(c, &ctx.pricing, &ws)?;
        Ok::<_, ApiError>((book::workspace_unpriced(c, view, &book, &ws)?, tz, days))
    })?;
    let rows: Vec<UnpricedRow> = rows
        .into_iter()
        .map(|u| UnpricedRow {
            provider: u.provider,
            model: u.model,
            unpriced_tokens: u.unpriced_tokens,
            first_seen: u.first_seen.to_string(),
            last_seen: u.last_seen.to_string(),
        })
        .collect();
    Ok(json_text(&rows)?
        .with_header("X-Hangar-Timezone", tz.name())
        .with_header("X-Hangar-Days", days.to_string()))
}

/// The body, validated: a model name, four exact prices and an instant on the quarter grid.
fn proposal(req: &Req) -> Result<Proposal, ApiError> {
    let body: PriceBody = req.body_as(Some(FIELDS))?;
    let model = match &body.model {
        Value::String(m) if !m.trim().is_empty() && m.trim() == m && m.len() <= 200 => m.clone(),
        _ => {
            return Err(ApiError::invalid_field(
                "model",
                "must be a non-blank model name without surrounding spaces",
            ))
        }
    };
    let field = |name: &str, value: &Value| match value {
        Value::Number(n) => usd_per_million_to_ticks_per_token(&n.to_string())
            .map_err(|e| ApiError::invalid_field(name, e.message())),
        _ => Err(ApiError::invalid_field(
            name,
            "must be a number of USD per million tokens",
        )),
    };
    let price = Price {
        input: field("input", &body.input)?,
        output: field("output", &body.output)?,
        cache_read: field("cache_read", &body.cache_read)?,
        cache_write: field("cache_write", &body.cache_write)?,
    };
    let grid = "must be an RFC 3339 instant on the 15-minute UTC grid";
    let valid_from = body
        .valid_from
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .filter(|ms| ms.rem_euclid(QUARTER_MS) == 0)
        .ok_or_else(|| ApiError::invalid_field("valid_from", grid))?;
    Ok(Proposal {
        model,
        price,
        valid_from,
    })
}

/// 404 for non-members, 403 for members who are not owner or admin.
fn require_admin(c: &Conn, ws: &str, uid: &str) -> Result<(), ApiError> {
    if member_role(c, ws, uid, "workspace")?.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only workspace owners and admins can change prices",
        ))
    }
}

fn to_i64(ticks: i128) -> Result<i64, ApiError> {
    i64::try_from(ticks).map_err(ApiError::internal)
}

fn override_json(row: &PriceOverride) -> Value {
    let usd = price_of(row).usd_per_million();
    json!({
        "id": row.id,
        "model": row.model,
        "input": usd.input,
        "output": usd.output,
        "cache_read": usd.cache_read,
        "cache_write": usd.cache_write,
        "valid_from": rfc3339(row.valid_from),
        "created_at": rfc3339(row.created_at),
        "created_by": row.created_by,
    })
}
