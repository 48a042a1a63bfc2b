//! The usage reports of API.md §5, each assembled from rollup rows (never the raw ledger),
//! except activity, which counts started tasks. A report reads the ranges `plan` chooses,
//! folds the rows by (group, runtime or agent, model), prices each (provider, model) part —
//! reported costs plus table prices for the rest, unknown models as unpriced tokens — and sorts
//! as the contract says. Amounts stay exact in ticks; rounding happens at rendering.

pub mod book;
pub mod calendar;
pub mod drill;
pub mod plan;

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::db::runtimes;
use crate::db::usage::reads::{self, RollupRow, Scope};
use crate::db::usage::rollup::{self, Sums};
use crate::db::usage::{model_names, started_per_quarter};
use crate::db::{Conn, DbResult};
use crate::usage::money::Ticks;
use crate::usage::pricebook::PriceBook;
use crate::usage::pricing::{Price, PriceTable};
use crate::usage::window::{day_of_quarter, hour_of_quarter};
use calendar::DayBuckets;
use plan::Grouping;

/// What every report needs besides its scope: prices, viewing zone, window start and now.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub pricing: &'a PriceTable,
    pub tz: Tz,
    /// Rows whose instant is at or after this count (Unix ms).
    pub since: i64,
    pub now: i64,
}

/// Sums of one report row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub input_tokens: i128,
    pub output_tokens: i128,
    pub cache_read_tokens: i128,
    pub cache_write_tokens: i128,
    /// Ledger rows contributing (a task counts once per provider and model it used).
    pub task_count: i64,
    /// Reported costs plus the table cost of tokens without one, in ticks.
    pub cost_ticks: Ticks,
    /// Whether anything in the row could be priced; when not, the cost is unknown (null).
    pub priced: bool,
    /// Tokens with neither a reported cost nor a table price.
    pub unpriced_tokens: i128,
}

/// A row of the runtime usage report: one local date, provider and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDay {
    pub date: NaiveDate,
    pub provider: String,
    pub model: String,
    pub totals: Totals,
    /// Cache-read tokens × (input price − cache-read price); `None` for a model without a price.
    pub cache_savings: Option<Ticks>,
}

/// A row grouped by an id (agent or runtime), optionally with a provider and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ById {
    pub id: String,
    pub provider: String,
    pub model: String,
    pub totals: Totals,
}

/// A row grouped by local hour and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourModel {
    pub hour: u32,
    pub model: String,
    pub totals: Totals,
}

/// A row grouped by local date and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayModel {
    pub date: NaiveDate,
    pub model: String,
    pub totals: Totals,
}

/// A row grouped by model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTotals {
    pub model: String,
    pub totals: Totals,
}

impl Totals {
    /// The cost in ticks, or `None` when nothing in the row could be priced.
    pub fn cost(&self) -> Option<Ticks> {
        self.priced.then_some(self.cost_ticks)
    }

    /// Rows whose tokens and cost are all zero are left out of reports.
    pub fn is_empty(&self) -> bool {
        self.input_tokens == 0
            && self.output_tokens == 0
            && self.cache_read_tokens == 0
            && self.cache_write_tokens == 0
            && self.cost_ticks == 0
    }

    fn of(acc: &Acc, price: Option<&Price>) -> Totals {
        let (p, r) = (&acc.priced, &acc.reported);
        let priced_total: i128 = p.iter().sum();
        let mut t = Totals {
            input_tokens: p[0] + r[0],
            output_tokens: p[1] + r[1],
            cache_read_tokens: p[2] + r[2],
            cache_write_tokens: p[3] + r[3],
            task_count: acc.ledger_rows,
            cost_ticks: acc.reported_ticks,
            priced: r.iter().any(|n| *n != 0) || acc.reported_ticks != 0,
            unpriced_tokens: 0,
        };
        match price {
            Some(price) => {
                let per_token = [
                    price.input,
                    price.output,
                    price.cache_read,
                    price.cache_write,
                ];
                t.cost_ticks += p
                    .iter()
                    .zip(per_token)
                    .map(|(n, tick)| n * tick)
                    .sum::<i128>();
                t.priced |= priced_total != 0;
            }
            None => t.unpriced_tokens = priced_total,
        }
        t
    }

    /// Adds `o`'s sums: exact, so a sum of rows equals the row of their union in ticks.
    pub fn add(&mut self, o: &Totals) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.task_count += o.task_count;
        self.cost_ticks += o.cost_ticks;
        self.priced |= o.priced;
        self.unpriced_tokens += o.unpriced_tokens;
    }
}

/// `GET /api/runtimes/{id}/usage`: by (local date, provider, model), newest date first.
pub fn runtime_daily(c: &Conn, view: View, runtime_id: &str) -> DbResult<Vec<RuntimeDay>> {
    runtime_days(c, view, runtime_id, DayBuckets::default())
}

