//! `hangar backup` and `hangar check`: library functions the CLI calls (and tests too). Both
//! open the database on a connection of their own, beside a running server, and never
//! migrate or write it.

use std::path::{Path, PathBuf};

use crate::check::{self, Outcome};
use crate::db::maintenance::{self, Standalone};
use crate::db::DbError;

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub bytes: u64,
    /// Rows per table in the copy.
    pub tables: Vec<(String, i64)>,
}

/// Copies the database at `db_path` to `file` while a server may keep writing: the copy is
/// written beside `file` as `<file>.partial`, verified with `PRAGMA integrity_check`, then
/// renamed into place, so a failed backup never leaves a half-written `file` behind (nor
/// clobbers an older good one). Refuses an existing `file` unless `force`.
pub fn backup(db_path: &Path, file: &Path, force: bool) -> Result<BackupSummary, String> {
    if file.exists() && !force {
        return Err(format!(
            "{} already exists; pass --force to overwrite it",
            file.display()
        ));
    }
    if same_file(db_path, file) {
        return Err(format!(
            "{} is the database itself; back up to another file",
            file.display()
        ));
    }
    let source = open(db_path)?;
    let partial = partial_path(file);
    remove_if_present(&partial)?;
    let copied = maintenance::vacuum_into(&source.conn(), &partial)
        .map_err(|e| format!("backup to {} failed: {e}", file.display()));
    drop(source);
    let verified = copied.and_then(|()| verify(&partial));
    let tables = match verified {
        Ok(tables) => tables,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, file)
        .map_err(|e| format!("cannot move the backup into {}: {e}", file.display()))?;
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    Ok(BackupSummary {
        file: file.to_path_buf(),
        bytes,
        tables,
    })
}

/// The lines `hangar backup` prints: the file, its size, then rows per table.
pub fn backup_report(summary: &BackupSummary) -> String {
    let mut out = format!(
        "backup written to {} ({} bytes), integrity ok\n",
        summary.file.display(),
        summary.bytes
    );
    let width = summary
        .tables
        .iter()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(0);
    for (table, rows) in &summary.tables {
        out.push_str(&format!("  {table:<width$}  {rows:>8}\n"));
    }
    out
}

/// Runs every check of `check::CHECKS` on the database at `db_path`, all in one snapshot: a
/// running server's writes and usage folds never show half done.
pub fn check(db_path: &Path) -> Result<Vec<Outcome>, String> {
    let mut db = open(db_path)?;
    db.read(|c| Ok::<_, DbError>(check::run_all(c)))
        .map_err(|e| format!("cannot check database {}: {e}", db_path.display()))
}

fn open(path: &Path) -> Result<Standalone, String> {
    Standalone::open(path).map_err(|e| format!("cannot open database {}: {e}", path.display()))
}

/// Opens the copy on its own and proves it sound; returns its rows per table.
fn verify(copy: &Path) -> Result<Vec<(String, i64)>, String> {
    let db = open(copy)?;
    let conn = db.conn();
    let problems = maintenance::integrity_problems(&conn, 10)
        .map_err(|e| format!("cannot verify the backup: {e}"))?;
    if let Some(first) = problems.first() {
        return Err(format!("the backup failed its integrity check: {first}"));
    }
    maintenance::table_counts(&conn).map_err(|e| format!("cannot count the backup's rows: {e}"))
}

fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
