//! Money as exact integers: amounts are held in "ticks" of 10⁻¹⁰ USD (API.md §0, DESIGN.md
//! "Money"). This module turns the decimal text of a JSON number into ticks without ever passing
//! through a float, converts table prices (USD per million tokens) into whole ticks per token, and
//! renders ticks back to USD only at the edge, rounded to the micro-dollar. Nothing here does IO.

use std::fmt;

/// An amount of money in units of 10⁻¹⁰ USD. Products and sums stay in 128 bits.
pub type Ticks = i128;

/// Ticks in one US dollar.
pub const TICKS_PER_USD: i128 = 10_000_000_000;

/// Ticks in one micro-dollar, the precision of every rendered `cost_usd`.
pub const TICKS_PER_MICRO_USD: i128 = 10_000;

/// The largest amount `parse_usd` accepts, in whole USD (API.md §3: `0 ≤ cost ≤ 10⁶`).
pub const MAX_USD: i128 = 1_000_000;

/// Decimal places one tick can represent.
const TICK_DECIMALS: i64 = 10;

/// Integer digits a value ≤ `MAX_USD` can have.
const MAX_INTEGER_DIGITS: i64 = 7;

/// Tokens a table price is quoted for ("USD per 1,000,000 tokens").
const TOKENS_PER_PRICE_UNIT: i128 = 1_000_000;

/// Why a decimal amount was refused, with a message fit to show a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError {
    kind: MoneyErrorKind,
    message: String,
}

/// The reason behind a [`MoneyError`], for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyErrorKind {
    /// The text is not a JSON number.
    NotANumber,
    /// The value is below zero.
    Negative,
    /// The value is above the allowed maximum.
    TooLarge,
    /// The value needs more decimal places than the unit allows.
    TooPrecise,
}

/// Parses the decimal text of a JSON number (as a `serde_json::value::RawValue` holds it, e.g.
/// `"0.0123"`, `"12"`, `"1e-3"`, `"1.5E2"`) into ticks, exactly.
///
/// The exponent is applied to the digits, never through a float. Trailing zeros do not count as
/// decimal places: `1.50000000000` is accepted because its value is a whole number of ticks.
/// `-0` is zero, not negative. Refuses anything that is not a JSON number, a negative value, a
/// value above 1,000,000 USD, and a value with more than 10 decimal places.
pub fn parse_usd(text: &str) -> Result<Ticks, MoneyError> {
    let number = Decimal::parse(text.trim()).ok_or_else(|| {
        MoneyError::new(
            MoneyErrorKind::NotANumber,
            format!("{:?} is not a number", shorten(text)),
        )
    })?;
    let Some((significand, scale)) = number.reduced() else {
        return Ok(0);
    };
    if number.negative {
        return Err(MoneyError::new(
            MoneyErrorKind::Negative,
            "must not be negative".to_string(),
        ));
    }
    // value = significand × 10^-scale, with no trailing zeros in `significand`.
    let digits = i64::try_from(significand.len()).unwrap_or(i64::MAX);
    if digits.saturating_sub(scale) > MAX_INTEGER_DIGITS {
        return Err(too_large());
    }
    if scale > TICK_DECIMALS {
        return Err(MoneyError::new(
            MoneyErrorKind::TooPrecise,
            format!("must have at most {TICK_DECIMALS} decimal places"),
        ));
    }
    // Both bounds above keep `significand` to at most 17 digits, so this cannot overflow.
    let mut ticks: i128 = 0;
    for digit in significand.bytes() {
        ticks = ticks * 10 + i128::from(digit - b'0');
    }
    for _ in scale..TICK_DECIMALS {
        ticks *= 10;
    }
    if ticks > MAX_USD * TICKS_PER_USD {
        return Err(too_large());
    }
    Ok(ticks)
}

