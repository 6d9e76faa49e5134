//! `deploy --org`: real-time root alerts for every account of an organization,
//! on CloudFormation StackSets.
//!
//! A hub in the caller's (management) account in us-east-1: an event bus whose
//! policy admits only the organization (`aws:PrincipalOrgID`), a rule on it that
//! sends root events to an SNS topic with the same readable message as the
//! single-account rule, and the email subscriptions. The spokes: the
//! service-managed StackSet `rootguard-root-activity-spoke` (auto-deployment on,
//! so new accounts are covered) whose stack (cfn/org-spoke.yaml) forwards each
//! member's root events from its us-east-1 default bus to the hub bus.
//!
//! This module owns the names, the hub's policies and the pure `plan` from
//! the state the adapter read; `--dry-run` prints the plan and apply runs the
//! same value. It must not call AWS.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::deploy::{Action, ForwardStep, ForwardTo, Step, TopicState, TAG_KEY, TAG_VALUE};
use crate::domain::realtime::RULE_REGION;

pub const STACKSET_NAME: &str = "rootguard-root-activity-spoke";
pub const HUB_BUS_NAME: &str = "rootguard-root-activity";
pub const HUB_RULE_NAME: &str = "rootguard-root-activity-hub";
pub const HUB_TOPIC_NAME: &str = "rootguard-org-root-activity";
pub const HUB_TARGET_ID: &str = "rootguard-topic";
pub const STACKSETS_PRINCIPAL: &str = "member.org.stacksets.cloudformation.amazonaws.com";
/// The spoke template (`rootguard template --org-spoke`).
pub const SPOKE_TEMPLATE: &str = include_str!("../../cfn/org-spoke.yaml");
pub const SPOKE_PARAMETER: &str = "HubEventBusArn";

pub fn hub_bus_arn(account_id: &str) -> String {
    format!("arn:aws:events:{RULE_REGION}:{account_id}:event-bus/{HUB_BUS_NAME}")
}

pub fn hub_rule_arn(account_id: &str) -> String {
    hub_rule_arn_of(account_id, HUB_RULE_NAME)
}

pub fn hub_rule_arn_of(account_id: &str, rule: &str) -> String {
    format!("arn:aws:events:{RULE_REGION}:{account_id}:rule/{HUB_BUS_NAME}/{rule}")
}

/// A kind's rule on the hub bus: the API-call kind keeps the hub rule's
/// first name, the others are named like the single-account rules.
pub fn hub_rule_name(kind: &crate::domain::realtime::Kind) -> &'static str {
    if kind.rule == crate::domain::realtime::RULE_NAME {
        HUB_RULE_NAME
    } else {
        kind.rule
    }
}

/// In the management account, every enabled region's rule that forwards its
/// own root activity and its sts:AssumeRoot calls to the hub bus.
pub const MGMT_FORWARD_RULE: &str = "rootguard-root-forward-hub";
pub const MGMT_FORWARD_ROLE: &str = "rootguard-events-forward-hub";
pub const MGMT_FORWARD_TARGET_ID: &str = "rootguard-hub";
/// The management account's forwarders: each enabled region to the hub bus.
pub const TO_HUB: ForwardTo = ForwardTo {
    whose: "this account's ",
    bus: "the hub bus",
    target_id: MGMT_FORWARD_TARGET_ID,
    description: "rootguard: this account's root activity and sts:AssumeRoot calls in this region, to the hub bus",
};

pub fn mgmt_forward_role_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{MGMT_FORWARD_ROLE}")
}

/// The management account's forwarding role may put events on the hub bus only.
pub fn mgmt_forward_permissions(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": hub_bus_arn(account_id)
        }]
    })
}

pub fn hub_topic_arn(account_id: &str) -> String {
    format!("arn:aws:sns:{RULE_REGION}:{account_id}:{HUB_TOPIC_NAME}")
}

/// Only accounts of this organization may put events on the hub bus.
pub fn bus_policy(account_id: &str, organization_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RootguardOrganizationMembers",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": hub_bus_arn(account_id),
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
        }]
    })
}

