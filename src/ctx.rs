//! `Ctx`: what every worker and background thread shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::budgets::kept::KeptSpend;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Before, Db, DbError, Tx};
use crate::events::EventHub;
use crate::usage::pricing::PriceTable;

pub struct Ctx {
    pub db: Db,
    pub events: EventHub,
    pub config: Config,
    /// The price table in force (`--pricing FILE` or the built-in one).
    pub pricing: Arc<PriceTable>,
    /// The rollup sums budget evaluation keeps across usage reports.
    pub kept_spend: Arc<KeptSpend>,
    shutting_down: AtomicBool,
}

impl Ctx {
    pub fn new(db: Db, config: Config) -> Ctx {
        let kept_spend = Arc::new(KeptSpend::new(&db));
        Ctx {
            db,
            events: EventHub::default(),
            config,
            pricing: Arc::new(PriceTable::builtin()),
            kept_spend,
            shutting_down: AtomicBool::new(false),
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.config.clock.as_ref()
    }

    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// One write transaction; on commit, event streams are woken (they re-read the table).
    pub fn write<T, E: From<DbError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let out = self.db.write_tx(f)?;
        self.events.wake();
        Ok(out)
    }

    /// `write` for a change that may share its transaction and commit with other callers'
    /// (`Db::write_grouped`): the high-rate daemon writes.
    pub fn write_grouped<T, E, F>(&self, change: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Tx) -> Result<T, E> + Send + 'static,
    {
        let out = self.db.write_grouped(change)?;
        self.events.wake();
        Ok(out)
    }

    /// `write` for a transaction touching tens of megabytes (`Db::write_tx_large`).
    pub fn write_large<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Tx, Before) -> Result<T, E>,
    ) -> Result<T, E> {
        let out = self.db.write_tx_large(f)?;
        self.events.wake();
        Ok(out)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.events.wake();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Sleeps for `period` in short steps; returns false as soon as shutdown begins.
    pub fn sleep_unless_shutdown(&self, period: Duration) -> bool {
        let until = Instant::now() + period;
        while !self.is_shutting_down() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        false
    }
}
