//! The deploy plan: what `rootguard deploy` will create, update or leave alone.
//!
//! This module owns the names and settings of the alarm chain rootguard
//! deploys (shared with `cfn/root-activity-alarm.yaml`, a test keeps them
//! equal), the [`Plan`] value, and the pure function that derives a plan from
//! the current state. `--dry-run` prints the plan; apply executes the same
//! value. It must not call AWS: the adapter reads [`DeployState`] and applies
//! [`Step`]s.

use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::rootactivity::{CIS_ROOT_PATTERN, METRIC_NAME, METRIC_NAMESPACE};

/// The CloudFormation template that builds the same chain (`rootguard template`).
pub const TEMPLATE: &str = include_str!("../../cfn/root-activity-alarm.yaml");

/// The tag every resource rootguard creates carries; teardown removes only these.
pub const TAG_KEY: &str = "managed-by";
pub const TAG_VALUE: &str = "rootguard";
/// Records on the alarm which log group holds rootguard's metric filter.
pub const LOG_GROUP_TAG: &str = "rootguard:log-group";

pub const TOPIC_NAME: &str = "rootguard-root-activity";
pub const FILTER_NAME: &str = "rootguard-root-activity";
pub const ALARM_NAME: &str = "rootguard-root-activity";
pub const METRIC_VALUE: &str = "1";
pub const ALARM_STATISTIC: &str = "Sum";
pub const ALARM_PERIOD: i32 = 300;
pub const ALARM_THRESHOLD: f64 = 1.0;
pub const ALARM_COMPARISON: &str = "GreaterThanOrEqualToThreshold";
pub const ALARM_EVALUATION_PERIODS: i32 = 1;
pub const ALARM_TREAT_MISSING_DATA: &str = "notBreaching";
pub const ALARM_DESCRIPTION: &str = "The AWS account's root user was used (CIS 4.3). Find out who and why now: \
    run `rootguard events --since 1h` or search CloudTrail for userIdentity.type = Root. If nobody on your team \
    did this, treat it as a compromise: change the root password, check root MFA devices and access keys, and \
    review what root changed.";

/// Names of what `--create-trail` creates.
pub const TRAIL_NAME: &str = "rootguard-management-events";
pub const TRAIL_LOG_GROUP: &str = "rootguard-cloudtrail";
pub const TRAIL_ROLE: &str = "rootguard-cloudtrail-to-logs";

/// The S3 bucket `--create-trail` creates: globally unique per account and region.
pub fn trail_bucket(account_id: &str, region: &str) -> String {
    format!("rootguard-cloudtrail-{account_id}-{region}")
}

/// What deploy was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployConfig {
    pub emails: Vec<String>,
    /// A customer-managed KMS key (ARN or alias) for the topic.
    pub kms_key: Option<String>,
    /// Create a bucket, log group, role and multi-region trail first.
    pub create_trail: bool,
    /// Also the real-time EventBridge rule (default; `--no-realtime` turns it off).
    pub realtime: bool,
    /// `--trail-bucket`: the bucket `--create-trail` uses instead of
    /// `rootguard-cloudtrail-ACCOUNT-REGION` (owner-checked the same way).
    pub trail_bucket: Option<String>,
}

impl DeployConfig {
    /// The bucket `--create-trail` delivers to in `region`.
    pub fn bucket_name(&self, account_id: &str, region: &str) -> String {
        self.trail_bucket
            .clone()
            .unwrap_or_else(|| trail_bucket(account_id, region))
    }
}

/// The real-time rule as it is now (read in us-east-1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleState {
    pub pattern: Option<Value>,
    pub enabled: bool,
    /// In state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` (read-only calls too).
    pub read_only_events: bool,
    /// The ARN of rootguard's target on the rule.
    pub target_arn: Option<String>,
    pub input_paths: std::collections::BTreeMap<String, String>,
    pub input_template: Option<String>,
    /// The role on rootguard's target (a forwarding rule's).
    pub target_role: Option<String>,
    pub tagged: bool,
}

/// The forwarding role as it is now (IAM, global).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleState {
    pub trust: Option<Value>,
    /// Its inline policy named like the role.
    pub permissions: Option<Value>,
    pub tagged: bool,
}

/// Forwarding from every other enabled region to us-east-1, as read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ForwardingState {
    /// The account's enabled regions other than us-east-1 (`account:ListRegions`).
    pub regions: Vec<String>,
    /// The forwarding rule by region, where there is one.
    pub rules: std::collections::BTreeMap<String, RuleState>,
    pub role: Option<RoleState>,
}

/// What of `--create-trail`'s resources exists now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrailInfraState {
    pub bucket: bool,
    /// The bucket's policy, public-access block and tag, as read (all
    /// calls with `ExpectedBucketOwner`; a foreign bucket is refused at read).
    pub bucket_policy: Option<Value>,
    pub bucket_public_access_blocked: bool,
    pub bucket_tagged: bool,
    pub log_group: bool,
    pub role: bool,
    /// The role's inline policy (named like the role), if any.
    pub role_policy: Option<Value>,
    /// The role carries `managed-by=rootguard` (an untagged role of that name
    /// is adopted whole: policy and tag, like the bucket).
    pub role_tagged: bool,
    pub trail: bool,
    pub trail_logging: bool,
    pub trail_log_file_validation: bool,
}

