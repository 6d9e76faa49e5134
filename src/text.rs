//! Text helpers the core and the edge share: times (RFC 3339, "3h ago"),
//! durations ("1d") and the email check. Pure; imported downward by `checks`,
//! `input`, `render`, `events` and `app`, and importing none of them.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// RFC 3339 in UTC, seconds precision.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// "3h ago", "12d ago".
pub fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let d = now - then;
    if d.is_negative() {
        return "in the future".to_string();
    }
    if d < Duration::hours(1) {
        format!("{}m ago", d.whole_minutes())
    } else if d < Duration::days(2) {
        format!("{}h ago", d.whole_hours())
    } else {
        format!("{}d ago", d.whole_days())
    }
}

/// "1d", "24h", "90m".
pub fn fmt_window(d: Duration) -> String {
    let s = d.whole_seconds();
    if s % 604_800 == 0 && s > 0 {
        format!("{}w", s / 604_800)
    } else if s % 86_400 == 0 && s > 0 {
        format!("{}d", s / 86_400)
    } else if s % 3_600 == 0 && s > 0 {
        format!("{}h", s / 3_600)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// A practical email check: one `@`, a non-empty local part, a dotted domain
/// of letters, digits and hyphens, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || email.len() > 254
        || domain.contains('@')
        || email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        || local.chars().any(|c| "<>()[]\\,;:\"".contains(c))
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "sec-team+aws@corp.example.com"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@b..co", "a b@c.co", "a@-b.co", "a@b.c0",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn times_and_windows() {
        let now = datetime!(2026-12-03 12:00:00.5 UTC);
        assert_eq!(fmt_time(now), "2026-12-03T12:00:00Z");
        assert_eq!(ago(now, now - Duration::minutes(5)), "5m ago");
        assert_eq!(ago(now, now - Duration::hours(30)), "30h ago");
        assert_eq!(ago(now, now - Duration::days(12)), "12d ago");
        assert_eq!(ago(now, now + Duration::hours(1)), "in the future");
        assert_eq!(fmt_window(Duration::days(1)), "1d");
        assert_eq!(fmt_window(Duration::days(14)), "2w");
        assert_eq!(fmt_window(Duration::minutes(90)), "90m");
        assert_eq!(fmt_window(Duration::seconds(0)), "0s");
    }
}
