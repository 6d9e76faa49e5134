//! The account facts snapshot: plain data that the checks judge.
//!
//! This module owns the types that carry what was read from an account. It must
//! not depend on the AWS SDK or do any I/O: the adapter (`crate::aws`) fills
//! these types, and the checks (`crate::domain::checks`) read them. Every source is a
//! [`Fact`], so a failed read travels to the checks as data and turns into an
//! `unknown` verdict there, never into a silent pass.

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::credreport::CredentialReport;

/// The outcome of one read: the value, or why it could not be read.
pub type Fact<T> = Result<T, FactError>;

/// Why a source could not be read. `action` is the IAM action that failed,
/// such as `iam:GenerateCredentialReport`, so the finding can name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactError {
    pub action: String,
    pub kind: FactErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactErrorKind {
    /// The caller lacks the permission.
    AccessDenied,
    /// The call failed for another reason (5xx after retries, a malformed
    /// answer, a timeout).
    Error,
    /// AWS still throttled the call when the rate budget's deadline passed.
    Throttled,
    /// The source was not read because no selected check needs it.
    NotCollected,
}

impl FactError {
    pub fn new(action: &str, kind: FactErrorKind, message: impl Into<String>) -> Self {
        FactError {
            action: action.to_string(),
            kind,
            message: message.into(),
        }
    }

    pub fn not_collected(action: &str) -> Self {
        Self::new(action, FactErrorKind::NotCollected, "not collected")
    }

    /// One line for evidence: what failed and why.
    pub fn describe(&self) -> String {
        match self.kind {
            FactErrorKind::AccessDenied => {
                format!("{} was denied: {}", self.action, self.message)
            }
            FactErrorKind::Error => format!("{} failed: {}", self.action, self.message),
            FactErrorKind::Throttled => format!("{} was throttled: {}", self.action, self.message),
            FactErrorKind::NotCollected => format!("{} was not called", self.action),
        }
    }
}

/// Everything verify reads about one account.
#[derive(Clone, Debug)]
pub struct AccountFacts {
    /// When the facts were read; the reference point for time windows.
    pub now: OffsetDateTime,
    pub account_id: String,
    pub caller_arn: String,
    pub summary: Fact<AccountSummary>,
    pub credential_report: Fact<CredentialReport>,
    /// Virtual MFA devices with AssignmentStatus=Assigned.
    pub assigned_virtual_mfa: Fact<Vec<VirtualMfaDevice>>,
    pub security_contact: Fact<Option<AlternateContact>>,
    pub billing_contact: Fact<Option<AlternateContact>>,
    pub operations_contact: Fact<Option<AlternateContact>>,
    pub contact_information: Fact<Option<ContactInformation>>,
    pub password_policy: Fact<Option<PasswordPolicy>>,
    pub users: Fact<Vec<IamUser>>,
    pub organization: Fact<OrganizationFeatures>,
    pub alarm_chain: Fact<AlarmChainFacts>,
    /// The real-time EventBridge rule in us-east-1, if any.
    pub realtime: Fact<RealtimeFacts>,
}

impl AccountFacts {
    /// A snapshot where nothing was collected; handy as a base for tests.
    pub fn empty(account_id: &str, now: OffsetDateTime) -> Self {
        AccountFacts {
            now,
            account_id: account_id.to_string(),
            caller_arn: format!("arn:aws:iam::{account_id}:user/auditor"),
            summary: Err(FactError::not_collected("iam:GetAccountSummary")),
            credential_report: Err(FactError::not_collected("iam:GetCredentialReport")),
            assigned_virtual_mfa: Err(FactError::not_collected("iam:ListVirtualMFADevices")),
            security_contact: Err(FactError::not_collected("account:GetAlternateContact")),
            billing_contact: Err(FactError::not_collected("account:GetAlternateContact")),
            operations_contact: Err(FactError::not_collected("account:GetAlternateContact")),
            contact_information: Err(FactError::not_collected("account:GetContactInformation")),
            password_policy: Err(FactError::not_collected("iam:GetAccountPasswordPolicy")),
            users: Err(FactError::not_collected("iam:ListUsers")),
            organization: Err(FactError::not_collected("iam:ListOrganizationsFeatures")),
            alarm_chain: Err(FactError::not_collected("cloudtrail:DescribeTrails")),
            realtime: Err(FactError::not_collected("events:ListRules")),
        }
    }
}

