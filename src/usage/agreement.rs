//! `hangar check`: do the usage views agree? For every workspace with usage and each of a few
//! zones, the views are computed by the same report functions the API uses over one window —
//! the 30 local days ending on the date of the workspace's latest ledger row (so the check
//! needs no clock and always covers data) — and every cell of every view is compared, exactly
//! in ticks, with the same cell summed from the ledger rows the drill-down lists:
//! workspace daily, summary, by-runtime and by-agent; each runtime's daily, by-agent and
//! by-hour report. The workspace daily CSV export is rendered by the API's code and read back:
//! its token columns are compared with the ledger exactly, and each `cost_usd` cell with its
//! row's ticks rounded to the micro-dollar (CSV carries no ticks). `task_count` is not
//! compared: a ledger row with no tokens and no cost counts in a view's row only when it shares
//! that row with usage, since all-zero rows are left out (API.md §5). Prices come from the
//! built-in table and each workspace's dated overrides; any prices give agreeing views, since
//! pricing is linear in the tokens.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use chrono_tz::Tz;

use crate::db::usage::{runtimes_with_usage, workspaces_with_usage, LedgerFilter};
use crate::db::{Conn, DbResult};
use crate::usage::money::{parse_usd, ticks_to_micros, TICKS_PER_MICRO_USD};
use crate::usage::pricebook::PriceBook;
use crate::usage::pricing::PriceTable;
use crate::usage::reports::calendar::Period;
use crate::usage::reports::drill::{self, TaskUsage};
use crate::usage::reports::{self, DayModel, Totals, View};
use crate::usage::window::{instant_of_ms, local_hour};
use crate::usage::{csv, wire};

/// Local days in the compared window.
pub const WINDOW_DAYS: u32 = 30;

/// The zones each workspace is viewed in: whole hours, a :45 offset, and a zone with DST.
pub const ZONES: [Tz; 3] = [Tz::UTC, Tz::Asia__Kathmandu, Tz::America__New_York];

/// Differing cells listed per view, at most.
const MAX_CELLS_PER_VIEW: usize = 3;

/// The exact sums compared between views.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    /// input, output, cache read, cache write.
    tokens: [i128; 4],
    cost_ticks: i128,
    unpriced_tokens: i128,
}

impl Tally {
    fn of(t: &Totals) -> Tally {
        Tally {
            tokens: [
                t.input_tokens,
                t.output_tokens,
                t.cache_read_tokens,
                t.cache_write_tokens,
            ],
            cost_ticks: t.cost_ticks,
            unpriced_tokens: t.unpriced_tokens,
        }
    }

    fn add(&mut self, o: &Tally) {
        for (a, b) in self.tokens.iter_mut().zip(o.tokens) {
            *a += b;
        }
        self.cost_ticks += o.cost_ticks;
        self.unpriced_tokens += o.unpriced_tokens;
    }

