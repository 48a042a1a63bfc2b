//! The price table and integer cost arithmetic (API.md §5, DESIGN.md "Money"). A table maps a
//! model name to its prices in whole ticks per token, read exactly from the decimal text of a
//! JSON file of "USD per million tokens" (the compiled-in `pricing.json` or `--pricing FILE`).
//! `lookup` implements the contract's model-name normalisation and nothing looser: an unknown
//! model has no price, so its tokens are reported as unpriced, never as $0.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::usage::money::{
    ticks_per_token_to_usd_per_million, usd_per_million_to_ticks_per_token, Ticks,
};

/// The unit every price file is written in.
pub const PRICE_UNIT: &str = "USD per 1,000,000 tokens";

/// The table compiled into the binary: the repository's own copy of the price facts.
const BUILTIN_JSON: &str = include_str!("../../pricing.json");

/// One model's prices, in whole ticks (10⁻¹⁰ USD) per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Price {
    pub input: Ticks,
    pub output: Ticks,
    pub cache_read: Ticks,
    pub cache_write: Ticks,
}

/// A price shown to people: USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UsdPerMillion {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

/// Token counts of one usage row (each ≤ 10¹² by the ingest rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
}

/// A model name as written in the table, with its price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub model: String,
    pub price: Price,
}

/// The prices in force: the entries in file order plus an index for exact lookups.
#[derive(Debug, Clone)]
pub struct PriceTable {
    as_of: String,
    entries: Vec<PriceEntry>,
    index: HashMap<String, usize>,
    version: String,
}

impl Price {
    /// The cost of these tokens at this price, exact in ticks.
    pub fn cost(&self, tokens: &Tokens) -> Ticks {
        i128::from(tokens.input) * self.input
            + i128::from(tokens.output) * self.output
            + i128::from(tokens.cache_read) * self.cache_read
            + i128::from(tokens.cache_write) * self.cache_write
    }

    /// What reading these tokens from the cache saved over sending them as fresh input:
    /// cache-read tokens × (input price − cache-read price). Negative if a custom table prices
    /// cache reads above input.
    pub fn cache_savings(&self, cache_read_tokens: i64) -> Ticks {
        i128::from(cache_read_tokens) * (self.input - self.cache_read)
    }

    /// The price in USD per million tokens, for display.
    pub fn usd_per_million(&self) -> UsdPerMillion {
        UsdPerMillion {
            input: ticks_per_token_to_usd_per_million(self.input),
            output: ticks_per_token_to_usd_per_million(self.output),
            cache_read: ticks_per_token_to_usd_per_million(self.cache_read),
            cache_write: ticks_per_token_to_usd_per_million(self.cache_write),
        }
    }
}

impl Tokens {
    /// All four counts added up.
    pub fn total(&self) -> i128 {
        i128::from(self.input)
            + i128::from(self.output)
            + i128::from(self.cache_read)
            + i128::from(self.cache_write)
    }
}

impl PriceTable {
    /// The compiled-in table.
    ///
    /// Cannot fail at runtime: the file is part of the binary and the unit test
    /// `builtin_table_parses` parses exactly this text, so a bad edit fails the build's tests.
    pub fn builtin() -> PriceTable {
        match PriceTable::from_json(BUILTIN_JSON) {
            Ok(table) => table,
            Err(message) => panic!("the compiled-in pricing.json is invalid: {message}"),
        }
    }

    /// Reads a table of the same shape as `pricing.json` (`--pricing FILE`):
    /// `{"unit"?, "as_of"?, "models": [{model, input, output, cache_read, cache_write}]}`.
    /// Every price must be a non-negative JSON number of at most 10⁶ USD per million tokens
    /// and a whole number of ticks per token; model names must be non-blank and unique.
    pub fn from_json(text: &str) -> Result<PriceTable, String> {
        let file: PriceFile = serde_json::from_str(text).map_err(|e| format!("{e}"))?;
        if let Some(unit) = &file.unit {
            if unit != PRICE_UNIT {
                return Err(format!("unit must be {PRICE_UNIT:?}, not {unit:?}"));
            }
        }
        if file.models.is_empty() {
            return Err("models must list at least one model".to_string());
        }
        let mut entries = Vec::with_capacity(file.models.len());
        let mut index = HashMap::with_capacity(file.models.len());
        for (at, raw) in file.models.iter().enumerate() {
            let model = raw.model.as_str();
            if model.trim().is_empty() || model.trim() != model {
                return Err(format!(
                    "models[{at}]: model must be a non-blank name without surrounding spaces"
                ));
            }
            let field = |name: &str, value: &RawValue| {
                usd_per_million_to_ticks_per_token(value.get())
                    .map_err(|e| format!("models[{at}] ({model}) {name}: {e}"))
            };
            let price = Price {
                input: field("input", &raw.input)?,
                output: field("output", &raw.output)?,
                cache_read: field("cache_read", &raw.cache_read)?,
                cache_write: field("cache_write", &raw.cache_write)?,
            };
            if index.insert(model.to_string(), entries.len()).is_some() {
                return Err(format!("models[{at}]: model {model:?} is listed twice"));
            }
            entries.push(PriceEntry {
                model: model.to_string(),
                price,
            });
        }
        let version = fingerprint(&entries);
        Ok(PriceTable {
            as_of: file.as_of.unwrap_or_default(),
            entries,
            index,
            version,
        })
    }

