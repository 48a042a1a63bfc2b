//! Group commit for the high-rate daemon writes (usage reports, heartbeats). A caller queues
//! its change; whichever caller finds no batch running becomes the leader: it takes the
//! writer, runs every queued change in its own savepoint of one IMMEDIATE transaction (a
//! change that fails or panics rolls back only itself), commits once and hands each caller
//! its outcome. Under load one commit then writes the pages several changes share (the tails
//! of the event table and of the deferred rollup deltas) once instead of once per change, and
//! the writer lock is taken once per batch. A lone change runs without a savepoint.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::TransactionBehavior;

use super::{Conn, Db, DbError, Tx};

/// The queue of changes waiting for a batch, and whether a leader is running one.
#[derive(Default)]
pub(super) struct Group {
    state: Mutex<State>,
    batch_done: Condvar,
}

#[derive(Default)]
struct State {
    queue: Vec<Box<dyn Change>>,
    leading: bool,
}

/// One caller's change as the leader sees it.
trait Change: Send {
    /// Runs the change inside the batch's transaction; true when it succeeded.
    fn apply(&mut self, tx: &Tx) -> bool;
    /// Hands the caller its outcome once the batch is over; `failed` is the error that undid
    /// the whole batch (beginning or committing it), if any.
    fn finish(self: Box<Self>, failed: Option<DbError>);
}

struct Pending<T, E, F> {
    change: Option<F>,
    outcome: Option<Result<T, E>>,
    reply: SyncSender<Result<T, E>>,
}

impl<T, E, F> Change for Pending<T, E, F>
where
    T: Send,
    E: From<DbError> + Send,
    F: FnOnce(&Tx) -> Result<T, E> + Send,
{
    fn apply(&mut self, tx: &Tx) -> bool {
        let Some(change) = self.change.take() else {
            return false;
        };
        let outcome = change(tx);
        let applied = outcome.is_ok();
        self.outcome = Some(outcome);
        applied
    }

    fn finish(self: Box<Self>, failed: Option<DbError>) {
        let outcome = match (self.outcome, failed) {
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(E::from(e)),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(E::from(DbError::Other("the change panicked".into()))),
        };
        // The caller waits for this answer; it can only be gone if its thread died.
        let _ = self.reply.send(outcome);
    }
}

impl Db {
    /// Runs `change` in a write transaction it may share with other callers' changes (see
    /// the module doc): `Ok` means it is committed, `Err` that it was rolled back, exactly as
    /// with `write_tx`. The change owns what it uses, since the leader may be another thread.
    pub fn write_grouped<T, E, F>(&self, change: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Tx) -> Result<T, E> + Send + 'static,
    {
        let (pending, answer) = pending(change);
        let mut state = self.group_state();
        state.queue.push(pending);
        loop {
            if let Some(outcome) = ready(&answer) {
                return outcome;
            }
            if state.leading {
                state = self
                    .group
                    .batch_done
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            state.leading = true;
            let batch = std::mem::take(&mut state.queue);
            drop(state);
            let leader = Leading(self);
            self.run_batch(batch);
            drop(leader);
            state = self.group_state();
        }
    }

    fn group_state(&self) -> MutexGuard<'_, State> {
        self.group
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `batch` in one transaction and finishes every change.
    fn run_batch(&self, mut batch: Vec<Box<dyn Change>>) {
        let failed = match self.apply_all(&mut batch) {
            Ok(committed) => {
                if committed {
                    self.count_commit();
                }
                None
            }
            Err(e) => {
                self.count_rollback();
                Some(e)
            }
        };
        for change in batch {
            change.finish(failed.clone());
        }
    }

    /// Applies `batch` in one transaction; true when it committed a change, false when every
    /// change failed and the transaction was rolled back (as `write_tx`, counting only
    /// commits that wrote something).
    fn apply_all(&self, batch: &mut [Box<dyn Change>]) -> Result<bool, DbError> {
        let mut conn = self.lock_writer()?;
        let mut txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied = if let [lone] = batch {
            let applied = apply_guarded(lone.as_mut(), &Tx(Conn(&txn)));
            if !applied {
                self.count_rollback(); // dropping `txn` below rolls it back
            }
            applied
        } else {
            let mut any = false;
            for change in batch.iter_mut() {
                let savepoint = txn.savepoint()?;
                if apply_guarded(change.as_mut(), &Tx(Conn(&savepoint))) {
                    savepoint.commit()?;
                    any = true;
                } else {
                    drop(savepoint); // rolls it back, before the next change runs
                    self.count_rollback();
                }
            }
            any
        };
        if applied {
            txn.commit()?;
        } // else dropping `txn` rolls it back
        Ok(applied)
    }
}

/// `change` as the leader sees it, and where its caller's outcome arrives.
fn pending<T, E, F>(change: F) -> (Box<dyn Change>, Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&Tx) -> Result<T, E> + Send + 'static,
{
    let (reply, answer) = sync_channel(1);
    let pending = Pending {
        change: Some(change),
        outcome: None,
        reply,
    };
    (Box::new(pending), answer)
}

/// Applies one change; a panic counts as a failure (its savepoint is rolled back) and never
/// reaches the leader, whose batch holds other callers' changes.
fn apply_guarded(change: &mut dyn Change, tx: &Tx) -> bool {
    catch_unwind(AssertUnwindSafe(|| change.apply(tx))).unwrap_or(false)
}

/// The caller's outcome if a batch has finished its change.
fn ready<T, E: From<DbError>>(answer: &Receiver<Result<T, E>>) -> Option<Result<T, E>> {
    match answer.try_recv() {
        Ok(outcome) => Some(outcome),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) => Some(Err(E::from(DbError::Other(
            "the write batch was abandoned".into(),
        )))),
    }
}

