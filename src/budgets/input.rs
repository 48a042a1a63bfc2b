//! What a client may send for a budget, field by field: the amount read exactly from the
//! JSON number's decimal text, thresholds, period, action and scope. Each refusal is
//! `invalid_field` naming the field.

use serde_json::Number;

use crate::budgets::period::Period;
use crate::budgets::Scope;
use crate::error::ApiError;
use crate::ids;

/// The largest amount, in USD.
pub const MAX_AMOUNT_USD: i64 = 1_000_000_000;
/// Decimal places an amount may have (micro-dollars).
const AMOUNT_DECIMALS: i64 = 6;
const MICROS_PER_USD: i64 = 1_000_000;

/// `amount_usd`: more than 0 and at most 10⁹ USD, with at most 6 decimal places; returned in
/// micro-dollars. Read from the number's decimal text, never through arithmetic on a float.
pub fn check_amount(value: &Number) -> Result<i64, ApiError> {
    let bad = |problem: &str| ApiError::invalid_field("amount_usd", problem);
    let range = "must be more than 0 and at most 1000000000";
    match decimal_micros(&value.to_string()) {
        Some(Decimal::Micros(m)) if m > 0 && m <= MAX_AMOUNT_USD * MICROS_PER_USD => Ok(m),
        Some(Decimal::TooPrecise) => Err(bad("must have at most 6 decimal places")),
        _ => Err(bad(range)),
    }
}

/// `thresholds`: whole percentages in 1..=100, none repeated; returned ascending.
pub fn check_thresholds(values: &[Number]) -> Result<Vec<i64>, ApiError> {
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        let Some(t) = value.as_i64().filter(|t| (1..=100).contains(t)) else {
            return Err(ApiError::invalid_field(
                "thresholds",
                &format!("{value} is not a whole percentage from 1 to 100"),
            ));
        };
        if out.contains(&t) {
            return Err(ApiError::invalid_field(
                "thresholds",
                &format!("{t} is repeated"),
            ));
        }
        out.push(t);
    }
    out.sort_unstable();
    Ok(out)
}

/// `period`: `day`, `week` or `month`.
pub fn check_period(text: &str) -> Result<Period, ApiError> {
    Period::parse(text)
        .ok_or_else(|| ApiError::invalid_field("period", "must be day, week or month"))
}

/// `action`: `alert` or `pause_dispatch`.
pub fn check_action(text: &str) -> Result<String, ApiError> {
    match text {
        "alert" | "pause_dispatch" => Ok(text.to_string()),
        _ => Err(ApiError::invalid_field(
            "action",
            "must be alert or pause_dispatch",
        )),
    }
}

/// `scope`: `type` is `workspace` (no id) or `runtime` / `agent` with the object's id.
pub fn check_scope(kind: &str, id: Option<&str>) -> Result<Scope, ApiError> {
    let parse_id = |what: &str| {
        id.and_then(ids::parse)
            .ok_or_else(|| ApiError::invalid_field("scope.id", &format!("must be a {what} id")))
    };
    match kind {
        "workspace" if id.is_none() => Ok(Scope::Workspace),
        "workspace" => Err(ApiError::invalid_field(
            "scope.id",
            "must be null for a workspace budget",
        )),
        "runtime" => Ok(Scope::Runtime(parse_id("runtime")?)),
        "agent" => Ok(Scope::Agent(parse_id("agent")?)),
        _ => Err(ApiError::invalid_field(
            "scope.type",
            "must be workspace, runtime or agent",
        )),
    }
}

/// A JSON number's decimal text read as micro-dollars.
#[derive(Debug, PartialEq, Eq)]
enum Decimal {
    Micros(i64),
    TooPrecise,
}