/// The runtime usage report with `days`' cut and buckets: by (first local date of the bucket,
/// provider, model), newest first.
pub fn runtime_days(
    c: &Conn,
    view: View,
    runtime_id: &str,
    days: DayBuckets,
) -> DbResult<Vec<RuntimeDay>> {
    let tz = view.tz;
    let parts = priced_parts(
        c,
        view,
        Scope::Runtime(runtime_id),
        Grouping::LocalDay,
        |b| days.bucket_of(day_of_quarter(b, tz)),
    )?;
    let mut rows: Vec<RuntimeDay> = parts
        .into_iter()
        .filter_map(|p| {
            Some(RuntimeDay {
                date: p.group?,
                cache_savings: p.cache_savings,
                provider: p.provider,
                model: p.model,
                totals: p.totals,
            })
        })
        .filter(|r| !r.totals.is_empty())
        .collect();
    rows.sort_by(|a, b| (b.date, &a.provider, &a.model).cmp(&(a.date, &b.provider, &b.model)));
    Ok(rows)
}

/// `GET /api/runtimes/{id}/usage/by-agent`: by (agent, provider, model), in that order.
pub fn runtime_by_agent(c: &Conn, view: View, runtime_id: &str) -> DbResult<Vec<ById>> {
    let parts = priced_parts(
        c,
        view,
        Scope::AgentsOfRuntime(runtime_id),
        Grouping::Window,
        |_| (),
    )?;
    let mut rows: Vec<ById> = parts
        .into_iter()
        .map(|p| ById {
            id: p.dimension.unwrap_or_default(),
            provider: p.provider,
            model: p.model,
            totals: p.totals,
        })
        .filter(|r| !r.totals.is_empty())
        .collect();
    rows.sort_by(|a, b| (&a.id, &a.provider, &a.model).cmp(&(&b.id, &b.provider, &b.model)));
    Ok(rows)
}

/// `GET /api/runtimes/{id}/usage/by-hour`: by (local hour, model), in that order.
pub fn runtime_by_hour(c: &Conn, view: View, runtime_id: &str) -> DbResult<Vec<HourModel>> {
    let tz = view.tz;
    let parts = priced_parts(
        c,
        view,
        Scope::Runtime(runtime_id),
        Grouping::LocalHour,
        |b| hour_of_quarter(b, tz),
    )?;
    let merged = merge_by(parts, |p| (p.group, p.model.clone()));
    let mut rows: Vec<HourModel> = merged
        .into_iter()
        .map(|((hour, model), totals)| HourModel {
            hour,
            model,
            totals,
        })
        .collect();
    rows.sort_by(|a, b| (a.hour, &a.model).cmp(&(b.hour, &b.model)));
    Ok(rows)
}

/// `GET /api/runtimes/{id}/activity`: started tasks by local hour of `started_at`, from
/// `since` when given; hours without any left out.
pub fn activity(
    c: &Conn,
    tz: Tz,
    runtime_id: &str,
    since: Option<i64>,
) -> DbResult<Vec<(u32, i64)>> {
    let mut by_hour = [0i64; 24];
    for (quarter, count) in started_per_quarter(c, runtime_id, since)? {
        let hour = hour_of_quarter(quarter, tz) as usize;
        by_hour[hour.min(23)] += count;
    }
    Ok((0u32..)
        .zip(by_hour)
        .filter(|(_, count)| *count > 0)
        .collect())
}

/// `GET /api/workspaces/{ws}/usage/daily`: by (local date, model), newest date first.
pub fn workspace_daily(c: &Conn, view: View, workspace_id: &str) -> DbResult<Vec<DayModel>> {
    workspace_days(c, view, workspace_id, DayBuckets::default())
}

/// The workspace daily report with `days`' cut and buckets: by (first local date of the
/// bucket, model), newest first.
pub fn workspace_days(
    c: &Conn,
    view: View,
    workspace_id: &str,
    days: DayBuckets,
) -> DbResult<Vec<DayModel>> {
    let tz = view.tz;
    let parts = priced_parts(
        c,
        view,
        Scope::Workspace(workspace_id),
        Grouping::LocalDay,
        |b| days.bucket_of(day_of_quarter(b, tz)),
    )?;
    let merged = merge_by(parts, |p| (p.group, p.model.clone()));
    let mut rows: Vec<DayModel> = merged
        .into_iter()
        .filter_map(|((date, model), totals)| {
            Some(DayModel {
                date: date?,
                model,
                totals,
            })
        })
        .collect();
    rows.sort_by(|a, b| (b.date, &a.model).cmp(&(a.date, &b.model)));
    Ok(rows)
}

