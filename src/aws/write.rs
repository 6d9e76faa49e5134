//! Writes: the only code that changes an account.
//!
//! `Writer` executes the steps of a [`Plan`](crate::domain::deploy::Plan), teardown's
//! deletions, the fire drill and the wizard's fixes; `IamMfa` enrolls IAM
//! users' MFA. Both are built only from a [`super::Session`] (module privacy),
//! so verify, which holds a `Reader`, can never obtain one. Every resource it
//! creates is tagged `managed-by=rootguard`.

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_types::SdkConfig;

use super::classify;
use crate::domain::deploy::*;
use crate::domain::facts::FactError;
use crate::domain::rootactivity::{METRIC_NAME, METRIC_NAMESPACE};

#[derive(Clone, Debug)]
pub struct Writer {
    pub(super) config: SdkConfig,
}

pub(super) fn build_err(action: &str, e: impl std::fmt::Display) -> FactError {
    FactError::new(
        action,
        crate::domain::facts::FactErrorKind::Error,
        e.to_string(),
    )
}

impl Writer {
    /// Only a [`super::Session`] builds one.
    pub(super) fn new(config: &SdkConfig) -> Self {
        Writer {
            config: config.clone(),
        }
    }

    pub(super) fn regional(&self, region: &str) -> SdkConfig {
        super::in_region(&self.config, region)
    }