/// Ends a leader's turn, even if its batch panicked: the next waiter may lead.
struct Leading<'a>(&'a Db);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.group_state().leading = false;
        self.0.group.batch_done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::db::OpenMode;

    type Outcome = Result<String, DbError>;
    type BoxedChange = Box<dyn FnOnce(&Tx) -> Outcome + Send>;

    /// A change that records `name` as a model row, then fails or panics if `fail` says so.
    fn record(name: &str, fail: Option<&'static str>) -> impl FnOnce(&Tx) -> Outcome {
        let name = name.to_string();
        move |tx: &Tx| {
            tx.raw().execute(
                "INSERT INTO usage_model (provider, model) VALUES ('test', ?1)",
                [&name],
            )?;
            match fail {
                Some("panic") => panic!("change {name} panics"),
                Some(why) => Err(DbError::Other(why.into())),
                None => Ok(name),
            }
        }
    }

    fn recorded(db: &Db) -> Vec<String> {
        db.read(|c| {
            let mut stmt = c
                .raw()
                .prepare("SELECT model FROM usage_model WHERE provider = 'test' ORDER BY model")?;
            let names = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, DbError>(names.collect::<Result<Vec<String>, _>>()?)
        })
        .unwrap()
    }

    /// Runs `changes` as one batch, as a leader would; returns each caller's outcome.
    fn one_batch(db: &Db, changes: Vec<BoxedChange>) -> Vec<Outcome> {
        let (batch, answers): (Vec<_>, Vec<_>) = changes.into_iter().map(pending).unzip();
        db.run_batch(batch);
        answers.iter().map(|a| a.recv().unwrap()).collect()
    }

    fn open() -> (tempfile::TempDir, Arc<Db>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.db"), OpenMode::ReadWrite, 2).unwrap();
        (dir, Arc::new(db))
    }

    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn changes_queued_behind_a_running_batch_share_the_next_commit() {
        let (_dir, db) = open();
        let before = db.commits();
        let spawn = |name: &'static str| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || db.write_grouped(record(name, None)))
        };
        // The first caller leads a batch of its own change, held up by the writer lock…
        let writer = db.lock_writer().unwrap();
        let first = spawn("a");
        wait_for("a leader", || db.group_state().leading);
        // …while five more queue behind it.
        let rest: Vec<_> = ["b", "c", "d", "e", "f"].into_iter().map(spawn).collect();
        wait_for("five queued changes", || db.group_state().queue.len() == 5);
        drop(writer);
        let outcomes: Vec<Outcome> = std::iter::once(first)
            .chain(rest)
            .map(|t| t.join().unwrap())
            .collect();
        let names = ["a", "b", "c", "d", "e", "f"];
        let expected: Vec<Outcome> = names.iter().map(|n| Ok(n.to_string())).collect();
        assert_eq!(outcomes, expected);
        assert_eq!(recorded(&db), names);
        assert_eq!(
            db.commits() - before,
            2,
            "one commit for a, one for the other five"
        );
        assert!(!db.group_state().leading);
    }

    #[test]
    fn a_change_that_fails_or_panics_rolls_back_only_itself() {
        let (_dir, db) = open();
        let rollbacks = || db.rollbacks().load(std::sync::atomic::Ordering::SeqCst);
        let outcomes = one_batch(
            &db,
            vec![
                Box::new(record("a", None)),
                Box::new(record("b", Some("refused"))),
                Box::new(record("c", None)),
                Box::new(record("d", Some("panic"))),
                Box::new(record("e", None)),
            ],
        );
        assert_eq!(
            outcomes,
            vec![
                Ok("a".to_string()),
                Err(DbError::Other("refused".into())),
                Ok("c".to_string()),
                Err(DbError::Other("the change panicked".into())),
                Ok("e".to_string()),
            ]
        );
        assert_eq!(recorded(&db), ["a", "c", "e"]);
        assert_eq!(rollbacks(), 2, "each undone change is counted");
        // A lone change commits, or rolls back alone.
        assert_eq!(db.write_grouped(record("f", None)), Ok("f".to_string()));
        let commits = db.commits();
        assert!(db.write_grouped(record("g", Some("no"))).is_err());
        assert_eq!(
            db.commits(),
            commits,
            "a rolled-back change is not a commit"
        );
        assert_eq!(rollbacks(), 3);
        assert_eq!(recorded(&db), ["a", "c", "e", "f"]);
    }

    #[test]
    fn a_batch_that_cannot_commit_fails_every_change_in_it() {
        let (_dir, db) = open();
        db.write_tx(|tx| {
            tx.raw().execute_batch(
                "CREATE TABLE pointer (x INTEGER PRIMARY KEY,
                     y INTEGER REFERENCES pointer(x) DEFERRABLE INITIALLY DEFERRED)",
            )?;
            Ok::<_, DbError>(())
        })
        .unwrap();
        // A foreign key checked only at COMMIT undoes the whole batch.
        let dangling = |tx: &Tx| -> Outcome {
            tx.raw()
                .execute("INSERT INTO pointer (x, y) VALUES (1, 99)", [])?;
            Ok("dangling".into())
        };
        let outcomes = one_batch(&db, vec![Box::new(record("a", None)), Box::new(dangling)]);
        assert_eq!(db.rollbacks().load(std::sync::atomic::Ordering::SeqCst), 1);
        for outcome in &outcomes {
            assert!(
                matches!(outcome, Err(DbError::ForeignKey(_))),
                "{outcome:?}"
            );
        }
        assert!(recorded(&db).is_empty());
    }
}
