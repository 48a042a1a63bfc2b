//! Property: whatever sequence of reports arrives — new rows, re-reports, moved `occurred_at`,
//! late reports, tasks re-pinned to another runtime, rejected reports, folds of deferred
//! deltas cut short at any row — every rollup (with the deltas still pending) equals a full
//! recomputation from the ledger, and the reports equal sums over a model ledger kept by the
//! test itself, before and after the last fold.
mod common;

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, TimeZone, Utc};
use common::ledger::{self, assert_rollups_match, report, Rig};
use common::{TestServer, World};
use serde_json::{json, Value};

/// SplitMix64: a tiny seeded generator, so every run replays the same sequences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the test believes a ledger row is.
#[derive(Debug, Clone)]
struct Row {
    runtime: String,
    model: String,
    input: i64,
    output: i64,
    instant: i64,
}

const MODELS: &[(&str, &str)] = &[
    ("claude", "claude-opus-5"),
    ("claude", "claude-sonnet-5"),
    ("", "claude-haiku-4-5"),
    ("codex", "gpt-5"),
    ("acme", "unknown-model"),
];

#[test]
fn rollups_always_equal_a_recomputation_from_the_ledger() {
    for seed in [1u64, 7, 2026] {
        // Not a multiple of 40: the last steps' deltas are still pending at the first check.
        replay(seed, 175);
    }
}

fn replay(seed: u64, steps: usize) {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 10, 7, 0).unwrap();
    // Folds happen only where the replay puts them.
    let s = TestServer::start_pinned(start, |c| {
        c.usage_fold_interval = std::time::Duration::from_secs(3600)
    });
    let w = World::seed(&s);
    let mut rng = Rng(seed);
    let rigs: Vec<Rig> = ["UTC", "Asia/Kathmandu", "America/New_York"]
        .iter()
        .map(|tz| Rig::new(&s, &s.ws, &w.owner_id, "claude", tz))
        .collect();
    // task id → (agent's rig index, runtime it is pinned to now)
    let mut tasks: Vec<(String, usize, String)> = Vec::new();
    for (i, rig) in rigs.iter().enumerate() {
        tasks.push((rig.task.clone(), i, rig.runtime.clone()));
        for _ in 0..3 {
            tasks.push((rig.new_task(&s, &s.ws), i, rig.runtime.clone()));
        }
    }
    let mut model: HashMap<(String, String, String), Row> = HashMap::new();
    for step in 0..steps {
        let now = s.now().timestamp_millis();
        let at = rng.below(tasks.len() as u64) as usize;
        match rng.below(10) {
            // Re-pin a task to another runtime of the same owner: its rows move on re-report.
            0 => {
                let target = rng.pick(&rigs).runtime.clone();
                ledger::sql(&s)
                    .execute(
                        "UPDATE task SET runtime_id = ?1 WHERE id = ?2",
                        [&target, &tasks[at].0],
                    )
                    .unwrap();
                tasks[at].2 = target;
            }
            // Finish a task: later reports are late reports, still kept.
            1 => {
                ledger::sql(&s)
                    .execute(
                        "UPDATE task SET status = 'completed' WHERE id = ?1",
                        [&tasks[at].0],
                    )
                    .unwrap();
            }
            // Fold a few of the oldest deferred deltas, as a fold batch cut short would.
            3 if rng.chance(50) => {
                ledger::fold_some(&s, rng.below(12) as i64 + 1);
            }
            // A report that must be refused whole, even after valid entries.
            2 if rng.chance(30) => {
                report(
                    &s,
                    &w.owner_daemon,
                    &tasks[at].0,
                    json!([{"model": "claude-opus-5", "input_tokens": 5, "output_tokens": 5},
                           {"model": "claude-opus-5", "input_tokens": -1, "output_tokens": 5}]),
                )
                .expect_error(400, "invalid_field");
            }
            _ => {
                let (task, _, runtime) = tasks[at].clone();
                let mut entries = Vec::new();
                let mut chosen: Vec<usize> = Vec::new();
                for _ in 0..=rng.below(3) {
                    let m = rng.below(MODELS.len() as u64) as usize;
                    if !chosen.contains(&m) {
                        chosen.push(m);
                    }
                }
                for m in chosen {
                    let (provider, name) = MODELS[m];
                    let key = (
                        task.clone(),
                        provider_or_runtime(provider),
                        name.to_string(),
                    );
                    let input = rng.below(5_000) as i64;
                    let output = rng.below(500) as i64;
                    let mut e = json!({"provider": provider, "model": name,
                                       "input_tokens": input, "output_tokens": output,
                                       "cache_read_tokens": rng.below(100)});
                    if rng.chance(30) {
                        e["cost_usd"] = json!(format!("0.{:06}", rng.below(1_000_000))
                            .parse::<f64>()
                            .unwrap());
                    }
                    let moved = rng.chance(35);
                    let instant = if moved {
                        // Anywhere in the last 40 days, at any minute: crosses every boundary.
                        let back = rng.below(40 * 24 * 60) as i64 * 60_000;
                        let at = now - back;
                        e["occurred_at"] = json!(hangar::clock::rfc3339(at));
                        at
                    } else {
                        model.get(&key).map_or(now, |r| r.instant)
                    };
                    entries.push(e);
                    model.insert(
                        key,
                        Row {
                            runtime: runtime.clone(),
                            model: name.to_string(),
                            input,
                            output,
                            instant,
                        },
                    );
                }
                report(&s, &w.owner_daemon, &task, Value::Array(entries)).expect(200);
            }
        }
        s.clock()
            .advance(Duration::minutes(rng.below(240) as i64 + 1));
        if step % 40 == 39 {
            assert_rollups_match(&s);
        }
    }
    assert!(s.count("SELECT count(*) FROM usage_pending") > 0);
    check_reports(&s, &w, &rigs, &model);
    assert_rollups_match(&s);
    check_reports(&s, &w, &rigs, &model);
}