    /// S3 with path-style addressing when a custom endpoint is set (emulators
    /// and proxies); virtual-hosted style against AWS.
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = self.regional(region);
        super::s3_client(&config)
    }

    /// Executes one plan step; a no-op does nothing.
    pub async fn apply(&self, region: &str, step: &Step) -> Result<(), FactError> {
        let region = step.region(region);
        let config = self.regional(region);
        if step.action() == Action::NoOp {
            return Ok(());
        }
        match step {
            Step::TrailBucket {
                name,
                policy,
                owner,
                ..
            } => {
                let s3 = self.s3(region);
                let mut req = s3.create_bucket().bucket(name);
                if region != "us-east-1" {
                    req = req.create_bucket_configuration(
                        aws_sdk_s3::types::CreateBucketConfiguration::builder()
                            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                                region,
                            ))
                            .build(),
                    );
                }
                match req.send().await {
                    Ok(_) => {}
                    Err(e)
                        if matches!(super::service_code(&e), Some("BucketAlreadyOwnedByYou")) => {}
                    Err(e) if matches!(super::service_code(&e), Some("BucketAlreadyExists")) => {
                        return Err(FactError::new(
                            "s3:CreateBucket",
                            crate::domain::facts::FactErrorKind::Error,
                            format!(
                                "the bucket name {name} belongs to another AWS account (BucketAlreadyExists): \
                                 name a bucket of your own with --trail-bucket NAME (`rootguard policy setup --trail-bucket NAME` allows it)"
                            ),
                        ))
                    }
                    Err(e) => return Err(classify("s3:CreateBucket", &e)),
                }
                s3.put_public_access_block()
                    .bucket(name)
                    .expected_bucket_owner(owner.as_str())
                    .public_access_block_configuration(
                        aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| classify("s3:PutBucketPublicAccessBlock", &e))?;
                s3.put_bucket_policy()
                    .bucket(name)
                    .expected_bucket_owner(owner.as_str())
                    .policy(policy.to_string())
                    .send()
                    .await
                    .map_err(|e| classify("s3:PutBucketPolicy", &e))?;
                let tag = aws_sdk_s3::types::Tag::builder()
                    .key(TAG_KEY)
                    .value(TAG_VALUE)
                    .build()
                    .map_err(|e| build_err("s3:PutBucketTagging", e))?;
                let tagging = aws_sdk_s3::types::Tagging::builder()
                    .tag_set(tag)
                    .build()
                    .map_err(|e| build_err("s3:PutBucketTagging", e))?;
                s3.put_bucket_tagging()
                    .bucket(name)
                    .expected_bucket_owner(owner.as_str())
                    .tagging(tagging)
                    .send()
                    .await
                    .map_err(|e| classify("s3:PutBucketTagging", &e))?;
                Ok(())
            }
            Step::TrailLogGroup { name, .. } => {
                aws_sdk_cloudwatchlogs::Client::new(&config)
                    .create_log_group()
                    .log_group_name(name)
                    .tags(TAG_KEY, TAG_VALUE)
                    .send()
                    .await
                    .map_err(|e| classify("logs:CreateLogGroup", &e))?;
                Ok(())
            }
            Step::TrailRole {
                name,
                trust,
                permissions,
                ..
            } => {
                self.put_role(
                    name,
                    "Lets CloudTrail deliver to the rootguard-cloudtrail log group (created by rootguard)",
                    trust,
                    permissions,
                )
                .await
            }
            Step::Trail {
                action,
                name,
                bucket,
                log_group_arn,
                role_arn,
            } => {
                let ct = aws_sdk_cloudtrail::Client::new(&config);
                if *action == Action::Create {
                    let tag = aws_sdk_cloudtrail::types::Tag::builder()
                        .key(TAG_KEY)
                        .value(TAG_VALUE)
                        .build()
                        .map_err(|e| build_err("cloudtrail:CreateTrail", e))?;
                    // A new role takes seconds to reach CloudTrail: poll with backoff.
                    let mut delay = std::time::Duration::from_millis(250);
                    let start = std::time::Instant::now();
                    loop {
                        let r = ct
                            .create_trail()
                            .name(name)
                            .s3_bucket_name(bucket)
                            .is_multi_region_trail(true)
                            .include_global_service_events(true)
                            .cloud_watch_logs_log_group_arn(log_group_arn)
                            .cloud_watch_logs_role_arn(role_arn)
                            .enable_log_file_validation(true)
                            .tags_list(tag.clone())
                            .send()
                            .await;
                        match r {
                            Ok(_) => break,
                            Err(e)
                                if matches!(
                                    super::service_code(&e),
                                    Some(
                                        "InvalidCloudWatchLogsRoleArnException"
                                            | "InsufficientS3BucketPolicyException"
                                    )
                                ) && start.elapsed() < std::time::Duration::from_secs(60) =>
                            {
                                tokio::time::sleep(delay).await;
                                delay = (delay * 2).min(std::time::Duration::from_secs(5));
                            }
                            Err(e) => return Err(classify("cloudtrail:CreateTrail", &e)),
                        }
                    }
                }
                if *action == Action::Update {
                    ct.update_trail()
                        .name(name)
                        .enable_log_file_validation(true)
                        .send()
                        .await
                        .map_err(|e| classify("cloudtrail:UpdateTrail", &e))?;
                }
                ct.start_logging()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| classify("cloudtrail:StartLogging", &e))?;
                Ok(())
            }
            Step::Topic {
                action,
                name,
                arn,
                policy,
                kms_key,
                ..
            } => {
                put_topic(
                    &aws_sdk_sns::Client::new(&config),
                    *action,
                    name,
                    arn,
                    policy,
                    kms_key.as_deref(),
                )
                .await
            }
            Step::RealtimeTopic {
                action,
                name,
                arn,
                policy,
                ..
            } => {
                put_topic(
                    &aws_sdk_sns::Client::new(&config),
                    *action,
                    name,
                    arn,
                    policy,
                    None,
                )
                .await
            }
            Step::Subscription {
                topic_arn, email, ..
            }
            | Step::RealtimeSubscription {
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
            Step::RealtimeRule {
                name,
                region,
                what,
                pattern,
                topic_arn,
                input_paths,
                input_template,
                ..
            } => {
                debug_assert_eq!(region, crate::domain::realtime::RULE_REGION);
                self.put_rule_to_topic(RuleToTopic {
                    bus: None,
                    name,
                    description: &format!("rootguard: {what}, in seconds, to the rootguard topic"),
                    pattern,
                    topic_arn,
                    target_id: crate::domain::realtime::TARGET_ID,
                    paths: input_paths,
                    template: input_template,
                })
                .await
            }
            Step::Forward(f) => self.put_forward(f).await,
        }
    }

    /// Applies a forwarding step: `deploy`'s and `deploy --org`'s alike.
    pub(super) async fn put_forward(&self, step: &ForwardStep) -> Result<(), FactError> {
        match step {
            ForwardStep::ForwardRole {
                name,
                trust,
                permissions,
                ..
            } => self.put_forward_role(name, trust, permissions).await,
            ForwardStep::ForwardRule {
                name,
                region,
                pattern,
                bus_arn,
                role_arn,
                to,
                ..
            } => {
                self.put_forward_rule(region, name, to, pattern, bus_arn, role_arn)
                    .await
            }
        }
    }

    /// Creates (or completes) a role EventBridge assumes to forward root activity.
    async fn put_forward_role(
        &self,
        name: &str,
        trust: &serde_json::Value,
        permissions: &serde_json::Value,
    ) -> Result<(), FactError> {
        self.put_role(
            name,
            "Lets EventBridge forward root activity to another event bus (created by rootguard)",
            trust,
            permissions,
        )
        .await
    }

    /// Creates a role with its inline policy named like it, tagged. A role of
    /// that name that already exists (left without its policy by a stopped
    /// run, or an untagged one) is adopted whole: trust policy reset, tagged,
    /// policy put, so teardown finds it.
    async fn put_role(
        &self,
        name: &str,
        description: &str,
        trust: &serde_json::Value,
        permissions: &serde_json::Value,
    ) -> Result<(), FactError> {
        let iam = aws_sdk_iam::Client::new(&self.config);
        let tag = aws_sdk_iam::types::Tag::builder()
            .key(TAG_KEY)
            .value(TAG_VALUE)
            .build()
            .map_err(|e| build_err("iam:CreateRole", e))?;
        match iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .description(description)
            .tags(tag.clone())
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if super::service_code(&e) == Some("EntityAlreadyExists") => {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(trust.to_string())
                    .send()
                    .await
                    .map_err(|e| classify("iam:UpdateAssumeRolePolicy", &e))?;
                iam.tag_role()
                    .role_name(name)
                    .tags(tag)
                    .send()
                    .await
                    .map_err(|e| classify("iam:TagRole", &e))?;
            }
            Err(e) => return Err(classify("iam:CreateRole", &e)),
        }
        iam.put_role_policy()
            .role_name(name)
            .policy_name(name)
            .policy_document(permissions.to_string())
            .send()
            .await
            .map_err(|e| classify("iam:PutRolePolicy", &e))?;
        Ok(())
    }

    /// Puts a forwarding rule on `region`'s default bus, tags it, and targets
    /// an event bus through a role (a cross-Region or cross-account bus target
    /// needs one).
    async fn put_forward_rule(
        &self,
        region: &str,
        name: &str,
        to: &ForwardTo,
        pattern: &serde_json::Value,
        bus_arn: &str,
        role_arn: &str,
    ) -> Result<(), FactError> {
        use aws_sdk_eventbridge::types::Target;
        let ev = aws_sdk_eventbridge::Client::new(&self.regional(region));
        put_tagged_rule(&ev, None, name, to.description, pattern).await?;
        let target = Target::builder()
            .id(to.target_id)
            .arn(bus_arn)
            .role_arn(role_arn)
            .build()
            .map_err(|e| build_err("events:PutTargets", e))?;
        let out = ev
            .put_targets()
            .rule(name)
            .targets(target)
            .send()
            .await
            .map_err(|e| classify("events:PutTargets", &e))?;
        failed_entries(out.failed_entry_count(), out.failed_entries())
    }

    /// Puts a rule on `bus` (the default bus when `None`) in us-east-1, tags it,
    /// and targets `topic_arn` through the readable-message input transformer.
    pub(super) async fn put_rule_to_topic(&self, rule: RuleToTopic<'_>) -> Result<(), FactError> {
        use aws_sdk_eventbridge::types::{InputTransformer, Target};
        let RuleToTopic {
            bus,
            name,
            description,
            pattern,
            topic_arn,
            target_id,
            paths,
            template,
        } = rule;
        let ev =
            aws_sdk_eventbridge::Client::new(&self.regional(crate::domain::realtime::RULE_REGION));
        put_tagged_rule(&ev, bus, name, description, pattern).await?;
        let transformer = InputTransformer::builder()
            .set_input_paths_map(Some(
                paths.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            ))
            .input_template(template)
            .build()
            .map_err(|e| build_err("events:PutTargets", e))?;
        let target = Target::builder()
            .id(target_id)
            .arn(topic_arn)
            .input_transformer(transformer)
            .build()
            .map_err(|e| build_err("events:PutTargets", e))?;
        let out = ev
            .put_targets()
            .rule(name)
            .set_event_bus_name(bus.map(str::to_string))
            .targets(target)
            .send()
            .await
            .map_err(|e| classify("events:PutTargets", &e))?;
        failed_entries(out.failed_entry_count(), out.failed_entries())
    }

    /// Removes rootguard's target from a real-time rule (a kind's in
    /// us-east-1, or a region's forwarding rule), then the rule.
    pub async fn delete_rule(&self, region: &str, name: &str) -> Result<(), FactError> {
        let target = if name == crate::domain::realtime::FORWARD_RULE {
            crate::domain::realtime::FORWARD_TARGET_ID
        } else {
            crate::domain::realtime::TARGET_ID
        };
        self.delete_rule_in(region, None, name, target).await
    }

    /// Removes `target_id` from a rule on `bus` in us-east-1, then the rule.
    pub(super) async fn delete_rule_on(
        &self,
        bus: Option<&str>,
        name: &str,
        target_id: &str,
    ) -> Result<(), FactError> {
        self.delete_rule_in(crate::domain::realtime::RULE_REGION, bus, name, target_id)
            .await
    }

    /// Removes the forwarding role's inline policy, then the role (absent is done).
    pub async fn delete_forward_role(&self, name: &str) -> Result<(), FactError> {
        let iam = aws_sdk_iam::Client::new(&self.config);
        match iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(name)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if super::service_code(&e) == Some("NoSuchEntity") => {}
            Err(e) => return Err(classify("iam:DeleteRolePolicy", &e)),
        }
        match iam.delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if super::service_code(&e) == Some("NoSuchEntity") => Ok(()),
            Err(e) => Err(classify("iam:DeleteRole", &e)),
        }
    }

    /// Removes `target_id` from a rule on `bus` in `region`, then the rule.
    pub(super) async fn delete_rule_in(
        &self,
        region: &str,
        bus: Option<&str>,
        name: &str,
        target_id: &str,
    ) -> Result<(), FactError> {
        let ev = aws_sdk_eventbridge::Client::new(&self.regional(region));
        let bus = bus.map(str::to_string);
        match ev
            .remove_targets()
            .rule(name)
            .set_event_bus_name(bus.clone())
            .ids(target_id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if super::service_code(&e) == Some("ResourceNotFoundException") => return Ok(()),
            Err(e) => return Err(classify("events:RemoveTargets", &e)),
        }
        match ev
            .delete_rule()
            .name(name)
            .set_event_bus_name(bus)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if super::service_code(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(classify("events:DeleteRule", &e)),
        }
    }

    /// Publishes one message to a topic (the real-time fire drill).
    pub async fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), FactError> {
        let region = topic_arn
            .split(':')
            .nth(3)
            .unwrap_or(super::FALLBACK_REGION);
        aws_sdk_sns::Client::new(&self.regional(region))
            .publish()
            .topic_arn(topic_arn)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("sns:Publish", &e))
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

    /// Stops the trail's logging (teardown's first step, so the bucket stops
    /// filling before it may be emptied). A trail already gone is done.
    pub async fn stop_logging(&self, region: &str, name: &str) -> Result<(), FactError> {
        match aws_sdk_cloudtrail::Client::new(&self.regional(region))
            .stop_logging()
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(super::service_code(&e), Some("TrailNotFoundException")) => Ok(()),
            Err(e) => Err(classify("cloudtrail:StopLogging", &e)),
        }
    }

    pub async fn delete_trail(&self, region: &str, name: &str) -> Result<(), FactError> {
        match aws_sdk_cloudtrail::Client::new(&self.regional(region))
            .delete_trail()
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if matches!(super::service_code(&e), Some("TrailNotFoundException")) => Ok(()),
            Err(e) => Err(classify("cloudtrail:DeleteTrail", &e)),
        }
    }

    pub async fn delete_log_group(&self, region: &str, name: &str) -> Result<(), FactError> {
        match aws_sdk_cloudwatchlogs::Client::new(&self.regional(region))
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if super::service_code(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(classify("logs:DeleteLogGroup", &e)),
        }
    }

    /// Empties the bucket (every object version and delete marker, 1,000 at
    /// a time) and deletes it. A bucket already gone is done; a stopped run
    /// is finished by the next.
    pub async fn empty_and_delete_bucket(&self, region: &str, name: &str) -> Result<(), FactError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let s3 = self.s3(region);
        let gone = |e: Option<&str>| e == Some("NoSuchBucket");
        loop {
            let page = match s3.list_object_versions().bucket(name).send().await {
                Ok(p) => p,
                Err(e) if gone(super::service_code(&e)) => return Ok(()),
                Err(e) => return Err(classify("s3:ListBucketVersions", &e)),
            };
            let ids: Vec<ObjectIdentifier> = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                )
                .filter_map(|(k, v)| {
                    ObjectIdentifier::builder()
                        .key(k?)
                        .set_version_id(v.filter(|v| *v != "null").map(str::to_string))
                        .build()
                        .ok()
                })
                .take(1000)
                .collect();
            if ids.is_empty() {
                break;
            }
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| build_err("s3:DeleteObject", e))?;
            let out = s3
                .delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify("s3:DeleteObject", &e))?;
            if let Some(err) = out.errors().first() {
                return Err(FactError::new(
                    "s3:DeleteObject",
                    crate::domain::facts::FactErrorKind::Error,
                    format!(
                        "{}: {} ({})",
                        err.code().unwrap_or("Error"),
                        err.message().unwrap_or(""),
                        err.key().unwrap_or("")
                    ),
                ));
            }
        }
        match s3.delete_bucket().bucket(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if gone(super::service_code(&e)) => Ok(()),
            Err(e) => Err(classify("s3:DeleteBucket", &e)),
        }
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

