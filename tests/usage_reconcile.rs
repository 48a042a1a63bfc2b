//! Reconciliation against a provider bill (issue 17): a bill with one missing day and one
//! mispriced model flags exactly those rows; bill dates are read in the bill's zone; malformed
//! CSVs name their line and column.
mod common;

use common::ledger::{report, Rig};
use common::{Resp, TestServer, World};
use serde_json::{json, Value};

const NOW: &str = "2026-06-15T12:00:00Z";

fn start() -> (TestServer, World, Rig) {
    let s = TestServer::start_pinned(NOW.parse().unwrap(), |_| {});
    let w = World::seed(&s);
    let rig = Rig::new(&s, &s.ws, &w.owner_id, "claude", "UTC");
    (s, w, rig)
}

fn usage(s: &TestServer, w: &World, rig: &Rig, at: &str, model: &str, input: i64) {
    let task = rig.new_task(s, &s.ws);
    report(
        s,
        &w.owner_daemon,
        &task,
        json!([{"provider": "claude", "model": model, "input_tokens": input,
                "output_tokens": input / 10, "occurred_at": at}]),
    )
    .expect(200);
}

fn reconcile(s: &TestServer, token: &str, query: &str, csv: &str) -> Resp {
    let auth = format!("Bearer {token}");
    s.raw(
        "POST",
        &format!("/api/workspaces/{}/usage/reconcile?{query}", s.ws),
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        Some(csv.as_bytes()),
    )
}

/// The ledger's cost of (date, model) as decimal text, from the daily report.
fn ledger_cost(s: &TestServer, token: &str, tz: &str, date: &str, model: &str) -> f64 {
    let path = format!("/api/workspaces/{}/usage/daily?days=30&tz={tz}", s.ws);
    let body = s.get(&path, token).expect(200).body;
    body.as_array()
        .unwrap()
        .iter()
        .find(|r| r["date"] == date && r["model"] == model)
        .and_then(|r| r["cost_usd"].as_f64())
        .unwrap_or_else(|| panic!("no {date} {model} in {body}"))
}

