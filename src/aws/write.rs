//! Writes: the only code that changes an account.
//!
//! `Writer` executes the steps of a [`Plan`](crate::deploy::Plan), teardown's
//! deletions and the fire drill. It is built only by the commands that write
//! (deploy, teardown, alarm test); verify never holds one. Every resource it
//! creates is tagged `managed-by=rootguard`.

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_types::region::Region;
use aws_types::SdkConfig;

use super::classify;
use crate::deploy::*;
use crate::facts::FactError;
use crate::rootactivity::{METRIC_NAME, METRIC_NAMESPACE};

#[derive(Clone, Debug)]
pub struct Writer {
    config: SdkConfig,
}

fn build_err(action: &str, e: impl std::fmt::Display) -> FactError {
    FactError::new(action, crate::facts::FactErrorKind::Error, e.to_string())
}

impl Writer {
    pub fn new(config: &SdkConfig) -> Self {
        Writer {
            config: config.clone(),
        }
    }

    fn regional(&self, region: &str) -> SdkConfig {
        self.config
            .clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build()
    }

    /// Executes one plan step; a no-op does nothing.
    pub async fn apply(&self, region: &str, step: &Step) -> Result<(), FactError> {
        let config = self.regional(region);
        match step {
            Step::Topic {
                action: Action::NoOp,
                ..
            }
            | Step::Subscription {
                action: Action::NoOp,
                ..
            }
            | Step::MetricFilter {
                action: Action::NoOp,
                ..
            }
            | Step::Alarm {
                action: Action::NoOp,
                ..
            } => Ok(()),
            Step::Topic {
                action,
                name,
                arn,
                policy,
                kms_key,
                ..
            } => {
                let sns = aws_sdk_sns::Client::new(&config);
                let tag = aws_sdk_sns::types::Tag::builder()
                    .key(TAG_KEY)
                    .value(TAG_VALUE)
                    .build()
                    .map_err(|e| build_err("sns:CreateTopic", e))?;
                if *action == Action::Create {
                    let mut req = sns
                        .create_topic()
                        .name(name)
                        .attributes("Policy", policy.to_string())
                        .tags(tag);
                    if let Some(k) = kms_key {
                        req = req.attributes("KmsMasterKeyId", k);
                    }
                    req.send()
                        .await
                        .map_err(|e| classify("sns:CreateTopic", &e))?;
                } else {
                    sns.set_topic_attributes()
                        .topic_arn(arn)
                        .attribute_name("Policy")
                        .attribute_value(policy.to_string())
                        .send()
                        .await
                        .map_err(|e| classify("sns:SetTopicAttributes", &e))?;
                    if let Some(k) = kms_key {
                        sns.set_topic_attributes()
                            .topic_arn(arn)
                            .attribute_name("KmsMasterKeyId")
                            .attribute_value(k)
                            .send()
                            .await
                            .map_err(|e| classify("sns:SetTopicAttributes", &e))?;
                    }
                    sns.tag_resource()
                        .resource_arn(arn)
                        .tags(tag)
                        .send()
                        .await
                        .map_err(|e| classify("sns:TagResource", &e))?;
                }
                Ok(())
            }
            Step::Subscription {
                topic_arn, email, ..
            } => {
                aws_sdk_sns::Client::new(&config)
                    .subscribe()
                    .topic_arn(topic_arn)
                    .protocol("email")
                    .endpoint(email)
                    .send()
                    .await
                    .map_err(|e| classify("sns:Subscribe", &e))?;
                Ok(())
            }
            Step::MetricFilter {
                log_group,
                name,
                pattern,
                namespace,
                metric,
                ..
            } => {
                let t = aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                    .metric_name(metric)
                    .metric_namespace(namespace)
                    .metric_value(METRIC_VALUE)
                    .build()
                    .map_err(|e| build_err("logs:PutMetricFilter", e))?;
                aws_sdk_cloudwatchlogs::Client::new(&config)
                    .put_metric_filter()
                    .log_group_name(log_group)
                    .filter_name(name)
                    .filter_pattern(pattern)
                    .metric_transformations(t)
                    .send()
                    .await
                    .map_err(|e| classify("logs:PutMetricFilter", &e))?;
                Ok(())
            }
            Step::Alarm {
                name,
                topic_arn,
                log_group,
                ..
            } => {
                let cw = aws_sdk_cloudwatch::Client::new(&config);
                let tags: Vec<_> = [(TAG_KEY, TAG_VALUE), (LOG_GROUP_TAG, log_group.as_str())]
                    .into_iter()
                    .map(|(k, v)| {
                        aws_sdk_cloudwatch::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                    })
                    .collect();
                let out = cw
                    .put_metric_alarm()
                    .alarm_name(name)
                    .alarm_description(ALARM_DESCRIPTION)
                    .namespace(METRIC_NAMESPACE)
                    .metric_name(METRIC_NAME)
                    .statistic(Statistic::from(ALARM_STATISTIC))
                    .period(ALARM_PERIOD)
                    .threshold(ALARM_THRESHOLD)
                    .comparison_operator(ComparisonOperator::from(ALARM_COMPARISON))
                    .evaluation_periods(ALARM_EVALUATION_PERIODS)
                    .treat_missing_data(ALARM_TREAT_MISSING_DATA)
                    .actions_enabled(true)
                    .alarm_actions(topic_arn)
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await;
                out.map_err(|e| classify("cloudwatch:PutMetricAlarm", &e))?;
                // PutMetricAlarm applies tags only on create; make an update tagged too.
                let described = cw
                    .describe_alarms()
                    .alarm_names(name)
                    .send()
                    .await
                    .map_err(|e| classify("cloudwatch:DescribeAlarms", &e))?;
                if let Some(arn) = described
                    .metric_alarms()
                    .first()
                    .and_then(|a| a.alarm_arn())
                {
                    cw.tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some(tags))
                        .send()
                        .await
                        .map_err(|e| classify("cloudwatch:TagResource", &e))?;
                }
                Ok(())
            }
        }
    }

    pub async fn delete_alarm(&self, region: &str, name: &str) -> Result<(), FactError> {
        aws_sdk_cloudwatch::Client::new(&self.regional(region))
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| classify("cloudwatch:DeleteAlarms", &e))?;
        Ok(())
    }

    pub async fn delete_metric_filter(
        &self,
        region: &str,
        log_group: &str,
        name: &str,
    ) -> Result<(), FactError> {
        aws_sdk_cloudwatchlogs::Client::new(&self.regional(region))
            .delete_metric_filter()
            .log_group_name(log_group)
            .filter_name(name)
            .send()
            .await
            .map_err(|e| classify("logs:DeleteMetricFilter", &e))?;
        Ok(())
    }

    pub async fn delete_topic(&self, region: &str, arn: &str) -> Result<(), FactError> {
        aws_sdk_sns::Client::new(&self.regional(region))
            .delete_topic()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| classify("sns:DeleteTopic", &e))?;
        Ok(())
    }

    /// The fire drill: puts the alarm into ALARM, which makes CloudWatch
    /// notify its actions.
    pub async fn set_alarm(&self, region: &str, name: &str, reason: &str) -> Result<(), FactError> {
        aws_sdk_cloudwatch::Client::new(&self.regional(region))
            .set_alarm_state()
            .alarm_name(name)
            .state_value(StateValue::Alarm)
            .state_reason(reason)
            .send()
            .await
            .map_err(|e| classify("cloudwatch:SetAlarmState", &e))?;
        Ok(())
    }
}
