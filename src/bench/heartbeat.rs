//! `heartbeat`: daemon heartbeat throughput over keep-alive connections. Each client plays
//! one daemon that registered `RUNTIMES_PER_DAEMON` runtimes and heartbeats all of them per
//! call, as a real daemon does every 15 s. Every heartbeat is a write transaction (it sets
//! `last_seen_at`), so this measures the write path: auth, one IMMEDIATE transaction, commit.
//! A fleet needs `daemons / 15` heartbeats per second.

use std::time::Duration;

use serde_json::{json, Value};

use crate::bench::load::{self, Client, Request, Until};
use crate::bench::server::BenchServer;
use crate::bench::{BenchResult, Figure, Options};

const CLIENTS: usize = 4;
const RUNTIMES_PER_DAEMON: usize = 4;
const PROVIDERS: [&str; RUNTIMES_PER_DAEMON] = ["claude", "codex", "gemini", "aider"];

pub fn run(options: &Options) -> Result<BenchResult, String> {
    let server = BenchServer::start(options)?;
    let mut setup = Client::connect(server.addr())?;
    let token = setup
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
    let bodies = (0..CLIENTS)
        .map(|daemon| register(&mut setup, &token, daemon))
        .collect::<Result<Vec<Value>, String>>()?;
    let seconds = options.size.pick(2, 10);
    let report = load::run(
        server.addr(),
        CLIENTS,
        Until::Elapsed(Duration::from_secs(seconds)),
        |turn| Request::json("POST", "/api/daemon/heartbeat", &bodies[turn.client]).bearer(&token),
    )?;
    if report.non_2xx() > 0 {
        return Err(format!("non-2xx answers: {:?}", report.statuses));
    }
    // Every runtime must still be known and online after the run.
    for body in &bodies {
        let answer = setup
            .send(&Request::json("POST", "/api/daemon/heartbeat", body).bearer(&token))?
            .json()?;
        let all_online = answer["runtimes"]
            .as_array()
            .is_some_and(|rs| rs.iter().all(|r| r["status"] == "online"));
        if !all_online {
            return Err(format!("a heartbeat answered {answer}"));
        }
    }
    let mut figures = report.figures();
    figures.push(Figure::new(
        "runtimes per heartbeat",
        RUNTIMES_PER_DAEMON as f64,
        "",
    ));
    figures.push(Figure::new(
        "runtime beats",
        report.throughput() * RUNTIMES_PER_DAEMON as f64,
        "runtimes/s",
    ));
    Ok(BenchResult {
        name: "heartbeat".into(),
        figures,
    })
}

/// Registers daemon number `daemon`; returns its heartbeat body.
fn register(client: &mut Client, token: &str, daemon: usize) -> Result<Value, String> {
    let runtimes: Vec<Value> = PROVIDERS
        .iter()
        .map(|p| json!({"name": format!("{p} on bench-{daemon}"), "provider": p}))
        .collect();
    let answer = client
        .send(
            &Request::json(
                "POST",
                "/api/daemon/register",
                &json!({"daemon_id": format!("bench-{daemon}"), "runtimes": runtimes}),
            )
            .bearer(token),
        )?
        .json()?;
    let ids: Vec<Value> = answer["runtimes"]
        .as_array()
        .ok_or_else(|| format!("registration answered {answer}"))?
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    Ok(json!({ "runtime_ids": ids }))
}
