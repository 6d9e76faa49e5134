//! The organization side of the adapter: Organizations reads, `sts:AssumeRoot`
//! sessions into members, member contacts through the Account API with
//! `AccountId`, role sessions for `--role`, and `org harden`'s writes.
//!
//! It returns `crate::domain::org` and `crate::domain::facts` types only; no SDK type leaves
//! it. [`OrgHandle`] reads; root sessions it opens use the audit task policy,
//! which AWS itself limits to reads. [`OrgWriter`] is built only from a
//! `Writer` (`org harden` and the repair tasks of `super::roottask`). It must not decide verdicts.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use thiserror::Error;

use super::{classify, service_code, to_offset, AlternateKind, ConnectOptions, Reader};
use crate::domain::facts::{Fact, FactError, FactErrorKind};
use crate::domain::org::{
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
    /// Built without the SDK's retry: its calls go through the reader's budget.
    org: aws_sdk_organizations::Client,
    /// STS for AssumeRoot and AssumeRole, the same way.
    sts: aws_sdk_sts::Client,
}

/// What `member_facts` reads: only what the selected checks need.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemberReads {
    /// Open an AssumeRoot session (false when AWS would refuse it anyway).
    pub root: bool,
    /// The SECURITY alternate contact (`security-contact`).
    pub security: bool,
    /// `GetContactInformation` (`contact-info`).
    pub info: bool,
    /// The BILLING and OPERATIONS contacts too (`--compare-contacts`), to warn
    /// when SECURITY shares their address: two more Account Management calls
    /// per member, against the same 10-a-second quota.
    pub other_contacts: bool,
}