fn flagged(body: &Value) -> Vec<(String, String)> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["flagged"] == json!(true))
        .map(|r| {
            (
                r["date"].as_str().unwrap().to_string(),
                r["model"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_missing_day_and_a_mispriced_model_are_exactly_the_flagged_rows() {
    let (s, w, rig) = start();
    for day in ["01", "02", "03"] {
        usage(
            &s,
            &w,
            &rig,
            &format!("2026-06-{day}T10:00:00Z"),
            "claude-sonnet-5",
            1000,
        );
    }
    for day in ["01", "03"] {
        usage(
            &s,
            &w,
            &rig,
            &format!("2026-06-{day}T11:00:00Z"),
            "claude-opus-4-5",
            2000,
        );
    }
    let cost = |date: &str, model: &str| ledger_cost(&s, &w.owner, "UTC", date, model);
    let bill = format!(
        "date,model,invoice_ref,cost_usd\n\
         2026-06-01,claude-sonnet-5,A1,{}\n\
         2026-06-01,claude-opus-4-5,A1,{}\n\
         2026-06-03,claude-sonnet-5,A3,{}\n\
         2026-06-03,claude-opus-4-5,A3,{}\n",
        cost("2026-06-01", "claude-sonnet-5"),
        cost("2026-06-01", "claude-opus-4-5"),
        cost("2026-06-03", "claude-sonnet-5"),
        cost("2026-06-03", "claude-opus-4-5") * 1.5,
    );
    let body = reconcile(&s, &w.member, "tz=UTC&tolerance_pct=0.5", &bill)
        .expect(200)
        .body;
    assert_eq!(
        flagged(&body),
        vec![
            ("2026-06-02".to_string(), "claude-sonnet-5".to_string()),
            ("2026-06-03".to_string(), "claude-opus-4-5".to_string()),
        ],
        "{body}"
    );
    assert_eq!(body["rows"].as_array().unwrap().len(), 5);
    assert_eq!(body["dates_only_in_ledger"], json!(["2026-06-02"]));
    assert_eq!(body["dates_only_in_bill"], json!([]));
    assert_eq!(body["models_only_in_bill"], json!([]));
    let exact = &body["rows"][0];
    assert_eq!(exact["cost_diff_ticks"], json!(0), "{exact}");

    // A split line of the bill is summed and reported; the sum matches, so nothing new is flagged.
    let half = cost("2026-06-01", "claude-sonnet-5") / 2.0;
    let split = bill.replacen(
        &format!(
            "2026-06-01,claude-sonnet-5,A1,{}\n",
            cost("2026-06-01", "claude-sonnet-5")
        ),
        &format!("2026-06-01,claude-sonnet-5,A1,{half}\n2026-06-01,claude-sonnet-5,A2,{half}\n"),
        1,
    );
    let body = reconcile(&s, &w.member, "tz=UTC&tolerance_pct=0.5", &split)
        .expect(200)
        .body;
    assert_eq!(flagged(&body).len(), 2, "{body}");
    assert_eq!(
        body["duplicates"],
        json!([{"date": "2026-06-01", "model": "claude-sonnet-5", "lines": [2, 3]}])
    );
    reconcile(&s, &w.outsider, "", &bill).expect_error(404, "not_found");
}

#[test]
fn a_kolkata_bill_is_compared_by_kolkata_dates() {
    let (s, w, rig) = start();
    // 20:00 UTC on 1 June is 01:30 on 2 June in Kolkata.
    usage(
        &s,
        &w,
        &rig,
        "2026-06-01T20:00:00Z",
        "claude-sonnet-5",
        1000,
    );
    let cost = ledger_cost(
        &s,
        &w.owner,
        "Asia/Kolkata",
        "2026-06-02",
        "claude-sonnet-5",
    );
    let bill = format!("date,model,cost_usd\n2026-06-02,claude-sonnet-5,{cost}\n");
    let body = reconcile(&s, &w.owner, "tz=Asia/Kolkata", &bill)
        .expect(200)
        .body;
    assert_eq!(body["timezone"], "Asia/Kolkata");
    assert_eq!(flagged(&body), vec![], "{body}");
    assert_eq!(body["rows"][0]["cost_diff_ticks"], json!(0));
    // Read as UTC, the same bill finds nothing on 2 June.
    let body = reconcile(&s, &w.owner, "tz=UTC", &bill).expect(200).body;
    assert_eq!(
        flagged(&body),
        vec![("2026-06-02".to_string(), "claude-sonnet-5".to_string())]
    );
    assert_eq!(body["dates_only_in_bill"], json!(["2026-06-02"]));
}

#[test]
fn malformed_bills_get_their_line_and_column_named() {
    let (s, w, _) = start();
    let cases: &[(&str, i64, &str)] = &[
        ("model,cost_usd\nm,1\n", 1, "date"),
        (
            "date,model,input_tokens\n2026-06-01,m,1\n",
            1,
            "output_tokens",
        ),
        (
            "date,model,cost_usd\n2026-06-01,m,1\n2026-06-02,m,1x\n",
            3,
            "cost_usd",
        ),
        (
            "date,model,cost_usd\n2026-06-01,m,1\n06/02/2026,m,1\n",
            3,
            "date",
        ),
        (
            "date,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens\n\
             2026-06-01,m,1,2,3,-4\n",
            2,
            "cache_write_tokens",
        ),
    ];
    for (csv, line, column) in cases {
        let r = reconcile(&s, &w.owner, "", csv).expect_error(400, "invalid_csv");
        assert_eq!(
            (r.body["line"].as_i64(), r.body["column"].as_str()),
            (Some(*line), Some(*column)),
            "{csv}: {}",
            r.text
        );
        assert!(
            r.text.contains(&format!("line {line}, column {column}")),
            "{}",
            r.text
        );
    }
    reconcile(&s, &w.owner, "tolerance_pct=-1", "date,model,cost_usd\n")
        .expect_error(400, "invalid_field");
}

#[test]
fn a_bill_of_several_mebibytes_is_read_and_one_over_five_is_refused() {
    let (s, w, rig) = start();
    usage(
        &s,
        &w,
        &rig,
        "2026-06-01T10:00:00Z",
        "claude-sonnet-5",
        1000,
    );
    let cost = ledger_cost(&s, &w.owner, "UTC", "2026-06-01", "claude-sonnet-5");
    // One real row padded with an ignored column to about 4 MiB: past the 1 MiB JSON cap.
    let note = "x".repeat(4 * 1024 * 1024);
    let bill = format!("date,model,note,cost_usd\n2026-06-01,claude-sonnet-5,{note},{cost}\n");
    let body = reconcile(&s, &w.member, "tz=UTC", &bill).expect(200).body;
    assert_eq!(flagged(&body), Vec::<(String, String)>::new(), "{body}");
    assert_eq!(body["rows"].as_array().map(Vec::len), Some(1), "{body}");
    let over = "x".repeat(5 * 1024 * 1024 + 1);
    let r = reconcile(&s, &w.member, "tz=UTC", &over);
    r.expect_error(413, "payload_too_large");
}
