//! Settings of a running server. The CLI fills them from flags and `HANGAR_*` variables;
//! tests build them with `Config::new` and override what they need.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

#[derive(Clone)]
pub struct Config {
    pub db_path: PathBuf,
    /// API worker threads.
    pub workers: usize,
    /// A runtime silent for longer than this is offline.
    pub offline_after: Duration,
    /// How often the liveness sweeper runs.
    pub sweep_interval: Duration,
    /// In-flight tasks on a runtime offline longer than this fail with `runtime_offline`.
    pub reconnect_grace: Duration,
    /// A price table file replacing the built-in one.
    pub pricing_file: Option<PathBuf>,
    pub event_retention_days: u32,
    /// How often the autopilot scheduler looks for due autopilots.
    pub scheduler_tick: Duration,
    /// How often the deltas that usage reports defer are folded into the rollups.
    pub usage_fold_interval: Duration,
    /// Maximum concurrent event streams; more answer 503.
    pub max_streams: usize,
    pub clock: Arc<dyn Clock>,
    /// `PRAGMA wal_autocheckpoint` of every connection, a backstop behind the background
    /// checkpointer; 0 leaves checkpoints to a replicator (and starts no checkpointer).
    pub wal_autocheckpoint: u32,
    /// Serve a replica: open the file read-only, refuse writes, run no background jobs.
    pub read_only: bool,
}

impl Config {
    pub fn new(db_path: impl Into<PathBuf>) -> Config {
        Config {
            db_path: db_path.into(),
            workers: default_workers(),
            offline_after: Duration::from_secs(150),
            sweep_interval: Duration::from_secs(30),
            reconnect_grace: Duration::from_secs(3 * 3600),
            pricing_file: None,
            event_retention_days: 7,
            scheduler_tick: Duration::from_secs(1),
            usage_fold_interval: Duration::from_millis(100),
            max_streams: 64,
            clock: Arc::new(SystemClock),
            wal_autocheckpoint: crate::db::DEFAULT_WAL_AUTOCHECKPOINT,
            read_only: false,
        }
    }
}

/// max(4, 2 × cores).
pub fn default_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores).max(4)
}
