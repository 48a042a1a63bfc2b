//! What budget evaluation adds to a usage report: the same reports timed through HTTP with no
//! budget and with 10 budgets watching the reporting task (workspace, runtime and agent scopes;
//! day, week and month periods in several zones) over a month of history, then the evaluation
//! alone timed in-process. Prints the numbers; asserts only that evaluation did its job.
mod common;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use common::budgets::{budget, crossings, spend};
use common::ledger::Rig;
use common::{TestServer, World};
use hangar::budgets::kept::KeptSpend;
use serde_json::json;

const NOW: &str = "2026-06-28T12:00:00Z";
const REPORTS: usize = 150;

fn summary(mut samples: Vec<StdDuration>) -> (f64, f64, f64) {
    samples.sort();
    let micros = |d: StdDuration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64;
    let p50 = micros(samples[samples.len() / 2]);
    let p99 = micros(samples[samples.len() * 99 / 100]);
    (mean, p50, p99)
}

/// `REPORTS` re-reports of the rig's task, each with a new cost; their round-trip times.
fn time_reports(s: &TestServer, daemon: &str, task: &str, offset: usize) -> Vec<StdDuration> {
    (0..REPORTS)
        .map(|i| {
            let cost = format!("0.{:06}", 1 + (i + offset) % 1000);
            let began = Instant::now();
            spend(s, daemon, task, &cost, None).expect(200);
            began.elapsed()
        })
        .collect()
}

#[test]
fn evaluation_cost_per_report_with_ten_budgets() {
    let mut s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    let other = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    // A month of history: every 6 hours, on both runtimes, with two models.
    let now: DateTime<Utc> = NOW.parse().unwrap();
    for step in 1..=4 * 27 {
        let at = (now - Duration::hours(6 * step)).to_rfc3339();
        for r in [&rig, &other] {
            let task = r.new_task(&s, &s.ws);
            common::ledger::report(
                &s,
                &w.owner_daemon,
                &task,
                json!([{"model": "claude-sonnet-5", "input_tokens": 1000, "output_tokens": 100,
                        "occurred_at": at},
                       {"model": "m", "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.01,
                        "occurred_at": at}]),
            )
            .expect(200);
        }
    }
    let task = rig.new_task(&s, &s.ws);
    let without = time_reports(&s, &w.owner_daemon, &task, 0);

    let scopes = [
        json!({"type": "workspace"}),
        json!({"type": "runtime", "id": rig.runtime}),
        json!({"type": "agent", "id": rig.agent}),
    ];
    let plans = [
        ("day", "UTC"),
        ("week", "Europe/Paris"),
        ("month", "Asia/Kathmandu"),
        ("month", "America/New_York"),
    ];
    for i in 0..10 {
        let (period, zone) = plans[i % plans.len()];
        budget(
            &s,
            &w.owner,
            scopes[i % scopes.len()].clone(),
            1000.0,
            period,
            zone,
        );
    }
    let with = time_reports(&s, &w.owner_daemon, &task, 1);
    // A small budget the agent's day already exceeds: announced at creation, never again.
    let small = budget(
        &s,
        &w.owner,
        json!({"type": "agent", "id": rig.agent}),
        0.002,
        "day",
        "UTC",
    );
    spend(&s, &w.owner_daemon, &task, "0.001", None).expect(200);
    spend(&s, &w.owner_daemon, &task, "0.0015", None).expect(200);
    let announced: Vec<(String, i64)> = crossings(&s)
        .into_iter()
        .map(|c| (c.budget, c.threshold))
        .collect();
    let expected: Vec<(String, i64)> = [50, 80, 100].map(|t| (small.clone(), t)).to_vec();
    assert_eq!(announced, expected);

    let (m0, p50_0, p99_0) = summary(without);
    let (m1, p50_1, p99_1) = summary(with);
    println!(
        "ingest round trip over HTTP ({REPORTS} reports each): no budgets mean {m0:.0} µs \
         (p50 {p50_0:.0}, p99 {p99_0:.0}); 10 budgets mean {m1:.0} µs (p50 {p50_1:.0}, \
         p99 {p99_1:.0}); difference {:.0} µs",
        m1 - m0
    );

    // The evaluation alone, in a transaction of its own, on the server's database.
    s.stop();
    let db = hangar::db::Db::open(&s.db_path(), hangar::db::OpenMode::Existing, 1).unwrap();
    let pricing = hangar::usage::pricing::PriceTable::builtin();
    let rows = db
        .read(|c| hangar::db::usage::rows_for_task(c, &task))
        .unwrap();
    let at = now.timestamp_millis();
    let runs = 300;
    let evaluate = |kept: &KeptSpend| {
        db.write_tx(|tx| {
            hangar::budgets::evaluate::evaluate_after_usage(tx, &pricing, kept, &rows, at)
        })
        .unwrap()
    };
    let began = Instant::now();
    for _ in 0..runs {
        evaluate(&KeptSpend::new(&db));
    }
    let cold = began.elapsed().as_secs_f64() * 1e6 / runs as f64;
    let kept = KeptSpend::new(&db);
    let began = Instant::now();
    for _ in 0..runs {
        evaluate(&kept);
    }
    let warm = began.elapsed().as_secs_f64() * 1e6 / runs as f64;
    let began = Instant::now();
    for _ in 0..runs {
        db.write_tx(|_| Ok::<_, hangar::db::DbError>(())).unwrap();
    }
    let empty = began.elapsed().as_secs_f64() * 1e6 / runs as f64;
    println!(
        "evaluate_after_usage with 11 budgets watching the task: {:.0} µs per report reading \
         every rollup sum, {:.0} µs with the sums kept since the last fold (an empty write \
         transaction: {empty:.0} µs)",
        cold - empty,
        warm - empty
    );
}
