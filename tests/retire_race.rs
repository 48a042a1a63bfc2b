//! The cascade under concurrency (API.md §6): in each of 200 rounds a fresh runtime with
//! agents and queued tasks is retired by one thread (with the plan it just read, confirmed
//! after a random short delay) while others create an agent on it, move an agent onto it
//! and claim its tasks, each after a random short delay. Every cascade is a complete teardown (200), a clean refusal (409
//! `runtime_delete_plan_changed`) or 404; the racers land before the teardown (and were
//! torn down with it) or after (and find no runtime); no task stays active for an archived
//! agent and `PRAGMA foreign_key_check` stays empty. Prints the outcome counts.
mod common;

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::Duration;

use common::{TestServer, World};
use serde_json::{json, Value};

const ROUNDS: usize = 200;
const AGENTS: usize = 2;
const TASKS_PER_AGENT: usize = 2;
/// Longest random delay before a racer acts (and between the cascader's plan read and its
/// confirmation): a few requests' worth, so racers land before the plan read, between it and
/// the confirmation, and after the teardown.
const MAX_JITTER_US: u64 = 6_000;

/// A tiny deterministic generator (xorshift), so a failing round can be replayed.
struct Jitter(u64);

impl Jitter {
    fn pause(&mut self) {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        std::thread::sleep(Duration::from_micros(self.0 % MAX_JITTER_US));
    }
}