/// IAM calls of the MFA enroll flow.
pub struct IamMfa {
    iam: aws_sdk_iam::Client,
}

impl IamMfa {
    fn new(config: &SdkConfig) -> Self {
        IamMfa {
            iam: aws_sdk_iam::Client::new(config),
        }
    }
}

impl crate::domain::ports::MfaApi for IamMfa {
    async fn user_exists(&self, user: &str) -> Result<bool, FactError> {
        match self.iam.get_user().user_name(user).send().await {
            Ok(_) => Ok(true),
            Err(e) if super::service_code(&e) == Some("NoSuchEntity") => Ok(false),
            Err(e) => Err(classify("iam:GetUser", &e)),
        }
    }

    async fn create_device(
        &self,
        name: &str,
    ) -> Result<(String, crate::domain::ports::Seed), FactError> {
        let out = self
            .iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(name)
            .send()
            .await
            .map_err(|e| classify("iam:CreateVirtualMFADevice", &e))?;
        let device = out.virtual_mfa_device().ok_or_else(|| {
            build_err("iam:CreateVirtualMFADevice", "the answer carried no device")
        })?;
        let seed = device
            .base32_string_seed()
            .map(|b| zeroize::Zeroizing::new(String::from_utf8_lossy(b.as_ref()).into_owned()))
            .ok_or_else(|| build_err("iam:CreateVirtualMFADevice", "the answer carried no seed"))?;
        Ok((device.serial_number().to_string(), seed))
    }

