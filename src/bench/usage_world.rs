//! The world of the `usage` benchmark: 10 runtimes × 20 agents, 6 models, tasks spread over
//! the last 400 days, each with 3 ledger rows — seeded straight into the database through the
//! db layer (ledger upsert plus rollup delta per row, in time order, a few large transactions),
//! not over HTTP. Runtime 0 is the busiest, with twice the share of any other. Seeded task ids
//! are time-ordered UUIDs so the bulk load appends; tasks reported over HTTP get random ones.

use std::collections::HashMap;

use crate::ctx::Ctx;
use crate::db::usage::rollup::{self, Contribution, Sums};
use crate::db::usage::{self as ledger, LedgerRow};
use crate::db::{agents, runtimes, tasks, DbError, Tx};
use crate::ids;

pub const RUNTIMES: usize = 10;
pub const AGENTS_PER_RUNTIME: usize = 20;
/// (provider, model): five priced models and one the table does not know.
pub const MODELS: [(&str, &str); 6] = [
    ("claude", "claude-opus-5"),
    ("claude", "claude-sonnet-5"),
    ("claude", "claude-haiku-4-5"),
    ("codex", "gpt-5"),
    ("codex", "gpt-5-mini"),
    ("codex", "house-model-x"),
];
/// Ledger rows per task: the models it used.
pub const MODELS_PER_TASK: usize = 3;
const DAYS: i64 = 400;
const DAY_MS: i64 = 86_400_000;
/// Tasks written per transaction.
const BATCH: usize = 20_000;

/// What the benchmark needs to know about the seeded world.
pub struct World {
    pub workspace_id: String,
    /// Runtime ids, busiest first.
    pub runtimes: Vec<String>,
    /// Agent ids of each runtime.
    pub agents: Vec<Vec<String>>,
}

/// A small seeded generator (SplitMix64): the same world every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `MODELS_PER_TASK` distinct model indexes.
    pub fn models(&mut self) -> [usize; MODELS_PER_TASK] {
        let first = self.below(MODELS.len() as u64) as usize;
        // Steps 1 and 2 give three distinct models out of six.
        let step = 1 + self.below(2) as usize;
        std::array::from_fn(|i| (first + i * step) % MODELS.len())
    }

    /// Runtime index: runtime 0 weighs 2, the others 1.
    pub fn runtime(&mut self) -> usize {
        match self.below(RUNTIMES as u64 + 1) as usize {
            0 | 1 => 0,
            r => r - 1,
        }
    }
}

/// Creates the runtimes and agents (owned by `owner_id`) and `ledger_rows` rows of history.
pub fn seed(
    ctx: &Ctx,
    workspace_id: &str,
    owner_id: &str,
    ledger_rows: u64,
) -> Result<World, String> {
    let now = ctx.now_ms();
    let world = ctx
        .write(|tx| fleet(tx, workspace_id, owner_id, now))
        .map_err(|e| format!("seeding runtimes and agents: {e}"))?;
    let task_count = ledger_rows / MODELS_PER_TASK as u64;
    let start = now - DAYS * DAY_MS;
    let mut rng = Rng(0x5eed);
    let mut model_ids: HashMap<usize, i64> = HashMap::new();
    let mut next = 0u64;
    while next < task_count {
        let end = (next + BATCH as u64).min(task_count);
        ctx.write(|tx| {
            for k in next..end {
                // Evenly spread over the 400 days, in time order.
                let instant =
                    start + (k as i128 * (DAYS * DAY_MS) as i128 / task_count as i128) as i64;
                history_task(tx, &world, &mut rng, &mut model_ids, k, instant)?;
            }
            Ok::<_, DbError>(())
        })
        .map_err(|e| format!("seeding history: {e}"))?;
        next = end;
    }
    Ok(world)
}

/// Creates `count` running tasks spread over every agent, for reports over HTTP; returns
/// their ids.
pub fn open_tasks(ctx: &Ctx, world: &World, count: usize) -> Result<Vec<String>, String> {
    let now = ctx.now_ms();
    let mut rng = Rng(0x0b5e_55ed ^ count as u64);
    ctx.write(|tx| {
        let mut ids_out = Vec::with_capacity(count);
        for _ in 0..count {
            let r = rng.runtime();
            let agent = &world.agents[r][rng.below(AGENTS_PER_RUNTIME as u64) as usize];
            let id = ids::task_id(now);
            tasks::insert(tx, &task(&id, world, r, agent, "running", now))?;
            ids_out.push(id);
        }
        Ok::<_, DbError>(ids_out)
    })
    .map_err(|e| format!("seeding open tasks: {e}"))
}