impl OrgHandle {
    pub fn new(reader: &Reader) -> Self {
        let unretried = super::budget::unretried(&reader.config);
        OrgHandle {
            org: aws_sdk_organizations::Client::new(&unretried),
            sts: aws_sdk_sts::Client::new(&unretried),
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
        let described = match self
            .reader
            .budget
            .call("organizations:DescribeOrganization", None, || {
                self.org.describe_organization().send()
            })
            .await
        {
            Ok(o) => o,
            Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => {
                return Err(OrgError::NotInOrganization {
                    account: caller.account_id,
                })
            }
            Err(e) => {
                return Err(OrgError::Read(
                    e.fact("organizations:DescribeOrganization").describe(),
                ))
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
        let action = "organizations:ListAccounts";
        let pages = self
            .reader
            .budget
            .pages(
                action,
                None,
                |t| self.org.list_accounts().set_next_token(t).send(),
                |p| p.next_token(),
            )
            .await
            .map_err(|e| e.fact(action))?;
        let mut out: Vec<OrgAccount> = pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| {
                // `State` replaces the deprecated `Status`; older answers carry only `Status`.
                #[allow(deprecated)]
                match (a.state(), a.status()) {
                    (Some(s), _) => s.as_str() == "ACTIVE",
                    (None, Some(s)) => s.as_str() == "ACTIVE",
                    (None, None) => false,
                }
            })
            .map(|a| OrgAccount {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                email: a.email().unwrap_or_default().to_string(),
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn trusted_access(&self) -> Fact<Vec<String>> {
        let action = "organizations:ListAWSServiceAccessForOrganization";
        let pages = self
            .reader
            .budget
            .pages(
                action,
                None,
                |t| {
                    self.org
                        .list_aws_service_access_for_organization()
                        .set_next_token(t)
                        .send()
                },
                |p| p.next_token(),
            )
            .await
            .map_err(|e| e.fact(action))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.enabled_service_principals())
            .filter_map(|p| p.service_principal().map(str::to_string))
            .collect())
    }

    async fn delegated_admins(&self) -> Fact<Vec<String>> {
        let action = "organizations:ListDelegatedAdministrators";
        let pages = self
            .reader
            .budget
            .pages(
                action,
                None,
                |t| {
                    self.org
                        .list_delegated_administrators()
                        .service_principal(IAM_PRINCIPAL)
                        .set_next_token(t)
                        .send()
                },
                |p| p.next_token(),
            )
            .await
            .map_err(|e| e.fact(action))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.delegated_administrators())
            .filter_map(|a| a.id().map(str::to_string))
            .collect())
    }

    /// A short `sts:AssumeRoot` session in `account_id` scoped by `task_policy`,
    /// on the configured (regional) STS endpoint.
    async fn root_session(&self, account_id: &str, task_policy: &str) -> Fact<SdkConfig> {
        let call = self
            .sts
            .assume_root()
            .target_principal(account_id)
            .task_policy_arn(
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(task_policy)
                    .build(),
            )
            .duration_seconds(ROOT_SESSION_SECONDS);
        let region = self.reader.config.region().map(|r| r.as_ref().to_string());
        let out = self
            .reader
            .budget
            .call("sts:AssumeRoot", region.as_deref(), || call.clone().send())
            .await
            .map_err(|e| e.fact("sts:AssumeRoot"))?;
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

    /// What the management account reads of a member without a role in it:
    /// root's credentials (one AssumeRoot), the SECURITY contact and the
    /// contact information, concurrently; BILLING and OPERATIONS only when
    /// asked. The root email came with `ListAccounts`.
    pub async fn member_facts(&self, account: &OrgAccount, reads: MemberReads) -> MemberFacts {
        let id = Some(account.id.as_str());
        let r = &self.reader;
        let root_read = async {
            if reads.root {
                self.member_root(&account.id).await
            } else {
                Err(FactError::not_collected("sts:AssumeRoot"))
            }
        };
        let contact = |kind, wanted: bool| async move {
            if wanted {
                r.alternate_contact_of(kind, id).await
            } else {
                Err(FactError::not_collected("account:GetAlternateContact"))
            }
        };
        let info = async {
            if reads.info {
                r.contact_information_of(id).await
            } else {
                Err(FactError::not_collected("account:GetContactInformation"))
            }
        };
        let others = reads.security && reads.other_contacts;
        let (root, sec, bill, ops, info) = tokio::join!(
            root_read,
            contact(AlternateKind::Security, reads.security),
            contact(AlternateKind::Billing, others),
            contact(AlternateKind::Operations, others),
            info,
        );
        MemberFacts {
            now: time::OffsetDateTime::now_utc(),
            account: account.clone(),
            root,
            security_contact: sec,
            billing_contact: bill,
            operations_contact: ops,
            contact_information: info,
        }
    }

    /// A read-only handle inside `arn:aws:iam::ACCOUNT:role/ROLE`.
    pub async fn role_reader(&self, account_id: &str, role: &str) -> Fact<Reader> {
        let call = self
            .sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account_id}:role/{role}"))
            .role_session_name("rootguard-verify")
            .duration_seconds(900);
        let region = self.reader.config.region().map(|r| r.as_ref().to_string());
        let out = self
            .reader
            .budget
            .call("sts:AssumeRole", region.as_deref(), || call.clone().send())
            .await
            .map_err(|e| e.fact("sts:AssumeRole"))?;
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
                throttle_deadline: self.reader.throttle_deadline,
                ..Default::default()
            },
        ))
    }

    /// Whether an OU id exists in the organization (`DescribeOrganizationalUnit`).
    pub async fn ou_exists(&self, ou: &str) -> bool {
        let call = self
            .org
            .describe_organizational_unit()
            .organizational_unit_id(ou);
        self.reader
            .budget
            .call("organizations:DescribeOrganizationalUnit", None, || {
                call.clone().send()
            })
            .await
            .is_ok()
    }

    /// One line for the run's summary when AWS throttled any of its calls.
    pub fn throttle_summary(&self) -> Option<String> {
        self.reader.budget.summary()
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

    /// A root session in a member for any task policy (the repair tasks of
    /// `super::roottask` build on it).
    pub(super) async fn root_session(
        &self,
        account_id: &str,
        task_policy: &str,
    ) -> Fact<SdkConfig> {
        self.handle.root_session(account_id, task_policy).await
    }

    pub async fn enable_trusted_access(&self, principal: &str) -> Result<(), FactError> {
        let action = "organizations:EnableAWSServiceAccess";
        let call = self
            .handle
            .org
            .enable_aws_service_access()
            .service_principal(principal);
        self.handle
            .reader
            .budget
            .call(action, None, || call.clone().send())
            .await
            .map(|_| ())
            .map_err(|e| e.fact(action))
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
            if crate::domain::org::is_virtual_mfa(serial) {
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
                            crate::domain::org::DELETE_TASK_POLICY
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
