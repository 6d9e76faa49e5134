//! The `cloudtrail` and `root-alarm` checks: does a trail record root's
//! activity, and does that activity reach a person?
//!
//! Pure functions over [`AlarmChainFacts`]. A metric filter is judged by what
//! it matches on the corpus (`crate::domain::rootactivity`), never by its text.

use super::{unknown, verdict, CheckConfig, Verdict};
use crate::domain::facts::{
    AccountFacts, Alarm, AlarmChainFacts, EventSelectors, FilterMetric, Trail,
};
use crate::domain::finding::Status;
use crate::domain::rootactivity::judge;

/// Why a trail does not qualify, or why that cannot be decided.
#[derive(Debug, Default)]
pub struct TrailJudgement {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    pub undecided: Vec<String>,
}

impl TrailJudgement {
    pub fn qualifies(&self) -> bool {
        self.problems.is_empty() && self.undecided.is_empty()
    }
}

/// Applies the cloudtrail check's rules (docs/checks.md): multi-region, logging, read and write
/// management events, delivering to CloudWatch Logs.
pub fn judge_trail(t: &Trail) -> TrailJudgement {
    let mut j = TrailJudgement::default();
    if !t.multi_region {
        j.problems.push("is single-region".into());
    }
    match &t.status {
        Ok(s) if !s.is_logging => j.problems.push("is not logging (IsLogging=false)".into()),
        Ok(s) => {
            if let Some(err) = s
                .latest_cloudwatch_logs_delivery_error
                .as_deref()
                .filter(|e| !e.is_empty())
            {
                j.problems
                    .push(format!("fails to deliver to CloudWatch Logs: {err}"));
            }
        }
        Err(e) => j.undecided.push(e.describe()),
    }
    match &t.selectors {
        Ok(sel) => {
            let (read, write, excluded) = management_coverage(sel);
            match (read, write) {
                (true, true) => {}
                (false, true) => j
                    .problems
                    .push("records only write management events".into()),
                (true, false) => j
                    .problems
                    .push("records only read management events".into()),
                (false, false) => j.problems.push("records no management events".into()),
            }
            if !excluded.is_empty() {
                j.notes.push(format!(
                    "excludes management events from {}",
                    excluded.join(", ")
                ));
            }
        }
        Err(e) => j.undecided.push(e.describe()),
    }
    if t.log_group_arn.is_none() {
        j.problems
            .push("does not deliver to CloudWatch Logs".into());
    }
    j
}

/// (records read, records write, excluded event sources)
fn management_coverage(sel: &EventSelectors) -> (bool, bool, Vec<String>) {
    let (mut read, mut write, mut excluded) = (false, false, Vec::new());
    match sel {
        EventSelectors::Basic(list) => {
            for s in list.iter().filter(|s| s.include_management_events) {
                read |= matches!(s.read_write_type.as_str(), "All" | "ReadOnly");
                write |= matches!(s.read_write_type.as_str(), "All" | "WriteOnly");
                excluded.extend(s.exclude_management_event_sources.iter().cloned());
            }
        }
        EventSelectors::Advanced(list) => {
            for s in list {
                let field = |name: &str| s.fields.iter().find(|f| f.field == name);
                let management = field("eventCategory")
                    .is_some_and(|f| f.equals.iter().any(|v| v == "Management"));
                if !management {
                    continue;
                }
                match field("readOnly").map(|f| f.equals.clone()) {
                    Some(v) if v == ["true"] => read = true,
                    Some(v) if v == ["false"] => write = true,
                    _ => {
                        read = true;
                        write = true;
                    }
                }
                if let Some(f) = field("eventSource") {
                    excluded.extend(f.not_equals.iter().cloned());
                }
            }
        }
    }
    (read, write, excluded)
}

fn trail_line(t: &Trail) -> String {
    let mut kind = Vec::new();
    if t.organization_trail {
        kind.push("organization trail");
    }
    kind.push(if t.multi_region {
        "multi-region"
    } else {
        "single-region"
    });
    format!(
        "trail {} ({}, home {})",
        t.name,
        kind.join(", "),
        t.home_region
    )
}

