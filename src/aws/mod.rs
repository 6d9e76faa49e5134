//! The adapter: the only module that talks to AWS.
//!
//! It owns SDK configuration (the standard credential chain, region and
//! endpoint overrides) and turns SDK answers into our own types from
//! `crate::domain::facts`. It must not decide verdicts, and no SDK type may leave it.
//! [`Reader`] has read-only methods only: `verify` receives a `Reader`, so it
//! cannot change an account by construction. An edge layer: it imports only
//! `domain`, never `render`, `term`, `app` or `cli`.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_types::region::Region;
use aws_types::SdkConfig;
use futures::FutureExt;
use thiserror::Error;
use time::OffsetDateTime;
use tracing::debug;

use crate::domain::checks::Source;
use crate::domain::facts::*;

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
    #[error("{action} was throttled by AWS {times} times over {seconds} s and still throttled at the deadline (not an outage: the account's request rate is exhausted); try again later, or with a longer --throttle-deadline")]
    Throttled {
        action: &'static str,
        times: u32,
        seconds: u64,
    },
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
    /// Built without the SDK's retry: `caller` goes through `budget`.
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
            sts: aws_sdk_sts::Client::new(&budget::unretried(config)),
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
        let sent = self
            .budget
            .call("sts:GetCallerIdentity", None, || {
                self.sts.get_caller_identity().send()
            })
            .await;
        let out = sent.map_err(|failed| {
            if budget::is_throttle(&failed.err) {
                return Throttled {
                    action: "sts:GetCallerIdentity",
                    times: failed.throttled,
                    seconds: failed.waited.as_secs(),
                };
            }
            let e = failed.err;
            let detail = DisplayErrorContext(&e).to_string();
            tracing::info!(error = %detail, "sts:GetCallerIdentity failed");
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
                        Some(_) if status >= 500 => Unavailable {
                            endpoint: self.endpoint.clone(),
                            detail: format!("HTTP {status} {text}"),
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
                    detail: credential_detail(&detail),
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

/// The first line of a long SDK error chain, trimmed for a one-line message.
/// One line for a credential chain that yielded nothing: the SDK's own
/// words up to its debug dump, or, when the chain simply ran out (its last
/// source, instance metadata, is then what answers), that nothing was found.
/// `-v` logs the full text.
fn credential_detail(detail: &str) -> String {
    let line = short(detail);
    if line.contains("IMDS")
        || line.contains("no credentials found")
        || line.contains("CredentialsNotLoaded")
    {
        "none found in the environment, the shared config and credentials files, SSO, a container \
         or instance metadata; -v shows each source's answer"
            .into()
    } else {
        format!("{line}; -v shows the detail")
    }
}

/// Cuts a message before the Rust debug dump the SDK appends in parentheses
/// (`… (DispatchFailure(DispatchFailure { … }))`).
fn without_debug_dump(s: &str) -> String {
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    for (i, w) in bytes.windows(3).enumerate() {
        if w[0].1 == ' ' && w[1].1 == '(' && w[2].1.is_ascii_uppercase() {
            let rest = &s[w[2].0..];
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if rest[ident.len()..].starts_with(['(', ' '])
                && rest[ident.len()..].trim_start().starts_with(['(', '{'])
            {
                return s[..bytes[i].0].to_string();
            }
        }
    }
    s.to_string()
}

/// The first line of an SDK error's text, without its debug dump, at most
/// 300 bytes: what a person reads (`-v` logs the whole text).
fn short(detail: &str) -> String {
    let detail = without_debug_dump(detail);
    let line = detail.lines().next().unwrap_or(&detail);
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

/// S3 for `config`, path-style when a custom endpoint is set (emulators and
/// proxies), virtual-hosted style against AWS.
fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let custom = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(custom)
            .build(),
    )
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
}

mod write;
pub use write::{IamMfa, RootKey, Writer};

mod account;
pub mod budget;
mod chain;
pub mod env;
mod guardduty;
mod history;
pub mod org;
mod realtime;
pub mod roottask;
pub mod securityhub;
mod stackset;
pub use account::AlternateKind;
pub use chain::parse_log_group_arn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_error_is_one_line_without_the_sdk_debug_dump() {
        let imds = "an error occurred while loading credentials: failed to load IMDS session token: service error: \
                    request forbidden: IMDS is disabled (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None) } }))";
        let d = credential_detail(imds);
        assert!(d.starts_with("none found"), "{d}");
        let sso = "the SSO token for profile dev has expired (ProviderError(ProviderError { source: x }))";
        assert_eq!(
            credential_detail(sso),
            "the SSO token for profile dev has expired; -v shows the detail"
        );
        assert_eq!(
            without_debug_dump("plain words (see docs)"),
            "plain words (see docs)"
        );
    }
}
