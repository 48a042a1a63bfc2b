//! Hostile input: ≥ 10,000 generated malformed requests (seeded, replayable) across every
//! route of the router's own table — broken JSON, wrong types, huge numbers, deep nesting,
//! invalid UTF-8, bad ids in paths and bodies, absurd query parameters, bodies just under and
//! over 1 MiB, odd methods and headers, requests tiny_http cannot even parse — sent with valid
//! tokens of several kinds so most get past auth. Proven: no 5xx, every 4xx hangar sends is
//! `{error, code}`, no panic on any thread, no token in any answer but a creation, the server
//! still answers, and `hangar check` passes on the database afterwards.
//!
//! More: `HANGAR_FUZZ_REQUESTS=200000 HANGAR_FUZZ_SEED=7 cargo test --test hardening_fuzz`.
#[path = "hardening_fuzz/cases.rs"]
mod cases;
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cases::{Case, Fixtures, Framing};
use common::raw::{self, RawClient, RawResp, Rng};
use common::{TestServer, World};

static PANICS: AtomicUsize = AtomicUsize::new(0);

const DEFAULT_REQUESTS: usize = 10_000;
const DEFAULT_SEED: u64 = 0x5eed_f422_4a46_0a12;
const THREADS: u64 = 4;

#[derive(Default)]
struct Tally {
    by_status: BTreeMap<u16, u64>,
    /// Requests tiny_http closed without an answer (it could not parse them).
    closed: u64,
    sent: u64,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, case: &Case, why: String) {
        if self.failures.len() < 30 {
            let head = String::from_utf8_lossy(&case.bytes[..case.bytes.len().min(300)]);
            self.failures.push(format!("{why}\n  request: {head:?}"));
        }
    }
}

#[test]
fn generated_malformed_requests_get_clean_4xx_and_leave_a_sound_database() {
    count_panics();
    let requests = env_number("HANGAR_FUZZ_REQUESTS", DEFAULT_REQUESTS as u64) as usize;
    let seed = env_number("HANGAR_FUZZ_SEED", DEFAULT_SEED);
    // A valid stream request holds a stream slot until its next write fails; the contract's
    // 503 for too many streams is not what this test is about.
    let s = TestServer::start_with(|c| c.max_streams = 1_000_000);
    let w = World::seed(&s);
    let fixtures = Arc::new(Fixtures::make(&s, &w));
    let addr = s.handle().addr();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (fixtures, tally) = (Arc::clone(&fixtures), Arc::clone(&tally));
            let share = requests / THREADS as usize + usize::from(t == 0) * (requests % 4);
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed.wrapping_add(t.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
                let mut client = RawClient::new(addr);
                for _ in 0..share {
                    let case = cases::case(&mut rng, &fixtures);
                    let outcome = match case.framing {
                        Framing::KeepAlive => client.send(&case.bytes),
                        Framing::Alone => raw::once(addr, &case.bytes),
                    };
                    judge(&case, outcome, &mut tally.lock().unwrap());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a fuzz client thread panicked");
    }
    let took = started.elapsed();
    let tally = tally.lock().unwrap();
    eprintln!(
        "fuzz: {} requests (seed {seed:#x}) in {:.1}s; statuses {:?}; closed unanswered {}",
        tally.sent,
        took.as_secs_f64(),
        tally.by_status,
        tally.closed
    );
    assert!(tally.sent >= requests as u64);
    assert!(
        tally.failures.is_empty(),
        "{} bad answers, first ones:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
    // Most requests got past auth into validation, and some went all the way through.
    let count =
        |lo: u16, hi: u16| -> u64 { tally.by_status.range(lo..hi).map(|(_, n)| n).sum::<u64>() };
    assert!(
        count(400, 401) > requests as u64 / 4,
        "{:?}",
        tally.by_status
    );
    assert!(
        count(401, 402) < requests as u64 / 4,
        "{:?}",
        tally.by_status
    );
    assert!(count(200, 300) > 100, "{:?}", tally.by_status);
    assert!(tally.by_status.contains_key(&413), "{:?}", tally.by_status);

    s.get("/healthz", "").expect(200);
    s.get("/api/me", &w.owner).expect(200);
    let outcomes = hangar::ops::check(&s.db_path()).expect("check runs");
    let report = hangar::check::report(&outcomes);
    assert!(outcomes.iter().all(|o| o.passed()), "{report}");
}

/// Whether one answer is acceptable, tallied.
fn judge(case: &Case, outcome: std::io::Result<Option<RawResp>>, t: &mut Tally) {
    t.sent += 1;
    let resp = match outcome {
        Ok(Some(r)) => r,
        Ok(None) if case.unparseable => {
            t.closed += 1;
            return;
        }
        Ok(None) => return t.fail(case, "closed without an answer".into()),
        Err(e) => return t.fail(case, format!("transport error: {e}")),
    };
    *t.by_status.entry(resp.status).or_default() += 1;
    let from_hangar = resp
        .header("Content-Type")
        .is_some_and(|v| v.starts_with("application/json"));
    if resp.status >= 500 {
        return t.fail(case, format!("{} {}", resp.status, resp.text()));
    }
    // A HEAD answer has no body, by HTTP's rules.
    let head = case.bytes.starts_with(b"HEAD ");
    if (400..500).contains(&resp.status) && !head && !resp.is_error_json() {
        // tiny_http answers a request line or header it cannot parse with an empty 400.
        let tiny_http_refusal = case.unparseable && !from_hangar && resp.body.is_empty();
        if !tiny_http_refusal {
            return t.fail(
                case,
                format!("{} without the error shape: {}", resp.status, resp.text()),
            );
        }
    }
    if !case.may_show_token && resp.text().contains("hgr_") {
        t.fail(case, format!("a token in the answer: {}", resp.text()));
    }
}

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        }
        Err(_) => default,
    }
}