    /// The entries in the order the file lists them (stable for `GET /api/pricing`).
    pub fn entries(&self) -> &[PriceEntry] {
        &self.entries
    }

    /// The entries as (model, USD per million tokens), in `entries()` order, for display.
    pub fn usd_rows(&self) -> impl Iterator<Item = (&str, UsdPerMillion)> + '_ {
        self.entries
            .iter()
            .map(|e| (e.model.as_str(), e.price.usd_per_million()))
    }

    /// The file's `as_of` label (empty when the file has none).
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// A short stable hex fingerprint of the entries (names, prices and order): equal tables
    /// have equal versions on every build and platform.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The price of `model` as reported by a runtime of `provider` (API.md §5). Candidates, each
    /// derived from the previous one: the name as sent; without a leading `vendor/` segment; for
    /// `claude-*`, dots turned into dashes; without a trailing `[…]` tag; without a trailing
    /// `-YYYY-MM-DD`, `-YYYYMMDD` or `-latest`. Each candidate is tried as `provider/candidate`,
    /// then bare; the first exact hit wins. No prefix guessing.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<Price> {
        lookup_in(provider, model, |name| self.get(name))
    }

    /// The entry written exactly `name`, without normalisation.
    pub fn get(&self, name: &str) -> Option<Price> {
        self.index.get(name).map(|&at| self.entries[at].price)
    }
}

/// `PriceTable::lookup` over any table of exact names (`get`), so a workspace's overrides
/// layered over the table normalise exactly as the table does.
pub fn lookup_in(
    provider: &str,
    model: &str,
    get: impl Fn(&str) -> Option<Price>,
) -> Option<Price> {
    let provider = provider.trim();
    for candidate in candidates(model.trim()) {
        if !provider.is_empty() {
            if let Some(price) = get(&format!("{provider}/{candidate}")) {
                return Some(price);
            }
        }
        if let Some(price) = get(&candidate) {
            return Some(price);
        }
    }
    None
}

/// The file's shape. Prices stay raw JSON text so they are parsed exactly, never as floats.
#[derive(Deserialize)]
struct PriceFile {
    unit: Option<String>,
    as_of: Option<String>,
    models: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    model: String,
    input: Box<RawValue>,
    output: Box<RawValue>,
    cache_read: Box<RawValue>,
    cache_write: Box<RawValue>,
}

/// The normalisation candidates of API.md §5 in order, consecutive duplicates dropped.
fn candidates(model: &str) -> Vec<String> {
    let steps: [fn(&str) -> Option<String>; 4] =
        [strip_vendor, claude_dots_to_dashes, strip_tag, strip_date];
    let mut out = vec![model.to_string()];
    let mut current = model.to_string();
    for step in steps {
        if let Some(next) = step(&current) {
            if !next.is_empty() && next != current {
                out.push(next.clone());
                current = next;
            }
        }
    }
    out
}

fn strip_vendor(name: &str) -> Option<String> {
    let (vendor, rest) = name.split_once('/')?;
    (!vendor.is_empty()).then(|| rest.to_string())
}

fn claude_dots_to_dashes(name: &str) -> Option<String> {
    name.starts_with("claude-").then(|| name.replace('.', "-"))
}

/// `name[tag]` → `name`, for a tag without brackets of its own.
fn strip_tag(name: &str) -> Option<String> {
    let inner = name.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    (!inner[open + 1..].contains(']')).then(|| inner[..open].to_string())
}

