//! `usage`: the usage ledger at scale. For each world size (small: 100k ledger rows; large:
//! 1M, then 10M) it seeds the world of `usage_world`, times every report of API.md §5 on the
//! busiest runtime and on the workspace (one keep-alive client, sequential requests: p50/p99),
//! then measures ingest over HTTP — 4 keep-alive daemons sending reports of 3 entries, every
//! task reported twice so half the reports replace rows — with throughput and p50/p99, and
//! the cost of one report's write transaction alone, in process (writes are serial, so that
//! cost bounds the rate); then both again with 3 budgets watching every report, which its
//! transaction re-measures.
//! Targets (issue 6): ingest ≥ 5,000 reports/s with p99 < 20 ms; the runtime 90-day daily
//! report p50 < 20 ms at 1M rows and within 2× of that at 10M.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::bench::load::{self, Client, Request, Until};
use crate::bench::server::BenchServer;
use crate::bench::usage_world::{self, MODELS, MODELS_PER_TASK};
use crate::bench::{BenchResult, Figure, Options};
use crate::ctx::Ctx;
use crate::db;
use crate::events::Actor;
use crate::usage::ingest::{Entry, Report};
use crate::usage::pricing::Tokens;

const INGEST_CLIENTS: usize = 4;

pub fn run(options: &Options) -> Result<BenchResult, String> {
    let sizes: &[u64] = options.size.pick(&[100_000], &[1_000_000, 10_000_000]);
    let mut figures = Vec::new();
    for &rows in sizes {
        figures.extend(one_world(options, rows)?);
    }
    Ok(BenchResult {
        name: "usage".into(),
        figures,
    })
}

fn one_world(options: &Options, rows: u64) -> Result<Vec<Figure>, String> {
    let size = match rows {
        r if r >= 1_000_000 => format!("{}M", r / 1_000_000),
        r => format!("{}k", r / 1_000),
    };
    let server = BenchServer::start(options)?;
    let ctx = Arc::clone(server.handle().ok_or("the server is not running")?.ctx());
    let token = server.owner_token.clone();
    let mut client = Client::connect(server.addr())?;
    let me = client
        .send(&Request::get("/api/me").bearer(&token))?
        .json()?;
    let owner_id = me["id"].as_str().ok_or("no id in /api/me")?.to_string();
    eprintln!("  seeding {size} ledger rows …");
    let started = Instant::now();
    let world = usage_world::seed(&ctx, &server.ws, &owner_id, rows)?;
    let seeded = started.elapsed();
    let mut figures = vec![
        Figure::new(&format!("{size}: ledger rows"), rows as f64, ""),
        Figure::new(&format!("{size}: seed time"), seeded.as_secs_f64(), "s"),
    ];
    let counts = ctx
        .db
        .read(db::usage::rollup::table_rows)
        .map_err(|e| e.to_string())?;
    for (table, n) in counts {
        figures.push(Figure::new(&format!("{size}: {table} rows"), n as f64, ""));
    }
    let file = std::fs::metadata(server.db_path()).map_or(0, |m| m.len());
    figures.push(Figure::new(
        &format!("{size}: database file"),
        file as f64 / (1024.0 * 1024.0),
        "MiB",
    ));
    let rt = &world.runtimes[0];
    let ws = &server.ws;
    let reports = [
        (
            "runtime usage 90d, UTC",
            format!("/api/runtimes/{rt}/usage"),
        ),
        (
            "runtime usage 90d, New York",
            format!("/api/runtimes/{rt}/usage?tz=America/New_York"),
        ),
        (
            "runtime usage 90d, Kathmandu",
            format!("/api/runtimes/{rt}/usage?tz=Asia/Kathmandu"),
        ),
        (
            "runtime usage 365d, UTC",
            format!("/api/runtimes/{rt}/usage?days=365"),
        ),
        (
            "runtime by-agent 30d",
            format!("/api/runtimes/{rt}/usage/by-agent"),
        ),
        (
            "runtime by-hour 30d",
            format!("/api/runtimes/{rt}/usage/by-hour"),
        ),
        (
            "runtime by-hour 30d, Kathmandu",
            format!("/api/runtimes/{rt}/usage/by-hour?tz=Asia/Kathmandu"),
        ),
        (
            "runtime activity, all",
            format!("/api/runtimes/{rt}/activity"),
        ),
        (
            "workspace daily 30d",
            format!("/api/workspaces/{ws}/usage/daily"),
        ),
        (
            "workspace daily 30d, Kathmandu",
            format!("/api/workspaces/{ws}/usage/daily?tz=Asia/Kathmandu"),
        ),
        (
            "workspace summary 30d",
            format!("/api/workspaces/{ws}/usage/summary"),
        ),
        (
            "workspace by-runtime 7d",
            format!("/api/workspaces/{ws}/usage/by-runtime"),
        ),
        (
            "workspace by-agent 30d",
            format!("/api/workspaces/{ws}/usage/by-agent"),
        ),
    ];
    let repeats = options.size.pick(30, 60);
    for (name, path) in &reports {
        let request = Request::get(path).bearer(&token);
        // Warm the page cache and statement caches first.
        for _ in 0..3 {
            let r = client.send(&request)?;
            if r.status != 200 {
                return Err(format!("{path} answered {}", r.status));
            }
        }
        let timed = load::run(server.addr(), 1, Until::Requests(repeats), |_| {
            request.clone()
        })?;
        figures.push(Figure::new(
            &format!("{size}: {name} p50"),
            timed.latency_ms(0.5),
            "ms",
        ));
        figures.push(Figure::new(
            &format!("{size}: {name} p99"),
            timed.latency_ms(0.99),
            "ms",
        ));
    }
    figures.extend(ingest(options, &server, &ctx, &owner_id, &world, &size)?);
    Ok(figures)
}

