//! Schema migrations: `schema.sql` is a list of steps headed `-- step N: …`; a database at
//! `PRAGMA user_version` = k gets steps k+1.. applied, each in its own transaction.

use rusqlite::{Connection, TransactionBehavior};

use super::{DbError, DbResult};

const SCHEMA: &str = include_str!("../../schema.sql");

/// The number of steps in `schema.sql`: the version a fully migrated database has.
pub const SCHEMA_VERSION: i64 = steps_in(SCHEMA);

const fn steps_in(text: &str) -> i64 {
    let bytes = text.as_bytes();
    let marker = b"\n-- step ";
    let mut count = 0;
    let mut i = 0;
    while i + marker.len() <= bytes.len() {
        let mut j = 0;
        while j < marker.len() && bytes[i + j] == marker[j] {
            j += 1;
        }
        if j == marker.len() {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The SQL of each step, in order (index 0 is step 1).
fn steps() -> Vec<&'static str> {
    SCHEMA
        .split("\n-- step ")
        .skip(1)
        .map(|chunk| chunk.split_once('\n').map_or("", |(_, body)| body))
        .collect()
}

fn user_version(conn: &Connection) -> DbResult<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Refuses a database written by a newer hangar before anything touches it.
pub(super) fn check_version(conn: &Connection) -> DbResult<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Refuses any schema but the current one: for a read-only open, which cannot migrate.
pub(super) fn require_current(conn: &Connection) -> DbResult<()> {
    let found = user_version(conn)?;
    if found != SCHEMA_VERSION {
        return Err(DbError::TooOld {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies every missing step, each in one IMMEDIATE transaction with its version bump.
pub(super) fn run(conn: &Connection) -> DbResult<()> {
    for (index, sql) in steps().into_iter().enumerate() {
        let version = index as i64 + 1;
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(DbError::TooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        if current >= version {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        log::info!("database migrated to schema version {version}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_counted_and_non_empty() {
        let steps = steps();
        assert_eq!(steps.len() as i64, SCHEMA_VERSION);
        assert!(steps.len() >= 3);
        assert!(steps.iter().all(|s| s.contains("CREATE")));
    }

    #[test]
    fn migrates_fresh_and_is_idempotent() {
        let conn = Connection::open_in_memory().unwrap();
        run(&conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        run(&conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn each_step_applies_on_top_of_the_previous_ones() {
        let conn = Connection::open_in_memory().unwrap();
        for (i, sql) in steps().into_iter().enumerate() {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("step {} failed: {e}", i + 1));
        }
    }

    #[test]
    fn the_activity_rollup_is_backfilled_then_follows_every_start_and_move() {
        let conn = Connection::open_in_memory().unwrap();
        let steps = steps();
        for sql in &steps[..10] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO workspace VALUES ('w', 'w', 0);
             INSERT INTO runtime (id, workspace_id, name, provider, created_at, updated_at)
                 VALUES ('a', 'w', 'a', 'claude', 0, 0), ('b', 'w', 'b', 'claude', 0, 0);
             INSERT INTO agent (id, workspace_id, runtime_id, name, created_at, updated_at)
                 VALUES ('x', 'w', 'a', 'x', 0, 0);
             INSERT INTO task (id, workspace_id, agent_id, runtime_id, prompt, status,
                               created_at, started_at)
                 VALUES ('t1', 'w', 'x', 'a', 'p', 'running', 0, 1000000),
                        ('t2', 'w', 'x', 'a', 'p', 'running', 0, 1799999),
                        ('t3', 'w', 'x', 'b', 'p', 'running', 0, -1),
                        ('t4', 'w', 'x', 'a', 'p', 'queued', 0, NULL);",
        )
        .unwrap();
        conn.execute_batch(steps[10]).unwrap();
        let rollup = |conn: &Connection| -> Vec<(String, i64, i64)> {
            let mut stmt = conn
                .prepare("SELECT * FROM task_start_rollup WHERE started <> 0 ORDER BY 1, 2")
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
            rows.unwrap().map(Result::unwrap).collect()
        };
        let row = |rt: &str, bucket: i64, n: i64| (rt.to_string(), bucket, n);
        assert_eq!(rollup(&conn), [row("a", 900_000, 2), row("b", -900_000, 1)]);
        conn.execute_batch(
            "UPDATE task SET status = 'running', started_at = 2700000 WHERE id = 't4';
             UPDATE task SET runtime_id = 'b' WHERE id = 't1';
             UPDATE task SET runtime_id = NULL WHERE id = 't3';
             UPDATE task SET status = 'completed' WHERE id = 't2';
             INSERT INTO task (id, workspace_id, agent_id, runtime_id, prompt, status,
                               created_at, started_at)
                 VALUES ('t5', 'w', 'x', 'b', 'p', 'running', 0, 1000001);",
        )
        .unwrap();
        assert_eq!(
            rollup(&conn),
            [
                row("a", 900_000, 1),
                row("a", 2_700_000, 1),
                row("b", 900_000, 2)
            ]
        );
        assert_eq!(
            super::super::usage::start_mismatches(&super::super::Conn(&conn)).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn refuses_a_newer_database() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(check_version(&conn), Err(DbError::TooNew { .. })));
        assert!(matches!(run(&conn), Err(DbError::TooNew { .. })));
    }
}
