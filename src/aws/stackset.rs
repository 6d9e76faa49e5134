//! `deploy --org` and `teardown --org` against AWS: the hub (event bus, its
//! organization-only policy, the hub rule, the topic) in the caller's account
//! in us-east-1, and the service-managed StackSet with its instances.
//!
//! Reads return `crate::domain::orgdeploy` types; writes apply `OrgStep`s. StackSet
//! operations are polled with exponential backoff, never a fixed sleep. It
//! must not decide what to change: that is `orgdeploy::plan`.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    AccountFilterType, AutoDeployment, Capability, DeploymentTargets, Parameter, PermissionModels,
    RegionConcurrencyType, StackSetOperationPreferences, StackSetOperationStatus, Tag,
};

use super::{classify, service_code, Reader, Writer};
use crate::domain::deploy::{Action, RuleState, Step, TAG_KEY, TAG_VALUE};
use crate::domain::facts::{FactError, FactErrorKind};
use crate::domain::orgdeploy::*;
use crate::domain::realtime::RULE_REGION;

impl Reader {
    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.regional(RULE_REGION))
    }

    /// The organization root's id (`r-…`), the default StackSet target.
    pub async fn org_root_id(&self) -> Result<String, FactError> {
        let org = aws_sdk_organizations::Client::new(&self.config);
        let out = org
            .list_roots()
            .send()
            .await
            .map_err(|e| classify("organizations:ListRoots", &e))?;
        out.roots()
            .first()
            .and_then(|r| r.id())
            .map(str::to_string)
            .ok_or_else(|| {
                FactError::new("organizations:ListRoots", FactErrorKind::Error, "no root")
            })
    }

    /// The hub as it is now.
    pub async fn hub_state(
        &self,
        account_id: &str,
        regions: &[String],
    ) -> Result<HubState, FactError> {
        let ev = self.events();
        let bus = async {
            match ev.describe_event_bus().name(HUB_BUS_NAME).send().await {
                Ok(b) => Ok((true, b.policy().and_then(|p| serde_json::from_str(p).ok()))),
                Err(e) if service_code(&e) == Some("ResourceNotFoundException") => {
                    Ok((false, None))
                }
                Err(e) => Err(classify("events:DescribeEventBus", &e)),
            }
        };
        let rules =
            futures::future::join_all(crate::domain::realtime::KINDS.iter().map(|k| async move {
                let name = hub_rule_name(k);
                (
                    name,
                    self.rule_state(Some(HUB_BUS_NAME), name, HUB_TARGET_ID)
                        .await,
                )
            }));
        let topic_arn = hub_topic_arn(account_id);
        let topic = self.topic_state(RULE_REGION, &topic_arn);
        let forwarding = self.forwarding_state_of(
            regions.to_vec(),
            MGMT_FORWARD_RULE,
            MGMT_FORWARD_TARGET_ID,
            MGMT_FORWARD_ROLE,
        );
        let (bus, rules, topic, forwarding) = tokio::join!(bus, rules, topic, forwarding);
        let (bus_exists, bus_policy) = bus?;
        let mut by_name = std::collections::BTreeMap::new();
        if bus_exists {
            for (name, r) in rules {
                if let Some(r) = r? {
                    by_name.insert(name.to_string(), r);
                }
            }
        }
        Ok(HubState {
            bus_exists,
            bus_policy,
            rules: by_name,
            topic: topic?,
            forwarding: forwarding?,
        })
    }

    /// A rule on `bus` (the default bus when `None`) in us-east-1, as deploy sees it.
    pub(super) async fn rule_state(
        &self,
        bus: Option<&str>,
        name: &str,
        target_id: &str,
    ) -> Result<Option<RuleState>, FactError> {
        self.rule_state_in(RULE_REGION, bus, name, target_id).await
    }

    /// A rule on `bus` (the default bus when `None`) in `region`.
    pub(super) async fn rule_state_in(
        &self,
        region: &str,
        bus: Option<&str>,
        name: &str,
        target_id: &str,
    ) -> Result<Option<RuleState>, FactError> {
        let ev = aws_sdk_eventbridge::Client::new(&self.regional(region));
        let rule = match ev
            .describe_rule()
            .name(name)
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if service_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(classify("events:DescribeRule", &e)),
        };
        let arn = rule.arn().unwrap_or_default().to_string();
        let (targets, tags) = tokio::join!(
            ev.list_targets_by_rule()
                .rule(name)
                .set_event_bus_name(bus.map(str::to_string))
                .send(),
            ev.list_tags_for_resource().resource_arn(&arn).send()
        );
        let targets = targets.map_err(|e| classify("events:ListTargetsByRule", &e))?;
        let tags = tags.map_err(|e| classify("events:ListTagsForResource", &e))?;
        let target = targets.targets().iter().find(|t| t.id() == target_id);
        Ok(Some(RuleState {
            pattern: rule
                .event_pattern()
                .and_then(|p| serde_json::from_str(p).ok()),
            enabled: rule
                .state()
                .is_some_and(|s| s.as_str().starts_with("ENABLED")),
            read_only_events: rule.state().map(|s| s.as_str())
                == Some(crate::domain::realtime::RULE_STATE),
            target_arn: target.map(|t| t.arn().to_string()),
            target_role: target.and_then(|t| t.role_arn()).map(str::to_string),
            input_paths: target
                .and_then(|t| t.input_transformer())
                .and_then(|i| i.input_paths_map())
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            input_template: target
                .and_then(|t| t.input_transformer())
                .map(|i| i.input_template().to_string()),
            tagged: tags
                .tags()
                .iter()
                .any(|t| t.key() == TAG_KEY && t.value() == TAG_VALUE),
        }))
    }

    /// The StackSet and its instances (all pages).
    pub async fn stackset_state(&self) -> Result<StackSetState, FactError> {
        let cfn = self.cfn();
        let described = match cfn
            .describe_stack_set()
            .stack_set_name(STACKSET_NAME)
            .send()
            .await
        {
            Ok(d) => d,
            Err(e) if service_code(&e) == Some("StackSetNotFoundException") => {
                return Ok(StackSetState::default())
            }
            Err(e) => return Err(classify("cloudformation:DescribeStackSet", &e)),
        };
        let Some(ss) = described.stack_set() else {
            return Ok(StackSetState::default());
        };
        let instances = stack_instances(&cfn).await?;
        Ok(StackSetState {
            exists: true,
            auto_deployment: ss
                .auto_deployment()
                .and_then(|a| a.enabled())
                .unwrap_or(false),
            template_matches: ss.template_body().map(str::trim) == Some(SPOKE_TEMPLATE.trim()),
            hub_parameter: ss
                .parameters()
                .iter()
                .find(|p| p.parameter_key() == Some(SPOKE_PARAMETER))
                .and_then(|p| p.parameter_value())
                .map(str::to_string),
            tagged: ss
                .tags()
                .iter()
                .any(|t| t.key() == Some(TAG_KEY) && t.value() == Some(TAG_VALUE)),
            instances,
        })
    }
}

