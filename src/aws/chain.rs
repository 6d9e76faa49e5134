//! The alarm chain and what deploy, teardown and the fire drill read of it:
//! trails (CloudTrail) → log groups and metric filters (CloudWatch Logs) →
//! alarms (CloudWatch) → topics and subscriptions (SNS), each SDK type
//! converted once (`filter_of`, `alarm_of`, `topic`) into `crate::domain::facts`
//! types; the `--create-trail` resources; log events for `events`. Reads only.

use super::account::percent_decode;
use super::{classify, service_code, to_offset, Reader, FALLBACK_REGION};
use crate::domain::facts::*;

// ------------------------------------------------------------ alarm chain

/// Region and name of a log group ARN (`arn:aws:logs:REGION:ACCT:log-group:NAME[:*]`).
pub fn parse_log_group_arn(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 7 && parts[0] == "arn" && parts[2] == "logs" && parts[5] == "log-group")
        .then(|| (parts[3].to_string(), parts[6].to_string()))
}

fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

impl Reader {
    /// `cloudtrail:DescribeTrails` with shadow trails: every trail that
    /// applies to this region, wherever its home.
    async fn all_trails(
        &self,
    ) -> Result<aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput, FactError>
    {
        aws_sdk_cloudtrail::Client::new(&self.config)
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| classify("cloudtrail:DescribeTrails", &e))
    }

    /// Trails (shadow trails included), each with status and selectors read
    /// in its home region, then every log group they deliver to with its
    /// filters, alarms and topics. Independent reads run concurrently.
    pub async fn alarm_chain(
        &self,
        account_id: impl std::future::Future<Output = Option<String>>,
    ) -> Fact<AlarmChainFacts> {
        let trails = self.trails().await?;
        self.log_groups_of(trails, account_id).await
    }

    /// Every trail that applies to this region (shadow trails included), each
    /// with its status and selectors read in its home region, concurrently.
    pub async fn trails(&self) -> Fact<Vec<Trail>> {
        let listed = self.all_trails().await?;
        Ok(
            futures::future::join_all(listed.trail_list().iter().map(|t| async move {
                let arn = t.trail_arn().unwrap_or_default().to_string();
                let home = t.home_region().unwrap_or(FALLBACK_REGION).to_string();
                let client = aws_sdk_cloudtrail::Client::new(&self.regional(&home));
                let (status, selectors) = tokio::join!(
                    client.get_trail_status().name(&arn).send(),
                    client.get_event_selectors().trail_name(&arn).send()
                );
                Trail {
                    name: t.name().unwrap_or_default().to_string(),
                    arn,
                    home_region: home,
                    multi_region: t.is_multi_region_trail().unwrap_or(false),
                    organization_trail: t.is_organization_trail().unwrap_or(false),
                    log_group_arn: t
                        .cloud_watch_logs_log_group_arn()
                        .filter(|a| !a.is_empty())
                        .map(str::to_string),
                    status: status
                        .map(|s| TrailStatus {
                            is_logging: s.is_logging().unwrap_or(false),
                            latest_cloudwatch_logs_delivery_error: s
                                .latest_cloud_watch_logs_delivery_error()
                                .map(str::to_string),
                        })
                        .map_err(|e| classify("cloudtrail:GetTrailStatus", &e)),
                    selectors: selectors
                        .map(|s| {
                            if !s.advanced_event_selectors().is_empty() {
                                EventSelectors::Advanced(
                                    s.advanced_event_selectors()
                                        .iter()
                                        .map(|a| AdvancedSelector {
                                            name: a.name().map(str::to_string),
                                            fields: a
                                                .field_selectors()
                                                .iter()
                                                .map(|f| AdvancedField {
                                                    field: f.field().to_string(),
                                                    equals: f.equals().to_vec(),
                                                    not_equals: f.not_equals().to_vec(),
                                                    starts_with: f.starts_with().to_vec(),
                                                    not_starts_with: f.not_starts_with().to_vec(),
                                                    ends_with: f.ends_with().to_vec(),
                                                    not_ends_with: f.not_ends_with().to_vec(),
                                                })
                                                .collect(),
                                        })
                                        .collect(),
                                )
                            } else {
                                EventSelectors::Basic(
                                    s.event_selectors()
                                        .iter()
                                        .map(|b| BasicSelector {
                                            read_write_type: b
                                                .read_write_type()
                                                .map(|r| r.as_str().to_string())
                                                .unwrap_or_else(|| "All".into()),
                                            include_management_events: b
                                                .include_management_events()
                                                .unwrap_or(true),
                                            exclude_management_event_sources: b
                                                .exclude_management_event_sources()
                                                .to_vec(),
                                        })
                                        .collect(),
                                )
                            }
                        })
                        .map_err(|e| classify("cloudtrail:GetEventSelectors", &e)),
                }
            }))
            .await,
        )
    }

    /// The chain behind `trails`: every log group they deliver to in this
    /// account, with its filters, alarms and topics, read concurrently.
    async fn log_groups_of(
        &self,
        trails: Vec<Trail>,
        account_id: impl std::future::Future<Output = Option<String>>,
    ) -> Fact<AlarmChainFacts> {
        // Log groups in other accounts (organization trails) cannot be read from here.
        let account_id = account_id.await.unwrap_or_default();
        let own = |arn: &String| {
            arn.split(':')
                .nth(4)
                .is_none_or(|a| a.is_empty() || account_id.is_empty() || a == account_id)
        };
        let mut arns: Vec<String> = trails
            .iter()
            .filter_map(|t| t.log_group_arn.clone())
            .filter(own)
            .collect();
        arns.sort();
        arns.dedup();
        let log_groups = futures::future::join_all(arns.iter().filter_map(|arn| {
            let (region, name) = parse_log_group_arn(arn)?;
            Some(self.log_group_chain(arn.clone(), region, name))
        }))
        .await;
        Ok(AlarmChainFacts {
            trails: Ok(trails),
            log_groups,
        })
    }

    async fn log_group_chain(&self, arn: String, region: String, name: String) -> LogGroupChain {
        let config = self.regional(&region);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let cw = aws_sdk_cloudwatch::Client::new(&config);
        let filters = match metric_filters(&logs, &name, None).await {
            Err(e) => Err(classify("logs:DescribeMetricFilters", &e)),
            Ok(raw) => Ok(futures::future::join_all(raw.iter().map(|f| {
                let cw = &cw;
                async move {
                    let alarms = futures::future::join_all(
                        f.metric_transformations()
                            .iter()
                            .map(|t| self.alarms_for(cw, t.metric_namespace(), t.metric_name())),
                    )
                    .await;
                    filter_of(f, alarms)
                }
            }))
            .await),
        };
        LogGroupChain {
            arn,
            name,
            region,
            filters,
        }
    }

    async fn alarms_for(
        &self,
        cw: &aws_sdk_cloudwatch::Client,
        namespace: &str,
        metric: &str,
    ) -> Fact<Vec<Alarm>> {
        let out = cw
            .describe_alarms_for_metric()
            .namespace(namespace)
            .metric_name(metric)
            .send()
            .await
            .map_err(|e| classify("cloudwatch:DescribeAlarmsForMetric", &e))?;
        Ok(
            futures::future::join_all(out.metric_alarms().iter().map(|a| async move {
                let topics = futures::future::join_all(
                    a.alarm_actions()
                        .iter()
                        .filter(|x| x.starts_with("arn:") && x.split(':').nth(2) == Some("sns"))
                        .map(|arn| self.topic(arn)),
                )
                .await;
                alarm_of(a, topics)
            }))
            .await,
        )
    }

    pub(super) async fn topic(&self, arn: &str) -> Topic {
        let sns =
            aws_sdk_sns::Client::new(&self.regional(arn_region(arn).unwrap_or(FALLBACK_REGION)));
        let (attrs, subs) = tokio::join!(
            sns.get_topic_attributes().topic_arn(arn).send(),
            sns.list_subscriptions_by_topic()
                .topic_arn(arn)
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>()
        );
        let (exists, attributes) = match attrs {
            Ok(a) => (Ok(true), a.attributes().cloned().unwrap_or_default()),
            Err(e) if matches!(service_code(&e), Some("NotFound" | "NotFoundException")) => {
                (Ok(false), Default::default())
            }
            Err(e) => (
                Err(classify("sns:GetTopicAttributes", &e)),
                Default::default(),
            ),
        };
        let subscriptions = match subs.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(list) => Ok(list
                .iter()
                .map(|s| Subscription {
                    protocol: s.protocol().unwrap_or_default().to_string(),
                    endpoint: s.endpoint().unwrap_or_default().to_string(),
                    arn: s.subscription_arn().unwrap_or_default().to_string(),
                })
                .collect()),
            Err(e) if matches!(service_code(&e), Some("NotFound" | "NotFoundException")) => {
                Ok(vec![])
            }
            Err(e) => Err(classify("sns:ListSubscriptionsByTopic", &e)),
        };
        Topic {
            arn: arn.to_string(),
            exists,
            subscriptions,
            policy: attributes
                .get("Policy")
                .and_then(|p| serde_json::from_str(p).ok()),
            kms_key: attributes
                .get("KmsMasterKeyId")
                .filter(|k| !k.is_empty())
                .cloned(),
        }
    }
}