/// Parses the decimal text of a JSON number that must be a whole count in `0..=max` (a token
/// count), with the same exact reading as `parse_usd`: `12`, `1.0` and `1e3` are whole, `1.5`
/// is not, and nothing is rounded through a float.
pub fn parse_count(text: &str, max: i64) -> Result<i64, MoneyError> {
    let number = Decimal::parse(text.trim()).ok_or_else(|| {
        MoneyError::new(
            MoneyErrorKind::NotANumber,
            format!("{:?} is not a number", shorten(text)),
        )
    })?;
    let Some((significand, scale)) = number.reduced() else {
        return Ok(0);
    };
    if number.negative {
        return Err(MoneyError::new(
            MoneyErrorKind::Negative,
            "must not be negative".to_string(),
        ));
    }
    if scale > 0 {
        return Err(MoneyError::new(
            MoneyErrorKind::TooPrecise,
            "must be a whole number".to_string(),
        ));
    }
    let too_large = || MoneyError::new(MoneyErrorKind::TooLarge, format!("must be at most {max}"));
    // value = significand × 10^-scale; more than 19 digits cannot fit an i64.
    let digits = i64::try_from(significand.len()).unwrap_or(i64::MAX);
    if digits.saturating_sub(scale) > 19 {
        return Err(too_large());
    }
    let mut value: i128 = 0;
    for digit in significand.bytes() {
        value = value * 10 + i128::from(digit - b'0');
    }
    for _ in scale..0 {
        value *= 10;
    }
    i64::try_from(value)
        .ok()
        .filter(|v| *v <= max)
        .ok_or_else(too_large)
}

/// Renders ticks as exact decimal USD text with no trailing zeros (`12`, `0.0123456789`,
/// `-1.5`), for echoing a reported cost without rounding.
pub fn ticks_to_decimal(ticks: Ticks) -> String {
    let sign = if ticks < 0 { "-" } else { "" };
    let abs = ticks.unsigned_abs();
    let per_usd = TICKS_PER_USD.unsigned_abs();
    let (whole, fraction) = (abs / per_usd, abs % per_usd);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:010}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// Converts a table price, the decimal text of "USD per million tokens", into whole ticks per
/// token (1 USD per million = 10⁴ ticks per token). Refuses what `parse_usd` refuses and a price
/// that is not a whole number of ticks per token (more than 4 decimal places).
pub fn usd_per_million_to_ticks_per_token(text: &str) -> Result<Ticks, MoneyError> {
    let per_million = parse_usd(text)?;
    if per_million % TOKENS_PER_PRICE_UNIT != 0 {
        return Err(MoneyError::new(
            MoneyErrorKind::TooPrecise,
            "must be a whole number of 10^-10 USD per token (at most 4 decimal places per \
             million tokens)"
                .to_string(),
        ));
    }
    Ok(per_million / TOKENS_PER_PRICE_UNIT)
}

/// Renders ticks per token back as USD per million tokens, for display (`GET /api/pricing`).
/// Exact for every price below 2⁵³ ticks per token.
pub fn ticks_per_token_to_usd_per_million(ticks: Ticks) -> f64 {
    // 10⁴ ticks per token are 1 USD per million; one correctly rounded division gives the
    // float nearest the decimal, which serde_json prints in its shortest form.
    ticks as f64 / (TICKS_PER_USD / TOKENS_PER_PRICE_UNIT) as f64
}

/// Rounds ticks to the nearest micro-dollar, halves away from zero.
pub fn ticks_to_micros(ticks: Ticks) -> i128 {
    let quotient = ticks / TICKS_PER_MICRO_USD;
    let remainder = ticks % TICKS_PER_MICRO_USD;
    if remainder.abs() * 2 >= TICKS_PER_MICRO_USD {
        quotient + ticks.signum()
    } else {
        quotient
    }
}

/// Renders ticks as a USD number: rounded to the nearest micro-dollar (half away from zero),
/// then the float nearest `micros / 10⁶`, so JSON shows e.g. `0.123457`. Exact below 2⁵³ micros
/// (about 9 billion USD).
pub fn ticks_to_usd(ticks: Ticks) -> f64 {
    ticks_to_micros(ticks) as f64 / 1_000_000.0
}

