//! The only place that reads the real time. Everything else takes a `Clock` (tests pin it)
//! or an explicit `now`. Instants are Unix milliseconds (UTC) inside hangar.

use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
pub struct PinnedClock(Mutex<DateTime<Utc>>);

impl PinnedClock {
    pub fn new(at: DateTime<Utc>) -> PinnedClock {
        PinnedClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Milliseconds → `DateTime<Utc>` (out-of-range values clamp to the epoch).
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Milliseconds → RFC 3339 UTC with millisecond precision and a `Z`.
pub fn rfc3339(ms: i64) -> String {
    from_ms(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_milliseconds_with_z() {
        assert_eq!(rfc3339(1_795_951_828_123), "2026-11-29T11:30:28.123Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn pinned_clock_moves_only_when_told() {
        let c = PinnedClock::new(from_ms(1_000));
        assert_eq!(c.now_ms(), 1_000);
        c.advance(chrono::Duration::seconds(2));
        assert_eq!(c.now_ms(), 3_000);
        c.set(from_ms(5));
        assert_eq!(c.now_ms(), 5);
    }
}
