//! SQL for `runtime`: the registry rows. Registration, liveness and retirement add their own
//! statements here.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub id: String,
    pub workspace_id: String,
    pub daemon_id: Option<String>,
    pub name: String,
    pub provider: String,
    pub runtime_mode: String,
    pub device_info: String,
    /// JSON object text.
    pub metadata: String,
    pub owner_id: Option<String>,
    pub visibility: String,
    pub timezone: String,
    pub status: String,
    pub last_seen_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const COLUMNS: &str =
    "id, workspace_id, daemon_id, name, provider, runtime_mode, device_info, \
     metadata, owner_id, visibility, timezone, status, last_seen_at, created_at, updated_at";

pub(super) fn from_row(r: &Row) -> rusqlite::Result<Runtime> {
    Ok(Runtime {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        daemon_id: r.get(2)?,
        name: r.get(3)?,
        provider: r.get(4)?,
        runtime_mode: r.get(5)?,
        device_info: r.get(6)?,
        metadata: r.get(7)?,
        owner_id: r.get(8)?,
        visibility: r.get(9)?,
        timezone: r.get(10)?,
        status: r.get(11)?,
        last_seen_at: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Runtime>> {
    let sql = format!("SELECT {COLUMNS} FROM runtime WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// Runtimes of a workspace, oldest first; only `owner_id`'s when given.
pub fn list(c: &Conn, workspace_id: &str, owner_id: Option<&str>) -> DbResult<Vec<Runtime>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM runtime WHERE workspace_id = ?1 AND (?2 IS NULL OR owner_id = ?2)
         ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map(params![workspace_id, owner_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert(tx: &Tx, rt: &Runtime) -> DbResult<()> {
    tx.raw().execute(
        &format!("INSERT INTO runtime ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        params![
            rt.id,
            rt.workspace_id,
            rt.daemon_id,
            rt.name,
            rt.provider,
            rt.runtime_mode,
            rt.device_info,
            rt.metadata,
            rt.owner_id,
            rt.visibility,
            rt.timezone,
            rt.status,
            rt.last_seen_at,
            rt.created_at,
            rt.updated_at
        ],
    )?;
    Ok(())
}

/// Records a sign of life: `online`, `last_seen_at = now`. Returns the status it had before
/// (`None` when the runtime does not exist), so callers can announce a return from offline.
pub fn mark_seen(tx: &Tx, id: &str, now: i64) -> DbResult<Option<String>> {
    let before: Option<String> = tx
        .raw()
        .prepare_cached("SELECT status FROM runtime WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if before.is_some() {
        tx.raw().execute(
            "UPDATE runtime SET status = 'online', last_seen_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(before)
}

/// One runtime as a daemon registers it. `None` fields keep a re-registered runtime's value
/// (and take the column default for a new one).
pub struct Registered<'a> {
    pub new_id: &'a str,
    pub workspace_id: &'a str,
    pub owner_id: &'a str,
    pub daemon_id: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub runtime_mode: Option<&'a str>,
    pub device_info: Option<&'a str>,
    /// JSON object text.
    pub metadata: Option<&'a str>,
}

/// Inserts the runtime, or updates the one with the same (workspace, daemon_id, provider):
/// name, mode, device info and metadata change, it becomes `online` and seen at `now`;
/// visibility and timezone are never touched. The update only applies to a runtime of the
/// same owner — for another owner's it writes nothing and returns `None`.
pub fn upsert_registered(tx: &Tx, r: &Registered, now: i64) -> DbResult<Option<Runtime>> {
    let sql = format!(
        "INSERT INTO runtime ({COLUMNS}) VALUES
           (?1, ?2, ?3, ?4, ?5, COALESCE(?6, 'local'), COALESCE(?7, ''), COALESCE(?8, '{{}}'),
            ?9, 'private', 'UTC', 'online', ?10, ?10, ?10)
         ON CONFLICT (workspace_id, daemon_id, provider) DO UPDATE SET
           name = excluded.name,
           runtime_mode = COALESCE(?6, runtime.runtime_mode),
           device_info = COALESCE(?7, runtime.device_info),
           metadata = COALESCE(?8, runtime.metadata),
           status = 'online',
           last_seen_at = excluded.last_seen_at,
           updated_at = excluded.updated_at
         WHERE runtime.owner_id = excluded.owner_id
         RETURNING {COLUMNS}"
    );
    Ok(tx
        .raw()
        .query_row(
            &sql,
            params![
                r.new_id,
                r.workspace_id,
                r.daemon_id,
                r.name,
                r.provider,
                r.runtime_mode,
                r.device_info,
                r.metadata,
                r.owner_id,
                now
            ],
            from_row,
        )
        .optional()?)
}

/// Sets `offline` (keeping `last_seen_at`); returns whether it was online before.
pub fn mark_offline(tx: &Tx, id: &str) -> DbResult<bool> {
    let changed = tx.raw().execute(
        "UPDATE runtime SET status = 'offline' WHERE id = ?1 AND status = 'online'",
        [id],
    )?;
    Ok(changed > 0)
}

/// Every online runtime, least recently seen first: the liveness sweeper's candidates.
pub fn list_online(c: &Conn) -> DbResult<Vec<Runtime>> {
    let sql =
        format!("SELECT {COLUMNS} FROM runtime WHERE status = 'online' ORDER BY last_seen_at, id");
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes the settings a member may edit.
pub fn update_settings(
    tx: &Tx,
    id: &str,
    visibility: &str,
    timezone: &str,
    now: i64,
) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE runtime SET visibility = ?2, timezone = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, visibility, timezone, now],
    )?;
    Ok(())
}
