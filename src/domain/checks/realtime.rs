//! `root-realtime-alert`: the EventBridge rules of every kind in us-east-1 and
//! each other enabled region's forwarder, judged by what they match (AWS's own
//! `events:TestEventPattern` on the corpus, read into [`RealtimeFacts`]), never
//! by their text. Pure: a verdict from facts.

use std::collections::BTreeMap;

use crate::domain::checks::{unknown, verdict, Verdict};
use crate::domain::facts::{AccountFacts, RuleFacts};
use crate::domain::finding::Status;
use crate::domain::realtime::*;

/// `root-realtime-alert`: `warn` when a rule is missing or broken or a region
/// does not forward (the CIS alarm still covers root, minutes later), naming
/// each broken link.
pub fn check(facts: &AccountFacts) -> Verdict {
    let rt = match &facts.realtime {
        Err(e) => return unknown(vec![e.describe()], vec![]),
        Ok(r) => r,
    };
    if rt.is_absent() {
        return verdict(
            Status::Warn,
            vec![format!(
                "no rootguard EventBridge rule in {RULE_REGION}: root activity is reported only by the CIS alarm, \
                 minutes late; `rootguard deploy` adds the real-time rules"
            )],
        );
    }
    let mut warn = Vec::new();
    let mut undecided = Vec::new();
    let mut ok = Vec::new();
    let mut reached = false;
    for (name, rule) in &rt.rules {
        let Some(rule) = rule else {
            warn.push(format!(
                "no rule {name} in {RULE_REGION}: {} reach nobody in real time",
                kind(name).map_or("its events", |k| k.what)
            ));
            continue;
        };
        judge_rule(name, rule, &mut warn, &mut undecided, &mut reached);
    }
    if warn.is_empty() && undecided.is_empty() {
        ok.push(format!(
            "{} rules in {RULE_REGION} (events:TestEventPattern: each matches its kind of root activity and none of \
             the other corpus events, all receive read-only calls)",
            rt.rules.len()
        ));
    }
    if !reached && warn.is_empty() && undecided.is_empty() {
        warn.push("no confirmed subscription on any rule's topic: nobody would be told".into());
    }
    let mut topics: BTreeMap<&str, usize> = BTreeMap::new();
    for t in rt
        .rules
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .flat_map(|r| &r.topics)
    {
        if let Ok(subs) = &t.subscriptions {
            topics.insert(&t.arn, subs.iter().filter(|s| s.confirmed()).count());
        }
    }
    for (arn, confirmed) in topics {
        ok.push(format!(
            "target topic {arn} has {confirmed} confirmed subscription(s)"
        ));
    }
    match &rt.forwarding {
        Err(e) => undecided.push(e.describe()),
        Ok(regions) => {
            let mut missing = Vec::new();
            for (region, f) in regions {
                match f {
                    Err(e) => undecided.push(e.describe()),
                    Ok(None) => missing.push(region.clone()),
                    Ok(Some(f)) if !f.enabled => warn.push(format!(
                        "{region}: the forwarding rule {FORWARD_RULE} is DISABLED"
                    )),
                    Ok(Some(f)) if !f.read_only_events => warn.push(format!(
                        "{region}: the forwarding rule {FORWARD_RULE} is ENABLED, not {RULE_STATE}: read-only root \
                         calls there never reach it"
                    )),
                    Ok(Some(f)) if !f.pattern_ok || !f.target_ok => warn.push(format!(
                        "{region}: the forwarding rule {FORWARD_RULE} {}",
                        if f.pattern_ok {
                            "does not target the us-east-1 default bus through its role"
                        } else {
                            "has another pattern than rootguard's"
                        }
                    )),
                    Ok(Some(_)) => {}
                }
            }
            if !missing.is_empty() {
                warn.push(format!(
                    "no forwarding to {RULE_REGION} from {}: root calls made there reach nobody in real time \
                     (CloudTrail puts an event only on its own region's bus); `rootguard deploy` adds a rule \
                     {FORWARD_RULE} in each",
                    missing.join(", ")
                ));
            }
            if regions.iter().all(|(_, f)| matches!(f, Ok(Some(_)))) && !regions.is_empty() {
                ok.push(format!(
                    "root activity in {} other enabled region(s) is forwarded to {RULE_REGION}",
                    regions.len()
                ));
            }
        }
    }
    if !warn.is_empty() {
        return verdict(Status::Warn, warn);
    }
    if !undecided.is_empty() {
        return unknown(undecided, ok);
    }
    verdict(Status::Pass, ok)
}

