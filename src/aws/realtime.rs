//! The real-time rules' reads: every kind's rule in us-east-1 as deploy and
//! teardown see it, the forwarding rule in each other enabled region and its
//! role, and the facts `root-realtime-alert` judges (`TestEventPattern` on the
//! corpus per rule, targets, topics, each region's forwarding).

use std::collections::BTreeMap;

use super::account::percent_decode;
use super::{classify, service_code, Reader};
use crate::domain::deploy::{ForwardingState, RoleState, RuleState, TAG_KEY, TAG_VALUE};
use crate::domain::facts::*;
use crate::domain::facts::{ForwardFacts, RealtimeFacts, RuleFacts};
use crate::domain::realtime::{
    expectations, FORWARD_ROLE, FORWARD_RULE, FORWARD_TARGET_ID, KINDS, RULE_REGION, RULE_STATE,
    TARGET_ID,
};

impl Reader {
    pub(super) fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.regional(RULE_REGION))
    }

    /// Every kind's rule as deploy and teardown see it (pattern, state,
    /// target, input transformer, tag), concurrently; absent rules are left out.
    pub async fn realtime_rules_state(&self) -> Result<BTreeMap<String, RuleState>, FactError> {
        let read = futures::future::join_all(
            KINDS
                .iter()
                .map(|k| async move { (k.rule, self.rule_state(None, k.rule, TARGET_ID).await) }),
        )
        .await;
        let mut out = BTreeMap::new();
        for (name, r) in read {
            if let Some(r) = r? {
                out.insert(name.to_string(), r);
            }
        }
        Ok(out)
    }

    /// The other enabled regions (`account:ListRegions`, us-east-1 left out).
    pub async fn forwarding_regions(&self) -> Result<Vec<String>, FactError> {
        Ok(self
            .enabled_regions()
            .await?
            .into_iter()
            .filter(|r| r != RULE_REGION)
            .collect())
    }

    /// Forwarding as deploy sees it: each other enabled region's rule and
    /// the role, concurrently.
    pub async fn forwarding_state(&self) -> Result<ForwardingState, FactError> {
        let regions = self.forwarding_regions().await?;
        self.forwarding_state_of(regions, FORWARD_RULE, FORWARD_TARGET_ID, FORWARD_ROLE)
            .await
    }

    /// Forwarding rules named `rule` in `regions` and the role named `role`.
    pub async fn forwarding_state_of(
        &self,
        regions: Vec<String>,
        rule: &str,
        target_id: &str,
        role: &str,
    ) -> Result<ForwardingState, FactError> {
        let rules = futures::future::join_all(regions.iter().map(|r| async move {
            (
                r.clone(),
                self.rule_state_in(r, None, rule, target_id).await,
            )
        }));
        let (rules, role) = tokio::join!(rules, self.role_state(role));
        let mut by_region = BTreeMap::new();
        for (region, r) in rules {
            if let Some(r) = r? {
                by_region.insert(region, r);
            }
        }
        Ok(ForwardingState {
            regions,
            rules: by_region,
            role: role?,
        })
    }

    /// A forwarding role: trust, inline policy (named like it), tag; `None` when absent.
    pub async fn role_state(&self, name: &str) -> Result<Option<RoleState>, FactError> {
        let iam = aws_sdk_iam::Client::new(&self.config);
        let (role, policy) = tokio::join!(
            iam.get_role().role_name(name).send(),
            iam.get_role_policy()
                .role_name(name)
                .policy_name(name)
                .send()
        );
        let decode = |doc: &str| {
            let decoded = percent_decode(doc);
            serde_json::from_str(&decoded)
                .ok()
                .or_else(|| serde_json::from_str(doc).ok())
        };
        let role = match role {
            Ok(r) => r,
            Err(e) if service_code(&e) == Some("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(classify("iam:GetRole", &e)),
        };
        let permissions = match policy {
            Ok(p) => decode(p.policy_document()),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => None,
            Err(e) => return Err(classify("iam:GetRolePolicy", &e)),
        };
        let role = role.role();
        Ok(Some(RoleState {
            trust: role
                .and_then(|r| r.assume_role_policy_document())
                .and_then(decode),
            permissions,
            tagged: role.is_some_and(|r| {
                r.tags()
                    .iter()
                    .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE)
            }),
        }))
    }

    /// What `root-realtime-alert` judges: every kind's rule (its SNS targets'
    /// topics and `events:TestEventPattern` on every corpus event) and each
    /// other enabled region's forwarding, all concurrently.
    pub async fn realtime(&self) -> Fact<RealtimeFacts> {
        // Every kind's rule in one ListRules walk (five DescribeRule calls
        // read no more), then targets and tests only for the rules there.
        let rules = async {
            let listed = rules_named(&self.events(), "rootguard-").await?;
            let read = futures::future::join_all(KINDS.iter().map(|k| {
                let listed = &listed;
                async move { (k.rule, self.kind_rule(k, listed.get(k.rule)).await) }
            }));
            Ok::<_, FactError>(read.await)
        };
        let forwarding = async {
            let regions = self.forwarding_regions().await?;
            // The us-east-1 default bus of this account (the rule is read in
            // this account, so only its region and name need checking).
            let to_hub = |arn: &str| {
                arn.starts_with(&format!("arn:aws:events:{RULE_REGION}:"))
                    && arn.ends_with(":event-bus/default")
            };
            let read = futures::future::join_all(regions.into_iter().map(|r| async move {
                let state = self.forward_facts(&r, &to_hub).await;
                (r, state)
            }));
            Ok::<_, FactError>(read.await)
        };
        let (rules, forwarding) = tokio::join!(rules, forwarding);
        let mut out = Vec::new();
        for (name, r) in rules? {
            out.push((name, r?));
        }
        Ok(RealtimeFacts {
            rules: out,
            forwarding,
        })
    }

    /// A region's forwarding rule as verify judges it: found by `ListRules`,
    /// then `ListTargetsByRule` only when it is there (no tags: the check does
    /// not need them).
    async fn forward_facts(
        &self,
        region: &str,
        to_hub: &(dyn Fn(&str) -> bool + Sync),
    ) -> Fact<Option<ForwardFacts>> {
        let ev = aws_sdk_eventbridge::Client::new(&self.regional(region));
        let Some(rule) = rules_named(&ev, FORWARD_RULE).await?.remove(FORWARD_RULE) else {
            return Ok(None);
        };
        let targets = ev
            .list_targets_by_rule()
            .rule(FORWARD_RULE)
            .send()
            .await
            .map_err(|e| classify("events:ListTargetsByRule", &e))?;
        let target = targets
            .targets()
            .iter()
            .find(|t| t.id() == FORWARD_TARGET_ID);
        let pattern: Option<serde_json::Value> = rule
            .event_pattern()
            .and_then(|p| serde_json::from_str(p).ok());
        Ok(Some(ForwardFacts {
            enabled: rule
                .state()
                .is_some_and(|s| s.as_str().starts_with("ENABLED")),
            read_only_events: rule.state().map(|s| s.as_str()) == Some(RULE_STATE),
            pattern_ok: pattern == Some(crate::domain::realtime::forward_pattern()),
            target_ok: target.is_some_and(|t| to_hub(t.arn()) && t.role_arn().is_some()),
        }))
    }

    /// One kind's rule as listed (`None`: not there): its pattern judged on
    /// the corpus, its targets' topics.
    async fn kind_rule(
        &self,
        kind: &crate::domain::realtime::Kind,
        listed: Option<&aws_sdk_eventbridge::types::Rule>,
    ) -> Fact<Option<RuleFacts>> {
        let ev = self.events();
        let Some(rule) = listed else {
            return Ok(None);
        };
        let pattern = rule.event_pattern().unwrap_or_default().to_string();
        let targets = async {
            ev.list_targets_by_rule()
                .rule(kind.rule)
                .send()
                .await
                .map(|t| {
                    t.targets()
                        .iter()
                        .map(|t| t.arn().to_string())
                        .collect::<Vec<_>>()
                })
                .map_err(|e| classify("events:ListTargetsByRule", &e))
        };
        let tests = futures::future::join_all(expectations(kind).into_iter().map(
            |(name, should, event)| {
                let ev = &ev;
                let pattern = &pattern;
                async move {
                    let got = ev
                        .test_event_pattern()
                        .event_pattern(pattern)
                        .event(event.to_string())
                        .send()
                        .await
                        .map(|r| r.result())
                        .map_err(|e| classify("events:TestEventPattern", &e));
                    (name, should, got)
                }
            },
        ));
        let (targets, tests) = tokio::join!(targets, tests);
        let targets = targets?;
        let topics = futures::future::join_all(
            targets
                .iter()
                .filter(|a| a.split(':').nth(2) == Some("sns"))
                .map(|arn| self.topic(arn)),
        )
        .await;
        Ok(Some(RuleFacts {
            arn: rule.arn().unwrap_or_default().to_string(),
            enabled: rule
                .state()
                .is_some_and(|s| s.as_str().starts_with("ENABLED")),
            read_only_events: rule.state().map(|s| s.as_str()) == Some(RULE_STATE),
            pattern,
            targets,
            topics,
            tests,
        }))
    }
}

/// This account's rules on the default bus whose names start with `prefix`,
/// by name, from every page of one `ListRules` walk.
async fn rules_named(
    ev: &aws_sdk_eventbridge::Client,
    prefix: &str,
) -> Fact<std::collections::BTreeMap<String, aws_sdk_eventbridge::types::Rule>> {
    let mut out = std::collections::BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = ev
            .list_rules()
            .name_prefix(prefix)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("events:ListRules", &e))?;
        for r in page.rules() {
            if let Some(name) = r.name() {
                out.insert(name.to_string(), r.clone());
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}
