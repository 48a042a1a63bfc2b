//! The local dates a report covers and how its days are bucketed: `?since=&until=` ranges,
//! `?bucket=day|week|month`, the period a `days` window stands for, and the
//! `first..last` window every usage response states. The daily reports fold rollup buckets
//! straight into week or month groups (`DayBuckets::bucket_of`), so a bucket sums its days exactly
//! in ticks; weeks start on Monday and months on the 1st, as local dates in the viewing zone.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;

use super::plan::OPEN;
use crate::error::ApiError;
use crate::usage::window::{
    instant_of_ms, local_date, ms_of_instant, runtime_since, start_of_local_day, workspace_since,
};

/// The longest `since..until` range, in local days.
pub const MAX_RANGE_DAYS: i64 = 400;

/// How the daily reports group their local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bucket {
    #[default]
    Day,
    /// Monday to Sunday.
    Week,
    /// The 1st to the last day of a calendar month.
    Month,
}

impl Bucket {
    /// `?bucket=`: absent or empty means `day`; anything but day, week or month is refused.
    pub fn parse(raw: Option<&str>) -> Result<Bucket, ApiError> {
        match raw.map(str::trim).unwrap_or("") {
            "" | "day" => Ok(Bucket::Day),
            "week" => Ok(Bucket::Week),
            "month" => Ok(Bucket::Month),
            _ => Err(ApiError::invalid_field(
                "bucket",
                "must be day, week or month",
            )),
        }
    }

    /// The first local date of the bucket holding `date`.
    pub fn first_day(self, date: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => date,
            Bucket::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Bucket::Month => date.with_day(1).unwrap_or(date),
        }
    }
}

/// Which local dates a daily report shows and how it groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayBuckets {
    pub bucket: Bucket,
    /// The last date shown (a range's `until`); later ones are left out.
    pub until: Option<NaiveDate>,
}

impl DayBuckets {
    /// The first date of the bucket holding `date`, or `None` when `date` is past `until`.
    pub fn bucket_of(&self, date: NaiveDate) -> Option<NaiveDate> {
        match self.until {
            Some(last) if date > last => None,
            _ => Some(self.bucket.first_day(date)),
        }
    }
}

/// Local dates `first..=last`; no `first` when the window reaches back to the first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: Option<NaiveDate>,
    pub last: NaiveDate,
}

impl fmt::Display for Window {
    /// `2026-10-01..2026-11-29`, or `..2026-11-29` without a first date.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.first {
            Some(first) => write!(f, "{first}..{}", self.last),
            None => write!(f, "..{}", self.last),
        }
    }
}

/// What a report covers: instants from `since` up to `end` (exclusive), the local dates that
/// is, and the `days` it is stated as (`None`: all history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: i64,
    /// `OPEN` for a `days` window, which counts everything from `since` on, like the reports.
    pub end: i64,
    pub window: Window,
    pub days: Option<i64>,
    /// The last local date of a `since..until` range, which the daily reports cut at.
    pub until: Option<NaiveDate>,
}

impl Period {
    /// A runtime report's `days` window: `days + 1` local dates ending today.
    pub fn runtime_days(now: i64, tz: Tz, days: u32) -> Period {
        let since = ms_of_instant(runtime_since(instant_of_ms(now), tz, days));
        Period::open(now, tz, since, u64::from(days), Some(i64::from(days)))
    }

    /// A workspace report's `days` window: `days` local dates ending today.
    pub fn workspace_days(now: i64, tz: Tz, days: u32) -> Period {
        let since = ms_of_instant(workspace_since(instant_of_ms(now), tz, days));
        let back = u64::from(days.saturating_sub(1));
        Period::open(now, tz, since, back, Some(i64::from(days)))
    }

    /// Everything ever recorded, up to today (the activity report without `days`).
    pub fn all_history(now: i64, tz: Tz) -> Period {
        Period {
            since: i64::MIN,
            end: OPEN,
            window: Window {
                first: None,
                last: local_date(instant_of_ms(now), tz),
            },
            days: None,
            until: None,
        }
    }

    /// The local dates `first..=last`, as instants from the start of `first` to the start of
    /// the day after `last`.
    pub fn range(tz: Tz, first: NaiveDate, last: NaiveDate) -> Period {
        let start = |d: NaiveDate| ms_of_instant(start_of_local_day(tz, d));
        Period {
            since: start(first),
            end: last.succ_opt().map_or(OPEN, start),
            window: Window {
                first: Some(first),
                last,
            },
            days: Some((last - first).num_days() + 1),
            until: Some(last),
        }
    }

    fn open(now: i64, tz: Tz, since: i64, back: u64, days: Option<i64>) -> Period {
        let today = local_date(instant_of_ms(now), tz);
        Period {
            since,
            end: OPEN,
            window: Window {
                first: today.checked_sub_days(Days::new(back)),
                last: today,
            },
            days,
            until: None,
        }
    }

    /// `X-Hangar-Days`: the days asked for, the length of a range, or `all`.
    pub fn days_label(&self) -> String {
        self.days
            .map_or_else(|| "all".to_string(), |d| d.to_string())
    }
}

