//! `retire`: the confirmed cascade (`POST /api/runtimes/{id}/archive-agents-and-delete`) on a
//! big runtime — 1,000 agents, 100,000 tasks (a quarter of them active) and 2,000 active
//! autopilots, seeded straight through `db` in a few big transactions — timed through HTTP,
//! request to answer (and, on Linux, the CPU time it took). Target: under 1 s. `--size large`
//! repeats it on 3 fresh servers.

use std::time::Instant;

use serde_json::json;

use crate::bench::load::{Client, Request};
use crate::bench::server::BenchServer;
use crate::bench::{BenchResult, Figure, Options};
use crate::db::{self, agents::Agent, autopilots::Autopilot, runtimes::Runtime, tasks::Task, Db};
use crate::ids;

const AGENTS: usize = 1_000;
const TASKS_PER_AGENT: usize = 100;
/// Every fourth task is active (queued, dispatched or running in turn).
const ACTIVE_EVERY: usize = 4;
const AUTOPILOTS_PER_AGENT: usize = 2;

pub fn run(options: &Options) -> Result<BenchResult, String> {
    let rounds = options.size.pick(1, 3);
    let mut seed_secs = Vec::new();
    let mut cascade_ms = Vec::new();
    let mut cascade_cpu_ms = Vec::new();
    for _ in 0..rounds {
        let server = BenchServer::start(options)?;
        let mut client = Client::connect(server.addr())?;
        let me = client
            .send(&Request::get("/api/me").bearer(&server.owner_token))?
            .json()?;
        let owner_id = me["id"].as_str().ok_or("no id in /api/me")?.to_string();
        let ctx = server.handle().ok_or("server not running")?.ctx();

        let started = Instant::now();
        let (runtime_id, agent_ids) = seed(&ctx.db, &server.ws, &owner_id, ctx.now_ms())?;
        seed_secs.push(started.elapsed().as_secs_f64());
        // A real server's checkpointer copied its WAL into the database long ago; here the
        // seed's is copied now, so that the cascade does not race that copy.
        ctx.db.checkpoint().map_err(|e| e.to_string())?;
        std::thread::sleep(std::time::Duration::from_secs(1));

        let body = json!({ "expected_active_agent_ids": agent_ids });
        let path = format!("/api/runtimes/{runtime_id}/archive-agents-and-delete");
        let request = Request::json("POST", &path, &body).bearer(&server.owner_token);
        let (started, cpu_before) = (Instant::now(), process_cpu_ms());
        let response = client.send(&request)?;
        cascade_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if let (Some(before), Some(after)) = (cpu_before, process_cpu_ms()) {
            cascade_cpu_ms.push(after - before);
        }
        let answer = response.json()?;
        let expected = json!({
            "status": "ok",
            "agents_archived": AGENTS,
            "tasks_cancelled": AGENTS * TASKS_PER_AGENT / ACTIVE_EVERY,
        });
        if response.status != 200 || answer != expected {
            return Err(format!(
                "cascade answered {} {answer}, expected 200 {expected}",
                response.status
            ));
        }
    }
    cascade_ms.sort_by(f64::total_cmp);
    let mut figures = vec![
        Figure::new("agents", AGENTS as f64, ""),
        Figure::new("tasks", (AGENTS * TASKS_PER_AGENT) as f64, ""),
        Figure::new(
            "active tasks",
            (AGENTS * TASKS_PER_AGENT / ACTIVE_EVERY) as f64,
            "",
        ),
        Figure::new("autopilots", (AGENTS * AUTOPILOTS_PER_AGENT) as f64, ""),
        Figure::new("seed", seed_secs.iter().sum::<f64>() / rounds as f64, "s"),
        Figure::new("cascade", cascade_ms[cascade_ms.len() / 2], "ms"),
    ];
    if !cascade_cpu_ms.is_empty() {
        cascade_cpu_ms.sort_by(f64::total_cmp);
        let median = cascade_cpu_ms[cascade_cpu_ms.len() / 2];
        figures.push(Figure::new("cascade cpu", median, "ms"));
    }
    if rounds > 1 {
        figures.push(Figure::new("cascade min", cascade_ms[0], "ms"));
        figures.push(Figure::new("cascade max", cascade_ms[rounds - 1], "ms"));
    }
    Ok(BenchResult {
        name: "retire".into(),
        figures,
    })
}