/// `GET /api/workspaces/{ws}/usage/summary`: by model, largest input + output first.
pub fn workspace_summary(c: &Conn, view: View, workspace_id: &str) -> DbResult<Vec<ModelTotals>> {
    let parts = priced_parts(
        c,
        view,
        Scope::Workspace(workspace_id),
        Grouping::Window,
        |_| (),
    )?;
    let merged = merge_by(parts, |p| p.model.clone());
    let mut rows: Vec<ModelTotals> = merged
        .into_iter()
        .map(|(model, totals)| ModelTotals { model, totals })
        .collect();
    rows.sort_by(|a, b| {
        let volume = |t: &Totals| t.input_tokens + t.output_tokens;
        (a.totals.cost().is_none(), volume(&b.totals), &a.model).cmp(&(
            b.totals.cost().is_none(),
            volume(&a.totals),
            &b.model,
        ))
    });
    Ok(rows)
}

/// `GET /api/workspaces/{ws}/usage/by-runtime`: per runtime (deleted ones too), largest cost
/// first.
pub fn workspace_by_runtime(c: &Conn, view: View, workspace_id: &str) -> DbResult<Vec<ById>> {
    let scope = Scope::RuntimesOfWorkspace(workspace_id);
    by_id_largest_cost_first(c, view, scope)
}

/// `GET /api/workspaces/{ws}/usage/by-agent`: per agent (deleted ones too), largest cost first.
pub fn workspace_by_agent(c: &Conn, view: View, workspace_id: &str) -> DbResult<Vec<ById>> {
    by_id_largest_cost_first(c, view, Scope::AgentsOfWorkspace(workspace_id))
}

fn by_id_largest_cost_first(c: &Conn, view: View, scope: Scope) -> DbResult<Vec<ById>> {
    let parts = priced_parts(c, view, scope, Grouping::Window, |_| ())?;
    let merged = merge_by(parts, |p| p.dimension.clone().unwrap_or_default());
    let mut rows: Vec<ById> = merged
        .into_iter()
        .map(|(id, totals)| ById {
            id,
            provider: String::new(),
            model: String::new(),
            totals,
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.totals.cost().is_none(), b.totals.cost_ticks, &a.id).cmp(&(
            b.totals.cost().is_none(),
            a.totals.cost_ticks,
            &b.id,
        ))
    });
    Ok(rows)
}

/// The sums of one (group, runtime or agent, provider, model), priced.
struct Part<G> {
    group: G,
    dimension: Option<String>,
    provider: String,
    model: String,
    /// Cache-read tokens × (input − cache-read price) per price epoch; `None` if never priced.
    cache_savings: Option<Ticks>,
    totals: Totals,
}

/// `priced_parts_with` the price book of the scope's workspace.
fn priced_parts<G: Copy + Eq + Hash>(
    c: &Conn,
    view: View,
    scope: Scope,
    grouping: Grouping,
    group_of: impl Fn(i64) -> G,
) -> DbResult<Vec<Part<G>>> {
    let workspace = match scope {
        Scope::Runtime(id) | Scope::AgentsOfRuntime(id) => {
            runtimes::get(c, id)?.map(|rt| rt.workspace_id)
        }
        Scope::Workspace(id) | Scope::RuntimesOfWorkspace(id) | Scope::AgentsOfWorkspace(id) => {
            Some(id.to_string())
        }
    };
    let book = match workspace {
        Some(ws) => PriceBook::load(c, view.pricing, &ws)?,
        None => PriceBook::table_only(view.pricing),
    };
    priced_parts_with(c, view, &book, scope, grouping, group_of)
}