/// `logs:DescribeMetricFilters` on one log group, every page; with `prefix`,
/// only the filters whose name starts with it.
async fn metric_filters(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    prefix: Option<&str>,
) -> Result<
    Vec<aws_sdk_cloudwatchlogs::types::MetricFilter>,
    aws_sdk_cloudwatchlogs::error::SdkError<
        aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersError,
    >,
> {
    let pages: Vec<_> = logs
        .describe_metric_filters()
        .log_group_name(log_group)
        .set_filter_name_prefix(prefix.map(str::to_string))
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok(pages
        .iter()
        .flat_map(|p| p.metric_filters().iter().cloned())
        .collect())
}

/// The one conversion of a metric filter, with the alarms read for each of
/// its metrics (in order).
fn filter_of(
    f: &aws_sdk_cloudwatchlogs::types::MetricFilter,
    alarms: Vec<Fact<Vec<Alarm>>>,
) -> MetricFilter {
    MetricFilter {
        name: f.filter_name().unwrap_or_default().to_string(),
        pattern: f.filter_pattern().unwrap_or_default().to_string(),
        metrics: f
            .metric_transformations()
            .iter()
            .zip(alarms)
            .map(|(t, alarms)| FilterMetric {
                namespace: t.metric_namespace().to_string(),
                name: t.metric_name().to_string(),
                value: t.metric_value().to_string(),
                dimensions: t
                    .dimensions()
                    .map(|d| d.keys().cloned().collect())
                    .unwrap_or_default(),
                alarms,
            })
            .collect(),
    }
}

