//! Account and IAM reads of one account: the root flags of the account
//! summary, the credential report, virtual MFA devices, the alternate
//! contacts and contact information (through the rate budget), the password
//! policy, IAM users, the organization's root features and the enabled
//! regions. They return `crate::domain::facts` types; no verdict is decided here.

use std::time::{Duration, Instant};

use aws_sdk_account::types::AlternateContactType;
use aws_sdk_iam::types::{AssignmentStatusType, ReportStateType, SummaryKeyType};
use futures::{StreamExt, TryStreamExt};
use tracing::debug;

use super::{classify, service_code, to_offset, Reader, REPORT_TIMEOUT};
use crate::domain::credreport;
use crate::domain::facts::*;

impl Reader {
    /// `iam:GetAccountSummary`, root flags only.
    pub async fn account_summary(&self) -> Fact<AccountSummary> {
        let out = self
            .iam
            .get_account_summary()
            .send()
            .await
            .map_err(|e| classify("iam:GetAccountSummary", &e))?;
        let map = out.summary_map();
        let get = |k: SummaryKeyType| map.and_then(|m| m.get(&k)).map(|v| *v != 0);
        Ok(AccountSummary {
            mfa_enabled: get(SummaryKeyType::AccountMfaEnabled),
            access_keys_present: get(SummaryKeyType::AccountAccessKeysPresent),
            signing_certificates_present: get(SummaryKeyType::AccountSigningCertificatesPresent),
            password_present: get(SummaryKeyType::AccountPasswordPresent),
        })
    }