    async fn enable(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), FactError> {
        self.iam
            .enable_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .authentication_code1(code1)
            .authentication_code2(code2)
            .send()
            .await
            .map_err(|e| classify("iam:EnableMFADevice", &e))?;
        Ok(())
    }

    async fn delete_device(&self, serial: &str) -> Result<(), FactError> {
        self.iam
            .delete_virtual_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .map_err(|e| classify("iam:DeleteVirtualMFADevice", &e))?;
        Ok(())
    }
}

impl Writer {
    /// Virtual MFA enrollment for IAM users.
    pub fn mfa(&self) -> IamMfa {
        IamMfa::new(&self.config)
    }

    /// `org harden`'s writes, as this caller.
    pub fn org(&self) -> super::org::OrgWriter {
        super::org::OrgWriter::new(&self.config)
    }
}

/// A rule on a bus in us-east-1 whose target is a topic, through the
/// readable-message input transformer.
pub(super) struct RuleToTopic<'a> {
    /// The default bus when `None`.
    pub bus: Option<&'a str>,
    pub name: &'a str,
    pub description: &'a str,
    pub pattern: &'a serde_json::Value,
    pub topic_arn: &'a str,
    pub target_id: &'a str,
    pub paths: &'a std::collections::BTreeMap<String, String>,
    pub template: &'a str,
}

