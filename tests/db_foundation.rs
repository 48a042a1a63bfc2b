//! The database layer: migrations fresh and on re-open, refusal of a newer file, and a panic
//! inside `write_tx` leaving the next write working.
use std::panic::{catch_unwind, AssertUnwindSafe};

use hangar::accounts;
use hangar::db::{Db, DbError, OpenMode, SCHEMA_VERSION};
use hangar::error::ApiError;

fn version(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn migrates_fresh_and_reopens_without_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    drop(Db::open(&path, OpenMode::ReadWrite, 2).unwrap());
    assert_eq!(version(&path), SCHEMA_VERSION);
    let db = Db::open(&path, OpenMode::Existing, 2).unwrap();
    db.write_tx(|tx| accounts::create_user(tx, "a@b.c", "A", 1).map(|_| ()))
        .unwrap();
    drop(db);
    let db = Db::open(&path, OpenMode::Existing, 2).unwrap();
    let n: usize = db
        .read(|c| Ok::<_, DbError>(hangar::db::users::by_email(c, "a@b.c")?.into_iter().count()))
        .unwrap();
    assert_eq!(n, 1);
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE future (x INTEGER);").unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Db::open(&path, OpenMode::Existing, 2)
        .err()
        .expect("refused");
    assert!(matches!(err, DbError::TooNew { .. }), "{err:?}");
    assert!(err.to_string().contains("newer"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "file changed");
    assert_eq!(version(&path), SCHEMA_VERSION + 5);
}

#[test]
fn every_connection_has_the_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("p.db"), OpenMode::ReadWrite, 3).unwrap();
    let (fk, sync, busy) = db.read(hangar::db::pragmas).unwrap();
    assert_eq!((fk, sync, busy), (1, 1, 5000));
}

#[test]
fn a_panic_inside_write_tx_rolls_back_and_the_next_write_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("w.db"), OpenMode::ReadWrite, 2).unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        db.write_tx(|tx| -> Result<(), ApiError> {
            accounts::create_user(tx, "ghost@x.y", "Ghost", 1)?;
            panic!("boom inside the transaction");
        })
    }));
    assert!(outcome.is_err());
    db.write_tx(|tx| accounts::create_user(tx, "real@x.y", "Real", 2).map(|_| ()))
        .expect("next write works");
    let (ghost, real) = db
        .read(|c| {
            Ok::<_, DbError>((
                hangar::db::users::by_email(c, "ghost@x.y")?.is_some(),
                hangar::db::users::by_email(c, "real@x.y")?.is_some(),
            ))
        })
        .unwrap();
    assert_eq!((ghost, real), (false, true));
}

#[test]
fn a_large_write_gets_a_large_page_cache_and_no_autocheckpoint_only_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    // Every transaction below runs on the one writer connection.
    let db = Db::open(&dir.path().join("c.db"), OpenMode::ReadWrite, 1).unwrap();
    let settings = |c: &hangar::db::Conn| {
        Ok::<_, DbError>((
            hangar::db::cache_size(c)?,
            hangar::db::wal_autocheckpoint(c)?,
        ))
    };
    let usual = (-2_000, i64::from(hangar::db::DEFAULT_WAL_AUTOCHECKPOINT));
    assert_eq!(
        db.write_tx_large(|tx, _| settings(tx)).unwrap(),
        (-65_536, 0)
    );
    assert_eq!(db.read(settings).unwrap(), usual);
    // Restored after a rollback too.
    let failed: Result<(), ApiError> = db.write_tx_large(|_, _| Err(ApiError::not_found("thing")));
    assert!(failed.is_err());
    assert_eq!(db.read(settings).unwrap(), usual);
    assert_eq!(db.write_tx(|tx| settings(tx)).unwrap(), usual);
}

#[test]
fn a_large_write_can_read_the_state_it_began_from_on_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("b.db"), OpenMode::ReadWrite, 2).unwrap();
    let name = |c: &hangar::db::Conn| {
        let user = hangar::db::users::by_email(c, "a@b.c")?.ok_or(DbError::NotFound)?;
        Ok::<_, DbError>(user.name)
    };
    let id = db
        .write_tx(|tx| accounts::create_user(tx, "a@b.c", "Before", 1))
        .unwrap()
        .id;
    let (inside, before) = db
        .write_tx_large(|tx, before| {
            hangar::db::users::update_profile(tx, &id, "After", None)?;
            let before = std::thread::scope(|s| s.spawn(|| before.read(name)).join().unwrap())?;
            Ok::<_, DbError>((name(tx)?, before))
        })
        .unwrap();
    assert_eq!((inside.as_str(), before.as_str()), ("After", "Before"));
    assert_eq!(db.read(name).unwrap(), "After");
}
