//! The account facts snapshot: plain data that the checks judge.
//!
//! This module owns the types that carry what was read from an account. It must
//! not depend on the AWS SDK or do any I/O: the adapter (`crate::aws`) fills
//! these types, and the checks (`crate::checks`) read them. Every source is a
//! [`Fact`], so a failed read travels to the checks as data and turns into an
//! `unknown` verdict there, never into a silent pass.

use serde::Serialize;
use time::OffsetDateTime;

use crate::credreport::CredentialReport;

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
    /// The call failed for another reason (throttling after retries, 5xx, a
    /// malformed answer, a timeout).
    Error,
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