impl MoneyError {
    fn new(kind: MoneyErrorKind, message: String) -> MoneyError {
        MoneyError { kind, message }
    }

    /// What was wrong, for callers that branch on it.
    pub fn kind(&self) -> MoneyErrorKind {
        self.kind
    }

    /// The human message, without a field name (callers prefix the field).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MoneyError {}

fn too_large() -> MoneyError {
    MoneyError::new(
        MoneyErrorKind::TooLarge,
        format!("must be at most {MAX_USD} USD"),
    )
}

/// Keeps error messages short when a client sends something huge.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A JSON number split into its parts: `-? digits . fraction e exponent`.
struct Decimal<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    exponent: i64,
}

impl<'a> Decimal<'a> {
    /// Parses the JSON number grammar (RFC 8259 §6) strictly: no leading `+`, no leading zeros,
    /// digits on both sides of a `.`.
    fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (integer, fraction) = match mantissa.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer) || (integer.len() > 1 && integer.starts_with('0')) {
            return None;
        }
        if fraction.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let exponent = match exponent {
            None => 0,
            Some(e) => parse_exponent(e)?,
        };
        Some(Decimal {
            negative,
            integer,
            fraction: fraction.unwrap_or(""),
            exponent,
        })
    }

    /// The significant digits (no leading or trailing zeros) and the power of ten that divides
    /// them, or `None` when the value is zero.
    fn reduced(&self) -> Option<(String, i64)> {
        let all: String = [self.integer, self.fraction].concat();
        let trimmed = all.trim_start_matches('0');
        let significand = trimmed.trim_end_matches('0');
        if significand.is_empty() {
            return None;
        }
        let fraction_len = i64::try_from(self.fraction.len()).unwrap_or(i64::MAX);
        let dropped = i64::try_from(trimmed.len() - significand.len()).unwrap_or(i64::MAX);
        let scale = fraction_len
            .saturating_sub(self.exponent)
            .saturating_sub(dropped);
        Some((significand.to_string(), scale))
    }
}

