//! `pause_dispatch`: while a budget's period spend is at or over its amount, claims for tasks
//! in its scope answer 204 and the tasks stay queued, autopilots in scope skip, and the budget
//! says `paused`; work flows again when the period rolls over, the amount is raised or a
//! re-report lowers the spend. An `alert` budget never holds anything.
mod common;

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use common::budgets::{create, spend};
use common::{TestServer, World};
use serde_json::{json, Value};

const TICK: StdDuration = StdDuration::from_millis(20);

struct Setup {
    s: TestServer,
    w: World,
    runtime: String,
    agent: String,
}

fn start() -> Setup {
    let s = TestServer::start_pinned("2026-06-15T12:00:00Z".parse().unwrap(), |c| {
        c.scheduler_tick = TICK
    });
    let w = World::seed(&s);
    let runtime = s.insert_runtime(&w.owner_id, "private");
    let agent = s.create_agent(&w.owner, &runtime, "builder");
    Setup {
        s,
        w,
        runtime,
        agent,
    }
}

impl Setup {
    fn budget(&self, scope: Value, amount: f64, action: &str) -> String {
        create(
            &self.s,
            &self.s.ws,
            &self.w.owner,
            json!({"scope": scope, "amount_usd": amount, "period": "day", "timezone": "UTC",
                   "action": action}),
        )
        .expect(201)
        .id()
    }

    fn claim(&self) -> Option<String> {
        self.s.claim(&self.w.owner_daemon, &self.runtime)
    }

    /// Enqueues for `agent`, claims it, and reports `usd` as its cost; returns the task.
    fn run_and_spend(&self, agent: &str, usd: &str) -> String {
        let task = self.s.enqueue(&self.w.owner, agent, "work");
        assert_eq!(self.claim().as_deref(), Some(task.as_str()));
        spend(&self.s, &self.w.owner_daemon, &task, usd, None).expect(200);
        task
    }

    fn state(&self, budget: &str) -> String {
        let r = self
            .s
            .get(&format!("/api/budgets/{budget}"), &self.w.member)
            .expect(200);
        r.body["state"].as_str().expect("state").to_string()
    }
}