/// What `--create-trail` built, as `teardown` reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreatedTrail {
    /// `rootguard-management-events`, wherever its home region is.
    pub trail: Option<TrailSeen>,
    /// The trail role: `None` when absent, else whether it is tagged.
    pub role: Option<bool>,
    /// `rootguard-cloudtrail` log groups: (region, tagged).
    pub log_groups: Vec<(String, bool)>,
    /// The trail's bucket and rootguard's default-named ones this account owns.
    pub buckets: Vec<BucketSeen>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrailSeen {
    /// Its home region.
    pub region: String,
    pub tagged: bool,
    pub logging: bool,
    /// The bucket it delivers to.
    pub bucket: Option<String>,
    /// The region of the log group it delivers to.
    pub log_group_region: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketSeen {
    pub name: String,
    pub region: String,
    pub tagged: bool,
}

/// What exists now, as read by the adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeployState {
    pub account_id: String,
    pub region: String,
    pub log_group: String,
    pub topic: Option<TopicState>,
    /// rootguard's metric filter on the log group, if present.
    pub filter: Option<FilterState>,
    pub alarm: Option<AlarmState>,
    /// Read only with `--create-trail`.
    pub trail_infra: Option<TrailInfraState>,
    /// The real-time rules by name (always in us-east-1).
    pub rules: std::collections::BTreeMap<String, RuleState>,
    /// Forwarding from the other enabled regions (read with the rules).
    pub forwarding: ForwardingState,
    /// rootguard's topic in us-east-1 when the chain is in another region:
    /// EventBridge delivers only to a topic in the rule's own region.
    pub realtime_topic: Option<TopicState>,
    /// The account's IAM alias, named in the real-time message.
    pub account_alias: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicState {
    pub arn: String,
    pub policy: Option<Value>,
    pub kms_key: Option<String>,
    pub tagged: bool,
    /// Subscribed email endpoints (pending or confirmed).
    pub emails: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterState {
    pub pattern: String,
    pub namespace: String,
    pub metric: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlarmState {
    pub arn: String,
    pub namespace: String,
    pub metric: String,
    pub statistic: Option<String>,
    pub period: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub evaluation_periods: Option<i32>,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub description: Option<String>,
    pub tagged: bool,
    /// The `rootguard:log-group` tag: where rootguard's filter lives.
    pub log_group_tag: Option<String>,
}

// deploy's views of what the adapter's one chain reader returns (`facts`
// types): the SDK is converted once, in `aws`, and projected here, purely.

/// Whether `tags` carry `managed-by=rootguard`, and the `rootguard:log-group` tag.
pub fn rootguard_tags(tags: &[(String, String)]) -> (bool, Option<String>) {
    (
        tags.iter().any(|(k, v)| k == TAG_KEY && v == TAG_VALUE),
        tags.iter()
            .find(|(k, _)| k == LOG_GROUP_TAG)
            .map(|(_, v)| v.clone()),
    )
}

impl TopicState {
    /// A topic as the chain reader read it: `None` when it does not exist; a
    /// read that failed is an error, since a plan cannot be built on it.
    pub fn from_facts(
        t: crate::domain::facts::Topic,
        tags: &[(String, String)],
    ) -> Result<Option<Self>, crate::domain::facts::FactError> {
        if !t.exists? {
            return Ok(None);
        }
        Ok(Some(TopicState {
            emails: t
                .subscriptions?
                .into_iter()
                .filter(|s| matches!(s.protocol.as_str(), "email" | "email-json"))
                .map(|s| s.endpoint)
                .collect(),
            arn: t.arn,
            policy: t.policy,
            kms_key: t.kms_key,
            tagged: rootguard_tags(tags).0,
        }))
    }
}

impl AlarmState {
    pub fn from_facts(a: &crate::domain::facts::Alarm, tags: &[(String, String)]) -> Self {
        let (tagged, log_group_tag) = rootguard_tags(tags);
        AlarmState {
            arn: a.arn.clone(),
            namespace: a.namespace.clone(),
            metric: a.metric_name.clone(),
            statistic: a.statistic.clone(),
            period: a.period,
            threshold: a.threshold,
            comparison: a.comparison.clone(),
            evaluation_periods: a.evaluation_periods,
            treat_missing_data: a.treat_missing_data.clone(),
            actions_enabled: a.actions_enabled,
            alarm_actions: a.alarm_actions.clone(),
            description: a.description.clone(),
            tagged,
            log_group_tag,
        }
    }
}

impl FilterState {
    /// A filter's first metric transformation (rootguard writes one).
    pub fn from_facts(f: &crate::domain::facts::MetricFilter) -> Self {
        let m = f.metrics.first();
        FilterState {
            pattern: f.pattern.clone(),
            namespace: m.map(|m| m.namespace.clone()).unwrap_or_default(),
            metric: m.map(|m| m.name.clone()).unwrap_or_default(),
            value: m.map(|m| m.value.clone()).unwrap_or_default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    NoOp,
}

/// One resource and what will happen to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "resource", rename_all = "snake_case")]
pub enum Step {
    /// S3 bucket for the trail, with CloudTrail's bucket policy, public access
    /// blocked, tagged.
    TrailBucket {
        action: Action,
        name: String,
        /// This account: every call on the bucket passes it as
        /// `ExpectedBucketOwner`.
        owner: String,
        policy: Value,
    },
    TrailLogGroup {
        action: Action,
        name: String,
    },
    /// The role CloudTrail assumes to write to the log group.
    TrailRole {
        action: Action,
        name: String,
        trust: Value,
        permissions: Value,
    },
    /// A multi-region trail delivering to the bucket and the log group, logging.
    Trail {
        action: Action,
        name: String,
        bucket: String,
        log_group_arn: String,
        role_arn: String,
    },
    Topic {
        action: Action,
        name: String,
        arn: String,
        policy: Value,
        kms_key: Option<String>,
        changes: Vec<String>,
    },
    Subscription {
        action: Action,
        topic_arn: String,
        email: String,
    },
    MetricFilter {
        action: Action,
        log_group: String,
        name: String,
        pattern: String,
        namespace: String,
        metric: String,
        changes: Vec<String>,
    },
    Alarm {
        action: Action,
        name: String,
        topic_arn: String,
        log_group: String,
        changes: Vec<String>,
    },
    /// rootguard's topic in us-east-1 for the real-time rule, when the chain
    /// (and its topic) is in another region: EventBridge targets a topic in
    /// the rule's own region. Only the rule (and rootguard's alarm, should it
    /// ever live there) may publish.
    RealtimeTopic {
        action: Action,
        name: String,
        arn: String,
        policy: Value,
        changes: Vec<String>,
    },
    /// An email subscription to the us-east-1 topic.
    RealtimeSubscription {
        action: Action,
        topic_arn: String,
        email: String,
    },
    /// One kind's EventBridge rule on the default bus in us-east-1 and its
    /// target: the topic, through an input transformer that writes a sentence.
    RealtimeRule {
        action: Action,
        name: String,
        region: String,
        /// What the rule sends.
        what: String,
        pattern: Value,
        topic_arn: String,
        input_paths: std::collections::BTreeMap<String, String>,
        input_template: String,
        changes: Vec<String>,
    },
    /// A region's forwarding rule or the role it goes through: the same steps
    /// as `deploy --org`'s management-account forwarders, so one type.
    #[serde(untagged)]
    Forward(ForwardStep),
}

impl Step {
    /// The region the step writes in: the chain's, or us-east-1 for the
    /// real-time rule and, when the chain is elsewhere, its topic.
    pub fn region<'a>(&'a self, chain_region: &'a str) -> &'a str {
        match self {
            Step::RealtimeRule { region, .. } => region,
            Step::Forward(f) => f.region(),
            Step::RealtimeTopic { .. } | Step::RealtimeSubscription { .. } => {
                crate::domain::realtime::RULE_REGION
            }
            _ => chain_region,
        }
    }

    pub fn action(&self) -> Action {
        match self {
            Step::TrailBucket { action, .. }
            | Step::TrailLogGroup { action, .. }
            | Step::TrailRole { action, .. }
            | Step::Trail { action, .. }
            | Step::Topic { action, .. }
            | Step::Subscription { action, .. }
            | Step::MetricFilter { action, .. }
            | Step::Alarm { action, .. }
            | Step::RealtimeTopic { action, .. }
            | Step::RealtimeSubscription { action, .. }
            | Step::RealtimeRule { action, .. } => *action,
            Step::Forward(f) => f.action(),
        }
    }

    /// One line for the text plan.
    pub fn describe(&self) -> String {
        let changes = changes_suffix;
        match self {
            Step::TrailBucket { name, .. } => {
                format!("s3 bucket {name} for CloudTrail (bucket policy for cloudtrail.amazonaws.com, public access blocked)")
            }
            Step::TrailLogGroup { name, .. } => format!("log group {name} for CloudTrail"),
            Step::TrailRole { name, .. } => {
                format!("iam role {name}: lets CloudTrail write to the log group")
            }
            Step::Trail { name, action, .. } => format!(
                "trail {name}: multi-region, all management events, to the bucket and the log group{}",
                if *action == Action::Update { " (start logging)" } else { ", then start logging" }
            ),
            Step::Topic { name, kms_key, changes: c, .. } => format!(
                "sns topic {name}: only cloudwatch.amazonaws.com may publish, from this account{}{}",
                kms_key.as_deref().map(|k| format!(", encrypted with {k}")).unwrap_or_default(),
                changes(c)
            ),
            Step::Subscription { email, action, .. } => format!(
                "email subscription {email}{}",
                if *action == Action::Create { " (stays pending until confirmed from the inbox)" } else { "" }
            ),
            Step::MetricFilter { log_group, name, namespace, metric, changes: c, .. } => format!(
                "metric filter {name} on {log_group}: CIS root pattern -> {namespace}/{metric} = {METRIC_VALUE}{}",
                changes(c)
            ),
            Step::RealtimeTopic { arn, changes: c, .. } => format!(
                "sns topic {arn} for the real-time rule (EventBridge delivers only to a topic in the rule's region): \
                 only the rule may publish{}",
                changes(c)
            ),
            Step::RealtimeSubscription { email, action, topic_arn } => format!(
                "email subscription {email} to {topic_arn}{}",
                if *action == Action::Create { " (stays pending until confirmed from the inbox)" } else { "" }
            ),
            Step::RealtimeRule { name, region, what, changes: c, .. } => format!(
                "eventbridge rule {name} in {region}: {what} to the topic within seconds, as a readable message{}",
                changes(c)
            ),
            Step::Forward(f) => f.describe(),
            Step::Alarm { name, changes: c, .. } => format!(
                "alarm {name}: {ALARM_STATISTIC} over {ALARM_PERIOD} s >= {ALARM_THRESHOLD}, {ALARM_EVALUATION_PERIODS} period, \
                 missing data {ALARM_TREAT_MISSING_DATA}, notifies the topic{}",
                changes(c)
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub account_id: String,
    pub region: String,
    pub log_group: String,
    pub steps: Vec<Step>,
    /// What the plan leaves out, and why.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn count(&self, a: Action) -> usize {
        self.steps.iter().filter(|s| s.action() == a).count()
    }

    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| s.action() == Action::NoOp)
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "deploy plan for account {} in {} (log group {})\n",
            self.account_id, self.region, self.log_group
        );
        out.push_str(&steps_text(&plan_lines(&self.steps), &self.notes));
        out
    }

    pub fn json(&self) -> String {
        let mut doc = serde_json::to_value(self).expect("plan serializes");
        doc["schema"] = json!("rootguard.plan/v1");
        let mut s = serde_json::to_string_pretty(&doc).expect("plan serializes");
        s.push('\n');
        s
    }
}

/// What drifted, as ` (a; b)` after a plan line; nothing when nothing did.
pub fn changes_suffix(c: &[String]) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.join("; "))
    }
}

/// A text plan's lines, each with how many steps it stands for: a step's
/// own description, except that consecutive forwarding rules with the same
/// action and changes (one per enabled region, often seventeen) share one
/// line naming their regions.
pub fn plan_lines<S: PlanStep>(steps: &[S]) -> Vec<(Action, String, usize)> {
    let rule = |s: &S| match s.forward() {
        Some(ForwardStep::ForwardRule {
            action,
            name,
            changes,
            region,
            ..
        }) => Some(((*action, name.clone(), changes.clone()), region.clone())),
        _ => None,
    };
    let mut lines = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        if let Some((key, first)) = rule(&steps[i]) {
            let mut regions = vec![first];
            let mut j = i + 1;
            while let Some((k, r)) = steps.get(j).and_then(&rule) {
                if k != key {
                    break;
                }
                regions.push(r);
                j += 1;
            }
            let f = steps[i].forward().expect("a forwarding rule");
            lines.push((key.0, f.describe_in(&regions), regions.len()));
            i = j;
        } else {
            lines.push((steps[i].action(), steps[i].describe(), 1));
            i += 1;
        }
    }
    lines
}

