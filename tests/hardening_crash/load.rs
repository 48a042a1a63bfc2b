//! The crash test's writer load and what it proves afterwards. Writer threads run random
//! writes until the server dies under them, recording every write answered 2xx; `verify`
//! then reads the database file the killed server left behind.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::common::raw::{request, RawClient, RawResp, Rng};

const THREADS: u64 = 3;
const MODELS: [&str; 3] = ["claude-opus-4-5", "claude-sonnet-4-5", "no-such-model"];
const STATUSES: [&str; 6] = [
    "queued",
    "dispatched",
    "running",
    "completed",
    "failed",
    "cancelled",
];

/// Every write the server acknowledged with a 2xx, over all rounds.
#[derive(Default)]
pub struct Acked {
    pub writes: u64,
    /// Task → the furthest status an answer confirmed.
    pub tasks: HashMap<String, &'static str>,
    pub transitions: u64,
    pub usage_reports: u64,
    /// (task, provider, model) → the input tokens of the last confirmed report. Each key is
    /// written by one thread, in order, so the database holds that report or a later one.
    pub usage: HashMap<(String, String, String), i64>,
    pub cascades: Vec<Cascade>,
}

/// A runtime made to be retired: its agent and tasks, and whether the cascade was confirmed.
pub struct Cascade {
    pub runtime: String,
    pub agent: Option<String>,
    pub tasks: Vec<String>,
    pub acked: bool,
}

/// The long-lived objects the load works on.
pub struct Load {
    owner: String,
    daemon: String,
    runtimes: Vec<String>,
    agents: Vec<String>,
    /// Strictly increasing numbers for usage counts and names, across rounds.
    counter: Arc<AtomicI64>,
}

struct Dead;

impl Load {
    pub fn setup(addr: SocketAddr, owner: &str) -> Load {
        let mut c = RawClient::new(addr);
        let me = call(&mut c, "GET", "/api/me", owner, None).ok().unwrap();
        let ws = me.json().unwrap()["workspaces"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/api/workspaces/{ws}/daemon-tokens");
        let daemon = call(&mut c, "POST", &path, owner, Some(json!({"name": "crash"})));
        let daemon = daemon.ok().unwrap().json().unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let body = json!({"daemon_id": "crash-main", "runtimes": [
            {"name": "a", "provider": "claude"}, {"name": "b", "provider": "codex"}]});
        let reg = call(&mut c, "POST", "/api/daemon/register", &daemon, Some(body))
            .ok()
            .unwrap();
        let runtimes: Vec<String> = reg.json().unwrap()["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let mut agents = Vec::new();
        for (i, runtime) in runtimes.iter().enumerate() {
            for j in 0..2 {
                let body = json!({"name": format!("agent-{i}-{j}"), "runtime_id": runtime});
                let path = format!("/api/workspaces/{ws}/agents");
                let r = call(&mut c, "POST", &path, owner, Some(body)).ok().unwrap();
                assert_eq!(r.status, 201, "{}", r.text());
                agents.push(r.json().unwrap()["id"].as_str().unwrap().to_string());
            }
        }
        Load {
            owner: owner.to_string(),
            daemon,
            runtimes,
            agents,
            counter: Arc::new(AtomicI64::new(1)),
        }
    }

    /// Runs the writer threads until every one of them finds the server gone.
    pub fn run_until_the_server_dies(&self, addr: SocketAddr, seed: u64, acked: &mut Acked) {
        let shared = Arc::new(Mutex::new(std::mem::take(acked)));
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let shared = Arc::clone(&shared);
                scope.spawn(move || {
                    let mut w = Writer {
                        load: self,
                        client: RawClient::new(addr),
                        rng: Rng::new(seed ^ (t + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                        thread: t,
                        acked: &shared,
                    };
                    while w.step().is_ok() || alive(addr) {}
                });
            }
        });
        *acked = Arc::try_unwrap(shared)
            .ok()
            .expect("threads joined")
            .into_inner()
            .unwrap();
    }

    /// After a clean restart: the API answers and a write goes through.
    pub fn sanity(&self, addr: SocketAddr) {
        let mut c = RawClient::new(addr);
        let r = call(&mut c, "GET", "/api/me", &self.owner, None)
            .ok()
            .unwrap();
        assert_eq!(r.status, 200);
        let path = format!("/api/agents/{}/tasks", self.agents[0]);
        let r = call(
            &mut c,
            "POST",
            &path,
            &self.owner,
            Some(json!({"prompt": "after"})),
        );
        assert_eq!(r.ok().unwrap().status, 201);
    }
}

struct Writer<'a> {
    load: &'a Load,
    client: RawClient,
    rng: Rng,
    thread: u64,
    acked: &'a Mutex<Acked>,
}

