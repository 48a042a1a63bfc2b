//! Time windows of the usage reports, as pure functions of `now` and a zone (API.md §5,
//! DESIGN.md "Time"): which zone a report is viewed in, how many days it covers, the instant its
//! window starts (a local midnight, or the first instant of the day where midnight is skipped),
//! and the local date and hour of an instant or of a 15-minute rollup bucket. Every zone offset
//! observed since 2000 is a multiple of 15 minutes, so each quarter-hour bucket lies in exactly
//! one local hour of one local day and reports built from quarters are exact.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::{GapInfo, Tz};

/// Milliseconds in one rollup bucket.
pub const QUARTER_MS: i64 = 900_000;

/// The smallest and largest days a report may ask for.
pub const MIN_DAYS: u32 = 1;
pub const MAX_DAYS: u32 = 365;

/// Unix milliseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the instants
/// `instant_of_ms` clamps to, far beyond any real timestamp yet safe for every zone offset.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_300_799_999;

/// A valid IANA zone name (surrounding spaces ignored; exact spelling, as the tz database has it).
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok()
}

/// The viewing zone: the first of `?tz=`, the user's zone and (runtime reports only) the
/// runtime's zone that is a valid IANA name, else UTC. Invalid names fall through silently.
pub fn resolve_zone(query: Option<&str>, user: Option<&str>, runtime: Option<&str>) -> Tz {
    [query, user, runtime]
        .into_iter()
        .flatten()
        .find_map(parse_zone)
        .unwrap_or(Tz::UTC)
}

/// `?days=`: an integer in 1..=365 (surrounding spaces ignored), anything else means `default`.
pub fn parse_days(raw: Option<&str>, default: u32) -> u32 {
    let Some(text) = raw.map(str::trim) else {
        return default;
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return default;
    }
    match text.parse::<u32>() {
        Ok(days) if (MIN_DAYS..=MAX_DAYS).contains(&days) => days,
        _ => default,
    }
}

/// The earliest instant whose local date in `tz` is `date`: local midnight when it exists, the
/// first of two midnights when the clocks go back over it (America/Havana), and the end of the
/// gap when the clocks skip it (America/Santiago, Asia/Beirut). For a day a zone skipped
/// entirely (Pacific/Apia, 2011-12-30) this is the first instant of the next day, so the
/// skipped day is empty.
pub fn start_of_local_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    if let Some(first) = tz.from_local_datetime(&midnight).earliest() {
        return first.with_timezone(&Utc);
    }
    // Midnight falls in a gap: the day starts at the transition, which is the first instant
    // after the gap.
    if let Some(end) = GapInfo::new(&midnight, &tz).and_then(|gap| gap.end) {
        return end.with_timezone(&Utc);
    }
    first_existing_after(tz, midnight)
}

/// Start of the window of a runtime report: local midnight of (today − `days`), which gives
/// `days + 1` calendar buckets (today's partial day plus `days` full days).
pub fn runtime_since(now: DateTime<Utc>, tz: Tz, days: u32) -> DateTime<Utc> {
    days_before_today(now, tz, days)
}

/// Start of the window of a workspace report: local midnight of (today − (`days` − 1)), which
/// gives `days` buckets; `days = 1` is today only (0 is treated as 1).
pub fn workspace_since(now: DateTime<Utc>, tz: Tz, days: u32) -> DateTime<Utc> {
    days_before_today(now, tz, days.saturating_sub(1))
}

/// The local date of `instant` in `tz`.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The local hour (0..=23) of `instant` in `tz`.
pub fn local_hour(instant: DateTime<Utc>, tz: Tz) -> u32 {
    instant.with_timezone(&tz).hour()
}

/// The start of the quarter-hour bucket holding `ms` (Unix milliseconds; floors negatives too).
pub fn quarter_start(ms: i64) -> i64 {
    ms.div_euclid(QUARTER_MS) * QUARTER_MS
}

/// The local date of the quarter starting at `q_start_ms`: exact for the whole quarter, since
/// offsets and transitions since 2000 fall on quarter hours.
pub fn day_of_quarter(q_start_ms: i64, tz: Tz) -> NaiveDate {
    local_date(instant_of_ms(q_start_ms), tz)
}

/// The local hour (0..=23) of the quarter starting at `q_start_ms`, exact for the same reason.
pub fn hour_of_quarter(q_start_ms: i64, tz: Tz) -> u32 {
    local_hour(instant_of_ms(q_start_ms), tz)
}