/// Puts a rule in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` on
/// `bus` (the default bus when `None`), tagged; PutRule applies tags only on
/// create, so an update is tagged too.
async fn put_tagged_rule(
    ev: &aws_sdk_eventbridge::Client,
    bus: Option<&str>,
    name: &str,
    description: &str,
    pattern: &serde_json::Value,
) -> Result<(), FactError> {
    use aws_sdk_eventbridge::types::{RuleState, Tag};
    let tag = Tag::builder()
        .key(TAG_KEY)
        .value(TAG_VALUE)
        .build()
        .map_err(|e| build_err("events:PutRule", e))?;
    let put = ev
        .put_rule()
        .name(name)
        .set_event_bus_name(bus.map(str::to_string))
        .description(description)
        .event_pattern(pattern.to_string())
        .state(RuleState::EnabledWithAllCloudtrailManagementEvents)
        .tags(tag.clone())
        .send()
        .await
        .map_err(|e| classify("events:PutRule", &e))?;
    if let Some(arn) = put.rule_arn() {
        ev.tag_resource()
            .resource_arn(arn)
            .tags(tag)
            .send()
            .await
            .map_err(|e| classify("events:TagResource", &e))?;
    }
    Ok(())
}

/// `PutTargets` answers 200 with failed entries: each is an error.
fn failed_entries(
    count: i32,
    entries: &[aws_sdk_eventbridge::types::PutTargetsResultEntry],
) -> Result<(), FactError> {
    if count == 0 {
        return Ok(());
    }
    let why: Vec<String> = entries
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f.error_code().unwrap_or("?"),
                f.error_message().unwrap_or("")
            )
        })
        .collect();
    Err(build_err("events:PutTargets", why.join("; ")))
}