impl Writer<'_> {
    fn step(&mut self) -> Result<(), Dead> {
        match self.rng.below(100) {
            0..=29 => self.enqueue(),
            30..=49 => self.claim(),
            50..=64 => self.transition("dispatched", "start", None, "running"),
            65..=74 => self.transition(
                "running",
                "complete",
                Some(json!({"output": "ok"})),
                "completed",
            ),
            75..=79 => self.transition("running", "fail", Some(json!({"error": "x"})), "failed"),
            80..=95 => self.usage(),
            _ => self.cascade(),
        }
    }

    fn enqueue(&mut self) -> Result<(), Dead> {
        let agent = self.rng.pick(&self.load.agents).clone();
        let path = format!("/api/agents/{agent}/tasks");
        let r = self.user("POST", &path, Some(json!({"prompt": "work"})))?;
        if r.status == 201 {
            let id = id_of(&r.json().unwrap());
            self.ack(|a| {
                a.tasks.insert(id, "queued");
            });
        }
        Ok(())
    }

    fn claim(&mut self) -> Result<(), Dead> {
        let runtime = self.rng.pick(&self.load.runtimes).clone();
        let r = self.daemon(&format!("/api/daemon/runtimes/{runtime}/claim"), None)?;
        if r.status == 200 {
            let id = id_of(&r.json().unwrap()["task"]);
            self.ack(|a| advance(a, id, "dispatched"));
        }
        Ok(())
    }

    fn transition(
        &mut self,
        from: &str,
        step: &str,
        body: Option<Value>,
        to: &'static str,
    ) -> Result<(), Dead> {
        let candidates: Vec<String> = {
            let a = self.acked.lock().unwrap();
            a.tasks
                .iter()
                .filter(|(_, s)| **s == from)
                .map(|(id, _)| id.clone())
                .collect()
        };
        if candidates.is_empty() {
            return self.claim();
        }
        let id = self.rng.pick(&candidates).clone();
        let r = self.daemon(&format!("/api/daemon/tasks/{id}/{step}"), body)?;
        if r.status == 200 {
            self.ack(|a| {
                a.transitions += 1;
                advance(a, id, to);
            });
        }
        Ok(())
    }

    fn usage(&mut self) -> Result<(), Dead> {
        let tasks: Vec<String> = self.acked.lock().unwrap().tasks.keys().cloned().collect();
        if tasks.is_empty() {
            return self.enqueue();
        }
        let task = self.rng.pick(&tasks).clone();
        // One provider per thread: a key is only ever reported by one thread, in order.
        let provider = format!("p{}", self.thread);
        let model = self.rng.pick(&MODELS).to_string();
        let n = self.load.counter.fetch_add(1, Ordering::SeqCst);
        let body = json!({"usage": [{"provider": provider, "model": model, "input_tokens": n,
                                     "output_tokens": 2 * n, "cache_read_tokens": n / 2}]});
        let r = self.daemon(&format!("/api/daemon/tasks/{task}/usage"), Some(body))?;
        if r.status == 200 {
            self.ack(|a| {
                a.usage_reports += 1;
                a.usage.insert((task, provider, model), n);
            });
        }
        Ok(())
    }

    /// A runtime with an agent and two tasks, then retired by the confirmed cascade.
    fn cascade(&mut self) -> Result<(), Dead> {
        let n = self.load.counter.fetch_add(1, Ordering::SeqCst);
        let body = json!({"daemon_id": format!("retire-{n}"),
                          "runtimes": [{"name": "r", "provider": "claude"}]});
        let r = self.daemon("/api/daemon/register", Some(body))?;
        if r.status != 200 {
            return Ok(());
        }
        let runtime = id_of(&r.json().unwrap()["runtimes"][0]);
        let index = self.ack(|a| {
            a.cascades.push(Cascade {
                runtime: runtime.clone(),
                agent: None,
                tasks: Vec::new(),
                acked: false,
            });
            a.cascades.len() - 1
        });
        let me = self.user("GET", "/api/me", None)?.json().unwrap();
        let ws = me["workspaces"][0]["id"].as_str().unwrap().to_string();
        let body = json!({"name": format!("doomed-{n}"), "runtime_id": runtime});
        let r = self.user("POST", &format!("/api/workspaces/{ws}/agents"), Some(body))?;
        if r.status != 201 {
            return Ok(());
        }
        let agent = id_of(&r.json().unwrap());
        self.ack(|a| a.cascades[index].agent = Some(agent.clone()));
        for _ in 0..2 {
            let path = format!("/api/agents/{agent}/tasks");
            let r = self.user("POST", &path, Some(json!({"prompt": "doomed"})))?;
            if r.status == 201 {
                let task = id_of(&r.json().unwrap());
                self.ack(|a| a.cascades[index].tasks.push(task));
            }
        }
        let path = format!("/api/runtimes/{runtime}/archive-agents-and-delete");
        let r = self.user(
            "POST",
            &path,
            Some(json!({"expected_active_agent_ids": [agent]})),
        )?;
        if r.status == 200 {
            self.ack(|a| a.cascades[index].acked = true);
        }
        Ok(())
    }

    fn user(&mut self, method: &str, path: &str, body: Option<Value>) -> Result<RawResp, Dead> {
        call(&mut self.client, method, path, &self.load.owner, body)
    }

    fn daemon(&mut self, path: &str, body: Option<Value>) -> Result<RawResp, Dead> {
        call(&mut self.client, "POST", path, &self.load.daemon, body)
    }

    /// Records a confirmed write.
    fn ack<T>(&self, record: impl FnOnce(&mut Acked) -> T) -> T {
        let mut a = self.acked.lock().unwrap();
        a.writes += 1;
        record(&mut a)
    }
}

