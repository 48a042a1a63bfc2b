//! What a budget's scope has spent in a period, and announcing the thresholds it crossed.
//!
//! Spend is read from the rollups, never the ledger: the sum over the scope's buckets whose
//! start is in `[period start, period end)` — a usage row counts by its bucket, as reports
//! count it, so a back-dated row counts toward the period it is dated in. Every zone offset is
//! a multiple of 15 minutes, so a local period is an exact union of quarter buckets; the
//! coarsest aligned buckets that fit are read (a month is ~30 day buckets per model, not
//! ~3,000 quarters). Cost is the reported cost plus the workspace price book (table and dated
//! overrides, each bucket at the price in force at its instant) for the rest, in ticks;
//! models without a price add nothing (reports show them as unpriced tokens).
//!
//! Evaluation runs inside the transaction that changed the spend or the budget. Each crossed
//! threshold is recorded in `budget_alert` under the key (budget, period start, threshold),
//! and the `budget:threshold_crossed` event is appended only when that record is new — so a
//! threshold is announced once per period whatever the concurrency, restarts or re-reports.

use std::collections::HashMap;

use serde_json::json;

use crate::budgets::kept::KeptSpend;
use crate::budgets::period::Bounds;
use crate::budgets::{period_of, scope_of, tz_of, Scope};
use crate::clock::rfc3339;
use crate::db::budgets::{self as store, Alert, Budget, ModelSpend, SpendTable};
use crate::db::usage::{model_names, LedgerRow};
use crate::db::{Conn, DbResult, Tx};
use crate::events::{self, Actor};
use crate::usage::money::{ticks_to_micros, ticks_to_usd, Ticks, TICKS_PER_MICRO_USD};
use crate::usage::pricebook::PriceBook;
use crate::usage::pricing::PriceTable;
use crate::usage::window::QUARTER_MS;
use crate::wire::budget_json;

/// Bucket spans (minutes) of each rollup table, finest first, each dividing the next.
const WORKSPACE_SPANS: &[i64] = &[15, 60, 1440];
const RUNTIME_SPANS: &[i64] = &[15, 60, 1440];
const AGENT_SPANS: &[i64] = &[15, 1440];

/// Re-evaluates every budget that the usage rows just written count toward (the workspace's,
/// and those of the rows' runtimes and agents), at `now`. Called in the report's transaction;
/// spend read by earlier reports comes from `kept` while it still holds.
pub fn evaluate_after_usage(
    tx: &Tx,
    pricing: &PriceTable,
    kept: &KeptSpend,
    rows: &[LedgerRow],
    now: i64,
) -> DbResult<()> {
    let mut seen: Vec<String> = Vec::new();
    let mut spends = SpendCache {
        kept: Some(kept),
        ..SpendCache::default()
    };
    let mut keys: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (&*r.workspace_id, &*r.runtime_id, &*r.agent_id))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for (workspace_id, runtime_id, agent_id) in keys {
        for budget in store::watching(tx, workspace_id, runtime_id, agent_id)? {
            if seen.contains(&budget.id) {
                continue;
            }
            seen.push(budget.id.clone());
            evaluate_with(tx, pricing, budget, now, &mut spends)?;
        }
    }
    Ok(())
}

/// Re-evaluates every budget of `workspace_id` at `now` (after its prices changed), in the
/// caller's transaction.
pub fn evaluate_workspace(
    tx: &Tx,
    pricing: &PriceTable,
    workspace_id: &str,
    now: i64,
) -> DbResult<()> {
    let mut spends = SpendCache::default();
    for budget in store::list(tx, workspace_id)? {
        evaluate_with(tx, pricing, budget, now, &mut spends)?;
    }
    Ok(())
}

