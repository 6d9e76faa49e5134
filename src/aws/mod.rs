//! The adapter: the only module that talks to AWS.
//!
//! It owns SDK configuration (the standard credential chain, region and
//! endpoint overrides) and turns SDK answers into our own types from
//! `crate::facts`. It must not decide verdicts, and no SDK type may leave it.
//! [`Reader`] has read-only methods only: `verify` receives a `Reader`, so it
//! cannot change an account by construction.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_account::types::AlternateContactType;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{AssignmentStatusType, ReportStateType, SummaryKeyType};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_types::region::Region;
use aws_types::SdkConfig;
use futures::{FutureExt, StreamExt, TryStreamExt};
use thiserror::Error;
use time::OffsetDateTime;
use tracing::debug;

use crate::checks::Source;
use crate::credreport;
use crate::facts::*;

/// Where and as whom to connect. Unset fields fall back to the standard chain
/// (env vars, shared config and credentials files, SSO, IMDS), and
/// `AWS_ENDPOINT_URL` is honoured by aws-config itself.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// How long a throttled call is retried (`--throttle-deadline`); unset:
    /// [`budget::DEFAULT_DEADLINE`].
    pub throttle_deadline: Option<Duration>,
}

/// How long one attempt of one AWS call may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Region used when the chain names none: IAM, STS and Account are global.
pub const FALLBACK_REGION: &str = "us-east-1";

/// A connection to one account through the standard chain. It is the only
/// place a [`Writer`] comes from: commands that change an account take theirs
/// here; `verify` is handed only the [`Reader`] (or an [`org::OrgHandle`]),
/// neither of which can give out a writer, a session or the SDK config.
#[derive(Clone, Debug)]
pub struct Session {
    config: SdkConfig,
    opts: ConnectOptions,
    /// The calling account's rate budget, shared by every handle it gives out.
    budget: budget::Budget,
}

impl Session {
    /// Loads the SDK configuration (credentials, region, endpoint) once.
    pub async fn load(opts: &ConnectOptions) -> Self {
        let config = load_config(opts).await;
        Session {
            budget: budget_for(&config, opts),
            config,
            opts: opts.clone(),
        }
    }

    /// Read-only access to the account.
    pub fn reader(&self) -> Reader {
        Reader::with_budget(&self.config, &self.opts, self.budget.clone())
    }

    /// The organization as this caller sees it (reads and audit sessions only).
    pub fn org(&self) -> org::OrgHandle {
        org::OrgHandle::new(&self.reader())
    }

    /// Imports findings into this caller's Security Hub (`verify
    /// --security-hub`): the only write a verify run can make.
    pub fn security_hub(&self) -> securityhub::FindingsImporter {
        securityhub::FindingsImporter::new(&self.config, self.budget.clone())
    }

    /// Writes to the account; only commands that change something ask.
    pub fn writer(&self) -> Writer {
        Writer::new(&self.config)
    }
}

/// A fresh rate budget for one calling account.
fn budget_for(config: &SdkConfig, opts: &ConnectOptions) -> budget::Budget {
    budget::Budget::new(
        opts.throttle_deadline.unwrap_or(budget::DEFAULT_DEADLINE),
        config.retry_config().map_or(3, |r| r.max_attempts()),
    )
}

/// Loads the SDK configuration from the standard chain.
async fn load_config(opts: &ConnectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    // An endpoint that accepts a connection and never answers must not hang
    // the run: each attempt gives up after a minute (and is retried).
    loader = loader.timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(3100))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build(),
    );
    let config = loader.load().await;
    if config.region().is_none() {
        debug!("no region configured; using {FALLBACK_REGION} for global services");
        return config
            .into_builder()
            .region(Region::from_static(FALLBACK_REGION))
            .build();
    }
    config
}

/// Why AWS could not be used at all; verify exits 2 on this.
#[derive(Clone, Debug, Error)]
pub enum ConnectError {
    #[error("no usable AWS credentials{}: {detail} (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`)", profile.as_ref().map(|p| format!(" for --profile {p:?}")).unwrap_or_default())]
    Credentials {
        profile: Option<String>,
        detail: String,
    },
    #[error("cannot reach AWS at {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("AWS rejected the credentials: {0}")]
    Rejected(String),
    #[error("the endpoint {endpoint} does not speak AWS: it answered HTTP {status} without an AWS error (check AWS_ENDPOINT_URL / --endpoint-url)")]
    NotAws { endpoint: String, status: u16 },
    #[error("AWS is unavailable at {endpoint}: {detail}, still failing after the SDK's retries; try again later")]
    Unavailable { endpoint: String, detail: String },
    #[error("sts:GetCallerIdentity failed: {0}")]
    Refused(String),
}

