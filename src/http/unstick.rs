//! A workaround for a race in tiny_http 0.12's connection pool (`util/task_pool.rs`): when
//! two connections arrive while only one pool thread is idle, both are queued for that one
//! thread, and the second waits until some thread finishes a connection. With keep-alive
//! clients (daemons, event streams) holding every thread, that wait can last forever.
//!
//! A new connection that finds no idle thread gets a fresh one, which after serving it takes
//! the next queued connection. So this thread opens and at once closes a connection to our
//! own listener every `PERIOD`: a stranded connection waits at most about that long, and an
//! empty connection costs tiny_http one read of EOF. No request is made, so nothing reaches
//! the API workers, the access log or the metrics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ctx::Ctx;

const PERIOD: Duration = Duration::from_millis(100);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);

/// Starts the thread; it stops once shutdown begins.
pub fn spawn(listening_on: SocketAddr, ctx: Arc<Ctx>) -> std::io::Result<JoinHandle<()>> {
    let target = reachable(listening_on);
    std::thread::Builder::new()
        .name("http-unstick".into())
        .spawn(move || {
            while ctx.sleep_unless_shutdown(PERIOD) {
                // Failure only means the listener is busy or closing; the next tick retries.
                let _ = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT);
            }
        })
}

/// A wildcard listen address is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_become_loopback() {
        let any: SocketAddr = "0.0.0.0:7070".parse().unwrap();
        assert_eq!(reachable(any), "127.0.0.1:7070".parse().unwrap());
        let any6: SocketAddr = "[::]:7070".parse().unwrap();
        assert_eq!(reachable(any6), "[::1]:7070".parse().unwrap());
        let exact: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(reachable(exact), exact);
    }
}
