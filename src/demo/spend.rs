//! The demo's spend controls, written after the history so that they are evaluated against
//! it: a negotiated workspace price for one model, a workspace monthly budget and a runtime
//! weekly budget that alert, and an agent budget that pauses dispatch and is spent (one
//! runaway task just reported its own cost), so the budget banner and "paused" badges show.

use super::plan::{Who, RUNTIMES};
use super::{Seeded, DAY_MS};
use crate::budgets::period::Period;
use crate::budgets::{self, NewBudget, Scope};
use crate::db::prices::PriceOverride;
use crate::db::tasks::Task;
use crate::db::{self, Tx};
use crate::error::ApiError;
use crate::events::Actor;
use crate::ids;
use crate::usage::ingest::{self, Entry};
use crate::usage::money::{usd_per_million_to_ticks_per_token, Ticks, TICKS_PER_USD};
use crate::usage::pricing::{PriceTable, Tokens};

/// The model with a workspace price, its prices (USD per million tokens: input, output,
/// cache read, cache write) and how many days back the price starts.
const OVERRIDE: (&str, [&str; 4], i64) = ("glm-4.6", ["0.45", "1.8", "0.08", "0.45"], 40);

/// The runtime with a weekly budget and the agent whose budget pauses dispatch (on another
/// runtime); both runtimes have a squad's leader, so the browser tests never retire them.
const WEEKLY_RUNTIME: usize = 0;
const CAPPED_AGENT: &str = "perf-hunter";
/// What the capped agent's last task reported, in cents: more than its budget on its own.
const RUNAWAY_CENTS: i128 = 4_250;

/// (name, scope, amount USD, period, zone, thresholds, action).
type BudgetPlan = (
    &'static str,
    Scope,
    i64,
    Period,
    &'static str,
    &'static [i64],
    &'static str,
);

/// Writes the price, the runaway task and the budgets at `now`.
pub(super) fn write(tx: &Tx, seeded: &Seeded, now: i64) -> Result<(), ApiError> {
    let owner = seeded.user(Who::Owner).to_string();
    write_override(tx, seeded, &owner, now)?;
    let agent = seeded
        .agents
        .iter()
        .find(|a| a.name == CAPPED_AGENT)
        .ok_or_else(|| ApiError::not_found("demo agent"))?;
    write_runaway_task(tx, seeded, &agent.runtime_id, &agent.id, now)?;
    let runtime_id = seeded.runtimes[WEEKLY_RUNTIME].id.clone();
    let plans: [BudgetPlan; 3] = [
        (
            "Team monthly",
            Scope::Workspace,
            600,
            Period::Month,
            "Europe/Berlin",
            &[50, 80, 100],
            "alert",
        ),
        (
            "MacBook weekly",
            Scope::Runtime(runtime_id),
            60,
            Period::Week,
            RUNTIMES[WEEKLY_RUNTIME].zone,
            &[75, 90, 100],
            "alert",
        ),
        (
            "perf-hunter cap",
            Scope::Agent(agent.id.clone()),
            40,
            Period::Month,
            "Asia/Kathmandu",
            &[50, 100],
            "pause_dispatch",
        ),
    ];
    let actor = Actor::member(&owner);
    let pricing = PriceTable::builtin();
    for (name, scope, usd, period, zone, thresholds, action) in plans {
        let new = NewBudget {
            name: Some(name.to_string()),
            scope,
            amount_micros: usd * 1_000_000,
            period,
            timezone: zone.to_string(),
            thresholds: thresholds.to_vec(),
            action: action.to_string(),
        };
        budgets::create(tx, &pricing, &actor, &owner, &seeded.workspace_id, new, now)?;
    }
    Ok(())
}

fn write_override(tx: &Tx, seeded: &Seeded, owner: &str, now: i64) -> Result<(), ApiError> {
    let (model, prices, days_back) = OVERRIDE;
    let ticks = |text: &str| -> Result<i64, ApiError> {
        usd_per_million_to_ticks_per_token(text)
            .ok()
            .and_then(|t| i64::try_from(t).ok())
            .ok_or_else(|| ApiError::internal(format!("demo price {text}")))
    };
    // A UTC midnight lies on the 15-minute grid prices start on.
    let valid_from = (now - days_back * DAY_MS).div_euclid(DAY_MS) * DAY_MS;
    db::prices::insert(
        tx,
        &PriceOverride {
            id: ids::new_id(),
            workspace_id: seeded.workspace_id.clone(),
            model: model.to_string(),
            input: ticks(prices[0])?,
            output: ticks(prices[1])?,
            cache_read: ticks(prices[2])?,
            cache_write: ticks(prices[3])?,
            valid_from,
            created_at: now - days_back * DAY_MS,
            created_by: owner.to_string(),
        },
    )?;
    Ok(())
}

/// A long profiling task of the capped agent, finished at `now` with its cost reported.
fn write_runaway_task(
    tx: &Tx,
    seeded: &Seeded,
    runtime_id: &str,
    agent_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    let runtime = seeded
        .runtimes
        .iter()
        .find(|r| r.id == runtime_id)
        .ok_or_else(|| ApiError::not_found("demo runtime"))?;
    let created = now - 95 * 60_000;
    let task = Task {
        id: ids::task_id(created),
        workspace_id: seeded.workspace_id.clone(),
        agent_id: agent_id.to_string(),
        runtime_id: Some(runtime_id.to_string()),
        autopilot_id: None,
        prompt: "Profile every endpoint under load and bisect the p99 regression".to_string(),
        status: "completed".to_string(),
        error: None,
        output: Some("Found it: N+1 queries in GET /api/orders since #4411.".to_string()),
        created_at: created,
        dispatched_at: Some(created + 20_000),
        started_at: Some(created + 25_000),
        completed_at: Some(now),
    };
    db::tasks::insert(tx, &task)?;
    let owner = runtime.owner_id.clone().unwrap_or_default();
    let cost: Ticks = RUNAWAY_CENTS * TICKS_PER_USD / 100;
    let entry = Entry {
        provider: "anthropic".to_string(),
        model: "claude-opus-4-5".to_string(),
        tokens: Tokens {
            input: 4_100_000,
            output: 610_000,
            cache_read: 9_800_000,
            cache_write: 420_000,
        },
        cost: Some(cost),
        occurred_at: Some(now),
    };
    let actor = Actor::daemon(&owner);
    ingest::record(
        tx,
        &owner,
        &seeded.workspace_id,
        &task.id,
        vec![entry],
        &actor,
        now,
    )?;
    Ok(())
}