/// Whether the credential chain failed (no credentials, a profile that
/// cannot give any), decided by the error's type anywhere in its source
/// chain, not by its text.
fn caused_by_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Error codes that mean the credentials themselves were refused.
const CREDENTIAL_CODES: &[&str] = &[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "AccessDenied",
    "AccessDeniedException",
];

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

impl Caller {
    /// Whether the caller is the account's root user.
    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root") && self.arn.split(':').nth(2) == Some("iam")
    }
}

pub(crate) fn classify<E, R>(
    action: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> FactError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("UnknownError");
            let message = err.message().unwrap_or("").to_string();
            let kind = if code.contains("AccessDenied")
                || code == "UnauthorizedOperation"
                || code == "AuthorizationError"
            {
                FactErrorKind::AccessDenied
            } else {
                FactErrorKind::Error
            };
            FactError::new(action, kind, format!("{code}: {message}"))
        }
        _ => FactError::new(action, FactErrorKind::Error, transport_error(err)),
    }
}

/// One line for an error that is not an AWS error answer: a timeout, a
/// connection failure, or an answer that is not AWS's (the SDK's full debug
/// text is logged at -v).
pub(crate) fn transport_error<E, R>(
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let full = DisplayErrorContext(err).to_string();
    debug!(error = %full, "request failed");
    match err {
        SdkError::TimeoutError(_) => "the request timed out".into(),
        SdkError::DispatchFailure(_) => format!("cannot connect: {}", short(&full)),
        SdkError::ResponseError(r) => {
            let status = format!("{:?}", r.raw());
            let code = status
                .split("StatusCode(")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .unwrap_or("?");
            format!("the endpoint answered HTTP {code} with a body that is not an AWS answer")
        }
        _ => short(&full),
    }
}

pub(crate) fn service_code<E, R>(
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        aws_smithy_runtime_api::client::result::SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

fn to_offset(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}

/// Read-only access to one account. Every method reads; none returns a
/// [`Writer`], a [`Session`] or the SDK configuration, and `Writer` can be built
/// only inside this module, so code that holds a `Reader` cannot write.
/// What a holder can do (compiles):
///
/// ```no_run
/// async fn audit(r: &rootguard::aws::Reader) {
///     let _ = r.caller().await;
/// }
/// ```
///
/// What it cannot (each fails to compile, with the error code named):
///
/// ```compile_fail,E0599
/// fn escalate(r: &rootguard::aws::Reader) -> rootguard::aws::Writer {
///     r.writer()
/// }
/// ```
///
/// ```compile_fail,E0599
/// fn escalate(r: &rootguard::aws::Reader) -> aws_types::SdkConfig {
///     r.sdk_config()
/// }
/// ```
///
/// ```compile_fail,E0624
/// fn escalate(config: &aws_types::SdkConfig) -> rootguard::aws::Writer {
///     rootguard::aws::Writer::new(config)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Reader {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    /// Built without the SDK's retry: its calls go through `budget`.
    account: aws_sdk_account::Client,
    endpoint: String,
    profile: Option<String>,
    config: SdkConfig,
    /// The calling account's rate budget, shared by every clone.
    budget: budget::Budget,
    throttle_deadline: Option<Duration>,
}

/// How long to wait for AWS to generate the credential report.
const REPORT_TIMEOUT: Duration = Duration::from_secs(90);

impl Reader {
    /// A reader for another calling account (a role session), with its own budget.
    fn new(config: &SdkConfig, opts: &ConnectOptions) -> Self {
        Self::with_budget(config, opts, budget_for(config, opts))
    }

    fn with_budget(config: &SdkConfig, opts: &ConnectOptions, budget: budget::Budget) -> Self {
        let endpoint = config
            .endpoint_url()
            .map(str::to_string)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .unwrap_or_else(|| "the AWS endpoints".to_string());
        Reader {
            iam: aws_sdk_iam::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            account: aws_sdk_account::Client::new(&budget::unretried(config)),
            endpoint,
            profile: opts.profile.clone(),
            config: config.clone(),
            budget,
            throttle_deadline: opts.throttle_deadline,
        }
    }

