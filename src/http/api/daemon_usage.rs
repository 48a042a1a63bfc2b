//! `POST /api/daemon/tasks/{id}/usage` (API.md §3): a daemon's cumulative usage report for one
//! task. Numbers are taken as raw JSON text so counts and costs are read exactly; unknown
//! fields are ignored (a newer daemon may send more). Also the JSON shape of a ledger row,
//! shared with the task view's `usage` array.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::ctx::Ctx;
use crate::db::usage::LedgerRow;
use crate::error::ApiError;
use crate::events::Actor;
use crate::http::api::daemon_of;
use crate::http::api::usage::json_text;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::usage::ingest::{self, EntryInput};
use crate::usage::money::ticks_to_decimal;

/// One ledger row as the API shows it. `cost_usd` is the provider-reported cost, exact, or
/// null; `occurred_at` is the instant the row is bucketed at.
#[derive(Debug, Serialize)]
pub struct UsageRowView {
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub cost_usd: Option<Box<RawValue>>,
    pub occurred_at: String,
    pub updated_at: String,
}

#[derive(Serialize)]
struct ReportView<'a> {
    task_id: &'a str,
    usage: Vec<UsageRowView>,
}

#[derive(Deserialize)]
struct UsageBody {
    usage: Option<Vec<WireEntry>>,
}

#[derive(Deserialize)]
struct WireEntry {
    provider: Option<String>,
    model: Option<String>,
    input_tokens: Option<Box<RawValue>>,
    output_tokens: Option<Box<RawValue>>,
    cache_read_tokens: Option<Box<RawValue>>,
    cache_write_tokens: Option<Box<RawValue>>,
    cost_usd: Option<Box<RawValue>>,
    occurred_at: Option<String>,
}

/// The API shape of a task's ledger rows (for `GET /api/tasks/{id}` too).
pub fn usage_rows_view(rows: Vec<LedgerRow>) -> Vec<UsageRowView> {
    rows.into_iter()
        .map(|r| UsageRowView {
            cost_usd: r
                .cost_ticks
                .and_then(|t| RawValue::from_string(ticks_to_decimal(i128::from(t))).ok()),
            occurred_at: rfc3339(r.occurred_at),
            updated_at: rfc3339(r.updated_at),
            provider: r.provider,
            model: r.model,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cache_read_tokens: r.cache_read_tokens,
            cache_write_tokens: r.cache_write_tokens,
        })
        .collect()
}

/// `POST /api/daemon/tasks/{id}/usage`
pub fn report(ctx: &Ctx, caller: &Caller, req: &Req) -> Result<Reply, ApiError> {
    let (user_id, workspace_id) = daemon_of(caller)?;
    let task_id = req.path_id(3, "task id")?;
    let body = parse_body(&req.body)?;
    let wire = body
        .usage
        .ok_or_else(|| ApiError::invalid_field("usage", "is required"))?;
    let inputs: Vec<EntryInput> = wire
        .iter()
        .map(|e| EntryInput {
            provider: e.provider.as_deref(),
            model: e.model.as_deref(),
            input_tokens: raw(&e.input_tokens),
            output_tokens: raw(&e.output_tokens),
            cache_read_tokens: raw(&e.cache_read_tokens),
            cache_write_tokens: raw(&e.cache_write_tokens),
            cost_usd: raw(&e.cost_usd),
            occurred_at: e.occurred_at.as_deref(),
        })
        .collect();
    let now = ctx.now_ms();
    let entries = ingest::validate(&inputs, now)?;
    let report = ingest::Report {
        user_id: user_id.to_string(),
        workspace_id: workspace_id.to_string(),
        task_id: task_id.clone(),
        entries,
        actor: Actor::of(caller),
        now,
    };
    let pricing = Arc::clone(&ctx.pricing);
    let kept = Arc::clone(&ctx.kept_spend);
    let rows = ctx.write_grouped(move |tx| report.apply(tx, &pricing, &kept))?;
    json_text(&ReportView {
        task_id: &task_id,
        usage: usage_rows_view(rows),
    })
}

fn raw(value: &Option<Box<RawValue>>) -> Option<&str> {
    value.as_deref().map(RawValue::get)
}

/// Decodes the body from its bytes (a `Value` would have turned numbers into floats already).
fn parse_body(body: &[u8]) -> Result<UsageBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(UsageBody { usage: None });
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_json(format!("request body is not a valid report: {e}")))
}