/// Every instance of the spoke StackSet (all pages), with AWS's status,
/// detailed status and reason.
async fn stack_instances(
    cfn: &aws_sdk_cloudformation::Client,
) -> Result<Vec<StackInstance>, FactError> {
    let mut instances = Vec::new();
    let mut pages = cfn
        .list_stack_instances()
        .stack_set_name(STACKSET_NAME)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("cloudformation:ListStackInstances", &e))?;
        for i in page.summaries() {
            instances.push(StackInstance {
                account: i.account().unwrap_or_default().to_string(),
                region: i.region().unwrap_or_default().to_string(),
                status: i
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                detailed: i
                    .stack_instance_status()
                    .and_then(|d| d.detailed_status())
                    .map(|d| d.as_str().to_string())
                    .unwrap_or_default(),
                reason: i.status_reason().map(str::to_string),
            });
        }
    }
    Ok(instances)
}

/// Our operation preferences as the SDK's: `MaxConcurrentPercentage`,
/// `FailureTolerancePercentage`, `SOFT_FAILURE_TOLERANCE`, regions in parallel.
fn preferences(p: &OperationPreferences) -> StackSetOperationPreferences {
    StackSetOperationPreferences::builder()
        .max_concurrent_percentage(i32::from(p.max_concurrent_percentage))
        .failure_tolerance_percentage(i32::from(p.failure_tolerance_percentage))
        .concurrency_mode(aws_sdk_cloudformation::types::ConcurrencyMode::SoftFailureTolerance)
        .region_concurrency_type(RegionConcurrencyType::Parallel)
        .build()
}

/// How long to wait for a StackSet operation.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(1800);