/// The one conversion of a CloudWatch alarm, with its SNS actions' topics.
fn alarm_of(a: &aws_sdk_cloudwatch::types::MetricAlarm, topics: Vec<Topic>) -> Alarm {
    Alarm {
        arn: a.alarm_arn().unwrap_or_default().to_string(),
        name: a.alarm_name().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        metric_name: a.metric_name().unwrap_or_default().to_string(),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        period: a.period(),
        threshold: a.threshold(),
        comparison: a.comparison_operator().map(|c| c.as_str().to_string()),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| d.name().unwrap_or_default().to_string())
            .collect(),
        actions_enabled: a.actions_enabled().unwrap_or(false),
        alarm_actions: a.alarm_actions().to_vec(),
        topics,
        state: a.state_value().map(|s| s.as_str().to_string()),
        state_updated: a.state_updated_timestamp().and_then(to_offset),
        treat_missing_data: a.treat_missing_data().map(str::to_string),
        description: a.alarm_description().map(str::to_string),
    }
}

// ------------------------------------------------------------ deploy reads

impl Reader {
    /// Which of `--create-trail`'s resources exist, in `region`.
    pub async fn trail_infra(
        &self,
        account_id: &str,
        region: &str,
        bucket_name: &str,
    ) -> Result<crate::domain::deploy::TrailInfraState, FactError> {
        use crate::domain::deploy::*;
        let config = self.regional(region);
        let s3 = super::s3_client(&config);
        let iam = aws_sdk_iam::Client::new(&config);
        let ct = aws_sdk_cloudtrail::Client::new(&config);
        let (bucket, log_group, role, role_policy, trail) = tokio::join!(
            s3.head_bucket()
                .bucket(bucket_name)
                .expected_bucket_owner(account_id)
                .send(),
            self.log_group_exists(region, TRAIL_LOG_GROUP),
            iam.get_role().role_name(TRAIL_ROLE).send(),
            iam.get_role_policy()
                .role_name(TRAIL_ROLE)
                .policy_name(TRAIL_ROLE)
                .send(),
            ct.describe_trails()
                .trail_name_list(TRAIL_NAME)
                .include_shadow_trails(false)
                .send(),
        );
        let bucket = match bucket {
            Ok(_) => true,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
            // The name is predictable: a bucket of that name in another account is never adopted.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                return Err(FactError::new(
                    "s3:ListBucket",
                    FactErrorKind::AccessDenied,
                    format!(
                        "the S3 bucket name {bucket_name} belongs to another AWS account, not {account_id} \
                         (ExpectedBucketOwner refused): rootguard will not deliver your trail to it. \
                         Name a bucket of your own with --trail-bucket NAME (created if it does not exist, \
                         owner-checked the same way; `rootguard policy setup --trail-bucket NAME` allows it), or use an existing trail with --log-group"
                    ),
                ))
            }
            Err(e) => return Err(classify("s3:ListBucket", &e)),
        };
        let (bucket_policy, bucket_public_access_blocked, bucket_tagged) = if bucket {
            let (policy, pab, tags) = tokio::join!(
                s3.get_bucket_policy()
                    .bucket(bucket_name)
                    .expected_bucket_owner(account_id)
                    .send(),
                s3.get_public_access_block()
                    .bucket(bucket_name)
                    .expected_bucket_owner(account_id)
                    .send(),
                s3.get_bucket_tagging()
                    .bucket(bucket_name)
                    .expected_bucket_owner(account_id)
                    .send(),
            );
            let absent =
                |code: Option<&str>, codes: &[&str]| code.is_some_and(|c| codes.contains(&c));
            let policy = match policy {
                Ok(p) => p.policy().and_then(|p| serde_json::from_str(p).ok()),
                Err(e) if absent(service_code(&e), &["NoSuchBucketPolicy"]) => None,
                Err(e) => return Err(classify("s3:GetBucketPolicy", &e)),
            };
            let pab = match pab {
                Ok(p) => p.public_access_block_configuration().is_some_and(|c| {
                    c.block_public_acls() == Some(true)
                        && c.ignore_public_acls() == Some(true)
                        && c.block_public_policy() == Some(true)
                        && c.restrict_public_buckets() == Some(true)
                }),
                Err(e) if absent(service_code(&e), &["NoSuchPublicAccessBlockConfiguration"]) => {
                    false
                }
                Err(e) => return Err(classify("s3:GetBucketPublicAccessBlock", &e)),
            };
            let tagged = match tags {
                Ok(t) => t
                    .tag_set()
                    .iter()
                    .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE),
                Err(e) if absent(service_code(&e), &["NoSuchTagSet", "NoSuchTagSetError"]) => false,
                Err(e) => return Err(classify("s3:GetBucketTagging", &e)),
            };
            (policy, pab, tagged)
        } else {
            (None, false, false)
        };
        let (role, role_tagged) = match role {
            Ok(r) => (
                true,
                r.role().is_some_and(|r| {
                    r.tags()
                        .iter()
                        .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE)
                }),
            ),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => (false, false),
            Err(e) => return Err(classify("iam:GetRole", &e)),
        };
        let role_policy = match role_policy {
            Ok(p) => {
                let doc = p.policy_document();
                let decoded = percent_decode(doc);
                serde_json::from_str(&decoded)
                    .ok()
                    .or_else(|| serde_json::from_str(doc).ok())
            }
            Err(e) if service_code(&e) == Some("NoSuchEntity") => None,
            Err(e) => return Err(classify("iam:GetRolePolicy", &e)),
        };
        let trail = trail
            .map_err(|e| classify("cloudtrail:DescribeTrails", &e))?
            .trail_list()
            .iter()
            .find(|t| t.name() == Some(TRAIL_NAME))
            .map(|t| t.log_file_validation_enabled().unwrap_or(false));
        let trail_logging = if trail.is_some() {
            ct.get_trail_status()
                .name(TRAIL_NAME)
                .send()
                .await
                .map_err(|e| classify("cloudtrail:GetTrailStatus", &e))?
                .is_logging()
                .unwrap_or(false)
        } else {
            false
        };
        Ok(TrailInfraState {
            bucket,
            bucket_policy,
            bucket_public_access_blocked,
            bucket_tagged,
            log_group: log_group?,
            role,
            role_policy,
            role_tagged,
            trail: trail.is_some(),
            trail_logging,
            trail_log_file_validation: trail.unwrap_or(false),
        })
    }

    /// What `deploy --create-trail` built, as teardown sees it: the trail
    /// (found wherever its home region is), its role, the log groups named
    /// `rootguard-cloudtrail` in `regions` and the trail's region, and the
    /// trail's bucket (its own, or rootguard's default name in each of those
    /// regions), each with whether it carries `managed-by=rootguard`.
    /// Another account's bucket of the default name is never reported.
    pub async fn created_trail(
        &self,
        account_id: &str,
        regions: &[String],
    ) -> Result<crate::domain::deploy::CreatedTrail, FactError> {
        use crate::domain::deploy::{
            trail_bucket, TAG_KEY, TAG_VALUE, TRAIL_LOG_GROUP, TRAIL_NAME, TRAIL_ROLE,
        };
        use crate::domain::deploy::{BucketSeen, CreatedTrail, TrailSeen};
        let listed = self.all_trails().await?;
        let found = listed
            .trail_list()
            .iter()
            .find(|t| t.name() == Some(TRAIL_NAME))
            .cloned();
        let trail = match found {
            None => None,
            Some(t) => {
                let region = t
                    .home_region()
                    .map(str::to_string)
                    .unwrap_or_else(|| self.region());
                let arn = t.trail_arn().unwrap_or_default().to_string();
                let ct = aws_sdk_cloudtrail::Client::new(&self.regional(&region));
                let (tags, status) = tokio::join!(
                    ct.list_tags().resource_id_list(&arn).send(),
                    ct.get_trail_status().name(&arn).send()
                );
                let tagged = tags
                    .map_err(|e| classify("cloudtrail:ListTags", &e))?
                    .resource_tag_list()
                    .iter()
                    .flat_map(|r| r.tags_list())
                    .any(|t| t.key() == TAG_KEY && t.value() == Some(TAG_VALUE));
                let logging = status
                    .map_err(|e| classify("cloudtrail:GetTrailStatus", &e))?
                    .is_logging()
                    .unwrap_or(false);
                Some(TrailSeen {
                    region,
                    tagged,
                    logging,
                    bucket: t.s3_bucket_name().map(str::to_string),
                    log_group_region: t
                        .cloud_watch_logs_log_group_arn()
                        .and_then(parse_log_group_arn)
                        .map(|(r, _)| r),
                })
            }
        };
        let mut where_: Vec<String> = regions.to_vec();
        for r in trail
            .iter()
            .flat_map(|t| [Some(t.region.clone()), t.log_group_region.clone()])
            .flatten()
        {
            if !where_.contains(&r) {
                where_.push(r);
            }
        }
        let iam = aws_sdk_iam::Client::new(&self.config);
        let role = async {
            match iam.get_role().role_name(TRAIL_ROLE).send().await {
                Ok(r) => Ok(Some(r.role().is_some_and(|r| {
                    r.tags()
                        .iter()
                        .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE)
                }))),
                Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(None),
                Err(e) => Err(classify("iam:GetRole", &e)),
            }
        };
        let groups = futures::future::try_join_all(where_.iter().map(|region| async move {
            if !self.log_group_exists(region, TRAIL_LOG_GROUP).await? {
                return Ok::<_, FactError>(None);
            }
            let arn = format!("arn:aws:logs:{region}:{account_id}:log-group:{TRAIL_LOG_GROUP}");
            let tags = aws_sdk_cloudwatchlogs::Client::new(&self.regional(region))
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| classify("logs:ListTagsForResource", &e))?;
            let tagged = tags
                .tags()
                .is_some_and(|t| t.get(TAG_KEY).map(String::as_str) == Some(TAG_VALUE));
            Ok(Some((region.clone(), tagged)))
        }));
        let mut names: Vec<(String, String)> = where_
            .iter()
            .map(|r| (trail_bucket(account_id, r), r.clone()))
            .collect();
        if let Some(b) = trail.as_ref().and_then(|t| t.bucket.clone()) {
            if !names.iter().any(|(n, _)| n == &b) {
                names.push((b, self.region()));
            }
        }
        let buckets =
            futures::future::try_join_all(names.iter().map(|(name, region)| async move {
                let config = self.regional(region);
                let s3 = super::s3_client(&config);
                let head = match s3
                    .head_bucket()
                    .bucket(name)
                    .expected_bucket_owner(account_id)
                    .send()
                    .await
                {
                    Ok(h) => h,
                    // Absent, or another account's (ExpectedBucketOwner refused).
                    Err(e)
                        if e.raw_response()
                            .is_some_and(|r| matches!(r.status().as_u16(), 403 | 404)) =>
                    {
                        return Ok::<_, FactError>(None)
                    }
                    Err(e) => return Err(classify("s3:ListBucket", &e)),
                };
                let tagged = match s3
                    .get_bucket_tagging()
                    .bucket(name)
                    .expected_bucket_owner(account_id)
                    .send()
                    .await
                {
                    Ok(t) => t
                        .tag_set()
                        .iter()
                        .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE),
                    Err(e)
                        if matches!(
                            service_code(&e),
                            Some("NoSuchTagSet" | "NoSuchTagSetError")
                        ) =>
                    {
                        false
                    }
                    Err(e) => return Err(classify("s3:GetBucketTagging", &e)),
                };
                Ok(Some(BucketSeen {
                    name: name.clone(),
                    region: head
                        .bucket_region()
                        .map(str::to_string)
                        .unwrap_or_else(|| region.clone()),
                    tagged,
                }))
            }));
        let (role, groups, buckets) = tokio::try_join!(role, groups, buckets)?;
        Ok(CreatedTrail {
            trail,
            role,
            log_groups: groups.into_iter().flatten().collect(),
            buckets: buckets.into_iter().flatten().collect(),
        })
    }

    /// Regions of the log groups that trails (shadow trails included)
    /// deliver to: where an alarm chain may live.
    pub async fn trail_log_group_regions(&self) -> Result<Vec<String>, FactError> {
        let listed = self.all_trails().await?;
        let mut out: Vec<String> = listed
            .trail_list()
            .iter()
            .filter_map(|t| t.cloud_watch_logs_log_group_arn())
            .filter_map(parse_log_group_arn)
            .map(|(region, _)| region)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    pub fn region(&self) -> String {
        self.config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| FALLBACK_REGION.into())
    }

    /// Whether a log group of exactly this name exists in `region`.
    pub async fn log_group_exists(&self, region: &str, name: &str) -> Result<bool, FactError> {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&self.regional(region));
        let out = logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(|e| classify("logs:DescribeLogGroups", &e))?;
        Ok(out
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(name)))
    }

    /// A topic as deploy sees it: the chain reader's topic and its tags;
    /// `None` when it does not exist.
    pub async fn topic_state(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<crate::domain::deploy::TopicState>, FactError> {
        let topic = self.topic(arn).await;
        if topic.exists != Ok(true) {
            return crate::domain::deploy::TopicState::from_facts(topic, &[]);
        }
        let sns = aws_sdk_sns::Client::new(&self.regional(region));
        let tags = sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| classify("sns:ListTagsForResource", &e))?;
        let tags: Vec<(String, String)> = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        crate::domain::deploy::TopicState::from_facts(topic, &tags)
    }

    /// rootguard's metric filter on `log_group` in `region`; `None` when it
    /// or the log group does not exist (`--create-trail` creates the group).
    pub async fn rootguard_filter(
        &self,
        region: &str,
        log_group: &str,
    ) -> Result<Option<crate::domain::deploy::FilterState>, FactError> {
        use crate::domain::deploy::{FilterState, FILTER_NAME};
        let logs = aws_sdk_cloudwatchlogs::Client::new(&self.regional(region));
        let listed = match metric_filters(&logs, log_group, Some(FILTER_NAME)).await {
            Ok(listed) => listed,
            Err(e) if service_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(classify("logs:DescribeMetricFilters", &e)),
        };
        Ok(listed
            .iter()
            .find(|f| f.filter_name() == Some(FILTER_NAME))
            .map(|f| {
                let not_read = f
                    .metric_transformations()
                    .iter()
                    .map(|_| {
                        Err(FactError::not_collected(
                            "cloudwatch:DescribeAlarmsForMetric",
                        ))
                    })
                    .collect();
                FilterState::from_facts(&filter_of(f, not_read))
            }))
    }

    /// What rootguard's alarm chain looks like now on `log_group` in `region`.
    pub async fn deploy_state(
        &self,
        account_id: &str,
        region: &str,
        log_group: Option<&str>,
    ) -> Result<crate::domain::deploy::DeployState, FactError> {
        use crate::domain::deploy::*;
        let config = self.regional(region);
        let cw = aws_sdk_cloudwatch::Client::new(&config);
        let arn = topic_arn(region, account_id);
        let topic = self.topic_state(region, &arn);
        let filter = async {
            match log_group {
                Some(lg) => self.rootguard_filter(region, lg).await,
                None => Ok(None),
            }
        };
        let alarm = async {
            let Some(alarm) = self.alarm_named(region, ALARM_NAME).await? else {
                return Ok(None);
            };
            let tags = cw
                .list_tags_for_resource()
                .resource_arn(&alarm.arn)
                .send()
                .await
                .map_err(|e| classify("cloudwatch:ListTagsForResource", &e))?;
            let tags: Vec<(String, String)> = tags
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            Ok(Some(AlarmState::from_facts(&alarm, &tags)))
        };
        let rules = async {
            if region == crate::domain::realtime::RULE_REGION {
                let (rules, forwarding) =
                    tokio::join!(self.realtime_rules_state(), self.forwarding_state());
                Ok((rules?, forwarding?))
            } else {
                Ok(Default::default())
            }
        };
        let alias = async {
            if region != crate::domain::realtime::RULE_REGION {
                return Ok(None);
            }
            aws_sdk_iam::Client::new(&self.config)
                .list_account_aliases()
                .send()
                .await
                .map(|o| o.account_aliases().first().cloned())
                .map_err(|e| classify("iam:ListAccountAliases", &e))
        };
        let (topic, filter, alarm, rules, alias) = tokio::join!(topic, filter, alarm, rules, alias);
        let (rules, forwarding) = rules?;
        Ok(DeployState {
            account_id: account_id.to_string(),
            region: region.to_string(),
            log_group: log_group.unwrap_or_default().to_string(),
            topic: topic?,
            filter: filter?,
            alarm: alarm?,
            trail_infra: None,
            rules,
            forwarding,
            realtime_topic: None,
            account_alias: alias?,
        })
    }
}

