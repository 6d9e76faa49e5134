//! The command line: clap definitions and dispatch to each command.
//!
//! This module owns flags, logging setup, colour decisions and exit codes. It
//! validates every flag before any AWS call (bad input exits 2), then hands the
//! work to the adapter and the pure core. It must not contain check logic or
//! SDK calls of its own.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::app::{self, verify::VerifyRequest};
use crate::aws::{self, ConnectOptions};
use crate::domain::checks::{self, CheckConfig};
use crate::domain::exit;
use crate::domain::input;
use crate::domain::policy;
use crate::render;

#[derive(Debug, Parser)]
#[command(
    name = "rootguard",
    version,
    about = "Harden and monitor the root user of an AWS account",
    long_about = "Harden and monitor the root user of an AWS account.\n\n\
        Credentials and region come from the standard AWS chain: environment variables, \
        shared config and credentials files (--profile), SSO and instance metadata. \
        AWS_ENDPOINT_URL is honoured.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Named profile from the shared AWS config files.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// AWS region (IAM, STS and Account are global; default from the chain, else us-east-1).
    #[arg(long, global = true, help_heading = "Global options", value_name = "REGION", value_parser = input::parse_region)]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (also AWS_ENDPOINT_URL).
    #[arg(long, global = true, help_heading = "Global options", value_name = "URL", value_parser = input::parse_endpoint_url)]
    pub endpoint_url: Option<String>,
    /// Never colour output (also NO_COLOR).
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_color: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace including the SDK).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    /// How long a call AWS throttles is retried, paced, before its check is
    /// unknown (10s-1d; default 3m).
    #[arg(long, global = true, help_heading = "Global options", allow_hyphen_values = true, value_name = "DURATION", value_parser = input::parse_deadline)]
    pub throttle_deadline: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Guided wizard: checks root, fixes what the API allows, walks you through the rest (needs a terminal).
    Setup {
        /// How long to wait for root MFA after showing the console steps.
        #[arg(long, allow_hyphen_values = true, value_name = "DURATION", default_value = "10m", value_parser = input::parse_window)]
        mfa_wait: time::Duration,
        /// How long to wait for a confirmed alert subscription before offering the fire drill.
        #[arg(long, allow_hyphen_values = true, value_name = "DURATION", default_value = "10m", value_parser = input::parse_window)]
        confirm_wait: time::Duration,
    },
    /// Read-only audit of the root user; exit 0 ok, 1 fail, 2 usage/setup error, 3 unknown.
    Verify(VerifyArgs),
    /// Deploy the root-activity alarm chain: metric filter, alarm, SNS topic and email subscriptions.
    Deploy(DeployCmd),
    /// Remove what deploy created (only resources tagged managed-by=rootguard), wherever its region.
    Teardown {
        /// Print what would be deleted and stop.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Plan format.
        #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
        output: PlanFormat,
        /// Remove what `deploy --org` made: stack instances, the StackSet and the hub.
        #[arg(long)]
        org: bool,
        /// Also empty and delete the bucket `deploy --create-trail` made (kept by
        /// default: it holds the trail's log files).
        #[arg(long, conflicts_with = "org")]
        delete_trail_bucket: bool,
    },
    /// Fire drills for the root-activity alarm.
    Alarm {
        #[command(subcommand)]
        command: AlarmCommand,
    },
    /// What root did: root activity from the trail's log group.
    Events {
        /// How far back to look (e.g. 1h, 24h, 7d).
        #[arg(long, allow_hyphen_values = true, value_name = "DURATION", default_value = "24h", value_parser = input::parse_window)]
        since: time::Duration,
        /// The log group to read (default: the one a qualifying trail feeds).
        #[arg(long, value_name = "NAME", value_parser = input::parse_log_group_name)]
        log_group: Option<String>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
        output: PlanFormat,
    },
    /// Virtual MFA for IAM users (root's MFA can only be set in the console).
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// The organization: root posture and centralized root access.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Print the CloudFormation template (cfn/root-activity-alarm.yaml) for the same chain.
    Template {
        /// The organization spoke instead (cfn/org-spoke.yaml), which `deploy --org` runs as a StackSet.
        #[arg(long)]
        org_spoke: bool,
    },
    /// Print the least-privilege IAM policy for a mode.
    Policy {
        #[arg(value_enum)]
        mode: PolicyMode,
        /// `policy setup` only: allow the trail bucket named by `deploy --create-trail --trail-bucket NAME` instead of `rootguard-cloudtrail-*`.
        #[arg(long, value_name = "NAME", value_parser = input::parse_new_bucket_name)]
        trail_bucket: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `--severity-at-least`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
}

