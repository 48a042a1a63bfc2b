//! SQL for operations: a standalone connection for `backup` and `check` (never migrates,
//! never writes the source), the online copy (`VACUUM INTO`), integrity and foreign-key
//! checks, the queries behind hangar's own invariants, and the gauges `/metrics` reads.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags};

use super::{Conn, DbError, DbResult, BUSY_TIMEOUT_MS};

/// A connection of its own to a database file, outside any pool or server.
pub struct Standalone {
    conn: Connection,
}

impl Standalone {
    /// Opens an existing file without migrating it; refuses one written by a newer hangar.
    pub fn open(path: &Path) -> DbResult<Standalone> {
        if !path.is_file() {
            return Err(DbError::Other(format!("no database at {}", path.display())));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| DbError::Other(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))?;
        super::migrate::check_version(&conn)?;
        Ok(Standalone { conn })
    }

    pub fn conn(&self) -> Conn<'_> {
        Conn(&self.conn)
    }

    /// Runs `f` in one read transaction, as `Db::read` does: a server may write (and fold
    /// usage deltas into the rollups) meanwhile, and every statement of `f` must see one
    /// snapshot.
    pub fn read<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        super::read_in_snapshot(&mut self.conn, f)
    }
}

/// Writes a consistent copy of the database to `target`, which must not exist. `VACUUM
/// INTO` reads one snapshot (a WAL read transaction, so writers carry on meanwhile) and
/// writes it out in a single pass, unlike a page-by-page backup, which restarts whenever the
/// source changes and may never finish under load.
pub fn vacuum_into(c: &Conn, target: &Path) -> DbResult<()> {
    let target = target
        .to_str()
        .ok_or_else(|| DbError::Other(format!("path {} is not UTF-8", target.display())))?;
    c.raw().execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// `PRAGMA user_version`: the schema step the file is at.
pub fn schema_version(c: &Conn) -> DbResult<i64> {
    Ok(c.raw().query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The problems `PRAGMA integrity_check` reports (at most `limit`); empty when sound.
pub fn integrity_problems(c: &Conn, limit: u32) -> DbResult<Vec<String>> {
    let mut stmt = c
        .raw()
        .prepare(&format!("PRAGMA integrity_check({limit})"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let lines: Vec<String> = rows.collect::<Result<_, _>>()?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

/// A row whose foreign key points at nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DanglingReference {
    pub table: String,
    pub rowid: Option<i64>,
    pub parent: String,
}

pub fn foreign_key_violations(c: &Conn, limit: usize) -> DbResult<Vec<DanglingReference>> {
    let mut stmt = c.raw().prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| {
        Ok(DanglingReference {
            table: r.get(0)?,
            rowid: r.get(1)?,
            parent: r.get(2)?,
        })
    })?;
    Ok(rows.take(limit).collect::<Result<_, _>>()?)
}

/// Row counts of every hangar table, by name.
pub fn table_counts(c: &Conn) -> DbResult<Vec<(String, i64)>> {
    let mut stmt = c.raw().prepare(
        "SELECT name FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|name| {
            let quoted = name.replace('"', "\"\"");
            let n = c
                .raw()
                .query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
                    r.get(0)
                })?;
            Ok((name, n))
        })
        .collect()
}

/// A task still queued, dispatched or running although its agent is archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanedTask {
    pub task_id: String,
    pub status: String,
    pub agent_id: String,
}

pub fn active_tasks_on_archived_agents(c: &Conn, limit: i64) -> DbResult<Vec<OrphanedTask>> {
    let mut stmt = c.raw().prepare(
        "SELECT t.id, t.status, a.id FROM task t JOIN agent a ON a.id = t.agent_id
         WHERE a.archived_at IS NOT NULL AND t.status IN ('queued', 'dispatched', 'running')
         ORDER BY t.created_at LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(OrphanedTask {
            task_id: r.get(0)?,
            status: r.get(1)?,
            agent_id: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The highest event id present and the AUTOINCREMENT high-water mark (`sqlite_sequence`);
/// either is 0 when there is none.
pub fn event_id_marks(c: &Conn) -> DbResult<(i64, i64)> {
    Ok(c.raw().query_row(
        "SELECT (SELECT coalesce(max(id), 0) FROM event),
                (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'event')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Events whose `created_at` is more than `tolerance_ms` before that of an event with a
/// smaller id: (id, created_at, the latest created_at among smaller ids). At most `limit`.
pub fn events_out_of_time_order(
    c: &Conn,
    tolerance_ms: i64,
    limit: i64,
) -> DbResult<Vec<(i64, i64, i64)>> {
    let mut stmt = c.raw().prepare(
        "SELECT id, created_at, latest FROM (
             SELECT id, created_at,
                    max(created_at) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING
                                                           AND 1 PRECEDING) AS latest
             FROM event)
         WHERE created_at < latest - ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![tolerance_ms, limit], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// (status, count) of runtimes.
pub fn runtimes_by_status(c: &Conn) -> DbResult<Vec<(String, i64)>> {
    count_by_status(c, "SELECT status, count(*) FROM runtime GROUP BY status")
}

/// (status, count) of tasks.
pub fn tasks_by_status(c: &Conn) -> DbResult<Vec<(String, i64)>> {
    count_by_status(c, "SELECT status, count(*) FROM task GROUP BY status")
}

fn count_by_status(c: &Conn, sql: &str) -> DbResult<Vec<(String, i64)>> {
    let mut stmt = c.raw().prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The database's size in bytes (pages × page size; the WAL is not counted).
pub fn size_bytes(c: &Conn) -> DbResult<i64> {
    Ok(c.raw().query_row(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        [],
        |r| r.get(0),
    )?)
}
