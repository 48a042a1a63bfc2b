//! The price book's reports: models whose tokens have no price (`GET …/usage/unpriced`) and the
//! month-by-month cost of the workspace under two price books (`POST …/prices/preview`). Both
//! fold the same priced rollup parts as every other report, so a saved change moves the
//! reports by exactly what its preview said.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::{priced_parts_with, Grouping, View};
use crate::db::usage::reads::Scope;
use crate::db::{Conn, DbResult};
use crate::usage::money::Ticks;
use crate::usage::pricebook::PriceBook;
use crate::usage::window::day_of_quarter;

/// A (provider, model) with tokens that neither carry a reported cost nor have a price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpriced {
    pub provider: String,
    pub model: String,
    pub unpriced_tokens: i128,
    /// First and last local date with unpriced tokens, in the view's zone.
    pub first_seen: NaiveDate,
    pub last_seen: NaiveDate,
}

/// One month's workspace cost under the current book and the proposed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthChange {
    /// `YYYY-MM` in the view's zone.
    pub month: String,
    pub old_ticks: Ticks,
    pub new_ticks: Ticks,
    pub old_unpriced_tokens: i128,
    pub new_unpriced_tokens: i128,
}

/// Models with unpriced tokens in the window, most unpriced tokens first.
pub fn workspace_unpriced(
    c: &Conn,
    view: View,
    book: &PriceBook,
    workspace_id: &str,
) -> DbResult<Vec<Unpriced>> {
    let tz = view.tz;
    let parts = priced_parts_with(
        c,
        view,
        book,
        Scope::Workspace(workspace_id),
        Grouping::LocalDay,
        |b| day_of_quarter(b, tz),
    )?;
    let mut by_model: BTreeMap<(String, String), Unpriced> = BTreeMap::new();
    for p in parts.into_iter().filter(|p| p.totals.unpriced_tokens > 0) {
        let entry = by_model
            .entry((p.provider.clone(), p.model.clone()))
            .or_insert_with(|| Unpriced {
                provider: p.provider,
                model: p.model,
                unpriced_tokens: 0,
                first_seen: p.group,
                last_seen: p.group,
            });
        entry.unpriced_tokens += p.totals.unpriced_tokens;
        entry.first_seen = entry.first_seen.min(p.group);
        entry.last_seen = entry.last_seen.max(p.group);
    }
    let mut rows: Vec<Unpriced> = by_model.into_values().collect();
    rows.sort_by_key(|u| std::cmp::Reverse(u.unpriced_tokens));
    Ok(rows)
}

/// The workspace's cost per local month from `view.since` on under `old` and `new`; every
/// month from the first to the last with usage in either is listed.
pub fn monthly_change(
    c: &Conn,
    view: View,
    old: &PriceBook,
    new: &PriceBook,
    workspace_id: &str,
) -> DbResult<Vec<MonthChange>> {
    let mut months: BTreeMap<(i32, u32), MonthChange> = BTreeMap::new();
    for (book, is_new) in [(old, false), (new, true)] {
        let tz = view.tz;
        let parts = priced_parts_with(
            c,
            view,
            book,
            Scope::Workspace(workspace_id),
            Grouping::LocalDay,
            |b| day_of_quarter(b, tz),
        )?;
        for p in parts {
            let key = (p.group.year(), p.group.month());
            let m = months.entry(key).or_insert_with(|| MonthChange {
                month: format!("{:04}-{:02}", key.0, key.1),
                old_ticks: 0,
                new_ticks: 0,
                old_unpriced_tokens: 0,
                new_unpriced_tokens: 0,
            });
            if is_new {
                m.new_ticks += p.totals.cost_ticks;
                m.new_unpriced_tokens += p.totals.unpriced_tokens;
            } else {
                m.old_ticks += p.totals.cost_ticks;
                m.old_unpriced_tokens += p.totals.unpriced_tokens;
            }
        }
    }
    Ok(months.into_values().collect())
}