    fn without_cost(self) -> Tally {
        Tally {
            cost_ticks: 0,
            ..self
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let [input, output, cache_read, cache_write] = self.tokens;
        write!(
            f,
            "input {input}, output {output}, cache read {cache_read}, cache write {cache_write}, \
             cost {} ticks, unpriced {}",
            self.cost_ticks, self.unpriced_tokens
        )
    }
}

/// Every cell where a view and the ledger differ, one line each (empty when all agree).
pub fn disagreements(c: &Conn) -> DbResult<Vec<String>> {
    let pricing = PriceTable::builtin();
    let mut out = Vec::new();
    for (ws, latest) in workspaces_with_usage(c)? {
        for tz in ZONES {
            out.extend(workspace_views(c, &pricing, &ws, tz, latest)?);
        }
    }
    Ok(out)
}

/// The differences between each view of workspace `ws` in `tz` and its ledger, over the
/// `WINDOW_DAYS` local days ending on the local date of `now`.
pub fn workspace_views(
    c: &Conn,
    pricing: &PriceTable,
    ws: &str,
    tz: Tz,
    now: i64,
) -> DbResult<Vec<String>> {
    let period = Period::workspace_days(now, tz, WINDOW_DAYS);
    let view = View {
        pricing,
        tz,
        since: period.since,
        now,
    };
    let filter = LedgerFilter {
        workspace_id: ws,
        ..LedgerFilter::default()
    };
    let book = PriceBook::load(c, pricing, ws)?;
    let (ledger, _) = drill::task_usage(c, &book, tz, &filter, period.since, period.end)?;
    let mut cmp = Comparer {
        context: format!("workspace {ws}, {} in {}", period.window, tz.name()),
        problems: Vec::new(),
    };
    let hour = |u: &TaskUsage| local_hour(instant_of_ms(u.row.occurred_at), tz);

    let daily = reports::workspace_daily(c, view, ws)?;
    cmp.cells(
        "workspace daily",
        daily.iter().map(|r| ((r.date, r.model.clone()), &r.totals)),
        ledger
            .iter()
            .map(|u| ((u.date, u.row.model.clone()), &u.totals)),
    );
    compare_csv(&mut cmp, &daily, &ledger);
    let summary = reports::workspace_summary(c, view, ws)?;
    cmp.cells(
        "workspace summary",
        summary.iter().map(|r| (r.model.clone(), &r.totals)),
        ledger.iter().map(|u| (u.row.model.clone(), &u.totals)),
    );
    let by_runtime = reports::workspace_by_runtime(c, view, ws)?;
    cmp.cells(
        "workspace by-runtime",
        by_runtime.iter().map(|r| (r.id.clone(), &r.totals)),
        ledger.iter().map(|u| (u.row.runtime_id.clone(), &u.totals)),
    );
    let by_agent = reports::workspace_by_agent(c, view, ws)?;
    cmp.cells(
        "workspace by-agent",
        by_agent.iter().map(|r| (r.id.clone(), &r.totals)),
        ledger.iter().map(|u| (u.row.agent_id.clone(), &u.totals)),
    );

    let (mut days, mut agents, mut hours) = (Vec::new(), Vec::new(), Vec::new());
    for rt in runtimes_with_usage(c, ws)? {
        for r in reports::runtime_daily(c, view, &rt)? {
            days.push(((rt.clone(), r.date, r.provider, r.model), r.totals));
        }
        for r in reports::runtime_by_agent(c, view, &rt)? {
            agents.push(((rt.clone(), r.id, r.provider, r.model), r.totals));
        }
        for r in reports::runtime_by_hour(c, view, &rt)? {
            hours.push(((rt.clone(), r.hour, r.model), r.totals));
        }
    }
    cmp.cells(
        "runtime usage (daily)",
        days.iter().map(|(k, t)| (k.clone(), t)),
        ledger.iter().map(|u| {
            let r = &u.row;
            let key = (
                r.runtime_id.clone(),
                u.date,
                r.provider.clone(),
                r.model.clone(),
            );
            (key, &u.totals)
        }),
    );
    cmp.cells(
        "runtime by-agent",
        agents.iter().map(|(k, t)| (k.clone(), t)),
        ledger.iter().map(|u| {
            let r = &u.row;
            let key = (
                r.runtime_id.clone(),
                r.agent_id.clone(),
                r.provider.clone(),
                r.model.clone(),
            );
            (key, &u.totals)
        }),
    );
    cmp.cells(
        "runtime by-hour",
        hours.iter().map(|(k, t)| (k.clone(), t)),
        ledger.iter().map(|u| {
            let key = (u.row.runtime_id.clone(), hour(u), u.row.model.clone());
            (key, &u.totals)
        }),
    );
    Ok(cmp.problems)
}

/// Renders the workspace daily CSV export from `daily` and reads it back: token columns must
/// equal the ledger's, each `cost_usd` cell its row's ticks rounded to the micro-dollar.
fn compare_csv(cmp: &mut Comparer, daily: &[DayModel], ledger: &[TaskUsage]) {
    let records = csv::to_csv(&wire::workspace_days(daily.to_vec())).and_then(|t| csv::parse(&t));
    let records = match records {
        Ok(r) => r,
        Err(e) => return cmp.problem(format!("workspace daily CSV: cannot be read back: {e}")),
    };
    let header = records.first().cloned().unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| h == name);
    let names = [
        "date",
        "model",
        "total_input_tokens",
        "total_output_tokens",
        "total_cache_read_tokens",
        "total_cache_write_tokens",
        "cost_usd",
        "unpriced_tokens",
    ];
    let Some(at) = names
        .iter()
        .map(|n| column(n))
        .collect::<Option<Vec<usize>>>()
    else {
        return cmp.problem(format!(
            "workspace daily CSV: header {header:?} lacks a column"
        ));
    };
    if records.len() != daily.len() + 1 {
        return cmp.problem(format!(
            "workspace daily CSV: {} records for {} rows",
            records.len().saturating_sub(1),
            daily.len()
        ));
    }
    let mut cells = Vec::new();
    for (record, row) in records[1..].iter().zip(daily) {
        let field = |i: usize| record.get(at[i]).map_or("", String::as_str);
        let number = |i: usize| field(i).parse::<i128>().unwrap_or(i128::MIN);
        let cost = field(6);
        let rendered = match cost {
            "" => None,
            text => Some(parse_usd(text).unwrap_or(-1)),
        };
        let expected = row
            .totals
            .cost()
            .map(|t| ticks_to_micros(t) * TICKS_PER_MICRO_USD);
        if rendered != expected {
            cmp.problem(format!(
                "workspace daily CSV ({}, {}): cost_usd {cost:?} is not the row's {expected:?} \
                 ticks rounded to the micro-dollar",
                row.date, row.model
            ));
        }
        let tally = Tally {
            tokens: [number(2), number(3), number(4), number(5)],
            cost_ticks: 0,
            unpriced_tokens: number(7),
        };
        cells.push(((field(0).to_string(), field(1).to_string()), tally));
    }
    cmp.tallies(
        "workspace daily CSV (tokens)",
        cells,
        ledger.iter().map(|u| {
            let key = (u.date.to_string(), u.row.model.clone());
            (key, Tally::of(&u.totals).without_cost())
        }),
    );
}

