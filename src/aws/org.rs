//! The organization side of the adapter: Organizations reads, `sts:AssumeRoot`
//! sessions into members, member contacts through the Account API with
//! `AccountId`, role sessions for `--role`, and `org harden`'s writes.
//!
//! It returns `crate::org` and `crate::facts` types only; no SDK type leaves
//! it. [`OrgReader`] reads; root sessions it opens use the audit task policy,
//! which AWS itself limits to reads. [`OrgWriter`] is built only by
//! `org harden`. It must not decide verdicts.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_types::SdkConfig;
use thiserror::Error;

use super::{classify, service_code, to_offset, AlternateKind, ConnectOptions, Reader};
use crate::facts::{Fact, FactError, FactErrorKind};
use crate::org::{
    MemberFacts, MemberRoot, OrgAccount, OrgFacts, RootCert, RootKey, AUDIT_TASK_POLICY,
    DELETE_TASK_POLICY, IAM_PRINCIPAL, ROOT_SESSION_SECONDS,
};

/// Why an organization-wide command cannot run from this account (exit 2).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum OrgError {
    #[error("account {account} is not in an AWS Organizations organization: run this from an organization's management account (or its IAM delegated administrator)")]
    NotInOrganization { account: String },
    #[error("account {account} is a member of {organization_id}, not its management account ({management}) or IAM delegated administrator: run this there")]
    NotManagement {
        account: String,
        organization_id: String,
        management: String,
    },
    #[error("cannot read the organization: {0}")]
    Read(String),
    #[error("--accounts names {0} not an ACTIVE account of the organization: {1}")]
    UnknownAccounts(&'static str, String),
}

/// The organization as the caller sees it, before any member is read.
#[derive(Clone, Debug)]
pub struct OrgHandle {
    reader: Reader,
    org: aws_sdk_organizations::Client,
}

fn err_text<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(_) => format!(
            "{}: {}",
            e.code().unwrap_or("UnknownError"),
            e.message().unwrap_or("")
        ),
        _ => super::transport_error(e),
    }
}

impl OrgHandle {
    pub fn new(reader: &Reader) -> Self {
        OrgHandle {
            org: aws_sdk_organizations::Client::new(&reader.config),
            reader: reader.clone(),
        }
    }

    /// Organization facts from the caller's account, or why this is the
    /// wrong place to run. The reads after `DescribeOrganization` run
    /// concurrently.
    pub async fn facts(&self) -> Result<OrgFacts, OrgError> {
        let caller = self
            .reader
            .caller()
            .await
            .map_err(|e| OrgError::Read(e.to_string()))?;
        let described = match self.org.describe_organization().send().await {
            Ok(o) => o,
            Err(e) if service_code(&e) == Some("AWSOrganizationsNotInUseException") => {
                return Err(OrgError::NotInOrganization {
                    account: caller.account_id,
                })
            }
            Err(e) => {
                return Err(OrgError::Read(format!(
                    "organizations:DescribeOrganization failed: {}",
                    err_text(&e)
                )))
            }
        };
        let o = described.organization();
        let organization_id = o.and_then(|o| o.id()).unwrap_or_default().to_string();
        let management = o
            .and_then(|o| o.master_account_id())
            .unwrap_or_default()
            .to_string();
        let accounts = self.accounts().await;
        let accounts = match accounts {
            Ok(a) => a,
            Err(e) if caller.account_id != management => {
                tracing::debug!(error = %e.describe(), "ListAccounts refused to a member");
                return Err(OrgError::NotManagement {
                    account: caller.account_id,
                    organization_id,
                    management,
                });
            }
            Err(e) => return Err(OrgError::Read(e.describe())),
        };
        let (features, trusted, admins) = tokio::join!(
            self.reader.organization_features(),
            self.trusted_access(),
            self.delegated_admins()
        );
        Ok(OrgFacts {
            now: time::OffsetDateTime::now_utc(),
            organization_id,
            management_account_id: management,
            caller_account_id: caller.account_id,
            caller_arn: caller.arn,
            features,
            trusted_access: trusted,
            delegated_admins: admins,
            accounts,
        })
    }