/// The spend of `scope` in the buckets starting in `[start, end)`, in ticks; the rollup sums
/// and pending deltas are taken from `kept` where it holds them (else read).
pub fn spend(
    c: &Conn,
    book: &PriceBook,
    kept: Option<&KeptSpend>,
    workspace_id: &str,
    scope: &Scope,
    start: i64,
    end: i64,
) -> DbResult<Ticks> {
    let (table, spans) = match scope {
        Scope::Workspace => (SpendTable::Workspace(workspace_id), WORKSPACE_SPANS),
        Scope::Runtime(id) => (SpendTable::Runtime(id), RUNTIME_SPANS),
        Scope::Agent(id) => (
            SpendTable::Agent {
                workspace_id,
                agent_id: id,
            },
            AGENT_SPANS,
        ),
    };
    // The workspace's dated price overrides cut the period into epochs of one price each.
    let mut by_model: HashMap<(i64, usize), ([i128; 4], Ticks)> = HashMap::new();
    let (start, end) = (ceil_quarter(start), ceil_quarter(end));
    // What is kept, with the version this transaction sees.
    let kept = kept
        .map(|k| KeptSpend::version(c).map(|version| (k, version)))
        .transpose()?;
    for (span, from, to) in tiles_between_cuts(spans, start, end, book.cuts()) {
        let epoch = book.epoch_of(from);
        let parts = match kept {
            Some((kept, version)) => kept.sums(c, version, table, span, from, to)?,
            None => store::sums_by_model(c, table, span, from, to)?,
        };
        for part in parts {
            add_spend(by_model.entry((part.model_id, epoch)).or_default(), &part);
        }
    }
    // Deltas not yet folded into the rollups, each at the price epoch of its bucket.
    let pending = match kept {
        Some((kept, version)) => kept.pending(c, version, table, start, end)?,
        None => store::pending_by_model(c, table, start, end)?,
    };
    for (bucket, part) in pending {
        let epoch = book.epoch_of(bucket);
        add_spend(by_model.entry((part.model_id, epoch)).or_default(), &part);
    }
    let ids: Vec<i64> = by_model.keys().map(|(id, _)| *id).collect();
    let names = model_names(c, &ids)?;
    let mut total: Ticks = 0;
    for ((model_id, epoch), (tokens, reported)) in by_model {
        total += reported;
        let price = names
            .get(&model_id)
            .and_then(|(provider, model)| book.price_in_epoch(provider, model, epoch));
        if let Some(price) = price {
            let per_token = [
                price.input,
                price.output,
                price.cache_read,
                price.cache_write,
            ];
            total += tokens
                .iter()
                .zip(per_token)
                .map(|(n, tick)| n * tick)
                .sum::<i128>();
        }
    }
    Ok(total)
}

/// Adds one read's spend of a model to its (tokens to price, reported ticks).
fn add_spend(entry: &mut ([i128; 4], Ticks), part: &ModelSpend) {
    let p = &part.priced;
    for (acc, n) in entry
        .0
        .iter_mut()
        .zip([p.input, p.output, p.cache_read, p.cache_write])
    {
        *acc += i128::from(n);
    }
    entry.1 += part.reported_ticks;
}

/// The thresholds (percentages) that `spent` reaches out of `amount`, exactly in integers.
pub fn crossed(thresholds: &[i64], spent: Ticks, amount: Ticks) -> Vec<i64> {
    thresholds
        .iter()
        .copied()
        .filter(|t| spent * 100 >= i128::from(*t) * amount)
        .collect()
}

/// Spends already read in one evaluation pass, keyed by (workspace, scope, start, end):
/// budgets on the same scope and period read the rollups once, and each workspace's price
/// book is loaded once. `kept` holds spend across passes, where the caller has one.
#[derive(Default)]
struct SpendCache<'a> {
    known: HashMap<(String, Scope, i64, i64), Ticks>,
    books: HashMap<String, PriceBook<'a>>,
    kept: Option<&'a KeptSpend>,
}

/// A budget's period at some instant and what its scope spent in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub bounds: Bounds,
    pub spent: Ticks,
    pub amount: Ticks,
}

impl Measure {
    /// What `budget.exceeded_until` should hold: the period's end once the amount is spent.
    pub fn exceeded_until(&self) -> Option<i64> {
        (self.spent >= self.amount).then_some(self.bounds.end)
    }
}

/// Measures `budget` in the period holding `now`.
pub fn measure(c: &Conn, pricing: &PriceTable, budget: &Budget, now: i64) -> DbResult<Measure> {
    measure_with(c, pricing, budget, now, &mut SpendCache::default())
}