/// Moves a task's confirmed status forward (a claim may confirm a task whose enqueue answer
/// was lost to a kill).
fn advance(a: &mut Acked, id: String, to: &'static str) {
    let rank = |s: &str| status_rank(s);
    let entry = a.tasks.entry(id).or_insert(to);
    if rank(to) > rank(entry) {
        *entry = to;
    }
}

fn status_rank(s: &str) -> usize {
    match s {
        "queued" => 0,
        "dispatched" => 1,
        "running" => 2,
        _ => 3,
    }
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

fn alive(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).is_ok()
}

fn call(
    client: &mut RawClient,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<RawResp, Dead> {
    let auth = format!("Bearer {token}");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let bytes = request(method, path.as_bytes(), &headers, body.as_bytes());
    match client.send(&bytes) {
        Ok(Some(r)) => {
            assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text());
            Ok(r)
        }
        _ => Err(Dead),
    }
}

/// Checks the database a killed server left behind against what it acknowledged. Returns a
/// summary, or every problem found.
pub fn verify(db: &Path, acked: &Acked) -> Result<String, String> {
    let c = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let status_of = |id: &str| -> Option<String> {
        c.query_row("SELECT status FROM task WHERE id = ?1", [id], |r| r.get(0))
            .ok()
    };
    for (id, confirmed) in &acked.tasks {
        match status_of(id) {
            None => problems.push(format!("task {id} ({confirmed}) is missing")),
            Some(s) => {
                let behind = status_rank(&s) < status_rank(confirmed);
                let terminal_changed = status_rank(confirmed) == 3 && s != *confirmed;
                if behind || terminal_changed || !STATUSES.contains(&s.as_str()) {
                    problems.push(format!("task {id} is {s}, but {confirmed} was confirmed"));
                }
            }
        }
    }
    for ((task, provider, model), confirmed) in &acked.usage {
        let found: Option<i64> = c
            .query_row(
                "SELECT input_tokens FROM task_usage WHERE task_id = ?1 AND provider = ?2
                 AND model = ?3",
                [task, provider, model],
                |r| r.get(0),
            )
            .ok();
        match found {
            Some(n) if n >= *confirmed => {}
            other => problems.push(format!(
                "usage of {task} {provider}/{model}: {other:?}, confirmed {confirmed}"
            )),
        }
    }
    for k in &acked.cascades {
        let exists = |sql: &str, id: &str| -> bool {
            c.query_row(sql, [id], |r| r.get::<_, i64>(0)).unwrap_or(0) > 0
        };
        let runtime = exists("SELECT COUNT(*) FROM runtime WHERE id = ?1", &k.runtime);
        let agent = k.agent.as_deref().map(|a| {
            exists(
                "SELECT COUNT(*) FROM agent WHERE id = ?1 AND archived_at IS NULL",
                a,
            )
        });
        let any_agent = k
            .agent
            .as_deref()
            .is_some_and(|a| exists("SELECT COUNT(*) FROM agent WHERE id = ?1", a));
        let tasks = k
            .tasks
            .iter()
            .filter(|t| {
                exists(
                    "SELECT COUNT(*) FROM task WHERE id = ?1 AND status = 'queued'",
                    t,
                )
            })
            .count();
        let announced = exists(
            "SELECT COUNT(*) FROM event WHERE type = 'daemon:register'
             AND json_extract(payload, '$.action') = 'delete'
             AND json_extract(payload, '$.runtime_id') = ?1",
            &k.runtime,
        );
        let untouched = runtime && agent != Some(false) && tasks == k.tasks.len() && !announced;
        let retired =
            !runtime && !any_agent && !k.tasks.iter().any(|t| status_of(t).is_some()) && announced;
        if !(untouched && !k.acked || retired) {
            problems.push(format!(
                "cascade of {} (confirmed: {}) is half-applied: runtime {runtime}, agent \
                 {agent:?}, {tasks} of {} tasks queued, delete event {announced}",
                k.runtime,
                k.acked,
                k.tasks.len()
            ));
        }
    }
    // Each change and its event are one transaction: every task has the event of its
    // status, every usage row a `usage:reported` (read in one pass: events outnumber tasks).
    let announced: HashSet<(String, String)> = rows(
        &c,
        "SELECT type, COALESCE(json_extract(payload, '$.task.id'),
                               json_extract(payload, '$.task_id'), '')
         FROM event WHERE type LIKE 'task:%' OR type = 'usage:reported'",
    )?
    .into_iter()
    .collect();
    for (id, status) in rows(&c, "SELECT id, status FROM task")? {
        if !announced.contains(&(format!("task:{status}"), id.clone())) {
            problems.push(format!(
                "task {id} is {status} without a task:{status} event"
            ));
        }
    }
    for (task, _) in rows(&c, "SELECT DISTINCT task_id, '' FROM task_usage")? {
        if !announced.contains(&("usage:reported".to_string(), task.clone())) {
            problems.push(format!(
                "usage of task {task} without a usage:reported event"
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} tasks, {} usage keys, {} cascades verified",
            acked.tasks.len(),
            acked.usage.len(),
            acked.cascades.len()
        ))
    } else {
        Err(problems.join("\n"))
    }
}

/// Every row of a two-column text query.
fn rows(c: &rusqlite::Connection, sql: &str) -> Result<Vec<(String, String)>, String> {
    let mut stmt = c.prepare(sql).map_err(|e| e.to_string())?;
    let found = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(found)
}
