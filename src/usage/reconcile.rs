//! Reconciliation against a provider bill (issue 17): parses the bill's CSV (header `date`,
//! `model` and `cost_usd` and/or the four token columns; other columns ignored; duplicate
//! (date, model) rows summed and reported) and compares it, per (local date, model), with the
//! ledger's daily figures, flagging differences beyond a tolerance.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::usage::money::{parse_count, parse_usd, Ticks};

const TOKEN_COLUMNS: [&str; 4] = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
];

/// A malformed bill: the 1-based line and the column at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// One (date, model) of the bill or of the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub cost: Option<Ticks>,
    pub tokens: Option<[i128; 4]>,
}

/// The parsed bill: figures per (date, model) and the keys that appeared on several lines.
#[derive(Debug, Clone, Default)]
pub struct Bill {
    pub rows: BTreeMap<(NaiveDate, String), Figures>,
    pub duplicates: BTreeMap<(NaiveDate, String), Vec<usize>>,
}

/// One compared (date, model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub date: NaiveDate,
    pub model: String,
    pub bill: Option<Figures>,
    pub ledger: Option<Figures>,
    pub cost_diff: Option<Ticks>,
    pub token_diff: Option<i128>,
    pub flagged: bool,
}

fn err(line: usize, column: &str, message: impl Into<String>) -> CsvError {
    CsvError {
        line,
        column: column.to_string(),
        message: message.into(),
    }
}

/// Splits one CSV line into fields; `"…"` quotes with `""` escapes.
fn fields(text: &str, line: usize) -> Result<Vec<String>, CsvError> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        let column = (out.len() + 1).to_string();
        return Err(err(line, &column, "unterminated quoted field"));
    }
    out.push(field);
    Ok(out)
}

/// Parses the bill. Errors name the line (1 = header) and the column.
pub fn parse_bill(text: &str) -> Result<Bill, CsvError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(1, "date", "the bill is empty"))?;
    let names: Vec<String> = fields(header.trim_start_matches('\u{feff}'), 1)?
        .into_iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let at = |name: &str| names.iter().position(|n| n == name);
    let date_at = at("date").ok_or_else(|| err(1, "date", "missing column"))?;
    let model_at = at("model").ok_or_else(|| err(1, "model", "missing column"))?;
    let cost_at = at("cost_usd");
    let token_at: Vec<Option<usize>> = TOKEN_COLUMNS.iter().map(|c| at(c)).collect();
    let has_tokens = token_at.iter().all(Option::is_some);
    if cost_at.is_none() && !has_tokens {
        let missing = TOKEN_COLUMNS
            .iter()
            .zip(&token_at)
            .find(|(_, a)| a.is_none())
            .map(|(c, _)| *c)
            .unwrap_or("cost_usd");
        return Err(err(1, missing, "needs cost_usd or all four token columns"));
    }
    let mut bill = Bill::default();
    let mut seen: BTreeMap<(NaiveDate, String), Vec<usize>> = BTreeMap::new();
    for (number, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let row = fields(text, number)?;
        let cell = |index: usize, name: &str| {
            row.get(index)
                .map(|v| v.trim())
                .ok_or_else(|| err(number, name, "missing value"))
        };
        let date = NaiveDate::parse_from_str(cell(date_at, "date")?, "%Y-%m-%d")
            .map_err(|_| err(number, "date", "must be a date YYYY-MM-DD"))?;
        let model = cell(model_at, "model")?;
        if model.is_empty() {
            return Err(err(number, "model", "must not be empty"));
        }
        let mut figures = Figures::default();
        if let Some(index) = cost_at {
            let cost = parse_usd(cell(index, "cost_usd")?)
                .map_err(|e| err(number, "cost_usd", e.message()))?;
            figures.cost = Some(cost);
        }
        if has_tokens {
            let mut tokens = [0i128; 4];
            for ((slot, index), name) in tokens.iter_mut().zip(&token_at).zip(TOKEN_COLUMNS) {
                let index = index.unwrap_or_default();
                *slot = parse_count(cell(index, name)?, i64::MAX)
                    .map_err(|e| err(number, name, e.message()))?
                    .into();
            }
            figures.tokens = Some(tokens);
        }
        let key = (date, model.to_string());
        seen.entry(key.clone()).or_default().push(number);
        let entry = bill.rows.entry(key).or_default();
        entry.cost = add_cost(entry.cost, figures.cost);
        entry.tokens = match (entry.tokens, figures.tokens) {
            (Some(a), Some(b)) => Some([a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]),
            (a, b) => a.or(b),
        };
    }
    bill.duplicates = seen.into_iter().filter(|(_, l)| l.len() > 1).collect();
    Ok(bill)
}

