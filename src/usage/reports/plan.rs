//! Which rollup buckets a report reads: pure functions from a window, a grouping (none, local
//! day, local hour) and the spans a rollup table holds to a short list of bucket ranges. Each
//! range lies inside one group (one local day or hour) and says which, so the database can sum
//! it whole; only the open tail after the laid-out days is read bucket by bucket, in quarters.
//! The coarsest buckets that fit are chosen: a 90-day window in UTC reads 91 day buckets per
//! model, not 8,736 quarters.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;

use crate::usage::window::{
    hour_of_quarter, instant_of_ms, local_date, ms_of_instant, quarter_start, start_of_local_day,
    QUARTER_MS,
};

/// The end of a window that has none: every bucket from its start on.
pub const OPEN: i64 = i64::MAX;

/// How a report groups buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One group: the whole window.
    Window,
    /// By local date in the viewing zone.
    LocalDay,
    /// By local hour of the day in the viewing zone.
    LocalHour,
}

/// Buckets of one span, `start <= bucket < end` (Unix ms; `end` may be `OPEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Bucket length in minutes.
    pub span: i64,
    pub start: i64,
    pub end: i64,
    /// An instant of the one group every bucket of the range is in (the group's start), or
    /// `None` when each bucket must be grouped on its own.
    pub group: Option<i64>,
    /// Subtracted from its group rather than added: a local day that holds no whole UTC day
    /// is read as the UTC day it overlaps most, minus the hours outside it, plus the hours
    /// of the next UTC day inside it (11 rows instead of 24 in New York, say).
    pub negative: bool,
}

/// The ranges covering `[since, ∞)` for `grouping` in `tz`, using `spans` (minutes, ascending,
/// each dividing the next, the first 15). Groups are laid out up to two local days after
/// `now`'s; anything later (a clock set back, say) is read in quarters. No bucket straddles
/// one of `cuts` (instants on the quarter grid where a price changes).
pub fn ranges(
    spans: &[i64],
    grouping: Grouping,
    tz: Tz,
    since: i64,
    now: i64,
    cuts: &[i64],
) -> Vec<Range> {
    let since = quarter_start(since);
    let mut boundaries = match grouping {
        Grouping::Window => vec![since],
        Grouping::LocalDay => day_starts(tz, since, horizon(tz, now)),
        Grouping::LocalHour => hour_starts(tz, since, horizon(tz, now)),
    };
    // Past the last group boundary only the open window tail tiles coarser than quarters.
    let limit = match grouping {
        Grouping::Window => OPEN,
        _ => boundaries.last().copied().unwrap_or(since),
    };
    boundaries.extend(
        cuts.iter()
            .map(|&c| quarter_start(c))
            .filter(|&c| c > since && c < limit),
    );
    boundaries.sort_unstable();
    boundaries.dedup();
    let mut out = Vec::new();
    for pair in boundaries.windows(2) {
        match grouping {
            Grouping::LocalDay => tile_day(pair[0], pair[1], spans, cuts, &mut out),
            _ => tile(pair[0], pair[1], spans, Some(pair[0]), &mut out),
        }
    }
    let last = boundaries.last().copied().unwrap_or(since);
    match grouping {
        Grouping::Window => tile(last, OPEN, spans, Some(last), &mut out),
        _ => tile(last, OPEN, &spans[..1], None, &mut out),
    }
    merge(out)
}

/// The start of the local day two days after `now`'s.
fn horizon(tz: Tz, now: i64) -> i64 {
    let today = local_date(instant_of_ms(now), tz);
    let day = today
        .checked_add_days(Days::new(2))
        .unwrap_or(NaiveDate::MAX);
    quarter_start(ms_of_instant(start_of_local_day(tz, day)))
}

/// `since` and the start of every later local day before `until` (an instant `since` is not
/// after), then `until`.
fn day_starts(tz: Tz, since: i64, until: i64) -> Vec<i64> {
    let mut out = vec![since];
    let mut day = local_date(instant_of_ms(since), tz);
    while let Some(next) = day.succ_opt() {
        let start = quarter_start(ms_of_instant(start_of_local_day(tz, next)));
        if start >= until {
            break;
        }
        if start > *out.last().unwrap_or(&since) {
            out.push(start);
        }
        day = next;
    }
    if until > since {
        out.push(until);
    }
    out
}

/// `since` and every later quarter before `until` whose local hour differs from the quarter
/// before it, then `until`. Exact in every zone: offsets are whole quarters.
fn hour_starts(tz: Tz, since: i64, until: i64) -> Vec<i64> {
    let mut out = vec![since];
    let mut hour = hour_of_quarter(since, tz);
    let mut q = since + QUARTER_MS;
    while q < until {
        let h = hour_of_quarter(q, tz);
        if h != hour {
            out.push(q);
            hour = h;
        }
        q += QUARTER_MS;
    }
    if until > since {
        out.push(until);
    }
    out
}