/// The chain and its trails, or the `unknown` verdict naming what failed.
fn read_chain(facts: &AccountFacts) -> Result<(&AlarmChainFacts, &Vec<Trail>), Verdict> {
    let chain = facts
        .alarm_chain
        .as_ref()
        .map_err(|e| unknown(vec![e.describe()], vec![]))?;
    let trails = chain
        .trails
        .as_ref()
        .map_err(|e| unknown(vec![e.describe()], vec![]))?;
    Ok((chain, trails))
}

pub fn cloudtrail(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let (_, trails) = match read_chain(facts) {
        Ok(read) => read,
        Err(v) => return v,
    };
    if trails.is_empty() {
        return verdict(
            Status::Fail,
            vec![
                "no CloudTrail trail exists (DescribeTrails returned none)".into(),
                "next step: `rootguard deploy --create-trail --email ADDR` creates a qualifying trail with the alarm chain"
                    .into(),
            ],
        );
    }
    let mut evidence = Vec::new();
    let mut undecided = Vec::new();
    let mut any = false;
    for t in trails {
        let j = judge_trail(t);
        let mut line = trail_line(t);
        if j.qualifies() {
            any = true;
            line.push_str(&format!(
                " qualifies: logging, read and write management events, delivers to {}",
                t.log_group_arn.as_deref().unwrap_or("?")
            ));
        } else if !j.problems.is_empty() {
            line.push_str(&format!(": {}", j.problems.join("; ")));
        }
        for n in &j.notes {
            line.push_str(&format!(" (note: {n})"));
        }
        evidence.push(line);
        undecided.extend(j.undecided);
    }
    if any {
        verdict(Status::Pass, evidence)
    } else if !undecided.is_empty() {
        unknown(undecided, evidence)
    } else {
        evidence.insert(0, "no trail qualifies".into());
        verdict(Status::Fail, evidence)
    }
}

