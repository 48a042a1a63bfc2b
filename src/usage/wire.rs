//! The rows the usage reports answer (API.md §5), one struct per report with the fields in
//! the contract's order, built from the report rows. Shared by the HTTP handlers, which
//! serialise them as JSON or CSV, and by `hangar check`, which renders the same CSV and reads
//! it back; USD amounts are rounded to the micro-dollar here and nowhere else.

use serde::Serialize;

use crate::clock::rfc3339;
use crate::usage::money::{ticks_to_usd, Ticks};
use crate::usage::reports::drill::TaskUsage;
use crate::usage::reports::{ById, DayModel, HourModel, ModelTotals, RuntimeDay, Totals};

#[derive(Serialize, Default)]
pub struct RuntimeDayRow {
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
pub struct RuntimeAgentRow {
    agent_id: String,
    provider: String,
    model: String,
    #[serde(flatten)]
    totals: CountedTotals,
}

#[derive(Serialize, Default)]
pub struct RuntimeHourRow {
    hour: u32,
    model: String,
    #[serde(flatten)]
    totals: CountedTotals,
}

#[derive(Serialize, Default)]
pub struct ActivityRow {
    hour: u32,
    count: i64,
}

/// The runtime by-agent and by-hour rows' shared tail, and a drill-down's total (the sums of
/// its rows, rounded once).
#[derive(Serialize, Default)]
pub struct CountedTotals {
    input_tokens: i128,
    output_tokens: i128,
    cache_read_tokens: i128,
    cache_write_tokens: i128,
    task_count: i64,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

/// The workspace reports' shared tail, after their key fields.
#[derive(Serialize, Default)]
pub struct WorkspaceTotals {
    total_input_tokens: i128,
    total_output_tokens: i128,
    total_cache_read_tokens: i128,
    total_cache_write_tokens: i128,
    task_count: i64,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

#[derive(Serialize, Default)]
pub struct WorkspaceDayRow {
    date: String,
    model: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
pub struct SummaryRow {
    model: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
pub struct ByRuntimeRow {
    runtime_id: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

#[derive(Serialize, Default)]
pub struct ByAgentRow {
    agent_id: String,
    #[serde(flatten)]
    totals: WorkspaceTotals,
}

/// One ledger row of a drill-down: `cost_usd` is what the reports count for it (its reported
/// cost, else its table cost; null when neither exists).
#[derive(Serialize, Default)]
pub struct TaskUsageRow {
    task_id: String,
    agent_id: String,
    runtime_id: String,
    provider: String,
    model: String,
    date: String,
    occurred_at: String,
    input_tokens: i128,
    output_tokens: i128,
    cache_read_tokens: i128,
    cache_write_tokens: i128,
    cost_usd: Option<f64>,
    unpriced_tokens: i128,
}

pub fn runtime_days(runtime_id: &str, rows: Vec<RuntimeDay>) -> Vec<RuntimeDayRow> {
    rows.into_iter()
        .map(|r| RuntimeDayRow {
            runtime_id: runtime_id.to_string(),
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
        .collect()
}

pub fn runtime_agents(rows: Vec<ById>) -> Vec<RuntimeAgentRow> {
    rows.into_iter()
        .map(|r| RuntimeAgentRow {
            agent_id: r.id,
            provider: r.provider,
            model: r.model,
            totals: counted(&r.totals),
        })
        .collect()
}

pub fn runtime_hours(rows: Vec<HourModel>) -> Vec<RuntimeHourRow> {
    rows.into_iter()
        .map(|r| RuntimeHourRow {
            hour: r.hour,
            model: r.model,
            totals: counted(&r.totals),
        })
        .collect()
}

pub fn activity(rows: Vec<(u32, i64)>) -> Vec<ActivityRow> {
    rows.into_iter()
        .map(|(hour, count)| ActivityRow { hour, count })
        .collect()
}

pub fn workspace_days(rows: Vec<DayModel>) -> Vec<WorkspaceDayRow> {
    rows.into_iter()
        .map(|r| WorkspaceDayRow {
            date: r.date.to_string(),
            model: r.model,
            totals: workspace_totals(&r.totals),
        })
        .collect()
}

pub fn summary(rows: Vec<ModelTotals>) -> Vec<SummaryRow> {
    rows.into_iter()
        .map(|r| SummaryRow {
            model: r.model,
            totals: workspace_totals(&r.totals),
        })
        .collect()
}

pub fn by_runtime(rows: Vec<ById>) -> Vec<ByRuntimeRow> {
    rows.into_iter()
        .map(|r| ByRuntimeRow {
            runtime_id: r.id,
            totals: workspace_totals(&r.totals),
        })
        .collect()
}

pub fn by_agent(rows: Vec<ById>) -> Vec<ByAgentRow> {
    rows.into_iter()
        .map(|r| ByAgentRow {
            agent_id: r.id,
            totals: workspace_totals(&r.totals),
        })
        .collect()
}

pub fn task_usage(rows: Vec<TaskUsage>) -> Vec<TaskUsageRow> {
    rows.into_iter()
        .map(|u| TaskUsageRow {
            date: u.date.to_string(),
            occurred_at: rfc3339(u.row.occurred_at),
            task_id: u.row.task_id,
            agent_id: u.row.agent_id,
            runtime_id: u.row.runtime_id,
            provider: u.row.provider,
            model: u.row.model,
            input_tokens: u.totals.input_tokens,
            output_tokens: u.totals.output_tokens,
            cache_read_tokens: u.totals.cache_read_tokens,
            cache_write_tokens: u.totals.cache_write_tokens,
            cost_usd: usd(u.totals.cost()),
            unpriced_tokens: u.totals.unpriced_tokens,
        })
        .collect()
}

pub fn counted(t: &Totals) -> CountedTotals {
    CountedTotals {
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        cache_read_tokens: t.cache_read_tokens,
        cache_write_tokens: t.cache_write_tokens,
        task_count: t.task_count,
        cost_usd: usd(t.cost()),
        unpriced_tokens: t.unpriced_tokens,
    }
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

/// USD rounded to the micro-dollar, half away from zero.
pub fn usd(ticks: Option<Ticks>) -> Option<f64> {
    ticks.map(ticks_to_usd)
}
