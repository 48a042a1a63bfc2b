//! A small keep-alive HTTP/1.1 load generator on `std::net::TcpStream`: N client threads,
//! each on one connection, send requests built by a closure until a duration has passed or a
//! request count is reached, and the report gives throughput and latency percentiles. It
//! speaks just enough HTTP for hangar's own responses (Content-Length or chunked bodies), so
//! benchmarks run anywhere without wrk or oha.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::bench::Figure;

/// One request to send.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/api/me`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(path: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            ..Request::default()
        }
    }

    /// A request with a JSON body.
    pub fn json(method: &str, path: &str, body: &serde_json::Value) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Request {
        self.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
        self
    }
}

/// A response as the client read it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("response is not JSON: {e}"))
    }
}

/// One keep-alive connection. Also handy for a benchmark's setup calls.
pub struct Client {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("set_nodelay: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| format!("set_read_timeout: {e}"))?;
        Ok(Client {
            addr,
            reader: BufReader::new(stream),
        })
    }

    /// Sends `rq` and reads the whole response; the connection stays open for the next one.
    pub fn send(&mut self, rq: &Request) -> Result<Response, String> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            rq.method,
            rq.path,
            self.addr,
            rq.body.len()
        );
        for (name, value) in &rq.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&rq.body);
        let stream = self.reader.get_mut();
        stream
            .write_all(&bytes)
            .map_err(|e| format!("send {} {}: {e}", rq.method, rq.path))?;
        read_response(&mut self.reader).map_err(|e| format!("{} {}: {e}", rq.method, rq.path))
    }
}

fn read_line(reader: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed".into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_response(reader: &mut BufReader<TcpStream>) -> Result<Response, String> {
    let status_line = read_line(reader)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|e| format!("length: {e}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length.unwrap_or(0)];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("body: {e}"))?;
        body
    };
    Ok(Response { status, body })
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader)?;
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_line:?}: {e}"))?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("chunk: {e}"))?;
        read_line(reader)?;
    }
}

/// When a load run stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Elapsed(Duration),
    /// This many requests in total, across all clients.
    Requests(u64),
}

/// Which request a client is about to send: its index and the run-wide sequence number.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    pub client: usize,
    pub seq: u64,
}

/// The outcome of a load run.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub requests: u64,
    pub elapsed: Duration,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Transport failures (a client stops at its first one).
    pub failures: Vec<String>,
    /// Every latency in microseconds, sorted.
    latencies_us: Vec<u64>,
}

impl LoadReport {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0..=1), in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = (q * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }

    /// Responses whose status is not 2xx.
    pub fn non_2xx(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    /// The standard figures: requests, throughput, p50/p90/p99/max latency, non-2xx.
    pub fn figures(&self) -> Vec<Figure> {
        vec![
            Figure::new("requests", self.requests as f64, ""),
            Figure::new("throughput", self.throughput(), "req/s"),
            Figure::new("p50", self.latency_ms(0.50), "ms"),
            Figure::new("p90", self.latency_ms(0.90), "ms"),
            Figure::new("p99", self.latency_ms(0.99), "ms"),
            Figure::new("max", self.latency_ms(1.0), "ms"),
            Figure::new("non_2xx", self.non_2xx() as f64, ""),
        ]
    }
}

/// Runs `clients` keep-alive connections against `addr` until `until`, each sending
/// `make(turn)`. Fails if any client could not connect or lost its connection.
pub fn run<F>(addr: SocketAddr, clients: usize, until: Until, make: F) -> Result<LoadReport, String>
where
    F: Fn(Turn) -> Request + Sync,
{
    let issued = AtomicU64::new(0);
    let started = Instant::now();
    let deadline = match until {
        Until::Elapsed(d) => Some(started + d),
        Until::Requests(_) => None,
    };
    let next = || -> Option<u64> {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let seq = issued.fetch_add(1, Ordering::Relaxed);
        match until {
            Until::Requests(n) if seq >= n => None,
            _ => Some(seq),
        }
    };
    let outcomes: Vec<ClientOutcome> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients.max(1))
            .map(|client| {
                let make = &make;
                let next = &next;
                scope.spawn(move || drive(addr, client, next, make))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join().unwrap_or_else(|_| ClientOutcome {
                    failure: Some("client thread panicked".into()),
                    ..ClientOutcome::default()
                })
            })
            .collect()
    });
    let elapsed = started.elapsed();
    let mut report = LoadReport {
        requests: 0,
        elapsed,
        statuses: BTreeMap::new(),
        failures: Vec::new(),
        latencies_us: Vec::new(),
    };
    for o in outcomes {
        report.latencies_us.extend(o.latencies_us);
        for (status, n) in o.statuses {
            *report.statuses.entry(status).or_default() += n;
        }
        report.failures.extend(o.failure);
    }
    report.requests = report.latencies_us.len() as u64;
    report.latencies_us.sort_unstable();
    match report.failures.first() {
        Some(f) => Err(format!(
            "{} of {clients} load clients failed; first: {f}",
            report.failures.len()
        )),
        None => Ok(report),
    }
}

#[derive(Default)]
struct ClientOutcome {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    failure: Option<String>,
}

fn drive(
    addr: SocketAddr,
    client: usize,
    next: &dyn Fn() -> Option<u64>,
    make: &dyn Fn(Turn) -> Request,
) -> ClientOutcome {
    let mut out = ClientOutcome::default();
    let mut conn = match Client::connect(addr) {
        Ok(c) => c,
        Err(e) => {
            out.failure = Some(e);
            return out;
        }
    };
    while let Some(seq) = next() {
        let rq = make(Turn { client, seq });
        let sent = Instant::now();
        match conn.send(&rq) {
            Ok(resp) => {
                out.latencies_us.push(sent.elapsed().as_micros() as u64);
                *out.statuses.entry(resp.status).or_default() += 1;
            }
            Err(e) => {
                out.failure = Some(e);
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(latencies_us: Vec<u64>) -> LoadReport {
        LoadReport {
            requests: latencies_us.len() as u64,
            elapsed: Duration::from_secs(2),
            statuses: BTreeMap::from([(200, 90), (503, 10)]),
            failures: Vec::new(),
            latencies_us,
        }
    }

    #[test]
    fn percentiles_pick_the_nearest_rank_of_the_sorted_latencies() {
        let r = report((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(r.latency_ms(0.5), 51.0);
        assert_eq!(r.latency_ms(0.9), 90.0);
        assert_eq!(r.latency_ms(0.99), 99.0);
        assert_eq!(r.latency_ms(1.0), 100.0);
        assert_eq!(r.throughput(), 50.0);
        assert_eq!(r.non_2xx(), 10);
        assert_eq!(report(Vec::new()).latency_ms(0.5), 0.0);
    }
}
