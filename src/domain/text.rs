//! Text helpers the core and the edge share: times (RFC 3339, "3h ago"),
//! durations ("1d"), the email check, and wrapping prose to a terminal's
//! width with a hanging indent. Pure; imported downward by `checks`,
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

/// How far a wrapped line's continuation is indented: its leading spaces,
/// plus a leading marker (`- `, `+ `, `! `, or a short `label: ` such as
/// `fix: `); for a table row (its first word followed by two or more
/// spaces: `create  …`, `FAIL     high  root-mfa  Title`), the start of its
/// last column within half the width. Continuation lines hang under the
/// text, not the marker. Widths are display columns (colour escapes count 0).
fn hang(line: &str, width: usize) -> usize {
    let lead = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[lead..];
    if rest.starts_with("- ") || rest.starts_with("+ ") || rest.starts_with("! ") {
        return lead + 2;
    }
    let first = rest.find(' ').unwrap_or(rest.len());
    if rest[first..].starts_with("  ") {
        let mut at = None;
        let mut i = first;
        while let Some(gap) = rest[i..].find("  ") {
            let start = i + gap;
            let next = start + (rest[start..].len() - rest[start..].trim_start_matches(' ').len());
            let col = textwrap::core::display_width(&line[..lead + next]);
            if col > width / 2 || next >= rest.len() {
                break;
            }
            at = Some(col);
            i = next;
        }
        if let Some(col) = at {
            return col;
        }
    }
    if let Some(at) = rest.find(": ") {
        let label = &rest[..at];
        if (1..=10).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_lowercase() || c == ' ')
        {
            return lead + at + 2;
        }
    }
    if lead == 0 {
        2
    } else {
        lead
    }
}

/// Wraps every line wider than `width` columns at spaces (never inside a
/// hyphenated word: commands and flags stay whole; a word longer than the
/// line is broken), each continuation under the line's own text (see
/// [`hang`]). Narrow lines, and colour escapes (not counted as width), are
/// left as they are.
pub fn wrap_hanging(text: &str, width: usize) -> String {
    let width = width.max(40);
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if textwrap::core::display_width(line) <= width {
            out.push_str(line);
            continue;
        }
        let n = hang(line, width).min(width / 2);
        let indent = " ".repeat(n);
        let opts = textwrap::Options::new(width)
            .subsequent_indent(&indent)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(true);
        out.push_str(&textwrap::fill(line, opts));
    }
    out
}

/// Control characters (escape sequences, carriage returns, newlines, tabs, …)
/// in a string that came from AWS, made visible as `\u{1b}` and the like, so
/// nothing a contact name or user agent carries can steer the reader's
/// terminal or forge a line of the report.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A file size for people: `812 bytes`, `14.2 KiB`, `3.1 MiB`.
pub fn fmt_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / (KIB * KIB))
    }
}