/// Parses `[+-]digits`, saturating far beyond any exponent that could still yield a valid amount.
fn parse_exponent(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => (1, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    const LIMIT: i64 = 1_000_000_000;
    let mut value: i64 = 0;
    for digit in digits.bytes() {
        value = (value * 10 + i64::from(digit - b'0')).min(LIMIT);
    }
    Some(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_whole_numbers_in_range() {
        let max = 1_000_000_000_000;
        let cases: &[(&str, Result<i64, MoneyErrorKind>)] = &[
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("12", Ok(12)),
            ("1.0", Ok(1)),
            ("1e3", Ok(1000)),
            ("1.5e1", Ok(15)),
            ("1000000000000", Ok(max)),
            ("1e12", Ok(max)),
            ("1000000000001", Err(MoneyErrorKind::TooLarge)),
            ("1e13", Err(MoneyErrorKind::TooLarge)),
            ("99999999999999999999999", Err(MoneyErrorKind::TooLarge)),
            ("1e400", Err(MoneyErrorKind::TooLarge)),
            ("-1", Err(MoneyErrorKind::Negative)),
            ("1.5", Err(MoneyErrorKind::TooPrecise)),
            ("1e-1", Err(MoneyErrorKind::TooPrecise)),
            ("\"5\"", Err(MoneyErrorKind::NotANumber)),
            ("true", Err(MoneyErrorKind::NotANumber)),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_count(text, max).map_err(|e| e.kind()),
                *expected,
                "{text}"
            );
        }
    }

    #[test]
    fn decimal_rendering_is_exact() {
        let cases: &[(Ticks, &str)] = &[
            (0, "0"),
            (TICKS_PER_USD, "1"),
            (1, "0.0000000001"),
            (1_234_567_890, "0.123456789"),
            (10_000_000_000_000_000, "1000000"),
            (9_999_999_999_999_999, "999999.9999999999"),
            (-15_000_000_000, "-1.5"),
        ];
        for (ticks, text) in cases {
            assert_eq!(ticks_to_decimal(*ticks), *text);
            if *ticks >= 0 {
                assert_eq!(parse_usd(text), Ok(*ticks));
            }
        }
    }

    fn ok(text: &str, ticks: Ticks) {
        assert_eq!(parse_usd(text), Ok(ticks), "parse_usd({text:?})");
    }

    fn err(text: &str, kind: MoneyErrorKind) {
        match parse_usd(text) {
            Err(e) => {
                assert_eq!(e.kind(), kind, "parse_usd({text:?}): {e}");
                assert!(!e.message().is_empty());
            }
            Ok(t) => panic!("parse_usd({text:?}) = Ok({t}), expected {kind:?}"),
        }
    }

    #[test]
    fn parses_plain_decimals_exactly() {
        let cases: &[(&str, Ticks)] = &[
            ("0", 0),
            ("0.0", 0),
            ("-0", 0),
            ("-0.000", 0),
            ("1", TICKS_PER_USD),
            ("12", 12 * TICKS_PER_USD),
            ("0.0123", 123_000_000),
            ("0.1", 1_000_000_000),
            ("0.0000000001", 1),
            ("0.1234567891", 1_234_567_891),
            ("1.50000000000000000000", 15_000_000_000),
            ("999999.9999999999", 9_999_999_999_999_999),
            ("1000000", 1_000_000 * TICKS_PER_USD),
            ("1000000.0000000000", 1_000_000 * TICKS_PER_USD),
            ("  0.5 ", 5_000_000_000),
        ];
        for &(text, ticks) in cases {
            ok(text, ticks);
        }
    }

    #[test]
    fn applies_exponents_exactly() {
        let cases: &[(&str, Ticks)] = &[
            ("1e-3", 10_000_000),
            ("1E-3", 10_000_000),
            ("1.5E2", 150 * TICKS_PER_USD),
            ("1.5e+2", 150 * TICKS_PER_USD),
            ("15e-1", 15_000_000_000),
            ("1e6", 1_000_000 * TICKS_PER_USD),
            ("0.001e9", 1_000_000 * TICKS_PER_USD),
            ("1e-10", 1),
            ("123456789e-10", 123_456_789),
            ("1000000000e-9", TICKS_PER_USD),
            ("100e-12", 1),
            ("0e999999999999999999999", 0),
            ("0.0e-999999999999999999999", 0),
            ("1e0", TICKS_PER_USD),
            ("1e00005", 100_000 * TICKS_PER_USD),
        ];
        for &(text, ticks) in cases {
            ok(text, ticks);
        }
    }

    #[test]
    fn refuses_what_the_contract_refuses() {
        use MoneyErrorKind::*;
        let cases: &[(&str, MoneyErrorKind)] = &[
            ("", NotANumber),
            ("abc", NotANumber),
            ("\"1.0\"", NotANumber),
            ("null", NotANumber),
            ("true", NotANumber),
            ("+1", NotANumber),
            ("01", NotANumber),
            ("1.", NotANumber),
            (".5", NotANumber),
            ("1e", NotANumber),
            ("1e+", NotANumber),
            ("1ee2", NotANumber),
            ("1.2.3", NotANumber),
            ("--1", NotANumber),
            ("NaN", NotANumber),
            ("inf", NotANumber),
            ("1_000", NotANumber),
            ("0x10", NotANumber),
            ("١", NotANumber),
            ("-1", Negative),
            ("-0.0000000001", Negative),
            ("-1e-30", Negative),
            ("1000000.0000000001", TooLarge),
            ("1000001", TooLarge),
            ("1e7", TooLarge),
            ("1e999999999999999999999", TooLarge),
            ("99999999999999999999999999999999999999999", TooLarge),
            ("0.00000000001", TooPrecise),
            ("0.12345678901", TooPrecise),
            ("1e-11", TooPrecise),
            ("1.5e-10", TooPrecise),
            ("1e-999999999999999999999", TooPrecise),
        ];
        for &(text, kind) in cases {
            err(text, kind);
        }
    }

    #[test]
    fn converts_table_prices_to_whole_ticks_per_token() {
        let cases: &[(&str, Option<Ticks>)] = &[
            ("0", Some(0)),
            ("0.0", Some(0)),
            ("1", Some(10_000)),
            ("1.0", Some(10_000)),
            ("2.5", Some(25_000)),
            ("6.25", Some(62_500)),
            ("3.125", Some(31_250)),
            ("0.0028", Some(28)),
            ("0.0145", Some(145)),
            ("0.0001", Some(1)),
            ("1e-4", Some(1)),
            ("7.5e1", Some(750_000)),
            ("0.00001", None),
            ("0.00015", None),
            ("-1", None),
            ("x", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(
                usd_per_million_to_ticks_per_token(text).ok(),
                expected,
                "usd_per_million_to_ticks_per_token({text:?})"
            );
        }
    }

    #[test]
    fn displays_ticks_per_token_as_usd_per_million() {
        let cases: &[(Ticks, &str)] = &[
            (0, "0.0"),
            (1, "0.0001"),
            (28, "0.0028"),
            (145, "0.0145"),
            (31_250, "3.125"),
            (62_500, "6.25"),
            (750_000, "75.0"),
        ];
        for &(ticks, json) in cases {
            let shown = serde_json::to_string(&ticks_per_token_to_usd_per_million(ticks))
                .expect("a finite float serialises");
            assert_eq!(shown, json, "ticks {ticks}");
        }
    }

    #[test]
    fn rounds_to_micro_dollars_half_away_from_zero() {
        let cases: &[(Ticks, i128, &str)] = &[
            (0, 0, "0.0"),
            (4_999, 0, "0.0"),
            (5_000, 1, "1e-6"),
            (-4_999, 0, "0.0"),
            (-5_000, -1, "-1e-6"),
            (1_234_565_000, 123_457, "0.123457"),
            (1_234_564_999, 123_456, "0.123456"),
            (-1_234_565_000, -123_457, "-0.123457"),
            (TICKS_PER_USD, 1_000_000, "1.0"),
            (
                12_345 * TICKS_PER_USD + 5_000,
                12_345_000_001,
                "12345.000001",
            ),
            (
                1_000_000 * TICKS_PER_USD - 1,
                1_000_000_000_000,
                "1000000.0",
            ),
        ];
        for &(ticks, micros, json) in cases {
            assert_eq!(ticks_to_micros(ticks), micros, "micros of {ticks}");
            let shown =
                serde_json::to_string(&ticks_to_usd(ticks)).expect("a finite float serialises");
            assert_eq!(shown, json, "usd of {ticks}");
        }
    }

    #[test]
    fn every_six_decimal_amount_round_trips_through_its_shortest_float() {
        // The float of micros / 10⁶ must print as the decimal it stands for.
        for micros in (0..2_000_000_i128).step_by(7_919).chain([999_999, 123_457]) {
            let usd = ticks_to_usd(micros * TICKS_PER_MICRO_USD);
            let text = format!("{usd}");
            let back = parse_usd(&text).expect("a rendered amount parses");
            assert_eq!(
                back,
                micros * TICKS_PER_MICRO_USD,
                "{micros} micros → {text}"
            );
        }
    }

    #[test]
    fn error_messages_are_human() {
        let e = parse_usd("-2").expect_err("negative");
        assert_eq!(e.to_string(), "must not be negative");
        let e = parse_usd("2e6").expect_err("too large");
        assert_eq!(e.to_string(), "must be at most 1000000 USD");
        let e = parse_usd("1e-11").expect_err("too precise");
        assert_eq!(e.to_string(), "must have at most 10 decimal places");
        let e = parse_usd("\"1\"").expect_err("not a number");
        assert_eq!(e.to_string(), r#""\"1\"" is not a number"#);
    }
}
