//! The database: an r2d2 pool of SQLite connections, per-connection pragmas, schema
//! migrations and the write paths (`write_tx`; `write_grouped` for changes that may share a
//! commit). Only this module tree contains SQL or names rusqlite types; callers get `Conn`
//! (reads) and `Tx` (a write transaction). A read-only replica (`OpenMode::ReadOnly`) has no
//! pool: it opens a connection per read.

mod group;
mod migrate;

pub mod agents;
pub mod autopilots;
pub mod budgets;
pub mod events;
pub mod file_lock;
pub mod maintenance;
pub mod members;
pub mod prices;
pub mod retire;
pub mod runtimes;
pub mod squads;
pub mod tasks;
pub mod tokens;
pub mod usage;
pub mod users;
pub mod workspaces;

use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use migrate::SCHEMA_VERSION;

/// How long a connection waits for another process's write lock before `Busy`.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

/// SQLite's default page cache per connection (`PRAGMA cache_size = -2000`), in KiB.
const DEFAULT_CACHE_KIB: i64 = 2_000;
/// The page cache of a large write transaction, in KiB (64 MiB).
const LARGE_TX_CACHE_KIB: i64 = 65_536;

/// A writer checkpoints the WAL itself once it holds this many pages (40 MiB of 4 KiB pages).
/// A server's background checkpointer normally keeps it far shorter, so that a commit never
/// waits for a checkpoint's copying and fsync while holding the write lock.
pub const DEFAULT_WAL_AUTOCHECKPOINT: u32 = 10_000;

/// A database error in terms every backend can produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    NotFound,
    Unique(String),
    ForeignKey(String),
    Busy,
    /// The file was written by a newer hangar; it is left untouched.
    TooNew {
        found: i64,
        supported: i64,
    },
    /// A read-only open found an older schema, which it may not migrate.
    TooOld {
        found: i64,
        supported: i64,
    },
    /// A write was attempted on a database opened read-only.
    ReadOnly,
    Other(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::NotFound => write!(f, "row not found"),
            DbError::Unique(m) => write!(f, "unique constraint violated: {m}"),
            DbError::ForeignKey(m) => write!(f, "foreign key constraint violated: {m}"),
            DbError::Busy => write!(f, "database is busy"),
            DbError::TooNew { found, supported } => write!(
                f,
                "database schema version {found} is newer than this hangar supports ({supported}); \
                 upgrade hangar or use another database file"
            ),
            DbError::TooOld { found, supported } => write!(
                f,
                "database schema version {found} is older than this hangar's ({supported}) and a \
                 read-only server does not migrate; upgrade the primary first"
            ),
            DbError::ReadOnly => write!(f, "the database is open read-only"),
            DbError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match &e {
            rusqlite::Error::QueryReturnedNoRows => DbError::NotFound,
            rusqlite::Error::SqliteFailure(err, msg) => {
                let msg = msg.clone().unwrap_or_else(|| err.to_string());
                match err.code {
                    ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Busy,
                    ErrorCode::ConstraintViolation => match err.extended_code {
                        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => DbError::Unique(msg),
                        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DbError::ForeignKey(msg),
                        _ => DbError::Other(msg),
                    },
                    _ => DbError::Other(msg),
                }
            }
            _ => DbError::Other(e.to_string()),
        }
    }
}

impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        DbError::Other(format!("connection pool: {e}"))
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A connection for reads (and, behind `Tx`, for writes inside a transaction).
pub struct Conn<'a>(&'a Connection);

impl Conn<'_> {
    fn raw(&self) -> &Connection {
        self.0
    }
}

/// An open IMMEDIATE write transaction. Dereferences to `Conn` so reads can share it.
pub struct Tx<'a>(Conn<'a>);

impl<'a> Deref for Tx<'a> {
    type Target = Conn<'a>;
    fn deref(&self) -> &Conn<'a> {
        &self.0
    }
}

/// How a database file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file if needed and migrate it to the current schema.
    ReadWrite,
    /// The file must exist; it is migrated to the current schema.
    Existing,
    /// The file must exist at exactly the current schema; nothing is ever written to it.
    ReadOnly,
}

/// Reads, on reader connections, of the committed state that a running write transaction
/// began from, without its changes: the writer holds the write lock until it commits, so
/// nothing can commit in between. It lets a big transaction read on another core what it
/// is about to change (see `write_tx_large`); only valid while that transaction runs.
#[derive(Clone, Copy)]
pub struct Before<'a>(&'a Db);

impl Before<'_> {
    pub fn read<T, E: From<DbError>>(&self, f: impl FnOnce(&Conn) -> Result<T, E>) -> Result<T, E> {
        self.0.read(f)
    }
}