/// A root access key as the wizard shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootKey {
    pub id: String,
    pub active: bool,
    /// "2026-11-24T07:43:25Z via s3 in eu-west-1", or "never used".
    pub last_used: String,
}

impl Writer {
    /// `account:PutAlternateContact` for SECURITY.
    pub async fn put_security_contact(
        &self,
        c: &crate::domain::ports::ContactAnswer,
    ) -> Result<(), FactError> {
        aws_sdk_account::Client::new(&self.config)
            .put_alternate_contact()
            .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
            .name(&c.name)
            .title(&c.title)
            .email_address(&c.email)
            .phone_number(&c.phone)
            .send()
            .await
            .map_err(|e| classify("account:PutAlternateContact", &e))?;
        Ok(())
    }

    /// `account:PutContactInformation`.
    pub async fn put_contact_information(
        &self,
        c: &crate::domain::ports::ContactInfoAnswer,
    ) -> Result<(), FactError> {
        let info = aws_sdk_account::types::ContactInformation::builder()
            .full_name(&c.full_name)
            .address_line1(&c.address_line1)
            .city(&c.city)
            .postal_code(&c.postal_code)
            .country_code(&c.country_code)
            .phone_number(&c.phone)
            .build()
            .map_err(|e| build_err("account:PutContactInformation", e))?;
        aws_sdk_account::Client::new(&self.config)
            .put_contact_information()
            .contact_information(info)
            .send()
            .await
            .map_err(|e| classify("account:PutContactInformation", &e))?;
        Ok(())
    }