/// Reports of 3 entries from 4 keep-alive daemons; each task is reported twice (the second
/// time with larger counts, replacing its rows); then one report's transaction alone. Then
/// both again with budgets watching every report (the workspace's per month and per Kathmandu
/// day, and its runtime's per month), each of which the report's transaction re-measures.
fn ingest(
    options: &Options,
    server: &BenchServer,
    ctx: &Arc<Ctx>,
    owner_id: &str,
    world: &usage_world::World,
    size: &str,
) -> Result<Vec<Figure>, String> {
    let seconds = options.size.pick(3, 10);
    let tasks = usage_world::open_tasks(ctx, world, options.size.pick(15_000, 60_000))?;
    let mut client = Client::connect(server.addr())?;
    let daemon = client
        .send(
            &Request::json(
                "POST",
                &format!("/api/workspaces/{}/daemon-tokens", server.ws),
                &json!({"name": "bench"}),
            )
            .bearer(&server.owner_token),
        )?
        .json()?["token"]
        .as_str()
        .ok_or("no daemon token in the answer")?
        .to_string();
    let in_process = |label: &str| {
        let per_report = transaction_cost(options, ctx, &server.ws, owner_id, world)?;
        Ok::<_, String>(Figure::new(label, per_report, "µs"))
    };
    let mut figures = ingest_round(server, &tasks, &daemon, seconds, &format!("{size}: ingest"))?;
    figures.push(in_process(&format!(
        "{size}: one report's transaction, in process"
    ))?);
    let mut budgets = vec![
        (json!({"type": "workspace"}), "month", "UTC"),
        (json!({"type": "workspace"}), "day", "Asia/Kathmandu"),
    ];
    budgets.extend(
        world
            .runtimes
            .iter()
            .map(|rt| (json!({"type": "runtime", "id": rt}), "month", "UTC")),
    );
    for (scope, period, timezone) in budgets {
        let body = json!({"scope": scope, "amount_usd": 1_000_000_000, "period": period,
                          "timezone": timezone});
        let created = client.send(
            &Request::json(
                "POST",
                &format!("/api/workspaces/{}/budgets", server.ws),
                &body,
            )
            .bearer(&server.owner_token),
        )?;
        if created.status != 201 {
            return Err(format!("creating a budget answered {}", created.status));
        }
    }
    figures.extend(ingest_round(
        server,
        &tasks,
        &daemon,
        seconds,
        &format!("{size}: ingest with 3 budgets watching"),
    )?);
    figures.push(in_process(&format!(
        "{size}: one report's transaction with 3 budgets, in process"
    ))?);
    Ok(figures)
}

