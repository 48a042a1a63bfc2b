//! `hangar check`: a list of named checks over a database, each returning the problems it
//! found (empty = passed). SQLite's own checks come first, then hangar's invariants — the
//! facts the code relies on but the schema cannot enforce. A new invariant is one more
//! function and one more line in `CHECKS`.

use crate::db::maintenance as sql;
use crate::db::{Conn, DbResult, SCHEMA_VERSION};

/// At most this many problems are listed per check.
const MAX_PROBLEMS: usize = 20;

/// How far an event's `created_at` may fall behind an earlier event's. Handlers read the
/// clock before waiting for the write lock, so commit order and clock order can differ by
/// a lock wait; a larger step backwards means the clock or the data is wrong.
const EVENT_CLOCK_TOLERANCE_MS: i64 = 60_000;

/// A check: its name and the function that lists the problems it finds.
pub type Check = (&'static str, fn(&Conn) -> DbResult<Vec<String>>);

/// Every check, in the order they run and are reported.
pub const CHECKS: &[Check] = &[
    ("schema version", schema_version),
    ("integrity (PRAGMA integrity_check)", integrity),
    ("foreign keys (PRAGMA foreign_key_check)", foreign_keys),
    (
        "no active task on an archived agent",
        no_active_task_on_archived_agent,
    ),
    ("event ids only increase", event_ids_only_increase),
    (
        "events are in time order, so pruning by age keeps an id suffix",
        events_in_time_order,
    ),
    (
        "every usage rollup equals the ledger recomputed",
        crate::db::usage::rollup::mismatches,
    ),
    (
        "every activity rollup equals the tasks' starts recounted",
        crate::db::usage::start_mismatches,
    ),
    (
        "usage views agree with the ledger in ticks (30 days; UTC, Asia/Kathmandu, \
         America/New_York)",
        crate::usage::agreement::disagreements,
    ),
];

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: &'static str,
    pub problems: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs every check; a check that cannot run reports that as its problem.
pub fn run_all(c: &Conn) -> Vec<Outcome> {
    CHECKS
        .iter()
        .map(|(name, check)| Outcome {
            name,
            problems: check(c).unwrap_or_else(|e| vec![format!("could not run: {e}")]),
        })
        .collect()
}

/// A readable report: one line per check, its problems indented below it, then a summary.
pub fn report(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        out.push_str(&format!(
            "{:<4}  {}\n",
            if o.passed() { "ok" } else { "FAIL" },
            o.name
        ));
        for p in o.problems.iter().take(MAX_PROBLEMS) {
            out.push_str(&format!("      {p}\n"));
        }
        // Queries fetch one problem more than is shown, to know whether there are more.
        if o.problems.len() > MAX_PROBLEMS {
            out.push_str("      … and more\n");
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    match failed {
        0 => out.push_str(&format!("all {} checks passed\n", outcomes.len())),
        n => out.push_str(&format!("{n} of {} checks failed\n", outcomes.len())),
    }
    out
}

fn schema_version(c: &Conn) -> DbResult<Vec<String>> {
    let found = sql::schema_version(c)?;
    Ok(if found == SCHEMA_VERSION {
        Vec::new()
    } else {
        vec![format!(
            "the file is at schema step {found}, this hangar expects {SCHEMA_VERSION}; \
             `hangar serve` migrates it"
        )]
    })
}

fn integrity(c: &Conn) -> DbResult<Vec<String>> {
    sql::integrity_problems(c, (MAX_PROBLEMS + 1) as u32)
}

fn foreign_keys(c: &Conn) -> DbResult<Vec<String>> {
    Ok(sql::foreign_key_violations(c, MAX_PROBLEMS + 1)?
        .into_iter()
        .map(|v| match v.rowid {
            Some(rowid) => format!(
                "{} row {rowid} refers to a missing {} row",
                v.table, v.parent
            ),
            None => format!("a {} row refers to a missing {} row", v.table, v.parent),
        })
        .collect())
}

fn no_active_task_on_archived_agent(c: &Conn) -> DbResult<Vec<String>> {
    Ok(
        sql::active_tasks_on_archived_agents(c, MAX_PROBLEMS as i64 + 1)?
            .into_iter()
            .map(|t| {
                format!(
                    "task {} is {} but agent {} is archived",
                    t.task_id, t.status, t.agent_id
                )
            })
            .collect(),
    )
}

/// Event ids are stream cursors: a new event must never get an id at or below one a client
/// may already hold, so the AUTOINCREMENT mark must be at least the highest id present.
fn event_ids_only_increase(c: &Conn) -> DbResult<Vec<String>> {
    let (max_id, sequence) = sql::event_id_marks(c)?;
    Ok(if sequence >= max_id {
        Vec::new()
    } else {
        vec![format!(
            "highest event id is {max_id} but the id sequence is at {sequence}: \
             new events would reuse ids"
        )]
    })
}

/// The sweeper prunes events older than the retention period, and `after=<pruned id>`
/// answers 410. That is only sound if ids and time agree, so pruning by age removes a
/// prefix of ids and never an event a client has not yet read while keeping older ones.
fn events_in_time_order(c: &Conn) -> DbResult<Vec<String>> {
    Ok(
        sql::events_out_of_time_order(c, EVENT_CLOCK_TOLERANCE_MS, MAX_PROBLEMS as i64 + 1)?
            .into_iter()
            .map(|(id, at, latest)| {
                format!(
                    "event {id} was created {} s before an earlier event",
                    (latest - at) / 1000
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_problems_under_failed_checks_and_counts_failures() {
        let outcomes = vec![
            Outcome {
                name: "first",
                problems: Vec::new(),
            },
            Outcome {
                name: "second",
                problems: vec!["task t is queued but agent a is archived".into()],
            },
        ];
        assert_eq!(
            report(&outcomes),
            "ok    first\n\
             FAIL  second\n\
             \x20     task t is queued but agent a is archived\n\
             1 of 2 checks failed\n"
        );
    }

    #[test]
    fn long_problem_lists_are_cut_with_a_count() {
        let outcomes = vec![Outcome {
            name: "many",
            problems: (0..MAX_PROBLEMS + 3).map(|i| i.to_string()).collect(),
        }];
        let text = report(&outcomes);
        assert!(text.contains(&format!("      {}\n", MAX_PROBLEMS - 1)));
        assert!(!text.contains(&format!("      {}\n", MAX_PROBLEMS)));
        assert!(text.contains("… and more\n"));
    }
}