    /// `sts:GetCallerIdentity`. Failure here means AWS cannot be used at all.
    pub async fn caller(&self) -> Result<Caller, ConnectError> {
        use aws_smithy_runtime_api::client::result::SdkError;
        use ConnectError::*;
        let out = self.sts.get_caller_identity().send().await.map_err(|e| {
            let detail = DisplayErrorContext(&e).to_string();
            debug!(error = %detail, "sts:GetCallerIdentity failed");
            match &e {
                SdkError::ServiceError(se) => {
                    let status = se.raw().status().as_u16();
                    let text = format!(
                        "{}: {}",
                        e.code().unwrap_or("UnknownError"),
                        e.message().unwrap_or("")
                    );
                    match e.code() {
                        None => NotAws {
                            endpoint: self.endpoint.clone(),
                            status,
                        },
                        Some(c) if CREDENTIAL_CODES.contains(&c) => Rejected(text),
                        Some(_) if status >= 500 || status == 429 => Unavailable {
                            endpoint: self.endpoint.clone(),
                            detail: format!("HTTP {status} {text}"),
                        },
                        Some(c) if c.contains("Throttl") => Unavailable {
                            endpoint: self.endpoint.clone(),
                            detail: text,
                        },
                        Some(_) => Refused(text),
                    }
                }
                SdkError::ResponseError(r) => NotAws {
                    endpoint: self.endpoint.clone(),
                    status: r.raw().status().as_u16(),
                },
                SdkError::TimeoutError(_) => Unreachable {
                    endpoint: self.endpoint.clone(),
                    detail: format!(
                        "no answer within {} s per attempt, after the SDK's retries",
                        ATTEMPT_TIMEOUT.as_secs()
                    ),
                },
                _ if caused_by_credentials(&e) => Credentials {
                    profile: self.profile.clone(),
                    detail: short(&detail),
                },
                _ => Unreachable {
                    endpoint: self.endpoint.clone(),
                    detail: short(&detail),
                },
            }
        })?;
        Ok(Caller {
            account_id: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

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
            .call("account:GetContactInformation", None, || call.clone().send())
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

    /// Reads every source in `needs`, all concurrently. Fails only when AWS
    /// cannot be used at all (no credentials, unreachable endpoint).
    pub async fn collect(&self, needs: &[Source]) -> Result<AccountFacts, ConnectError> {
        let start = Instant::now();
        let want = |s: Source| needs.contains(&s);
        macro_rules! maybe {
            ($src:expr, $action:expr, $fut:expr) => {
                async {
                    if want($src) {
                        let t = Instant::now();
                        let r = $fut.await;
                        debug!(source = ?$src, elapsed = ?t.elapsed(), ok = r.is_ok(), "read");
                        r
                    } else {
                        Err(FactError::not_collected($action))
                    }
                }
            };
        }
        // The chain needs the account id only to skip other accounts' log groups,
        // so it shares the caller read instead of waiting for it up front.
        let caller_shared = self.caller().shared();
        let (
            caller,
            summary,
            report,
            vmfa,
            sec,
            bill,
            ops,
            info,
            policy,
            users,
            org,
            chain,
            realtime,
        ) = tokio::join!(
            caller_shared.clone(),
            maybe!(
                Source::Summary,
                "iam:GetAccountSummary",
                self.account_summary()
            ),
            maybe!(
                Source::CredentialReport,
                "iam:GetCredentialReport",
                self.credential_report()
            ),
            maybe!(
                Source::VirtualMfa,
                "iam:ListVirtualMFADevices",
                self.assigned_virtual_mfa()
            ),
            maybe!(
                Source::AlternateContacts,
                "account:GetAlternateContact",
                self.alternate_contact(AlternateKind::Security)
            ),
            maybe!(
                Source::AlternateContacts,
                "account:GetAlternateContact",
                self.alternate_contact(AlternateKind::Billing)
            ),
            maybe!(
                Source::AlternateContacts,
                "account:GetAlternateContact",
                self.alternate_contact(AlternateKind::Operations)
            ),
            maybe!(
                Source::ContactInformation,
                "account:GetContactInformation",
                self.contact_information()
            ),
            maybe!(
                Source::PasswordPolicy,
                "iam:GetAccountPasswordPolicy",
                self.password_policy()
            ),
            maybe!(Source::Users, "iam:ListUsers", self.users()),
            maybe!(
                Source::Organization,
                "iam:ListOrganizationsFeatures",
                self.organization_features()
            ),
            maybe!(
                Source::AlarmChain,
                "cloudtrail:DescribeTrails",
                self.alarm_chain(async { caller_shared.clone().await.ok().map(|c| c.account_id) })
            ),
            maybe!(Source::Realtime, "events:DescribeRule", self.realtime()),
        );
        let caller = caller?;
        debug!(elapsed = ?start.elapsed(), "all reads done");
        Ok(AccountFacts {
            now: OffsetDateTime::now_utc(),
            account_id: caller.account_id,
            caller_arn: caller.arn,
            summary,
            credential_report: report,
            assigned_virtual_mfa: vmfa,
            security_contact: sec,
            billing_contact: bill,
            operations_contact: ops,
            contact_information: info,
            password_policy: policy,
            users,
            organization: org,
            alarm_chain: chain,
            realtime,
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub enum AlternateKind {
    Security,
    Billing,
    Operations,
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn percent_decode(s: &str) -> String {
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

/// The first line of a long SDK error chain, trimmed for a one-line message.
fn short(detail: &str) -> String {
    let line = detail.lines().next().unwrap_or(detail);
    let line = line
        .trim_start_matches("dispatch failure: ")
        .trim_start_matches("other: ");
    let line = line.trim_end_matches(" Attempted:").trim_end_matches(':');
    if line.len() > 300 {
        format!("{}…", &line[..line.floor_char_boundary(300)])
    } else {
        line.to_string()
    }
}

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

/// The session's configuration aimed at `region`: the one way a handle
/// reaches a region other than the session's.
fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .clone()
        .into_builder()
        .region(Region::new(region.to_string()))
        .build()
}

impl Reader {
    fn regional(&self, region: &str) -> SdkConfig {
        in_region(&self.config, region)
    }

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

    async fn topic(&self, arn: &str) -> Topic {
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

// ------------------------------------------------------------ real-time rule

impl Reader {
    fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.regional(crate::realtime::RULE_REGION))
    }

    /// The rule as deploy and teardown see it: pattern, state, target, input
    /// transformer and tag; `None` when there is no such rule.
    pub async fn realtime_rule_state(&self) -> Result<Option<crate::deploy::RuleState>, FactError> {
        self.rule_state(None, crate::realtime::RULE_NAME, crate::realtime::TARGET_ID)
            .await
    }

    /// What `root-realtime-alert` judges: the rule, its SNS targets' topics,
    /// and `events:TestEventPattern` on every corpus event, concurrently.
    pub async fn realtime(&self) -> Fact<crate::realtime::RealtimeFacts> {
        use crate::realtime::{expectations, RuleFacts, RULE_NAME};
        let ev = self.events();
        let rule = match ev.describe_rule().name(RULE_NAME).send().await {
            Ok(r) => r,
            Err(e) if service_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(classify("events:DescribeRule", &e)),
        };
        let pattern = rule.event_pattern().unwrap_or_default().to_string();
        let targets = async {
            ev.list_targets_by_rule()
                .rule(RULE_NAME)
                .send()
                .await
                .map(|t| {
                    t.targets()
                        .iter()
                        .map(|t| t.arn().to_string())
                        .collect::<Vec<_>>()
                })
                .map_err(|e| classify("events:ListTargetsByRule", &e))
        };
        let tests =
            futures::future::join_all(expectations().into_iter().map(|(name, should, event)| {
                let ev = &ev;
                let pattern = &pattern;
                async move {
                    let got = ev
                        .test_event_pattern()
                        .event_pattern(pattern)
                        .event(event.to_string())
                        .send()
                        .await
                        .map(|r| r.result())
                        .map_err(|e| classify("events:TestEventPattern", &e));
                    (name, should, got)
                }
            }));
        let (targets, tests) = tokio::join!(targets, tests);
        let targets = targets?;
        let topics = futures::future::join_all(
            targets
                .iter()
                .filter(|a| a.split(':').nth(2) == Some("sns"))
                .map(|arn| self.topic(arn)),
        )
        .await;
        Ok(Some(RuleFacts {
            arn: rule.arn().unwrap_or_default().to_string(),
            enabled: rule.state().map(|s| s.as_str()) == Some("ENABLED"),
            pattern,
            targets,
            topics,
            tests,
        }))
    }
}

mod write;
pub use write::{IamMfa, RootKey, Writer};

pub mod budget;
pub mod env;
mod guardduty;
pub mod org;
pub mod securityhub;
mod stackset;

// ------------------------------------------------------------ deploy reads

impl Reader {
    /// Which of `--create-trail`'s resources exist, in `region`.
    pub async fn trail_infra(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<crate::deploy::TrailInfraState, FactError> {
        use crate::deploy::*;
        let config = self.regional(region);
        let custom = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(custom)
                .build(),
        );
        let iam = aws_sdk_iam::Client::new(&config);
        let ct = aws_sdk_cloudtrail::Client::new(&config);
        let bucket_name = trail_bucket(account_id, region);
        let (bucket, log_group, role, role_policy, trail) = tokio::join!(
            s3.head_bucket()
                .bucket(&bucket_name)
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
                        "the S3 bucket {bucket_name} exists and is not owned by account {account_id} \
                         (ExpectedBucketOwner refused): rootguard will not deliver your trail to it. \
                         Use an existing trail with --log-group, or ask AWS Support about the squatted name"
                    ),
                ))
            }
            Err(e) => return Err(classify("s3:ListBucket", &e)),
        };
        let (bucket_policy, bucket_public_access_blocked, bucket_tagged) = if bucket {
            let (policy, pab, tags) = tokio::join!(
                s3.get_bucket_policy()
                    .bucket(&bucket_name)
                    .expected_bucket_owner(account_id)
                    .send(),
                s3.get_public_access_block()
                    .bucket(&bucket_name)
                    .expected_bucket_owner(account_id)
                    .send(),
                s3.get_bucket_tagging()
                    .bucket(&bucket_name)
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
        let role = match role {
            Ok(_) => true,
            Err(e) if service_code(&e) == Some("NoSuchEntity") => false,
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
            trail: trail.is_some(),
            trail_logging,
            trail_log_file_validation: trail.unwrap_or(false),
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
    ) -> Result<Option<crate::deploy::TopicState>, FactError> {
        let topic = self.topic(arn).await;
        if topic.exists != Ok(true) {
            return crate::deploy::TopicState::from_facts(topic, &[]);
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
        crate::deploy::TopicState::from_facts(topic, &tags)
    }

    /// rootguard's metric filter on `log_group` in `region`; `None` when it
    /// or the log group does not exist (`--create-trail` creates the group).
    pub async fn rootguard_filter(
        &self,
        region: &str,
        log_group: &str,
    ) -> Result<Option<crate::deploy::FilterState>, FactError> {
        use crate::deploy::{FilterState, FILTER_NAME};
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
    ) -> Result<crate::deploy::DeployState, FactError> {
        use crate::deploy::*;
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
        let rule = async {
            if region == crate::realtime::RULE_REGION {
                self.realtime_rule_state().await
            } else {
                Ok(None)
            }
        };
        let alias = async {
            if region != crate::realtime::RULE_REGION {
                return Ok(None);
            }
            aws_sdk_iam::Client::new(&self.config)
                .list_account_aliases()
                .send()
                .await
                .map(|o| o.account_aliases().first().cloned())
                .map_err(|e| classify("iam:ListAccountAliases", &e))
        };
        let (topic, filter, alarm, rule, alias) = tokio::join!(topic, filter, alarm, rule, alias);
        Ok(DeployState {
            account_id: account_id.to_string(),
            region: region.to_string(),
            log_group: log_group.unwrap_or_default().to_string(),
            topic: topic?,
            filter: filter?,
            alarm: alarm?,
            trail_infra: None,
            rule: rule?,
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

    /// `account:ListRegions`: the regions enabled for this account (enabled by
    /// default or opted in), all pages.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, FactError> {
        use aws_sdk_account::types::RegionOptStatus;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = self
                .account
                .list_regions()
                .region_opt_status_contains(RegionOptStatus::Enabled)
                .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
                .set_next_token(token.take());
            let page = self
                .budget
                .call("account:ListRegions", None, || call.clone().send())
                .await
                .map_err(|e| e.fact("account:ListRegions"))?;
            out.extend(
                page.regions()
                    .iter()
                    .filter_map(|r| r.region_name().map(str::to_string)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// `cloudtrail:LookupEvents` in one region: the management events of user
    /// name `root` since `start_secs`, all pages, as (event time in ms, the
    /// CloudTrail record). Pages go through the rate budget, just under the
    /// two requests a second CloudTrail allows per account and region; a
    /// throttle is retried until the deadline.
    pub async fn event_history(
        &self,
        region: &str,
        start_secs: i64,
    ) -> Result<Vec<(i64, String)>, FactError> {
        use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
        let client = aws_sdk_cloudtrail::Client::new(&budget::unretried(&self.regional(region)));
        let root = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::Username)
            .attribute_value("root")
            .build()
            .map_err(|e| {
                FactError::new(
                    "cloudtrail:LookupEvents",
                    FactErrorKind::Error,
                    e.to_string(),
                )
            })?;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = client
                .lookup_events()
                .lookup_attributes(root.clone())
                .start_time(aws_smithy_types::DateTime::from_secs(start_secs))
                .max_results(50)
                .set_next_token(token.take());
            let page = self
                .budget
                .call("cloudtrail:LookupEvents", Some(region), || call.clone().send())
                .await
                .map_err(|e| e.fact("cloudtrail:LookupEvents"))?;
            out.extend(page.events().iter().filter_map(|e| {
                let ms = e.event_time().map_or(0, |t| {
                    t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000)
                });
                e.cloud_trail_event().map(|r| (ms, r.to_string()))
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}
