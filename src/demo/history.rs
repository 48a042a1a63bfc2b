//! The demo's past: tasks day by day on each runtime in its machine's working hours, each with
//! the usage its daemon would have reported (through the usage ingest, so the ledger and its
//! rollups are exactly what a real daemon leaves), and a few tasks still active at the end.

use chrono::{Datelike, Duration, Weekday};

use super::plan::{RuntimePlan, RUNTIMES};
use super::rng::Rng;
use super::{Seeded, DAY_MS, HISTORY_DAYS};
use crate::db::agents::Agent;
use crate::db::runtimes::Runtime;
use crate::db::tasks::Task;
use crate::db::{self, Db, Tx};
use crate::error::ApiError;
use crate::events::Actor;
use crate::ids;
use crate::usage::ingest::{self, Entry};
use crate::usage::pricing::Tokens;
use crate::usage::window;

const HOUR_MS: i64 = 3_600_000;
/// Days written per transaction: big enough to be quick, small enough to report progress.
const BATCH_DAYS: i64 = 15;
const SEED: u64 = 0x6861_6e67_6172; // "hangar"

const PROMPTS: [&str; 12] = [
    "Fix the flaky test in tests/sync_{n}.rs and explain the race",
    "Review PR #{n}: retry budget for outgoing webhooks",
    "Write the release notes for v2.{n}",
    "Triage issue #{n} and label it",
    "Profile GET /api/orders: p99 went up after #{n}",
    "Refactor the retry loop in worker/queue_{n}.rs",
    "Add the missing docs for the billing API (ticket {n})",
    "Investigate the CI failure on main, run {n}",
    "Break epic #{n} into tasks with estimates",
    "Audit the new dependency added in PR #{n}",
    "Migrate the {n} remaining callers to the new config loader",
    "Answer the question in discussion #{n} with a code sample",
];
const OUTPUTS: [&str; 5] = [
    "Opened PR #{n} with the change and a test.",
    "No change needed: the behaviour is documented in ADR-{n}.",
    "Pushed 3 commits to branch agent/{n}; CI is green.",
    "Left a review with 4 comments on #{n}.",
    "Wrote the summary to docs/notes/{n}.md.",
];
const ERRORS: [&str; 4] = [
    "tests failed: 3 failing in the integration suite",
    "runtime_offline",
    "context window exceeded",
    "rate limited by the provider",
];

/// Writes the history in batches of days, reporting progress after each.
pub(super) fn write(
    db: &Db,
    seeded: &Seeded,
    now: i64,
    progress: &mut impl FnMut(&str),
) -> Result<(), ApiError> {
    let mut rng = Rng::new(SEED);
    let mut tasks = 0;
    let mut newest = HISTORY_DAYS - 1;
    while newest >= 0 {
        let oldest_in_batch = (newest - BATCH_DAYS + 1).max(0);
        tasks += db.write_tx(|tx| {
            let mut written = 0;
            for days_ago in (oldest_in_batch..=newest).rev() {
                written += write_day(tx, seeded, &mut rng, days_ago, now)?;
            }
            Ok::<_, ApiError>(written)
        })?;
        progress(&format!(
            "demo: history {}/{HISTORY_DAYS} days, {tasks} tasks",
            HISTORY_DAYS - oldest_in_batch
        ));
        newest = oldest_in_batch - 1;
    }
    db.write_tx(|tx| write_active(tx, seeded, &mut rng, now))
}

/// One local day, `days_ago` before today, on every runtime; returns the tasks written.
fn write_day(
    tx: &Tx,
    seeded: &Seeded,
    rng: &mut Rng,
    days_ago: i64,
    now: i64,
) -> Result<usize, ApiError> {
    let mut written = 0;
    for (plan, runtime) in RUNTIMES.iter().zip(&seeded.runtimes) {
        let zone = window::parse_zone(plan.zone).unwrap_or(chrono_tz::UTC);
        let date = window::local_date(window::instant_of_ms(now), zone) - Duration::days(days_ago);
        let day_start = window::ms_of_instant(window::start_of_local_day(zone, date));
        let agents: Vec<&Agent> = seeded
            .agents
            .iter()
            .filter(|a| a.runtime_id == runtime.id && a.created_at <= day_start + DAY_MS)
            .filter(|a| a.archived_at.is_none_or(|at| at > day_start))
            .collect();
        if agents.is_empty() {
            continue;
        }
        // Adoption grows over the half year; weekends are quiet.
        let growth = 0.35 + 0.65 * (1.0 - days_ago as f64 / HISTORY_DAYS as f64);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let rate = plan.tasks_per_day * growth * if weekend { 0.25 } else { 1.0 };
        let count = (rate * rng.between(0.6, 1.4)).round() as i64;
        for _ in 0..count {
            let created = day_start + working_hour_offset(rng);
            if created > now - 2 * HOUR_MS {
                continue;
            }
            let agent = *rng.pick(&agents);
            write_task(tx, seeded, plan, runtime, agent, created, rng)?;
            written += 1;
        }
    }
    Ok(written)
}

/// Milliseconds into a local day: mostly office hours, some evenings, a few nights.
fn working_hour_offset(rng: &mut Rng) -> i64 {
    let roll = rng.unit();
    let hour = if roll < 0.72 {
        rng.between(8.5, 18.5)
    } else if roll < 0.92 {
        rng.between(18.5, 24.0)
    } else {
        rng.between(0.0, 8.5)
    };
    (hour * HOUR_MS as f64) as i64
}

/// One of `templates` with its `{n}` filled in.
fn fill(templates: &[&str], rng: &mut Rng) -> String {
    let template = *rng.pick(templates);
    template.replace("{n}", &rng.int(100, 9999).to_string())
}