/// Where connections come from.
enum Connections {
    /// Reads take a pooled connection; writes take the one writer connection, whose mutex is
    /// the process-wide write lock. One writer keeps its page cache across transactions: in
    /// WAL mode a commit empties every *other* connection's cache, so writes spread over the
    /// pool would each start cold and read their pages back from the file.
    Pool {
        readers: r2d2::Pool<SqliteConnectionManager>,
        writer: Mutex<Connection>,
    },
    /// A read-only replica opens one connection per read and closes it after: a replicator
    /// (Litestream's follow mode) rewrites the file under an exclusive lock that any
    /// connection left open would hold off, and whose changes a cached page would hide.
    PerRead(PathBuf),
}

/// The shared handle: a pool of readers plus the one writer.
pub struct Db {
    connections: Connections,
    /// Write transactions committed so far: tells the checkpointer whether the WAL grew.
    commits: AtomicU64,
    /// Write transactions and savepoints the writer rolled back so far (`rollbacks`).
    rollbacks: Arc<AtomicU64>,
    /// Every pooled connection's `wal_autocheckpoint`, restored after a large transaction.
    wal_autocheckpoint: u32,
    /// Changes waiting to share a transaction (`write_grouped`).
    group: group::Group,
}

impl Db {
    /// Opens the database at `path` with a pool of `pool_size` connections and SQLite's
    /// default `wal_autocheckpoint`.
    pub fn open(path: &Path, mode: OpenMode, pool_size: u32) -> DbResult<Db> {
        Db::open_with(path, mode, pool_size, DEFAULT_WAL_AUTOCHECKPOINT)
    }

    /// Opens (and, unless read-only, migrates) the database at `path`; every pooled
    /// connection gets `PRAGMA wal_autocheckpoint = wal_autocheckpoint` (0 leaves
    /// checkpoints to a replicator).
    pub fn open_with(
        path: &Path,
        mode: OpenMode,
        pool_size: u32,
        wal_autocheckpoint: u32,
    ) -> DbResult<Db> {
        if mode == OpenMode::ReadOnly {
            return Db::open_read_only(path);
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if mode == OpenMode::ReadWrite {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let init = move |conn: &mut Connection| configure(conn, wal_autocheckpoint);
        let open = || {
            Connection::open_with_flags(path, flags)
                .map_err(|e| DbError::Other(format!("cannot open {}: {e}", path.display())))
        };
        // WAL and migrations once, on a connection of their own: closing it, the only one
        // open, checkpoints them into the database file.
        {
            let mut conn = open()?;
            init(&mut conn)?;
            migrate::check_version(&conn)?;
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(DbError::Other(format!("could not enable WAL (got {mode})")));
            }
            migrate::run(&conn)?;
        }
        let mut writer = open()?;
        init(&mut writer)?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(flags)
            .with_init(init);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)?;
        Ok(Db {
            connections: Connections::Pool {
                readers: pool,
                writer: Mutex::new(writer),
            },
            commits: AtomicU64::new(0),
            rollbacks: Arc::default(),
            wal_autocheckpoint,
            group: group::Group::default(),
        })
    }

    /// A replica's handle: the file must exist and carry exactly this hangar's schema.
    fn open_read_only(path: &Path) -> DbResult<Db> {
        if !path.exists() {
            return Err(DbError::Other(format!("no database at {}", path.display())));
        }
        let conn = connect_read_only(path)?;
        migrate::check_version(&conn)?;
        migrate::require_current(&conn)?;
        Ok(Db {
            connections: Connections::PerRead(path.to_path_buf()),
            commits: AtomicU64::new(0),
            rollbacks: Arc::default(),
            wal_autocheckpoint: 0,
            group: group::Group::default(),
        })
    }

    /// True for a replica opened with `OpenMode::ReadOnly`.
    pub fn is_read_only(&self) -> bool {
        matches!(self.connections, Connections::PerRead(_))
    }

    fn pool(&self) -> DbResult<&r2d2::Pool<SqliteConnectionManager>> {
        match &self.connections {
            Connections::Pool { readers, .. } => Ok(readers),
            Connections::PerRead(_) => Err(DbError::ReadOnly),
        }
    }

    /// Runs `f` on a connection, a pooled one or on a replica a fresh one closed as soon as
    /// `f` returns, in one read transaction: every statement of `f` sees the same snapshot.
    /// That matters since the usage fold moves deltas from `usage_pending` into the rollups:
    /// a report reading the two in different snapshots could count a delta twice or never.
    pub fn read<T, E: From<DbError>>(&self, f: impl FnOnce(&Conn) -> Result<T, E>) -> Result<T, E> {
        match &self.connections {
            Connections::Pool { readers, .. } => {
                let mut conn = readers.get().map_err(DbError::from)?;
                read_in_snapshot(&mut conn, f)
            }
            Connections::PerRead(path) => {
                // The follower's file is briefly missing while the replicator recreates it:
                // a moment to wait out (503), not a server fault.
                if !path.exists() {
                    return Err(DbError::Busy.into());
                }
                let mut conn = connect_read_only(path)?;
                read_in_snapshot(&mut conn, f)
            }
        }
    }

