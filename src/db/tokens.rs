//! SQL for `api_token`: user and daemon tokens, stored only as SHA-256 hashes.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub name: String,
    /// `user` or `daemon`.
    pub kind: String,
    pub user_id: String,
    /// Set for daemon tokens only.
    pub workspace_id: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, name, kind, user_id, workspace_id, created_at, last_used_at, revoked_at";

fn from_row(r: &Row) -> rusqlite::Result<Token> {
    Ok(Token {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        user_id: r.get(3)?,
        workspace_id: r.get(4)?,
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

pub fn insert(tx: &Tx, token: &Token, hash: &str) -> DbResult<()> {
    tx.raw().execute(
        "INSERT INTO api_token (id, name, hash, kind, user_id, workspace_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            token.id,
            token.name,
            hash,
            token.kind,
            token.user_id,
            token.workspace_id,
            token.created_at
        ],
    )?;
    Ok(())
}

pub fn by_hash(c: &Conn, hash: &str) -> DbResult<Option<Token>> {
    let sql = format!("SELECT {COLUMNS} FROM api_token WHERE hash = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([hash], from_row)
        .optional()?)
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<Token>> {
    let sql = format!("SELECT {COLUMNS} FROM api_token WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// Records use, but only when the last record is at least `min_gap_ms` old.
pub fn touch(tx: &Tx, id: &str, now: i64, min_gap_ms: i64) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE api_token SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
        params![id, now, min_gap_ms],
    )?;
    Ok(())
}

/// A user's own user tokens that are not revoked, oldest first.
pub fn list_user_tokens(c: &Conn, user_id: &str) -> DbResult<Vec<Token>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_token WHERE user_id = ?1 AND kind = 'user'
         AND revoked_at IS NULL ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map([user_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Daemon tokens of a workspace that are not revoked, optionally only one user's.
pub fn list_daemon_tokens(
    c: &Conn,
    workspace_id: &str,
    user_id: Option<&str>,
) -> DbResult<Vec<Token>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_token WHERE workspace_id = ?1 AND kind = 'daemon'
         AND revoked_at IS NULL AND (?2 IS NULL OR user_id = ?2) ORDER BY created_at, id"
    );
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map(params![workspace_id, user_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn revoke(tx: &Tx, id: &str, now: i64) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    Ok(())
}

/// Revokes a user's daemon tokens in one workspace (on leaving it).
pub fn revoke_daemon_tokens_of(
    tx: &Tx,
    workspace_id: &str,
    user_id: &str,
    now: i64,
) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE api_token SET revoked_at = ?3
         WHERE workspace_id = ?1 AND user_id = ?2 AND kind = 'daemon' AND revoked_at IS NULL",
        params![workspace_id, user_id, now],
    )?;
    Ok(())
}
