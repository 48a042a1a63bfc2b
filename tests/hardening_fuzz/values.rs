//! Hostile values for the fuzz test: ids, methods, query strings, strings, numbers, broken
//! JSON, and random JSON of any shape.

use crate::common::raw::Rng;

#[rustfmt::skip]
pub const BAD_IDS: &[&str] = &[
    "not-a-uuid", "0", "-1", "1e99", "null", "00000000-0000-0000-0000-000000000000", "{id}",
    "%00", "%ff%fe", "..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%C3%A9", "%20",
    "12345678-1234-1234-1234-1234567890abc", "123e4567e89b12d3a456426614174000",
    "{123e4567-e89b-12d3-a456-426614174000}", "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
    "123e4567-e89b-12d3-a456-42661417400g",
];

#[rustfmt::skip]
pub const ODD_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "get",
    "M-SEARCH",
];

#[rustfmt::skip]
pub const QUERIES: &[&str] = &[
    "days=-1", "days=0", "days=366", "days=1e99", "days=abc", "days=99999999999999999999999",
    "days=7", "days=", "tz=../../etc/passwd", "tz=%00", "tz=Asia%2FKathmandu", "tz=",
    "tz=Not/AZone", "tz=%ff%fe", "limit=1e99", "limit=-5", "limit=0", "limit=3",
    "limit=99999999999999999999999", "after=-1", "after=abc", "after=99999999999",
    "before=not-a-uuid", "status=bogus", "status=queued", "owner=you", "owner=me", "format=csv",
    "format=xml", "include_archived=maybe", "include_archived=true", "runtime_id=bad",
    "agent_id=%00", "days=1&days=2&days=-3", "tz=UTC&tz=../x", "%", "&&&", "=", "==x", "a=%",
    "%zz=1", "x=%E2%82",
];

#[rustfmt::skip]
pub const STRINGS: &[&str] = &[
    "", " ", "x", "Olivia", "\\u0000", "\\\"quoted\\\"", "../../etc/passwd",
    "<script>alert(1)</script>", "' OR 1=1 --", "%s%n", "\\ud83d\\ude00", "\\ud800",
    "Europe/London", "UTC", "Asia/Kolkata", "public", "private", "owner", "admin", "member",
    "active", "paused", "claude", "codex", "gpt-5", "claude-opus-4-5", "1e99", "-1", "null",
    "cloud", "local", "2026-11-29T11:30:28.123Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-13-45T99:99:99Z", "a@b.c", "not an email", "é",
];

#[rustfmt::skip]
pub const NUMBERS: &[&str] = &[
    "0", "-1", "1", "1.5", "-0", "1e308", "1e999", "18446744073709551616", "-9223372036854775809",
    "9223372036854775807", "1000000000000", "1000000000001", "0.0000000001", "0.00000000001",
    "1000000", "1000000.0000000001", "1e-400", "60", "10080", "10081",
    "123456789012345678901234567890",
];

/// Syntactically broken JSON.
#[rustfmt::skip]
pub const BROKEN: &[&str] = &[
    "{", "}", "{,}", "{\"a\":}", "{'a':1}", "{\"a\":1}{\"b\":2}", "{\"a\":1,}", "[1,]", "NaN",
    "Infinity", "{\"a\": 01}", "{\"a\": .5}", "{\"a\": +1}", "\u{feff}{}", "/* c */ {}",
    "{\"a\": \"\\x41\"}", "{\"a\" 1}", "{\"a\": tru}", "{\"a\": \"open}", "{\"a\": [1, 2}",
    "{\"a\":1} trailing",
];

pub fn string(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => format!(
            "\"{}\"",
            "a".repeat(*rng.pick(&[199usize, 200, 201, 255, 256, 501]))
        ),
        1 => format!("\"{}\"", "é".repeat(300)),
        _ => format!("\"{}\"", rng.pick(STRINGS)),
    }
}

pub fn any_value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => string(rng),
        1 => rng.pick(NUMBERS).to_string(),
        2 => rng.pick(&["true", "false"]).to_string(),
        3 | 4 => "null".into(),
        5 => {
            let items: Vec<String> = (0..rng.below(5))
                .map(|_| any_value(rng, depth - 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => any_object(rng, depth.saturating_sub(1)),
    }
}

pub fn any_object(rng: &mut Rng, depth: usize) -> String {
    let parts: Vec<String> = (0..rng.below(4))
        .map(|i| format!("\"k{i}\": {}", any_value(rng, depth)))
        .collect();
    format!("{{{}}}", parts.join(","))
}