impl Writer {
    fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.regional(RULE_REGION))
    }

    fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.regional(RULE_REGION))
    }

    /// Applies one `deploy --org` step. `tick` is called while a StackSet
    /// operation runs, with its status.
    pub async fn apply_org(
        &self,
        step: &OrgStep,
        tick: &(dyn Fn(&str) + Sync),
    ) -> Result<(), FactError> {
        if step.action() == Action::NoOp {
            return Ok(());
        }
        match step {
            OrgStep::TrustedAccess { principal, .. } => {
                aws_sdk_organizations::Client::new(&self.config)
                    .enable_aws_service_access()
                    .service_principal(principal)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("organizations:EnableAWSServiceAccess", &e))
            }
            OrgStep::HubTopic {
                action,
                arn,
                policy,
                changes,
            } => {
                self.apply(
                    RULE_REGION,
                    &Step::Topic {
                        action: *action,
                        name: HUB_TOPIC_NAME.into(),
                        arn: arn.clone(),
                        policy: policy.clone(),
                        kms_key: None,
                        changes: changes.clone(),
                    },
                )
                .await
            }
            OrgStep::HubSubscription {
                action,
                topic_arn,
                email,
            } => {
                self.apply(
                    RULE_REGION,
                    &Step::Subscription {
                        action: *action,
                        topic_arn: topic_arn.clone(),
                        email: email.clone(),
                    },
                )
                .await
            }
            OrgStep::HubBus { name, policy, .. } => {
                let ev = self.events();
                let tag = aws_sdk_eventbridge::types::Tag::builder()
                    .key(TAG_KEY)
                    .value(TAG_VALUE)
                    .build()
                    .map_err(|e| super::write::build_err("events:CreateEventBus", e))?;
                match ev.create_event_bus().name(name).tags(tag).send().await {
                    Ok(_) => {}
                    Err(e) if service_code(&e) == Some("ResourceAlreadyExistsException") => {}
                    Err(e) => return Err(classify("events:CreateEventBus", &e)),
                }
                ev.put_permission()
                    .event_bus_name(name)
                    .policy(policy.to_string())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("events:PutPermission", &e))
            }
            OrgStep::Forward(f) => self.put_forward(f).await,
            OrgStep::HubRule {
                name,
                bus,
                what,
                pattern,
                topic_arn,
                input_paths,
                input_template,
                ..
            } => {
                self.put_rule_to_topic(super::write::RuleToTopic {
                    bus: Some(bus),
                    name,
                    description: &format!(
                        "rootguard: {what} from every member account, to the hub topic"
                    ),
                    pattern,
                    topic_arn,
                    target_id: HUB_TARGET_ID,
                    paths: input_paths,
                    template: input_template,
                })
                .await
            }
            OrgStep::StackSet {
                action,
                hub_bus_arn,
                preferences: prefs,
                ..
            } => {
                let cfn = self.cfn();
                let param = Parameter::builder()
                    .parameter_key(SPOKE_PARAMETER)
                    .parameter_value(hub_bus_arn)
                    .build();
                let auto = AutoDeployment::builder()
                    .enabled(true)
                    .retain_stacks_on_account_removal(false)
                    .build();
                let tag = Tag::builder().key(TAG_KEY).value(TAG_VALUE).build();
                if *action == Action::Create {
                    cfn.create_stack_set()
                        .stack_set_name(STACKSET_NAME)
                        .description(
                            "rootguard: forward member accounts' root activity to the hub bus",
                        )
                        .template_body(SPOKE_TEMPLATE)
                        .parameters(param)
                        .permission_model(PermissionModels::ServiceManaged)
                        .auto_deployment(auto)
                        .capabilities(Capability::CapabilityIam)
                        .tags(tag)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| classify("cloudformation:CreateStackSet", &e))
                } else {
                    let call = cfn
                        .update_stack_set()
                        .stack_set_name(STACKSET_NAME)
                        .template_body(SPOKE_TEMPLATE)
                        .parameters(param)
                        .permission_model(PermissionModels::ServiceManaged)
                        .auto_deployment(auto)
                        .capabilities(Capability::CapabilityIam)
                        .operation_preferences(preferences(prefs))
                        .tags(tag);
                    let op = self
                        .when_free(tick, "cloudformation:UpdateStackSet", || {
                            call.clone().send()
                        })
                        .await?;
                    self.wait_started(op.operation_id(), tick).await
                }
            }
            OrgStep::StackInstances {
                ous,
                regions,
                preferences: prefs,
                ..
            } => {
                let call = self
                    .cfn()
                    .create_stack_instances()
                    .stack_set_name(STACKSET_NAME)
                    .deployment_targets(
                        DeploymentTargets::builder()
                            .set_organizational_unit_ids(Some(ous.clone()))
                            .build(),
                    )
                    .set_regions(Some(regions.clone()))
                    .operation_preferences(preferences(prefs));
                let op = self
                    .when_free(tick, "cloudformation:CreateStackInstances", || {
                        call.clone().send()
                    })
                    .await?;
                self.wait_started(op.operation_id(), tick).await
            }
            OrgStep::RedeployInstances {
                ous,
                regions,
                accounts,
                preferences: prefs,
                ..
            } => {
                // Only these members, within the deployment's OUs.
                let call = self
                    .cfn()
                    .update_stack_instances()
                    .stack_set_name(STACKSET_NAME)
                    .deployment_targets(
                        DeploymentTargets::builder()
                            .set_organizational_unit_ids(Some(ous.clone()))
                            .set_accounts(Some(accounts.iter().map(|(a, _)| a.clone()).collect()))
                            .account_filter_type(AccountFilterType::Intersection)
                            .build(),
                    )
                    .set_regions(Some(regions.clone()))
                    .operation_preferences(preferences(prefs));
                let op = self
                    .when_free(tick, "cloudformation:UpdateStackInstances", || {
                        call.clone().send()
                    })
                    .await?;
                self.wait_started(op.operation_id(), tick).await
            }
        }
    }

    /// Sends a call that starts a StackSet operation; when another operation
    /// is running on the StackSet (`OperationInProgressException`), waits for
    /// it to end and sends again.
    async fn when_free<T, E, F, Fut>(
        &self,
        tick: &(dyn Fn(&str) + Sync),
        action: &str,
        send: F,
    ) -> Result<T, FactError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<
            Output = Result<
                T,
                aws_smithy_runtime_api::client::result::SdkError<
                    E,
                    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
                >,
            >,
        >,
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let start = Instant::now();
        loop {
            match send().await {
                Ok(v) => return Ok(v),
                Err(e) if service_code(&e) == Some("OperationInProgressException") => {
                    if start.elapsed() > OPERATION_TIMEOUT {
                        return Err(classify(action, &e));
                    }
                    match self.running_operation().await? {
                        Some(id) => {
                            tick(&format!(
                                "waiting for operation {id}, already running on the StackSet"
                            ));
                            self.wait_operation(&id, &|s: &str| {
                                tick(&format!("waiting for the running operation: {s}"))
                            })
                            .await?;
                        }
                        // It ended between the two calls.
                        None => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                Err(e) => return Err(classify(action, &e)),
            }
        }
    }

    /// The id of an operation running on the StackSet, if any.
    async fn running_operation(&self) -> Result<Option<String>, FactError> {
        let out = self
            .cfn()
            .list_stack_set_operations()
            .stack_set_name(STACKSET_NAME)
            .send()
            .await
            .map_err(|e| classify("cloudformation:ListStackSetOperations", &e))?;
        Ok(out
            .summaries()
            .iter()
            .find(|o| {
                matches!(
                    o.status(),
                    Some(
                        StackSetOperationStatus::Running
                            | StackSetOperationStatus::Stopping
                            | StackSetOperationStatus::Queued
                    )
                )
            })
            .and_then(|o| o.operation_id().map(str::to_string)))
    }

    /// Waits for the operation a call started, when it started one.
    async fn wait_started(
        &self,
        id: Option<&str>,
        tick: &(dyn Fn(&str) + Sync),
    ) -> Result<(), FactError> {
        match id {
            Some(id) => self.wait_operation(id, tick).await,
            None => Ok(()),
        }
    }

    /// Polls `DescribeStackSetOperation` with backoff (100 ms doubling to 5 s)
    /// until the operation ends, telling `tick` how many instances are
    /// `CURRENT`, outdated and failed (`ListStackInstances`) with an ETA. An
    /// operation that ends `FAILED` (a member's instance failed past the
    /// failure tolerance) is not an error here: the instances say which
    /// member failed and why, and the command reports them.
    async fn wait_operation(
        &self,
        id: &str,
        tick: &(dyn Fn(&str) + Sync),
    ) -> Result<(), FactError> {
        let cfn = self.cfn();
        let start = Instant::now();
        let mut delay = Duration::from_millis(100);
        let mut first_current: Option<usize> = None;
        loop {
            let out = cfn
                .describe_stack_set_operation()
                .stack_set_name(STACKSET_NAME)
                .operation_id(id)
                .send()
                .await
                .map_err(|e| classify("cloudformation:DescribeStackSetOperation", &e))?;
            let status = out.stack_set_operation().and_then(|o| o.status()).cloned();
            let name = status.as_ref().map(|s| s.as_str()).unwrap_or("RUNNING");
            match stack_instances(&cfn).await {
                Ok(all) => {
                    let current = all.iter().filter(|i| i.is_current()).count();
                    let failed = all
                        .iter()
                        .filter(|i| !i.is_current() && i.detailed == "FAILED")
                        .count();
                    let base = *first_current.get_or_insert(current);
                    let done = current.saturating_sub(base);
                    let left = all.len().saturating_sub(current + failed);
                    let eta = if done > 0 && left > 0 {
                        let per = start.elapsed().as_secs_f64() / done as f64;
                        format!(", ETA {}s", (per * left as f64).ceil() as u64)
                    } else {
                        String::new()
                    };
                    tick(&format!(
                        "{name}: {current}/{} CURRENT, {failed} failed{eta}",
                        all.len()
                    ));
                }
                Err(_) => tick(name),
            }
            if matches!(
                status,
                Some(
                    StackSetOperationStatus::Succeeded
                        | StackSetOperationStatus::Failed
                        | StackSetOperationStatus::Stopped
                )
            ) {
                return Ok(());
            }
            if start.elapsed() > OPERATION_TIMEOUT {
                return Err(FactError::new(
                    "cloudformation:DescribeStackSetOperation",
                    FactErrorKind::Error,
                    format!(
                        "StackSet operation {id} still running after {}s; run again to resume",
                        OPERATION_TIMEOUT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// `teardown --org`: the instances (waiting for the operation), the
    /// StackSet, then the hub rule, bus and topic. What is gone already is
    /// skipped, so a stopped teardown is finished by the next.
    pub async fn delete_org(
        &self,
        root_or_ous: &[String],
        state: &crate::domain::orgdeploy::OrgDeployState,
        tick: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<String>, FactError> {
        let mut done = Vec::new();
        let cfn = self.cfn();
        if state.stackset.exists && state.stackset.tagged {
            if !state.stackset.instances.is_empty() {
                let call = cfn
                    .delete_stack_instances()
                    .stack_set_name(STACKSET_NAME)
                    .deployment_targets(
                        DeploymentTargets::builder()
                            .set_organizational_unit_ids(Some(root_or_ous.to_vec()))
                            .build(),
                    )
                    .set_regions(Some(
                        state
                            .stackset
                            .instances
                            .iter()
                            .map(|i| i.region.clone())
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect(),
                    ))
                    .operation_preferences(preferences(&OperationPreferences::default()))
                    .retain_stacks(false);
                let op = self
                    .when_free(tick, "cloudformation:DeleteStackInstances", || {
                        call.clone().send()
                    })
                    .await?;
                self.wait_started(op.operation_id(), tick).await?;
                done.push(format!(
                    "{} stack instance(s)",
                    state.stackset.instances.len()
                ));
            }
            match cfn
                .delete_stack_set()
                .stack_set_name(STACKSET_NAME)
                .send()
                .await
            {
                Ok(_) => done.push(format!("StackSet {STACKSET_NAME}")),
                Err(e) if service_code(&e) == Some("StackSetNotFoundException") => {}
                Err(e) => return Err(classify("cloudformation:DeleteStackSet", &e)),
            }
        }
        let ev = self.events();
        for (region, r) in &state.hub.forwarding.rules {
            if r.tagged {
                self.delete_rule_in(region, None, MGMT_FORWARD_RULE, MGMT_FORWARD_TARGET_ID)
                    .await?;
                done.push(format!("rule {MGMT_FORWARD_RULE} in {region}"));
            }
        }
        if state.hub.forwarding.role.as_ref().is_some_and(|r| r.tagged) {
            self.delete_forward_role(MGMT_FORWARD_ROLE).await?;
            done.push(format!("role {MGMT_FORWARD_ROLE}"));
        }
        for (name, r) in &state.hub.rules {
            if r.tagged {
                self.delete_rule_on(Some(HUB_BUS_NAME), name, HUB_TARGET_ID)
                    .await?;
                done.push(format!("hub rule {name}"));
            }
        }
        if state.hub.bus_exists {
            match ev.delete_event_bus().name(HUB_BUS_NAME).send().await {
                Ok(_) => done.push(format!("hub event bus {HUB_BUS_NAME}")),
                Err(e) if service_code(&e) == Some("ResourceNotFoundException") => {}
                Err(e) => return Err(classify("events:DeleteEventBus", &e)),
            }
        }
        if let Some(t) = state.hub.topic.as_ref().filter(|t| t.tagged) {
            self.delete_topic(RULE_REGION, &t.arn).await?;
            done.push(format!("hub topic {}", t.arn));
        }
        Ok(done)
    }
}