/// A local date written `YYYY-MM-DD` exactly; anything else is `invalid_field` naming `field`.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, ApiError> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| ApiError::invalid_field(field, "must be a date written YYYY-MM-DD"))
}

/// `?since=&until=`: both or neither (empty counts as absent), `until` not before `since`, at
/// most `MAX_RANGE_DAYS` dates.
pub fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Option<(NaiveDate, NaiveDate)>, ApiError> {
    let (since, until) = (given(since), given(until));
    match (since, until) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::invalid_field("until", "is required with since")),
        (None, Some(_)) => Err(ApiError::invalid_field("since", "is required with until")),
        (Some(s), Some(u)) => {
            let (first, last) = (parse_date("since", s)?, parse_date("until", u)?);
            if last < first {
                return Err(ApiError::invalid_field("until", "must not be before since"));
            }
            if (last - first).num_days() + 1 > MAX_RANGE_DAYS {
                return Err(ApiError::invalid_field(
                    "until",
                    &format!("the range may cover at most {MAX_RANGE_DAYS} days"),
                ));
            }
            Ok(Some((first, last)))
        }
    }
}

/// A query value, with an empty one counted as absent.
fn given(raw: Option<&str>) -> Option<&str> {
    raw.filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date in a test")
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-02 is a Monday.
        let cases = [
            ("2026-11-02", "2026-11-02", "2026-11-01"),
            ("2026-11-08", "2026-11-02", "2026-11-01"),
            ("2026-11-01", "2026-10-26", "2026-11-01"),
            ("2026-12-31", "2026-12-28", "2026-12-01"),
            ("2027-01-03", "2026-12-28", "2027-01-01"),
            ("2024-02-29", "2024-02-26", "2024-02-01"),
        ];
        for (day, monday, first) in cases {
            assert_eq!(Bucket::Day.first_day(date(day)), date(day));
            assert_eq!(Bucket::Week.first_day(date(day)), date(monday), "{day}");
            assert_eq!(Bucket::Month.first_day(date(day)), date(first), "{day}");
        }
    }

    #[test]
    fn buckets_and_ranges_parse_strictly() {
        assert_eq!(Bucket::parse(None).ok(), Some(Bucket::Day));
        assert_eq!(Bucket::parse(Some("")).ok(), Some(Bucket::Day));
        assert_eq!(Bucket::parse(Some("week")).ok(), Some(Bucket::Week));
        assert_eq!(Bucket::parse(Some("month")).ok(), Some(Bucket::Month));
        for bad in ["Week", "year", "days", "1"] {
            assert!(Bucket::parse(Some(bad)).is_err(), "{bad}");
        }
        for bad in [
            "2026-1-05",
            "2026-02-30",
            "26-01-05",
            "2026/01/05",
            "20260105",
            "x",
        ] {
            assert!(parse_date("since", bad).is_err(), "{bad}");
        }
        let ok = parse_range(Some("2026-01-01"), Some("2027-02-04"));
        assert_eq!(
            ok.ok().flatten(),
            Some((date("2026-01-01"), date("2027-02-04")))
        );
        for (since, until) in [
            (Some("2026-01-01"), Some("2027-02-05")),
            (Some("2026-01-02"), Some("2026-01-01")),
            (Some("2026-01-02"), None),
            (None, Some("2026-01-02")),
        ] {
            assert!(parse_range(since, until).is_err(), "{since:?} {until:?}");
        }
        assert_eq!(parse_range(Some(""), None).ok(), Some(None));
    }

    #[test]
    fn windows_state_their_local_dates() {
        let now = ms_of_instant(
            chrono::DateTime::parse_from_rfc3339("2026-11-29T03:00:00Z")
                .expect("instant in a test")
                .to_utc(),
        );
        let ny = Tz::America__New_York;
        // 03:00 UTC is still the 28th in New York.
        assert_eq!(
            Period::workspace_days(now, ny, 30).window.to_string(),
            "2026-10-30..2026-11-28"
        );
        assert_eq!(
            Period::runtime_days(now, Tz::UTC, 90).window.to_string(),
            "2026-08-31..2026-11-29"
        );
        assert_eq!(
            Period::all_history(now, Tz::UTC).window.to_string(),
            "..2026-11-29"
        );
        let range = Period::range(ny, date("2026-11-01"), date("2026-11-30"));
        assert_eq!(range.days_label(), "30");
        // November in New York: from 04:00 UTC on the 1st (EDT) to 05:00 UTC on 1 December.
        assert_eq!(range.end - range.since, (30 * 24 + 1) * 3_600_000);
    }

    #[test]
    fn days_cut_at_until_and_date_buckets_by_their_first_day() {
        let days = DayBuckets {
            bucket: Bucket::Week,
            until: Some(date("2026-11-08")),
        };
        assert_eq!(days.bucket_of(date("2026-11-08")), Some(date("2026-11-02")));
        assert_eq!(days.bucket_of(date("2026-11-09")), None);
        assert_eq!(days.bucket_of(date("2026-10-01")), Some(date("2026-09-28")));
        let all = DayBuckets::default();
        assert_eq!(all.bucket_of(date("2099-01-01")), Some(date("2099-01-01")));
    }
}
