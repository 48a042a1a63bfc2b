//! The in-process metrics registry behind `GET /metrics`: HTTP request counts and latency
//! histograms by route, tokens ingested by kind, and open event streams. Process-wide (one
//! `serve` per process, as Prometheus expects of a target), updated with a short mutex or an
//! atomic, read as a snapshot that `http/api/metrics.rs` renders. Gauges that live in the
//! database (runtimes, tasks, size) are read there at scrape time, not kept here.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds (`+Inf` is implied).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// What one route has seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteStats {
    /// Responses by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests per latency bucket (not cumulative); the last slot is above every bound.
    pub buckets: [u64; LATENCY_BUCKETS.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
}

/// A copy of the registry at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// By route label (the router's pattern, or `ui` / `unmatched`).
    pub http: BTreeMap<&'static str, RouteStats>,
    pub tokens_ingested: BTreeMap<String, u64>,
    pub sse_clients: i64,
}

static HTTP: Mutex<BTreeMap<&'static str, RouteStats>> = Mutex::new(BTreeMap::new());
static TOKENS_INGESTED: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
static SSE_CLIENTS: AtomicI64 = AtomicI64::new(0);

/// Counters stay usable after a panic elsewhere: a poisoned lock still holds valid numbers.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records one answered request.
pub fn record_request(route: &'static str, status: u16, took: Duration) {
    let seconds = took.as_secs_f64();
    let bucket = LATENCY_BUCKETS
        .iter()
        .position(|bound| seconds <= *bound)
        .unwrap_or(LATENCY_BUCKETS.len());
    let mut http = lock(&HTTP);
    let stats = http.entry(route).or_default();
    *stats.by_status.entry(status).or_default() += 1;
    stats.buckets[bucket] += 1;
    stats.sum_seconds += seconds;
    stats.count += 1;
}

/// Adds `n` ingested tokens of `kind` (`input`, `output`, `cache_read`, `cache_write`).
pub fn add_tokens_ingested(kind: &str, n: u64) {
    let mut tokens = lock(&TOKENS_INGESTED);
    match tokens.get_mut(kind) {
        Some(total) => *total += n,
        None => {
            tokens.insert(kind.to_string(), n);
        }
    }
}

/// An event stream opened.
pub fn sse_clients_inc() {
    SSE_CLIENTS.fetch_add(1, Ordering::Relaxed);
}

/// An event stream closed.
pub fn sse_clients_dec() {
    SSE_CLIENTS.fetch_sub(1, Ordering::Relaxed);
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        http: lock(&HTTP).clone(),
        tokens_ingested: lock(&TOKENS_INGESTED).clone(),
        sse_clients: SSE_CLIENTS.load(Ordering::Relaxed).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The registry is process-wide and unit tests run in parallel, so each test uses its own
    // route label or token kind and compares before/after.

    #[test]
    fn a_request_lands_in_its_status_and_the_first_bucket_that_holds_it() {
        let route = "/test/metrics/buckets";
        record_request(route, 200, Duration::from_micros(2_000));
        record_request(route, 404, Duration::from_millis(25));
        record_request(route, 200, Duration::from_secs(60));
        let stats = &snapshot().http[route];
        assert_eq!(stats.by_status, BTreeMap::from([(200, 2), (404, 1)]));
        assert_eq!(stats.count, 3);
        assert_eq!(stats.buckets[1], 1, "2 ms ≤ 2.5 ms");
        assert_eq!(stats.buckets[4], 1, "25 ms is on the 25 ms bound");
        assert_eq!(stats.buckets[LATENCY_BUCKETS.len()], 1, "60 s is above all");
        assert!((stats.sum_seconds - 60.027).abs() < 1e-9);
    }

    #[test]
    fn tokens_add_up_by_kind() {
        add_tokens_ingested("test_kind", 5);
        add_tokens_ingested("test_kind", 7);
        assert_eq!(snapshot().tokens_ingested["test_kind"], 12);
    }

    #[test]
    fn sse_clients_count_open_streams() {
        let before = snapshot().sse_clients;
        sse_clients_inc();
        sse_clients_inc();
        sse_clients_dec();
        assert_eq!(snapshot().sse_clients, before + 1);
        sse_clients_dec();
    }
}