/// Only the hub rule may publish to the hub topic.
pub fn topic_policy(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowRootguardHubRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": hub_topic_arn(account_id),
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": crate::domain::realtime::KINDS
                        .iter()
                        .map(|k| hub_rule_arn_of(account_id, hub_rule_name(k)))
                        .collect::<Vec<_>>()},
                    "StringEquals": {"aws:SourceAccount": account_id}
                }
            },
            crate::domain::deploy::tls_only(&hub_topic_arn(account_id))
        ]
    })
}

/// The hub as it is now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HubState {
    pub bus_exists: bool,
    pub bus_policy: Option<Value>,
    /// The hub bus's rules by name.
    pub rules: std::collections::BTreeMap<String, crate::domain::deploy::RuleState>,
    pub topic: Option<TopicState>,
    /// The management account's own forwarding: each enabled region's rule
    /// to the hub bus and its role.
    pub forwarding: crate::domain::deploy::ForwardingState,
}

/// The StackSet as it is now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackSetState {
    pub exists: bool,
    pub auto_deployment: bool,
    pub template_matches: bool,
    pub hub_parameter: Option<String>,
    pub tagged: bool,
    /// Every stack instance, as `ListStackInstances` gives it.
    pub instances: Vec<StackInstance>,
}

/// One stack instance of the spoke StackSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackInstance {
    pub account: String,
    pub region: String,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`.
    pub status: String,
    /// `StackInstanceStatus.DetailedStatus`: `SUCCEEDED`, `FAILED`,
    /// `CANCELLED`, `PENDING`, `RUNNING`, `INOPERABLE`…
    pub detailed: String,
    /// AWS's `StatusReason`, when it gave one.
    pub reason: Option<String>,
}

impl StackInstance {
    pub fn is_current(&self) -> bool {
        self.status == "CURRENT"
    }

    /// Its status for a person: `CURRENT`, or `OUTDATED (FAILED): reason`.
    pub fn describe(&self) -> String {
        let mut out = self.status.clone();
        if !self.detailed.is_empty() && !self.is_current() {
            out.push_str(&format!(" ({})", self.detailed));
        }
        if let Some(r) = self.reason.as_deref().filter(|r| !r.is_empty()) {
            out.push_str(&format!(": {}", crate::domain::text::escape(r)));
        }
        out
    }
}

/// How a StackSet operation runs (`StackSetOperationPreferences`). AWS's
/// defaults are one account at a time and stop at the first failure; these
/// deploy to every member at once and never let one member's failure cancel
/// the others (`--max-concurrent-percent`, `--failure-tolerance-percent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OperationPreferences {
    /// `MaxConcurrentPercentage`, 1-100.
    pub max_concurrent_percentage: u8,
    /// `FailureTolerancePercentage`, 0-100.
    pub failure_tolerance_percentage: u8,
}

impl Default for OperationPreferences {
    fn default() -> Self {
        OperationPreferences {
            max_concurrent_percentage: 100,
            failure_tolerance_percentage: 100,
        }
    }
}

impl OperationPreferences {
    pub fn describe(&self) -> String {
        format!(
            "up to {}% of members at once, regions in parallel, failure tolerance {}% (SOFT_FAILURE_TOLERANCE)",
            self.max_concurrent_percentage, self.failure_tolerance_percentage
        )
    }
}

/// Everything `deploy --org` reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrgDeployState {
    pub account_id: String,
    pub organization_id: String,
    pub root_id: String,
    /// ACTIVE member account ids (not the caller's).
    pub members: Vec<String>,
    /// The management account's enabled regions (us-east-1 among them): the
    /// spokes go to each.
    pub regions: Vec<String>,
    pub stacksets_trusted: bool,
    pub hub: HubState,
    pub stackset: StackSetState,
}

/// What was asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgDeployConfig {
    pub emails: Vec<String>,
    /// `--ou`: deploy to these OUs; default the organization root.
    pub ous: Vec<String>,
    /// How the StackSet operations run.
    pub preferences: OperationPreferences,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "resource", rename_all = "snake_case")]