/// The instant of `ms` Unix milliseconds, clamped to years 1..=9999 so that no input can
/// overflow the date arithmetic of a zone.
pub fn instant_of_ms(ms: i64) -> DateTime<Utc> {
    let ms = ms.clamp(MIN_MS, MAX_MS);
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Unix milliseconds of `instant` (how the ledger and rollups store time).
pub fn ms_of_instant(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_millis()
}

fn days_before_today(now: DateTime<Utc>, tz: Tz, days: u32) -> DateTime<Utc> {
    let today = local_date(now, tz);
    match today.checked_sub_days(Days::new(u64::from(days))) {
        Some(first_day) => start_of_local_day(tz, first_day),
        // Further back than the calendar goes: the window holds everything.
        None => instant_of_ms(MIN_MS),
    }
}

/// Fallback for a gap `GapInfo` cannot describe (at the ends of the zone's known history):
/// the first existing local quarter hour after `local`, which is exact for every transition
/// on a quarter hour. Gaps are at most a day long, so the scan is bounded.
fn first_existing_after(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let quarter = chrono::Duration::minutes(15);
    let mut probe = local;
    for _ in 0..(2 * 24 * 4) {
        probe += quarter;
        if let Some(found) = tz.from_local_datetime(&probe).earliest() {
            return found.with_timezone(&Utc);
        }
    }
    // No zone has a gap this long; reading the wall time as UTC is the least surprising answer.
    local.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Offset};
    use chrono_tz::TZ_VARIANTS;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid RFC 3339 in a test")
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date in a test")
    }

    fn zone(name: &str) -> Tz {
        parse_zone(name).expect("valid zone in a test")
    }

    #[test]
    fn parses_only_valid_iana_names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("UTC", Some("UTC")),
            ("Europe/London", Some("Europe/London")),
            ("  Asia/Kathmandu \n", Some("Asia/Kathmandu")),
            (
                "America/Argentina/Buenos_Aires",
                Some("America/Argentina/Buenos_Aires"),
            ),
            ("Etc/GMT+5", Some("Etc/GMT+5")),
            ("", None),
            ("   ", None),
            ("europe/london", None),
            ("Mars/Olympus_Mons", None),
            ("+05:30", None),
            ("Europe/London ", Some("Europe/London")),
            ("Europe /London", None),
        ];
        for (name, expected) in cases {
            assert_eq!(parse_zone(name).map(|tz| tz.name()), *expected, "{name:?}");
        }
    }

    #[test]
    fn resolves_the_first_valid_zone() {
        // (?tz=, user.timezone, runtime.timezone, zone used)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);
        let cases: &[Case] = &[
            (None, None, None, "UTC"),
            (
                Some("Asia/Kolkata"),
                Some("Europe/London"),
                Some("Asia/Tokyo"),
                "Asia/Kolkata",
            ),
            (
                Some("nope"),
                Some("Europe/London"),
                Some("Asia/Tokyo"),
                "Europe/London",
            ),
            (Some(""), None, Some("Asia/Tokyo"), "Asia/Tokyo"),
            (None, Some("bad"), Some("Asia/Tokyo"), "Asia/Tokyo"),
            (Some("bad"), Some("bad"), Some("bad"), "UTC"),
            (None, None, Some("America/Santiago"), "America/Santiago"),
        ];
        for (query, user, runtime, expected) in cases {
            assert_eq!(
                resolve_zone(*query, *user, *runtime).name(),
                *expected,
                "{query:?} {user:?} {runtime:?}"
            );
        }
    }

    #[test]
    fn days_are_1_to_365_or_the_default() {
        let cases: &[(Option<&str>, u32)] = &[
            (None, 30),
            (Some("1"), 1),
            (Some("7"), 7),
            (Some("365"), 365),
            (Some(" 90 "), 90),
            (Some("007"), 7),
            (Some("0"), 30),
            (Some("366"), 30),
            (Some("-1"), 30),
            (Some("+5"), 30),
            (Some("5.0"), 30),
            (Some("1e2"), 30),
            (Some(""), 30),
            (Some("abc"), 30),
            (Some("99999999999999999999"), 30),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_days(*raw, 30), *expected, "{raw:?}");
        }
    }

    #[test]
    fn local_dates_and_hours_around_midnight() {
        // (zone, instant, local date, local hour)
        let cases: &[(&str, &str, &str, u32)] = &[
            ("UTC", "2024-06-01T23:59:00Z", "2024-06-01", 23),
            ("UTC", "2024-06-02T00:01:00Z", "2024-06-02", 0),
            ("America/New_York", "2024-06-02T03:59:00Z", "2024-06-01", 23),
            ("America/New_York", "2024-06-02T04:01:00Z", "2024-06-02", 0),
            ("America/New_York", "2024-01-02T04:59:00Z", "2024-01-01", 23),
            ("America/New_York", "2024-01-02T05:01:00Z", "2024-01-02", 0),
            ("Europe/London", "2024-07-01T22:59:00Z", "2024-07-01", 23),
            ("Europe/London", "2024-07-01T23:01:00Z", "2024-07-02", 0),
            ("Asia/Kolkata", "2024-03-01T18:29:00Z", "2024-03-01", 23),
            ("Asia/Kolkata", "2024-03-01T18:31:00Z", "2024-03-02", 0),
            ("Asia/Kathmandu", "2024-03-01T18:14:00Z", "2024-03-01", 23),
            ("Asia/Kathmandu", "2024-03-01T18:16:00Z", "2024-03-02", 0),
            (
                "Australia/Lord_Howe",
                "2024-01-01T12:59:00Z",
                "2024-01-01",
                23,
            ),
            (
                "Australia/Lord_Howe",
                "2024-01-01T13:01:00Z",
                "2024-01-02",
                0,
            ),
            (
                "Australia/Lord_Howe",
                "2024-07-01T13:29:00Z",
                "2024-07-01",
                23,
            ),
            (
                "Australia/Lord_Howe",
                "2024-07-01T13:31:00Z",
                "2024-07-02",
                0,
            ),
            // Santiago's spring-forward day starts at 01:00 local: 23:59 and 01:00 are a minute
            // apart and on different dates.
            ("America/Santiago", "2024-09-08T03:59:00Z", "2024-09-07", 23),
            ("America/Santiago", "2024-09-08T04:00:00Z", "2024-09-08", 1),
        ];
        for (name, instant, expected_date, expected_hour) in cases {
            let (tz, t) = (zone(name), utc(instant));
            assert_eq!(local_date(t, tz), date(expected_date), "{name} {instant}");
            assert_eq!(local_hour(t, tz), *expected_hour, "{name} {instant}");
        }
    }

    #[test]
    fn days_start_at_their_earliest_instant() {
        // (zone, local date, first instant, minutes in that day)
        let cases: &[(&str, &str, &str, i64)] = &[
            ("UTC", "2024-03-10", "2024-03-10T00:00:00Z", 24 * 60),
            (
                "America/New_York",
                "2024-03-09",
                "2024-03-09T05:00:00Z",
                24 * 60,
            ),
            (
                "America/New_York",
                "2024-03-10",
                "2024-03-10T05:00:00Z",
                23 * 60,
            ),
            (
                "America/New_York",
                "2024-11-03",
                "2024-11-03T04:00:00Z",
                25 * 60,
            ),
            (
                "America/New_York",
                "2024-11-04",
                "2024-11-04T05:00:00Z",
                24 * 60,
            ),
            (
                "Europe/London",
                "2024-03-31",
                "2024-03-31T00:00:00Z",
                23 * 60,
            ),
            (
                "Europe/London",
                "2024-10-27",
                "2024-10-26T23:00:00Z",
                25 * 60,
            ),
            // Lord Howe moves its clocks by 30 minutes at 02:00 local.
            (
                "Australia/Lord_Howe",
                "2024-04-06",
                "2024-04-05T13:00:00Z",
                24 * 60,
            ),
            (
                "Australia/Lord_Howe",
                "2024-04-07",
                "2024-04-06T13:00:00Z",
                24 * 60 + 30,
            ),
            (
                "Australia/Lord_Howe",
                "2024-10-06",
                "2024-10-05T13:30:00Z",
                23 * 60 + 30,
            ),
            // No midnight: 2024-09-08 begins at 01:00 -03 when the clocks jump at 24:00 -04.
            (
                "America/Santiago",
                "2024-09-08",
                "2024-09-08T04:00:00Z",
                23 * 60,
            ),
            // Midnight exists once after the autumn change at 24:00 -03 → 23:00 -04.
            (
                "America/Santiago",
                "2024-04-06",
                "2024-04-06T03:00:00Z",
                25 * 60,
            ),
            (
                "America/Santiago",
                "2024-04-07",
                "2024-04-07T04:00:00Z",
                24 * 60,
            ),
            // Havana: no midnight in spring, two midnights in autumn (the first counts).
            (
                "America/Havana",
                "2024-03-10",
                "2024-03-10T05:00:00Z",
                23 * 60,
            ),
            (
                "America/Havana",
                "2024-11-03",
                "2024-11-03T04:00:00Z",
                25 * 60,
            ),
            // Beirut springs forward at midnight too.
            ("Asia/Beirut", "2024-03-31", "2024-03-30T22:00:00Z", 23 * 60),
            (
                "Asia/Kolkata",
                "2024-03-02",
                "2024-03-01T18:30:00Z",
                24 * 60,
            ),
            (
                "Asia/Kathmandu",
                "2024-03-02",
                "2024-03-01T18:15:00Z",
                24 * 60,
            ),
            // Samoa skipped 2011-12-30 entirely: the day is empty.
            ("Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z", 0),
            (
                "Pacific/Apia",
                "2011-12-31",
                "2011-12-30T10:00:00Z",
                24 * 60,
            ),
        ];
        for (name, day, first, minutes) in cases {
            let (tz, d) = (zone(name), date(day));
            let start = start_of_local_day(tz, d);
            assert_eq!(start, utc(first), "{name} {day}");
            let next = start_of_local_day(tz, d + Days::new(1));
            assert_eq!(
                (next - start).num_minutes(),
                *minutes,
                "{name} {day} length"
            );
            if *minutes > 0 {
                assert_eq!(local_date(start, tz), d, "{name} {day} starts on itself");
            }
            let before = start - Duration::seconds(1);
            assert!(
                local_date(before, tz) < d,
                "{name} {day}: a second earlier is earlier"
            );
        }
    }

    #[test]
    fn runtime_windows_have_one_more_bucket_than_workspace_windows() {
        // (zone, now, days, runtime since, workspace since)
        let cases: &[(&str, &str, u32, &str, &str)] = &[
            (
                "UTC",
                "2024-06-15T12:00:00Z",
                1,
                "2024-06-14T00:00:00Z",
                "2024-06-15T00:00:00Z",
            ),
            (
                "UTC",
                "2024-06-15T12:00:00Z",
                7,
                "2024-06-08T00:00:00Z",
                "2024-06-09T00:00:00Z",
            ),
            (
                "UTC",
                "2024-06-15T00:00:00Z",
                0,
                "2024-06-15T00:00:00Z",
                "2024-06-15T00:00:00Z",
            ),
            // 01:30 UTC is still the 14th in New York; the DST change on 03-10 is inside.
            (
                "America/New_York",
                "2024-03-15T01:30:00Z",
                7,
                "2024-03-07T05:00:00Z",
                "2024-03-08T05:00:00Z",
            ),
            // Local now is 00:05 on 03-02: the runtime window reaches back to 03-01.
            (
                "Asia/Kathmandu",
                "2024-03-01T18:20:00Z",
                1,
                "2024-02-29T18:15:00Z",
                "2024-03-01T18:15:00Z",
            ),
            (
                "America/Santiago",
                "2024-09-10T15:00:00Z",
                2,
                "2024-09-08T04:00:00Z",
                "2024-09-09T03:00:00Z",
            ),
            (
                "UTC",
                "2024-12-31T23:59:59Z",
                365,
                "2024-01-01T00:00:00Z",
                "2024-01-02T00:00:00Z",
            ),
        ];
        for (name, now, days, runtime, workspace) in cases {
            let (tz, now_t) = (zone(name), utc(now));
            let r = runtime_since(now_t, tz, *days);
            let w = workspace_since(now_t, tz, *days);
            assert_eq!(r, utc(runtime), "{name} {now} {days} runtime");
            assert_eq!(w, utc(workspace), "{name} {now} {days} workspace");
            let buckets = |since: DateTime<Utc>| {
                (local_date(now_t, tz) - local_date(since, tz)).num_days() + 1
            };
            assert_eq!(
                buckets(r),
                i64::from((*days).max(1)) + i64::from(*days > 0),
                "{name}"
            );
            assert_eq!(buckets(w), i64::from((*days).max(1)), "{name}");
        }
        // A window further back than the calendar reaches holds everything.
        assert_eq!(
            runtime_since(utc("2024-01-01T00:00:00Z"), Tz::UTC, u32::MAX),
            instant_of_ms(MIN_MS)
        );
    }

    #[test]
    fn quarters_floor_and_map_to_local_days_and_hours() {
        let floors: &[(i64, i64)] = &[
            (0, 0),
            (1, 0),
            (899_999, 0),
            (900_000, 900_000),
            (-1, -900_000),
            (-900_000, -900_000),
            (-900_001, -1_800_000),
        ];
        for (ms, start) in floors {
            assert_eq!(quarter_start(*ms), *start, "{ms}");
        }
        // (zone, quarter start, local date, local hour)
        let cases: &[(&str, &str, &str, u32)] = &[
            ("Asia/Kathmandu", "2024-03-01T18:00:00Z", "2024-03-01", 23),
            ("Asia/Kathmandu", "2024-03-01T18:15:00Z", "2024-03-02", 0),
            ("Asia/Kolkata", "2024-03-01T18:15:00Z", "2024-03-01", 23),
            ("Asia/Kolkata", "2024-03-01T18:30:00Z", "2024-03-02", 0),
            ("Asia/Kolkata", "2024-03-01T19:15:00Z", "2024-03-02", 0),
            ("Asia/Kolkata", "2024-03-01T19:30:00Z", "2024-03-02", 1),
            ("America/New_York", "2024-11-03T05:45:00Z", "2024-11-03", 1),
            ("America/New_York", "2024-11-03T06:00:00Z", "2024-11-03", 1),
            ("America/New_York", "2024-03-10T06:45:00Z", "2024-03-10", 1),
            ("America/New_York", "2024-03-10T07:00:00Z", "2024-03-10", 3),
            (
                "Australia/Lord_Howe",
                "2024-10-05T15:15:00Z",
                "2024-10-06",
                1,
            ),
            (
                "Australia/Lord_Howe",
                "2024-10-05T15:30:00Z",
                "2024-10-06",
                2,
            ),
        ];
        for (name, start, expected_date, expected_hour) in cases {
            let (tz, ms) = (zone(name), ms_of_instant(utc(start)));
            assert_eq!(quarter_start(ms), ms, "{start} is a quarter start");
            assert_eq!(
                day_of_quarter(ms, tz),
                date(expected_date),
                "{name} {start}"
            );
            assert_eq!(hour_of_quarter(ms, tz), *expected_hour, "{name} {start}");
        }
        assert_eq!(instant_of_ms(i64::MAX), instant_of_ms(MAX_MS));
        assert_eq!(instant_of_ms(i64::MIN), instant_of_ms(MIN_MS));
        // Out-of-range input clamps instead of panicking (Kiritimati: LMT −10:29, later +14).
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        assert_eq!(
            day_of_quarter(i64::MIN, Tz::Pacific__Kiritimati),
            ymd(0, 12, 31)
        );
        assert_eq!(
            day_of_quarter(i64::MAX, Tz::Pacific__Kiritimati),
            ymd(10_000, 1, 1)
        );
    }

    #[test]
    fn every_minute_of_a_quarter_shares_its_local_day_and_hour() {
        let zones = [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "America/Santiago",
            "America/Havana",
            "Asia/Kolkata",
            "Asia/Kathmandu",
        ];
        // Two days around each 2024 change of these zones (Kolkata and Kathmandu have none).
        let starts = [
            "2024-03-09T00:00:00Z",
            "2024-03-30T00:00:00Z",
            "2024-04-05T12:00:00Z",
            "2024-09-07T00:00:00Z",
            "2024-10-04T12:00:00Z",
            "2024-10-26T00:00:00Z",
            "2024-11-02T00:00:00Z",
        ];
        for name in zones {
            let tz = zone(name);
            for start in starts {
                let base = ms_of_instant(utc(start));
                for minute in (0..2 * 24 * 60).step_by(7) {
                    let ms = base + minute * 60_000;
                    let q = quarter_start(ms);
                    let t = instant_of_ms(ms);
                    assert_eq!(day_of_quarter(q, tz), local_date(t, tz), "{name} {t}");
                    assert_eq!(hour_of_quarter(q, tz), local_hour(t, tz), "{name} {t}");
                }
            }
        }
    }

    #[test]
    fn every_zone_offset_since_2000_is_a_multiple_of_15_minutes() {
        let mut t = utc("2000-01-01T00:00:00Z");
        let end = utc("2036-01-01T00:00:00Z");
        let mut samples = Vec::new();
        while t < end {
            samples.push(t.naive_utc());
            // An uneven step visits every season at varied times of day.
            t += Duration::days(11) + Duration::minutes(7 * 60 + 15);
        }
        assert_eq!(TZ_VARIANTS.len(), 597);
        for tz in TZ_VARIANTS {
            for instant in &samples {
                let offset = tz.offset_from_utc_datetime(instant).fix().local_minus_utc();
                assert_eq!(
                    offset % (15 * 60),
                    0,
                    "{} at {instant}: {offset} s",
                    tz.name()
                );
            }
        }
    }
}
