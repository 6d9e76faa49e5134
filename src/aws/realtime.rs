//! The real-time rule's reads (EventBridge in us-east-1): the rule as deploy
//! and teardown see it, and the facts `root-realtime-alert` judges
//! (`TestEventPattern` on the corpus, targets, topics).

use super::{classify, service_code, Reader};
use crate::facts::*;

// ------------------------------------------------------------ real-time rule

impl Reader {
    pub(super) fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.regional(crate::realtime::RULE_REGION))
    }

    /// The rule as deploy and teardown see it: pattern, state, target, input
    /// transformer and tag; `None` when there is no such rule.
    pub async fn realtime_rule_state(&self) -> Result<Option<crate::deploy::RuleState>, FactError> {
        self.rule_state(None, crate::realtime::RULE_NAME, crate::realtime::TARGET_ID)
            .await
    }

    /// What `root-realtime-alert` judges: the rule, its SNS targets' topics,
    /// and `events:TestEventPattern` on every corpus event, concurrently.
    pub async fn realtime(&self) -> Fact<crate::realtime::RealtimeFacts> {
        use crate::realtime::{expectations, RuleFacts, RULE_NAME};
        let ev = self.events();
        let rule = match ev.describe_rule().name(RULE_NAME).send().await {
            Ok(r) => r,
            Err(e) if service_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(classify("events:DescribeRule", &e)),
        };
        let pattern = rule.event_pattern().unwrap_or_default().to_string();
        let targets = async {
            ev.list_targets_by_rule()
                .rule(RULE_NAME)
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
        let tests =
            futures::future::join_all(expectations().into_iter().map(|(name, should, event)| {
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
            }));
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
            read_only_events: rule.state().map(|s| s.as_str()) == Some(crate::realtime::RULE_STATE),
            pattern,
            targets,
            topics,
            tests,
        }))
    }
}
