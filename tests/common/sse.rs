//! A minimal event-stream client on a raw `TcpStream` with read timeouts, so tests can ask
//! "did an event arrive within N ms" and see comments, status and headers as sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One `id`/`event`/`data` frame; `data` parsed as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

/// What the next read produced.
#[derive(Debug)]
pub enum Frame {
    Event(SseEvent),
    Comment(String),
    /// Nothing within the timeout.
    Timeout,
    /// The server closed the stream.
    Closed,
}

pub struct SseClient {
    reader: BufReader<TcpStream>,
    pending: Vec<u8>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body of a non-200 answer, as JSON.
    pub error: Value,
}

impl SseClient {
    /// `GET path` with the given headers; reads the status line and headers.
    pub fn open(base: &str, path: &str, headers: &[(&str, &str)]) -> SseClient {
        let addr = base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect");
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).expect("send request");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("header line");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut client = SseClient {
            reader,
            pending: Vec::new(),
            status,
            headers,
            error: Value::Null,
        };
        if status != 200 {
            let mut body = String::new();
            let _ = client.reader.read_to_string(&mut body);
            client.error = serde_json::from_str(&body).unwrap_or(Value::Null);
        }
        client
    }

    /// An authenticated stream of `ws`, optionally resuming after `last_event_id`.
    pub fn connect(base: &str, ws: &str, token: &str, last_event_id: Option<i64>) -> SseClient {
        let auth = format!("Bearer {token}");
        let last = last_event_id.map(|id| id.to_string());
        let mut headers = vec![("Authorization", auth.as_str())];
        if let Some(last) = &last {
            headers.push(("Last-Event-ID", last.as_str()));
        }
        SseClient::open(
            base,
            &format!("/api/workspaces/{ws}/events/stream"),
            &headers,
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next frame (event or comment) within `timeout`.
    pub fn next_frame(&mut self, timeout: Duration) -> Frame {
        let deadline = Instant::now() + timeout;
        let mut lines: Vec<String> = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Frame::Timeout;
            }
            self.reader
                .get_ref()
                .set_read_timeout(Some(left))
                .expect("timeout");
            // Partial lines survive a timeout in `pending`.
            match self.reader.read_until(b'\n', &mut self.pending) {
                Ok(0) => return Frame::Closed,
                Ok(_) if !self.pending.ends_with(b"\n") => return Frame::Closed,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Frame::Timeout
                }
                Err(_) => return Frame::Closed,
            }
            let line = String::from_utf8(std::mem::take(&mut self.pending)).expect("utf-8");
            let line = line.trim_end_matches('\n').to_string();
            if !line.is_empty() {
                lines.push(line);
                continue;
            }
            if lines.is_empty() {
                continue;
            }
            if let Some(comment) = lines[0].strip_prefix(':') {
                return Frame::Comment(comment.trim().to_string());
            }
            return Frame::Event(parse_event(&lines));
        }
    }

    /// The next event within `timeout`, skipping comments; `None` on timeout or close.
    pub fn next_event(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_frame(deadline.saturating_duration_since(Instant::now())) {
                Frame::Event(e) => return Some(e),
                Frame::Comment(_) => continue,
                Frame::Timeout | Frame::Closed => return None,
            }
        }
    }

    /// Exactly `n` events, each within `timeout` of the previous one.
    pub fn take(&mut self, n: usize, timeout: Duration) -> Vec<SseEvent> {
        (0..n)
            .map(|i| {
                self.next_event(timeout)
                    .unwrap_or_else(|| panic!("event {} of {n} did not arrive", i + 1))
            })
            .collect()
    }
}

fn parse_event(lines: &[String]) -> SseEvent {
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
            .to_string()
    };
    SseEvent {
        id: field("id").parse().expect("numeric id"),
        event: field("event"),
        data: serde_json::from_str(&field("data")).expect("JSON data"),
    }
}
