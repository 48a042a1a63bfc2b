//! Usage reports (API.md §5) and `GET /api/pricing`. Each handler checks the path id and
//! membership, resolves the viewing zone (`?tz=` → user → runtime → UTC) and `days`, runs the
//! report and answers JSON — or CSV with `?format=csv` — with `X-Hangar-Timezone` and
//! `X-Hangar-Days`. Wire rows are serialised straight to text so fields keep the contract's
//! order.

use chrono_tz::Tz;
use serde::Serialize;

use crate::access;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::usage::money::ticks_to_usd;
use crate::usage::reports::{self, Totals, View};
use crate::usage::window::{
    instant_of_ms, ms_of_instant, parse_days, resolve_zone, runtime_since, workspace_since,
};
use crate::usage::{csv, money::Ticks};

#[derive(Serialize, Default)]
struct RuntimeDayRow {
    runtime_id: String,
    date: String,
    provider: String,
    model: String,
    input_tokens: i128,
    output_tokens: i128,
    cache_read_tokens: i128,
    cache_write_tokens: i128,
    cost_usd: Option<f64>,
    cache_savings_usd: Option<f64>,
    unpriced_tokens: i128,
}

#[derive(Serialize, Default)]
struct RuntimeAgentRow {
    agent_id: String,
    provider: String,
    model: String,
    input_tokens: i128,
    output_tokens: i128,
    cache_read_tokens: i128,
    cache_write_tokens: i128,
    task_count: i64,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

#[derive(Serialize, Default)]
struct RuntimeHourRow {
    hour: u32,
    model: String,
    input_tokens: i128,
    output_tokens: i128,
    cache_read_tokens: i128,
    cache_write_tokens: i128,
    task_count: i64,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

#[derive(Serialize, Default)]
struct ActivityRow {
    hour: u32,
    count: i64,
}

/// The workspace reports' shared tail, after their key fields.
#[derive(Serialize, Default)]
struct WorkspaceTotals {
    total_input_tokens: i128,
    total_output_tokens: i128,
    total_cache_read_tokens: i128,
    total_cache_write_tokens: i128,
    task_count: i64,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

#[derive(Serialize, Default)]
struct WorkspaceDayRow {
    date: String,
    model: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
struct SummaryRow {
    model: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
struct ByRuntimeRow {
    runtime_id: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
struct ByAgentRow {
    agent_id: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize)]
struct PriceRow<'a> {
    model: &'a str,
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
}

/// `GET /api/runtimes/{id}/usage`
pub fn runtime_usage(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (rows, tz, days) = ctx.db.read(|c| {
        let (rt, view, days) = runtime_view(ctx, c, caller, req, 90)?;
        let rows = reports::runtime_daily(c, view, &rt.id)?;
        let rows: Vec<RuntimeDayRow> = rows
            .into_iter()
            .map(|r| RuntimeDayRow {
                runtime_id: rt.id.clone(),
                date: r.date.to_string(),
                provider: r.provider,
                model: r.model,
                input_tokens: r.totals.input_tokens,
                output_tokens: r.totals.output_tokens,
                cache_read_tokens: r.totals.cache_read_tokens,
                cache_write_tokens: r.totals.cache_write_tokens,
                cost_usd: usd(r.totals.cost()),
                cache_savings_usd: usd(r.cache_savings),
                unpriced_tokens: r.totals.unpriced_tokens,
            })
            .collect();
        Ok::<_, ApiError>((rows, view.tz, days))
    })?;
    respond(req, &rows, tz, &days.to_string())
}

/// `GET /api/runtimes/{id}/usage/by-agent`
pub fn runtime_by_agent(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (rows, tz, days) = ctx.db.read(|c| {
        let (rt, view, days) = runtime_view(ctx, c, caller, req, 30)?;
        let rows: Vec<RuntimeAgentRow> = reports::runtime_by_agent(c, view, &rt.id)?
            .into_iter()
            .map(|r| RuntimeAgentRow {
                agent_id: r.id,
                provider: r.provider,
                model: r.model,
                input_tokens: r.totals.input_tokens,
                output_tokens: r.totals.output_tokens,
                cache_read_tokens: r.totals.cache_read_tokens,
                cache_write_tokens: r.totals.cache_write_tokens,
                task_count: r.totals.task_count,
                cost_usd: usd(r.totals.cost()),
                unpriced_tokens: r.totals.unpriced_tokens,
            })
            .collect();
        Ok::<_, ApiError>((rows, view.tz, days))
    })?;
    respond(req, &rows, tz, &days.to_string())
}

/// `GET /api/runtimes/{id}/usage/by-hour`
pub fn runtime_by_hour(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (rows, tz, days) = ctx.db.read(|c| {
        let (rt, view, days) = runtime_view(ctx, c, caller, req, 30)?;
        let rows: Vec<RuntimeHourRow> = reports::runtime_by_hour(c, view, &rt.id)?
            .into_iter()
            .map(|r| RuntimeHourRow {
                hour: r.hour,
                model: r.model,
                input_tokens: r.totals.input_tokens,
                output_tokens: r.totals.output_tokens,
                cache_read_tokens: r.totals.cache_read_tokens,
                cache_write_tokens: r.totals.cache_write_tokens,
                task_count: r.totals.task_count,
                cost_usd: usd(r.totals.cost()),
                unpriced_tokens: r.totals.unpriced_tokens,
            })
            .collect();
        Ok::<_, ApiError>((rows, view.tz, days))
    })?;
    respond(req, &rows, tz, &days.to_string())
}

/// `GET /api/runtimes/{id}/activity`: all history unless `days` is given.
pub fn runtime_activity(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (rows, tz, days) = ctx.db.read(|c| {
        let (rt, view, days) = runtime_view(ctx, c, caller, req, 0)?;
        // 0 is no valid `days`: it stands for "not given", which means all history.
        let since = (days > 0).then_some(view.since);
        let rows: Vec<ActivityRow> = reports::activity(c, view.tz, &rt.id, since)?
            .into_iter()
            .map(|(hour, count)| ActivityRow { hour, count })
            .collect();
        Ok::<_, ApiError>((rows, view.tz, days))
    })?;
    let days = if days > 0 {
        days.to_string()
    } else {
        "all".to_string()
    };
    respond(req, &rows, tz, &days)
}

/// `GET /api/workspaces/{ws}/usage/daily`
pub fn workspace_daily(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, |c, view, ws| {
        Ok(reports::workspace_daily(c, view, ws)?
            .into_iter()
            .map(|r| WorkspaceDayRow {
                date: r.date.to_string(),
                model: r.model,
                totals: workspace_totals(&r.totals),
            })
            .collect())
    })
}

/// `GET /api/workspaces/{ws}/usage/summary`
pub fn workspace_summary(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, |c, view, ws| {
        Ok(reports::workspace_summary(c, view, ws)?
            .into_iter()
            .map(|r| SummaryRow {
                model: r.model,
                totals: workspace_totals(&r.totals),
            })
            .collect())
    })
}

/// `GET /api/workspaces/{ws}/usage/by-runtime`
pub fn workspace_by_runtime(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 7, |c, view, ws| {
        Ok(reports::workspace_by_runtime(c, view, ws)?
            .into_iter()
            .map(|r| ByRuntimeRow {
                runtime_id: r.id,
                totals: workspace_totals(&r.totals),
            })
            .collect())
    })
}

/// `GET /api/workspaces/{ws}/usage/by-agent`
pub fn workspace_by_agent(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, |c, view, ws| {
        Ok(reports::workspace_by_agent(c, view, ws)?
            .into_iter()
            .map(|r| ByAgentRow {
                agent_id: r.id,
                totals: workspace_totals(&r.totals),
            })
            .collect())
    })
}

