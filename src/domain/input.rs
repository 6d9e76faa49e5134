//! Validation of user input: flag values checked before any AWS call.
//!
//! Each parser returns a lowercase message that says what would be accepted;
//! clap adds the flag's name. This module must not touch the network.

use time::Duration;

/// Parses a duration such as `30m`, `24h`, `1d`, `2w` or `1d12h`.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    const HELP: &str = "expected a duration like 30m, 24h, 1d, 2w or 1d12h";
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("empty duration: {HELP}"));
    }
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| format!("{s:?} is not a duration: {HELP}"))?;
        digits.clear();
        let unit = match c {
            's' => Duration::seconds(1),
            'm' => Duration::minutes(1),
            'h' => Duration::hours(1),
            'd' => Duration::days(1),
            'w' => Duration::weeks(1),
            _ => return Err(format!("{s:?} has an unknown unit {c:?}: {HELP}")),
        };
        total += unit
            .checked_mul(n.try_into().map_err(|_| format!("{s:?} is too long"))?)
            .ok_or("duration is too long")?;
    }
    if !digits.is_empty() {
        return Err(format!("{s:?} has no unit: {HELP}"));
    }
    if total <= Duration::ZERO {
        return Err(format!("{s:?} must be longer than zero"));
    }
    if total > Duration::days(3650) {
        return Err(format!("{s:?} is longer than ten years"));
    }
    Ok(total)
}

/// Accepts an http(s) URL with a host and an optional port and path.
pub fn parse_endpoint_url(s: &str) -> Result<String, String> {
    const HELP: &str = "expected an http:// or https:// URL such as http://127.0.0.1:5000";
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?} has no http:// or https:// scheme: {HELP}"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(format!("{s:?} has no valid host: {HELP}"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(format!("{s:?} has an invalid port {p:?}: {HELP}"));
        }
    }
    Ok(s.to_string())
}

/// Accepts AWS region names such as `us-east-1` or `us-gov-west-1`.
pub fn parse_region(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('-').collect();
    // The longest AWS region names are about 15 characters (ap-southeast-5,
    // us-isob-east-1); a name past 30 cannot build an endpoint.
    let ok = s.len() <= 30
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an AWS region name: expected a name like us-east-1 or eu-west-2",
            shown(s)
        ))
    }
}

/// Accepts a DNS domain such as `example.com`.
pub fn parse_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_start_matches('@').to_ascii_lowercase();
    if crate::domain::text::valid_email(&format!("x@{d}")) {
        Ok(d)
    } else {
        Err("not a domain: expected a domain like example.com (labels of 1-63 letters, digits or hyphens)".into())
    }
}

/// Accepts an email address (lowercase message names what is wrong).
pub fn parse_email(s: &str) -> Result<String, String> {
    // Not trimmed: a carriage return or a space around the address is refused,
    // not silently removed.
    if crate::domain::text::valid_email(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an email address: expected a form like security@example.com (no spaces, control characters or <>(),;:\"[] in the name, domain labels of at most 63 characters)",
            shown(s)
        ))
    }
}

/// Accepts a CloudWatch Logs log group name: 1-512 of `a-zA-Z0-9_-/.#`.
pub fn parse_log_group_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a log group name: expected 1-512 letters, digits or _-/.#"
        ))
    }
}

/// Accepts a CloudWatch alarm name: 1-255 characters, no control characters.
pub fn parse_alarm_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.chars().count() <= 255 && !s.chars().any(char::is_control) {
        Ok(s.to_string())
    } else {
        Err("not an alarm name: expected 1-255 characters without control characters".into())
    }
}

/// An IAM name (user or role, no path): 1-64 of letters, digits and `+=,.@_-`.
fn iam_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Accepts an IAM user name: 1-64 of letters, digits and `+=,.@_-`.
pub fn parse_user_name(s: &str) -> Result<String, String> {
    if iam_name(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an IAM user name: expected 1-64 letters, digits or +=,.@_-",
            shown(s)
        ))
    }
}

