//! SQL for `price_override`: a workspace's dated prices (schema step 6), in whole ticks per
//! token. Reads list a workspace's overrides oldest `valid_from` first; writes insert one or
//! delete one by id within its workspace.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

/// One stored override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceOverride {
    pub id: String,
    pub workspace_id: String,
    /// A model name as a price table writes it (`model` or `provider/model`).
    pub model: String,
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub valid_from: i64,
    pub created_at: i64,
    pub created_by: String,
}

const COLUMNS: &str = "id, workspace_id, model, input, output, cache_read, cache_write, \
     valid_from, created_at, created_by";

fn from_row(r: &Row) -> rusqlite::Result<PriceOverride> {
    Ok(PriceOverride {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        model: r.get(2)?,
        input: r.get(3)?,
        output: r.get(4)?,
        cache_read: r.get(5)?,
        cache_write: r.get(6)?,
        valid_from: r.get(7)?,
        created_at: r.get(8)?,
        created_by: r.get(9)?,
    })
}

/// The workspace's overrides, by `valid_from`, then model.
pub fn list(c: &Conn, workspace_id: &str) -> DbResult<Vec<PriceOverride>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM price_override WHERE workspace_id = ?1 ORDER BY valid_from, model"
    );
    let mut stmt = c.raw().prepare_cached(&sql)?;
    let rows = stmt.query_map([workspace_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The override of `model` starting exactly at `valid_from`, if any.
pub fn find(
    c: &Conn,
    workspace_id: &str,
    model: &str,
    valid_from: i64,
) -> DbResult<Option<PriceOverride>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM price_override
         WHERE workspace_id = ?1 AND model = ?2 AND valid_from = ?3"
    );
    Ok(c.raw()
        .query_row(&sql, params![workspace_id, model, valid_from], from_row)
        .optional()?)
}

pub fn insert(tx: &Tx, o: &PriceOverride) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO price_override ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    );
    tx.raw().execute(
        &sql,
        params![
            o.id,
            o.workspace_id,
            o.model,
            o.input,
            o.output,
            o.cache_read,
            o.cache_write,
            o.valid_from,
            o.created_at,
            o.created_by
        ],
    )?;
    Ok(())
}

/// Deletes the override `id` of `workspace_id`; the deleted row, or `None` if there was none.
pub fn delete(tx: &Tx, workspace_id: &str, id: &str) -> DbResult<Option<PriceOverride>> {
    let sql = format!(
        "DELETE FROM price_override WHERE workspace_id = ?1 AND id = ?2 RETURNING {COLUMNS}"
    );
    Ok(tx
        .raw()
        .query_row(&sql, [workspace_id, id], from_row)
        .optional()?)
}
