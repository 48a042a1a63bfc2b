//! SQL for `member`: who belongs to which workspace, with which role.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub workspace_id: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: i64,
}

const SELECT: &str = "SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.joined_at
     FROM member m JOIN users u ON u.id = m.user_id";

fn from_row(r: &Row) -> rusqlite::Result<Member> {
    Ok(Member {
        workspace_id: r.get(0)?,
        user_id: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        joined_at: r.get(5)?,
    })
}

pub fn insert(tx: &Tx, workspace_id: &str, user_id: &str, role: &str, now: i64) -> DbResult<()> {
    tx.raw().execute(
        "INSERT INTO member (workspace_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
        params![workspace_id, user_id, role, now],
    )?;
    Ok(())
}

pub fn get(c: &Conn, workspace_id: &str, user_id: &str) -> DbResult<Option<Member>> {
    let sql = format!("{SELECT} WHERE m.workspace_id = ?1 AND m.user_id = ?2");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([workspace_id, user_id], from_row)
        .optional()?)
}

/// The caller's role in a workspace, or `None` when they are not a member.
pub fn role_of(c: &Conn, workspace_id: &str, user_id: &str) -> DbResult<Option<String>> {
    Ok(c.raw()
        .prepare_cached("SELECT role FROM member WHERE workspace_id = ?1 AND user_id = ?2")?
        .query_row([workspace_id, user_id], |r| r.get(0))
        .optional()?)
}

/// Members of a workspace, in the order they joined.
pub fn list(c: &Conn, workspace_id: &str) -> DbResult<Vec<Member>> {
    let sql = format!("{SELECT} WHERE m.workspace_id = ?1 ORDER BY m.joined_at, u.email");
    let mut stmt = c.raw().prepare(&sql)?;
    let rows = stmt.query_map([workspace_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_role(tx: &Tx, workspace_id: &str, user_id: &str, role: &str) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE member SET role = ?3 WHERE workspace_id = ?1 AND user_id = ?2",
        params![workspace_id, user_id, role],
    )?;
    Ok(())
}

pub fn remove(tx: &Tx, workspace_id: &str, user_id: &str) -> DbResult<()> {
    tx.raw().execute(
        "DELETE FROM member WHERE workspace_id = ?1 AND user_id = ?2",
        params![workspace_id, user_id],
    )?;
    Ok(())
}

pub fn count_owners(c: &Conn, workspace_id: &str) -> DbResult<i64> {
    Ok(c.raw().query_row(
        "SELECT COUNT(*) FROM member WHERE workspace_id = ?1 AND role = 'owner'",
        [workspace_id],
        |r| r.get(0),
    )?)
}