    /// Runs `f` inside one IMMEDIATE transaction: commit when it returns `Ok`, roll back on
    /// `Err` or panic (the guard rolls back on drop, so a panicking handler never returns a
    /// connection to the pool still holding the write lock).
    pub fn write_tx<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_tx_sized(false, f)
    }

    /// `write_tx` for a transaction that touches tens of megabytes of pages (a runtime's
    /// teardown). Its connection meanwhile gets a `LARGE_TX_CACHE_KIB` page cache, so dirty
    /// pages are not spilled to the WAL mid-transaction and read back, and no
    /// autocheckpoint: the commit would cross the backstop and copy the whole WAL into the
    /// database before answering, which the background checkpointer does after it instead.
    /// Both settings are restored after the commit (freeing the extra, by then clean, pages).
    /// `f` also gets `Before`, to read the state the transaction began from on other threads.
    pub fn write_tx_large<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Tx, Before) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_tx_sized(true, |tx| f(tx, Before(self)))
    }

    fn write_tx_sized<T, E: From<DbError>>(
        &self,
        large: bool,
        f: impl FnOnce(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.lock_writer()?;
        if large {
            Self::tune(&conn, LARGE_TX_CACHE_KIB, 0).map_err(DbError::from)?;
        }
        // Counts the rollback of a change that fails or panics, once its transaction is undone.
        let mut rollback = CountsRollback {
            db: self,
            committed: false,
        };
        let out = Self::commit_with(&mut conn, f);
        rollback.committed = out.is_ok();
        drop(rollback);
        if large {
            if let Err(e) = Self::tune(&conn, DEFAULT_CACHE_KIB, self.wal_autocheckpoint) {
                log::warn!("could not restore the connection's settings: {e}");
            }
        }
        let out = out?;
        self.count_commit();
        Ok(out)
    }

    fn count_commit(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a rolled-back write (a whole transaction, or one change's savepoint).
    fn count_rollback(&self) {
        self.rollbacks.fetch_add(1, Ordering::SeqCst);
    }

    /// How many writes the writer has rolled back, kept current: whoever keeps what a write
    /// transaction read (`budgets::kept`) can tell whether some of it was undone since.
    pub fn rollbacks(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.rollbacks)
    }

    fn tune(conn: &Connection, cache_kib: i64, wal_autocheckpoint: u32) -> rusqlite::Result<()> {
        conn.pragma_update(None, "cache_size", -cache_kib)?;
        conn.pragma_update(None, "wal_autocheckpoint", wal_autocheckpoint)
    }

    fn commit_with<T, E: From<DbError>>(
        conn: &mut Connection,
        f: impl FnOnce(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let out = f(&Tx(Conn(&txn)))?;
        txn.commit().map_err(DbError::from)?;
        Ok(out)
    }

    /// How many write transactions this handle has committed.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// The writer, locked; a poisoned lock is recovered, since the transaction it guarded
    /// was rolled back by its guard.
    fn lock_writer(&self) -> DbResult<MutexGuard<'_, Connection>> {
        match &self.connections {
            Connections::Pool { writer, .. } => Ok(writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())),
            Connections::PerRead(_) => Err(DbError::ReadOnly),
        }
    }

    /// A passive WAL checkpoint (the background checkpointer's, and at shutdown); a replica
    /// never checkpoints.
    pub fn checkpoint(&self) -> DbResult<()> {
        if self.is_read_only() {
            return Ok(());
        }
        let conn = self.pool()?.get()?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Counts a rollback (`Db::rollbacks`) when dropped before its write committed.
struct CountsRollback<'a> {
    db: &'a Db,
    committed: bool,
}

impl Drop for CountsRollback<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.db.count_rollback();
        }
    }
}

/// Runs `f` in a deferred transaction of `conn`, ended by dropping it (nothing to undo).
pub(super) fn read_in_snapshot<T, E: From<DbError>>(
    conn: &mut Connection,
    f: impl FnOnce(&Conn) -> Result<T, E>,
) -> Result<T, E> {
    let snapshot = conn.transaction().map_err(DbError::from)?;
    f(&Conn(&snapshot))
}

/// The `VALUES` list of a multi-row insert: `rows` groups of `per_row` placeholders.
pub(crate) fn value_rows(rows: usize, per_row: usize) -> String {
    vec![format!("({})", vec!["?"; per_row].join(", ")); rows].join(", ")
}

