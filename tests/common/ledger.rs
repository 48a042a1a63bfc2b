//! Usage-test fixtures: runtimes, agents and tasks inserted with plain SQL (so the usage tests
//! do not depend on the registry and work endpoints), a usage report helper, and the rollup
//! recomputation check.

use hangar::db::usage::rollup::{self, Contribution, Sums};
use hangar::db::usage::{self as ledger_db, LedgerRow};
use rusqlite::params;
use serde_json::{json, Value};

use super::{Resp, TestServer};

/// Inserts a runtime of `provider` owned by `owner_id` in `ws`, in zone `timezone`.
pub fn runtime(s: &TestServer, ws: &str, owner_id: &str, provider: &str, timezone: &str) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO runtime (id, workspace_id, daemon_id, name, provider, owner_id, timezone,
                                  status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'online', ?8, ?8)",
            params![
                id,
                ws,
                format!("daemon-{id}"),
                format!("rt {provider}"),
                provider,
                owner_id,
                timezone,
                now
            ],
        )
        .expect("insert runtime");
    id
}

/// Inserts an agent on `runtime_id`.
pub fn agent(s: &TestServer, ws: &str, runtime_id: &str, owner_id: &str) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO agent (id, workspace_id, runtime_id, owner_id, name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![id, ws, runtime_id, owner_id, format!("agent {id}"), now],
        )
        .expect("insert agent");
    id
}

/// Inserts a task of `agent_id` pinned to `runtime_id`, in `status`, started at `started_at`.
pub fn task(
    s: &TestServer,
    ws: &str,
    agent_id: &str,
    runtime_id: Option<&str>,
    status: &str,
    started_at: Option<i64>,
) -> String {
    let id = hangar::ids::new_id();
    let now = s.now().timestamp_millis();
    sql(s)
        .execute(
            "INSERT INTO task (id, workspace_id, agent_id, runtime_id, prompt, status, created_at,
                               started_at)
             VALUES (?1, ?2, ?3, ?4, 'do it', ?5, ?6, ?7)",
            params![id, ws, agent_id, runtime_id, status, now, started_at],
        )
        .expect("insert task");
    id
}

/// A runtime with one agent and one running task, owned by `owner_id`.
pub struct Rig {
    pub runtime: String,
    pub agent: String,
    pub task: String,
}

impl Rig {
    pub fn new(s: &TestServer, ws: &str, owner_id: &str, provider: &str, timezone: &str) -> Rig {
        let runtime = runtime(s, ws, owner_id, provider, timezone);
        let agent = agent(s, ws, &runtime, owner_id);
        let task = task(s, ws, &agent, Some(&runtime), "running", None);
        Rig {
            runtime,
            agent,
            task,
        }
    }

    /// Another task of the same agent.
    pub fn new_task(&self, s: &TestServer, ws: &str) -> String {
        task(s, ws, &self.agent, Some(&self.runtime), "running", None)
    }
}

/// A connection to the server's database that commits without waiting for the disk (WAL with
/// `synchronous=NORMAL`, as the server runs): fixtures write many rows.
pub fn sql(s: &TestServer) -> rusqlite::Connection {
    let c = s.sql();
    c.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous=NORMAL");
    c
}

/// `POST /api/daemon/tasks/{task}/usage` with `{"usage": entries}`.
pub fn report(s: &TestServer, daemon: &str, task: &str, entries: Value) -> Resp {
    s.post(
        &format!("/api/daemon/tasks/{task}/usage"),
        daemon,
        json!({ "usage": entries }),
    )
}

/// The test server's database, opened beside it (one connection of each kind).
fn open_db(s: &TestServer) -> hangar::db::Db {
    hangar::db::Db::open(&s.db_path(), hangar::db::OpenMode::Existing, 1)
        .expect("open the database")
}

/// Differences between the rollups and a recomputation from the ledger and the tasks (empty
/// when equal).
pub fn rollup_mismatches(s: &TestServer) -> Vec<String> {
    let db = open_db(s);
    let mut found = db
        .read(hangar::db::usage::rollup::mismatches)
        .expect("recompute rollups");
    found.extend(
        db.read(hangar::db::usage::start_mismatches)
            .expect("recount task starts"),
    );
    found
}

