//! Usage reports (API.md §5) and `GET /api/pricing`. Each handler checks the path id, parses
//! its query (400s before any lookup), checks membership, resolves the viewing zone (`?tz=` →
//! user → runtime → UTC) and its period (`days`, or `since..until` on the daily reports), runs
//! the report and hands the rows to `respond`, the one place that states a report's terms:
//! zone, days, local-date window and price-table version as headers on every answer, and in
//! an envelope for JSON with `?envelope=1`. Wire rows are serialised straight to text so
//! fields keep the contract's order.

use chrono::NaiveDate;
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
use crate::usage::csv;
use crate::usage::pricebook::PriceBook;
use crate::usage::reports::calendar::{parse_range, Bucket, DayBuckets, Period};
use crate::usage::reports::{self, View};
use crate::usage::window::{parse_days, resolve_zone};
use crate::usage::wire::{self, CountedTotals};

#[derive(Serialize)]
struct PriceRow<'a> {
    model: &'a str,
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
}

/// What a report was computed under.
pub struct Terms {
    pub tz: Tz,
    pub period: Period,
    /// The version of the workspace's prices in force (`X-Hangar-Prices`).
    pub prices: String,
}

impl Terms {
    /// The terms of a report on `workspace_id`'s usage.
    pub fn of(
        c: &Conn,
        ctx: &Ctx,
        workspace_id: &str,
        tz: Tz,
        period: Period,
    ) -> Result<Terms, ApiError> {
        let prices = PriceBook::load(c, &ctx.pricing, workspace_id)?.version();
        Ok(Terms { tz, period, prices })
    }
}

/// The JSON body: the rows alone, or an object when there is a total or an envelope.
#[derive(Serialize)]
struct Body<'a, T> {
    #[serde(flatten)]
    terms: Option<TermsView<'a>>,
    rows: &'a [T],
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<&'a CountedTotals>,
}

#[derive(Serialize)]
struct TermsView<'a> {
    timezone: &'a str,
    window: String,
    prices: &'a str,
}

/// `GET /api/runtimes/{id}/usage`: by day, or by week or month with `?bucket=`.
pub fn runtime_usage(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let (range, bucket) = daily_query(req)?;
    let (rows, terms) = ctx.db.read(|c| {
        let (rt, tz) = open_runtime(c, uid, &id, req)?;
        let now = ctx.now_ms();
        let period = match range {
            Some((first, last)) => Period::range(tz, first, last),
            None => Period::runtime_days(now, tz, parse_days(req.query("days"), 90)),
        };
        let days = DayBuckets {
            bucket,
            until: period.until,
        };
        let rows = reports::runtime_days(c, view(ctx, tz, &period, now), &rt.id, days)?;
        let terms = Terms::of(c, ctx, &rt.workspace_id, tz, period)?;
        Ok::<_, ApiError>((wire::runtime_days(&rt.id, rows), terms))
    })?;
    respond(req, &rows, None, &terms)
}

/// `GET /api/runtimes/{id}/usage/by-agent`
pub fn runtime_by_agent(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    runtime_report(ctx, caller, req, 30, |c, view, rt| {
        Ok(wire::runtime_agents(reports::runtime_by_agent(
            c, view, rt,
        )?))
    })
}

/// `GET /api/runtimes/{id}/usage/by-hour`
pub fn runtime_by_hour(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    runtime_report(ctx, caller, req, 30, |c, view, rt| {
        Ok(wire::runtime_hours(reports::runtime_by_hour(c, view, rt)?))
    })
}

/// `GET /api/runtimes/{id}/activity`: all history unless `days` is given.
pub fn runtime_activity(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let (rows, terms) = ctx.db.read(|c| {
        let (rt, tz) = open_runtime(c, uid, &id, req)?;
        let now = ctx.now_ms();
        // 0 is no valid `days`: it stands for "not given", which means all history.
        let (period, since) = match parse_days(req.query("days"), 0) {
            0 => (Period::all_history(now, tz), None),
            days => {
                let period = Period::runtime_days(now, tz, days);
                (period, Some(period.since))
            }
        };
        let rows = wire::activity(reports::activity(c, tz, &rt.id, since)?);
        Ok::<_, ApiError>((rows, Terms::of(c, ctx, &rt.workspace_id, tz, period)?))
    })?;
    respond(req, &rows, None, &terms)
}

/// `GET /api/workspaces/{ws}/usage/daily`: by day, or by week or month with `?bucket=`.
pub fn workspace_daily(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, true, |c, view, period, bucket, ws| {
        let days = DayBuckets {
            bucket,
            until: period.until,
        };
        Ok(wire::workspace_days(reports::workspace_days(
            c, view, ws, days,
        )?))
    })
}

/// `GET /api/workspaces/{ws}/usage/summary`
pub fn workspace_summary(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, false, |c, view, _, _, ws| {
        Ok(wire::summary(reports::workspace_summary(c, view, ws)?))
    })
}

/// `GET /api/workspaces/{ws}/usage/by-runtime`
pub fn workspace_by_runtime(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 7, false, |c, view, _, _, ws| {
        Ok(wire::by_runtime(reports::workspace_by_runtime(
            c, view, ws,
        )?))
    })
}