    /// `organizations:ListAccounts`, all pages, ACTIVE accounts only.
    async fn accounts(&self) -> Fact<Vec<OrgAccount>> {
        let mut pages = self.org.list_accounts().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("organizations:ListAccounts", &e))?;
            for a in page.accounts() {
                // `State` replaces the deprecated `Status`; older answers carry only `Status`.
                #[allow(deprecated)]
                let active = match (a.state(), a.status()) {
                    (Some(s), _) => s.as_str() == "ACTIVE",
                    (None, Some(s)) => s.as_str() == "ACTIVE",
                    (None, None) => false,
                };
                if active {
                    out.push(OrgAccount {
                        id: a.id().unwrap_or_default().to_string(),
                        name: a.name().unwrap_or_default().to_string(),
                        email: a.email().unwrap_or_default().to_string(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn trusted_access(&self) -> Fact<Vec<String>> {
        let mut pages = self
            .org
            .list_aws_service_access_for_organization()
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| classify("organizations:ListAWSServiceAccessForOrganization", &e))?;
            out.extend(
                page.enabled_service_principals()
                    .iter()
                    .filter_map(|p| p.service_principal().map(str::to_string)),
            );
        }
        Ok(out)
    }

    async fn delegated_admins(&self) -> Fact<Vec<String>> {
        let mut pages = self
            .org
            .list_delegated_administrators()
            .service_principal(IAM_PRINCIPAL)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| classify("organizations:ListDelegatedAdministrators", &e))?;
            out.extend(
                page.delegated_administrators()
                    .iter()
                    .filter_map(|a| a.id().map(str::to_string)),
            );
        }
        Ok(out)
    }

    /// A short `sts:AssumeRoot` session in `account_id` scoped by `task_policy`,
    /// on the configured (regional) STS endpoint.
    async fn root_session(&self, account_id: &str, task_policy: &str) -> Fact<SdkConfig> {
        let sts = aws_sdk_sts::Client::new(&self.reader.config);
        let out = sts
            .assume_root()
            .target_principal(account_id)
            .task_policy_arn(
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(task_policy)
                    .build(),
            )
            .duration_seconds(ROOT_SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| classify("sts:AssumeRoot", &e))?;
        let c = out.credentials().ok_or_else(|| {
            FactError::new(
                "sts:AssumeRoot",
                FactErrorKind::Error,
                "the answer carried no credentials",
            )
        })?;
        Ok(self.with_credentials(c, "rootguard-assume-root"))
    }

    fn with_credentials(
        &self,
        c: &aws_sdk_sts::types::Credentials,
        name: &'static str,
    ) -> SdkConfig {
        let expiry =
            SystemTime::UNIX_EPOCH + Duration::from_secs(c.expiration().secs().max(0) as u64);
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expiry),
            name,
        );
        self.reader
            .config
            .clone()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build()
    }

    /// A member's root credentials, read in an `IAMAuditRootUserCredentials`
    /// session. The four reads run concurrently; `GetUser` (for the password's
    /// last use) only when a password exists, `GetAccessKeyLastUsed` per key.
    pub async fn member_root(&self, account_id: &str) -> Fact<MemberRoot> {
        let config = self.root_session(account_id, AUDIT_TASK_POLICY).await?;
        read_root(&aws_sdk_iam::Client::new(&config)).await
    }

    /// What the management account reads of a member without a role in it.
    pub async fn member_facts(&self, account: &OrgAccount, root: bool) -> MemberFacts {
        let id = Some(account.id.as_str());
        let r = &self.reader;
        let root_read = async {
            if root {
                self.member_root(&account.id).await
            } else {
                Err(FactError::not_collected("sts:AssumeRoot"))
            }
        };
        let (root, sec, bill, ops, info, email) = tokio::join!(
            root_read,
            r.alternate_contact_of(AlternateKind::Security, id),
            r.alternate_contact_of(AlternateKind::Billing, id),
            r.alternate_contact_of(AlternateKind::Operations, id),
            r.contact_information_of(id),
            self.primary_email(&account.id),
        );
        MemberFacts {
            now: time::OffsetDateTime::now_utc(),
            account: account.clone(),
            root,
            security_contact: sec,
            billing_contact: bill,
            operations_contact: ops,
            contact_information: info,
            primary_email: email,
        }
    }

    async fn primary_email(&self, account_id: &str) -> Fact<String> {
        let account = aws_sdk_account::Client::new(&self.reader.config);
        account
            .get_primary_email()
            .account_id(account_id)
            .send()
            .await
            .map(|o| o.primary_email().unwrap_or_default().to_string())
            .map_err(|e| classify("account:GetPrimaryEmail", &e))
    }

    /// A read-only handle inside `arn:aws:iam::ACCOUNT:role/ROLE`.
    pub async fn role_reader(&self, account_id: &str, role: &str) -> Fact<Reader> {
        let sts = aws_sdk_sts::Client::new(&self.reader.config);
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account_id}:role/{role}"))
            .role_session_name("rootguard-verify")
            .duration_seconds(900)
            .send()
            .await
            .map_err(|e| classify("sts:AssumeRole", &e))?;
        let c = out.credentials().ok_or_else(|| {
            FactError::new(
                "sts:AssumeRole",
                FactErrorKind::Error,
                "the answer carried no credentials",
            )
        })?;
        let config = self.with_credentials(c, "rootguard-role");
        Ok(Reader::new(
            &config,
            &ConnectOptions {
                profile: self.reader.profile.clone(),
                ..Default::default()
            },
        ))
    }

    /// Whether an OU id exists in the organization (`DescribeOrganizationalUnit`).
    pub async fn ou_exists(&self, ou: &str) -> bool {
        self.org
            .describe_organizational_unit()
            .organizational_unit_id(ou)
            .send()
            .await
            .is_ok()
    }

    /// The caller's own account, read as a single account.
    pub fn own_reader(&self) -> &Reader {
        &self.reader
    }
}