pub enum OrgStep {
    /// `organizations:EnableAWSServiceAccess` for CloudFormation StackSets.
    TrustedAccess { action: Action, principal: String },
    HubTopic {
        action: Action,
        arn: String,
        policy: Value,
        changes: Vec<String>,
    },
    HubSubscription {
        action: Action,
        topic_arn: String,
        email: String,
    },
    HubBus {
        action: Action,
        name: String,
        policy: Value,
        changes: Vec<String>,
    },
    HubRule {
        action: Action,
        name: String,
        bus: String,
        what: String,
        pattern: Value,
        topic_arn: String,
        input_paths: std::collections::BTreeMap<String, String>,
        input_template: String,
        changes: Vec<String>,
    },
    StackSet {
        action: Action,
        name: String,
        hub_bus_arn: String,
        changes: Vec<String>,
        preferences: OperationPreferences,
    },
    /// Stack instances for the OUs in `regions` (those where some member has
    /// none yet); `missing` are those members.
    StackInstances {
        action: Action,
        ous: Vec<String>,
        regions: Vec<String>,
        missing: Vec<String>,
        preferences: OperationPreferences,
    },
    /// Members whose instance exists but is not `CURRENT` (failed, cancelled,
    /// outdated): redeployed with `UpdateStackInstances`, each with why.
    RedeployInstances {
        action: Action,
        ous: Vec<String>,
        /// The regions that hold such an instance.
        regions: Vec<String>,
        /// (account, its instance's region, status and AWS's reason).
        accounts: Vec<(String, String)>,
        preferences: OperationPreferences,
    },
    /// The management account's forwarding role and rules (to the hub bus),
    /// the same steps as `deploy`'s forwarders.
    #[serde(untagged)]
    Forward(ForwardStep),
}

impl crate::domain::deploy::PlanStep for OrgStep {
    fn action(&self) -> Action {
        OrgStep::action(self)
    }
    fn describe(&self) -> String {
        OrgStep::describe(self)
    }
    fn forward(&self) -> Option<&ForwardStep> {
        match self {
            OrgStep::Forward(f) => Some(f),
            _ => None,
        }
    }
}

impl OrgStep {
    pub fn action(&self) -> Action {
        match self {
            OrgStep::TrustedAccess { action, .. }
            | OrgStep::HubTopic { action, .. }
            | OrgStep::HubSubscription { action, .. }
            | OrgStep::HubBus { action, .. }
            | OrgStep::HubRule { action, .. }
            | OrgStep::StackSet { action, .. }
            | OrgStep::StackInstances { action, .. }
            | OrgStep::RedeployInstances { action, .. } => *action,
            OrgStep::Forward(f) => f.action(),
        }
    }