/// Reads `scope` over the report's window, folds its rows by (group of the bucket, dimension,
/// model, price epoch), prices each fold with `book` and adds up the epochs.
fn priced_parts_with<G: Copy + Eq + Hash>(
    c: &Conn,
    view: View,
    book: &PriceBook,
    scope: Scope,
    grouping: Grouping,
    group_of: impl Fn(i64) -> G,
) -> DbResult<Vec<Part<G>>> {
    type Key<G> = (G, Option<String>, i64);
    let mut folded: HashMap<(Key<G>, usize), Acc> = HashMap::new();
    let cuts = book.cuts();
    let planned = plan::ranges(scope.spans(), grouping, view.tz, view.since, view.now, cuts);
    let pending = reads::pending(c, scope)?;
    // Ranges inside one group lie, as no range straddles a price cut, in one price epoch:
    // the database sums them, all ranges of a span in one query.
    for &span in scope.spans() {
        // Each distinct range is read once: the hours that end one local day (subtracted) are
        // the hours that start the next (added), off the UTC grid. Per range: (its group, its
        // epoch, whether it is subtracted) for every group it counts in.
        let mut bounds: Vec<(i64, i64)> = Vec::new();
        let mut uses: Vec<Vec<(G, usize, bool)>> = Vec::new();
        let mut index_of: HashMap<(i64, i64), usize> = HashMap::new();
        for range in planned.iter().filter(|r| r.span == span) {
            let Some(at) = range.group else { continue };
            let k = *index_of.entry((range.start, range.end)).or_insert_with(|| {
                bounds.push((range.start, range.end));
                uses.push(Vec::new());
                bounds.len() - 1
            });
            uses[k].push((group_of(at), book.epoch_of(range.start), range.negative));
        }
        if bounds.is_empty() {
            continue;
        }
        reads::summed_ranges(c, scope, &pending, span, &bounds, |at, row: RollupRow| {
            for &(group, epoch, negative) in &uses[at] {
                let acc = folded
                    .entry(((group, row.dimension.clone(), row.model_id), epoch))
                    .or_default();
                if negative {
                    acc.subtract(&row.sums);
                } else {
                    acc.add(&row.sums);
                }
            }
        })?;
    }
    for range in planned.iter().filter(|r| r.group.is_none()) {
        // Rows come in bucket order: name each bucket's group and epoch once.
        let mut last: Option<(i64, G, usize)> = None;
        reads::read_each(
            c,
            scope,
            &pending,
            range.span,
            range.start,
            range.end,
            |row: RollupRow| {
                let (group, epoch) = match last {
                    Some((bucket, group, epoch)) if bucket == row.bucket => (group, epoch),
                    _ => {
                        let (group, epoch) = (group_of(row.bucket), book.epoch_of(row.bucket));
                        last = Some((row.bucket, group, epoch));
                        (group, epoch)
                    }
                };
                folded
                    .entry(((group, row.dimension, row.model_id), epoch))
                    .or_default()
                    .add(&row.sums);
            },
        )?;
    }
    let mut ids: Vec<i64> = folded.keys().map(|((_, _, id), _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = model_names(c, &ids)?;
    let mut prices: HashMap<(i64, usize), Option<Price>> = HashMap::new();
    let mut parts: HashMap<Key<G>, Part<G>> = HashMap::new();
    for ((key, epoch), acc) in folded {
        let model_id = key.2;
        let (provider, model) = names.get(&model_id).cloned().unwrap_or_default();
        let price = *prices
            .entry((model_id, epoch))
            .or_insert_with(|| book.price_in_epoch(&provider, &model, epoch));
        let totals = Totals::of(&acc, price.as_ref());
        let savings = price.map(|p| totals.cache_read_tokens * (p.input - p.cache_read));
        let part = parts.entry(key.clone()).or_insert_with(|| Part {
            group: key.0,
            dimension: key.1,
            provider,
            model,
            cache_savings: None,
            totals: Totals::default(),
        });
        part.totals.add(&totals);
        if let Some(savings) = savings {
            *part.cache_savings.get_or_insert(0) += savings;
        }
    }
    Ok(parts.into_values().collect())
}

/// Adds parts with the same `key`, dropping rows left all zero.
fn merge_by<G, K: Eq + Hash>(parts: Vec<Part<G>>, key: impl Fn(&Part<G>) -> K) -> Vec<(K, Totals)> {
    let mut merged: HashMap<K, Totals> = HashMap::new();
    for p in &parts {
        merged.entry(key(p)).or_default().add(&p.totals);
    }
    merged.into_iter().filter(|(_, t)| !t.is_empty()).collect()
}

/// Sums of many rollup rows, in 128 bits so no fold can overflow.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    ledger_rows: i64,
    /// input, output, cache read, cache write: tokens priced from the table.
    priced: [i128; 4],
    /// The same for tokens with a reported cost.
    reported: [i128; 4],
    reported_ticks: i128,
}

impl Acc {
    /// Takes away `s` (a reading that covered more than its group; the sums stay exact).
    fn subtract(&mut self, s: &Sums) {
        let mut taken = Acc::default();
        taken.add(s);
        for (acc, v) in self.priced.iter_mut().zip(taken.priced) {
            *acc -= v;
        }
        for (acc, v) in self.reported.iter_mut().zip(taken.reported) {
            *acc -= v;
        }
        self.ledger_rows -= taken.ledger_rows;
        self.reported_ticks -= taken.reported_ticks;
    }

    fn add(&mut self, s: &Sums) {
        let fields = |t: &rollup::TokenSums| {
            [t.input, t.output, t.cache_read, t.cache_write].map(i128::from)
        };
        for (acc, v) in self.priced.iter_mut().zip(fields(&s.priced)) {
            *acc += v;
        }
        for (acc, v) in self.reported.iter_mut().zip(fields(&s.reported)) {
            *acc += v;
        }
        self.ledger_rows += s.ledger_rows;
        self.reported_ticks += s.reported_ticks();
    }
}