impl Reader {
    /// Subscriptions of a topic, for the fire drill's report.
    pub async fn topic_facts(&self, arn: &str) -> Topic {
        self.topic(arn).await
    }

    /// The SNS actions of an alarm, or `None` if there is no such alarm.
    pub async fn alarm_actions(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<Vec<String>>, FactError> {
        Ok(self
            .alarm_named(region, name)
            .await?
            .map(|a| a.alarm_actions))
    }

    /// One alarm by name (`cloudwatch:DescribeAlarms`), through the chain
    /// reader's one conversion; its topics are not read.
    pub async fn alarm_named(&self, region: &str, name: &str) -> Fact<Option<Alarm>> {
        let out = aws_sdk_cloudwatch::Client::new(&self.regional(region))
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| classify("cloudwatch:DescribeAlarms", &e))?;
        Ok(out.metric_alarms().first().map(|a| alarm_of(a, Vec::new())))
    }

    /// `logs:FilterLogEvents` with a pattern since `start_ms`, all pages:
    /// (timestamp ms, message).
    pub async fn log_events(
        &self,
        region: &str,
        log_group: &str,
        pattern: &str,
        start_ms: i64,
    ) -> Result<Vec<(i64, String)>, FactError> {
        let pages: Vec<_> = aws_sdk_cloudwatchlogs::Client::new(&self.regional(region))
            .filter_log_events()
            .log_group_name(log_group)
            .filter_pattern(pattern)
            .start_time(start_ms)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut out = Vec::new();
        for page in pages {
            let page = page.map_err(|e| classify("logs:FilterLogEvents", &e))?;
            out.extend(page.events().iter().map(|e| {
                (
                    e.timestamp().unwrap_or_default(),
                    e.message().unwrap_or_default().to_string(),
                )
            }));
        }
        Ok(out)
    }
}