/// The root-related flags of `GetAccountSummary`. `None` means the key was
/// absent from the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSummary {
    pub mfa_enabled: Option<bool>,
    pub access_keys_present: Option<bool>,
    pub signing_certificates_present: Option<bool>,
    pub password_present: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualMfaDevice {
    pub serial_number: String,
    /// The ARN of the user the device is assigned to, if any.
    pub user_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlternateContact {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactInformation {
    pub full_name: String,
    pub address_line1: String,
    pub city: String,
    pub postal_code: String,
    pub country_code: String,
    pub phone_number: String,
    pub company_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: Option<i32>,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub max_age_days: Option<i32>,
    pub reuse_prevention: Option<i32>,
    pub expire_passwords: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub console_password: bool,
    pub mfa_devices: usize,
}

/// What `iam:ListOrganizationsFeatures` says about centralized root access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrganizationFeatures {
    /// The account is not in an organization.
    NotInOrganization,
    /// The account is a member, not the management account or delegated admin.
    NotManagementAccount,
    /// Trusted access for IAM is not enabled in Organizations.
    TrustedAccessDisabled,
    Enabled {
        organization_id: String,
        features: Vec<String>,
    },
}

/// A CloudTrail trail as `DescribeTrails` (with shadow trails) reports it,
/// plus its status and event selectors from its home region.
#[derive(Clone, Debug, PartialEq)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    pub organization_trail: bool,
    /// `CloudWatchLogsLogGroupArn`, if the trail delivers to CloudWatch Logs.
    pub log_group_arn: Option<String>,
    pub status: Fact<TrailStatus>,
    pub selectors: Fact<EventSelectors>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrailStatus {
    pub is_logging: bool,
    pub latest_cloudwatch_logs_delivery_error: Option<String>,
}

/// Which management events a trail records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventSelectors {
    Basic(Vec<BasicSelector>),
    Advanced(Vec<AdvancedSelector>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    pub include_management_events: bool,
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvancedSelector {
    pub name: Option<String>,
    pub fields: Vec<AdvancedField>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdvancedField {
    pub field: String,
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

/// One log group that a trail delivers to, with its metric filters.
#[derive(Clone, Debug, PartialEq)]
pub struct LogGroupChain {
    pub arn: String,
    pub name: String,
    pub region: String,
    pub filters: Fact<Vec<MetricFilter>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub metrics: Vec<FilterMetric>,
}

/// One metric a filter emits, with the alarms on it.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterMetric {
    pub namespace: String,
    pub name: String,
    pub value: String,
    pub dimensions: Vec<String>,
    pub alarms: Fact<Vec<Alarm>>,
}

/// A CloudWatch alarm as the adapter reads it, for verify (found by its
/// metric) and for deploy and teardown (found by name) alike.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Alarm {
    pub arn: String,
    pub name: String,
    pub namespace: String,
    pub metric_name: String,
    pub statistic: Option<String>,
    pub period: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub dimensions: Vec<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    /// The SNS topics among the alarm actions.
    pub topics: Vec<Topic>,
    /// `StateValue`: OK, ALARM or INSUFFICIENT_DATA.
    pub state: Option<String>,
    /// `StateUpdatedTimestamp`.
    pub state_updated: Option<OffsetDateTime>,
    pub treat_missing_data: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    pub arn: String,
    /// `false` when `GetTopicAttributes` says NotFound.
    pub exists: Fact<bool>,
    pub subscriptions: Fact<Vec<Subscription>>,
    /// The topic policy and KMS key from the same `GetTopicAttributes`.
    pub policy: Option<serde_json::Value>,
    pub kms_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub protocol: String,
    pub endpoint: String,
    /// `PendingConfirmation` until the recipient confirms.
    pub arn: String,
}

impl Subscription {
    pub fn confirmed(&self) -> bool {
        self.arn.starts_with("arn:")
    }
}

/// What the cloudtrail and root-alarm checks read.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmChainFacts {
    pub trails: Fact<Vec<Trail>>,
    /// The log groups of every trail that delivers to CloudWatch Logs.
    pub log_groups: Vec<LogGroupChain>,
}

// ------------------------------------------- the real-time rules (us-east-1)

/// One message rule as the adapter read it in us-east-1.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFacts {
    pub arn: String,
    pub enabled: bool,
    /// In state [`crate::domain::realtime::RULE_STATE`]: it also receives read-only management events.
    pub read_only_events: bool,
    pub pattern: String,
    /// Target ARNs.
    pub targets: Vec<String>,
    /// The SNS targets, read like the alarm chain's topics.
    pub topics: Vec<Topic>,
    /// `events:TestEventPattern` per corpus event: (name, should match, matched).
    pub tests: Vec<(&'static str, bool, Fact<bool>)>,
}

/// A region's forwarding rule as read there.
#[derive(Clone, Debug, PartialEq)]
pub struct ForwardFacts {
    pub enabled: bool,
    pub read_only_events: bool,
    /// Its pattern equals [`crate::domain::realtime::forward_pattern`].
    pub pattern_ok: bool,
    /// It targets the us-east-1 default bus through a role.
    pub target_ok: bool,
}

/// What verify reads for `root-realtime-alert`.
#[derive(Clone, Debug, PartialEq)]
pub struct RealtimeFacts {
    /// Each kind's rule (in [`crate::domain::realtime::KINDS`] order), `None` when missing.
    pub rules: Vec<(&'static str, Option<RuleFacts>)>,
    /// Each enabled region but us-east-1 and its forwarding rule.
    pub forwarding: Fact<Vec<(String, Fact<Option<ForwardFacts>>)>>,
}

impl RealtimeFacts {
    /// No rule of any kind: nothing real-time was deployed.
    pub fn is_absent(&self) -> bool {
        self.rules.iter().all(|(_, r)| r.is_none())
    }
}