/// Appends one `budget:threshold_crossed` for each threshold `m` reaches that its period has
/// not announced yet, recording it in the same transaction.
pub fn announce_crossings(tx: &Tx, budget: &Budget, m: &Measure, now: i64) -> DbResult<()> {
    for threshold in crossed(&budget.thresholds, m.spent, m.amount) {
        let alert = Alert {
            threshold,
            spent_micros: i64::try_from(ticks_to_micros(m.spent)).unwrap_or(i64::MAX),
            crossed_at: now,
        };
        if !store::record_alert(tx, &budget.id, m.bounds.start, &alert)? {
            continue;
        }
        let payload = json!({
            "budget": budget_json(budget, now),
            "threshold": threshold,
            "spent_usd": ticks_to_usd(m.spent),
            "period_start": rfc3339(m.bounds.start),
        });
        events::append(
            tx,
            &budget.workspace_id,
            "budget:threshold_crossed",
            &Actor::system(),
            payload,
            now,
        )?;
    }
    Ok(())
}

fn measure_with<'a>(
    c: &Conn,
    pricing: &'a PriceTable,
    budget: &Budget,
    now: i64,
    spends: &mut SpendCache<'a>,
) -> DbResult<Measure> {
    let bounds = period_of(budget).bounds(tz_of(budget), now);
    let ws = &budget.workspace_id;
    let key = (ws.clone(), scope_of(budget), bounds.start, bounds.end);
    let spent = match spends.known.get(&key) {
        Some(ticks) => *ticks,
        None => {
            if !spends.books.contains_key(ws) {
                let book = PriceBook::load(c, pricing, ws)?;
                spends.books.insert(ws.clone(), book);
            }
            let book = &spends.books[ws];
            let ticks = spend(c, book, spends.kept, ws, &key.1, bounds.start, bounds.end)?;
            spends.known.insert(key, ticks);
            ticks
        }
    };
    Ok(Measure {
        bounds,
        spent,
        amount: i128::from(budget.amount_micros) * TICKS_PER_MICRO_USD,
    })
}

/// Measures, stores the exceeded state when it changed, and announces new crossings.
fn evaluate_with<'a>(
    tx: &Tx,
    pricing: &'a PriceTable,
    mut budget: Budget,
    now: i64,
    spends: &mut SpendCache<'a>,
) -> DbResult<()> {
    let m = measure_with(tx, pricing, &budget, now, spends)?;
    if m.exceeded_until() != budget.exceeded_until {
        budget.exceeded_until = m.exceeded_until();
        store::set_exceeded_until(tx, &budget.id, budget.exceeded_until)?;
    }
    announce_crossings(tx, &budget, &m, now)
}

/// The first quarter boundary at or after `ms`: a bucket starts at or after `ms` exactly when
/// it starts at or after this.
fn ceil_quarter(ms: i64) -> i64 {
    ms.div_euclid(QUARTER_MS) * QUARTER_MS
        + if ms.rem_euclid(QUARTER_MS) == 0 {
            0
        } else {
            QUARTER_MS
        }
}

/// `tiles` of each piece of `[start, end)` between the price cuts inside it, so no range
/// straddles a price change.
fn tiles_between_cuts(spans: &[i64], start: i64, end: i64, cuts: &[i64]) -> Vec<(i64, i64, i64)> {
    let mut edges = vec![start];
    edges.extend(
        cuts.iter()
            .map(|&c| ceil_quarter(c))
            .filter(|&c| c > start && c < end),
    );
    edges.push(end);
    edges.dedup();
    edges
        .windows(2)
        .flat_map(|pair| tiles(spans, pair[0], pair[1]))
        .collect()
}