/// Accepts an IAM role name (no path): 1-64 of letters, digits and `+=,.@_-`.
pub fn parse_role_name(s: &str) -> Result<String, String> {
    if iam_name(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an IAM role name: expected 1-64 letters, digits or +=,.@_- (the name only, no path or ARN)",
            shown(s)
        ))
    }
}

/// Accepts a 12-digit AWS account id.
pub fn parse_account_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() == 12 && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(format!(
            "{} is not an AWS account id: expected 12 digits, several separated by commas",
            shown(s)
        ))
    }
}

/// Members read at once: 1 to 256.
pub fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!(
            "{} is not a concurrency: expected a whole number from 1 to 256",
            shown(s)
        )),
    }
}

/// `--max-concurrent-percent`: 1 to 100.
pub fn parse_concurrent_percent(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!(
            "{} is not a percentage of members: expected a whole number from 1 to 100",
            shown(s)
        )),
    }
}

/// `--failure-tolerance-percent`: 0 to 100.
pub fn parse_tolerance_percent(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(format!(
            "{} is not a failure tolerance: expected a whole number from 0 to 100",
            shown(s)
        )),
    }
}

/// `--throttle-deadline`: how long a throttled call is retried; 10 s to 1 day.
pub fn parse_deadline(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_window(s)?;
    if d < Duration::seconds(10) || d > Duration::days(1) {
        return Err(format!(
            "{} is not a throttle deadline: expected a duration from 10s to 1d (e.g. 3m)",
            shown(s)
        ));
    }
    Ok(std::time::Duration::from_secs(d.whole_seconds() as u64))
}

/// A value for an error message: quoted, control characters escaped, long
/// values cut so nothing is echoed at length.
/// Accepts an S3 bucket name that can exist: 3-255 letters, digits, `.`,
/// `-` or `_` (today's rules allow 3-63 lowercase letters, digits, `.` and
/// `-`; buckets made in us-east-1 before March 2018 may also have capitals
/// and `_`, up to 255 characters), starting and ending with a letter or digit.
pub fn parse_bucket_name(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if (3..=255).contains(&s.len())
        && s.chars().all(ok_char)
        && edge(s.chars().next())
        && edge(s.chars().last())
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an S3 bucket name: expected 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit",
            shown(s)
        ))
    }
}

/// Accepts a name for a bucket to create, by today's rules: 3-63 lowercase
/// letters, digits, dots and hyphens, starting and ending with a letter or
/// digit, no two dots in a row, not an IP address, none of S3's reserved
/// prefixes and suffixes.
pub fn parse_new_bucket_name(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ip = s.split('.').count() == 4 && s.split('.').all(|p| p.parse::<u8>().is_ok());
    let reserved = ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| s.starts_with(p))
        || ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|x| s.ends_with(x));
    if (3..=63).contains(&s.len())
        && s.chars().all(ok_char)
        && edge(s.chars().next())
        && edge(s.chars().last())
        && !s.contains("..")
        && !ip
        && !reserved
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not a name S3 accepts for a new bucket: 3-63 lowercase letters, digits, dots or hyphens, \
             starting and ending with a letter or digit, not an IP address",
            shown(s)
        ))
    }
}

/// An SQS queue name: 1-80 letters, digits, `-` or `_`, with `.fifo` counted.
fn queue_name(s: &str) -> bool {
    let base = s.strip_suffix(".fifo").unwrap_or(s);
    !base.is_empty()
        && s.len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// `--queue`: a queue URL (its account and, for AWS's own host names, its
/// Region are in it) or a queue name in the configured Region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueRef {
    Url {
        url: String,
        account: String,
        name: String,
        region: Option<String>,
    },
    Name(String),
}

impl QueueRef {
    pub fn shown(&self) -> &str {
        match self {
            QueueRef::Url { url, .. } => url,
            QueueRef::Name(n) => n,
        }
    }
}