/// Root's credentials through an IAM client whose caller acts as root.
async fn read_root(iam: &aws_sdk_iam::Client) -> Fact<MemberRoot> {
    let password = async {
        match iam.get_login_profile().send().await {
            Ok(_) => {
                let user = iam
                    .get_user()
                    .send()
                    .await
                    .map_err(|e| classify("iam:GetUser", &e))?;
                Ok((
                    true,
                    user.user()
                        .and_then(|u| u.password_last_used())
                        .and_then(to_offset),
                ))
            }
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok((false, None)),
            Err(e) => Err(classify("iam:GetLoginProfile", &e)),
        }
    };
    let keys = root_keys(iam);
    let mfa = async {
        iam.list_mfa_devices()
            .send()
            .await
            .map(|o| {
                o.mfa_devices()
                    .iter()
                    .map(|d| d.serial_number().to_string())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| classify("iam:ListMFADevices", &e))
    };
    let certs = async {
        iam.list_signing_certificates()
            .send()
            .await
            .map(|o| {
                o.certificates()
                    .iter()
                    .map(|c| RootCert {
                        id: c.certificate_id().to_string(),
                        active: c.status().as_str() == "Active",
                    })
                    .collect::<Vec<_>>()
            })
            .map_err(|e| classify("iam:ListSigningCertificates", &e))
    };
    let (password, keys, mfa, certs) = tokio::join!(password, keys, mfa, certs);
    let (password, password_last_used) = password?;
    Ok(MemberRoot {
        password,
        password_last_used,
        access_keys: keys?,
        signing_certs: certs?,
        mfa_devices: mfa?,
    })
}

/// Root's access keys with their last use, for a caller that acts as root (a
/// root session, or root's own credentials): `ListAccessKeys`, then
/// `GetAccessKeyLastUsed` for each (at most two), concurrently.
pub(super) async fn root_keys(iam: &aws_sdk_iam::Client) -> Fact<Vec<RootKey>> {
    let out = iam
        .list_access_keys()
        .send()
        .await
        .map_err(|e| classify("iam:ListAccessKeys", &e))?;
    let listed: Vec<(String, bool)> = out
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap_or_default().to_string(),
                k.status().map(|s| s.as_str()) == Some("Active"),
            )
        })
        .collect();
    futures::future::try_join_all(listed.into_iter().map(|(id, active)| async move {
        let used = iam
            .get_access_key_last_used()
            .access_key_id(&id)
            .send()
            .await
            .map_err(|e| classify("iam:GetAccessKeyLastUsed", &e))?;
        let last = used.access_key_last_used();
        let known = |s: Option<&str>| s.filter(|v| *v != "N/A").map(str::to_string);
        Ok::<_, FactError>(RootKey {
            id,
            active,
            last_used: last.and_then(|l| l.last_used_date()).and_then(to_offset),
            last_used_service: known(last.map(|l| l.service_name())),
            last_used_region: known(last.map(|l| l.region())),
        })
    }))
    .await
}

