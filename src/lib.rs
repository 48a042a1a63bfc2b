//! hangar: the control plane for AI coding-agent runtimes — a registry of runtimes and their
//! liveness, the agents and tasks bound to them, a token and cost ledger with reports exact
//! in the viewer's time zone, and safe retirement of runtimes. One synchronous binary on
//! SQLite serving a JSON API and an embedded web UI.
#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod auth;
pub mod bench;
pub mod budgets;
pub mod check;
pub mod checkpointer;
pub mod clock;
pub mod commands;
pub mod config;
pub mod ctx;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod liveness;
pub mod metrics;
pub mod ops;
pub mod registry;
pub mod replica;
pub mod retire;
pub mod scheduler;
pub mod usage;
pub mod wire;
pub mod work;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use config::Config;
use ctx::Ctx;

/// Connections beyond the API workers: background threads and short-lived readers.
const EXTRA_CONNECTIONS: u32 = 8;

/// A running server. Dropping it (or calling `shutdown`) stops it gracefully.
pub struct ServerHandle {
    ctx: Arc<Ctx>,
    http: Option<http::HttpServer>,
    background: Vec<JoinHandle<()>>,
    /// `<db>.lock`, released only after the shutdown checkpoint (fields drop after `drop`).
    _serve_lock: Option<db::file_lock::ServeLock>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.http
            .as_ref()
            .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |h| h.addr)
    }

    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    /// Stops accepting, lets in-flight requests finish, closes streams, joins background
    /// threads and checkpoints the WAL.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.ctx.begin_shutdown();
        if let Some(http) = self.http.take() {
            http.join();
        }
        for t in self.background.drain(..) {
            let _ = t.join();
        }
        if let Err(e) = self.ctx.db.checkpoint() {
            log::warn!("WAL checkpoint at shutdown failed: {e}");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if self.http.is_some() {
            self.stop();
        }
    }
}

/// Opens the database named by `config` and serves the API and UI on `listener`. A
/// read-write server first takes `<db>.lock`; a read-only one (a replica) takes no lock,
/// never migrates and starts no background job that writes.
pub fn serve(listener: TcpListener, config: Config) -> Result<ServerHandle, String> {
    let pricing = load_pricing(&config)?;
    let (serve_lock, mode) = if config.read_only {
        (None, db::OpenMode::ReadOnly)
    } else {
        let lock = db::file_lock::lock_for_serving(&config.db_path)?;
        (Some(lock), db::OpenMode::ReadWrite)
    };
    let pool_size = config.workers as u32 + EXTRA_CONNECTIONS;
    let db = db::Db::open_with(&config.db_path, mode, pool_size, config.wal_autocheckpoint)
        .map_err(|e| format!("cannot open database {}: {e}", config.db_path.display()))?;
    let mut ctx = Ctx::new(db, config);
    ctx.pricing = Arc::new(pricing);
    let ctx = Arc::new(ctx);
    let http = http::HttpServer::start(listener, Arc::clone(&ctx))?;
    let mut handle = ServerHandle {
        ctx,
        http: Some(http),
        background: Vec::new(),
        _serve_lock: serve_lock,
    };
    // On an error below, dropping `handle` stops what was already started.
    if handle.ctx.db.is_read_only() {
        // A replica writes nothing (no sweeper, no scheduler); it follows the file.
        handle.background.push(
            replica::spawn(Arc::clone(&handle.ctx))
                .map_err(|e| format!("cannot start the replica follower: {e}"))?,
        );
    } else {
        handle.background.push(
            liveness::spawn(Arc::clone(&handle.ctx))
                .map_err(|e| format!("cannot start the liveness sweeper: {e}"))?,
        );
        handle
            .background
            .push(scheduler::start(Arc::clone(&handle.ctx))?);
        handle.background.push(
            usage::fold::spawn(Arc::clone(&handle.ctx))
                .map_err(|e| format!("cannot start the usage fold: {e}"))?,
        );
        // With checkpoints left to a replicator (0), nobody here checkpoints.
        if handle.ctx.config.wal_autocheckpoint > 0 {
            handle.background.push(
                checkpointer::spawn(Arc::clone(&handle.ctx))
                    .map_err(|e| format!("cannot start the checkpointer: {e}"))?,
            );
        }
    }
    Ok(handle)
}

/// The price table of `--pricing FILE`, or the built-in one; a bad file stops the start.
fn load_pricing(config: &Config) -> Result<usage::pricing::PriceTable, String> {
    let Some(path) = &config.pricing_file else {
        return Ok(usage::pricing::PriceTable::builtin());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the price table {}: {e}", path.display()))?;
    usage::pricing::PriceTable::from_json(&text)
        .map_err(|e| format!("invalid price table {}: {e}", path.display()))
}