impl SeverityArg {
    fn severity(self) -> crate::domain::finding::Severity {
        use crate::domain::finding::Severity;
        match self {
            SeverityArg::Critical => Severity::Critical,
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PolicyMode {
    /// Read-only actions for `rootguard verify`.
    Verify,
    /// Actions for setup, mfa enroll, deploy, teardown, alarm test and events, scoped to rootguard's resources where IAM allows.
    Setup,
    /// Actions for the organization commands; sts:AssumeRoot limited to the audit and delete task policies, and one statement per repair task.
    Org,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Create a virtual MFA device, show its QR code, check two codes, enable it (needs a terminal).
    Enroll {
        /// The IAM user to enroll.
        #[arg(long, value_name = "NAME", value_parser = input::parse_user_name)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlarmCommand {
    /// Set the alarm to ALARM and report who the notification reaches.
    Test {
        /// The alarm to fire.
        #[arg(long, value_name = "NAME", conflicts_with = "realtime", default_value = crate::domain::deploy::ALARM_NAME, value_parser = input::parse_alarm_name)]
        alarm: String,
        /// Drill the real-time EventBridge path instead: prove each rule's pattern
        /// with TestEventPattern and publish a marked test message through its topic.
        /// With the global --region R (not us-east-1), also prove that R forwards
        /// root activity to us-east-1.
        #[arg(long)]
        realtime: bool,
    },
}

#[derive(Debug, Args)]
pub struct DeployCmd {
    /// Email address to notify (repeatable). Each must confirm the subscription from its inbox.
    #[arg(long = "email", value_name = "ADDR", required = true, value_parser = input::parse_email)]
    pub emails: Vec<String>,
    /// Log group of the trail to watch (default: the one a qualifying trail feeds).
    #[arg(long, value_name = "NAME", value_parser = input::parse_log_group_name)]
    pub log_group: Option<String>,
    /// Customer-managed KMS key (ARN or alias) to encrypt the topic; its key policy must allow CloudWatch.
    #[arg(long, value_name = "KEY", value_parser = crate::domain::deploy::parse_kms_key)]
    pub kms_key: Option<String>,
    /// No qualifying trail yet: also create an S3 bucket, a log group, the CloudTrail-to-Logs role and a multi-region trail.
    #[arg(long, conflicts_with = "log_group")]
    pub create_trail: bool,
    /// With --create-trail: the bucket for the trail's log files instead of
    /// rootguard-cloudtrail-ACCOUNT-REGION (created if missing; it must belong to this account).
    #[arg(long, value_name = "NAME", requires = "create_trail", value_parser = input::parse_new_bucket_name)]
    pub trail_bucket: Option<String>,
    /// Skip the real-time EventBridge rule (root activity in seconds, in us-east-1).
    #[arg(long)]
    pub no_realtime: bool,
    /// Every account of the organization: a hub in this account and the service-managed StackSet rootguard-root-activity-spoke.
    #[arg(long, conflicts_with_all = ["log_group", "create_trail", "no_realtime", "kms_key"])]
    pub org: bool,
    /// With --org: deploy the spokes to these OUs (default: the organization root).
    #[arg(long, value_name = "ID,..", requires = "org", value_delimiter = ',', value_parser = crate::domain::orgdeploy::parse_ou)]
    pub ou: Vec<String>,
    /// With --org: StackSet operations deploy to at most this percentage of members at once (1-100; default 100).
    #[arg(long, value_name = "PERCENT", requires = "org", allow_hyphen_values = true, value_parser = input::parse_concurrent_percent)]
    pub max_concurrent_percent: Option<u8>,
    /// With --org: members whose instance may fail before AWS cancels the rest (0-100; default 100,
    /// so one failing member never strands the others).
    #[arg(long, value_name = "PERCENT", requires = "org", allow_hyphen_values = true, value_parser = input::parse_tolerance_percent)]
    pub failure_tolerance_percent: Option<u8>,
    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Plan format.
    #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output: text, json, junit, markdown, html, csv, asff or ocsf, to stdout or with =PATH to a file
    /// written whole or not at all (repeatable; default text).
    #[arg(long, short, value_name = "FORMAT[=PATH]", value_parser = crate::domain::output::parse_output)]
    pub output: Vec<render::OutputSpec>,
    /// Run only these checks (comma-separated or repeated). Default: all.
    #[arg(long = "check", value_name = "ID,..", value_delimiter = ',', value_parser = PossibleValuesParser::new(checks::ids()))]
    pub checks: Vec<String>,
    /// Skip these checks (comma-separated or repeated).
    #[arg(long = "exclude-check", value_name = "ID,..", value_delimiter = ',', value_parser = PossibleValuesParser::new(checks::ids()))]
    pub exclude_checks: Vec<String>,
    /// Only checks of at least this severity.
    #[arg(long, value_name = "LEVEL", value_enum)]
    pub severity_at_least: Option<SeverityArg>,
    /// Only the checks this CIS AWS Foundations Benchmark version covers, each
    /// labelled with that version's recommendation ids.
    #[arg(long, value_name = "FRAMEWORK", value_parser = ["cis-3.0", "cis-5.0", "cis-6.0", "cis-7.0"])]
    pub compliance: Option<String>,
    /// root-recent-use fails if root was used within this window (e.g. 12h, 1d, 7d).
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION", default_value = "1d", value_parser = input::parse_window)]
    pub root_use_window: time::Duration,
    /// security-contact fails unless its email is in this domain.
    #[arg(long, allow_hyphen_values = true, value_name = "DOMAIN", value_parser = input::parse_domain)]
    pub contact_domain: Option<String>,
    /// Every ACTIVE account of the organization (run from the management account or the IAM delegated administrator).
    #[arg(long)]
    pub org: bool,
    /// With --org: run the whole verify in this role in each member (arn:aws:iam::MEMBER:role/NAME).
    #[arg(long, value_name = "NAME", requires = "org", value_parser = input::parse_role_name)]
    pub role: Option<String>,
    /// Also import the findings into Security Hub in the caller's account and region
    /// (securityhub:BatchImportFindings; a check that passes now resolves its finding).
    #[arg(long)]
    pub security_hub: bool,
    /// With --org: also read each member's BILLING and OPERATIONS contacts, so
    /// security-contact warns when SECURITY shares their address (two more
    /// Account Management calls per member, within the same 10-a-second quota).
    #[arg(long, requires = "org")]
    pub compare_contacts: bool,
    #[command(flatten)]
    pub fan: FanArgs,
}

/// Which members, and how many at once (organization commands).
#[derive(Debug, Args)]
pub struct FanArgs {
    /// Only these accounts (12-digit ids, comma-separated).
    #[arg(long, value_name = "ID,..", value_delimiter = ',', value_parser = input::parse_account_id)]
    pub accounts: Vec<String>,
    /// Members read at once (1-256; default 16).
    #[arg(long, allow_hyphen_values = true, value_name = "N", value_parser = input::parse_concurrency)]
    pub concurrency: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// The organization's root posture: features, trusted access, delegated admin, members' root credentials.
    Status {
        #[command(flatten)]
        fan: FanArgs,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
        output: PlanFormat,
    },
    /// A member's root user: `recover` lets it recover its password (IAMCreateRootUserPassword).
    Root {
        #[command(subcommand)]
        command: OrgRootCommand,
    },
    /// Delete a bucket policy that locks everyone out of a member's bucket (S3UnlockBucketPolicy); the policy is saved first.
    UnlockBucket {
        #[command(flatten)]
        task: TaskFlags,
        /// The member's bucket.
        #[arg(long, value_name = "NAME", value_parser = input::parse_bucket_name)]
        bucket: String,
        #[command(flatten)]
        save: SaveFlags,
    },
    /// Remove a queue policy that locks everyone out of a member's queue (SQSUnlockQueuePolicy); the policy is saved first.
    UnlockQueue {
        #[command(flatten)]
        task: TaskFlags,
        /// The member's queue: its URL, or its name in --region.
        #[arg(long, value_name = "URL|NAME", value_parser = input::parse_queue)]
        queue: crate::domain::input::QueueRef,
        #[command(flatten)]
        save: SaveFlags,
    },
    /// Centralized root access on, member root credentials deleted (plan first, then apply).
    Harden {
        #[command(flatten)]
        fan: FanArgs,
        /// Print the plan and stop.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for the typed confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Plan format.
        #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
        output: PlanFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgRootCommand {
    /// Create the member root's login profile so its owner can use "Forgot password" (IAMCreateRootUserPassword).
    Recover {
        #[command(flatten)]
        task: TaskFlags,
    },
}

/// The flags every root task takes.
#[derive(Debug, Args)]
pub struct TaskFlags {
    /// The member account (12 digits).
    #[arg(long, value_name = "ID", value_parser = input::parse_account_id)]
    pub account: String,
    /// Print the plan and stop (the task's session is still opened to read).
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for the typed confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Plan format.
    #[arg(long, short, value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
}

/// Where a policy is saved before it is deleted.
#[derive(Debug, Args)]
pub struct SaveFlags {
    /// Directory the policy is saved to before it is deleted (default: the current one).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub save_dir: std::path::PathBuf,
}

fn task_args(
    task: TaskFlags,
    target: crate::domain::roottask::Target,
    save_dir: std::path::PathBuf,
) -> app::roottask::TaskArgs {
    app::roottask::TaskArgs {
        account: task.account,
        target,
        save_dir,
        dry_run: task.dry_run,
        yes: task.yes,
        json: task.output == PlanFormat::Json,
    }
}

/// Parses arguments and runs the command; the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    init_logging(&cli.global);
    crate::term::QUIET.store(cli.global.quiet, std::sync::atomic::Ordering::Relaxed);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn init_logging(g: &GlobalArgs) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let ours = match (g.quiet, g.verbose) {
        (true, _) => LevelFilter::ERROR,
        (_, 0) => LevelFilter::WARN,
        (_, 1) => LevelFilter::INFO,
        (_, 2) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let sdk = if g.verbose >= 3 {
        LevelFilter::DEBUG
    } else {
        LevelFilter::ERROR
    };
    let filter = Targets::new()
        .with_target("rootguard", ours)
        .with_default(sdk);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(use_color(g, &std::io::stderr()))
                .with_target(false)
                .with_filter(filter),
        )
        .try_init();
}

fn use_color(g: &GlobalArgs, stream: &impl IsTerminal) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !g.no_color && !no_color_env && stream.is_terminal()
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rootguard", &mut buf);
            crate::term::out::write(&String::from_utf8_lossy(&buf));
            Ok(exit::OK)
        }
        Command::Template { org_spoke } => {
            crate::term::out::write(if org_spoke {
                crate::domain::orgdeploy::SPOKE_TEMPLATE
            } else {
                crate::domain::deploy::TEMPLATE
            });
            Ok(exit::OK)
        }
        Command::Policy { mode, trail_bucket } => {
            let doc = match (mode, trail_bucket.as_deref()) {
                (PolicyMode::Setup, bucket) => policy::setup_policy_for(bucket),
                (_, Some(_)) => {
                    eprintln!(
                        "error: --trail-bucket applies only to `policy setup` (the bucket `deploy --create-trail` writes to)"
                    );
                    return Ok(exit::USAGE);
                }
                (PolicyMode::Verify, None) => policy::verify_policy(),
                (PolicyMode::Org, None) => policy::org_policy(),
            };
            crate::term::out::write(&policy::render(&doc));
            Ok(exit::OK)
        }
        command => {
            // aws-config panics on some malformed values: refuse them first, by name.
            if let Err(e) = aws::env::check_process(cli.global.profile.as_deref()) {
                eprintln!("error: {e}");
                return Ok(exit::USAGE);
            }
            let connect = ConnectOptions {
                profile: cli.global.profile.clone(),
                region: cli.global.region.clone(),
                endpoint_url: cli.global.endpoint_url.clone(),
                throttle_deadline: cli.global.throttle_deadline,
            };
            let color = use_color(&cli.global, &std::io::stdout());
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("failed to start the async runtime")?;
            let shown = Shown {
                color,
                quiet: cli.global.quiet,
                stderr_color: use_color(&cli.global, &std::io::stderr()),
                verbose: cli.global.verbose > 0,
            };
            let outcome = runtime.block_on(dispatch(command, &connect, shown));
            Ok(match outcome {
                Ok(code) => code,
                Err(stop) => {
                    eprintln!(
                        "{}",
                        crate::term::fit_stderr(&format!("error: {}", stop.message))
                    );
                    stop.code
                }
            })
        }
    }
}

/// How output is shown: colour on stdout and stderr, `-q`, `-v`.
#[derive(Clone, Copy)]
struct Shown {
    color: bool,
    quiet: bool,
    stderr_color: bool,
    verbose: bool,
}

/// Runs a command that talks to AWS: each has one home under `app`.
async fn dispatch(command: Command, connect: &ConnectOptions, shown: Shown) -> app::Outcome {
    let Shown {
        color,
        quiet,
        stderr_color,
        verbose,
    } = shown;
    match command {
        Command::Verify(args)
            if !args.org && (!args.fan.accounts.is_empty() || args.fan.concurrency.is_some()) =>
        {
            Err(app::Stop::usage("--accounts and --concurrency need --org"))
        }
        Command::Verify(args) => {
            let req = verify_request(&args);
            let outputs = app::verify::Outputs {
                outputs: args.output.clone(),
                color,
                security_hub: args.security_hub,
                references: verbose,
            };
            if args.org {
                let fan = app::org::FanOut {
                    compare_contacts: args.compare_contacts,
                    ..fan_out(&args.fan)
                };
                app::org::run_verify(connect, &req, &outputs, args.role.as_deref(), &fan).await
            } else {
                // The spinner moves the cursor: not under -q, NO_COLOR or --no-color.
                app::verify::run(connect, &req, &outputs, !quiet && stderr_color).await
            }
        }
        Command::Org {
            command: OrgCommand::Status { fan, output },
        } => app::org::run_status(connect, &fan_out(&fan), output == PlanFormat::Json).await,
        Command::Org {
            command:
                OrgCommand::Root {
                    command: OrgRootCommand::Recover { task },
                },
        } => {
            app::roottask::run(
                connect,
                task_args(task, crate::domain::roottask::Target::Root, ".".into()),
            )
            .await
        }
        Command::Org {
            command: OrgCommand::UnlockBucket { task, bucket, save },
        } => {
            app::roottask::run(
                connect,
                task_args(
                    task,
                    crate::domain::roottask::Target::Bucket(bucket),
                    save.save_dir,
                ),
            )
            .await
        }
        Command::Org {
            command: OrgCommand::UnlockQueue { task, queue, save },
        } => {
            app::roottask::run(
                connect,
                task_args(
                    task,
                    crate::domain::roottask::Target::Queue(queue),
                    save.save_dir,
                ),
            )
            .await
        }
        Command::Org {
            command:
                OrgCommand::Harden {
                    fan,
                    dry_run,
                    yes,
                    output,
                },
        } => {
            app::org::run_harden(
                connect,
                &fan_out(&fan),
                dry_run,
                yes,
                output == PlanFormat::Json,
            )
            .await
        }
        Command::Deploy(d) if d.org => {
            app::orgdeploy::run_deploy(
                connect,
                app::orgdeploy::DeployOrgArgs {
                    emails: d.emails,
                    ous: d.ou,
                    dry_run: d.dry_run,
                    yes: d.yes,
                    json: d.output == PlanFormat::Json,
                    preferences: crate::domain::orgdeploy::OperationPreferences {
                        max_concurrent_percentage: d.max_concurrent_percent.unwrap_or(100),
                        failure_tolerance_percentage: d.failure_tolerance_percent.unwrap_or(100),
                    },
                },
            )
            .await
        }
        Command::Deploy(d) => {
            app::deploy::run(
                connect,
                app::deploy::DeployArgs {
                    config: crate::domain::deploy::DeployConfig {
                        emails: d.emails.clone(),
                        kms_key: d.kms_key.clone(),
                        create_trail: d.create_trail,
                        realtime: !d.no_realtime,
                        trail_bucket: d.trail_bucket.clone(),
                    },
                    log_group: d.log_group.as_deref(),
                    dry_run: d.dry_run,
                    yes: d.yes,
                    json: d.output == PlanFormat::Json,
                },
            )
            .await
        }
        Command::Teardown {
            dry_run,
            yes,
            org: true,
            output,
            ..
        } => app::orgdeploy::run_teardown(connect, dry_run, yes, output == PlanFormat::Json).await,
        Command::Teardown {
            dry_run,
            yes,
            output,
            delete_trail_bucket,
            ..
        } => {
            app::teardown::run(
                connect,
                dry_run,
                yes,
                output == PlanFormat::Json,
                app::teardown::TeardownOptions {
                    delete_trail_bucket,
                },
            )
            .await
        }
        Command::Alarm {
            command: AlarmCommand::Test { realtime: true, .. },
        } => {
            let drilled = connect
                .region
                .as_deref()
                .filter(|r| *r != crate::domain::realtime::RULE_REGION);
            app::alarm::run_realtime(connect, drilled).await
        }
        Command::Alarm {
            command: AlarmCommand::Test { alarm, .. },
        } => app::alarm::run(connect, &alarm).await,
        Command::Mfa {
            command: MfaCommand::Enroll { user },
        } => app::mfa::run(connect, &user).await,
        Command::Setup {
            mfa_wait,
            confirm_wait,
        } => app::setup::run(
            connect,
            app::setup::SetupOptions {
                mfa_wait: std::time::Duration::from_secs(mfa_wait.whole_seconds().max(0) as u64),
                confirm_wait: std::time::Duration::from_secs(
                    confirm_wait.whole_seconds().max(0) as u64
                ),
                color: stderr_color,
            },
        )
        .await,
        Command::Events {
            since,
            log_group,
            output,
        } => {
            app::events::run(
                connect,
                since,
                log_group.as_deref(),
                output == PlanFormat::Json,
            )
            .await
        }
        Command::Completions { .. } | Command::Policy { .. } | Command::Template { .. } => {
            Ok(exit::OK)
        }
    }
}

fn verify_request(args: &VerifyArgs) -> VerifyRequest {
    let floor = args.severity_at_least.map(SeverityArg::severity);
    // The parser admits only cis-<a version rootguard cites>.
    let compliance = args.compliance.as_deref().and_then(|c| {
        crate::domain::finding::CIS_VERSIONS
            .into_iter()
            .find(|v| c.strip_prefix("cis-") == Some(*v))
    });
    VerifyRequest {
        checks: app::verify::selected_checks(&args.checks)
            .into_iter()
            .filter(|c| !args.exclude_checks.iter().any(|x| x == c.id))
            // Severity orders critical first: "at least high" keeps critical and high.
            .filter(|c| floor.is_none_or(|f| c.severity <= f))
            .filter(|c| {
                compliance.is_none_or(|v| c.cis.iter().any(|(cv, ids)| *cv == v && !ids.is_empty()))
            })
            .collect(),
        config: CheckConfig {
            root_use_window: args.root_use_window,
            contact_domain: args.contact_domain.clone(),
        },
        compliance,
    }
}

fn fan_out(fan: &FanArgs) -> app::org::FanOut {
    app::org::FanOut {
        accounts: fan.accounts.clone(),
        concurrency: fan.concurrency.unwrap_or(16),
        progress: crate::term::show_progress(),
        compare_contacts: false,
    }
}