fn provider_or_runtime(provider: &str) -> String {
    if provider.is_empty() {
        "claude".into()
    } else {
        provider.into()
    }
}

/// The workspace summary and each runtime's daily report (in its own awkward zone) equal sums
/// over the model ledger.
fn check_reports(
    s: &TestServer,
    w: &World,
    rigs: &[Rig],
    model: &HashMap<(String, String, String), Row>,
) {
    let mut by_model: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for row in model.values() {
        let e = by_model.entry(row.model.clone()).or_default();
        *e = (e.0 + row.input, e.1 + row.output, e.2 + 1);
    }
    let summary = s
        .get(
            &format!("/api/workspaces/{}/usage/summary?days=365", s.ws),
            &w.owner,
        )
        .expect(200);
    let got: BTreeMap<String, (i64, i64, i64)> = summary
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap().to_string(),
                (
                    r["total_input_tokens"].as_i64().unwrap(),
                    r["total_output_tokens"].as_i64().unwrap(),
                    r["task_count"].as_i64().unwrap(),
                ),
            )
        })
        .filter(|(_, t)| *t != (0, 0, 0))
        .collect();
    let want: BTreeMap<_, _> = by_model
        .into_iter()
        .filter(|(_, t)| t.0 + t.1 > 0)
        .collect();
    let got: BTreeMap<_, _> = got.into_iter().filter(|(_, t)| t.0 + t.1 > 0).collect();
    assert_eq!(got, want, "workspace summary");
    for rig in rigs {
        let tz: chrono_tz::Tz = "Asia/Kathmandu".parse().unwrap();
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        for row in model.values().filter(|r| r.runtime == rig.runtime) {
            let date = Utc
                .timestamp_millis_opt(row.instant)
                .unwrap()
                .with_timezone(&tz)
                .date_naive();
            *want.entry(date.to_string()).or_default() += row.input;
        }
        want.retain(|_, v| *v > 0);
        let daily = s
            .get(
                &format!(
                    "/api/runtimes/{}/usage?days=365&tz=Asia/Kathmandu",
                    rig.runtime
                ),
                &w.owner,
            )
            .expect(200);
        let mut got: BTreeMap<String, i64> = BTreeMap::new();
        for r in daily.body.as_array().unwrap() {
            *got.entry(r["date"].as_str().unwrap().to_string())
                .or_default() += r["input_tokens"].as_i64().unwrap();
        }
        got.retain(|_, v| *v > 0);
        assert_eq!(got, want, "runtime {} daily in Kathmandu", rig.runtime);
    }
}
