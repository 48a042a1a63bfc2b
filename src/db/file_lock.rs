//! One `serve` per database file: an advisory lock on `<db>.lock`, held for the server's
//! lifetime. SQLite's own locks admit several writers taking turns; two servers would each
//! run a sweeper and a scheduler, and a replicator expects one writer. The lock file is
//! never deleted (deleting it would let two servers lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while a server runs; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

/// `<db>.lock`, next to the database file.
pub fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock without waiting; a second server gets a one-line error naming both files.
pub fn lock_for_serving(db_path: &Path) -> Result<ServeLock, String> {
    let path = lock_path(db_path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(ServeLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another hangar is serving {} (lock {})",
            db_path.display(),
            path.display()
        )),
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}