/// Per-connection pragmas: busy_timeout first, so the others already wait politely.
fn configure(conn: &mut Connection, wal_autocheckpoint: u32) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))?;
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
    conn.pragma_update(None, "wal_autocheckpoint", wal_autocheckpoint)?;
    // The writer alone runs a few dozen distinct statements per request mix (rollup
    // upserts per scope, events, lookups); rusqlite's default keeps 16.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// A replica's connection: read-only at the file level, waiting out the replicator's
/// exclusive lock rather than failing at once.
fn connect_read_only(path: &Path) -> DbResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| DbError::Other(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))?;
    Ok(conn)
}

/// A round-trip to the database, for health checks.
pub fn ping(c: &Conn) -> DbResult<()> {
    c.raw().query_row("SELECT 1", [], |_| Ok(()))?;
    Ok(())
}

/// The `PRAGMA application_id` of an existing file, read without migrating or writing it.
pub fn application_id_of(path: &Path) -> DbResult<i64> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn.query_row("PRAGMA application_id", [], |r| r.get(0))?)
}

impl Db {
    pub fn set_application_id(&self, id: i64) -> DbResult<()> {
        let conn = self.pool()?.get()?;
        conn.pragma_update(None, "application_id", id)?;
        Ok(())
    }
}

/// (foreign_keys, synchronous, busy_timeout) as this connection has them, for tests and checks.
pub fn pragmas(c: &Conn) -> DbResult<(i64, i64, i64)> {
    let get = |p: &str| -> DbResult<i64> {
        Ok(c.raw()
            .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))?)
    };
    Ok((
        get("foreign_keys")?,
        get("synchronous")?,
        get("busy_timeout")?,
    ))
}

/// This connection's `PRAGMA wal_autocheckpoint`, for tests and checks.
pub fn wal_autocheckpoint(c: &Conn) -> DbResult<i64> {
    Ok(c.raw()
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?)
}

/// This connection's `PRAGMA cache_size` (negative: KiB), for tests and checks.
pub fn cache_size(c: &Conn) -> DbResult<i64> {
    Ok(c.raw().query_row("PRAGMA cache_size", [], |r| r.get(0))?)
}

#[cfg(test)]
pub(crate) mod test_support {
    use rusqlite::Connection;

    /// An in-memory database at the current schema.
    pub fn migrated() -> Connection {
        let conn = Connection::open_in_memory().expect("in-memory database");
        super::migrate::run(&conn).expect("migrations");
        conn
    }

    /// SQLite's plan for `sql` (parameters left unbound, i.e. NULL), one detail per line.
    pub fn query_plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("plannable SQL");
        let mut rows = stmt.raw_query();
        let mut details = Vec::new();
        while let Some(row) = rows.next().expect("plan row") {
            details.push(row.get::<_, String>(3).expect("plan text"));
        }
        details.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_runs_on_the_one_writer_while_reads_use_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("w.db"), OpenMode::ReadWrite, 3).unwrap();
        let marked = |c: &Conn| -> DbResult<i64> {
            Ok(c.raw().query_row(
                "SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'",
                [],
                |r| r.get(0),
            )?)
        };
        // A temporary table lives on one connection only. Created by a write made while a
        // read holds a pooled connection, it is seen by the next write, never by a read.
        db.read(|_| {
            db.write_tx(|tx| {
                Ok::<_, DbError>(tx.raw().execute_batch("CREATE TEMP TABLE marker(x)")?)
            })
        })
        .unwrap();
        assert_eq!(db.write_tx(|tx| marked(tx)).unwrap(), 1);
        assert_eq!(db.read(|c| marked(c)).unwrap(), 0);
    }

    #[test]
    fn a_write_that_fails_or_panics_counts_a_rollback_and_a_commit_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("r.db"), OpenMode::ReadWrite, 1).unwrap();
        let rollbacks = || db.rollbacks().load(Ordering::SeqCst);
        let insert = |tx: &Tx| -> DbResult<()> {
            tx.raw().execute(
                "INSERT INTO usage_model (provider, model) VALUES ('p', 'm')",
                [],
            )?;
            Ok(())
        };
        db.write_tx(insert).unwrap();
        assert_eq!(rollbacks(), 0);
        let failed = db.write_tx(|tx| {
            insert(tx)?; // the same row again: refused by its UNIQUE key
            Ok::<_, DbError>(())
        });
        assert!(failed.is_err());
        assert_eq!(rollbacks(), 1);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.write_tx(|tx| -> DbResult<()> {
                tx.raw().execute("DELETE FROM usage_model", [])?;
                panic!("a change panics mid-transaction")
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(rollbacks(), 2);
        let models: i64 = db
            .read(|c| {
                Ok::<_, DbError>(c.raw().query_row(
                    "SELECT count(*) FROM usage_model",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(models, 1, "the panicking change was rolled back");
    }
}