/// Appends the cheapest reading of the local day (or part of one) `[start, end)`: its tiling,
/// or a UTC day bucket corrected at both ends (segments added or subtracted) when that reads
/// fewer rows and no price cut falls inside the buckets read. Needs day buckets in `spans`.
fn tile_day(start: i64, end: i64, spans: &[i64], cuts: &[i64], out: &mut Vec<Range>) {
    let group = Some(start);
    let mut direct = Vec::new();
    tile(start, end, spans, group, &mut direct);
    let mut best = direct;
    if spans.last() == Some(&1440) {
        let day = 1440 * 60_000;
        let first = align_down(start, day);
        for day_start in [first, first + day] {
            let (lo, hi) = (start.min(day_start), end.max(day_start + day));
            if cuts.iter().any(|&c| c > lo && c < hi) {
                continue;
            }
            let mut shifted = Vec::new();
            segment(start, day_start, spans, group, &mut shifted);
            tile(day_start, day_start + day, spans, group, &mut shifted);
            segment(day_start + day, end, spans, group, &mut shifted);
            if buckets(&shifted) < buckets(&best) {
                best = shifted;
            }
        }
    }
    out.extend(best);
}

/// The buckets from `from` to `to`: added when `from < to`, subtracted (the range
/// `[to, from)`) when `to < from`.
fn segment(from: i64, to: i64, spans: &[i64], group: Option<i64>, out: &mut Vec<Range>) {
    if from <= to {
        tile(from, to, spans, group, out);
    } else {
        let mut taken = Vec::new();
        tile(to, from, spans, group, &mut taken);
        out.extend(taken.into_iter().map(|r| Range {
            negative: true,
            ..r
        }));
    }
}

/// How many buckets (rows per model) `ranges` read.
fn buckets(ranges: &[Range]) -> i64 {
    ranges
        .iter()
        .map(|r| (r.end - r.start) / (r.span * 60_000))
        .sum()
}

/// Appends the fewest aligned buckets of `spans` that tile `[start, end)`: each span in turn
/// up to the next span's boundary while a bucket still fits, the coarsest reached as far as it
/// fits, then finer ones down to `end`. `start` and `end` are multiples of the finest span (or
/// `end` is `OPEN`).
fn tile(start: i64, end: i64, spans: &[i64], group: Option<i64>, out: &mut Vec<Range>) {
    if end <= start || spans.is_empty() {
        return;
    }
    let ms = |span: i64| span * 60_000;
    let fit = |span: i64| match end {
        OPEN => OPEN,
        _ => align_down(end, ms(span)),
    };
    let mut at = start;
    let mut push = |span: i64, to: i64, at: &mut i64| {
        if to > *at {
            out.push(Range {
                span,
                start: *at,
                end: to,
                group,
                negative: false,
            });
            *at = to;
        }
    };
    // `at` stays aligned to `spans[level]`.
    let mut level = 0;
    while level + 1 < spans.len() {
        let boundary = align_up(at, ms(spans[level + 1]));
        if boundary > fit(spans[level]) {
            break;
        }
        push(spans[level], boundary, &mut at);
        level += 1;
    }
    push(spans[level], fit(spans[level]), &mut at);
    for &span in spans[..level].iter().rev() {
        push(span, fit(span), &mut at);
    }
}

/// Joins neighbouring ranges of one span and one group, so each is read in one query.
fn merge(ranges: Vec<Range>) -> Vec<Range> {
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last)
                if last.span == r.span
                    && last.end == r.start
                    && last.group == r.group
                    && last.negative == r.negative =>
            {
                last.end = r.end
            }
            _ => out.push(r),
        }
    }
    out
}

fn align_up(ms: i64, span_ms: i64) -> i64 {
    match ms.rem_euclid(span_ms) {
        0 => ms,
        r => ms.saturating_add(span_ms - r),
    }
}