/// What a plan's text needs of a step.
pub trait PlanStep {
    fn action(&self) -> Action;
    fn describe(&self) -> String;
    /// The forwarding step it is, if it is one.
    fn forward(&self) -> Option<&ForwardStep>;
}

impl PlanStep for Step {
    fn action(&self) -> Action {
        Step::action(self)
    }
    fn describe(&self) -> String {
        Step::describe(self)
    }
    fn forward(&self) -> Option<&ForwardStep> {
        match self {
            Step::Forward(f) => Some(f),
            _ => None,
        }
    }
}

/// The body of a text plan: `create`/`update`/`ok` per line, notes, and the
/// counts line (of steps, not lines). Shared by `deploy` and `deploy --org`.
pub fn steps_text(lines: &[(Action, String, usize)], notes: &[String]) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for (action, line, n) in lines {
        let (verb, i) = match action {
            Action::Create => ("create", 0),
            Action::Update => ("update", 1),
            Action::NoOp => ("ok", 2),
        };
        counts[i] += n;
        out.push_str(&format!("  {verb:<7} {line}\n"));
    }
    for n in notes {
        out.push_str(&format!("  note    {n}\n"));
    }
    out.push_str(&format!(
        "{} to create, {} to update, {} unchanged\n",
        counts[0], counts[1], counts[2]
    ));
    out
}

pub fn topic_arn(region: &str, account_id: &str) -> String {
    format!("arn:aws:sns:{region}:{account_id}:{TOPIC_NAME}")
}

/// The topic policy, with EventBridge admitted for rootguard's rule only
/// (`aws:SourceArn`) when the real-time rule targets the topic.
pub fn topic_policy_with_rule(topic_arn: &str, account_id: &str, rules: &[String]) -> Value {
    let mut p = topic_policy(topic_arn, account_id);
    if let (false, Some(list)) = (rules.is_empty(), p["Statement"].as_array_mut()) {
        list.push(json!({
            "Sid": "AllowRootguardRealtimeRule",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rules}}
        }));
    }
    p
}

/// Only CloudWatch may publish, only for rootguard's alarm in this account
/// (`aws:SourceAccount` and `aws:SourceArn`), and only over TLS.
pub fn topic_policy(topic_arn: &str, account_id: &str) -> Value {
    let region = topic_arn.split(':').nth(3).unwrap_or("*");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudWatchAlarmsFromThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": format!("arn:aws:cloudwatch:{region}:{account_id}:alarm:{ALARM_NAME}")}
                }
            },
            tls_only(topic_arn)
        ]
    })
}