    pub fn describe(&self) -> String {
        let changes = crate::domain::deploy::changes_suffix;
        match self {
            OrgStep::TrustedAccess { principal, .. } => {
                format!("trusted access for CloudFormation StackSets ({principal})")
            }
            OrgStep::HubTopic { arn, changes: c, .. } => {
                format!("hub sns topic {arn}: only the hub rule may publish{}", changes(c))
            }
            OrgStep::HubSubscription { email, action, .. } => format!(
                "email subscription {email}{}",
                if *action == Action::Create {
                    " (stays pending until confirmed from the inbox)"
                } else {
                    ""
                }
            ),
            OrgStep::HubBus { name, changes: c, .. } => format!(
                "hub event bus {name} in {RULE_REGION}: only this organization may put events (aws:PrincipalOrgID){}",
                changes(c)
            ),
            OrgStep::HubRule { name, what, changes: c, .. } => format!(
                "hub rule {name}: {what} from every member to the topic, as a readable message{}",
                changes(c)
            ),
            OrgStep::Forward(f) => f.describe(),
            OrgStep::StackSet { name, changes: c, .. } => format!(
                "service-managed StackSet {name} (auto-deployment on: new accounts are covered){}",
                changes(c)
            ),
            OrgStep::StackInstances {
                ous,
                regions,
                missing,
                preferences,
                ..
            } => format!(
                "stack instances {} for {}: {}",
                if regions.is_empty() {
                    "in every enabled region".to_string()
                } else {
                    format!("in {} (regions in parallel)", regions.join(", "))
                },
                ous.join(", "),
                if missing.is_empty() {
                    "every member has one".to_string()
                } else {
                    format!(
                        "{} member(s) without one yet; {}",
                        missing.len(),
                        preferences.describe()
                    )
                }
            ),
            OrgStep::RedeployInstances {
                regions,
                accounts,
                preferences,
                ..
            } => {
                if accounts.is_empty() {
                    "stack instances already there: none needs a redeploy (each is CURRENT)".to_string()
                } else {
                    let mut out = format!(
                        "redeploy {} stack instance(s) in {} that are not CURRENT; {}:",
                        accounts.len(),
                        regions.join(", "),
                        preferences.describe()
                    );
                    for (a, why) in accounts {
                        out.push_str(&format!("\n      {a}  {why}"));
                    }
                    out
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrgDeployPlan {
    pub schema: &'static str,
    pub account_id: String,
    pub organization_id: String,
    pub steps: Vec<OrgStep>,
}

pub const PLAN_SCHEMA: &str = "rootguard.org-deploy-plan/v1";

impl OrgDeployPlan {
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| s.action() == Action::NoOp)
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "deploy --org plan for organization {} (hub in account {} in {RULE_REGION})\n",
            self.organization_id, self.account_id
        );
        out.push_str(&crate::domain::deploy::steps_text(
            &crate::domain::deploy::plan_lines(&self.steps),
            &[],
        ));
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

fn action_for(exists: bool, changes: &[String]) -> Action {
    if !exists {
        Action::Create
    } else if changes.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    }
}

/// The plan from what was read: every step `create`, `update` (naming the
/// drift) or `ok`. A second run after a complete one plans only `ok`s.
pub fn plan(state: &OrgDeployState, config: &OrgDeployConfig) -> OrgDeployPlan {
    let acct = &state.account_id;
    let mut steps = vec![OrgStep::TrustedAccess {
        action: if state.stacksets_trusted {
            Action::NoOp
        } else {
            Action::Create
        },
        principal: STACKSETS_PRINCIPAL.into(),
    }];
    let topic_arn = hub_topic_arn(acct);
    let want_topic_policy = topic_policy(acct);
    let mut c = Vec::new();
    if let Some(t) = &state.hub.topic {
        if t.policy.as_ref() != Some(&want_topic_policy) {
            c.push("reset the topic policy".to_string());
        }
        if !t.tagged {
            c.push(format!("tag {TAG_KEY}={TAG_VALUE}"));
        }
    }
    steps.push(OrgStep::HubTopic {
        action: action_for(state.hub.topic.is_some(), &c),
        arn: topic_arn.clone(),
        policy: want_topic_policy,
        changes: c,
    });
    let existing: BTreeSet<String> = state
        .hub
        .topic
        .as_ref()
        .map(|t| t.emails.iter().map(|e| e.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for email in &config.emails {
        if !seen.insert(email.to_ascii_lowercase()) {
            continue;
        }
        steps.push(OrgStep::HubSubscription {
            action: if existing.contains(&email.to_ascii_lowercase()) {
                Action::NoOp
            } else {
                Action::Create
            },
            topic_arn: topic_arn.clone(),
            email: email.clone(),
        });
    }
    let want_bus_policy = bus_policy(acct, &state.organization_id);
    let mut c = Vec::new();
    if state.hub.bus_exists && state.hub.bus_policy.as_ref() != Some(&want_bus_policy) {
        c.push("admit only this organization".to_string());
    }
    steps.push(OrgStep::HubBus {
        action: action_for(state.hub.bus_exists, &c),
        name: HUB_BUS_NAME.into(),
        policy: want_bus_policy,
        changes: c,
    });
    for kind in &crate::domain::realtime::KINDS {
        let name = hub_rule_name(kind);
        let Step::RealtimeRule {
            action,
            what,
            pattern,
            input_paths,
            input_template,
            changes,
            ..
        } = crate::domain::deploy::realtime_step(kind, state.hub.rules.get(name), &topic_arn, None)
        else {
            continue; // realtime_step builds only RealtimeRule steps
        };
        steps.push(OrgStep::HubRule {
            action,
            name: name.into(),
            bus: HUB_BUS_NAME.into(),
            what,
            pattern,
            topic_arn: topic_arn.clone(),
            input_paths,
            input_template,
            changes,
        });
    }
    // The management account's own root activity and AssumeRoot calls, from
    // every enabled region (us-east-1 too: its default bus is not the hub's).
    let mut mine = crate::domain::deploy::DeployState {
        account_id: acct.clone(),
        forwarding: state.hub.forwarding.clone(),
        ..Default::default()
    };
    mine.forwarding.regions = state.regions.clone();
    for step in crate::domain::deploy::forward_steps(
        &mine,
        &crate::domain::deploy::Forwarding {
            rule: MGMT_FORWARD_RULE,
            role: MGMT_FORWARD_ROLE,
            bus_arn: hub_bus_arn(acct),
            role_arn: mgmt_forward_role_arn(acct),
            permissions: mgmt_forward_permissions(acct),
            to: TO_HUB,
        },
    ) {
        steps.push(OrgStep::Forward(step));
    }
    let bus_arn = hub_bus_arn(acct);
    let ss = &state.stackset;
    let mut c = Vec::new();
    if ss.exists {
        if !ss.auto_deployment {
            c.push("turn auto-deployment on".to_string());
        }
        if !ss.template_matches {
            c.push("update the spoke template".to_string());
        }
        if ss.hub_parameter.as_deref() != Some(bus_arn.as_str()) {
            c.push("point the spokes at the hub bus".to_string());
        }
        if !ss.tagged {
            c.push(format!("tag {TAG_KEY}={TAG_VALUE}"));
        }
    }
    steps.push(OrgStep::StackSet {
        action: action_for(ss.exists, &c),
        name: STACKSET_NAME.into(),
        hub_bus_arn: bus_arn,
        changes: c,
        preferences: config.preferences,
    });
    let regions = spoke_regions(state);
    let covered: BTreeSet<(&str, &str)> = ss
        .instances
        .iter()
        .map(|i| (i.account.as_str(), i.region.as_str()))
        .collect();
    let members: BTreeSet<&str> = state.members.iter().map(String::as_str).collect();
    let mut missing = BTreeSet::new();
    let mut missing_regions = Vec::new();
    for r in &regions {
        let lacking: Vec<&String> = state
            .members
            .iter()
            .filter(|m| !covered.contains(&(m.as_str(), r.as_str())))
            .collect();
        if !lacking.is_empty() {
            missing_regions.push(r.clone());
            missing.extend(lacking.into_iter().cloned());
        }
    }
    let missing: Vec<String> = missing.into_iter().collect();
    let stale_instances: Vec<&StackInstance> = ss
        .instances
        .iter()
        .filter(|i| {
            !i.is_current() && members.contains(i.account.as_str()) && regions.contains(&i.region)
        })
        .collect();
    let stale: Vec<(String, String)> = stale_instances
        .iter()
        .map(|i| (i.account.clone(), format!("{}: {}", i.region, i.describe())))
        .collect();
    let stale_regions: Vec<String> = regions
        .iter()
        .filter(|r| stale_instances.iter().any(|i| &i.region == *r))
        .cloned()
        .collect();
    let ous = if config.ous.is_empty() {
        vec![state.root_id.clone()]
    } else {
        config.ous.clone()
    };
    steps.push(OrgStep::StackInstances {
        action: if missing.is_empty() {
            Action::NoOp
        } else if covered.is_empty() {
            Action::Create
        } else {
            Action::Update
        },
        ous: ous.clone(),
        regions: missing_regions,
        missing,
        preferences: config.preferences,
    });
    steps.push(OrgStep::RedeployInstances {
        action: if stale.is_empty() {
            Action::NoOp
        } else {
            Action::Update
        },
        ous,
        regions: stale_regions,
        accounts: stale,
        preferences: config.preferences,
    });
    OrgDeployPlan {
        schema: PLAN_SCHEMA,
        account_id: acct.clone(),
        organization_id: state.organization_id.clone(),
        steps,
    }
}

/// The regions the spokes go to: the management account's enabled regions,
/// us-east-1 first (the hub's region is never left out).
pub fn spoke_regions(state: &OrgDeployState) -> Vec<String> {
    let mut out = vec![RULE_REGION.to_string()];
    out.extend(state.regions.iter().filter(|r| *r != RULE_REGION).cloned());
    out
}

/// Accepts an organization root (`r-…`) or OU id (`ou-…`).
pub fn parse_ou(s: &str) -> Result<String, String> {
    let ok_root = s.len() >= 6
        && s.len() <= 34
        && s.starts_with("r-")
        && s[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_ou = s.starts_with("ou-")
        && s.len() <= 68
        && s[3..].split('-').count() == 2
        && s[3..].split('-').all(|p| {
            p.len() >= 4
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if ok_root || ok_ou {
        Ok(s.to_string())
    } else {
        let cut: String = s.chars().take(40).collect();
        Err(format!(
            "{cut:?} is not an organization root or OU id: expected r-xxxx or ou-xxxx-xxxxxxxx"
        ))
    }
}

/// One deletion of `teardown --org`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum OrgTeardownStep {
    /// Every stack instance (one operation on the organization's root), then the StackSet.
    DeleteStackSet {
        name: String,
        instances: usize,
    },
    DeleteHubRule {
        name: String,
    },
    /// The management account's forwarding rule in a region.
    DeleteForwardRule {
        name: String,
        region: String,
    },
    DeleteForwardRole {
        name: String,
    },
    DeleteHubBus {
        name: String,
    },
    DeleteHubTopic {
        arn: String,
    },
}

impl OrgTeardownStep {
    pub fn describe(&self) -> String {
        match self {
            OrgTeardownStep::DeleteStackSet { name, instances } => {
                format!("{instances} stack instance(s) and the StackSet {name}")
            }
            OrgTeardownStep::DeleteHubRule { name } => format!("hub rule {name}"),
            OrgTeardownStep::DeleteForwardRule { name, region } => {
                format!("eventbridge rule {name} in {region}")
            }
            OrgTeardownStep::DeleteForwardRole { name } => format!("iam role {name}"),
            OrgTeardownStep::DeleteHubBus { name } => format!("hub event bus {name}"),
            OrgTeardownStep::DeleteHubTopic { arn } => {
                format!("hub topic {arn} and its subscriptions")
            }
        }
    }
}

/// What `teardown --org` deletes: the value `--dry-run` prints (text or JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgTeardownPlan {
    pub schema: &'static str,
    pub organization_id: String,
    pub delete: Vec<OrgTeardownStep>,
}

pub const TEARDOWN_SCHEMA: &str = "rootguard.org-teardown-plan/v1";

/// Tagged parts only (an untagged StackSet or topic of the same name is not
/// rootguard's), in the order they go: instances and StackSet, then the hub.
pub fn teardown_plan(organization_id: &str, state: &OrgDeployState) -> OrgTeardownPlan {
    let mut delete = Vec::new();
    if state.stackset.exists && state.stackset.tagged {
        delete.push(OrgTeardownStep::DeleteStackSet {
            name: STACKSET_NAME.into(),
            instances: state.stackset.instances.len(),
        });
    }
    for (region, r) in &state.hub.forwarding.rules {
        if r.tagged {
            delete.push(OrgTeardownStep::DeleteForwardRule {
                name: MGMT_FORWARD_RULE.into(),
                region: region.clone(),
            });
        }
    }
    if state.hub.forwarding.role.as_ref().is_some_and(|r| r.tagged) {
        delete.push(OrgTeardownStep::DeleteForwardRole {
            name: MGMT_FORWARD_ROLE.into(),
        });
    }
    for (name, r) in &state.hub.rules {
        if r.tagged {
            delete.push(OrgTeardownStep::DeleteHubRule { name: name.clone() });
        }
    }
    if state.hub.bus_exists {
        delete.push(OrgTeardownStep::DeleteHubBus {
            name: HUB_BUS_NAME.into(),
        });
    }
    if let Some(t) = state.hub.topic.as_ref().filter(|t| t.tagged) {
        delete.push(OrgTeardownStep::DeleteHubTopic { arn: t.arn.clone() });
    }
    OrgTeardownPlan {
        schema: TEARDOWN_SCHEMA,
        organization_id: organization_id.to_string(),
        delete,
    }
}

impl OrgTeardownPlan {
    pub fn is_noop(&self) -> bool {
        self.delete.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "teardown --org plan for organization {}\n",
            self.organization_id
        );
        if self.delete.is_empty() {
            out.push_str("  nothing to delete\n");
        }
        for d in &self.delete {
            out.push_str(&format!("  delete  {}\n", d.describe()));
        }
        if !self.delete.is_empty() {
            out.push_str(&format!("{} to delete\n", self.delete.len()));
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> OrgDeployState {
        OrgDeployState {
            account_id: "111111111111".into(),
            organization_id: "o-abc123".into(),
            root_id: "r-ab12".into(),
            members: vec!["222222222222".into(), "333333333333".into()],
            ..Default::default()
        }
    }

    fn config() -> OrgDeployConfig {
        OrgDeployConfig {
            emails: vec!["sec@example.com".into(), "SEC@example.com".into()],
            ous: vec![],
            preferences: OperationPreferences::default(),
        }
    }

    fn current(account: &str, region: &str) -> StackInstance {
        StackInstance {
            account: account.into(),
            region: region.into(),
            status: "CURRENT".into(),
            detailed: "SUCCEEDED".into(),
            reason: None,
        }
    }

    /// The state a complete apply leaves.
    fn applied(s: &OrgDeployState, p: &OrgDeployPlan) -> OrgDeployState {
        let mut s = s.clone();
        for step in &p.steps {
            match step {
                OrgStep::TrustedAccess { .. } => s.stacksets_trusted = true,
                OrgStep::HubTopic { arn, policy, .. } => {
                    s.hub.topic = Some(TopicState {
                        arn: arn.clone(),
                        policy: Some(policy.clone()),
                        kms_key: None,
                        tagged: true,
                        emails: s
                            .hub
                            .topic
                            .as_ref()
                            .map(|t| t.emails.clone())
                            .unwrap_or_default(),
                    })
                }
                OrgStep::HubSubscription { email, .. } => {
                    let t = s.hub.topic.as_mut().unwrap();
                    if !t.emails.contains(email) {
                        t.emails.push(email.clone())
                    }
                }
                OrgStep::HubBus { policy, .. } => {
                    s.hub.bus_exists = true;
                    s.hub.bus_policy = Some(policy.clone());
                }
                OrgStep::HubRule {
                    name,
                    pattern,
                    topic_arn,
                    input_paths,
                    input_template,
                    ..
                } => {
                    s.hub.rules.insert(
                        name.clone(),
                        crate::domain::deploy::RuleState {
                            pattern: Some(pattern.clone()),
                            enabled: true,
                            read_only_events: true,
                            target_arn: Some(topic_arn.clone()),
                            input_paths: input_paths.clone(),
                            input_template: Some(input_template.clone()),
                            target_role: None,
                            tagged: true,
                        },
                    );
                }
                OrgStep::Forward(f) => f.simulate(&mut s.hub.forwarding),
                OrgStep::StackSet { hub_bus_arn, .. } => {
                    s.stackset.exists = true;
                    s.stackset.auto_deployment = true;
                    s.stackset.template_matches = true;
                    s.stackset.tagged = true;
                    s.stackset.hub_parameter = Some(hub_bus_arn.clone());
                }
                OrgStep::StackInstances {
                    missing, regions, ..
                } => {
                    for r in regions {
                        for m in missing {
                            if !s
                                .stackset
                                .instances
                                .iter()
                                .any(|i| &i.account == m && &i.region == r)
                            {
                                s.stackset.instances.push(current(m, r));
                            }
                        }
                    }
                }
                OrgStep::RedeployInstances { accounts, .. } => {
                    for (a, _) in accounts {
                        for i in s.stackset.instances.iter_mut().filter(|i| &i.account == a) {
                            *i = current(a, &i.region.clone());
                        }
                    }
                }
            }
        }
        s
    }

    #[test]
    fn a_fresh_organization_gets_everything_once_and_a_second_run_plans_nothing() {
        let mut s = state();
        s.regions = vec!["eu-west-1".into(), "us-east-1".into(), "us-west-2".into()];
        let p = plan(&s, &config());
        assert_eq!(
            p.steps.len(),
            16,
            "trust, topic, one email, bus, five rules, the management account's role and three \
             forwarders, stackset, instances, redeploy: {}",
            p.text()
        );
        assert!(
            p.steps[..15].iter().all(|s| s.action() == Action::Create),
            "{}",
            p.text()
        );
        assert_eq!(
            p.steps[15].action(),
            Action::NoOp,
            "nothing to redeploy yet"
        );
        let OrgStep::StackInstances {
            ous,
            missing,
            regions,
            ..
        } = &p.steps[14]
        else {
            panic!()
        };
        assert_eq!(ous, &["r-ab12"]);
        assert_eq!(missing.len(), 2);
        assert_eq!(
            regions,
            &["us-east-1", "eu-west-1", "us-west-2"],
            "every enabled region, the hub's first"
        );
        let forwarders: Vec<&str> = p
            .steps
            .iter()
            .filter_map(|st| match st {
                OrgStep::Forward(ForwardStep::ForwardRule {
                    region, bus_arn, ..
                }) => {
                    assert_eq!(bus_arn, &hub_bus_arn("111111111111"));
                    Some(region.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(forwarders, ["eu-west-1", "us-east-1", "us-west-2"]);
        let done = applied(&s, &p);
        assert_eq!(done.stackset.instances.len(), 6);
        assert!(
            plan(&done, &config()).is_noop(),
            "{}",
            plan(&done, &config()).text()
        );
        // A member whose instance in one region failed is redeployed there only.
        let mut failed = done.clone();
        failed.stackset.instances[4].status = "OUTDATED".into();
        let p2 = plan(&failed, &config());
        let Some(OrgStep::RedeployInstances {
            regions, accounts, ..
        }) = p2.steps.last()
        else {
            panic!()
        };
        assert_eq!(regions.len(), 1);
        assert_eq!(accounts.len(), 1);
        let p = plan(&state(), &config());
        assert!(plan(&applied(&state(), &p), &config()).is_noop());
        let j: Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(j["schema"], PLAN_SCHEMA);
    }

    #[test]
    fn drift_is_named_and_a_new_member_gets_an_instance() {
        let done = applied(&state(), &plan(&state(), &config()));
        let mut drift = done.clone();
        drift.hub.bus_policy = Some(json!({}));
        drift.stackset.auto_deployment = false;
        drift.members.push("444444444444".into());
        let p = plan(&drift, &config());
        let t = p.text();
        assert!(t.contains("admit only this organization"), "{t}");
        assert!(t.contains("turn auto-deployment on"), "{t}");
        assert!(t.contains("1 member(s) without one yet"), "{t}");
    }

    #[test]
    fn the_bus_admits_only_the_organization() {
        let p = bus_policy("111111111111", "o-abc123");
        assert_eq!(
            p["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            "o-abc123"
        );
        assert_eq!(p["Statement"][0]["Action"], "events:PutEvents");
    }

    #[test]
    fn ou_ids_are_validated() {
        assert!(parse_ou("r-ab12").is_ok());
        assert!(parse_ou("ou-ab12-cdef3456").is_ok());
        for bad in [
            "",
            "r-",
            "ou-",
            "ou-ab12",
            "OU-AB12-CDEF3456",
            "r-AB12",
            "ou-ab12-cdef3456;rm",
        ] {
            assert!(parse_ou(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn teardown_plan_deletes_only_what_is_rootguards_in_order() {
        let s = state();
        let deployed = applied(&s, &plan(&s, &config()));
        let p = teardown_plan("o-abc", &deployed);
        let kinds: Vec<&str> = p
            .delete
            .iter()
            .map(|d| match d {
                OrgTeardownStep::DeleteStackSet { .. } => "stackset",
                OrgTeardownStep::DeleteHubRule { .. } => "rule",
                OrgTeardownStep::DeleteForwardRule { .. } => "forwarder",
                OrgTeardownStep::DeleteForwardRole { .. } => "role",
                OrgTeardownStep::DeleteHubBus { .. } => "bus",
                OrgTeardownStep::DeleteHubTopic { .. } => "topic",
            })
            .collect();
        assert_eq!(
            kinds,
            ["stackset", "rule", "rule", "rule", "rule", "rule", "bus", "topic"],
            "{}",
            p.text()
        );
        let j: Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(j["schema"], TEARDOWN_SCHEMA);
        assert_eq!(j["delete"][0]["step"], "delete_stack_set");
        let mut foreign = deployed.clone();
        foreign.stackset.tagged = false;
        if let Some(t) = foreign.hub.topic.as_mut() {
            t.tagged = false;
        }
        let kept = teardown_plan("o-abc", &foreign);
        assert_eq!(kept.delete.len(), 6, "{}", kept.text());
        let none = teardown_plan("o-abc", &s);
        assert!(none.is_noop());
        assert!(none.text().contains("nothing to delete"));
    }
}