/// `GET /api/pricing`: the table in force, USD per million tokens, in file order.
pub fn pricing(ctx: &Ctx, _: &Caller, _: &Req) -> Result<Reply, ApiError> {
    let rows: Vec<PriceRow> = ctx
        .pricing
        .usd_rows()
        .map(|(model, p)| PriceRow {
            model,
            input: p.input,
            output: p.output,
            cache_read: p.cache_read,
            cache_write: p.cache_write,
        })
        .collect();
    json_text(&rows)
}

/// The runtime of path segment 2 (404 unless the caller is a member of its workspace), the
/// report's view and the `days` used; `default_days` 0 leaves `days` 0 when none is given.
fn runtime_view<'p>(
    ctx: &'p Ctx,
    c: &Conn,
    caller: &Caller,
    req: &Req,
    default_days: u32,
) -> Result<(db::runtimes::Runtime, View<'p>, u32), ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let rt = db::runtimes::get(c, &id)?.ok_or_else(|| ApiError::not_found("runtime"))?;
    access::member_role(c, &rt.workspace_id, uid, "runtime")?;
    let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
    let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), Some(&rt.timezone));
    let days = parse_days(req.query("days"), default_days);
    let now = ctx.now_ms();
    let since = ms_of_instant(runtime_since(instant_of_ms(now), tz, days));
    let view = View {
        pricing: &ctx.pricing,
        tz,
        since,
        now,
    };
    Ok((rt, view, days))
}