/// `GET /api/workspaces/{ws}/usage/by-agent`
pub fn workspace_by_agent(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    workspace_report(ctx, caller, req, 30, false, |c, view, _, _, ws| {
        Ok(wire::by_agent(reports::workspace_by_agent(c, view, ws)?))
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

/// The runtime `id` (404 unless `uid` is a member of its workspace) and the viewing zone.
pub fn open_runtime(
    c: &Conn,
    uid: &str,
    id: &str,
    req: &Req,
) -> Result<(db::runtimes::Runtime, Tz), ApiError> {
    let rt = db::runtimes::get(c, id)?.ok_or_else(|| ApiError::not_found("runtime"))?;
    access::member_role(c, &rt.workspace_id, uid, "runtime")?;
    let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
    let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), Some(&rt.timezone));
    Ok((rt, tz))
}

/// Checks membership of workspace `ws` (404 otherwise) and resolves the viewing zone
/// (`?tz=` → user → UTC).
pub fn open_workspace(c: &Conn, uid: &str, ws: &str, req: &Req) -> Result<Tz, ApiError> {
    access::member_role(c, ws, uid, "workspace")?;
    let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
    Ok(resolve_zone(req.query("tz"), user_tz.as_deref(), None))
}

/// The report view of `period` in `tz` at `now`.
pub fn view<'p>(ctx: &'p Ctx, tz: Tz, period: &Period, now: i64) -> View<'p> {
    View {
        pricing: &ctx.pricing,
        tz,
        since: period.since,
        now,
    }
}

/// Runs a runtime report over its `days` window.
fn runtime_report<T: Serialize + Default>(
    ctx: &Ctx,
    caller: &Caller,
    req: &Req,
    default_days: u32,
    build: impl FnOnce(&Conn, View, &str) -> Result<Vec<T>, ApiError>,
) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let (rows, terms) = ctx.db.read(|c| {
        let (rt, tz) = open_runtime(c, uid, &id, req)?;
        let now = ctx.now_ms();
        let period = Period::runtime_days(now, tz, parse_days(req.query("days"), default_days));
        let rows = build(c, view(ctx, tz, &period, now), &rt.id)?;
        Ok::<_, ApiError>((rows, Terms::of(c, ctx, &rt.workspace_id, tz, period)?))
    })?;
    respond(req, &rows, None, &terms)
}

/// Runs a workspace report: path id, then (for a daily report, `ranged`) the range and bucket
/// of the query, membership (404 otherwise), zone, period (the range, else `days` with the
/// workspace rule), then `build` over one read connection.
fn workspace_report<T: Serialize + Default>(
    ctx: &Ctx,
    caller: &Caller,
    req: &Req,
    default_days: u32,
    ranged: bool,
    build: impl FnOnce(&Conn, View, &Period, Bucket, &str) -> Result<Vec<T>, ApiError>,
) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let (range, bucket) = if ranged {
        daily_query(req)?
    } else {
        (None, Bucket::Day)
    };
    let (rows, terms) = ctx.db.read(|c| {
        let tz = open_workspace(c, uid, &ws, req)?;
        let now = ctx.now_ms();
        let period = match range {
            Some((first, last)) => Period::range(tz, first, last),
            None => Period::workspace_days(now, tz, parse_days(req.query("days"), default_days)),
        };
        let rows = build(c, view(ctx, tz, &period, now), &period, bucket, &ws)?;
        Ok::<_, ApiError>((rows, Terms::of(c, ctx, &ws, tz, period)?))
    })?;
    respond(req, &rows, None, &terms)
}

/// `?since=&until=` and `?bucket=` of the daily reports.
fn daily_query(req: &Req) -> Result<(Option<(NaiveDate, NaiveDate)>, Bucket), ApiError> {
    let range = parse_range(req.query("since"), req.query("until"))?;
    Ok((range, Bucket::parse(req.query("bucket"))?))
}

/// Answers `rows` (and a drill-down's `total`) as JSON, or CSV for `?format=csv`, with the
/// terms in `X-Hangar-Timezone`, `X-Hangar-Days`, `X-Hangar-Window` and `X-Hangar-Prices`;
/// `?envelope=1` puts the same terms around JSON rows. CSV holds the rows only.
pub fn respond<T: Serialize + Default>(
    req: &Req,
    rows: &[T],
    total: Option<&CountedTotals>,
    terms: &Terms,
) -> Result<Reply, ApiError> {
    let window = terms.period.window.to_string();
    let prices = terms.prices.as_str();
    let reply = if req.query("format") == Some("csv") {
        let text = csv::to_csv(rows).map_err(ApiError::internal)?;
        Reply::text(200, "text/csv; charset=utf-8", text)
    } else if matches!(req.query("envelope"), Some("1" | "true")) {
        json_text(&Body {
            terms: Some(TermsView {
                timezone: terms.tz.name(),
                window: window.clone(),
                prices,
            }),
            rows,
            total,
        })?
    } else if total.is_some() {
        json_text(&Body {
            terms: None,
            rows,
            total,
        })?
    } else {
        json_text(rows)?
    };
    Ok(reply
        .with_header("X-Hangar-Timezone", terms.tz.name())
        .with_header("X-Hangar-Days", terms.period.days_label())
        .with_header("X-Hangar-Window", window)
        .with_header("X-Hangar-Prices", prices))
}

/// `value` as JSON text, keeping struct field order.
pub fn json_text(value: &(impl Serialize + ?Sized)) -> Result<Reply, ApiError> {
    let text = serde_json::to_string(value).map_err(ApiError::internal)?;
    Ok(Reply::text(200, "application/json", text))
}