/// Accepts `--queue`: a queue URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`,
/// any host for emulators and endpoints) or a queue name.
pub fn parse_queue(s: &str) -> Result<QueueRef, String> {
    let bad = || {
        format!(
            "{} is not an SQS queue URL or name: expected https://sqs.REGION.amazonaws.com/ACCOUNT/NAME \
             or a name of 1-80 letters, digits, hyphens or underscores (.fifo allowed)",
            shown(s)
        )
    };
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return if queue_name(s) {
            Ok(QueueRef::Name(s.to_string()))
        } else {
            Err(bad())
        };
    };
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or("");
    let account = parts.next().unwrap_or("");
    let name = parts.next().unwrap_or("");
    if host.is_empty()
        || parts.next().is_some()
        || parse_account_id(account).is_err()
        || account.len() != 12
        || !queue_name(name)
    {
        return Err(bad());
    }
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        ["sqs", region, "amazonaws", ..] => Some(region.to_string()),
        [region, "queue", "amazonaws", ..] => Some(region.to_string()),
        _ => None,
    };
    if region.as_deref().is_some_and(|r| parse_region(r).is_err()) {
        return Err(bad());
    }
    Ok(QueueRef::Url {
        url: s.to_string(),
        account: account.to_string(),
        name: name.to_string(),
        region,
    })
}

fn shown(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    let more = if s.chars().count() > 40 { "…" } else { "" };
    format!("{:?}{more}", cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_alarm_names() {
        for ok in ["security@example.com", "a.b+tag@sub.example.co.uk"] {
            assert!(parse_email(ok).is_ok(), "{ok}");
        }
        let long_label = format!("a@{}.com", "x".repeat(64));
        for bad in [
            "<script>@example.com",
            "a\u{1b}[31m@example.com",
            "a b@example.com",
            long_label.as_str(),
            "a@example",
            ".a@example.com",
            "a..b@example.com",
            "a@exa mple.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        assert!(parse_alarm_name("").is_err());
        assert!(parse_alarm_name("a\nb").is_err());
        assert!(parse_alarm_name(&"a".repeat(256)).is_err());
        assert!(parse_alarm_name("rootguard-root-activity").is_ok());
    }

    #[test]
    fn org_flags() {
        assert!(parse_account_id("123456789012").is_ok());
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(parse_account_id(bad).is_err(), "{bad}");
        }
        assert!(parse_role_name("OrganizationAccountAccessRole").is_ok());
        for bad in [
            "",
            "a/b",
            "role name",
            "arn:aws:iam::1:role/x",
            &"r".repeat(65),
        ] {
            assert!(parse_role_name(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_concurrency("16"), Ok(16));
        for bad in ["0", "-1", "257", "1e9", "x"] {
            assert!(parse_concurrency(bad).is_err(), "{bad}");
        }
        let long = "x".repeat(500);
        assert!(parse_role_name(&long).unwrap_err().len() < 200);
    }

    #[test]
    fn windows() {
        let cases = [
            ("1d", Some(Duration::days(1))),
            ("24h", Some(Duration::hours(24))),
            ("90m", Some(Duration::minutes(90))),
            ("2w", Some(Duration::weeks(2))),
            ("1d12h", Some(Duration::hours(36))),
            ("", None),
            ("1", None),
            ("d", None),
            ("1y", None),
            ("0d", None),
            ("-1d", None),
            ("99999999999999999999d", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_window(input).ok(), want, "{input:?}");
        }
    }

    #[test]
    fn endpoint_urls() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://iam.amazonaws.com",
            "http://localhost:4566/",
            "http://[::1]:80",
        ] {
            assert!(parse_endpoint_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:5000",
            "ftp://x",
            "http://",
            "http://host:port",
            "http://a b",
            "http://h:0",
        ] {
            assert!(parse_endpoint_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "eu-central-2",
        ] {
            assert!(parse_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "useast1",
            "US-EAST-1",
            "us-east",
            "us-east-x",
            "u-east-1",
        ] {
            assert!(parse_region(bad).is_err(), "{bad}");
        }
    }
}