/// Denies publishing to the topic over plain HTTP.
pub fn tls_only(topic_arn: &str) -> Value {
    json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

/// CloudTrail may write to the bucket, for this account's trail only.
pub fn trail_bucket_policy(bucket: &str, account_id: &str, region: &str) -> Value {
    let trail_arn = format!("arn:aws:cloudtrail:{region}:{account_id}:trail/{TRAIL_NAME}");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "aws:SourceAccount": account_id}}
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{account_id}/*"),
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn, "aws:SourceAccount": account_id}}
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    })
}

/// Trust: only CloudTrail, for this account.
pub fn trail_role_trust(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}
        }]
    })
}

/// Permissions: create streams and put events in the trail's log group only.
pub fn trail_role_permissions(log_group_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{}:log-stream:*", log_group_arn.trim_end_matches(":*"))
        }]
    })
}

fn trail_steps(state: &DeployState, infra: &TrailInfraState, bucket: String) -> Vec<Step> {
    let (acct, region) = (&state.account_id, &state.region);
    let log_group_arn = format!("arn:aws:logs:{region}:{acct}:log-group:{TRAIL_LOG_GROUP}:*");
    let create = |exists: bool| if exists { Action::NoOp } else { Action::Create };
    let bucket_policy = trail_bucket_policy(&bucket, acct, region);
    // Each part is judged by its whole desired state, not by its name.
    let bucket_whole = infra.bucket_policy.as_ref() == Some(&bucket_policy)
        && infra.bucket_public_access_blocked
        && infra.bucket_tagged;
    let permissions = trail_role_permissions(&log_group_arn);
    vec![
        Step::TrailBucket {
            action: match (infra.bucket, bucket_whole) {
                (false, _) => Action::Create,
                (true, false) => Action::Update,
                (true, true) => Action::NoOp,
            },
            policy: bucket_policy,
            name: bucket.clone(),
            owner: acct.clone(),
        },
        Step::TrailLogGroup {
            action: create(infra.log_group),
            name: TRAIL_LOG_GROUP.into(),
        },
        Step::TrailRole {
            action: match (
                infra.role,
                infra.role_policy.as_ref() == Some(&permissions) && infra.role_tagged,
            ) {
                (false, _) => Action::Create,
                (true, false) => Action::Update,
                (true, true) => Action::NoOp,
            },
            name: TRAIL_ROLE.into(),
            trust: trail_role_trust(acct),
            permissions,
        },
        Step::Trail {
            action: match (
                infra.trail,
                infra.trail_logging && infra.trail_log_file_validation,
            ) {
                (false, _) => Action::Create,
                (true, false) => Action::Update,
                (true, true) => Action::NoOp,
            },
            name: TRAIL_NAME.into(),
            bucket,
            log_group_arn,
            role_arn: format!("arn:aws:iam::{acct}:role/{TRAIL_ROLE}"),
        },
    ]
}

/// Derives the plan from the current state. Pure.
pub fn plan(state: &DeployState, config: &DeployConfig) -> Plan {
    let arn = state
        .topic
        .as_ref()
        .map(|t| t.arn.clone())
        .unwrap_or_else(|| topic_arn(&state.region, &state.account_id));
    // The rule lives in us-east-1 (console sign-ins are recorded there) and
    // EventBridge targets a topic in the rule's own region: with the chain
    // elsewhere, the rule gets rootguard's topic in us-east-1.
    let rule_here = state.region == crate::domain::realtime::RULE_REGION;
    let rule_arns: Vec<String> = crate::domain::realtime::KINDS
        .iter()
        .map(|k| crate::domain::realtime::rule_arn_of(&state.account_id, k.rule))
        .collect();
    let policy = topic_policy_with_rule(
        &arn,
        &state.account_id,
        if config.realtime && rule_here {
            &rule_arns
        } else {
            &[]
        },
    );
    let mut steps = Vec::new();
    if config.create_trail {
        steps.extend(trail_steps(
            state,
            &state.trail_infra.clone().unwrap_or_default(),
            config.bucket_name(&state.account_id, &state.region),
        ));
    }

    let (action, topic_changes) =
        topic_action(state.topic.as_ref(), &policy, config.kms_key.as_deref());
    steps.push(Step::Topic {
        action,
        name: TOPIC_NAME.into(),
        arn: arn.clone(),
        policy,
        kms_key: config
            .kms_key
            .clone()
            .or_else(|| state.topic.as_ref().and_then(|t| t.kms_key.clone())),
        changes: topic_changes,
    });
    for (action, email) in subscriptions(state.topic.as_ref(), &config.emails) {
        steps.push(Step::Subscription {
            action,
            topic_arn: arn.clone(),
            email,
        });
    }

    let want = FilterState {
        pattern: CIS_ROOT_PATTERN.into(),
        namespace: METRIC_NAMESPACE.into(),
        metric: METRIC_NAME.into(),
        value: METRIC_VALUE.into(),
    };
    let (filter_action, filter_changes) = match &state.filter {
        None => (Action::Create, vec![]),
        Some(f) if *f == want => (Action::NoOp, vec![]),
        Some(f) => {
            let mut c = Vec::new();
            if f.pattern != want.pattern {
                c.push("reset the pattern".to_string());
            }
            if f.namespace != want.namespace || f.metric != want.metric || f.value != want.value {
                c.push(format!(
                    "emit {}/{} = {}",
                    want.namespace, want.metric, want.value
                ));
            }
            (Action::Update, c)
        }
    };
    steps.push(Step::MetricFilter {
        action: filter_action,
        log_group: state.log_group.clone(),
        name: FILTER_NAME.into(),
        pattern: want.pattern,
        namespace: want.namespace,
        metric: want.metric,
        changes: filter_changes,
    });

    let (alarm_action, alarm_changes) = match &state.alarm {
        None => (Action::Create, vec![]),
        Some(a) => {
            let checks = [
                (
                    a.namespace == METRIC_NAMESPACE && a.metric == METRIC_NAME,
                    "watch CISBenchmark/RootAccountUsage",
                ),
                (
                    a.statistic.as_deref() == Some(ALARM_STATISTIC),
                    "statistic Sum",
                ),
                (a.period == Some(ALARM_PERIOD), "period 300 s"),
                (a.threshold == Some(ALARM_THRESHOLD), "threshold 1"),
                (
                    a.comparison.as_deref() == Some(ALARM_COMPARISON),
                    "GreaterThanOrEqualToThreshold",
                ),
                (
                    a.evaluation_periods == Some(ALARM_EVALUATION_PERIODS),
                    "1 evaluation period",
                ),
                (
                    a.treat_missing_data.as_deref() == Some(ALARM_TREAT_MISSING_DATA),
                    "missing data notBreaching",
                ),
                (a.actions_enabled, "enable actions"),
                (a.alarm_actions == [arn.clone()], "notify the topic"),
                (
                    a.description.as_deref() == Some(ALARM_DESCRIPTION),
                    "refresh the description",
                ),
                (a.tagged, "tag managed-by=rootguard"),
            ];
            let c: Vec<String> = checks
                .iter()
                .filter(|(ok, _)| !ok)
                .map(|(_, what)| what.to_string())
                .collect();
            if c.is_empty() {
                (Action::NoOp, c)
            } else {
                (Action::Update, c)
            }
        }
    };
    steps.push(Step::Alarm {
        action: alarm_action,
        name: ALARM_NAME.into(),
        topic_arn: arn.clone(),
        log_group: state.log_group.clone(),
        changes: alarm_changes,
    });

    let mut notes = Vec::new();
    if config.realtime && rule_here {
        realtime_steps(&mut steps, state, &arn);
    } else if config.realtime {
        let rt_arn = topic_arn(crate::domain::realtime::RULE_REGION, &state.account_id);
        let rt_policy = topic_policy_with_rule(&rt_arn, &state.account_id, &rule_arns);
        let (action, changes) = topic_action(state.realtime_topic.as_ref(), &rt_policy, None);
        steps.push(Step::RealtimeTopic {
            action,
            name: TOPIC_NAME.into(),
            arn: rt_arn.clone(),
            policy: rt_policy,
            changes,
        });
        for (action, email) in subscriptions(state.realtime_topic.as_ref(), &config.emails) {
            steps.push(Step::RealtimeSubscription {
                action,
                topic_arn: rt_arn.clone(),
                email,
            });
        }
        realtime_steps(&mut steps, state, &rt_arn);
        notes.push(format!(
            "the chain is in {} and the real-time rule in {} (console sign-ins are recorded there); EventBridge \
             delivers only to a topic in the rule's region, so the rule has its own topic there{}: each email \
             confirms one subscription per topic",
            state.region,
            crate::domain::realtime::RULE_REGION,
            if config.kms_key.is_some() {
                ", not encrypted (the key is in the chain's region)"
            } else {
                ""
            }
        ));
    }

    Plan {
        account_id: state.account_id.clone(),
        region: state.region.clone(),
        log_group: state.log_group.clone(),
        steps,
        notes,
    }
}

/// What a topic step does: create, update what differs (policy, key, tag), or nothing.
fn topic_action(
    existing: Option<&TopicState>,
    policy: &Value,
    kms_key: Option<&str>,
) -> (Action, Vec<String>) {
    let Some(t) = existing else {
        return (Action::Create, vec![]);
    };
    let mut changes = Vec::new();
    if t.policy.as_ref() != Some(policy) {
        changes.push("reset the topic policy".to_string());
    }
    if let Some(k) = kms_key.filter(|k| t.kms_key.as_deref() != Some(*k)) {
        changes.push(format!("encrypt with {k}"));
    }
    if !t.tagged {
        changes.push(format!("tag {TAG_KEY}={TAG_VALUE}"));
    }
    if changes.is_empty() {
        (Action::NoOp, changes)
    } else {
        (Action::Update, changes)
    }
}

/// One subscription per distinct email (case-insensitive): created unless the
/// topic already has it.
fn subscriptions(existing: Option<&TopicState>, emails: &[String]) -> Vec<(Action, String)> {
    let have: Vec<String> = existing
        .map(|t| t.emails.iter().map(|e| e.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for email in emails {
        let key = email.to_ascii_lowercase();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        let action = if have.contains(&key) {
            Action::NoOp
        } else {
            Action::Create
        };
        out.push((action, email.clone()));
    }
    out
}

/// Every kind's rule, then the forwarding role and each region's forwarding rule.
fn realtime_steps(steps: &mut Vec<Step>, state: &DeployState, topic_arn: &str) {
    use crate::domain::realtime::{
        forward_bus_arn, forward_role_arn, forward_role_permissions, FORWARD_ROLE, FORWARD_RULE,
        KINDS,
    };
    for kind in &KINDS {
        steps.push(realtime_step(
            kind,
            state.rules.get(kind.rule),
            topic_arn,
            state.account_alias.as_deref(),
        ));
    }
    steps.extend(
        forward_steps(
            state,
            &Forwarding {
                rule: FORWARD_RULE,
                role: FORWARD_ROLE,
                bus_arn: forward_bus_arn(&state.account_id),
                role_arn: forward_role_arn(&state.account_id),
                permissions: forward_role_permissions(&state.account_id),
                to: TO_US_EAST_1,
            },
        )
        .into_iter()
        .map(Step::Forward),
    );
}

/// Where forwarding rules send events, and through which role.
pub struct Forwarding {
    pub rule: &'static str,
    pub role: &'static str,
    pub bus_arn: String,
    pub role_arn: String,
    pub permissions: Value,
    pub to: ForwardTo,
}

/// What a forwarding step says of its destination and how its target is
/// named; not part of the JSON plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardTo {
    /// Whose events, as the plan says it ("" or "this account's ").
    pub whose: &'static str,
    /// The destination bus, as the plan says it.
    pub bus: &'static str,
    /// The rule's target id.
    pub target_id: &'static str,
    /// The rule's description in AWS.
    pub description: &'static str,
}

/// `deploy`'s forwarders: every other enabled region to us-east-1.
pub const TO_US_EAST_1: ForwardTo = ForwardTo {
    whose: "",
    bus: "the us-east-1 default bus",
    target_id: crate::domain::realtime::FORWARD_TARGET_ID,
    description: crate::domain::realtime::FORWARD_DESCRIPTION,
};

/// The forwarding role, or one region's forwarding rule: built by
/// [`forward_steps`] for `deploy` (to us-east-1) and `deploy --org` (the
/// management account's, to the hub bus).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "resource", rename_all = "snake_case")]
pub enum ForwardStep {
    /// The role EventBridge assumes to put forwarded events on the bus.
    ForwardRole {
        action: Action,
        name: String,
        trust: Value,
        permissions: Value,
        changes: Vec<String>,
        #[serde(skip)]
        to: ForwardTo,
    },
    /// A region's rule that forwards root activity to the bus.
    ForwardRule {
        action: Action,
        name: String,
        region: String,
        pattern: Value,
        bus_arn: String,
        role_arn: String,
        changes: Vec<String>,
        #[serde(skip)]
        to: ForwardTo,
    },
}

impl ForwardStep {
    pub fn action(&self) -> Action {
        match self {
            ForwardStep::ForwardRole { action, .. } | ForwardStep::ForwardRule { action, .. } => {
                *action
            }
        }
    }

    /// The rule's region; IAM (global) for the role, written from us-east-1.
    pub fn region(&self) -> &str {
        match self {
            ForwardStep::ForwardRole { .. } => crate::domain::realtime::RULE_REGION,
            ForwardStep::ForwardRule { region, .. } => region,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ForwardStep::ForwardRole {
                name, changes, to, ..
            } => format!(
                "iam role {name}: lets EventBridge put {}forwarded events on {}, nothing else{}",
                to.whose,
                to.bus,
                changes_suffix(changes)
            ),
            ForwardStep::ForwardRule { region, .. } => {
                self.describe_in(std::slice::from_ref(region))
            }
        }
    }

    /// The plan line for this step, or for the same rule in each of
    /// `regions` (the role has no region: its own line).
    pub fn describe_in(&self, regions: &[String]) -> String {
        let ForwardStep::ForwardRule {
            name, changes, to, ..
        } = self
        else {
            return self.describe();
        };
        let count = if regions.len() > 1 {
            format!(" ({} regions)", regions.len())
        } else {
            String::new()
        };
        format!(
            "eventbridge rule {name} in {}{count}: {}root activity and sts:AssumeRoot calls made there \
             (read-only calls too), to {}{}",
            regions.join(", "),
            to.whose,
            to.bus,
            changes_suffix(changes)
        )
    }

    /// What `state` holds once this step is applied (the plans' tests).
    #[cfg(test)]
    pub(crate) fn simulate(&self, state: &mut ForwardingState) {
        match self {
            ForwardStep::ForwardRole {
                trust, permissions, ..
            } => {
                state.role = Some(RoleState {
                    trust: Some(trust.clone()),
                    permissions: Some(permissions.clone()),
                    tagged: true,
                })
            }
            ForwardStep::ForwardRule {
                region,
                pattern,
                bus_arn,
                role_arn,
                ..
            } => {
                state.rules.insert(
                    region.clone(),
                    RuleState {
                        pattern: Some(pattern.clone()),
                        enabled: true,
                        read_only_events: true,
                        target_arn: Some(bus_arn.clone()),
                        target_role: Some(role_arn.clone()),
                        tagged: true,
                        ..Default::default()
                    },
                );
            }
        }
    }
}

/// The forwarding role, then each of `state.forwarding.regions`' forwarding
/// rule (none when there are no regions).
pub fn forward_steps(state: &DeployState, to: &Forwarding) -> Vec<ForwardStep> {
    use crate::domain::realtime::forward_pattern;
    let fwd = &state.forwarding;
    if fwd.regions.is_empty() {
        return vec![];
    }
    let trust = crate::domain::realtime::forward_role_trust(&state.account_id);
    let (action, changes) = match &fwd.role {
        None => (Action::Create, vec![]),
        Some(r) => changed(&[
            (r.trust.as_ref() == Some(&trust), "reset the trust policy"),
            (
                r.permissions.as_ref() == Some(&to.permissions),
                "reset the permissions",
            ),
            (r.tagged, "tag managed-by=rootguard"),
        ]),
    };
    let mut steps = vec![ForwardStep::ForwardRole {
        action,
        name: to.role.into(),
        trust,
        permissions: to.permissions.clone(),
        changes,
        to: to.to,
    }];
    for region in &fwd.regions {
        let (action, changes) = match fwd.rules.get(region) {
            None => (Action::Create, vec![]),
            Some(r) => changed(&[
                (
                    r.pattern.as_ref() == Some(&forward_pattern()),
                    "reset the event pattern",
                ),
                (r.enabled, "enable the rule"),
                (
                    r.read_only_events,
                    "receive read-only calls too (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)",
                ),
                (
                    r.target_arn.as_deref() == Some(to.bus_arn.as_str())
                        && r.target_role.as_deref() == Some(to.role_arn.as_str()),
                    "target the bus through the role",
                ),
                (r.tagged, "tag managed-by=rootguard"),
            ]),
        };
        steps.push(ForwardStep::ForwardRule {
            action,
            name: to.rule.into(),
            region: region.clone(),
            pattern: forward_pattern(),
            bus_arn: to.bus_arn.clone(),
            role_arn: to.role_arn.clone(),
            changes,
            to: to.to,
        });
    }
    steps
}

/// `Update` with what differs, or `NoOp`.
fn changed(checks: &[(bool, &str)]) -> (Action, Vec<String>) {
    let c: Vec<String> = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| what.to_string())
        .collect();
    if c.is_empty() {
        (Action::NoOp, c)
    } else {
        (Action::Update, c)
    }
}

/// A kind's rule step: created, updated where it differs from the code's rule, or ok.
pub fn realtime_step(
    kind: &crate::domain::realtime::Kind,
    rule: Option<&RuleState>,
    topic_arn: &str,
    alias: Option<&str>,
) -> Step {
    use crate::domain::realtime::{input_paths, input_template, RULE_REGION};
    let template = input_template(kind, alias);
    let paths = input_paths(kind);
    let pattern = (kind.pattern)();
    let (action, changes) = match rule {
        None => (Action::Create, vec![]),
        Some(r) => changed(&[
            (
                r.pattern.as_ref() == Some(&pattern),
                "reset the event pattern",
            ),
            (r.enabled, "enable the rule"),
            (
                r.read_only_events,
                "receive read-only calls too (ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS)",
            ),
            (
                r.target_arn.as_deref() == Some(topic_arn),
                "target the topic",
            ),
            (
                r.input_paths == paths && r.input_template.as_deref() == Some(template.as_str()),
                "reset the message",
            ),
            (r.tagged, "tag managed-by=rootguard"),
        ]),
    };
    Step::RealtimeRule {
        action,
        name: kind.rule.into(),
        region: RULE_REGION.into(),
        what: kind.what.into(),
        pattern,
        topic_arn: topic_arn.into(),
        input_paths: paths,
        input_template: template,
        changes,
    }
}

/// Accepts a KMS key ARN, a key alias (`alias/NAME`) or an alias ARN. The
/// AWS-managed `alias/aws/sns` key is refused: CloudWatch cannot use it.
pub fn parse_kms_key(s: &str) -> Result<String, String> {
    const HELP: &str =
        "expected a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias/NAME or an alias ARN";
    let arn_ok = |parts: &[&str]| {
        parts.len() == 6
            && parts[0] == "arn"
            && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
            && parts[2] == "kms"
            && crate::domain::input::parse_region(parts[3]).is_ok()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
    };
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let alias = match s.strip_prefix("alias/") {
        Some(a) => Some(a),
        None if parts.len() == 6 && parts[0] == "arn" => {
            if !arn_ok(&parts) {
                return Err(format!("not a KMS key ARN: {HELP}"));
            }
            parts[5].strip_prefix("alias/")
        }
        None => None,
    };
    if let Some(a) = alias {
        if a.starts_with("aws/") {
            return Err(
                "an AWS-managed key, which CloudWatch alarms cannot use: create a customer-managed key whose key policy allows cloudwatch.amazonaws.com"
                    .into(),
            );
        }
        if !a.is_empty()
            && a.len() <= 250
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        {
            return Ok(s.to_string());
        }
        return Err(format!(
            "not a valid alias (1-250 letters, digits or /_-): {HELP}"
        ));
    }
    // Key ids: a UUID (8-4-4-4-12 hex) or a multi-region key (mrk- and 32 hex).
    let key_id_ok = |id: &str| {
        let uuid = id.len() == 36
            && id.chars().enumerate().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        let mrk = id
            .strip_prefix("mrk-")
            .is_some_and(|h| h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()));
        uuid || mrk
    };
    if arn_ok(&parts) && parts[5].strip_prefix("key/").is_some_and(key_id_ok) {
        Ok(s.to_string())
    } else {
        Err(format!("not a KMS key: {HELP}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> DeployState {
        DeployState {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            log_group: "trail-logs".into(),
            ..Default::default()
        }
    }

    fn config() -> DeployConfig {
        DeployConfig {
            emails: vec![
                "sec@example.com".into(),
                "SEC@example.com".into(),
                "ops@example.com".into(),
            ],
            kms_key: None,
            create_trail: false,
            realtime: true,
            trail_bucket: None,
        }
    }

    #[test]
    fn create_trail_plans_the_trail_first_and_resumes() {
        let cfg = DeployConfig {
            create_trail: true,
            ..config()
        };
        let s = state();
        let p = plan(&s, &cfg);
        let kinds: Vec<String> = p
            .steps
            .iter()
            .map(|st| {
                serde_json::to_value(st).unwrap()["resource"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            kinds[..4],
            ["trail_bucket", "trail_log_group", "trail_role", "trail"]
        );
        assert_eq!(p.count(Action::Create), 14, "{}", p.text());
        assert!(plan(&applied(&s, &p), &cfg).is_noop());
        let mut stopped = applied(
            &s,
            &Plan {
                steps: p.steps[..4].to_vec(),
                ..p.clone()
            },
        );
        stopped.trail_infra.as_mut().unwrap().trail_logging = false;
        let next = plan(&stopped, &cfg);
        assert_eq!(
            next.steps[3].action(),
            Action::Update,
            "a stopped trail is started again"
        );
        // A bucket or role that exists without its whole desired state is completed.
        let mut half = applied(&s, &p);
        half.trail_infra.as_mut().unwrap().bucket_tagged = false;
        half.trail_infra.as_mut().unwrap().role_policy = None;
        half.trail_infra.as_mut().unwrap().role_tagged = false;
        half.trail_infra.as_mut().unwrap().trail_log_file_validation = false;
        let fix = plan(&half, &cfg);
        let updates: Vec<&str> = fix
            .steps
            .iter()
            .filter(|st| st.action() == Action::Update)
            .map(|st| match st {
                Step::TrailBucket { .. } => "bucket",
                Step::TrailRole { .. } => "role",
                Step::Trail { .. } => "trail",
                _ => "other",
            })
            .collect();
        assert_eq!(updates, ["bucket", "role", "trail"]);
        let bp = trail_bucket_policy("b", "111122223333", "us-east-1");
        assert_eq!(bp["Statement"][2]["Effect"], "Deny", "TLS only");
        assert_eq!(
            bp["Statement"][1]["Resource"],
            "arn:aws:s3:::b/AWSLogs/111122223333/*"
        );
    }

    /// The state a successful apply of `plan` leaves behind.
    fn applied(state: &DeployState, plan: &Plan) -> DeployState {
        let mut s = state.clone();
        for step in &plan.steps {
            let infra = s.trail_infra.get_or_insert_with(Default::default);
            match step {
                Step::TrailBucket { policy, .. } => {
                    infra.bucket = true;
                    infra.bucket_policy = Some(policy.clone());
                    infra.bucket_public_access_blocked = true;
                    infra.bucket_tagged = true;
                }
                Step::TrailLogGroup { .. } => infra.log_group = true,
                Step::TrailRole { permissions, .. } => {
                    infra.role = true;
                    infra.role_policy = Some(permissions.clone());
                    infra.role_tagged = true;
                }
                Step::Trail { .. } => {
                    infra.trail = true;
                    infra.trail_logging = true;
                    infra.trail_log_file_validation = true;
                }
                Step::Topic {
                    arn,
                    policy,
                    kms_key,
                    ..
                } => {
                    let emails = s
                        .topic
                        .as_ref()
                        .map(|t| t.emails.clone())
                        .unwrap_or_default();
                    s.topic = Some(TopicState {
                        arn: arn.clone(),
                        policy: Some(policy.clone()),
                        kms_key: kms_key.clone(),
                        tagged: true,
                        emails,
                    });
                }
                Step::RealtimeRule {
                    name,
                    pattern,
                    topic_arn,
                    input_paths,
                    input_template,
                    ..
                } => {
                    s.rules.insert(
                        name.clone(),
                        RuleState {
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
                Step::Forward(f) => f.simulate(&mut s.forwarding),
                Step::Subscription { email, .. } => {
                    let t = s.topic.as_mut().unwrap();
                    if !t.emails.contains(email) {
                        t.emails.push(email.clone());
                    }
                }
                Step::RealtimeTopic { arn, policy, .. } => {
                    let emails = s
                        .realtime_topic
                        .as_ref()
                        .map(|t| t.emails.clone())
                        .unwrap_or_default();
                    s.realtime_topic = Some(TopicState {
                        arn: arn.clone(),
                        policy: Some(policy.clone()),
                        kms_key: None,
                        tagged: true,
                        emails,
                    });
                }
                Step::RealtimeSubscription { email, .. } => {
                    let t = s.realtime_topic.as_mut().unwrap();
                    if !t.emails.contains(email) {
                        t.emails.push(email.clone());
                    }
                }
                Step::MetricFilter {
                    pattern,
                    namespace,
                    metric,
                    ..
                } => {
                    s.filter = Some(FilterState {
                        pattern: pattern.clone(),
                        namespace: namespace.clone(),
                        metric: metric.clone(),
                        value: METRIC_VALUE.into(),
                    })
                }
                Step::Alarm { topic_arn, .. } => s.alarm = Some(AlarmState {
                    arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:rootguard-root-activity"
                        .into(),
                    namespace: METRIC_NAMESPACE.into(),
                    metric: METRIC_NAME.into(),
                    statistic: Some(ALARM_STATISTIC.into()),
                    period: Some(ALARM_PERIOD),
                    threshold: Some(ALARM_THRESHOLD),
                    comparison: Some(ALARM_COMPARISON.into()),
                    evaluation_periods: Some(ALARM_EVALUATION_PERIODS),
                    treat_missing_data: Some(ALARM_TREAT_MISSING_DATA.into()),
                    actions_enabled: true,
                    alarm_actions: vec![topic_arn.clone()],
                    description: Some(ALARM_DESCRIPTION.into()),
                    tagged: true,
                    log_group_tag: None,
                }),
            }
        }
        s
    }

    fn elsewhere_state() -> DeployState {
        DeployState {
            region: "eu-west-1".into(),
            ..state()
        }
    }

    #[test]
    fn fresh_account_creates_everything_once() {
        let p = plan(&state(), &config());
        let actions: Vec<Action> = p.steps.iter().map(Step::action).collect();
        assert_eq!(
            actions,
            [Action::Create; 10],
            "topic, two distinct emails, filter, alarm, a real-time rule per kind"
        );
        let Step::Topic { policy, .. } = &p.steps[0] else {
            panic!("the topic comes first")
        };
        let rule_arns: Vec<String> = crate::domain::realtime::KINDS
            .iter()
            .map(|k| crate::domain::realtime::rule_arn_of("111122223333", k.rule))
            .collect();
        assert_eq!(
            policy["Statement"][2]["Condition"]["ArnEquals"]["aws:SourceArn"],
            json!(rule_arns),
            "EventBridge may publish for rootguard's rules only"
        );
        let off = plan(
            &state(),
            &DeployConfig {
                realtime: false,
                ..config()
            },
        );
        assert_eq!(off.steps.len(), 5, "--no-realtime");
        let elsewhere = plan(
            &DeployState {
                region: "eu-west-1".into(),
                ..state()
            },
            &config(),
        );
        // The chain in eu-west-1: its topic, two emails, filter, alarm there;
        // the rules' own topic, two emails and the rules in us-east-1.
        assert_eq!(elsewhere.steps.len(), 13, "{}", elsewhere.text());
        let rt_topic = "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity";
        let Some(Step::RealtimeRule {
            topic_arn, region, ..
        }) = elsewhere.steps.last()
        else {
            panic!("the rule comes last")
        };
        assert_eq!(
            (topic_arn.as_str(), region.as_str()),
            (rt_topic, "us-east-1")
        );
        let Some(Step::RealtimeTopic { policy, .. }) = elsewhere
            .steps
            .iter()
            .find(|s| matches!(s, Step::RealtimeTopic { .. }))
        else {
            panic!("a topic in us-east-1")
        };
        assert_eq!(
            policy["Statement"][2]["Condition"]["ArnEquals"]["aws:SourceArn"],
            json!(rule_arns)
        );
        let Step::Topic { policy: here, .. } = &elsewhere.steps[0] else {
            panic!("the chain's topic first")
        };
        assert_eq!(
            here["Statement"].as_array().unwrap().len(),
            2,
            "the chain's topic admits no rule"
        );
        assert_eq!(
            elsewhere
                .steps
                .iter()
                .filter(|s| s.region("eu-west-1") == "us-east-1")
                .count(),
            8
        );
        assert!(
            elsewhere.text().contains("one subscription per topic"),
            "{}",
            elsewhere.text()
        );
        let converged = plan(&applied(&elsewhere_state(), &elsewhere), &config());
        assert!(converged.is_noop(), "{}", converged.text());
        assert!(p.text().contains("stays pending until confirmed"));
        assert!(p.json().contains("\"schema\": \"rootguard.plan/v1\""));
    }

    #[test]
    fn every_other_enabled_region_forwards_through_one_role_and_converges() {
        let mut s = state();
        s.forwarding.regions = vec!["eu-west-1".into(), "us-west-2".into()];
        let p = plan(&s, &config());
        let fwd: Vec<(&str, &str)> = p
            .steps
            .iter()
            .filter_map(|st| match st {
                Step::Forward(ForwardStep::ForwardRole { name, .. }) => {
                    Some(("role", name.as_str()))
                }
                Step::Forward(ForwardStep::ForwardRule { region, .. }) => {
                    Some(("rule", region.as_str()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            fwd,
            [
                ("role", "rootguard-events-forward"),
                ("rule", "eu-west-1"),
                ("rule", "us-west-2")
            ]
        );
        let Some(Step::Forward(ForwardStep::ForwardRule {
            bus_arn, role_arn, ..
        })) = p.steps.last()
        else {
            panic!("forwarding comes last")
        };
        assert_eq!(
            bus_arn,
            "arn:aws:events:us-east-1:111122223333:event-bus/default"
        );
        assert_eq!(
            role_arn,
            "arn:aws:iam::111122223333:role/rootguard-events-forward"
        );
        assert_eq!(p.steps.last().unwrap().region("us-east-1"), "us-west-2");
        // The text names both regions on one line; the counts are of steps.
        let text = p.text();
        assert_eq!(
            text.lines()
                .filter(|l| l.contains("rule rootguard-root-forward in"))
                .collect::<Vec<_>>(),
            ["  create  eventbridge rule rootguard-root-forward in eu-west-1, us-west-2 (2 regions): \
              root activity and sts:AssumeRoot calls made there (read-only calls too), to the us-east-1 \
              default bus"],
            "{text}"
        );
        let creates = p
            .steps
            .iter()
            .filter(|s| s.action() == Action::Create)
            .count();
        assert!(text.contains(&format!("{creates} to create,")), "{text}");
        let done = applied(&s, &p);
        assert!(plan(&done, &config()).is_noop());
        // A forwarder in state ENABLED (no read-only calls) and a region
        // enabled since are both fixed.
        let mut drift = done.clone();
        drift
            .forwarding
            .rules
            .get_mut("eu-west-1")
            .unwrap()
            .read_only_events = false;
        drift.forwarding.regions.push("ap-southeast-2".into());
        let fix = plan(&drift, &config());
        assert_eq!(
            (fix.count(Action::Update), fix.count(Action::Create)),
            (1, 1)
        );
        assert!(
            fix.text().contains("receive read-only calls too"),
            "{}",
            fix.text()
        );
    }

    #[test]
    fn applying_the_plan_makes_the_next_plan_a_no_op() {
        let s = state();
        let p = plan(&s, &config());
        let again = plan(&applied(&s, &p), &config());
        assert!(again.is_noop(), "{}", again.text());
    }

    #[test]
    fn partial_state_is_completed_without_duplicates() {
        // Every prefix of the steps applied, as a run stopped after step k.
        let s = state();
        let full = plan(&s, &config());
        for k in 0..full.steps.len() {
            let partial = Plan {
                steps: full.steps[..k].to_vec(),
                ..full.clone()
            };
            let next = plan(&applied(&s, &partial), &config());
            assert_eq!(
                next.count(Action::Create),
                full.steps.len() - k,
                "after {k} steps:\n{}",
                next.text()
            );
            assert!(plan(&applied(&applied(&s, &partial), &next), &config()).is_noop());
        }
    }

    #[test]
    fn drift_is_updated() {
        let s = state();
        let mut s2 = applied(&s, &plan(&s, &config()));
        s2.alarm.as_mut().unwrap().threshold = Some(5.0);
        s2.filter.as_mut().unwrap().pattern = "{ $.userIdentity.type = Root }".into();
        s2.topic.as_mut().unwrap().policy = Some(json!({}));
        let p = plan(&s2, &config());
        assert_eq!(p.count(Action::Update), 3, "{}", p.text());
        assert!(p.text().contains("threshold 1"));
        assert!(p.text().contains("reset the pattern"));
    }

    #[test]
    fn topic_policy_only_lets_cloudwatch_publish_from_this_account() {
        let p = topic_policy("arn:aws:sns:us-east-1:111122223333:t", "111122223333");
        let st = &p["Statement"][0];
        assert_eq!(
            st["Principal"],
            json!({"Service": "cloudwatch.amazonaws.com"})
        );
        assert_eq!(st["Action"], "sns:Publish");
        assert_eq!(
            st["Condition"]["StringEquals"]["aws:SourceAccount"],
            "111122223333"
        );
    }

    #[test]
    fn kms_keys() {
        for ok in [
            "alias/rootguard",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:111122223333:alias/alarms",
        ] {
            assert!(parse_kms_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "mykey",
            "alias/",
            "arn:aws:kms:us-east-1:1:key/x",
            "arn:aws:s3:::bucket",
            "key/1234",
        ] {
            assert!(parse_kms_key(bad).is_err(), "{bad}");
        }
        assert!(parse_kms_key("alias/aws/sns")
            .unwrap_err()
            .contains("AWS-managed"));
    }

    #[test]
    fn deploy_views_project_the_chain_readers_facts() {
        use crate::domain::facts::{Alarm, FactError, FactErrorKind, Subscription, Topic};
        let arn = "arn:aws:sns:us-east-1:111122223333:rootguard-root-activity";
        let sub = |protocol: &str, endpoint: &str| Subscription {
            protocol: protocol.into(),
            endpoint: endpoint.into(),
            arn: "PendingConfirmation".into(),
        };
        let topic = |exists, subs| Topic {
            arn: arn.into(),
            exists,
            subscriptions: subs,
            policy: Some(json!({"Version": "2012-10-17"})),
            kms_key: Some("alias/k".into()),
        };
        let tags = vec![(TAG_KEY.to_string(), TAG_VALUE.to_string())];
        let t = TopicState::from_facts(
            topic(
                Ok(true),
                Ok(vec![
                    sub("email", "a@example.com"),
                    sub("https", "https://x"),
                ]),
            ),
            &tags,
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.emails, vec!["a@example.com"]);
        assert!(t.tagged);
        assert_eq!(t.kms_key.as_deref(), Some("alias/k"));
        assert_eq!(
            TopicState::from_facts(topic(Ok(false), Ok(vec![])), &[]).unwrap(),
            None
        );
        let denied = FactError::new(
            "sns:ListSubscriptionsByTopic",
            FactErrorKind::AccessDenied,
            "no",
        );
        assert!(TopicState::from_facts(topic(Ok(true), Err(denied)), &tags).is_err());

        let alarm = Alarm {
            arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:rootguard-root-activity".into(),
            metric_name: METRIC_NAME.into(),
            treat_missing_data: Some("notBreaching".into()),
            ..Default::default()
        };
        let a = AlarmState::from_facts(
            &alarm,
            &[
                (TAG_KEY.into(), "someone-else".into()),
                (LOG_GROUP_TAG.into(), "trail-logs".into()),
            ],
        );
        assert_eq!(a.metric, METRIC_NAME);
        assert!(!a.tagged, "only managed-by=rootguard counts");
        assert_eq!(a.log_group_tag.as_deref(), Some("trail-logs"));
        assert_eq!(a.treat_missing_data.as_deref(), Some("notBreaching"));
    }
}