/// One ingest run of `seconds` over `tasks`: reports, throughput, p50 and p99 under `label`.
fn ingest_round(
    server: &BenchServer,
    tasks: &[String],
    daemon: &str,
    seconds: u64,
    label: &str,
) -> Result<Vec<Figure>, String> {
    let report = load::run(
        server.addr(),
        INGEST_CLIENTS,
        Until::Elapsed(Duration::from_secs(seconds)),
        |turn| {
            let entries: Vec<serde_json::Value> = (0..MODELS_PER_TASK)
                .map(|i| {
                    let (provider, model, scale) = entry_of(turn.seq, i);
                    json!({"provider": provider, "model": model,
                           "input_tokens": 1000 * scale, "output_tokens": 200 * scale,
                           "cache_read_tokens": 5000 * scale})
                })
                .collect();
            Request::json(
                "POST",
                &format!("/api/daemon/tasks/{}/usage", task_of(tasks, turn.seq)),
                &json!({ "usage": entries }),
            )
            .bearer(daemon)
        },
    )?;
    if report.non_2xx() > 0 {
        return Err(format!("{label}: non-2xx answers: {:?}", report.statuses));
    }
    Ok(vec![
        Figure::new(&format!("{label} reports"), report.requests as f64, ""),
        Figure::new(
            &format!("{label} throughput"),
            report.throughput(),
            "reports/s",
        ),
        Figure::new(&format!("{label} p50"), report.latency_ms(0.5), "ms"),
        Figure::new(&format!("{label} p99"), report.latency_ms(0.99), "ms"),
    ])
}

/// Entry `i` of report `seq`: (provider, model, count scale). Each task is reported twice,
/// the second time with larger counts, replacing its rows.
fn entry_of(seq: u64, i: usize) -> (&'static str, &'static str, i64) {
    let k = (seq / 2) as usize;
    let (provider, model) = MODELS[(k + i * 2) % MODELS.len()];
    (provider, model, 1 + (seq % 2) as i64)
}

fn task_of(tasks: &[String], seq: u64) -> &str {
    &tasks[(seq / 2) as usize % tasks.len()]
}

/// The same reports as `ingest`, each one's write transaction run in process on one thread
/// (no HTTP, no other writer): µs per report. Writes are serial, so this bounds the rate.
fn transaction_cost(
    options: &Options,
    ctx: &Arc<Ctx>,
    workspace_id: &str,
    owner_id: &str,
    world: &usage_world::World,
) -> Result<f64, String> {
    let tasks = usage_world::open_tasks(ctx, world, options.size.pick(15_000, 60_000))?;
    let seconds = options.size.pick(3, 10);
    let started = Instant::now();
    let mut seq = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let entries = (0..MODELS_PER_TASK)
            .map(|i| {
                let (provider, model, scale) = entry_of(seq, i);
                Entry {
                    provider: provider.to_string(),
                    model: model.to_string(),
                    tokens: Tokens {
                        input: 1000 * scale,
                        output: 200 * scale,
                        cache_read: 5000 * scale,
                        cache_write: 0,
                    },
                    cost: None,
                    occurred_at: None,
                }
            })
            .collect();
        let report = Report {
            user_id: owner_id.to_string(),
            workspace_id: workspace_id.to_string(),
            task_id: task_of(&tasks, seq).to_string(),
            entries,
            actor: Actor::daemon(owner_id),
            now: ctx.now_ms(),
        };
        let pricing = Arc::clone(&ctx.pricing);
        let kept = Arc::clone(&ctx.kept_spend);
        ctx.write_grouped(move |tx| report.apply(tx, &pricing, &kept))
            .map_err(|e| format!("report {seq}: {}", e.message))?;
        seq += 1;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / seq.max(1) as f64)
}