/// Folds every usage delta the reports deferred into the rollups, as the server's fold thread
/// does; returns the pending rows folded.
pub fn fold(s: &TestServer) -> usize {
    let db = open_db(s);
    hangar::usage::fold::fold_all(&db).expect("fold the pending usage")
}

/// Folds the oldest `rows` pending usage deltas only, in one write transaction (a fold batch
/// cut short); returns how many it folded.
pub fn fold_some(s: &TestServer, rows: i64) -> usize {
    let db = open_db(s);
    db.write_tx(|tx| hangar::db::usage::rollup::fold_pending(tx, rows))
        .expect("fold some pending usage")
}

/// Asserts that every rollup, with the deltas still pending, equals its recomputation from the
/// ledger; then folds them and asserts it again, with none left pending.
pub fn assert_rollups_match(s: &TestServer) {
    for stage in ["before the fold", "after the fold"] {
        if stage == "after the fold" {
            fold(s);
            assert_eq!(s.count("SELECT count(*) FROM usage_pending"), 0);
        }
        let found = rollup_mismatches(s);
        assert!(
            found.is_empty(),
            "rollups differ from the ledger {stage}:\n{}",
            found.join("\n")
        );
    }
}

/// Unix ms of an RFC 3339 text.
pub fn ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339 in a test")
        .timestamp_millis()
}

/// SplitMix64: a tiny seeded generator, so every run replays the same ledger.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// (provider, model) pairs of the random ledgers: priced models, one model name under two
/// providers (workspace reports merge them), a name that needs normalising, and an unknown one.
pub const RANDOM_MODELS: &[(&str, &str)] = &[
    ("claude", "claude-opus-5"),
    ("claude", "claude-sonnet-5"),
    ("openrouter", "claude-sonnet-5"),
    ("claude", "claude-haiku-4-5"),
    ("codex", "openai/gpt-5-2025-08-07"),
    ("acme", "unknown-model"),
];

/// The zones the random-ledger tests view reports in: whole hours, :45, and DST.
pub const RANDOM_ZONES: &[&str] = &["UTC", "Asia/Kathmandu", "America/New_York"];

/// The runtimes and agents a random ledger was written for.
pub struct RandomLedger {
    pub runtimes: Vec<String>,
    /// (agent, its runtime)
    pub agents: Vec<(String, String)>,
    /// Rows written (drawn rows repeating a (task, provider, model) are skipped).
    pub rows: usize,
}

/// Writes `rows` random ledger rows of workspace `ws` with `write_rows` (instants in the 40
/// days before the server's clock, a fifth of them within a millisecond of a local midnight in
/// one of `RANDOM_ZONES`; some with reported costs, a few all zero).
pub fn random_ledger(
    s: &TestServer,
    ws: &str,
    owner_id: &str,
    seed: u64,
    rows: usize,
) -> RandomLedger {
    let mut rng = Rng(seed);
    let runtimes: Vec<String> = RANDOM_ZONES
        .iter()
        .map(|tz| runtime(s, ws, owner_id, "claude", tz))
        .collect();
    let agents: Vec<(String, String)> = runtimes
        .iter()
        .flat_map(|rt| {
            [agent(s, ws, rt, owner_id), agent(s, ws, rt, owner_id)].map(|a| (a, rt.clone()))
        })
        .collect();
    let tasks: Vec<(String, usize)> = (0..rows / 3 + 1)
        .map(|_| {
            (
                hangar::ids::new_id(),
                rng.below(agents.len() as u64) as usize,
            )
        })
        .collect();
    let now = s.now().timestamp_millis();
    let mut ledger = Vec::with_capacity(rows);
    for _ in 0..rows {
        let (task, a) = rng.pick(&tasks).clone();
        let (agent_id, runtime_id) = &agents[a];
        let (provider, model) = *rng.pick(RANDOM_MODELS);
        let instant = random_instant(&mut rng, now);
        let zero = rng.chance(3);
        let mut count = |max: u64| if zero { 0 } else { rng.below(max) as i64 };
        let tokens = [
            count(2_000_000),
            count(200_000),
            count(1_000_000),
            count(50_000),
        ];
        let cost = (!zero && rng.chance(30)).then(|| rng.below(2_000_000_000) as i64);
        ledger.push(LedgerRow {
            task_id: task,
            provider: provider.into(),
            model: model.into(),
            workspace_id: ws.into(),
            runtime_id: runtime_id.clone(),
            agent_id: agent_id.clone(),
            input_tokens: tokens[0],
            output_tokens: tokens[1],
            cache_read_tokens: tokens[2],
            cache_write_tokens: tokens[3],
            cost_ticks: cost,
            occurred_at: instant,
            created_at: instant,
            updated_at: instant,
        });
    }
    let rows = write_rows(s, ledger);
    RandomLedger {
        runtimes,
        agents,
        rows,
    }
}

