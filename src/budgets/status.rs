//! The read-side arithmetic of budgets: a budget's status in its current period, and the
//! workspace's month-to-date spend with its projection. All amounts are exact ticks.
//!
//! The burn rate is the spend of the last 24 hours — the 96 quarter buckets ending with the
//! one holding `now` — per day. A projection assumes that rate for the rest of the period:
//! `projected = spent + burn × (end − now) / 24 h` (rounded down to a tick), and the budget
//! runs out at `now + (amount − spent) × 24 h / burn` (rounded up to a millisecond) when that
//! is before the period ends.

use chrono_tz::Tz;

use crate::budgets::evaluate::{measure, spend, Measure};
use crate::budgets::period::{Bounds, Period};
use crate::budgets::{scope_of, Scope};
use crate::db::budgets::{self as store, Alert, Budget};
use crate::db::{Conn, DbResult};
use crate::usage::money::Ticks;
use crate::usage::pricebook::PriceBook;
use crate::usage::pricing::PriceTable;
use crate::usage::window::{quarter_start, QUARTER_MS};

/// Milliseconds in the burn-rate window.
pub const DAY_MS: i64 = 86_400_000;

/// A budget's period, spend and outlook at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub measure: Measure,
    /// Thresholds announced in this period, lowest first.
    pub alerts: Vec<Alert>,
    /// The scope's spend over the last 24 hours.
    pub burn_per_day: Ticks,
    /// The spend the period will end with at that rate.
    pub projected: Ticks,
    /// When the amount is (or was, then `now`) used up at that rate; `None` if not this period.
    pub runs_out_at: Option<i64>,
}

/// The workspace's spend this calendar month in a zone, and where it is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthProjection {
    pub month: Bounds,
    pub to_date: Ticks,
    pub burn_per_day: Ticks,
    pub projected: Ticks,
}

/// `budget`'s status at `now`.
pub fn status(c: &Conn, pricing: &PriceTable, budget: &Budget, now: i64) -> DbResult<Status> {
    let measure = measure(c, pricing, budget, now)?;
    let alerts = store::alerts(c, &budget.id, measure.bounds.start)?;
    let book = PriceBook::load(c, pricing, &budget.workspace_id)?;
    let burn = burn_per_day(c, &book, &budget.workspace_id, &scope_of(budget), now)?;
    Ok(Status {
        measure,
        alerts,
        burn_per_day: burn,
        projected: project(measure.spent, burn, now, measure.bounds.end),
        runs_out_at: runs_out_at(&measure, burn, now),
    })
}

/// `GET /api/workspaces/{ws}/usage/projection`: the calendar month holding `now` in `tz`.
pub fn workspace_month(
    c: &Conn,
    pricing: &PriceTable,
    workspace_id: &str,
    tz: Tz,
    now: i64,
) -> DbResult<MonthProjection> {
    let month = Period::Month.bounds(tz, now);
    let scope = Scope::Workspace;
    let book = PriceBook::load(c, pricing, workspace_id)?;
    let to_date = spend(c, &book, None, workspace_id, &scope, month.start, month.end)?;
    let burn = burn_per_day(c, &book, workspace_id, &scope, now)?;
    Ok(MonthProjection {
        month,
        to_date,
        burn_per_day: burn,
        projected: project(to_date, burn, now, month.end),
    })
}

/// The spend of the 96 quarters ending with the one holding `now`.
fn burn_per_day(
    c: &Conn,
    book: &PriceBook,
    workspace_id: &str,
    scope: &Scope,
    now: i64,
) -> DbResult<Ticks> {
    let end = quarter_start(now) + QUARTER_MS;
    spend(c, book, None, workspace_id, scope, end - DAY_MS, end)
}

/// `spent` plus `burn` per day until `end`, rounded down to a tick.
fn project(spent: Ticks, burn: Ticks, now: i64, end: i64) -> Ticks {
    let left = i128::from((end - now).max(0));
    spent + burn * left / i128::from(DAY_MS)
}

fn runs_out_at(m: &Measure, burn: Ticks, now: i64) -> Option<i64> {
    if m.spent >= m.amount {
        return Some(now);
    }
    if burn <= 0 {
        return None;
    }
    let day = i128::from(DAY_MS);
    let wait = ((m.amount - m.spent) * day + burn - 1) / burn;
    let at = i128::from(now) + wait;
    (at < i128::from(m.bounds.end)).then(|| i64::try_from(at).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY_MS;

    fn measured(spent: Ticks, amount: Ticks, end: i64) -> Measure {
        Measure {
            bounds: Bounds { start: 0, end },
            spent,
            amount,
        }
    }

    #[test]
    fn projections_follow_the_daily_burn() {
        assert_eq!(project(100, 240, NOW, NOW + DAY_MS / 2), 220);
        assert_eq!(project(100, 0, NOW, NOW + 5 * DAY_MS), 100);
        // Rounded down, and nothing added once the period is over.
        assert_eq!(project(0, 10, NOW, NOW + DAY_MS / 3), 3);
        assert_eq!(project(7, 10, NOW, NOW - 1), 7);
    }

    #[test]
    fn run_out_is_when_the_rest_is_burnt_if_within_the_period() {
        let end = NOW + 10 * DAY_MS;
        // 60 left at 240 a day: a quarter of a day.
        assert_eq!(
            runs_out_at(&measured(40, 100, end), 240, NOW),
            Some(NOW + DAY_MS / 4)
        );
        // Rounded up to the millisecond.
        assert_eq!(
            runs_out_at(&measured(0, 1, end), 3 * i128::from(DAY_MS), NOW),
            Some(NOW + 1)
        );
        assert_eq!(runs_out_at(&measured(40, 100, end), 0, NOW), None);
        assert_eq!(runs_out_at(&measured(0, 100, end), 10, NOW), None);
        assert_eq!(runs_out_at(&measured(100, 100, end), 0, NOW), Some(NOW));
    }
}