/// CPU time used so far by this process, every thread counted, even those that have ended
/// (the cascade reads on a scoped thread), from Linux's `/proc/self/stat` (user + system time,
/// in ticks of 1/100 s, Linux's USER_HZ); `None` elsewhere. On a shared machine the
/// wall-clock figure includes waiting for a core, this one does not.
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (in parentheses, possibly with spaces): state is field 3, user
    // time field 14, system time field 15.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 * 10.0)
}

/// One runtime of the workspace owned by `owner_id`, with its agents, tasks and autopilots,
/// written in three transactions. Returns the runtime's id and its agents' ids.
fn seed(db: &Db, ws: &str, owner_id: &str, now: i64) -> Result<(String, Vec<String>), String> {
    let runtime = Runtime {
        id: ids::new_id(),
        workspace_id: ws.to_string(),
        daemon_id: Some("bench-daemon".into()),
        name: "bench box".into(),
        provider: "claude".into(),
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
    };
    let agents: Vec<Agent> = (0..AGENTS)
        .map(|i| Agent {
            id: ids::new_id(),
            workspace_id: ws.to_string(),
            runtime_id: runtime.id.clone(),
            owner_id: Some(owner_id.to_string()),
            name: format!("agent-{i:04}"),
            description: String::new(),
            archived_at: None,
            archived_by: None,
            created_at: now + i as i64,
            updated_at: now + i as i64,
        })
        .collect();
    let result = db.write_tx(|tx| {
        db::runtimes::insert(tx, &runtime)?;
        agents.iter().try_for_each(|a| db::agents::insert(tx, a))
    });
    result.map_err(|e| format!("seeding agents: {e}"))?;
    let result = db.write_tx(|tx| {
        for (n, agent) in agents.iter().enumerate() {
            for i in 0..TASKS_PER_AGENT {
                db::tasks::insert(tx, &task(agent, n * TASKS_PER_AGENT + i, now))?;
            }
        }
        Ok::<_, db::DbError>(())
    });
    result.map_err(|e| format!("seeding tasks: {e}"))?;
    let result = db.write_tx(|tx| {
        for agent in &agents {
            for i in 0..AUTOPILOTS_PER_AGENT {
                db::autopilots::insert(tx, &autopilot(agent, i, now))?;
            }
        }
        Ok::<_, db::DbError>(())
    });
    result.map_err(|e| format!("seeding autopilots: {e}"))?;
    Ok((runtime.id, agents.into_iter().map(|a| a.id).collect()))
}

/// The `n`-th task of the world: every `ACTIVE_EVERY`-th one active, the rest finished.
fn task(agent: &Agent, n: usize, now: i64) -> Task {
    let status = if n.is_multiple_of(ACTIVE_EVERY) {
        ["queued", "dispatched", "running"][(n / ACTIVE_EVERY) % 3]
    } else {
        ["completed", "failed", "cancelled"][n % 3]
    };
    let created_at = now - (AGENTS * TASKS_PER_AGENT - n) as i64 * 1_000;
    Task {
        id: ids::task_id(created_at),
        workspace_id: agent.workspace_id.clone(),
        agent_id: agent.id.clone(),
        runtime_id: Some(agent.runtime_id.clone()),
        autopilot_id: None,
        prompt: format!("bench task {n}: refactor the module and run the tests"),
        status: status.to_string(),
        error: (status == "failed").then(|| "exit status 1".to_string()),
        output: (status == "completed").then(|| "done".to_string()),
        created_at,
        dispatched_at: (status != "queued").then_some(created_at + 10),
        started_at: (!matches!(status, "queued" | "dispatched")).then_some(created_at + 15),
        completed_at: matches!(status, "completed" | "failed" | "cancelled")
            .then_some(created_at + 20),
    }
}

fn autopilot(agent: &Agent, i: usize, now: i64) -> Autopilot {
    Autopilot {
        id: ids::new_id(),
        workspace_id: agent.workspace_id.clone(),
        assignee_agent_id: agent.id.clone(),
        name: format!("{} pilot {i}", agent.name),
        prompt: "check the nightly build".into(),
        interval_minutes: 60,
        status: "active".into(),
        // Far enough ahead that the scheduler stays out of the measurement.
        next_run_at: Some(now + 3_600_000),
        created_at: now,
        updated_at: now,
    }
}
