//! The HTTP edge: a fixed pool of worker threads pulling requests from one
//! `tiny_http::Server`. Per request: route → authenticate → cap and read the body → run the
//! handler under `catch_unwind` (the request stays outside, so a panic still gets its 500)
//! → respond → access log. Only this module tree knows tiny_http.

pub mod api;
pub mod assets;
pub mod request;
pub mod response;
pub mod router;
pub mod sse;
mod unstick;

use std::borrow::Cow;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::auth::{self, Caller, TokenKind};
use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::metrics;
use request::{Req, MAX_BODY_BYTES};
use response::{error_reply, Body, Reply};
use router::Auth;

/// The running HTTP side: the server and its workers.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    ctx: Arc<Ctx>,
    pub addr: SocketAddr,
}

/// How long shutdown waits for event streams to notice it and close their connections.
const STREAM_CLOSE_WAIT: Duration = Duration::from_secs(2);

impl HttpServer {
    /// Starts `ctx.config.workers` workers on an already bound listener.
    pub fn start(listener: TcpListener, ctx: Arc<Ctx>) -> Result<HttpServer, String> {
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tiny_http::Server::from_listener(listener, None).map_err(|e| e.to_string())?;
        let server = Arc::new(server);
        let mut workers: Vec<JoinHandle<()>> = (0..ctx.config.workers.max(1))
            .map(|i| {
                let server = Arc::clone(&server);
                let ctx = Arc::clone(&ctx);
                std::thread::Builder::new()
                    .name(format!("http-{i}"))
                    .spawn(move || worker(&server, &ctx))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        workers.push(unstick::spawn(addr, Arc::clone(&ctx)).map_err(|e| e.to_string())?);
        Ok(HttpServer {
            server,
            workers,
            ctx,
            addr,
        })
    }

    /// Waits for the workers (which exit once shutdown has begun, after the request in hand),
    /// gives event streams (woken by the shutdown) a moment to close their connections, and
    /// closes the listener: dropping the last `Server` stops its accept thread.
    pub fn join(self) {
        // One wake-up per worker, so idle ones need not wait out their poll.
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
        let until = Instant::now() + STREAM_CLOSE_WAIT;
        while self.ctx.events.open_streams() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Serves requests until shutdown begins. A request that finds shutdown under way is refused
/// with 503 rather than served: keep-alive clients send their next request as soon as the
/// previous is answered, so a worker that kept serving would never run out of work. Requests
/// already being handled finish first; those still queued when the worker stops are refused.
fn worker(server: &tiny_http::Server, ctx: &Arc<Ctx>) {
    while !ctx.is_shutting_down() {
        match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(rq)) if ctx.is_shutting_down() => refuse(rq),
            Ok(Some(rq)) => handle(ctx, rq),
            Ok(None) => {}
            Err(e) if ctx.is_shutting_down() => log::debug!("accept after shutdown: {e}"),
            Err(e) => log::warn!("accept failed: {e}"),
        }
    }
    while let Ok(Some(rq)) = server.try_recv() {
        refuse(rq);
    }
}

fn refuse(rq: tiny_http::Request) {
    let err = ApiError::unavailable("shutting_down", "hangar is shutting down");
    answer(rq, error_reply(&err), false);
}

fn handle(ctx: &Arc<Ctx>, mut rq: tiny_http::Request) {
    let started = Instant::now();
    let mut req = Req::from_url(rq.method().as_str(), rq.url());
    req.headers = rq
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut body_read = false;
    let (reply, label) = match dispatch(ctx, &mut rq, &mut req, &mut body_read) {
        Ok((reply, label)) => (reply, label),
        Err((err, label)) => (error_reply(&err), label),
    };
    let reply = match reply.body {
        Body::EventStream(spec) => match sse::take_slot(ctx) {
            Some(slot) => {
                sse::start(slot, rq, spec);
                metrics::record_request(label, 200, started.elapsed());
                let path = loggable(&req.path);
                log::info!(target: "access", "{} {path} 200 stream", req.method);
                return;
            }
            None => error_reply(&ApiError::unavailable(
                "too_many_streams",
                "too many open event streams, try again later",
            )),
        },
        body => Reply { body, ..reply },
    };
    let status = reply.status;
    answer(rq, reply, body_read);
    let took = started.elapsed();
    metrics::record_request(label, status, took);
    let ms = took.as_secs_f64() * 1000.0;
    let path = loggable(&req.path);
    log::info!(target: "access", "{} {path} {status} {ms:.1}ms", req.method);
}

/// The path as the access log shows it. hangar never puts a token in a URL, but a client might
/// by mistake (`/api/tokens/hgr_u_…`), and logs outlive tokens: anything shaped like one is
/// masked.
fn loggable(path: &str) -> Cow<'_, str> {
    if !path.contains(TOKEN_MARK) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find(TOKEN_MARK) {
        out.push_str(&rest[..at]);
        out.push_str("[token redacted]");
        let tail = &rest[at + TOKEN_MARK.len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// What every token starts with (`hgr_u_`, `hgr_d_`).
const TOKEN_MARK: &str = "hgr_";

type Dispatched = Result<(Reply, &'static str), (ApiError, &'static str)>;

/// Everything between the raw request and the reply, in the contract's error order:
/// route (404/405) → 401 → 413 → the handler's own 400/404/403/409. Only writes read a
/// body (GET routes take none), so no unauthenticated request can make a worker wait on a
/// client's body; `body_read` tells the caller whether it was read.
fn dispatch(
    ctx: &Ctx,
    rq: &mut tiny_http::Request,
    req: &mut Req,
    body_read: &mut bool,
) -> Dispatched {
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let is_api = matches!(
        segments.first(),
        Some(&"api") | Some(&"healthz") | Some(&"metrics")
    );
    if !is_api {
        return match req.method.as_str() {
            "GET" => Ok((assets::serve(&req.path), "ui")),
            _ => Err((ApiError::method_not_allowed(vec!["GET"]), "ui")),
        };
    }
    let route = router::resolve(&req.method, &segments).map_err(|e| (e, "unmatched"))?;
    let label = route.pattern;
    // The one place a read-only replica refuses writes, whoever asks.
    if ctx.db.is_read_only() && router::Route::writes(&req.method) {
        return Err((
            ApiError::unavailable(
                "read_only",
                "this hangar is a read-only replica; send writes to the primary",
            ),
            label,
        ));
    }
    let now = ctx.now_ms();
    let authorization = req.header("authorization");
    let caller = match route.auth {
        Auth::Public => Ok(Caller::Anonymous),
        Auth::User => auth::authenticate(&ctx.db, authorization, TokenKind::User, now),
        Auth::Daemon => auth::authenticate(&ctx.db, authorization, TokenKind::Daemon, now),
    }
    .map_err(|e| (e, label))?;
    if rq.body_length().is_some_and(|n| n > route.max_body) {
        return Err((ApiError::payload_too_large(route.max_body), label));
    }
    if router::Route::writes(&req.method) {
        *body_read = true;
        req.body = read_body(rq, route.max_body).map_err(|e| (e, label))?;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| (route.handler)(ctx, &caller, req)));
    match outcome {
        Ok(Ok(reply)) => Ok((reply, label)),
        Ok(Err(e)) => Err((e, label)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err((
                ApiError::internal(format!("handler for {label} panicked: {what}")),
                label,
            ))
        }
    }
}

/// Reads the body (a declared length over the cap was refused before), refusing a body
/// without a declared length after `max + 1` bytes.
fn read_body(rq: &mut tiny_http::Request, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    rq.as_reader()
        .take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| ApiError::invalid_json(format!("could not read the request body: {e}")))?;
    if body.len() > max {
        return Err(ApiError::payload_too_large(max));
    }
    Ok(body)
}

/// Sends `reply`, on this thread unless the client may still owe body bytes.
fn answer(rq: tiny_http::Request, reply: Reply, body_read: bool) {
    if has_unread_body(&rq, body_read) {
        respond_off_worker(rq, reply);
    } else if let Err(e) = send(rq, reply) {
        log::debug!("client went away: {e}");
    }
}

/// Whether body bytes the client declared may still be on the wire: answering such a
/// request drops it, and tiny_http then reads the rest of the body to keep the connection in
/// step — for as long as the client takes to send it.
fn has_unread_body(rq: &tiny_http::Request, body_read: bool) -> bool {
    let chunked = rq
        .headers()
        .iter()
        .any(|h| h.field.equiv("Transfer-Encoding"));
    !body_read && (chunked || rq.body_length().is_some_and(|n| n > 0))
}

/// Largest unread chunked body drained before answering; past it the connection is left to
/// tiny_http, which finds no request line in the rest and closes it.
const MAX_CHUNKED_DRAIN: u64 = 16 * MAX_BODY_BYTES as u64;

/// Answers on a short-lived thread, so a client that declared a body and never sends it
/// (or sends it slowly) holds that thread and its connection, never an API worker. A
/// declared length is answered through tiny_http's `respond`, which writes the answer before
/// dropping the request drains the body, so an oversized body is refused without being read
/// (`send` takes the writer first, and taking it drains). A chunked body is drained first: a
/// partly read one would leave the rest of its data to be parsed as the next request.
fn respond_off_worker(mut rq: tiny_http::Request, reply: Reply) {
    let spawned = std::thread::Builder::new()
        .name("http-drain".into())
        .spawn(move || {
            if rq.body_length().is_none() {
                let drained = std::io::copy(
                    &mut rq.as_reader().take(MAX_CHUNKED_DRAIN),
                    &mut std::io::sink(),
                );
                if let Err(e) = drained {
                    log::debug!("client went away while its body was drained: {e}");
                }
            }
            let (status, headers, bytes) = parts(reply);
            let mut response = tiny_http::Response::from_data(bytes).with_status_code(status);
            for h in headers {
                response.add_header(h);
            }
            if let Err(e) = rq.respond(response) {
                log::debug!("client went away: {e}");
            }
        });
    if let Err(e) = spawned {
        // The closure is dropped with the request: tiny_http answers it with an empty 500.
        log::error!("cannot start a thread to answer a request: {e}");
    }
}

/// Answers `rq` with `reply` in one write. tiny_http's own `respond` writes the head and the
/// body separately, and without TCP_NODELAY (which tiny_http cannot set) Nagle's algorithm then
/// holds any body over about 1 KiB until the client's delayed ACK: 40 ms per response on a
/// keep-alive connection. One buffer, one write, no wait. A HEAD answer carries no body.
fn send(rq: tiny_http::Request, reply: Reply) -> std::io::Result<()> {
    use std::io::Write;
    let (status, headers, bytes) = parts(reply);
    let tiny_http::HTTPVersion(major, minor) = rq.http_version().clone();
    let status = tiny_http::StatusCode(status);
    let mut out = Vec::with_capacity(bytes.len() + 256);
    write!(
        out,
        "HTTP/{major}.{minor} {} {}\r\n",
        status.0,
        status.default_reason_phrase()
    )?;
    for h in headers {
        write!(out, "{h}\r\n")?;
    }
    // 1xx, 204 and 304 carry no body and no length.
    let bodiless = matches!(status.0, 100..=199 | 204 | 304);
    if !bodiless {
        write!(out, "Content-Length: {}\r\n", bytes.len())?;
    }
    out.extend_from_slice(b"\r\n");
    if rq.method() != &tiny_http::Method::Head && !bodiless {
        out.extend_from_slice(&bytes);
    }
    let mut writer = rq.into_writer();
    writer.write_all(&out)?;
    writer.flush()
}

/// A reply's status, headers (Content-Type first) and body bytes.
fn parts(reply: Reply) -> (u16, Vec<tiny_http::Header>, Vec<u8>) {
    let (content_type, bytes) = match reply.body {
        Body::Json(value) => (
            "application/json".to_string(),
            value.to_string().into_bytes(),
        ),
        Body::Text { content_type, text } => (content_type.to_string(), text.into_bytes()),
        Body::Bytes {
            content_type,
            bytes,
        } => (content_type, bytes),
        Body::Empty => (String::new(), Vec::new()),
        Body::EventStream(_) => {
            log::error!("an event stream reached the plain response path");
            (String::new(), Vec::new())
        }
    };
    let content_type =
        (!content_type.is_empty()).then_some(("Content-Type", content_type.as_str()));
    let extra = reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let mut headers = Vec::new();
    for (name, value) in content_type.into_iter().chain(extra) {
        // `Header::from_bytes` refuses what cannot be a header (no CR/LF injection).
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(h) => headers.push(h),
            Err(()) => log::error!("dropped an invalid response header {name:?}"),
        }
    }
    (reply.status, headers, bytes)
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn token_shaped_text_is_masked_in_logged_paths() {
        assert_eq!(loggable("/api/me"), "/api/me");
        assert_eq!(
            loggable("/api/tokens/hgr_u_0a1b2c/x/hgr_d_ff"),
            "/api/tokens/[token redacted]/x/[token redacted]"
        );
        assert_eq!(loggable("/hgr_"), "/[token redacted]");
        assert_eq!(loggable("/a%20hgr_u_9z%2Fb"), "/a%20[token redacted]%2Fb");
    }
}