/// Collects the differences found, each line prefixed with the workspace, window and zone.
struct Comparer {
    context: String,
    problems: Vec<String>,
}

impl Comparer {
    fn problem(&mut self, text: String) {
        self.problems.push(format!("{}: {text}", self.context));
    }

    /// Compares a view's cells with the same cells summed from the ledger.
    fn cells<'t, K: Ord + Debug>(
        &mut self,
        view: &str,
        got: impl IntoIterator<Item = (K, &'t Totals)>,
        ledger: impl IntoIterator<Item = (K, &'t Totals)>,
    ) {
        let tally = |(k, t): (K, &Totals)| (k, Tally::of(t));
        self.tallies(
            view,
            got.into_iter().map(tally),
            ledger.into_iter().map(tally),
        );
    }

    fn tallies<K: Ord + Debug>(
        &mut self,
        view: &str,
        got: impl IntoIterator<Item = (K, Tally)>,
        ledger: impl IntoIterator<Item = (K, Tally)>,
    ) {
        let fold = |cells: &mut dyn Iterator<Item = (K, Tally)>| {
            let mut map: BTreeMap<K, Tally> = BTreeMap::new();
            for (k, t) in cells {
                map.entry(k).or_default().add(&t);
            }
            // Reports leave out rows with no tokens and no cost.
            map.retain(|_, t| *t != Tally::default());
            map
        };
        let got = fold(&mut got.into_iter());
        let want = fold(&mut ledger.into_iter());
        let mut keys: Vec<&K> = got.keys().chain(want.keys()).collect();
        keys.sort();
        keys.dedup();
        let differing: Vec<String> = keys
            .into_iter()
            .filter_map(|k| {
                let (g, w) = (got.get(k).copied(), want.get(k).copied());
                (g != w).then(|| {
                    let show =
                        |t: Option<Tally>| t.map_or("nothing".to_string(), |t| t.to_string());
                    format!(
                        "{view} {k:?}: the view has {}, the ledger {}",
                        show(g),
                        show(w)
                    )
                })
            })
            .collect();
        let more = differing.len().saturating_sub(MAX_CELLS_PER_VIEW);
        for line in differing.into_iter().take(MAX_CELLS_PER_VIEW) {
            self.problem(line);
        }
        if more > 0 {
            self.problem(format!("{view}: {more} more cells differ"));
        }
    }
}
