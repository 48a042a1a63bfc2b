//! Drill-down (`…/usage/tasks`): the ledger rows behind a report cell and their total, which
//! equals the cell in ticks. The cell is chosen with the report's own terms — a local `date`
//! (or `since..until`, or the report's `days` window) in the viewing zone, narrowed by
//! `model`, `provider`, `agent_id` and (workspace only) `runtime_id` — and the answer states
//! them the way every usage report does (`usage::respond`).

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db::usage::LedgerFilter;
use crate::db::{Conn, DbResult};
use crate::error::ApiError;
use crate::http::api::usage::{open_runtime, open_workspace, respond, Terms};
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::ids;
use crate::usage::pricebook::PriceBook;
use crate::usage::reports::calendar::{parse_date, parse_range, Period};
use crate::usage::reports::{drill, Totals};
use crate::usage::window::parse_days;
use crate::usage::wire;

/// The `days` a drill-down without a date or range covers (the by-agent reports' default).
const DEFAULT_DAYS: u32 = 30;

/// What a drill-down's query selects.
struct Cell {
    /// One local date, or `since..until`; `None` means the report's `days` window.
    dates: Option<(NaiveDate, NaiveDate)>,
    days: u32,
    agent_id: Option<String>,
    runtime_id: Option<String>,
    provider: Option<String>,
    model: Option<String>,
}

impl Cell {
    fn parse(req: &Req) -> Result<Cell, ApiError> {
        let text = |name: &str| req.query(name).filter(|v| !v.trim().is_empty());
        let date = text("date").map(|d| parse_date("date", d)).transpose()?;
        let range = parse_range(req.query("since"), req.query("until"))?;
        let dates = match (date, range) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_field(
                    "date",
                    "cannot be combined with since and until",
                ))
            }
            (Some(d), None) => Some((d, d)),
            (None, range) => range,
        };
        let id = |name: &str| {
            text(name)
                .map(|v| ids::parse(v.trim()).ok_or_else(|| ApiError::invalid_id(name)))
                .transpose()
        };
        Ok(Cell {
            dates,
            days: parse_days(req.query("days"), DEFAULT_DAYS),
            agent_id: id("agent_id")?,
            runtime_id: id("runtime_id")?,
            provider: text("provider").map(str::to_string),
            model: text("model").map(str::to_string),
        })
    }

    /// The cell's period; `days_rule` is the report family's rule for a `days` window.
    fn period(
        &self,
        now: i64,
        tz: chrono_tz::Tz,
        days_rule: fn(i64, chrono_tz::Tz, u32) -> Period,
    ) -> Period {
        match self.dates {
            Some((first, last)) => Period::range(tz, first, last),
            None => days_rule(now, tz, self.days),
        }
    }
}

/// `GET /api/runtimes/{id}/usage/tasks`: cells of the runtime reports (`runtime_id` ignored).
pub fn runtime_tasks(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let id = req.path_id(2, "runtime id")?;
    let cell = Cell::parse(req)?;
    let (rows, total, terms) = ctx.db.read(|c| -> Result<_, ApiError> {
        let (rt, tz) = open_runtime(c, uid, &id, req)?;
        let period = cell.period(ctx.now_ms(), tz, Period::runtime_days);
        let filter = LedgerFilter {
            workspace_id: &rt.workspace_id,
            runtime_id: Some(&rt.id),
            agent_id: cell.agent_id.as_deref(),
            provider: cell.provider.as_deref(),
            model: cell.model.as_deref(),
        };
        Ok(drill_down(c, ctx, tz, &filter, period)?)
    })?;
    let total = wire::counted(&total);
    respond(req, &wire::task_usage(rows), Some(&total), &terms)
}

/// `GET /api/workspaces/{ws}/usage/tasks`: cells of the workspace reports.
pub fn workspace_tasks(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let cell = Cell::parse(req)?;
    let (rows, total, terms) = ctx.db.read(|c| -> Result<_, ApiError> {
        let tz = open_workspace(c, uid, &ws, req)?;
        let period = cell.period(ctx.now_ms(), tz, Period::workspace_days);
        let filter = LedgerFilter {
            workspace_id: &ws,
            runtime_id: cell.runtime_id.as_deref(),
            agent_id: cell.agent_id.as_deref(),
            provider: cell.provider.as_deref(),
            model: cell.model.as_deref(),
        };
        Ok(drill_down(c, ctx, tz, &filter, period)?)
    })?;
    let total = wire::counted(&total);
    respond(req, &wire::task_usage(rows), Some(&total), &terms)
}

/// The ledger rows of `filter` in `period`, priced with the workspace's book, their total,
/// and the terms the answer states.
fn drill_down(
    c: &Conn,
    ctx: &Ctx,
    tz: Tz,
    filter: &LedgerFilter,
    period: Period,
) -> DbResult<(Vec<drill::TaskUsage>, Totals, Terms)> {
    let book = PriceBook::load(c, &ctx.pricing, filter.workspace_id)?;
    let (rows, total) = drill::task_usage(c, &book, tz, filter, period.since, period.end)?;
    let terms = Terms {
        tz,
        period,
        prices: book.version(),
    };
    Ok((rows, total, terms))
}
