//! The price book: the price table in force (`--pricing` file or built-in) with a workspace's
//! dated overrides layered on top. An override is one more table entry under its model name
//! (`model` or `provider/model`) from its `valid_from` on, until a later override of the same
//! name; lookups normalise exactly as the table does (`pricing::lookup_in`). The instants where
//! any override starts ("cuts") split time into epochs in which every model has one price, so
//! a report prices each rollup bucket with the entry valid at its instant.

use std::collections::HashMap;

use crate::db::prices::PriceOverride;
use crate::db::{Conn, DbResult};
use crate::usage::pricing::{fingerprint_lines, lookup_in, price_line, Price, PriceTable};

/// The table plus one workspace's overrides.
#[derive(Debug, Clone)]
pub struct PriceBook<'a> {
    table: &'a PriceTable,
    /// (valid_from, model name, price), ascending by valid_from.
    overrides: Vec<(i64, String, Price)>,
    /// Distinct override start instants, ascending.
    cuts: Vec<i64>,
}

/// A model's price as shown by `GET /api/workspaces/{ws}/pricing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub model: String,
    pub price: Price,
    /// The override's start, when the price is an override.
    pub valid_from: Option<i64>,
}

impl<'a> PriceBook<'a> {
    /// The book of `workspace_id`: `table` with the workspace's stored overrides.
    pub fn load(c: &Conn, table: &'a PriceTable, workspace_id: &str) -> DbResult<PriceBook<'a>> {
        let rows = crate::db::prices::list(c, workspace_id)?;
        let mut book = PriceBook {
            table,
            overrides: Vec::new(),
            cuts: Vec::new(),
        };
        for row in &rows {
            book.overrides
                .push((row.valid_from, row.model.clone(), price_of(row)));
        }
        book.reindex();
        Ok(book)
    }

    /// The table alone (a scope without a workspace).
    pub fn table_only(table: &'a PriceTable) -> PriceBook<'a> {
        PriceBook {
            table,
            overrides: Vec::new(),
            cuts: Vec::new(),
        }
    }

    /// This book with one more override (for a preview).
    pub fn with(&self, model: &str, price: Price, valid_from: i64) -> PriceBook<'a> {
        let mut book = self.clone();
        book.overrides.push((valid_from, model.to_string(), price));
        book.reindex();
        book
    }

    /// The version of the prices in force: the table's, followed for a workspace with
    /// overrides by a fingerprint of them (so any stored change shows in `X-Hangar-Prices`).
    pub fn version(&self) -> String {
        if self.overrides.is_empty() {
            return self.table.version().to_string();
        }
        let lines = self
            .overrides
            .iter()
            .map(|(from, model, price)| format!("{from}\u{0}{}", price_line(model, price)));
        format!("{}+{}", self.table.version(), fingerprint_lines(lines))
    }

    /// Instants at which some price may change, ascending.
    pub fn cuts(&self) -> &[i64] {
        &self.cuts
    }

    /// The epoch of `instant`: how many cuts are at or before it. Every model has one price
    /// within an epoch.
    pub fn epoch_of(&self, instant: i64) -> usize {
        self.cuts.partition_point(|&cut| cut <= instant)
    }

    /// The price of (provider, model) throughout `epoch`.
    pub fn price_in_epoch(&self, provider: &str, model: &str, epoch: usize) -> Option<Price> {
        match epoch.checked_sub(1).and_then(|at| self.cuts.get(at)) {
            Some(&start) => self.price_at(provider, model, start),
            None => self.table.lookup(provider, model),
        }
    }

    /// The price of (provider, model) at `instant`: table names overlaid with the overrides in
    /// force then, looked up with the table's normalisation.
    pub fn price_at(&self, provider: &str, model: &str, instant: i64) -> Option<Price> {
        let in_force = self.overrides_at(instant);
        lookup_in(provider, model, |name| {
            in_force
                .get(name)
                .map(|(price, _)| *price)
                .or_else(|| self.table.get(name))
        })
    }

    /// Every table entry and override in force at `instant`: the table's entries in file order
    /// (overridden ones replaced), then override-only models by name.
    pub fn in_force(&self, instant: i64) -> Vec<InForce> {
        let mut in_force = self.overrides_at(instant);
        let mut out: Vec<InForce> = self
            .table
            .entries()
            .iter()
            .map(|e| match in_force.remove(e.model.as_str()) {
                Some((price, from)) => InForce {
                    model: e.model.clone(),
                    price,
                    valid_from: Some(from),
                },
                None => InForce {
                    model: e.model.clone(),
                    price: e.price,
                    valid_from: None,
                },
            })
            .collect();
        let mut extra: Vec<InForce> = in_force
            .into_iter()
            .map(|(model, (price, from))| InForce {
                model: model.to_string(),
                price,
                valid_from: Some(from),
            })
            .collect();
        extra.sort_by(|a, b| a.model.cmp(&b.model));
        out.extend(extra);
        out
    }

    /// Per model name, the override with the greatest `valid_from` at or before `instant`.
    fn overrides_at(&self, instant: i64) -> HashMap<&str, (Price, i64)> {
        let mut in_force = HashMap::new();
        for (from, name, price) in &self.overrides {
            if *from > instant {
                break;
            }
            in_force.insert(name.as_str(), (*price, *from));
        }
        in_force
    }

    fn reindex(&mut self) {
        // Stable: of two overrides with one name and start, the later pushed wins.
        self.overrides.sort_by_key(|(from, _, _)| *from);
        self.cuts = self.overrides.iter().map(|(from, _, _)| *from).collect();
        self.cuts.dedup();
    }
}

/// A stored override's price.
pub fn price_of(row: &PriceOverride) -> Price {
    Price {
        input: row.input.into(),
        output: row.output.into(),
        cache_read: row.cache_read.into(),
        cache_write: row.cache_write.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(input: i128) -> Price {
        Price {
            input,
            output: 0,
            cache_read: 0,
            cache_write: 0,
        }
    }

    #[test]
    fn overrides_layer_by_name_and_start() {
        let table = PriceTable::builtin();
        let base = table.lookup("openai", "gpt-5");
        let book = PriceBook::table_only(&table)
            .with("gpt-5", p(7), 1_000)
            .with("openai/gpt-5", p(9), 3_000)
            .with("brand-new", p(11), 2_000);
        assert_eq!(book.cuts(), &[1_000, 2_000, 3_000]);
        assert_eq!(book.price_at("openai", "gpt-5", 999), base);
        assert_eq!(
            book.price_at("openai", "gpt-5-2025-08-07", 1_000),
            Some(p(7))
        );
        assert_eq!(book.price_at("openai", "gpt-5", 2_999), Some(p(7)));
        assert_eq!(book.price_at("openai", "gpt-5", 3_000), Some(p(9)));
        assert_eq!(book.price_at("azure", "gpt-5", 3_000), Some(p(7)));
        assert_eq!(book.price_at("x", "brand-new", 1_999), None);
        assert_eq!(book.price_at("x", "vendor/brand-new", 2_000), Some(p(11)));
        assert_eq!(book.epoch_of(0), 0);
        assert_eq!(book.epoch_of(2_000), 2);
        assert_eq!(book.price_in_epoch("openai", "gpt-5", 0), base);
        assert_eq!(book.price_in_epoch("openai", "gpt-5", 3), Some(p(9)));
        let shown = book.in_force(3_000);
        let gpt5 = shown.iter().find(|e| e.model == "gpt-5").expect("listed");
        assert_eq!((gpt5.price, gpt5.valid_from), (p(7), Some(1_000)));
        assert_eq!(shown.len(), table.entries().len() + 2);
        assert_eq!(shown[shown.len() - 2].model, "brand-new");
    }
}