/// Writes `rows` to the ledger and its rollups through the library, as the ingest does (a
/// bulk load, as the usage benchmark writes its world); a row whose (task, provider, model)
/// is already there is skipped. Returns the rows written.
pub fn write_rows(s: &TestServer, rows: Vec<LedgerRow>) -> usize {
    let db = open_db(s);
    db.write_tx(|tx| {
        let mut fresh = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for row in rows {
            let key = (row.task_id.clone(), row.provider.clone(), row.model.clone());
            let present = ledger_db::rows_for_task(tx, &row.task_id)?
                .iter()
                .any(|r| r.provider == row.provider && r.model == row.model);
            if !present && seen.insert(key) {
                fresh.push(row);
            }
        }
        // One multi-row statement per chunk keeps under SQLite's bound-parameter limit.
        for chunk in fresh.chunks(500) {
            ledger_db::upsert(tx, chunk)?;
            let mut shares = Vec::with_capacity(chunk.len());
            for row in chunk {
                shares.push((
                    None,
                    Contribution {
                        workspace_id: &row.workspace_id,
                        runtime_id: &row.runtime_id,
                        agent_id: &row.agent_id,
                        model_id: ledger_db::model_id(tx, &row.provider, &row.model)?,
                        instant: row.occurred_at,
                        sums: Sums::of_row(row),
                    },
                ));
            }
            rollup::replace(tx, &shares)?;
        }
        Ok::<_, hangar::db::DbError>(fresh.len())
    })
    .expect("write ledger rows")
}

/// Writes one ledger row per (model, instant, input tokens) for the agent and runtime of
/// `rig`, each of a task of its own, provider `claude`.
pub fn put(s: &TestServer, ws: &str, rig: &Rig, rows: &[(&str, &str, i64)]) {
    let rows = rows
        .iter()
        .map(|(model, instant, input)| LedgerRow {
            task_id: hangar::ids::new_id(),
            provider: "claude".into(),
            model: model.to_string(),
            workspace_id: ws.into(),
            runtime_id: rig.runtime.clone(),
            agent_id: rig.agent.clone(),
            input_tokens: *input,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cost_ticks: None,
            occurred_at: ms(instant),
            created_at: ms(instant),
            updated_at: ms(instant),
        })
        .collect();
    write_rows(s, rows);
}

/// An instant in the 40 days before `now`: any millisecond, or one within a millisecond of a
/// local midnight in one of `RANDOM_ZONES`.
fn random_instant(rng: &mut Rng, now: i64) -> i64 {
    let any = now - rng.below(40 * 86_400_000) as i64;
    if !rng.chance(20) {
        return any;
    }
    let tz: chrono_tz::Tz = rng.pick(RANDOM_ZONES).parse().expect("zone");
    let date = hangar::usage::window::local_date(hangar::usage::window::instant_of_ms(any), tz);
    let midnight = hangar::usage::window::start_of_local_day(tz, date).timestamp_millis();
    midnight + rng.below(3) as i64 - 1
}