/// Whether an alarm fires on a single root event, and why not.
pub fn alarm_problems(a: &Alarm, metric: &FilterMetric) -> Vec<String> {
    let mut p = Vec::new();
    match a.statistic.as_deref() {
        Some("Sum" | "SampleCount") => {}
        Some(other) => p.push(format!("statistic is {other}, needs Sum or SampleCount")),
        None => p.push("uses no simple statistic (extended statistic or metric math), needs Sum or SampleCount".into()),
    }
    let fires = match (a.comparison.as_deref(), a.threshold) {
        (Some("GreaterThanOrEqualToThreshold"), Some(t)) => t > 0.0 && t <= 1.0,
        (Some("GreaterThanThreshold"), Some(t)) => (0.0..1.0).contains(&t),
        _ => false,
    };
    if !fires {
        p.push(format!(
            "threshold {} {} does not fire on a single root event (needs >= 1 or > 0)",
            a.comparison.as_deref().unwrap_or("?"),
            a.threshold
                .map(|t| t.to_string())
                .unwrap_or_else(|| "?".into())
        ));
    }
    match a.period {
        Some(s) if s <= 300 => {}
        Some(s) => p.push(format!("period is {s} s, needs 300 s or less")),
        None => p.push("has no period".into()),
    }
    let needed = a.datapoints_to_alarm.or(a.evaluation_periods).unwrap_or(1);
    if needed > 1 {
        p.push(format!(
            "needs {needed} breaching periods, so a single root event never fires it"
        ));
    }
    if !a.actions_enabled {
        p.push("ActionsEnabled is false".into());
    }
    let stray: Vec<&String> = a
        .dimensions
        .iter()
        .filter(|d| !metric.dimensions.contains(d))
        .collect();
    if !stray.is_empty() {
        p.push(format!(
            "watches dimensions the filter does not emit: {}",
            stray
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    p
}

const LINKS: [&str; 6] = [
    "a qualifying trail feeds a log group",
    "a metric filter catches every CIS root event",
    "an alarm watches the filter's metric (name and namespace)",
    "the alarm fires on one event (Sum or SampleCount, >= 1, period <= 300 s, one period, actions enabled)",
    "the alarm notifies an existing SNS topic",
    "the topic has a confirmed subscription",
];

/// The furthest a path got before it broke, for the evidence.
struct Best {
    link: usize,
    lines: Vec<String>,
}

impl Best {
    fn offer(&mut self, link: usize, lines: Vec<String>) {
        if link > self.link || self.lines.is_empty() {
            self.link = link;
            self.lines = lines;
        }
    }
}

pub fn root_alarm(facts: &AccountFacts, _: &CheckConfig) -> Verdict {
    let (chain, trails) = match read_chain(facts) {
        Ok(read) => read,
        Err(v) => return v,
    };
    let mut undecided = Vec::new();
    let mut qualifying = Vec::new();
    for t in trails {
        let j = judge_trail(t);
        undecided.extend(j.undecided.iter().cloned());
        if j.qualifies() {
            qualifying.push(t);
        }
    }
    let mut best = Best {
        link: 0,
        lines: vec![],
    };
    if qualifying.is_empty() {
        if !undecided.is_empty() {
            return unknown(undecided, vec![]);
        }
        return broken(
            1,
            vec![
                "no qualifying trail delivers to a log group; see the cloudtrail check".into(),
                "next step: `rootguard deploy --create-trail --email ADDR` builds the bucket, log group, role and a \
                 multi-region trail, then this chain on it"
                    .into(),
            ],
        );
    }
    let mut elsewhere = Vec::new();
    for t in &qualifying {
        let arn = t.log_group_arn.as_deref().unwrap_or_default();
        if let Some(owner) = arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty() && *a != facts.account_id)
        {
            elsewhere.push(format!(
                "trail {} delivers to log group {arn} in account {owner} (an organization trail): the alarm chain \
                 lives there; run `rootguard verify --check root-alarm` in account {owner}",
                t.name
            ));
            continue;
        }
        let Some(lg) = chain
            .log_groups
            .iter()
            .find(|g| same_log_group(&g.arn, arn))
        else {
            undecided.push(format!("log group {arn} of trail {} was not read", t.name));
            continue;
        };
        let at = format!("trail {} → log group {} ({})", t.name, lg.name, lg.region);
        let filters = match &lg.filters {
            Ok(f) => f,
            Err(e) => {
                undecided.push(e.describe());
                continue;
            }
        };
        if filters.is_empty() {
            best.offer(2, vec![format!("{at} has no metric filters")]);
        }
        for f in filters {
            let judged = match judge(&f.pattern) {
                Ok(j) => j,
                Err(e) => {
                    undecided.push(format!(
                        "metric filter {} on {}: its pattern cannot be parsed {e}",
                        f.name, lg.name
                    ));
                    continue;
                }
            };
            if !judged.covers_cis() {
                best.offer(
                    2,
                    vec![format!(
                        "{at}: metric filter {} misses root events the CIS pattern catches: {}",
                        f.name,
                        judged.missed.join(", ")
                    )],
                );
                continue;
            }
            if judged.matches_everything() {
                best.offer(
                    2,
                    vec![format!(
                        "{at}: metric filter {} matches all activity, not only root's (every non-root event \
                         of the corpus too: {}), so its alarm cannot tell a person that root was used",
                        f.name,
                        judged.extra.join(", ")
                    )],
                );
                continue;
            }
            let noise = (!judged.extra.is_empty()).then(|| {
                format!(
                    "note: filter {} also matches events the CIS pattern ignores ({}): expect some noise",
                    f.name,
                    judged.extra.join(", ")
                )
            });
            if f.metrics.is_empty() {
                best.offer(
                    3,
                    vec![format!(
                        "{at}: metric filter {} emits no metric, so no alarm can watch it",
                        f.name
                    )],
                );
            }
            for m in &f.metrics {
                let at = format!(
                    "{at} → filter {} → metric {}/{}",
                    f.name, m.namespace, m.name
                );
                let alarms = match &m.alarms {
                    Ok(a) => a,
                    Err(e) => {
                        undecided.push(e.describe());
                        continue;
                    }
                };
                if alarms.is_empty() {
                    best.offer(
                        3,
                        vec![format!(
                            "{at}: no alarm watches this metric name and namespace"
                        )],
                    );
                }
                for a in alarms {
                    let at = format!("{at} → alarm {}", a.name);
                    let mut problems = alarm_problems(a, m);
                    if let Some(stuck) = stuck_in_alarm(a, facts.now) {
                        problems.push(stuck);
                    }
                    if !problems.is_empty() {
                        best.offer(4, vec![format!("{at}: {}", problems.join("; "))]);
                        continue;
                    }
                    if a.topics.is_empty() {
                        best.offer(5, vec![format!("{at} has no SNS action")]);
                    }
                    for topic in &a.topics {
                        let at = format!("{at} → topic {}", topic.arn);
                        match &topic.exists {
                            Err(e) => {
                                undecided.push(e.describe());
                                continue;
                            }
                            Ok(false) => {
                                best.offer(5, vec![format!("{at}: the topic does not exist")]);
                                continue;
                            }
                            Ok(true) => {}
                        }
                        let subs = match &topic.subscriptions {
                            Ok(s) => s,
                            Err(e) => {
                                undecided.push(e.describe());
                                continue;
                            }
                        };
                        let confirmed = subs.iter().filter(|s| s.confirmed()).count();
                        if confirmed == 0 {
                            let pending = subs.len();
                            best.offer(
                                6,
                                vec![if pending == 0 {
                                    format!("{at}: the topic has no subscriptions")
                                } else {
                                    format!(
                                        "{at}: no confirmed subscription ({pending} pending confirmation: {}); \
                                         the recipient must click the link in the confirmation email",
                                        subs.iter().map(|s| s.endpoint.as_str()).collect::<Vec<_>>().join(", ")
                                    )
                                }],
                            );
                            continue;
                        }
                        let mut lines =
                            vec![format!("{at} → {confirmed} confirmed subscription(s)")];
                        lines.extend(noise.clone());
                        return verdict(Status::Pass, lines);
                    }
                }
            }
        }
    }
    if !undecided.is_empty() {
        return unknown(undecided, best.lines);
    }
    if !elsewhere.is_empty() {
        // Another account's alarm may well cover this one; only a person there can tell.
        let mut lines = elsewhere;
        lines.extend(best.lines);
        return verdict(Status::Manual, lines);
    }
    broken(best.link.max(1), best.lines)
}

/// Whether this account's root-activity chain watches an organization trail
/// delivering to a log group in this account, so it covers every member: the
/// `root-alarm` rule judged on the organization trails alone. `Some` with
/// the passing evidence, naming trail, group, alarm and account.
pub fn organization_coverage(facts: &AccountFacts) -> Option<Vec<String>> {
    let chain = facts.alarm_chain.as_ref().ok()?;
    let trails = chain.trails.as_ref().ok()?;
    let own = |t: &&Trail| {
        t.organization_trail
            && t.log_group_arn
                .as_deref()
                .and_then(|a| a.split(':').nth(4))
                .is_some_and(|a| a == facts.account_id)
    };
    let org_trails: Vec<Trail> = trails.iter().filter(own).cloned().collect();
    if org_trails.is_empty() {
        return None;
    }
    let mut only = facts.clone();
    if let Ok(c) = only.alarm_chain.as_mut() {
        c.trails = Ok(org_trails);
    }
    let v = root_alarm(&only, &CheckConfig::default());
    (v.status == Status::Pass).then(|| {
        let mut ev = vec![format!(
            "covered by the organization trail's chain in account {}:",
            facts.account_id
        )];
        ev.extend(v.evidence);
        ev
    })
}

/// An alarm that has sat in `ALARM` for more than a day never notifies again:
/// CloudWatch sends notifications only on a state change.
fn stuck_in_alarm(a: &crate::domain::facts::Alarm, now: time::OffsetDateTime) -> Option<String> {
    let since = a.state_updated?;
    (a.state.as_deref() == Some("ALARM") && now - since > time::Duration::days(1)).then(|| {
        format!(
            "it has been in ALARM since {} ({}); CloudWatch notifies only when the state changes, so new root \
             activity goes unheard: find out why it fired, then reset it \
             (`aws cloudwatch set-alarm-state --alarm-name {} --state-value OK --state-reason reviewed`)",
            crate::domain::text::fmt_time(since),
            crate::domain::text::ago(now, since),
            a.name
        )
    })
}

fn broken(link: usize, mut lines: Vec<String>) -> Verdict {
    lines.insert(0, format!("broken link {link} of 6: {}", LINKS[link - 1]));
    verdict(Status::Fail, lines)
}

/// Log group ARNs from CloudTrail end in `:*`; those from Logs may not.
fn same_log_group(a: &str, b: &str) -> bool {
    a.trim_end_matches(":*") == b.trim_end_matches(":*")
}