fn align_down(ms: i64, span_ms: i64) -> i64 {
    ms - ms.rem_euclid(span_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::window::{day_of_quarter, parse_zone};
    use chrono::{DateTime, Utc};

    const SPANS: &[i64] = &[15, 60, 1440];
    const H: i64 = 3_600_000;
    const D: i64 = 86_400_000;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339 in a test")
            .with_timezone(&Utc)
            .timestamp_millis()
    }

    fn zone(name: &str) -> Tz {
        parse_zone(name).expect("zone in a test")
    }

    /// Every quarter from `since` to `until` is covered exactly once, each range is aligned,
    /// every quarter of a grouped range is in the range's group, and every bucket of an
    /// ungrouped range lies in one group.
    fn check_cover(ranges: &[Range], since: i64, until: i64, group: impl Fn(i64) -> String) {
        let mut q = since;
        for r in ranges {
            let span_ms = r.span * 60_000;
            assert_eq!(r.start, q, "gap or overlap at {}: {ranges:?}", r.start);
            assert_eq!(r.start % span_ms, 0, "unaligned {r:?}");
            if r.end != OPEN {
                assert_eq!(r.end % span_ms, 0, "unaligned {r:?}");
            }
            let stop = r.end.min(until);
            let expected = r.group.map(&group);
            let mut b = r.start;
            while b < stop {
                let g = expected.clone().unwrap_or_else(|| group(b));
                let mut inner = b;
                while inner < (b + span_ms).min(stop) {
                    assert_eq!(group(inner), g, "bucket {b} of {r:?} spans two groups");
                    inner += QUARTER_MS;
                }
                b += span_ms;
            }
            q = r.end;
            if q >= until {
                return;
            }
        }
        panic!("ranges stop before {until}: {ranges:?}");
    }

    /// Counting added ranges +1 and subtracted ones −1, every quarter from `since` to `until`
    /// is read exactly once for its own group and nets to nothing for any other; quarters
    /// outside net to nothing. Each range is aligned to its span.
    fn check_signed_cover(ranges: &[Range], since: i64, until: i64, group: impl Fn(i64) -> String) {
        let mut net: std::collections::BTreeMap<(i64, String), i64> = Default::default();
        for r in ranges {
            let span_ms = r.span * 60_000;
            assert_eq!(r.start % span_ms, 0, "unaligned {r:?}");
            assert!(r.end == OPEN || r.end % span_ms == 0, "unaligned {r:?}");
            let sign = if r.negative { -1 } else { 1 };
            let mut q = r.start;
            while q < r.end.min(until) {
                let label = r.group.map_or_else(|| group(q), &group);
                *net.entry((q, label)).or_default() += sign;
                q += QUARTER_MS;
            }
        }
        let mut q = since;
        while q < until {
            assert_eq!(
                net.remove(&(q, group(q))),
                Some(1),
                "quarter {q}: {ranges:?}"
            );
            q += QUARTER_MS;
        }
        net.retain(|_, n| *n != 0);
        assert!(net.is_empty(), "left over: {net:?}");
    }

    #[test]
    fn a_local_day_off_the_utc_grid_reads_a_utc_day_corrected_at_both_ends() {
        // New York (UTC−5 in March before the 8th): a local day is 05:00 → 05:00 UTC.
        let tz = zone("America/New_York");
        let since = ms("2026-03-02T05:00:00Z");
        let now = ms("2026-03-04T12:00:00Z");
        let got = ranges(SPANS, Grouping::LocalDay, tz, since, now, &[]);
        let day = |d: &str| ms(&format!("2026-03-{d}T00:00:00Z"));
        let first: Vec<Range> = got.iter().copied().take(3).collect();
        assert_eq!(
            first,
            vec![
                Range {
                    span: 60,
                    start: day("02"),
                    end: since,
                    group: Some(since),
                    negative: true,
                },
                Range {
                    span: 1440,
                    start: day("02"),
                    end: day("03"),
                    group: Some(since),
                    negative: false,
                },
                Range {
                    span: 60,
                    start: day("03"),
                    end: day("03") + 5 * H,
                    group: Some(since),
                    negative: false,
                },
            ]
        );
        // 11 rows a day instead of 24; a price cut inside the UTC day keeps the plain tiling.
        assert_eq!(buckets(&first), 11);
        let cut = day("02") + 2 * H;
        let with_cut = ranges(SPANS, Grouping::LocalDay, tz, since, now, &[cut]);
        assert_eq!(
            with_cut[0],
            Range {
                span: 60,
                start: since,
                end: day("03") + 5 * H,
                group: Some(since),
                negative: false,
            }
        );
        check_signed_cover(&with_cut, since, horizon(tz, now) + D, |q| {
            day_of_quarter(q, tz).to_string()
        });
    }

    #[test]
    fn a_utc_window_reads_days_and_whole_hours() {
        let since = ms("2026-03-01T00:00:00Z");
        let now = ms("2026-03-10T13:07:00Z");
        let got = ranges(SPANS, Grouping::LocalDay, Tz::UTC, since, now, &[]);
        let tail = ms("2026-03-12T00:00:00Z");
        assert_eq!(
            got,
            (0..11)
                .map(|d| Range {
                    span: 1440,
                    start: since + d * D,
                    end: since + (d + 1) * D,
                    group: Some(since + d * D),
                    negative: false,
                })
                .chain([Range {
                    span: 15,
                    start: tail,
                    end: OPEN,
                    group: None,
                    negative: false,
                }])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_window_without_groups_climbs_to_days_and_stays_there() {
        // Kathmandu midnight is 18:15 UTC.
        let since = ms("2026-03-01T18:15:00Z");
        let got = ranges(
            SPANS,
            Grouping::Window,
            zone("Asia/Kathmandu"),
            since,
            since + 40 * D,
            &[],
        );
        assert_eq!(
            got,
            vec![
                Range {
                    span: 15,
                    start: since,
                    end: since + 45 * 60_000,
                    group: Some(since),
                    negative: false,
                },
                Range {
                    span: 60,
                    start: ms("2026-03-01T19:00:00Z"),
                    end: ms("2026-03-02T00:00:00Z"),
                    group: Some(since),
                    negative: false,
                },
                Range {
                    span: 1440,
                    start: ms("2026-03-02T00:00:00Z"),
                    end: OPEN,
                    group: Some(since),
                    negative: false,
                },
            ]
        );
    }

    #[test]
    fn local_days_are_exact_in_every_awkward_zone() {
        for name in [
            "Asia/Kathmandu",
            "Asia/Kolkata",
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "America/Santiago",
            "America/St_Johns",
            "Pacific/Chatham",
        ] {
            let tz = zone(name);
            for now in [
                ms("2026-03-08T12:00:00Z"),
                ms("2026-04-05T15:30:00Z"),
                ms("2026-09-06T04:00:00Z"),
                ms("2026-11-01T06:45:00Z"),
            ] {
                let today = local_date(instant_of_ms(now), tz);
                let first = today - Days::new(40);
                let since = ms_of_instant(start_of_local_day(tz, first));
                let got = ranges(SPANS, Grouping::LocalDay, tz, since, now, &[]);
                check_signed_cover(&got, since, horizon(tz, now) + D, |q| {
                    day_of_quarter(q, tz).to_string()
                });
                // At most five ranges a day (quarters, hours, a day, hours, quarters) and
                // the tail.
                assert!(
                    got.len() <= 5 * 43 + 1,
                    "{name}: too many ranges ({})",
                    got.len()
                );
            }
        }
    }

    #[test]
    fn local_hours_use_whole_hours_only_where_they_align() {
        let now = ms("2026-11-01T12:00:00Z");
        for (name, expect_hours) in [
            ("America/New_York", true),
            ("Asia/Kolkata", false),
            // +10:30 until 4 October 2026, then +11: quarters first, whole hours after.
            ("Australia/Lord_Howe", true),
        ] {
            let tz = zone(name);
            let today = local_date(instant_of_ms(now), tz);
            let since = ms_of_instant(start_of_local_day(tz, today - Days::new(30)));
            let got = ranges(SPANS, Grouping::LocalHour, tz, since, now, &[]);
            check_cover(&got, since, horizon(tz, now) + H, |q| {
                hour_of_quarter(q, tz).to_string()
            });
            assert_eq!(
                got.iter().any(|r| r.span == 60),
                expect_hours,
                "{name}: {got:?}"
            );
            assert!(got.iter().all(|r| r.span != 1440), "{name}: {got:?}");
        }
    }

    #[test]
    fn no_bucket_straddles_a_price_cut() {
        let since = ms("2026-03-01T00:00:00Z");
        let now = ms("2026-03-10T13:07:00Z");
        let cut = ms("2026-03-04T10:15:00Z");
        for grouping in [Grouping::Window, Grouping::LocalDay, Grouping::LocalHour] {
            let got = ranges(SPANS, grouping, Tz::UTC, since, now, &[cut, since - D]);
            check_cover(&got, since, now + 3 * D, |q| (q >= cut).to_string());
        }
    }

    #[test]
    fn tiles_climb_and_descend() {
        let mut out = Vec::new();
        let start = ms("2026-01-01T22:45:00Z");
        let end = ms("2026-01-04T01:30:00Z");
        tile(start, end, SPANS, None, &mut out);
        let spans: Vec<i64> = out.iter().map(|r| r.span).collect();
        assert_eq!(spans, vec![15, 60, 1440, 60, 15]);
        assert_eq!(out[2].end - out[2].start, 2 * D);
        check_cover(&out, start, end, |_| String::new());
        let mut empty = Vec::new();
        tile(start, start, SPANS, None, &mut empty);
        assert!(empty.is_empty());
    }
}