/// Runs a workspace report: path id, membership (404 otherwise), zone (`?tz=` → user → UTC),
/// `days` with the workspace rule, then `build` over one read connection.
fn workspace_report<T: Serialize + Default>(
    ctx: &Ctx,
    caller: &Caller,
    req: &Req,
    default_days: u32,
    build: impl FnOnce(&Conn, View, &str) -> Result<Vec<T>, ApiError>,
) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let (rows, tz, days) = ctx.db.read(|c| {
        access::member_role(c, &ws, uid, "workspace")?;
        let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
        let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), None);
        let days = parse_days(req.query("days"), default_days);
        let now = ctx.now_ms();
        let since = ms_of_instant(workspace_since(instant_of_ms(now), tz, days));
        let view = View {
            pricing: &ctx.pricing,
            tz,
            since,
            now,
        };
        Ok::<_, ApiError>((build(c, view, &ws)?, tz, days))
    })?;
    respond(req, &rows, tz, &days.to_string())
}

fn workspace_totals(t: &Totals) -> WorkspaceTotals {
    WorkspaceTotals {
        total_input_tokens: t.input_tokens,
        total_output_tokens: t.output_tokens,
        total_cache_read_tokens: t.cache_read_tokens,
        total_cache_write_tokens: t.cache_write_tokens,
        task_count: t.task_count,
        cost_usd: usd(t.cost()),
        unpriced_tokens: t.unpriced_tokens,
    }
}

fn usd(ticks: Option<Ticks>) -> Option<f64> {
    ticks.map(ticks_to_usd)
}

/// JSON, or CSV for `?format=csv`, with the zone and days headers.
fn respond<T: Serialize + Default>(
    req: &Req,
    rows: &[T],
    tz: Tz,
    days: &str,
) -> Result<Reply, ApiError> {
    let reply = if req.query("format") == Some("csv") {
        let text = csv::to_csv(rows).map_err(ApiError::internal)?;
        Reply::text(200, "text/csv; charset=utf-8", text)
    } else {
        json_text(rows)?
    };
    Ok(reply
        .with_header("X-Hangar-Timezone", tz.name())
        .with_header("X-Hangar-Days", days))
}

/// `value` as JSON text, keeping struct field order.
pub fn json_text(value: &(impl Serialize + ?Sized)) -> Result<Reply, ApiError> {
    let text = serde_json::to_string(value).map_err(ApiError::internal)?;
    Ok(Reply::text(200, "application/json", text))
}