/// The fewest (span, from, to) ranges of aligned buckets of `spans` (minutes, finest first,
/// each dividing the next) that tile `[start, end)`, both multiples of the finest span: at
/// each point the coarsest bucket that is aligned there and still fits.
fn tiles(spans: &[i64], start: i64, end: i64) -> Vec<(i64, i64, i64)> {
    let mut out: Vec<(i64, i64, i64)> = Vec::new();
    let mut at = start;
    while at < end {
        let span = spans
            .iter()
            .rev()
            .copied()
            .find(|s| at.rem_euclid(s * 60_000) == 0 && at + s * 60_000 <= end)
            .unwrap_or(15);
        let next = at + span * 60_000;
        match out.last_mut() {
            Some((last_span, _, to)) if *last_span == span && *to == at => *to = next,
            _ => out.push((span, at, next)),
        }
        at = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::money::TICKS_PER_USD;

    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;

    #[test]
    fn no_tile_straddles_a_price_cut() {
        let cut = 4 * D + 5 * H + QUARTER_MS;
        assert_eq!(
            tiles_between_cuts(&[15, 60, 1440], 3 * D, 6 * D, &[D, cut, 9 * D]),
            vec![
                (1440, 3 * D, 4 * D),
                (60, 4 * D, 4 * D + 5 * H),
                (15, 4 * D + 5 * H, cut),
                (15, cut, 4 * D + 6 * H),
                (60, 4 * D + 6 * H, 5 * D),
                (1440, 5 * D, 6 * D),
            ]
        );
    }

    #[test]
    fn tiles_use_the_coarsest_buckets_that_fit() {
        // A Kathmandu day, 18:15 → 18:15 UTC: no whole UTC day fits in it.
        let start = 20 * D + 18 * H + QUARTER_MS;
        let end = start + D;
        assert_eq!(
            tiles(&[15, 60, 1440], start, end),
            vec![
                (15, start, 20 * D + 19 * H),
                (60, 20 * D + 19 * H, 21 * D + 18 * H),
                (15, 21 * D + 18 * H, end),
            ]
        );
        // Three UTC days are three day buckets.
        assert_eq!(
            tiles(&[15, 60, 1440], 3 * D, 6 * D),
            vec![(1440, 3 * D, 6 * D)]
        );
        // Without hours, the edges are quarters.
        assert_eq!(
            tiles(&[15, 1440], 3 * D - H, 5 * D + QUARTER_MS),
            vec![
                (15, 3 * D - H, 3 * D),
                (1440, 3 * D, 5 * D),
                (15, 5 * D, 5 * D + QUARTER_MS)
            ]
        );
        assert!(tiles(&[15, 60], 5 * D, 5 * D).is_empty());
    }

    #[test]
    fn tiles_cover_every_quarter_exactly_once() {
        for (start_q, len_q) in [(0, 1), (3, 97), (95, 400), (1, 5000), (7, 2976)] {
            let start = 1_000 * D + start_q * QUARTER_MS;
            let end = start + len_q * QUARTER_MS;
            for spans in [&[15, 60, 1440][..], &[15, 1440][..]] {
                let ranges = tiles(spans, start, end);
                let mut covered = 0;
                let mut at = start;
                for (span, from, to) in ranges {
                    assert_eq!(from, at, "contiguous");
                    assert_eq!(from.rem_euclid(span * 60_000), 0, "aligned");
                    assert_eq!((to - from).rem_euclid(span * 60_000), 0, "whole buckets");
                    covered += (to - from) / QUARTER_MS;
                    at = to;
                }
                assert_eq!((at, covered), (end, len_q));
            }
        }
    }

    #[test]
    fn quarters_round_up() {
        assert_eq!(ceil_quarter(0), 0);
        assert_eq!(ceil_quarter(1), QUARTER_MS);
        assert_eq!(ceil_quarter(QUARTER_MS), QUARTER_MS);
        assert_eq!(ceil_quarter(-1), 0);
    }

    #[test]
    fn thresholds_are_crossed_at_exact_fractions() {
        let amount = 10 * TICKS_PER_USD;
        let ts = [50, 80, 100];
        assert_eq!(crossed(&ts, 0, amount), Vec::<i64>::new());
        assert_eq!(
            crossed(&ts, 5 * TICKS_PER_USD - 1, amount),
            Vec::<i64>::new()
        );
        assert_eq!(crossed(&ts, 5 * TICKS_PER_USD, amount), vec![50]);
        assert_eq!(crossed(&ts, 8 * TICKS_PER_USD, amount), vec![50, 80]);
        assert_eq!(crossed(&ts, 10 * TICKS_PER_USD, amount), vec![50, 80, 100]);
        assert_eq!(crossed(&ts, 99 * TICKS_PER_USD, amount), vec![50, 80, 100]);
        // 1/3 of a dollar is never exactly 33 %, but it is past it.
        assert_eq!(
            crossed(&[33, 34], TICKS_PER_USD / 3 + 1, TICKS_PER_USD),
            vec![33]
        );
    }
}