/// A prompt wrapped to `width` at spaces with its own line breaks, its last
/// line leaving at least `answer` columns free for what is typed after it
/// (so the terminal never wraps the line being edited). Continuations start at
/// the left edge, as a question's words would.
pub fn wrap_prompt(prompt: &str, width: usize, answer: usize) -> String {
    let width = width.max(20);
    let opts = |w: usize| {
        textwrap::Options::new(w.max(10))
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(true)
    };
    // Room for dialoguer's ": " or a key prompt's trailing space.
    let mut lines: Vec<String> = textwrap::wrap(prompt, opts(width - 1))
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .collect();
    let room = (answer + 2).min(width / 2);
    if let Some(last) = lines.pop() {
        if textwrap::core::display_width(&last) + room > width {
            lines.extend(
                textwrap::wrap(&last, opts(width - room))
                    .into_iter()
                    .map(std::borrow::Cow::into_owned),
            );
        } else {
            lines.push(last);
        }
    }
    lines.join("\n")
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

    #[test]
    fn a_plan_line_wraps_under_its_text_not_its_verb() {
        let line = format!(
            "  create  eventbridge rule x in {}: to the bus",
            ["us-east-1"; 12].join(", ")
        );
        let wrapped = wrap_hanging(&line, 80);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1, "{wrapped}");
        for l in &lines[1..] {
            assert!(
                l.starts_with("          ") && !l.starts_with("           "),
                "{wrapped}"
            );
        }
    }

    #[test]
    fn a_verify_row_wraps_under_its_title_and_commands_stay_whole() {
        let row = "FAIL     medium    root-hardware-mfa    Root user MFA is hardware or passkey, not virtual";
        let wrapped = wrap_hanging(row, 80);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert_eq!(lines.len(), 2, "{wrapped}");
        assert_eq!(lines[1], format!("{}not virtual", " ".repeat(40)));
        // The same with the status coloured: escapes take no columns.
        let red = row.replacen("FAIL", "\x1b[31mFAIL\x1b[0m", 1);
        let wrapped = wrap_hanging(&red, 80);
        assert_eq!(wrapped.lines().nth(1), Some(lines[1]), "{wrapped}");
        let fix = format!(
            "{}fix: run `aws account put-alternate-contact --alternate-contact-type SECURITY --email-address ADDR`",
            " ".repeat(21)
        );
        let wrapped = wrap_hanging(&fix, 80);
        for flag in [
            "put-alternate-contact",
            "--alternate-contact-type",
            "--email-address",
        ] {
            assert!(wrapped.contains(flag), "{flag} split: {wrapped}");
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(fmt_size(812), "812 bytes");
        assert_eq!(fmt_size(14_540), "14.2 KiB");
        assert_eq!(fmt_size(3_250_586), "3.1 MiB");
    }

    #[test]
    fn a_prompt_is_wrapped_with_room_for_its_answer() {
        let q = "Set the SECURITY contact to Security Team (CISO), security@corp.example, +1 555 0100? [Y/n]";
        let w = wrap_prompt(q, 80, 8);
        let lines: Vec<&str> = w.lines().collect();
        assert!(lines.len() >= 2, "{w}");
        assert!(lines.iter().all(|l| l.chars().count() < 80), "{w}");
        assert!(lines.last().unwrap().chars().count() + 10 <= 80, "{w}");
        assert_eq!(w.replace('\n', " "), q, "only spaces become line breaks");
        assert!(w.contains("security@corp.example"), "never mid-word: {w}");
        // A short prompt is left alone.
        assert_eq!(
            wrap_prompt("Apply this plan? [Y/n]", 80, 8),
            "Apply this plan? [Y/n]"
        );
        // A last line that would leave no room for the answer moves words down.
        let near = format!("{} end? [Y/n]", "x".repeat(66));
        let w = wrap_prompt(&near, 80, 8);
        assert!(w.lines().last().unwrap().chars().count() + 10 <= 80, "{w}");
    }

    #[test]
    fn long_lines_wrap_under_their_own_text() {
        let fix = format!("{:21}fix: {}", "", "word ".repeat(40).trim_end());
        let wrapped = wrap_hanging(&fix, 80);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1, "{wrapped}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{wrapped}");
        for l in &lines[1..] {
            assert!(
                l.starts_with(&" ".repeat(26)) && !l.starts_with(&" ".repeat(27)),
                "{l:?}"
            );
        }
        assert!(!wrapped.contains("wo\nrd"), "never mid-word");
        // Short lines and blank lines are untouched.
        assert_eq!(wrap_hanging("a\n\n  b", 80), "a\n\n  b");
        // Colour escapes do not count as width.
        let red = format!("\x1b[31m{}\x1b[0m", "x".repeat(70));
        assert_eq!(wrap_hanging(&red, 80), red);
        // A bullet hangs under its text.
        let bullet = format!("  - {}", "evidence ".repeat(20));
        assert!(wrap_hanging(&bullet, 60)
            .lines()
            .skip(1)
            .all(|l| l.starts_with("    ") && !l.starts_with("     ")));
    }
}