fn add_cost(a: Option<Ticks>, b: Option<Ticks>) -> Option<Ticks> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Compares the bill with the ledger's (date, model) figures between the bill's first and last
/// date; a difference beyond `tolerance_pct` of the bill's figure (or any figure on one side
/// only) is flagged.
pub fn compare(
    bill: &Bill,
    ledger: &BTreeMap<(NaiveDate, String), Figures>,
    tolerance_pct: f64,
) -> Vec<Line> {
    let first = bill.rows.keys().next().map(|k| k.0);
    let last = bill.rows.keys().last().map(|k| k.0);
    let in_range = |d: NaiveDate| first.is_some_and(|f| d >= f) && last.is_some_and(|l| d <= l);
    let mut keys: Vec<&(NaiveDate, String)> = bill.rows.keys().collect();
    keys.extend(
        ledger
            .keys()
            .filter(|k| in_range(k.0) && !bill.rows.contains_key(*k)),
    );
    keys.sort();
    let beyond = |diff: i128, base: i128| {
        diff != 0
            && (diff.unsigned_abs() as f64) > (base.unsigned_abs() as f64) * tolerance_pct / 100.0
    };
    keys.into_iter()
        .map(|key| {
            let b = bill.rows.get(key).copied();
            let l = ledger.get(key).copied();
            let bill_cost = b.and_then(|f| f.cost);
            let cost_diff = bill_cost.map(|bc| l.and_then(|f| f.cost).unwrap_or(0) - bc);
            let total = |t: [i128; 4]| t.iter().sum::<i128>();
            let bill_tokens = b.and_then(|f| f.tokens).map(total);
            let token_diff =
                bill_tokens.map(|bt| l.and_then(|f| f.tokens).map(total).unwrap_or(0) - bt);
            let flagged = b.is_none()
                || l.is_none()
                || cost_diff
                    .zip(bill_cost)
                    .is_some_and(|(d, base)| beyond(d, base))
                || token_diff
                    .zip(bill_tokens)
                    .is_some_and(|(d, base)| beyond(d, base));
            Line {
                date: key.0,
                model: key.1.clone(),
                bill: b,
                ledger: l,
                cost_diff,
                token_diff,
                flagged,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bills_name_line_and_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("model,cost_usd\n", 1, "date"),
            ("date,model\n", 1, "input_tokens"),
            ("date,model,cost_usd\n2026-06-01,m,abc\n", 2, "cost_usd"),
            (
                "date,model,cost_usd\n2026-06-01,m,1\n2026-13-01,m,1\n",
                3,
                "date",
            ),
            ("date,model,cost_usd\n2026-06-01,m\n", 2, "cost_usd"),
            ("date,model,cost_usd\n2026-06-01,\"m,1\n", 2, "2"),
        ];
        for (text, line, column) in cases {
            let e = parse_bill(text).expect_err(text);
            assert_eq!(
                (e.line, e.column.as_str()),
                (*line, *column),
                "{text}: {e:?}"
            );
        }
    }

    #[test]
    fn duplicates_are_summed_and_unknown_columns_ignored() {
        let bill = parse_bill(
            "Date,model,note,cost_usd\n2026-06-01,\"a\",\"x, y\",1.5\n2026-06-01,a,z,0.25\n",
        )
        .expect("valid");
        let key = (
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            "a".to_string(),
        );
        assert_eq!(bill.rows[&key].cost, Some(17_500_000_000));
        assert_eq!(bill.duplicates[&key], vec![2, 3]);
    }
}
