//! Budget-test fixtures: creating budgets, spending exact amounts through usage reports, and
//! reading the threshold announcements back from the event table.

use serde_json::{json, Value};

use super::ledger::report;
use super::{Resp, TestServer};

/// `POST /api/workspaces/{ws}/budgets` with `body` as `token`.
pub fn create(s: &TestServer, ws: &str, token: &str, body: Value) -> Resp {
    s.post(&format!("/api/workspaces/{ws}/budgets"), token, body)
}

/// A budget of `amount_usd` per `period` in `timezone` over `scope`; returns its id.
pub fn budget(
    s: &TestServer,
    token: &str,
    scope: Value,
    amount_usd: f64,
    period: &str,
    timezone: &str,
) -> String {
    create(
        s,
        &s.ws,
        token,
        json!({"scope": scope, "amount_usd": amount_usd, "period": period, "timezone": timezone}),
    )
    .expect(201)
    .id()
}

/// Reports `cost_usd` (a decimal text, sent as a JSON number) as the whole usage of `task`
/// with model `m`, at `occurred_at` when given (else the server's now).
pub fn spend(
    s: &TestServer,
    daemon: &str,
    task: &str,
    cost_usd: &str,
    occurred_at: Option<&str>,
) -> Resp {
    let mut entry: Value = serde_json::from_str(&format!(
        r#"{{"model": "m", "input_tokens": 1, "output_tokens": 1, "cost_usd": {cost_usd}}}"#
    ))
    .expect("a cost is a JSON number");
    if let Some(at) = occurred_at {
        entry["occurred_at"] = json!(at);
    }
    report(s, daemon, task, json!([entry]))
}

/// One `budget:threshold_crossed` event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub budget: String,
    pub threshold: i64,
    pub spent_usd: f64,
    pub period_start: String,
}

/// Every `budget:threshold_crossed` event, oldest first.
pub fn crossings(s: &TestServer) -> Vec<Crossing> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT payload FROM event WHERE type = 'budget:threshold_crossed' ORDER BY id")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query");
    rows.map(|r| {
        let p: Value = serde_json::from_str(&r.expect("row")).expect("payload");
        Crossing {
            budget: p["budget"]["id"].as_str().expect("budget id").to_string(),
            threshold: p["threshold"].as_i64().expect("threshold"),
            spent_usd: p["spent_usd"].as_f64().expect("spent_usd"),
            period_start: p["period_start"]
                .as_str()
                .expect("period_start")
                .to_string(),
        }
    })
    .collect()
}

/// The thresholds announced for `budget`, in order.
pub fn thresholds_announced(s: &TestServer, budget: &str) -> Vec<i64> {
    crossings(s)
        .into_iter()
        .filter(|c| c.budget == budget)
        .map(|c| c.threshold)
        .collect()
}

/// `GET /api/budgets/{id}/status` as `token`.
pub fn status(s: &TestServer, token: &str, budget: &str) -> Value {
    s.get(&format!("/api/budgets/{budget}/status"), token)
        .expect(200)
        .body
}
