//! A small HTTP/1.1 client on `std::net::TcpStream`, for what ureq will not send (invalid
//! UTF-8 paths, odd methods and headers, bodies declared and never sent) and for fast
//! keep-alive loops: requests are raw bytes, responses are parsed just enough (status,
//! headers, a body by Content-Length or chunked).
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long any read may wait before the client gives up on the server.
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct RawResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the body is the contract's error shape: `{"error": "...", "code": "..."}`.
    pub fn is_error_json(&self) -> bool {
        self.json().is_some_and(|v| {
            v["error"].as_str().is_some_and(|s| !s.is_empty())
                && v["code"].as_str().is_some_and(|s| !s.is_empty())
        })
    }
}

/// Builds request bytes: the request line, `Host`, the given headers, `Content-Length` when
/// there is a body, then the body. `path` is bytes so it may be anything.
pub fn request(method: &str, path: &[u8], headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 256);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: hangar.test\r\n");
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// One keep-alive connection that reconnects when the server closed it.
pub struct RawClient {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl RawClient {
    pub fn new(addr: SocketAddr) -> RawClient {
        RawClient { addr, conn: None }
    }

    /// Sends one request and reads its response. `Ok(None)`: the server closed the
    /// connection without answering (what tiny_http does with a request it cannot parse).
    /// An event stream's head is returned without its (endless) body, and the connection
    /// is dropped.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<Option<RawResp>> {
        if self.conn.is_none() {
            self.conn = Some(connect(self.addr)?);
        }
        let head_only = bytes.starts_with(b"HEAD ");
        let conn = self.conn.as_mut().expect("connected");
        let outcome = conn
            .get_mut()
            .write_all(bytes)
            .and_then(|()| read_response(conn, head_only));
        match &outcome {
            Ok(Some(r)) if !keeps_alive(r) => self.conn = None,
            Ok(Some(_)) => {}
            _ => self.conn = None,
        }
        outcome
    }
}

pub fn connect(addr: SocketAddr) -> io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

/// Sends `bytes` on a fresh connection, closes the sending side (so a server waiting for
/// more body or header bytes sees the end of them) and reads one response.
pub fn once(addr: SocketAddr, bytes: &[u8]) -> io::Result<Option<RawResp>> {
    let mut conn = connect(addr)?;
    conn.get_mut().write_all(bytes)?;
    conn.get_ref().shutdown(std::net::Shutdown::Write)?;
    read_response(&mut conn, bytes.starts_with(b"HEAD "))
}

fn keeps_alive(r: &RawResp) -> bool {
    let close = r
        .header("Connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let stream = r
        .header("Content-Type")
        .is_some_and(|v| v.starts_with("text/event-stream"));
    !close && !stream
}

/// Reads one final response (skipping `100 Continue`); `Ok(None)` on a clean close before
/// any byte of a status line.
pub fn read_response(
    conn: &mut BufReader<TcpStream>,
    head_only: bool,
) -> io::Result<Option<RawResp>> {
    loop {
        let mut line = Vec::new();
        if conn.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {text:?}")))?;
        let headers = read_headers(conn)?;
        let mut resp = RawResp {
            status,
            headers,
            body: Vec::new(),
        };
        if (100..200).contains(&status) {
            continue;
        }
        let is_stream = resp
            .header("Content-Type")
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if head_only || status == 204 || status == 304 || is_stream {
            return Ok(Some(resp));
        }
        let chunked = resp
            .header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        resp.body = if chunked {
            read_chunked(conn)?
        } else if let Some(n) = resp.header("Content-Length") {
            let n: usize = n.trim().parse().map_err(|_| bad("bad Content-Length"))?;
            let mut body = vec![0; n];
            conn.read_exact(&mut body)?;
            body
        } else {
            let mut body = Vec::new();
            conn.read_to_end(&mut body)?;
            body
        };
        return Ok(Some(resp));
    }
}

fn read_headers(conn: &mut BufReader<TcpStream>) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if conn.read_until(b'\n', &mut line)? == 0 {
            return Err(bad("connection closed inside the headers"));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            return Ok(headers);
        }
        if let Some((k, v)) = text.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

fn read_chunked(conn: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, up to the blank line.
            read_headers(conn)?;
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        conn.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        conn.read_exact(&mut crlf)?;
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A small deterministic PRNG (xorshift64*), so a failing fuzz run can be replayed from its
/// seed without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
