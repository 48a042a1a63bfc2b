//! `POST /api/workspaces/{ws}/usage/reconcile?tz=&tolerance_pct=` (issue 17): the body is a
//! provider bill as CSV (at most 5 MiB, the route's body cap), dated in `tz` (→ user →
//! UTC); the answer compares it per (date, model) with the ledger's daily report.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::access::member_role;
use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::http::api::usage::json_text;
use crate::http::api::user_id;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::usage::money::ticks_to_usd;
use crate::usage::reconcile::{compare, parse_bill, Figures, Line};
use crate::usage::reports::{self, View};
use crate::usage::window::{ms_of_instant, resolve_zone, start_of_local_day};

/// `POST /api/workspaces/{ws}/usage/reconcile`
pub fn reconcile(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let uid = user_id(caller)?;
    let ws = req.path_id(2, "workspace id")?;
    let tolerance = match req.query("tolerance_pct") {
        None => 1.0,
        Some(t) => t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                ApiError::invalid_field("tolerance_pct", "must be a non-negative number")
            })?,
    };
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad_request("invalid_csv", "the bill must be UTF-8 text"))?;
    let bill = parse_bill(text).map_err(|e| {
        ApiError::bad_request(
            "invalid_csv",
            format!("line {}, column {}: {}", e.line, e.column, e.message),
        )
        .with_extra("line", json!(e.line))
        .with_extra("column", json!(e.column))
    })?;
    let (lines, tz) = ctx.db.read(|c| {
        member_role(c, &ws, uid, "workspace")?;
        let user_tz = db::users::get(c, uid)?.and_then(|u| u.timezone);
        let tz = resolve_zone(req.query("tz"), user_tz.as_deref(), None);
        let Some(first) = bill.rows.keys().next().map(|k| k.0) else {
            return Ok::<_, ApiError>((Vec::new(), tz));
        };
        let view = View {
            pricing: &ctx.pricing,
            tz,
            since: ms_of_instant(start_of_local_day(tz, first)),
            now: ctx.now_ms(),
        };
        let mut ledger: BTreeMap<_, Figures> = BTreeMap::new();
        for r in reports::workspace_daily(c, view, &ws)? {
            let t = &r.totals;
            let tokens = [
                t.input_tokens,
                t.output_tokens,
                t.cache_read_tokens,
                t.cache_write_tokens,
            ];
            let entry = ledger.entry((r.date, r.model)).or_default();
            entry.cost = Some(entry.cost.unwrap_or(0) + t.cost_ticks);
            entry.tokens = Some(match entry.tokens {
                Some(a) => [
                    a[0] + tokens[0],
                    a[1] + tokens[1],
                    a[2] + tokens[2],
                    a[3] + tokens[3],
                ],
                None => tokens,
            });
        }
        Ok((compare(&bill, &ledger, tolerance), tz))
    })?;
    let rows: Vec<Value> = lines.iter().map(line_json).collect();
    // Models with figures on one side only, over every compared date.
    let only_models = |bill_side: bool| {
        let mut out: Vec<String> = lines
            .iter()
            .filter(|l| {
                let has = |o: &Line| (o.bill.is_some(), o.ledger.is_some());
                let here = lines.iter().filter(|o| o.model == l.model).map(has);
                let (mut bill_has, mut ledger_has) = (false, false);
                for (b, g) in here {
                    bill_has |= b;
                    ledger_has |= g;
                }
                if bill_side {
                    bill_has && !ledger_has
                } else {
                    ledger_has && !bill_has
                }
            })
            .map(|l| l.model.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let only_dates = |bill_side: bool| {
        let mut out: Vec<String> = lines
            .iter()
            .map(|l| l.date)
            .filter(|d| {
                let here = lines.iter().filter(|l| l.date == *d);
                let mut bill_has = false;
                let mut ledger_has = false;
                for l in here {
                    bill_has |= l.bill.is_some();
                    ledger_has |= l.ledger.is_some();
                }
                if bill_side {
                    bill_has && !ledger_has
                } else {
                    ledger_has && !bill_has
                }
            })
            .map(|d| d.to_string())
            .collect();
        out.dedup();
        out
    };
    let duplicates: Vec<Value> = bill
        .duplicates
        .iter()
        .map(|((date, model), at)| json!({"date": date.to_string(), "model": model, "lines": at}))
        .collect();
    json_text(&json!({
        "timezone": tz.name(),
        "tolerance_pct": tolerance,
        "rows": rows,
        "flagged": lines.iter().filter(|l| l.flagged).count(),
        "dates_only_in_bill": only_dates(true),
        "dates_only_in_ledger": only_dates(false),
        "models_only_in_bill": only_models(true),
        "models_only_in_ledger": only_models(false),
        "duplicates": duplicates,
    }))
}

fn figures_json(f: &Option<Figures>) -> Value {
    match f {
        None => Value::Null,
        Some(f) => json!({
            "cost_usd": f.cost.map(ticks_to_usd),
            "cost_ticks": f.cost,
            "tokens": f.tokens.map(|t| t.iter().sum::<i128>()),
        }),
    }
}

fn line_json(l: &Line) -> Value {
    json!({
        "date": l.date.to_string(),
        "model": l.model,
        "bill": figures_json(&l.bill),
        "ledger": figures_json(&l.ledger),
        "cost_diff_usd": l.cost_diff.map(ticks_to_usd),
        "cost_diff_ticks": l.cost_diff,
        "token_diff": l.token_diff,
        "flagged": l.flagged,
    })
}
