//! Time on the wire is RFC 3339 in UTC (`2024-05-01T12:34:56.789Z`). Local time is used
//! only where a feature needs the wall clock (time of day), never for storage.

use anyhow::{anyhow, Result};
use chrono::{DateTime, SecondsFormat, Utc};
pub use chrono_tz::Tz;

pub type Timestamp = DateTime<Utc>;

/// Parses an RFC 3339 timestamp with any offset (or `Z`) and converts it to UTC.
/// Fractional seconds are optional: Takeout writes both `…:56.789Z` and `…:56Z`.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| anyhow!("{text:?} is not an RFC 3339 time with a zone, like 2026-11-20T17:05:00+01:00 ({e})"))
}

/// Formats as RFC 3339 UTC with a `Z`, keeping only as many fractional digits as needed.
pub fn format_rfc3339(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An IANA time zone name (`Europe/Berlin`), or the system's zone for `None`.
pub fn resolve_timezone(name: Option<&str>) -> Result<Tz> {
    match name {
        Some(n) => parse_timezone(n),
        None => system_timezone(),
    }
}

/// An IANA time zone name (`Europe/Berlin`).
pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| anyhow!("unknown time zone {name:?} (use an IANA name such as Europe/Berlin)"))
}

/// The zone given (a `--timezone` already parsed), else the system's.
pub fn timezone_or_system(tz: Option<Tz>) -> Result<Tz> {
    tz.map_or_else(system_timezone, Ok)
}

fn system_timezone() -> Result<Tz> {
    let name = iana_time_zone::get_timezone()
        .map_err(|e| anyhow!("cannot tell the system time zone ({e}); pass --timezone"))?;
    parse_timezone(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_millis_and_offsets() {
        let a = parse_rfc3339("2020-09-08T02:41:27.398Z").unwrap();
        assert_eq!(format_rfc3339(&a), "2020-09-08T02:41:27.398Z");
        let b = parse_rfc3339("2020-09-08T02:41:27Z").unwrap();
        assert_eq!(format_rfc3339(&b), "2020-09-08T02:41:27Z");
        let c = parse_rfc3339("2020-09-08T10:41:27+08:00").unwrap();
        assert_eq!(c, b);
    }

    #[test]
    fn rejects_naive_times() {
        // A naive time is ambiguous (Vrdndi's train/serve skew came from reading naive
        // local times as UTC), so it is an error rather than a guess.
        assert!(parse_rfc3339("2020-09-08T02:41:27").is_err());
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