fn fleet(tx: &Tx, workspace_id: &str, owner_id: &str, now: i64) -> Result<World, DbError> {
    let mut world = World {
        workspace_id: workspace_id.to_string(),
        runtimes: Vec::new(),
        agents: Vec::new(),
    };
    for r in 0..RUNTIMES {
        let id = ids::new_id();
        runtimes::insert(
            tx,
            &runtimes::Runtime {
                id: id.clone(),
                workspace_id: workspace_id.to_string(),
                daemon_id: Some(format!("bench-daemon-{r}")),
                name: format!("bench runtime {r}"),
                provider: if r % 2 == 0 { "claude" } else { "codex" }.to_string(),
                runtime_mode: "local".into(),
                device_info: String::new(),
                metadata: "{}".into(),
                owner_id: Some(owner_id.to_string()),
                visibility: "private".into(),
                timezone: "UTC".into(),
                status: "online".into(),
                last_seen_at: Some(now),
                created_at: now,
                updated_at: now,
            },
        )?;
        let mut agent_ids = Vec::new();
        for a in 0..AGENTS_PER_RUNTIME {
            let agent_id = ids::new_id();
            agents::insert(
                tx,
                &agents::Agent {
                    id: agent_id.clone(),
                    workspace_id: workspace_id.to_string(),
                    runtime_id: id.clone(),
                    owner_id: Some(owner_id.to_string()),
                    name: format!("agent {r}-{a}"),
                    description: String::new(),
                    archived_at: None,
                    archived_by: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            agent_ids.push(agent_id);
        }
        world.runtimes.push(id);
        world.agents.push(agent_ids);
    }
    Ok(world)
}

/// One finished task of the history with its ledger rows and their rollup shares.
fn history_task(
    tx: &Tx,
    world: &World,
    rng: &mut Rng,
    model_ids: &mut HashMap<usize, i64>,
    k: u64,
    instant: i64,
) -> Result<(), DbError> {
    let r = rng.runtime();
    let agent = &world.agents[r][rng.below(AGENTS_PER_RUNTIME as u64) as usize];
    // Time-ordered: the bulk load appends to the ledger instead of scattering.
    let id = format!("{:08x}-{:04x}-4000-8000-{:012x}", k >> 16, k & 0xffff, k);
    tasks::insert(tx, &task(&id, world, r, agent, "completed", instant))?;
    let mut rows = Vec::with_capacity(MODELS_PER_TASK);
    let mut ids = Vec::with_capacity(MODELS_PER_TASK);
    for m in rng.models() {
        let (provider, model) = MODELS[m];
        let model_id = match model_ids.get(&m) {
            Some(id) => *id,
            None => {
                let id = ledger::model_id(tx, provider, model)?;
                model_ids.insert(m, id);
                id
            }
        };
        ids.push(model_id);
        rows.push(LedgerRow {
            task_id: id.clone(),
            provider: provider.into(),
            model: model.into(),
            workspace_id: world.workspace_id.clone(),
            runtime_id: world.runtimes[r].clone(),
            agent_id: agent.clone(),
            input_tokens: 1_000 + rng.below(200_000) as i64,
            output_tokens: 100 + rng.below(20_000) as i64,
            cache_read_tokens: rng.below(500_000) as i64,
            cache_write_tokens: rng.below(50_000) as i64,
            // One row in five carries the provider's own cost.
            cost_ticks: (rng.below(5) == 0).then(|| rng.below(50_000_000_000) as i64),
            occurred_at: instant,
            created_at: instant,
            updated_at: instant,
        });
    }
    ledger::upsert(tx, &rows)?;
    let shares: Vec<(Option<Contribution>, Contribution)> = rows
        .iter()
        .zip(ids)
        .map(|(row, model_id)| {
            let share = Contribution {
                workspace_id: &row.workspace_id,
                runtime_id: &row.runtime_id,
                agent_id: &row.agent_id,
                model_id,
                instant,
                sums: Sums::of_row(row),
            };
            (None, share)
        })
        .collect();
    rollup::replace(tx, &shares)
}

fn task(id: &str, world: &World, r: usize, agent: &str, status: &str, at: i64) -> tasks::Task {
    let done = status == "completed";
    tasks::Task {
        id: id.to_string(),
        workspace_id: world.workspace_id.clone(),
        agent_id: agent.to_string(),
        runtime_id: Some(world.runtimes[r].clone()),
        autopilot_id: None,
        prompt: "bench".into(),
        status: status.into(),
        error: None,
        output: None,
        created_at: at - 60_000,
        dispatched_at: Some(at - 45_000),
        started_at: Some(at - 30_000),
        completed_at: done.then_some(at),
    }
}