/// A request from a racing thread: (status, body).
fn send(agent: &ureq::Agent, method: &str, url: &str, token: &str, body: &Value) -> (u16, Value) {
    let result = agent
        .request(method, url)
        .set("Authorization", &format!("Bearer {token}"))
        .send_string(&body.to_string());
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn get(agent: &ureq::Agent, url: &str, token: &str) -> Value {
    agent
        .get(url)
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_json()
        .expect("json")
}

/// What each racer saw in one round.
#[derive(Debug, Default)]
struct Seen {
    plan: Vec<String>,
    cascade: (u16, Value),
    created: (u16, Value),
    moved: u16,
    claims: Vec<(u16, Value)>,
}

fn ids_of(agents: &Value) -> Vec<String> {
    let mut ids: Vec<String> = agents
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn cascades_racing_creates_moves_and_claims_end_clean() {
    let s = TestServer::start_with(|c| c.workers = 8);
    let w = World::seed(&s);
    let base = s.base.clone();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut racer_outcomes: BTreeMap<String, usize> = BTreeMap::new();

    for round in 0..ROUNDS {
        let rt = s.insert_runtime(&w.owner_id, "public");
        let side = s.insert_runtime(&w.owner_id, "public");
        for i in 0..AGENTS {
            let agent = s.create_agent(&w.member, &rt, &format!("r{round}-a{i}"));
            for t in 0..TASKS_PER_AGENT {
                s.enqueue(&w.member, &agent, &format!("task {t}"));
            }
        }
        let mover = s.create_agent(&w.member, &side, &format!("r{round}-mover"));
        s.enqueue(&w.member, &mover, "follows the mover");

        let barrier = Barrier::new(4);
        let seen = std::sync::Mutex::new(Seen::default());
        let seed = 0x9E37_79B9_7F4A_7C15_u64 ^ (round as u64 + 1).wrapping_mul(0x2545_F491);
        std::thread::scope(|scope| {
            let (barrier, seen, base, w, rt, ws) = (&barrier, &seen, &base, &w, &rt, &s.ws);
            scope.spawn(move || {
                let (http, mut jitter) = (ureq::Agent::new(), Jitter(seed));
                barrier.wait();
                let url = format!("{base}/api/workspaces/{ws}/agents?runtime_id={rt}");
                let plan = ids_of(&get(&http, &url, &w.admin));
                jitter.pause();
                let url = format!("{base}/api/runtimes/{rt}/archive-agents-and-delete");
                let body = json!({ "expected_active_agent_ids": plan });
                let answer = send(&http, "POST", &url, &w.admin, &body);
                let mut seen = seen.lock().unwrap();
                seen.plan = plan;
                seen.cascade = answer;
            });
            scope.spawn(move || {
                let (http, mut jitter) = (ureq::Agent::new(), Jitter(seed.rotate_left(17)));
                barrier.wait();
                jitter.pause();
                let url = format!("{base}/api/workspaces/{ws}/agents");
                let body = json!({"name": format!("r{round}-new"), "runtime_id": rt});
                seen.lock().unwrap().created = send(&http, "POST", &url, &w.member, &body);
            });
            let mover = &mover;
            scope.spawn(move || {
                let (http, mut jitter) = (ureq::Agent::new(), Jitter(seed.rotate_left(31)));
                barrier.wait();
                jitter.pause();
                let url = format!("{base}/api/agents/{mover}");
                let body = json!({ "runtime_id": rt });
                seen.lock().unwrap().moved = send(&http, "PATCH", &url, &w.member, &body).0;
            });
            scope.spawn(move || {
                let (http, mut jitter) = (ureq::Agent::new(), Jitter(seed.rotate_left(47)));
                barrier.wait();
                let url = format!("{base}/api/daemon/runtimes/{rt}/claim");
                for _ in 0..2 {
                    jitter.pause();
                    let answer = send(&http, "POST", &url, &w.owner_daemon, &json!({}));
                    seen.lock().unwrap().claims.push(answer);
                }
            });
        });
        let seen = seen.into_inner().unwrap();
        let outcome = check_round(&s, round, &rt, &mover, &seen);
        *outcomes.entry(outcome).or_default() += 1;
        let created = format!("create {}", seen.created.0);
        *racer_outcomes.entry(created).or_default() += 1;
        *racer_outcomes
            .entry(format!("move {}", seen.moved))
            .or_default() += 1;
        for (status, _) in &seen.claims {
            *racer_outcomes.entry(format!("claim {status}")).or_default() += 1;
        }
    }

    eprintln!("retire race: {ROUNDS} rounds; cascades {outcomes:?}; racers {racer_outcomes:?}");
    assert!(
        outcomes.get("200").copied().unwrap_or(0) > 0,
        "no cascade ever completed: {outcomes:?}"
    );
    let active_for_archived = s.count(
        "SELECT count(*) FROM task t JOIN agent a ON a.id = t.agent_id
         WHERE a.archived_at IS NOT NULL AND t.status IN ('queued', 'dispatched', 'running')",
    );
    assert_eq!(active_for_archived, 0);
    assert!(s.foreign_key_violations().is_empty());
}

/// Checks one round's end state against what the racers saw; returns the cascade outcome.
fn check_round(s: &TestServer, round: usize, rt: &str, mover: &str, seen: &Seen) -> String {
    let ctx = format!("round {round}: {seen:#?}");
    let (status, body) = &seen.cascade;
    let runtime_left = s.exists("runtime", rt);
    let outcome = match *status {
        200 => {
            assert!(!runtime_left, "{ctx}");
            assert_eq!(
                body["agents_archived"].as_u64(),
                Some(seen.plan.len() as u64),
                "{ctx}"
            );
            // Whoever got in before the teardown was torn down with it.
            if seen.created.0 == 201 {
                let id = seen.created.1["id"].as_str().expect("id");
                assert!(!s.exists("agent", id), "{ctx}");
            }
            if seen.moved == 200 {
                assert!(!s.exists("agent", mover), "{ctx}");
            }
            "200".to_string()
        }
        409 => {
            assert_eq!(body["code"], "runtime_delete_plan_changed", "{ctx}");
            assert!(runtime_left, "{ctx}");
            assert_ne!(ids_of(&body["active_agents"]), seen.plan, "{ctx}");
            "409 runtime_delete_plan_changed".to_string()
        }
        404 => {
            assert_eq!(body["code"], "not_found", "{ctx}");
            "404".to_string()
        }
        other => panic!("unexpected cascade status {other}: {ctx}"),
    };
    // Racers that came after the teardown found no runtime; those before succeeded.
    assert!(matches!(seen.created.0, 201 | 404), "{ctx}");
    assert!(matches!(seen.moved, 200 | 404), "{ctx}");
    if !runtime_left {
        assert_eq!(
            s.count(&format!(
                "SELECT count(*) FROM task WHERE runtime_id = '{rt}'"
            )),
            0,
            "{ctx}"
        );
    }
    for (status, body) in &seen.claims {
        match status {
            200 => {
                let task = body["task"]["id"].as_str().expect("task id");
                if s.exists("task", task) {
                    let (state, _) = s.task_row(task);
                    let expected = if runtime_left {
                        "dispatched"
                    } else {
                        "cancelled"
                    };
                    assert_eq!(state, expected, "{ctx}");
                }
            }
            204 | 404 => {}
            other => panic!("unexpected claim status {other}: {ctx}"),
        }
    }
    outcome
}