fn judge_rule(
    name: &str,
    rule: &RuleFacts,
    warn: &mut Vec<String>,
    undecided: &mut Vec<String>,
    reached: &mut bool,
) {
    if !rule.enabled {
        warn.push(format!("rule {name} is DISABLED: it sends nothing"));
        return;
    }
    let mut missed = Vec::new();
    let mut noisy = Vec::new();
    for (event, should, got) in &rule.tests {
        match got {
            Err(e) => undecided.push(e.describe()),
            Ok(m) if *should && !m => missed.push(*event),
            Ok(m) if !*should && *m => noisy.push(*event),
            Ok(_) => {}
        }
    }
    if !missed.is_empty() {
        warn.push(format!(
            "rule {name}: its pattern (judged by events:TestEventPattern) misses root activity: {}",
            missed.join(", ")
        ));
    }
    if !noisy.is_empty() {
        warn.push(format!(
            "rule {name}: its pattern also matches {} (a person would be paged for them, or told the wrong story)",
            noisy.join(", ")
        ));
    }
    if !rule.read_only_events {
        warn.push(format!(
            "rule {name} is ENABLED, not {RULE_STATE}: read-only root calls (Get*, List*, Describe*: a stolen \
             key's first moves) never reach it; `rootguard deploy` sets the state"
        ));
    }
    if rule.topics.is_empty() {
        warn.push(format!(
            "rule {name} has no SNS target (targets: {})",
            if rule.targets.is_empty() {
                "none".to_string()
            } else {
                rule.targets.join(", ")
            }
        ));
    }
    for t in &rule.topics {
        match (&t.exists, &t.subscriptions) {
            (Err(e), _) | (_, Err(e)) => undecided.push(e.describe()),
            (Ok(false), _) => warn.push(format!(
                "rule {name}: target topic {} does not exist",
                t.arn
            )),
            (Ok(true), Ok(subs)) => {
                if subs.iter().any(|s| s.confirmed()) {
                    *reached = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::{
        Fact, FactError, FactErrorKind, ForwardFacts, RealtimeFacts, Subscription, Topic,
    };
    use time::macros::datetime;

    fn topic(confirmed: bool) -> Topic {
        Topic {
            arn: "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity".into(),
            exists: Ok(true),
            subscriptions: Ok(vec![Subscription {
                protocol: "email".into(),
                endpoint: "sec@example.com".into(),
                arn: if confirmed {
                    "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity:1".into()
                } else {
                    "PendingConfirmation".into()
                },
            }]),
            policy: None,
            kms_key: None,
        }
    }

    fn good_rule(k: &Kind) -> RuleFacts {
        RuleFacts {
            arn: rule_arn_of("111122223333", k.rule),
            enabled: true,
            read_only_events: true,
            pattern: (k.pattern)().to_string(),
            targets: vec![topic(true).arn],
            topics: vec![topic(true)],
            tests: expectations(k)
                .into_iter()
                .map(|(n, should, _)| (n, should, Ok(should)))
                .collect(),
        }
    }

    fn good() -> RealtimeFacts {
        let fwd = ForwardFacts {
            enabled: true,
            read_only_events: true,
            pattern_ok: true,
            target_ok: true,
        };
        RealtimeFacts {
            rules: KINDS.iter().map(|k| (k.rule, Some(good_rule(k)))).collect(),
            forwarding: Ok(vec![
                ("eu-west-1".into(), Ok(Some(fwd.clone()))),
                ("us-west-2".into(), Ok(Some(fwd))),
            ]),
        }
    }

    fn run(r: Fact<RealtimeFacts>) -> Verdict {
        let mut f = AccountFacts::empty("111122223333", datetime!(2026-11-25 12:00 UTC));
        f.realtime = r;
        check(&f)
    }

    fn api_rule(r: &mut RealtimeFacts) -> &mut RuleFacts {
        r.rules
            .iter_mut()
            .find(|(n, _)| *n == RULE_NAME)
            .and_then(|(_, r)| r.as_mut())
            .unwrap()
    }

    #[test]
    fn by_data() {
        type Edit = Box<dyn Fn(&mut RealtimeFacts)>;
        let cases: Vec<(&str, Edit, Status, &str)> = vec![
            ("whole", Box::new(|_| {}), Status::Pass, "1 confirmed subscription"),
            (
                "forwarded",
                Box::new(|_| {}),
                Status::Pass,
                "2 other enabled region(s) is forwarded",
            ),
            (
                "disabled",
                Box::new(|r| api_rule(r).enabled = false),
                Status::Warn,
                "rule rootguard-root-activity is DISABLED",
            ),
            (
                // TestEventPattern ignores the state: only the state says that
                // read-only root calls never reach an ENABLED rule.
                "enabled without read-only events",
                Box::new(|r| api_rule(r).read_only_events = false),
                Status::Warn,
                "rule rootguard-root-activity is ENABLED, not ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
            ),
            (
                "misses API calls",
                Box::new(|r| {
                    for t in api_rule(r).tests.iter_mut().filter(|t| t.0 == "root-api-call") {
                        t.2 = Ok(false)
                    }
                }),
                Status::Warn,
                "misses root activity: root-api-call",
            ),
            (
                "pages for service events",
                Box::new(|r| {
                    for t in api_rule(r)
                        .tests
                        .iter_mut()
                        .filter(|t| t.0 == "root-aws-service-event")
                    {
                        t.2 = Ok(true)
                    }
                }),
                Status::Warn,
                "also matches root-aws-service-event",
            ),
            (
                "a kind's rule is missing",
                Box::new(|r| r.rules[4].1 = None),
                Status::Warn,
                "no rule rootguard-assume-root in us-east-1",
            ),
            (
                "TestEventPattern denied",
                Box::new(|r| {
                    api_rule(r).tests[0].2 = Err(FactError::new(
                        "events:TestEventPattern",
                        FactErrorKind::AccessDenied,
                        "no",
                    ))
                }),
                Status::Unknown,
                "events:TestEventPattern was denied",
            ),
            (
                "pending only",
                Box::new(|r| {
                    for (_, x) in r.rules.iter_mut() {
                        x.as_mut().unwrap().topics = vec![topic(false)];
                    }
                }),
                Status::Warn,
                "no confirmed subscription",
            ),
            (
                "no sns target",
                Box::new(|r| api_rule(r).topics.clear()),
                Status::Warn,
                "has no SNS target",
            ),
            (
                "a region without forwarding",
                Box::new(|r| r.forwarding.as_mut().unwrap()[0].1 = Ok(None)),
                Status::Warn,
                "no forwarding to us-east-1 from eu-west-1",
            ),
            (
                "a forwarder that skips reads",
                Box::new(|r| {
                    r.forwarding.as_mut().unwrap()[1].1 = Ok(Some(ForwardFacts {
                        enabled: true,
                        read_only_events: false,
                        pattern_ok: true,
                        target_ok: true,
                    }))
                }),
                Status::Warn,
                "us-west-2: the forwarding rule rootguard-root-forward is ENABLED",
            ),
            (
                "regions unreadable",
                Box::new(|r| {
                    r.forwarding = Err(FactError::new(
                        "account:ListRegions",
                        FactErrorKind::AccessDenied,
                        "no",
                    ))
                }),
                Status::Unknown,
                "account:ListRegions was denied",
            ),
        ];
        for (what, edit, want, needle) in cases {
            let mut r = good();
            edit(&mut r);
            let v = run(Ok(r));
            assert_eq!(v.status, want, "{what}: {:?}", v.evidence);
            assert!(
                v.evidence.join("\n").contains(needle),
                "{what}: {:?}",
                v.evidence
            );
        }
        let mut none = good();
        for r in none.rules.iter_mut() {
            r.1 = None;
        }
        let missing = run(Ok(none));
        assert_eq!(missing.status, Status::Warn);
        assert!(missing.evidence[0].contains("rootguard deploy"));
    }
}