fn write_task(
    tx: &Tx,
    seeded: &Seeded,
    plan: &RuntimePlan,
    runtime: &Runtime,
    agent: &Agent,
    created: i64,
    rng: &mut Rng,
) -> Result<(), ApiError> {
    let dispatched = created + rng.int(2_000, 90_000);
    let started = dispatched + rng.int(1_000, 10_000);
    let minutes = rng.lognormal(6.0, 0.8).clamp(0.5, 120.0);
    let duration = (minutes * 60_000.0) as i64;
    let roll = rng.unit();
    let (status, error, output, finished) = if roll < 0.86 {
        (
            "completed",
            None,
            Some(fill(&OUTPUTS, rng)),
            started + duration,
        )
    } else if roll < 0.94 {
        (
            "failed",
            Some(rng.pick(&ERRORS).to_string()),
            None,
            started + duration / 2,
        )
    } else {
        ("cancelled", None, None, started + duration / 3)
    };
    let autopilot = seeded
        .autopilots
        .iter()
        .find(|a| a.assignee_agent_id == agent.id && a.created_at <= created)
        .filter(|_| rng.chance(0.5));
    let prompt = match autopilot {
        Some(a) => a.prompt.clone(),
        None => fill(&PROMPTS, rng),
    };
    let task = Task {
        id: ids::task_id(created),
        workspace_id: seeded.workspace_id.clone(),
        agent_id: agent.id.clone(),
        runtime_id: Some(runtime.id.clone()),
        autopilot_id: autopilot.map(|a| a.id.clone()),
        prompt,
        status: status.to_string(),
        error,
        output,
        created_at: created,
        dispatched_at: Some(dispatched),
        started_at: Some(started),
        completed_at: Some(finished),
    };
    db::tasks::insert(tx, &task)?;
    if status == "cancelled" && rng.chance(0.5) {
        return Ok(());
    }
    let scale = if status == "completed" { 1.0 } else { 0.4 };
    let entries = usage_of(plan, rng, scale, finished);
    let owner = runtime.owner_id.clone().unwrap_or_default();
    let actor = Actor::daemon(&owner);
    // Recorded at the seeding's instant, as a server's clock stamps what it appends: event
    // ids then follow their times (`hangar check`); the usage keeps its own `occurred_at`.
    ingest::record(
        tx,
        &owner,
        &seeded.workspace_id,
        &task.id,
        entries,
        &actor,
        seeded.seeded_at,
    )?;
    Ok(())
}

/// What a task's daemon reports: its main model, and for Claude Code sometimes a small model
/// for the side work.
fn usage_of(plan: &RuntimePlan, rng: &mut Rng, scale: f64, at: i64) -> Vec<Entry> {
    let weights: Vec<u32> = plan.models.iter().map(|m| m.2).collect();
    let (provider, model, _) = plan.models[rng.weighted(&weights)];
    let median = if model.contains("opus") {
        150_000.0
    } else {
        90_000.0
    };
    let input = rng.lognormal(median, 0.8).clamp(5_000.0, 1_500_000.0) * scale;
    let (read, write) = match provider {
        "anthropic" => (rng.between(1.5, 6.0), rng.between(0.05, 0.2)),
        "openai" => (rng.between(0.5, 2.0), 0.0),
        _ => (rng.between(0.0, 1.0), 0.0),
    };
    let mut entries = vec![entry(
        provider,
        model,
        input,
        rng.between(0.08, 0.22),
        read,
        write,
        at,
    )];
    if provider == "anthropic" && model != "claude-haiku-4-5" && rng.chance(0.3) {
        let small = rng.between(3_000.0, 15_000.0);
        entries.push(entry(
            provider,
            "claude-haiku-4-5",
            small,
            0.1,
            1.0,
            0.1,
            at,
        ));
    }
    entries
}

fn entry(
    provider: &str,
    model: &str,
    input: f64,
    out: f64,
    read: f64,
    write: f64,
    at: i64,
) -> Entry {
    Entry {
        provider: provider.to_string(),
        model: model.to_string(),
        tokens: Tokens {
            input: input as i64,
            output: (input * out) as i64,
            cache_read: (input * read) as i64,
            cache_write: (input * write) as i64,
        },
        cost: None,
        occurred_at: Some(at),
    }
}

/// Work still going on at `now`: a few running, dispatched and queued tasks.
fn write_active(tx: &Tx, seeded: &Seeded, rng: &mut Rng, now: i64) -> Result<(), ApiError> {
    let plan = [
        ("reviewer", "running", 4),
        ("refactorer", "queued", 1),
        ("test-fixer", "queued", 12),
        ("release-bot", "running", 9),
        ("triager", "dispatched", 1),
        ("oncall", "queued", 3),
    ];
    for (name, status, minutes_ago) in plan {
        let Some(agent) = seeded.agents.iter().find(|a| a.name == name) else {
            continue;
        };
        let created = now - minutes_ago * 60_000;
        let task = Task {
            id: ids::task_id(created),
            workspace_id: seeded.workspace_id.clone(),
            agent_id: agent.id.clone(),
            runtime_id: Some(agent.runtime_id.clone()),
            autopilot_id: None,
            prompt: fill(&PROMPTS, rng),
            status: status.to_string(),
            error: None,
            output: None,
            created_at: created,
            dispatched_at: (status != "queued").then_some(created + 20_000),
            started_at: (status == "running").then_some(created + 25_000),
            completed_at: None,
        };
        db::tasks::insert(tx, &task)?;
    }
    Ok(())
}
