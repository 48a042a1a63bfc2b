//! `GET /metrics`: the Prometheus text exposition (format 0.0.4) of the in-process registry
//! (`crate::metrics`) plus gauges read from the database at scrape time. No auth, like
//! `/healthz`: it carries counts, never names or ids.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db::{self, DbResult};
use crate::error::ApiError;
use crate::http::request::Req;
use crate::http::response::Reply;
use crate::metrics::{self, Snapshot, LATENCY_BUCKETS};

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every status the schema allows, so each series exists (at 0) from the first scrape.
const RUNTIME_STATUSES: [&str; 2] = ["online", "offline"];
const TASK_STATUSES: [&str; 6] = [
    "queued",
    "dispatched",
    "running",
    "completed",
    "failed",
    "cancelled",
];

/// What the database contributes to a scrape.
struct DbGauges {
    runtimes: Vec<(String, i64)>,
    tasks: Vec<(String, i64)>,
    size_bytes: i64,
}

pub fn get(ctx: &Ctx, _: &Caller, _: &Req) -> Result<Reply, ApiError> {
    let gauges = ctx.db.read(|c| -> DbResult<DbGauges> {
        Ok(DbGauges {
            runtimes: db::maintenance::runtimes_by_status(c)?,
            tasks: db::maintenance::tasks_by_status(c)?,
            size_bytes: db::maintenance::size_bytes(c)?,
        })
    })?;
    Ok(Reply::text(
        200,
        CONTENT_TYPE,
        render(&metrics::snapshot(), &gauges),
    ))
}

fn render(snap: &Snapshot, gauges: &DbGauges) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "hangar_http_requests_total",
        "counter",
        "HTTP requests answered, by route pattern and status.",
    );
    for (route, stats) in &snap.http {
        for (status, n) in &stats.by_status {
            let labels = format!("route=\"{}\",status=\"{status}\"", escape(route));
            sample(&mut out, "hangar_http_requests_total", &labels, *n as f64);
        }
    }
    header(
        &mut out,
        "hangar_http_request_duration_seconds",
        "histogram",
        "Time from reading a request to having answered it, by route pattern.",
    );
    for (route, stats) in &snap.http {
        let route = format!("route=\"{}\"", escape(route));
        let mut cumulative = 0;
        for (i, count) in stats.buckets.iter().enumerate() {
            cumulative += count;
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let labels = format!("{route},le=\"{le}\"");
            let name = "hangar_http_request_duration_seconds_bucket";
            sample(&mut out, name, &labels, cumulative as f64);
        }
        let name = "hangar_http_request_duration_seconds";
        sample(&mut out, &format!("{name}_sum"), &route, stats.sum_seconds);
        sample(
            &mut out,
            &format!("{name}_count"),
            &route,
            stats.count as f64,
        );
    }
    by_status(
        &mut out,
        "hangar_runtimes",
        "Registered runtimes, by status.",
        &RUNTIME_STATUSES,
        &gauges.runtimes,
    );
    by_status(
        &mut out,
        "hangar_tasks",
        "Tasks, by status.",
        &TASK_STATUSES,
        &gauges.tasks,
    );
    header(
        &mut out,
        "hangar_usage_tokens_ingested_total",
        "counter",
        "Tokens recorded from usage reports, by kind.",
    );
    for (kind, n) in &snap.tokens_ingested {
        let labels = format!("kind=\"{}\"", escape(kind));
        sample(
            &mut out,
            "hangar_usage_tokens_ingested_total",
            &labels,
            *n as f64,
        );
    }
    header(
        &mut out,
        "hangar_sse_clients",
        "gauge",
        "Open event streams.",
    );
    sample(&mut out, "hangar_sse_clients", "", snap.sse_clients as f64);
    header(
        &mut out,
        "hangar_db_size_bytes",
        "gauge",
        "Size of the database (page count times page size; the WAL is not counted).",
    );
    sample(
        &mut out,
        "hangar_db_size_bytes",
        "",
        gauges.size_bytes as f64,
    );
    out
}

/// A gauge by `status`: every known status (0 when absent), then any other the table holds.
fn by_status(out: &mut String, name: &str, help: &str, known: &[&str], counts: &[(String, i64)]) {
    header(out, name, "gauge", help);
    let mut all: BTreeMap<&str, i64> = known.iter().map(|s| (*s, 0)).collect();
    for (status, n) in counts {
        all.insert(status, *n);
    }
    for (status, n) in all {
        let labels = format!("status=\"{}\"", escape(status));
        sample(out, name, &labels, n as f64);
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: f64) {
    let _ = if labels.is_empty() {
        writeln!(out, "{name} {value}")
    } else {
        writeln!(out, "{name}{{{labels}}} {value}")
    };
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_zero_filled_statuses_and_escaped_labels() {
        let mut snap = Snapshot::default();
        let mut stats = metrics::RouteStats::default();
        stats.by_status.insert(200, 3);
        stats.buckets[0] = 2;
        stats.buckets[2] = 1;
        stats.count = 3;
        stats.sum_seconds = 0.004;
        snap.http.insert("/healthz", stats);
        snap.tokens_ingested.insert("in\"put".into(), 7);
        let gauges = DbGauges {
            runtimes: vec![("online".into(), 2)],
            tasks: Vec::new(),
            size_bytes: 4096,
        };
        let text = render(&snap, &gauges);
        for line in [
            "hangar_http_requests_total{route=\"/healthz\",status=\"200\"} 3",
            "hangar_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 2",
            "hangar_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 2",
            "hangar_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 3",
            "hangar_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3",
            "hangar_http_request_duration_seconds_sum{route=\"/healthz\"} 0.004",
            "hangar_http_request_duration_seconds_count{route=\"/healthz\"} 3",
            "hangar_runtimes{status=\"online\"} 2",
            "hangar_runtimes{status=\"offline\"} 0",
            "hangar_tasks{status=\"cancelled\"} 0",
            "hangar_usage_tokens_ingested_total{kind=\"in\\\"put\"} 7",
            "hangar_sse_clients 0",
            "hangar_db_size_bytes 4096",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