/// `org harden`'s writes. Built only through a `Writer` (`Writer::org`), so
/// `verify --org`, which holds an [`OrgHandle`], cannot obtain one:
///
/// ```compile_fail,E0599
/// fn escalate(h: &rootguard::aws::org::OrgHandle) -> rootguard::aws::org::OrgWriter {
///     h.writer()
/// }
/// ```
///
/// ```compile_fail,E0624
/// fn escalate(config: &aws_types::SdkConfig) -> rootguard::aws::org::OrgWriter {
///     rootguard::aws::org::OrgWriter::new(config)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct OrgWriter {
    handle: OrgHandle,
}

impl OrgWriter {
    /// Only a [`super::Writer`] builds one (`Writer::org`).
    pub(super) fn new(config: &SdkConfig) -> Self {
        let reader = Reader::new(config, &ConnectOptions::default());
        OrgWriter {
            handle: OrgHandle::new(&reader),
        }
    }

    pub async fn enable_trusted_access(&self, principal: &str) -> Result<(), FactError> {
        self.handle
            .org
            .enable_aws_service_access()
            .service_principal(principal)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("organizations:EnableAWSServiceAccess", &e))
    }

    pub async fn enable_root_credentials_management(&self) -> Result<(), FactError> {
        let iam = aws_sdk_iam::Client::new(&self.handle.reader.config);
        iam.enable_organizations_root_credentials_management()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("iam:EnableOrganizationsRootCredentialsManagement", &e))
    }

    pub async fn enable_root_sessions(&self) -> Result<(), FactError> {
        let iam = aws_sdk_iam::Client::new(&self.handle.reader.config);
        iam.enable_organizations_root_sessions()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("iam:EnableOrganizationsRootSessions", &e))
    }

    /// Opens an `IAMDeleteRootUserCredentials` session in the member, reads
    /// what root has now, and deletes it: MFA devices are deactivated (and
    /// virtual ones deleted), then access keys, signing certificates and the
    /// login profile. Returns what was deleted. What is already gone is not
    /// an error, so a stopped run is completed by the next.
    pub async fn delete_member_root(&self, account_id: &str) -> Result<Vec<String>, FactError> {
        let config = self
            .handle
            .root_session(account_id, DELETE_TASK_POLICY)
            .await?;
        let iam = aws_sdk_iam::Client::new(&config);
        let now = read_root(&iam).await?;
        let mut done = Vec::new();
        for serial in &now.mfa_devices {
            match iam
                .deactivate_mfa_device()
                .serial_number(serial)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if service_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(classify("iam:DeactivateMFADevice", &e)),
            }
            if crate::org::is_virtual_mfa(serial) {
                match iam
                    .delete_virtual_mfa_device()
                    .serial_number(serial)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if service_code(&e) == Some("NoSuchEntity") => {}
                    Err(e) => {
                        // Deactivated but not deleted: the root-task policy
                        // cannot list unassigned devices, so the next run
                        // would not see it. Say which one and how to finish.
                        let mut err = classify("iam:DeleteVirtualMFADevice", &e);
                        err.message = format!(
                            "{}; {serial} is deactivated but still exists and a later run cannot list it: delete it with \
                             `aws sts assume-root --target-principal {} --task-policy-arn arn={}` and then \
                             `aws iam delete-virtual-mfa-device --serial-number {serial}` with those credentials",
                            err.message,
                            account_id,
                            crate::org::DELETE_TASK_POLICY
                        );
                        return Err(err);
                    }
                }
            }
            done.push(format!("MFA device {serial}"));
        }
        for k in &now.access_keys {
            match iam.delete_access_key().access_key_id(&k.id).send().await {
                Ok(_) => done.push(format!("access key {}", k.id)),
                Err(e) if service_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(classify("iam:DeleteAccessKey", &e)),
            }
        }
        for c in &now.signing_certs {
            match iam
                .delete_signing_certificate()
                .certificate_id(&c.id)
                .send()
                .await
            {
                Ok(_) => done.push(format!("signing certificate {}", c.id)),
                Err(e) if service_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(classify("iam:DeleteSigningCertificate", &e)),
            }
        }
        if now.password {
            match iam.delete_login_profile().send().await {
                Ok(_) => done.push("password".into()),
                Err(e) if service_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(classify("iam:DeleteLoginProfile", &e)),
            }
        }
        Ok(done)
    }
}
