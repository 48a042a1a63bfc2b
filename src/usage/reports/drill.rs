//! Drill-down: the ledger rows behind a report cell, each priced on its own exactly as the
//! reports price a fold of rows (reported cost, else the workspace price book's price at the
//! row's instant × tokens, else unpriced tokens). Pricing is linear in the tokens, so the rows of a cell add up to the cell in
//! ticks: the reports read rollups, this reads the ledger, and `hangar check` compares them.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{Acc, Totals};
use crate::db::usage::rollup::Sums;
use crate::db::usage::{rows_between, LedgerFilter, LedgerRow};
use crate::db::{Conn, DbResult};
use crate::usage::pricebook::PriceBook;
use crate::usage::window::{instant_of_ms, local_date};

/// One ledger row with its local date in the viewing zone and its priced sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUsage {
    pub row: LedgerRow,
    pub date: NaiveDate,
    pub totals: Totals,
}

/// The rows of `filter` with `start <= occurred_at < end`, oldest first, and their total.
pub fn task_usage(
    c: &Conn,
    book: &PriceBook,
    tz: Tz,
    filter: &LedgerFilter,
    start: i64,
    end: i64,
) -> DbResult<(Vec<TaskUsage>, Totals)> {
    let mut total = Totals::default();
    let rows: Vec<TaskUsage> = rows_between(c, filter, start, end)?
        .into_iter()
        .map(|row| {
            let usage = priced(book, tz, row);
            total.add(&usage.totals);
            usage
        })
        .collect();
    Ok((rows, total))
}

/// One ledger row priced as a report prices a fold holding only this row: price cuts are on
/// the quarter grid, so the price at the row's instant is its rollup bucket's.
pub fn priced(book: &PriceBook, tz: Tz, row: LedgerRow) -> TaskUsage {
    let mut acc = Acc::default();
    acc.add(&Sums::of_row(&row));
    let price = book.price_at(&row.provider, &row.model, row.occurred_at);
    TaskUsage {
        date: local_date(instant_of_ms(row.occurred_at), tz),
        totals: Totals::of(&acc, price.as_ref()),
        row,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::pricing::PriceTable;

    fn row(model: &str, input: i64, cost_ticks: Option<i64>) -> LedgerRow {
        LedgerRow {
            task_id: "t".into(),
            provider: "claude".into(),
            model: model.into(),
            workspace_id: "w".into(),
            runtime_id: "r".into(),
            agent_id: "a".into(),
            input_tokens: input,
            output_tokens: 2 * input,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cost_ticks,
            occurred_at: 1_780_000_000_000,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn rows_are_priced_as_reports_price_them_and_add_up_exactly() {
        let table = PriceTable::builtin();
        let book = PriceBook::table_only(&table);
        let tz = Tz::UTC;
        let rows = [
            row("claude-opus-5", 1_234_567, None),
            row("claude-opus-5", 7, None),
            row("claude-opus-5", 99, Some(123_456_789)),
            row("no-such-model", 10, None),
        ];
        let mut sum = Totals::default();
        let mut acc = Acc::default();
        for r in &rows {
            sum.add(&priced(&book, tz, r.clone()).totals);
            if r.model == "claude-opus-5" {
                acc.add(&Sums::of_row(r));
            }
        }
        let price = table.lookup("claude", "claude-opus-5");
        let known = Totals::of(&acc, price.as_ref());
        assert_eq!(sum.cost_ticks, known.cost_ticks);
        assert_eq!(sum.unpriced_tokens, 30);
        let unknown = priced(&book, tz, rows[3].clone()).totals;
        assert_eq!(unknown.cost(), None);
        assert_eq!(unknown.unpriced_tokens, 30);
    }
}