/// Reads `text` (`12`, `0.5`, `1e3`, `1.5E-2`, `-3`) exactly: `None` when it is not a number
/// or is too large for 10¹⁰ USD; a negative value comes back negative.
fn decimal_micros(text: &str) -> Option<Decimal> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // value = digits × 10^-scale
    let digits = format!("{whole}{fraction}");
    let mut scale = i64::try_from(fraction.len()).ok()?.checked_sub(exponent)?;
    let mut digits = digits.trim_start_matches('0');
    while let Some(rest) = digits.strip_suffix('0') {
        digits = rest;
        scale -= 1;
    }
    if digits.is_empty() {
        return Some(Decimal::Micros(0));
    }
    if scale > AMOUNT_DECIMALS {
        return Some(Decimal::TooPrecise);
    }
    // At most 10 whole digits, so with 6 decimals the result fits easily.
    let length = i64::try_from(digits.len()).ok()?;
    if length - scale > 10 {
        return None;
    }
    let mut micros: i64 = digits.parse().ok()?;
    for _ in scale..AMOUNT_DECIMALS {
        micros = micros.checked_mul(10)?;
    }
    Some(Decimal::Micros(if negative { -micros } else { micros }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::period::Period;

    fn amount(text: &str) -> Result<i64, String> {
        let n: Number = serde_json::from_str(text).unwrap();
        check_amount(&n).map_err(|e| e.message)
    }

    #[test]
    fn amounts_are_exact_micro_dollars_within_range() {
        assert_eq!(amount("12"), Ok(12_000_000));
        assert_eq!(amount("0.000001"), Ok(1));
        assert_eq!(amount("0.1"), Ok(100_000));
        assert_eq!(amount("1e3"), Ok(1_000_000_000));
        assert_eq!(amount("2.5E-1"), Ok(250_000));
        assert_eq!(amount("1000000000"), Ok(1_000_000_000_000_000));
        assert_eq!(amount("999999999.999999"), Ok(999_999_999_999_999));
        assert_eq!(amount("123.4500"), Ok(123_450_000));
        for bad in [
            "0",
            "-1",
            "-0.5",
            "1000000000.000001",
            "1e10",
            "1e300",
            "0.0",
        ] {
            let e = amount(bad).expect_err(bad);
            assert!(
                e.starts_with("amount_usd: must be more than 0"),
                "{bad}: {e}"
            );
        }
        let e = amount("0.0000001").unwrap_err();
        assert_eq!(e, "amount_usd: must have at most 6 decimal places");
    }

    #[test]
    fn thresholds_are_unique_whole_percentages() {
        let check = |text: &str| {
            let ns: Vec<Number> = serde_json::from_str(text).unwrap();
            check_thresholds(&ns).map_err(|e| e.message)
        };
        assert_eq!(check("[100, 50, 80]"), Ok(vec![50, 80, 100]));
        assert_eq!(check("[1]"), Ok(vec![1]));
        assert_eq!(check("[]"), Ok(vec![]));
        for bad in ["[0]", "[101]", "[-5]", "[50.5]", "[80, 80]", "[1e2]"] {
            let e = check(bad).expect_err(bad);
            assert!(e.starts_with("thresholds: "), "{bad}: {e}");
        }
    }

    #[test]
    fn scopes_need_the_right_ids() {
        let id = ids::new_id();
        assert_eq!(check_scope("workspace", None), Ok(Scope::Workspace));
        assert_eq!(
            check_scope("runtime", Some(&id)),
            Ok(Scope::Runtime(id.clone()))
        );
        assert_eq!(
            check_scope("agent", Some(&id)),
            Ok(Scope::Agent(id.clone()))
        );
        let field = |kind: &str, id: Option<&str>| {
            check_scope(kind, id)
                .unwrap_err()
                .message
                .split(':')
                .next()
                .map(String::from)
        };
        assert_eq!(field("workspace", Some(&id)).as_deref(), Some("scope.id"));
        assert_eq!(field("runtime", None).as_deref(), Some("scope.id"));
        assert_eq!(field("agent", Some("nope")).as_deref(), Some("scope.id"));
        assert_eq!(field("team", None).as_deref(), Some("scope.type"));
    }

    #[test]
    fn periods_and_actions_are_named() {
        assert_eq!(check_period("week"), Ok(Period::Week));
        assert!(check_period("year")
            .unwrap_err()
            .message
            .starts_with("period:"));
        assert_eq!(
            check_action("pause_dispatch").as_deref(),
            Ok("pause_dispatch")
        );
        assert!(check_action("stop")
            .unwrap_err()
            .message
            .starts_with("action:"));
    }
}