    /// The CIS password policy for IAM users: 14+ characters, 24 remembered,
    /// all character classes.
    pub async fn set_cis_password_policy(&self) -> Result<(), FactError> {
        aws_sdk_iam::Client::new(&self.config)
            .update_account_password_policy()
            .minimum_password_length(14)
            .password_reuse_prevention(24)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .require_numbers(true)
            .require_symbols(true)
            .allow_users_to_change_password(true)
            .send()
            .await
            .map_err(|e| classify("iam:UpdateAccountPasswordPolicy", &e))?;
        Ok(())
    }

    /// Root's own access keys (the caller must be root), with last use.
    pub async fn root_keys(&self) -> Result<Vec<RootKey>, FactError> {
        let keys = super::org::root_keys(&aws_sdk_iam::Client::new(&self.config)).await?;
        Ok(keys
            .into_iter()
            .map(|k| RootKey {
                last_used: match k.last_used {
                    Some(t) => format!(
                        "{} via {} in {}",
                        crate::domain::text::fmt_time(t),
                        k.last_used_service.as_deref().unwrap_or("N/A"),
                        k.last_used_region.as_deref().unwrap_or("N/A")
                    ),
                    None => "never used".into(),
                },
                id: k.id,
                active: k.active,
            })
            .collect())
    }

    /// Deactivates, then deletes, one of root's access keys.
    pub async fn delete_root_key(&self, id: &str) -> Result<(), FactError> {
        let iam = aws_sdk_iam::Client::new(&self.config);
        iam.update_access_key()
            .access_key_id(id)
            .status(aws_sdk_iam::types::StatusType::Inactive)
            .send()
            .await
            .map_err(|e| classify("iam:UpdateAccessKey", &e))?;
        iam.delete_access_key()
            .access_key_id(id)
            .send()
            .await
            .map_err(|e| classify("iam:DeleteAccessKey", &e))?;
        Ok(())
    }

    /// The access key id the caller signs with, if credentials resolve.
    pub async fn current_key_id(&self) -> Option<String> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self.config.credentials_provider()?;
        provider
            .provide_credentials()
            .await
            .ok()
            .map(|c| c.access_key_id().to_string())
    }
}

/// Creates rootguard's topic (policy, key, tag), or resets the policy and key
/// and tags an existing one.
async fn put_topic(
    sns: &aws_sdk_sns::Client,
    action: Action,
    name: &str,
    arn: &str,
    policy: &serde_json::Value,
    kms_key: Option<&str>,
) -> Result<(), FactError> {
    let tag = aws_sdk_sns::types::Tag::builder()
        .key(TAG_KEY)
        .value(TAG_VALUE)
        .build()
        .map_err(|e| build_err("sns:CreateTopic", e))?;
    if action == Action::Create {
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
        return Ok(());
    }
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
    Ok(())
}