/// Drops a trailing `-latest`, `-YYYY-MM-DD` or `-YYYYMMDD` (digits in those places).
fn strip_date(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_suffix("-latest") {
        return Some(rest.to_string());
    }
    let shape_matches = |shape: &str| {
        let Some(cut) = name.len().checked_sub(shape.len()) else {
            return false;
        };
        let tail = &name.as_bytes()[cut..];
        shape.bytes().zip(tail).all(|(s, &b)| match s {
            b'D' => b.is_ascii_digit(),
            _ => b == s,
        })
    };
    for shape in ["-DDDD-DD-DD", "-DDDDDDDD"] {
        if shape_matches(shape) {
            return Some(name[..name.len() - shape.len()].to_string());
        }
    }
    None
}

/// FNV-1a (64 bit) over a canonical text of the entries; std's hashers are not stable across
/// releases, and this version may be stored or compared between runs.
fn fingerprint(entries: &[PriceEntry]) -> String {
    fingerprint_lines(entries.iter().map(|e| price_line(&e.model, &e.price)))
}

/// One price as a canonical line of a fingerprint.
pub fn price_line(model: &str, p: &Price) -> String {
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\n",
        model, p.input, p.output, p.cache_read, p.cache_write
    )
}

/// FNV-1a (64 bit) over `lines`, as 16 hex digits.
pub fn fingerprint_lines(lines: impl IntoIterator<Item = String>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        for byte in line.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::money::TICKS_PER_USD;

    fn price(input: Ticks, output: Ticks, cache_read: Ticks, cache_write: Ticks) -> Price {
        Price {
            input,
            output,
            cache_read,
            cache_write,
        }
    }

    fn table(models: &[(&str, &str)]) -> PriceTable {
        let rows: Vec<String> = models
            .iter()
            .map(|(model, input)| {
                format!(
                    r#"{{"model":"{model}","input":{input},"output":1,"cache_read":0,"cache_write":0}}"#
                )
            })
            .collect();
        let text = format!(r#"{{"models":[{}]}}"#, rows.join(","));
        PriceTable::from_json(&text).expect("test table parses")
    }

    #[test]
    fn builtin_table_parses() {
        let t = PriceTable::builtin();
        assert!(t.entries().len() >= 50, "{} entries", t.entries().len());
        assert_eq!(t.as_of(), "2026-08");
        assert_eq!(t.version().len(), 16);
        assert!(t.version().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t.entries()[0].model, "claude-sonnet-5");
    }

    #[test]
    fn builtin_prices_are_exact_ticks() {
        let t = PriceTable::builtin();
        let cases: &[(&str, &str, Price)] = &[
            (
                "anthropic",
                "claude-opus-4-5",
                price(50_000, 250_000, 5_000, 62_500),
            ),
            (
                "anthropic",
                "claude-haiku-3-5",
                price(8_000, 40_000, 800, 10_000),
            ),
            (
                "openai",
                "gpt-5.6-terra",
                price(25_000, 150_000, 2_500, 31_250),
            ),
            ("deepseek", "deepseek-chat", price(1_400, 2_800, 28, 1_400)),
            (
                "deepseek",
                "deepseek-v4-pro",
                price(17_400, 34_800, 145, 17_400),
            ),
            ("openai", "gpt-5-nano", price(500, 4_000, 50, 500)),
            ("zai", "glm-4.7-flash", price(0, 0, 0, 0)),
        ];
        for (provider, model, expected) in cases {
            assert_eq!(
                t.lookup(provider, model),
                Some(*expected),
                "{provider}/{model}"
            );
        }
    }

    #[test]
    fn lookup_normalises_exactly_as_the_contract_says() {
        let t = PriceTable::builtin();
        let opus45 = t.lookup("", "claude-opus-4-5");
        let sonnet45 = t.lookup("", "claude-sonnet-4-5");
        let gpt5 = t.lookup("", "gpt-5");
        let composer2 = t.lookup("", "cursor/composer-2");
        let cursor_auto = t.lookup("", "cursor/auto");
        assert!(opus45.is_some() && gpt5.is_some() && composer2.is_some());
        let cases: &[(&str, &str, Option<Price>)] = &[
            ("anthropic", "claude-opus-4-5", opus45),
            ("anthropic", "anthropic/claude-opus-4.5[1m]", opus45),
            ("claude", "claude-opus-4.5", opus45),
            ("claude", "claude-opus-4-5[1m]", opus45),
            ("claude", "claude-opus-4-5-latest", opus45),
            ("claude", "  claude-opus-4-5  ", opus45),
            ("claude", "claude-sonnet-4-5-20250929", sonnet45),
            ("claude", "claude-sonnet-4-5-2025-09-29", sonnet45),
            ("claude", "bedrock/claude-sonnet-4.5[1m]", sonnet45),
            ("claude", "claude-sonnet-4.5-20250929", sonnet45),
            ("openai", "gpt-5", gpt5),
            ("openai", "openai/gpt-5", gpt5),
            ("openai", "gpt-5-2025-08-07", gpt5),
            ("openai", "gpt-5[high]", gpt5),
            ("cursor", "composer-2", composer2),
            ("cursor", "cursor/composer-2", composer2),
            ("cursor", "auto", cursor_auto),
            ("", "cursor/auto", cursor_auto),
            // The vendor segment goes before the date, so the tag and date steps still apply.
            ("x", "vendor/gpt-5-latest", gpt5),
            // No prefix guessing, no case folding, dots kept outside claude-*.
            ("claude", "claude-opus-4-5-thinking", None),
            ("claude", "claude-opus", None),
            ("claude", "Claude-Opus-4-5", None),
            ("openai", "gpt-5.0", None),
            ("openai", "gpt", None),
            ("openai", "gpt-5-0807", None),
            ("openai", "gpt-5-2025-8-7", None),
            ("openai", "", None),
            ("", "unknown-model", None),
            // Steps apply in order: a date before the tag is not removed after the tag goes.
            ("claude", "claude-opus-4-5-latest[1m]", opus45),
            ("claude", "claude-opus-4-5[1m]-latest", None),
        ];
        for (provider, model, expected) in cases {
            assert_eq!(
                t.lookup(provider, model),
                *expected,
                "{provider:?} {model:?}"
            );
        }
    }

    #[test]
    fn provider_prefixed_entry_wins_over_bare_and_over_later_candidates() {
        let t = table(&[
            ("gpt-5", "1"),
            ("openai/gpt-5", "2"),
            ("gpt-5-2025-08-07", "3"),
            ("azure/gpt-5-2025-08-07", "4"),
        ]);
        let input = |provider: &str, model: &str| t.lookup(provider, model).map(|p| p.input);
        let cases: &[(&str, &str, Option<Ticks>)] = &[
            ("openai", "gpt-5", Some(20_000)),
            ("other", "gpt-5", Some(10_000)),
            ("", "gpt-5", Some(10_000)),
            ("openai", "gpt-5-2025-08-07", Some(30_000)),
            ("azure", "gpt-5-2025-08-07", Some(40_000)),
            ("azure", "gpt-5-latest", Some(10_000)),
            ("openai", "gpt-5-latest", Some(20_000)),
            ("openai", "openai/gpt-5-2025-08-07", Some(30_000)),
        ];
        for (provider, model, expected) in cases {
            assert_eq!(input(provider, model), *expected, "{provider:?} {model:?}");
        }
    }

    #[test]
    fn candidates_follow_the_contract_order() {
        let cases: &[(&str, &[&str])] = &[
            (
                "anthropic/claude-opus-4.5[1m]",
                &[
                    "anthropic/claude-opus-4.5[1m]",
                    "claude-opus-4.5[1m]",
                    "claude-opus-4-5[1m]",
                    "claude-opus-4-5",
                ],
            ),
            (
                "claude-3.5-sonnet-20241022",
                &[
                    "claude-3.5-sonnet-20241022",
                    "claude-3-5-sonnet-20241022",
                    "claude-3-5-sonnet",
                ],
            ),
            ("gpt-5", &["gpt-5"]),
            ("/x", &["/x"]),
            ("[1m]", &["[1m]"]),
            ("-latest", &["-latest"]),
            ("a/b/c-latest", &["a/b/c-latest", "b/c-latest", "b/c"]),
            ("m[a]b]", &["m[a]b]"]),
        ];
        for (model, expected) in cases {
            assert_eq!(candidates(model), *expected, "{model:?}");
        }
    }

    #[test]
    fn cost_and_savings_are_exact_integers() {
        let p = price(50_000, 250_000, 5_000, 62_500);
        let cases: &[(Tokens, Ticks)] = &[
            (Tokens::default(), 0),
            (
                Tokens {
                    input: 1_000_000,
                    ..Tokens::default()
                },
                5 * TICKS_PER_USD,
            ),
            (
                Tokens {
                    input: 1,
                    output: 1,
                    cache_read: 1,
                    cache_write: 1,
                },
                367_500,
            ),
            (
                Tokens {
                    input: 1_000_000_000_000,
                    output: 1_000_000_000_000,
                    cache_read: 1_000_000_000_000,
                    cache_write: 1_000_000_000_000,
                },
                367_500 * 1_000_000_000_000,
            ),
        ];
        for (tokens, expected) in cases {
            assert_eq!(p.cost(tokens), *expected, "{tokens:?}");
        }
        assert_eq!(p.cache_savings(0), 0);
        assert_eq!(p.cache_savings(1_000_000), 45_000 * 1_000_000);
        assert_eq!(price(10, 0, 20, 0).cache_savings(3), -30);
        let t = Tokens {
            input: 1,
            output: 2,
            cache_read: 3,
            cache_write: 4,
        };
        assert_eq!(t.total(), 10);
    }

    #[test]
    fn from_json_parses_exponents_and_refuses_bad_files() {
        let ok = r#"{"unit":"USD per 1,000,000 tokens","as_of":"x","models":[
            {"model":"a","input":1.5E1,"output":25e-1,"cache_read":0.0001,"cache_write":0}]}"#;
        let t = PriceTable::from_json(ok).expect("valid");
        assert_eq!(t.entries()[0].price, price(150_000, 25_000, 1, 0));
        assert_eq!(t.as_of(), "x");

        let entry = |fields: &str| format!(r#"{{"models":[{{{fields}}}]}}"#);
        let good = r#""input":1,"output":1,"cache_read":1,"cache_write":1"#;
        let cases: Vec<(String, &str)> = vec![
            ("not json".to_string(), "expected"),
            (r#"{"models":[]}"#.to_string(), "at least one"),
            (r#"{"unit":"EUR","models":[]}"#.to_string(), "unit must be"),
            (entry(&format!(r#""model":"",{good}"#)), "non-blank"),
            (entry(&format!(r#""model":" a",{good}"#)), "non-blank"),
            (
                entry(r#""model":"a","input":1,"output":1,"cache_read":1"#),
                "cache_write",
            ),
            (
                entry(r#""model":"a","input":"1","output":1,"cache_read":1,"cache_write":1"#),
                "models[0] (a) input: ",
            ),
            (
                entry(r#""model":"a","input":1,"output":-1,"cache_read":1,"cache_write":1"#),
                "output: must not be negative",
            ),
            (
                entry(r#""model":"a","input":1,"output":1,"cache_read":0.00005,"cache_write":1"#),
                "cache_read: must be a whole number",
            ),
            (
                entry(r#""model":"a","input":1,"output":1,"cache_read":1,"cache_write":2e6"#),
                "cache_write: must be at most",
            ),
            (
                format!(r#"{{"models":[{{"model":"a",{good}}},{{"model":"a",{good}}}]}}"#),
                "listed twice",
            ),
        ];
        for (text, needle) in cases {
            match PriceTable::from_json(&text) {
                Ok(_) => panic!("accepted {text}"),
                Err(e) => assert!(e.contains(needle), "{text}: {e:?} lacks {needle:?}"),
            }
        }
    }

    #[test]
    fn display_rows_show_usd_per_million() {
        let t = PriceTable::builtin();
        let (model, usd) = t
            .usd_rows()
            .find(|(m, _)| *m == "deepseek-v4-pro")
            .expect("listed");
        assert_eq!(model, "deepseek-v4-pro");
        assert_eq!(
            usd,
            UsdPerMillion {
                input: 1.74,
                output: 3.48,
                cache_read: 0.0145,
                cache_write: 1.74
            }
        );
        assert_eq!(t.usd_rows().count(), t.entries().len());
    }

    #[test]
    fn version_is_stable_and_tracks_every_field_and_order() {
        let base = table(&[("a", "1"), ("b", "2")]);
        assert_eq!(base.version(), table(&[("a", "1"), ("b", "2")]).version());
        assert_eq!(
            base.version(),
            table(&[("a", "1.0"), ("b", "2e0")]).version()
        );
        for other in [
            table(&[("a", "1"), ("b", "3")]),
            table(&[("a", "1"), ("c", "2")]),
            table(&[("b", "2"), ("a", "1")]),
            table(&[("a", "1")]),
        ] {
            assert_ne!(base.version(), other.version());
        }
        // Pinned so the algorithm cannot drift silently between builds.
        assert_eq!(table(&[("a", "1")]).version(), "e08103f0dead8a9a");
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }
}