    /// Generates the credential report, polls with backoff until it is ready,
    /// and parses it.
    pub async fn credential_report(&self) -> Fact<credreport::CredentialReport> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(20);
        loop {
            let gen = self
                .iam
                .generate_credential_report()
                .send()
                .await
                .map_err(|e| classify("iam:GenerateCredentialReport", &e))?;
            if gen.state() == Some(&ReportStateType::Complete) {
                match self.iam.get_credential_report().send().await {
                    Ok(out) => {
                        let content = out.content().map(|b| b.as_ref()).unwrap_or_default();
                        let generated = out.generated_time().and_then(to_offset);
                        debug!(elapsed = ?start.elapsed(), "credential report ready");
                        return credreport::parse(content, generated).map_err(|e| {
                            FactError::new(
                                "iam:GetCredentialReport",
                                FactErrorKind::Error,
                                e.to_string(),
                            )
                        });
                    }
                    Err(e)
                        if matches!(
                            service_code(&e),
                            Some("ReportInProgress" | "ReportNotPresent")
                        ) => {}
                    Err(e) => return Err(classify("iam:GetCredentialReport", &e)),
                }
            }
            if start.elapsed() > REPORT_TIMEOUT {
                return Err(FactError::new(
                    "iam:GenerateCredentialReport",
                    FactErrorKind::Error,
                    format!(
                        "the credential report was not ready after {}s",
                        REPORT_TIMEOUT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// `iam:ListVirtualMFADevices` with AssignmentStatus=Assigned, all pages.
    pub async fn assigned_virtual_mfa(&self) -> Fact<Vec<VirtualMfaDevice>> {
        self.iam
            .list_virtual_mfa_devices()
            .assignment_status(AssignmentStatusType::Assigned)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|devices| {
                devices
                    .iter()
                    .map(|d| VirtualMfaDevice {
                        serial_number: d.serial_number().to_string(),
                        user_arn: d.user().map(|u| u.arn().to_string()),
                    })
                    .collect()
            })
            .map_err(|e| classify("iam:ListVirtualMFADevices", &e))
    }

    /// `account:GetAlternateContact`; `None` when that contact is not set.
    pub async fn alternate_contact(&self, kind: AlternateKind) -> Fact<Option<AlternateContact>> {
        self.alternate_contact_of(kind, None).await
    }

    /// `account:GetAlternateContact` for this account, or with `AccountId`
    /// for a member (from the management account, with trusted access).
    pub async fn alternate_contact_of(
        &self,
        kind: AlternateKind,
        account_id: Option<&str>,
    ) -> Fact<Option<AlternateContact>> {
        let t = match kind {
            AlternateKind::Security => AlternateContactType::Security,
            AlternateKind::Billing => AlternateContactType::Billing,
            AlternateKind::Operations => AlternateContactType::Operations,
        };
        let call = self
            .account
            .get_alternate_contact()
            .set_account_id(account_id.map(str::to_string))
            .alternate_contact_type(t);
        match self
            .budget
            .call("account:GetAlternateContact", None, || call.clone().send())
            .await
        {
            Ok(out) => Ok(out.alternate_contact().map(|c| AlternateContact {
                name: c.name().unwrap_or_default().to_string(),
                title: c.title().unwrap_or_default().to_string(),
                email: c.email_address().unwrap_or_default().to_string(),
                phone: c.phone_number().unwrap_or_default().to_string(),
            })),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e.fact("account:GetAlternateContact")),
        }
    }

    /// `account:GetContactInformation`; `None` when none is set.
    pub async fn contact_information(&self) -> Fact<Option<ContactInformation>> {
        self.contact_information_of(None).await
    }

    /// `account:GetContactInformation`, with `AccountId` for a member.
    pub async fn contact_information_of(
        &self,
        account_id: Option<&str>,
    ) -> Fact<Option<ContactInformation>> {
        let call = self
            .account
            .get_contact_information()
            .set_account_id(account_id.map(str::to_string));
        match self
            .budget
            .call("account:GetContactInformation", None, || {
                call.clone().send()
            })
            .await
        {
            Ok(out) => Ok(out.contact_information().map(|c| ContactInformation {
                full_name: c.full_name().to_string(),
                address_line1: c.address_line1().to_string(),
                city: c.city().to_string(),
                postal_code: c.postal_code().to_string(),
                country_code: c.country_code().to_string(),
                phone_number: c.phone_number().to_string(),
                company_name: c.company_name().map(str::to_string),
            })),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e.fact("account:GetContactInformation")),
        }
    }

    /// `iam:GetAccountPasswordPolicy`; `None` when no policy is set.
    pub async fn password_policy(&self) -> Fact<Option<PasswordPolicy>> {
        match self.iam.get_account_password_policy().send().await {
            Ok(out) => Ok(out.password_policy().map(|p| PasswordPolicy {
                minimum_length: p.minimum_password_length(),
                require_uppercase: p.require_uppercase_characters(),
                require_lowercase: p.require_lowercase_characters(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
                max_age_days: p.max_password_age(),
                reuse_prevention: p.password_reuse_prevention(),
                expire_passwords: p.expire_passwords(),
            })),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(None),
            Err(e) => Err(classify("iam:GetAccountPasswordPolicy", &e)),
        }
    }

    /// Every IAM user with whether it has a console password and how many
    /// MFA devices. Per-user calls run concurrently.
    pub async fn users(&self) -> Fact<Vec<IamUser>> {
        let listed: Vec<(String, String)> = self
            .iam
            .list_users()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify("iam:ListUsers", &e))?
            .iter()
            .map(|u| (u.user_name().to_string(), u.arn().to_string()))
            .collect();
        let mut users: Vec<IamUser> = futures::stream::iter(listed)
            .map(|(name, arn)| async move {
                let console_password =
                    match self.iam.get_login_profile().user_name(&name).send().await {
                        Ok(_) => true,
                        Err(e) if service_code(&e) == Some("NoSuchEntity") => false,
                        Err(e) => return Err(classify("iam:GetLoginProfile", &e)),
                    };
                let mfa_devices = if console_password {
                    self.iam
                        .list_mfa_devices()
                        .user_name(&name)
                        .send()
                        .await
                        .map_err(|e| classify("iam:ListMFADevices", &e))?
                        .mfa_devices()
                        .len()
                } else {
                    0
                };
                Ok(IamUser {
                    name,
                    arn,
                    console_password,
                    mfa_devices,
                })
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(users)
    }

    /// `iam:ListOrganizationsFeatures`, with its documented errors mapped.
    pub async fn organization_features(&self) -> Fact<OrganizationFeatures> {
        match self.iam.list_organizations_features().send().await {
            Ok(out) => Ok(OrganizationFeatures::Enabled {
                organization_id: out.organization_id().unwrap_or_default().to_string(),
                features: out
                    .enabled_features()
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect(),
            }),
            Err(e) => match service_code(&e) {
                Some("OrganizationNotFoundException") => {
                    Ok(OrganizationFeatures::NotInOrganization)
                }
                Some("AccountNotManagementOrDelegatedAdministratorException") => {
                    Ok(OrganizationFeatures::NotManagementAccount)
                }
                Some("ServiceAccessNotEnabledException") => {
                    Ok(OrganizationFeatures::TrustedAccessDisabled)
                }
                _ => Err(classify("iam:ListOrganizationsFeatures", &e)),
            },
        }
    }

    /// `account:ListRegions`: the regions enabled for this account (enabled by
    /// default or opted in), all pages.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, FactError> {
        use aws_sdk_account::types::RegionOptStatus;
        let action = "account:ListRegions";
        let pages = self
            .budget
            .pages(
                action,
                None,
                |t| {
                    self.account
                        .list_regions()
                        .region_opt_status_contains(RegionOptStatus::Enabled)
                        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
                        .set_next_token(t)
                        .send()
                },
                |p| p.next_token(),
            )
            .await
            .map_err(|e| e.fact(action))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.regions())
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect())
    }
}

#[derive(Clone, Copy, Debug)]
pub enum AlternateKind {
    Security,
    Billing,
    Operations,
}

/// IAM returns policy documents URL-encoded (RFC 3986).
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
