//! SQL for `users`.

use rusqlite::{params, OptionalExtension, Row};

use super::{Conn, DbResult, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub timezone: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, name, timezone, created_at";

fn from_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        timezone: r.get(3)?,
        created_at: r.get(4)?,
    })
}

pub fn insert(tx: &Tx, user: &User) -> DbResult<()> {
    tx.raw().execute(
        "INSERT INTO users (id, email, name, timezone, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            user.id,
            user.email,
            user.name,
            user.timezone,
            user.created_at
        ],
    )?;
    Ok(())
}

pub fn get(c: &Conn, id: &str) -> DbResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

pub fn by_email(c: &Conn, email: &str) -> DbResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ?1");
    Ok(c.raw()
        .prepare_cached(&sql)?
        .query_row([email], from_row)
        .optional()?)
}

pub fn update_profile(tx: &Tx, id: &str, name: &str, timezone: Option<&str>) -> DbResult<()> {
    tx.raw().execute(
        "UPDATE users SET name = ?2, timezone = ?3 WHERE id = ?1",
        params![id, name, timezone],
    )?;
    Ok(())
}
