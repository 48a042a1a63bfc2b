//! Budget periods as pure functions of an instant and a zone: the local day, the local week
//! starting on Monday, or the local calendar month that holds `now`. Bounds are the first
//! instants of local dates (`usage::window::start_of_local_day`), so they are exact across
//! daylight-saving changes and in zones such as Asia/Kathmandu (+05:45); a period is the
//! half-open range `[start, end)`.

use chrono::{Datelike, Days, Months, NaiveDate};
use chrono_tz::Tz;

use crate::usage::window::{instant_of_ms, local_date, ms_of_instant, start_of_local_day};

/// The calendar unit a budget resets on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Monday to Sunday.
    Week,
    /// The calendar month.
    Month,
}

/// The instants a period runs over: `start <= t < end` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub start: i64,
    pub end: i64,
}

impl Period {
    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The period of this kind that holds `now` in `tz`.
    pub fn bounds(self, tz: Tz, now: i64) -> Bounds {
        let today = local_date(instant_of_ms(now), tz);
        let (first, next) = self.dates(today);
        Bounds {
            start: ms_of_instant(start_of_local_day(tz, first)),
            end: ms_of_instant(start_of_local_day(tz, next)),
        }
    }

    /// The first local date of the period holding `day`, and the first date after it. At the
    /// ends of the calendar the period is cut short rather than overflowing.
    fn dates(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = match self {
            Period::Day => day,
            Period::Week => day
                .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                .unwrap_or(day),
            Period::Month => day.with_day(1).unwrap_or(day),
        };
        let next = match self {
            Period::Day => first.checked_add_days(Days::new(1)),
            Period::Week => first.checked_add_days(Days::new(7)),
            Period::Month => first.checked_add_months(Months::new(1)),
        };
        (first, next.unwrap_or(NaiveDate::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn check(period: Period, zone: &str, now: &str, start: &str, end: &str) {
        let tz: Tz = zone.parse().unwrap();
        assert_eq!(
            period.bounds(tz, ms(now)),
            Bounds {
                start: ms(start),
                end: ms(end)
            },
            "{period:?} in {zone} at {now}"
        );
    }

    #[test]
    fn days_start_at_local_midnight() {
        use Period::Day;
        check(
            Day,
            "UTC",
            "2026-03-10T12:00:00Z",
            "2026-03-10T00:00:00Z",
            "2026-03-11T00:00:00Z",
        );
        // Kathmandu is +05:45: its day starts at 18:15 UTC the evening before.
        check(
            Day,
            "Asia/Kathmandu",
            "2026-03-10T18:14:59.999Z",
            "2026-03-09T18:15:00Z",
            "2026-03-10T18:15:00Z",
        );
        check(
            Day,
            "Asia/Kathmandu",
            "2026-03-10T18:15:00Z",
            "2026-03-10T18:15:00Z",
            "2026-03-11T18:15:00Z",
        );
        // New York's spring-forward day lasts 23 hours, its fall-back day 25.
        check(
            Day,
            "America/New_York",
            "2026-03-08T12:00:00Z",
            "2026-03-08T05:00:00Z",
            "2026-03-09T04:00:00Z",
        );
        check(
            Day,
            "America/New_York",
            "2026-11-01T12:00:00Z",
            "2026-11-01T04:00:00Z",
            "2026-11-02T05:00:00Z",
        );
        // Santiago skips midnight when its clocks go forward: that day starts at 01:00 local.
        check(
            Day,
            "America/Santiago",
            "2026-09-06T12:00:00Z",
            "2026-09-06T04:00:00Z",
            "2026-09-07T03:00:00Z",
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        use Period::Week;
        // 2026-03-15 is a Sunday; its week began on Monday the 9th.
        check(
            Week,
            "UTC",
            "2026-03-15T23:59:59Z",
            "2026-03-09T00:00:00Z",
            "2026-03-16T00:00:00Z",
        );
        check(
            Week,
            "UTC",
            "2026-03-16T00:00:00Z",
            "2026-03-16T00:00:00Z",
            "2026-03-23T00:00:00Z",
        );
        // Sunday 20:00 UTC is already Monday in Kathmandu.
        check(
            Week,
            "Asia/Kathmandu",
            "2026-03-15T20:00:00Z",
            "2026-03-15T18:15:00Z",
            "2026-03-22T18:15:00Z",
        );
    }

    #[test]
    fn months_are_calendar_months() {
        use Period::Month;
        check(
            Month,
            "UTC",
            "2026-02-28T23:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-03-01T00:00:00Z",
        );
        check(
            Month,
            "UTC",
            "2028-02-29T12:00:00Z",
            "2028-02-01T00:00:00Z",
            "2028-03-01T00:00:00Z",
        );
        check(
            Month,
            "UTC",
            "2026-12-31T23:59:59Z",
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        );
        // March in New York starts in winter time and ends in summer time.
        check(
            Month,
            "America/New_York",
            "2026-03-20T12:00:00Z",
            "2026-03-01T05:00:00Z",
            "2026-04-01T04:00:00Z",
        );
        check(
            Month,
            "Asia/Kathmandu",
            "2026-03-31T18:15:00Z",
            "2026-03-31T18:15:00Z",
            "2026-04-30T18:15:00Z",
        );
    }

    #[test]
    fn names_round_trip() {
        for p in [Period::Day, Period::Week, Period::Month] {
            assert_eq!(Period::parse(p.as_str()), Some(p));
        }
        assert_eq!(Period::parse("year"), None);
        assert_eq!(Period::parse("Day"), None);
    }
}