#[test]
fn a_spent_budget_holds_claims_until_the_period_rolls_over() {
    let t = start();
    let budget = t.budget(json!({"type": "workspace"}), 1.0, "pause_dispatch");
    let first = t.run_and_spend(&t.agent, "0.999999");
    assert_eq!(t.state(&budget), "ok");
    let waiting = t.s.enqueue(&t.w.owner, &t.agent, "more");
    spend(&t.s, &t.w.owner_daemon, &first, "1", None).expect(200);
    assert_eq!(t.state(&budget), "paused");
    let held = t.s.enqueue(&t.w.owner, &t.agent, "held");
    for _ in 0..3 {
        assert_eq!(
            t.claim(),
            None,
            "claims answer 204 while the budget is spent"
        );
    }
    assert_eq!(t.s.task_status(&waiting), "queued");
    assert_eq!(t.s.task_status(&held), "queued");
    // The claim still counted as a heartbeat.
    let seen: i64 =
        t.s.sql()
            .query_row(
                "SELECT last_seen_at FROM runtime WHERE id = ?1",
                [&t.runtime],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(seen, t.s.now().timestamp_millis());

    // One millisecond before UTC midnight the day is still spent; at midnight it is over.
    t.s.clock()
        .advance(Duration::hours(12) - Duration::milliseconds(1));
    assert_eq!(t.claim(), None);
    t.s.clock().advance(Duration::milliseconds(1));
    assert_eq!(t.state(&budget), "ok");
    // Both were queued in the same (pinned) millisecond: the claim order is by id then.
    let order = t.s.oldest_first("task", &[&waiting, &held]);
    assert_eq!(t.claim().as_ref(), Some(&order[0]));
    assert_eq!(t.claim().as_ref(), Some(&order[1]));
    assert_eq!(t.claim(), None);
}

#[test]
fn raising_the_amount_or_lowering_the_spend_releases_the_hold() {
    let t = start();
    let budget = t.budget(
        json!({"type": "runtime", "id": t.runtime}),
        1.0,
        "pause_dispatch",
    );
    let spent = t.run_and_spend(&t.agent, "1.5");
    let queued = t.s.enqueue(&t.w.owner, &t.agent, "next");
    assert_eq!(t.claim(), None);
    t.s.patch(
        &format!("/api/budgets/{budget}"),
        &t.w.owner,
        json!({"amount_usd": 2}),
    )
    .expect(200);
    assert_eq!(t.state(&budget), "ok");
    assert_eq!(t.claim().as_deref(), Some(queued.as_str()));

    // Spent again, then a re-report lowers the spend under the amount.
    spend(&t.s, &t.w.owner_daemon, &queued, "0.5", None).expect(200);
    assert_eq!(t.state(&budget), "paused");
    let next = t.s.enqueue(&t.w.owner, &t.agent, "after");
    assert_eq!(t.claim(), None);
    spend(&t.s, &t.w.owner_daemon, &spent, "1", None).expect(200);
    assert_eq!(t.state(&budget), "ok");
    assert_eq!(t.claim().as_deref(), Some(next.as_str()));

    // Switching the action to `alert` releases a spent budget too.
    spend(&t.s, &t.w.owner_daemon, &next, "5", None).expect(200);
    assert_eq!(t.state(&budget), "paused");
    t.s.patch(
        &format!("/api/budgets/{budget}"),
        &t.w.owner,
        json!({"action": "alert"}),
    )
    .expect(200);
    assert_eq!(t.state(&budget), "exceeded");
    let free = t.s.enqueue(&t.w.owner, &t.agent, "free");
    assert_eq!(t.claim().as_deref(), Some(free.as_str()));
}

#[test]
fn an_agent_budget_holds_only_that_agents_tasks() {
    let t = start();
    let other = t.s.create_agent(&t.w.owner, &t.runtime, "reviewer");
    t.budget(
        json!({"type": "agent", "id": t.agent}),
        1.0,
        "pause_dispatch",
    );
    // A spent budget of another runtime does not hold this one.
    let elsewhere = t.s.insert_runtime(&t.w.owner_id, "private");
    let far = t.s.create_agent(&t.w.owner, &elsewhere, "far");
    let far_budget = t.budget(
        json!({"type": "runtime", "id": elsewhere}),
        0.5,
        "pause_dispatch",
    );
    let far_task = t.s.enqueue(&t.w.owner, &far, "far");
    assert_eq!(
        t.s.claim(&t.w.owner_daemon, &elsewhere),
        Some(far_task.clone())
    );
    spend(&t.s, &t.w.owner_daemon, &far_task, "0.5", None).expect(200);
    assert_eq!(t.state(&far_budget), "paused");
    let alert_only = t.budget(json!({"type": "workspace"}), 1.2, "alert");
    t.run_and_spend(&t.agent, "1");
    assert_eq!(t.state(&alert_only), "exceeded");
    let held = t.s.enqueue(&t.w.owner, &t.agent, "held");
    let free = t.s.enqueue(&t.w.owner, &other, "free");
    assert_eq!(t.claim().as_deref(), Some(free.as_str()));
    assert_eq!(t.claim(), None);
    assert_eq!(t.s.task_status(&held), "queued");
}

#[test]
fn autopilots_of_held_agents_skip_until_released() {
    let t = start();
    let budget = t.budget(
        json!({"type": "agent", "id": t.agent}),
        1.0,
        "pause_dispatch",
    );
    t.run_and_spend(&t.agent, "1");
    let autopilot =
        t.s.post(
            &format!("/api/workspaces/{}/autopilots", t.s.ws),
            &t.w.owner,
            json!({"name": "nightly", "prompt": "check", "assignee_agent_id": t.agent,
                   "interval_minutes": 5}),
        )
        .expect(201)
        .id();
    let runs = || {
        t.s.count(&format!(
            "SELECT COUNT(*) FROM task WHERE autopilot_id = '{autopilot}'"
        ))
    };
    let next_run = || -> i64 {
        t.s.sql()
            .query_row(
                "SELECT next_run_at FROM autopilot WHERE id = ?1",
                [&autopilot],
                |r| r.get(0),
            )
            .unwrap()
    };
    let due = next_run();
    t.s.clock().advance(Duration::minutes(5));
    wait_until("the held run to be skipped", || next_run() > due);
    assert_eq!(runs(), 0);

    t.s.patch(
        &format!("/api/budgets/{budget}"),
        &t.w.owner,
        json!({"amount_usd": 10}),
    )
    .expect(200);
    t.s.clock().advance(Duration::minutes(5));
    wait_until("the released autopilot to fire", || runs() == 1);
}

/// Polls `cond` until it holds (bounded: the scheduler ticks every 20 ms).
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(StdDuration::from_millis(5));
    }
}
