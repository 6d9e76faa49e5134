//! `rootguard setup`: the guided wizard.
//!
//! This module owns the wizard's decisions: which failing checks to walk, in
//! which order (severity first), and which fix each gets (an API fix behind a
//! confirmation, or exact manual steps). The order and the answer validation
//! are pure and unit-tested with the scripted prompter; the flow itself talks
//! to AWS only through the adapter and to the person only through
//! [`Prompter`]. Every change is shown and confirmed before it is made.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::domain::finding::{Finding, Severity, Status};
use crate::term::prompt::{Key, PromptError, Prompter};

/// The fix the wizard offers for a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// Console steps, then optionally wait for AccountMFAEnabled=1.
    RootMfa,
    /// Delete root's keys (only when the caller is root), else guidance.
    RootKeys {
        caller_is_root: bool,
    },
    SecurityContact,
    PasswordPolicy,
    /// Prompt for the account's contact information.
    ContactInfo,
    /// Enroll virtual MFA for these console users.
    EnrollUsers(Vec<String>),
    /// Deploy the alarm chain (covers both cloudtrail and root-alarm).
    AlarmChain,
    /// In a management account: centralized root access on and member root
    /// credentials removed (`org harden`, behind its typed confirmation).
    OrgHarden,
    /// Nothing the API can do: show the remediation.
    Manual,
}

/// One stop of the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: &'static str,
    pub fix: Fix,
}

/// Why a check matters, in a sentence, from its catalogue entry (`None` for
/// an id the catalogue does not hold).
pub fn why(id: &str) -> Option<&'static str> {
    crate::domain::checks::find(id).map(|c| c.why)
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

/// The failing items in the order the wizard walks them: by severity, then
/// catalogue order. cloudtrail and root-alarm become one alarm-chain stop.
pub fn walk(findings: &[Finding], caller_is_root: bool, users_without_mfa: &[String]) -> Vec<Item> {
    let mut todo: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Unknown))
        .collect();
    todo.sort_by_key(|f| severity_rank(f.severity));
    let mut items = Vec::new();
    for f in todo {
        let fix = match f.id {
            "root-mfa" if f.status == Status::Fail => Fix::RootMfa,
            "root-access-keys" if f.status != Status::Unknown => Fix::RootKeys { caller_is_root },
            "security-contact" if f.status != Status::Unknown => Fix::SecurityContact,
            "password-policy" if f.status != Status::Unknown => Fix::PasswordPolicy,
            "contact-info" if f.status == Status::Fail => Fix::ContactInfo,
            "iam-user-mfa" if !users_without_mfa.is_empty() => {
                Fix::EnrollUsers(users_without_mfa.to_vec())
            }
            "org-root-management" if matches!(f.status, Status::Fail | Status::Warn) => {
                Fix::OrgHarden
            }
            "cloudtrail" | "root-alarm" | "root-realtime-alert" if f.status != Status::Unknown => {
                if items.iter().any(|i: &Item| i.fix == Fix::AlarmChain) {
                    continue;
                }
                Fix::AlarmChain
            }
            _ => Fix::Manual,
        };
        items.push(Item { id: f.id, fix });
    }
    items
}

/// A phone number as AWS accepts it: `+`, digits, spaces, dashes, parentheses;
/// 7 to 20 digits.
pub fn valid_phone(s: &str) -> Result<(), String> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if (7..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        Ok(())
    } else {
        Err("enter a phone number like +1 555 0100 (7 to 20 digits)".into())
    }
}

fn non_empty(s: &str) -> Result<(), String> {
    if s.trim().is_empty() || s.len() > 64 {
        Err("enter 1 to 64 characters".into())
    } else {
        Ok(())
    }
}

fn email(s: &str) -> Result<(), String> {
    crate::domain::input::parse_email(s).map(|_| ())
}

pub use crate::domain::ports::{ContactAnswer, ContactInfoAnswer};

/// Asks for the security contact; every field is validated and re-asked.
pub fn ask_security_contact(p: &mut impl Prompter) -> Result<ContactAnswer, PromptError> {
    p.note("A team mailbox (security@…) is better than one person's address.")?;
    Ok(ContactAnswer {
        name: p.input("Security contact name", &non_empty)?,
        title: p.input("Title", &non_empty)?,
        email: p.input("Email", &email)?,
        phone: p.input("Phone", &valid_phone)?,
    })
}

fn country_code(s: &str) -> Result<(), String> {
    if s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err("enter the two-letter ISO country code, like US or DE".into())
    }
}

/// Asks for the account contact information AWS uses to verify ownership.
pub fn ask_contact_information(p: &mut impl Prompter) -> Result<ContactInfoAnswer, PromptError> {
    Ok(ContactInfoAnswer {
        full_name: p.input("Full name (or company) on the account", &non_empty)?,
        address_line1: p.input("Address", &non_empty)?,
        city: p.input("City", &non_empty)?,
        postal_code: p.input("Postal code", &non_empty)?,
        country_code: p.input("Country code", &country_code)?.to_ascii_uppercase(),
        phone: p.input("Phone", &valid_phone)?,
    })
}

/// Whether the person takes an item on (`true`) or skips it, with one key:
/// Enter goes on, `s` skips. Items with nothing the API can do wait for Enter
/// after their steps, so they do not scroll past unread.
pub fn offer(p: &mut impl Prompter, fix: &Fix) -> Result<bool, PromptError> {
    let prompt = match fix {
        Fix::Manual
        | Fix::RootKeys {
            caller_is_root: false,
        } => "Press Enter once you have read this, or s to skip it:",
        Fix::RootMfa => "Press Enter to set it up now, or s to skip it:",
        _ => "Press Enter to fix it now, or s to skip it:",
    };
    Ok(p.key(prompt, &[Key::Enter, Key::Char('s')])? == Key::Enter)
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    Done,
    Skipped,
    TimedOut,
}

/// `m:ss`.
fn mmss(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// Waits until `check` says yes, with a spinner and a countdown: checks at
/// once, then with backoff (2 s growing to 10 s); Enter checks now, `s` skips;
/// `limit` ends it. The spinner is gone on every way out.
pub async fn wait_until<F, Fut>(
    p: &mut impl Prompter,
    what: &str,
    limit: Duration,
    check: F,
) -> Result<WaitEnd, PromptError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = wait_loop(p, what, limit, check).await;
    p.wait_done();
    end
}

async fn wait_loop<F, Fut>(
    p: &mut impl Prompter,
    what: &str,
    limit: Duration,
    mut check: F,
) -> Result<WaitEnd, PromptError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    let mut delay = Duration::from_secs(2);
    loop {
        if check().await {
            return Ok(WaitEnd::Done);
        }
        let next = Instant::now() + delay;
        delay = (delay * 3 / 2).min(Duration::from_secs(10));
        loop {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(WaitEnd::TimedOut);
            }
            let status = format!(
                "waiting for {what}: {} left · s skips, Enter checks now",
                mmss(left)
            );
            // Wake at least twice a second to keep the countdown moving.
            let until_next = next.saturating_duration_since(Instant::now());
            let tick = until_next.min(left).min(Duration::from_millis(500));
            match p.wait_key(&status, tick)? {
                Some(Key::Char('s')) => return Ok(WaitEnd::Skipped),
                Some(Key::Enter) => break,
                _ if Instant::now() >= next => break,
                _ => {}
            }
        }
    }
}

/// What the walk did to each item, for the closing summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walked {
    /// Checks a fix of this run applied (or a wait of this run saw change).
    pub fixed: Vec<&'static str>,
    /// Checks the person chose to leave.
    pub skipped: Vec<&'static str>,
}

/// How one item's step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepEnd {
    /// Something in the account changed (or a wait saw it change).
    Changed,
    /// The person chose to leave it.
    Skipped,
    /// Nothing changed: guidance only, a failed call, a wait that ran out.
    Unchanged,
}

/// The checks one item's fix answers for: the alarm chain fixes three.
pub fn covers(item: &Item) -> Vec<&'static str> {
    match item.fix {
        Fix::AlarmChain => vec!["cloudtrail", "root-alarm", "root-realtime-alert"],
        _ => vec![item.id],
    }
}

fn open(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Warn | Status::Unknown)
}

/// The wizard's one closing summary: the tally after the fresh verify, what
/// this run fixed (a fix it applied that now passes), what passes now that it
/// did not (changed by someone else, or by another item), and what remains,
/// each once, marked when it was skipped.
pub fn end_summary(
    before: &[crate::domain::finding::Finding],
    after: &crate::domain::finding::Report,
    walked: &Walked,
    color: bool,
) -> String {
    let mut out = format!("\nSummary: {}\n", crate::render::summary_line(after));
    let passing_now: Vec<&str> = after
        .findings
        .iter()
        .filter(|f| !open(f.status))
        .filter(|f| before.iter().any(|b| b.id == f.id && open(b.status)))
        .map(|f| f.id)
        .collect();
    let (fixed, others): (Vec<&str>, Vec<&str>) = passing_now
        .iter()
        .partition(|id| walked.fixed.contains(id) && !walked.skipped.contains(id));
    for (label, ids) in [("Fixed in this run", &fixed), ("Now passing", &others)] {
        if !ids.is_empty() {
            out.push_str(&format!("{label} ({}): {}\n", ids.len(), ids.join(", ")));
        }
    }
    let remaining: Vec<&crate::domain::finding::Finding> =
        after.findings.iter().filter(|f| open(f.status)).collect();
    if remaining.is_empty() {
        out.push_str("All done: nothing remains.\n");
        return out;
    }
    let skipped = |id: &str| walked.skipped.contains(&id);
    let marked = remaining.iter().filter(|f| skipped(f.id)).count();
    out.push_str(&format!(
        "What remains ({}{}):\n",
        remaining.len(),
        if marked > 0 {
            format!("; {marked} skipped")
        } else {
            String::new()
        }
    ));
    for f in remaining {
        let status = crate::render::paint(&format!("{:<8}", f.status.as_str()), f.status, color);
        out.push_str(&format!(
            "  {status} {}{}: {}\n",
            f.id,
            if skipped(f.id) { " (skipped)" } else { "" },
            f.title
        ));
    }
    out
}

/// Notification addresses, comma separated, each validated.
pub fn ask_emails(p: &mut impl Prompter) -> Result<Vec<String>, PromptError> {
    let answer = p.input(
        "Email address(es) to notify of root activity, comma separated",
        &|s: &str| {
            let list: Vec<&str> = s
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            if list.is_empty() {
                return Err("enter at least one email address".into());
            }
            list.iter().try_for_each(|e| email(e))
        },
    )?;
    Ok(answer
        .split(',')
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect())
}

/// Console steps for root MFA, which no API can enable.
pub const ROOT_MFA_STEPS: &str = "AWS does not let any API enable MFA for root. In a browser:
  1. Sign in as the root user at https://console.aws.amazon.com/ (choose \"Root user\").
  2. Open https://console.aws.amazon.com/iam/home#/security_credentials
  3. Under \"Multi-factor authentication (MFA)\" choose \"Assign MFA device\".
  4. Prefer a security key or passkey (phishing-resistant), or a hardware TOTP token.
  5. Then assign a second device and keep it somewhere safe: root may have up to 8.";

/// Guidance when root has keys and the caller is not root.
pub const ROOT_KEYS_GUIDE: &str = "Root access keys can be removed only with root's own credentials:
  - sign in as root, open Security credentials > Access keys, make each key Inactive, check nothing breaks, then Delete;
  - or, in an organization with centralized root access, from the management account:
    aws sts assume-root --target-principal ACCOUNT_ID --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials
    then, with the returned credentials: aws iam list-access-keys; aws iam delete-access-key --access-key-id KEY
  - or run `rootguard setup` signed in as root: it shows each key's last use and deletes it after you type the account id.";

// ------------------------------------------------------------------ the flow

use crate::app::deploy::{apply, choose_log_group, read_plan, ChooseError};
use crate::app::{connect, Outcome, Stop};
use crate::aws::{Caller, ConnectOptions, Reader, Writer};
use crate::domain::deploy::{self, DeployConfig};
use crate::domain::exit;
use crate::term::{prompt_stop, require_terminal, trap_ctrl_c, unix_now, with_spinner};

/// Options of `rootguard setup`.
pub struct SetupOptions {
    /// How long to wait for root MFA to show up after the console steps.
    pub mfa_wait: std::time::Duration,
    /// How long to wait for the first confirmed subscription before the drill.
    pub confirm_wait: std::time::Duration,
    pub color: bool,
}

pub async fn run(opts: &ConnectOptions, options: SetupOptions) -> Outcome {
    use self::{walk, Fix};
    use crate::term::prompt::Prompter;
    require_terminal("setup")?;
    let (reader, writer, caller) = connect(opts).await?;
    trap_ctrl_c();
    let mut term = crate::term::prompt::Terminal::default();
    let t = &mut term;
    let stop = prompt_stop;
    t.note(&format!(
        "rootguard setup for account {} as {}",
        caller.account_id, caller.arn
    ))
    .map_err(stop)?;
    if caller.is_root() {
        t.note(
            "WARNING: you are signed in as the ROOT USER with access keys. Root keys are the riskiest credential an \
             account can have; this wizard offers to delete them. Afterwards, work as an IAM user or role with MFA.",
        )
        .map_err(stop)?;
    }
    let all: Vec<&crate::domain::checks::CheckDef> =
        crate::domain::checks::CATALOGUE.iter().collect();
    let needs: Vec<crate::domain::checks::Source> =
        all.iter().flat_map(|c| c.sources.iter().copied()).collect();
    let config = crate::domain::checks::CheckConfig::default();
    let facts = with_spinner(
        "checking root MFA, keys, contacts and the alarm chain…",
        reader.collect(&needs),
    )
    .await
    .map_err(|e| Stop::usage(e.to_string()))?;
    let findings = crate::domain::checks::evaluate(&facts, &config, &all);
    let report = crate::domain::finding::Report {
        account_id: facts.account_id.clone(),
        caller_arn: facts.caller_arn.clone(),
        generated_at: facts.now,
        root_use_window: crate::domain::text::fmt_window(config.root_use_window),
        findings: findings.clone(),
        compliance: None,
    };
    t.note(&crate::render::summary(&report, options.color))
        .map_err(stop)?;
    let users: Vec<String> = facts
        .users
        .as_ref()
        .map(|u| {
            u.iter()
                .filter(|u| u.console_password && u.mfa_devices == 0)
                .map(|u| u.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let items = walk(&findings, caller.is_root(), &users);
    let mut walked = Walked::default();
    if items.is_empty() {
        t.note("Nothing to fix: every check passes or does not apply.")
            .map_err(stop)?;
    }
    // What each item shows is read again after an earlier item changed the
    // account, so no item repeats evidence an earlier one made stale.
    let mut current = findings.clone();
    let mut stale = false;
    for (n, item) in items.iter().enumerate() {
        if stale {
            let facts = with_spinner("reading the account again…", reader.collect(&needs))
                .await
                .map_err(|e| Stop::usage(e.to_string()))?;
            current = crate::domain::checks::evaluate(&facts, &config, &all);
            stale = false;
        }
        let f = current
            .iter()
            .find(|f| f.id == item.id)
            .expect("walk items come from findings");
        let header = format!(
            "\n[{}/{}] {} {}: {}",
            n + 1,
            items.len(),
            f.severity.as_str().to_ascii_uppercase(),
            f.id,
            f.title,
        );
        if !open(f.status) {
            let now = match f.status {
                Status::Pass => "passes now",
                Status::NotApplicable => "does not apply now",
                _ => "needs a person to look now",
            };
            t.note(&format!(
                "{header}: {now}, after the changes above; nothing to do"
            ))
            .map_err(stop)?;
            continue;
        }
        t.note(&format!("{header} ({})", f.status.as_str()))
            .map_err(stop)?;
        if let Some(why) = why(f.id) {
            t.note(&format!("Why it matters: {why}")).map_err(stop)?;
        }
        for e in &f.evidence {
            t.note(&format!("  - {}", crate::domain::text::escape(e)))
                .map_err(stop)?;
        }
        match &item.fix {
            Fix::Manual => t
                .note(&format!("What to do: {}", f.remediation))
                .map_err(stop)?,
            Fix::RootKeys {
                caller_is_root: false,
            } => t.note(crate::app::setup::ROOT_KEYS_GUIDE).map_err(stop)?,
            _ => {}
        }
        let end = if crate::app::setup::offer(t, &item.fix).map_err(stop)? {
            fix_item(&reader, &writer, t, &caller, &item.fix, &options).await?
        } else {
            StepEnd::Skipped
        };
        match end {
            StepEnd::Changed => {
                walked.fixed.extend(covers(item));
                stale = true;
            }
            StepEnd::Skipped => {
                t.note(&format!("  skipped {}", f.id)).map_err(stop)?;
                walked.skipped.extend(covers(item));
            }
            StepEnd::Unchanged => {}
        }
    }
    let facts = with_spinner("checking again…", reader.collect(&needs))
        .await
        .map_err(|e| Stop::usage(e.to_string()))?;
    let findings = crate::domain::checks::evaluate(&facts, &config, &all);
    let before = report.findings.clone();
    let report = crate::domain::finding::Report {
        findings,
        generated_at: facts.now,
        ..report
    };
    t.note(&end_summary(&before, &report, &walked, options.color))
        .map_err(stop)?;
    Ok(report.exit_code())
}

/// One item's fix, once the person took it on: what it changed.
async fn fix_item(
    reader: &Reader,
    writer: &Writer,
    t: &mut crate::term::prompt::Terminal,
    caller: &Caller,
    fix: &Fix,
    options: &SetupOptions,
) -> Result<StepEnd, Stop> {
    use crate::term::prompt::Prompter;
    let stop = prompt_stop;
    /// `done`/`failed` for one write; whether it changed the account.
    fn said(
        t: &mut crate::term::prompt::Terminal,
        r: Result<(), crate::domain::facts::FactError>,
        done: &str,
    ) -> Result<StepEnd, Stop> {
        use crate::term::prompt::Prompter;
        match r {
            Ok(()) => {
                t.note(&format!("  done    {done}")).map_err(prompt_stop)?;
                Ok(StepEnd::Changed)
            }
            Err(e) => {
                t.note(&format!("  failed  {}", e.describe()))
                    .map_err(prompt_stop)?;
                Ok(StepEnd::Unchanged)
            }
        }
    }
    Ok(match fix {
        Fix::Manual
        | Fix::RootKeys {
            caller_is_root: false,
        } => StepEnd::Unchanged,
        Fix::RootMfa => {
            t.note(crate::app::setup::ROOT_MFA_STEPS).map_err(stop)?;
            if !t
                .confirm("Wait here until AWS reports root MFA enabled?", true)
                .map_err(stop)?
            {
                return Ok(StepEnd::Skipped);
            }
            match wait_for_root_mfa(reader, t, options.mfa_wait).await? {
                WaitEnd::Done => StepEnd::Changed,
                WaitEnd::Skipped => StepEnd::Skipped,
                WaitEnd::TimedOut => StepEnd::Unchanged,
            }
        }
        Fix::RootKeys {
            caller_is_root: true,
        } => delete_root_keys(writer, t, &caller.account_id).await?,
        Fix::SecurityContact => {
            let c = crate::app::setup::ask_security_contact(t).map_err(stop)?;
            let q = format!(
                "Set the SECURITY contact to {} ({}), {}, {}?",
                c.name, c.title, c.email, c.phone
            );
            if !t.confirm(&q, true).map_err(stop)? {
                return Ok(StepEnd::Skipped);
            }
            said(
                t,
                writer.put_security_contact(&c).await,
                "security contact set",
            )?
        }
        Fix::ContactInfo => {
            let c = ask_contact_information(t).map_err(stop)?;
            let q = format!(
                "Set the account contact to {}, {}, {} {}, {}, {}?",
                c.full_name, c.address_line1, c.postal_code, c.city, c.country_code, c.phone
            );
            if !t.confirm(&q, true).map_err(stop)? {
                return Ok(StepEnd::Skipped);
            }
            said(
                t,
                writer.put_contact_information(&c).await,
                "contact information set",
            )?
        }
        Fix::PasswordPolicy => {
            t.note("The CIS policy: at least 14 characters, the last 24 passwords remembered, upper and lower case, numbers and symbols required. It applies to IAM users, not to root.").map_err(stop)?;
            if !t
                .confirm("Apply the CIS password policy?", true)
                .map_err(stop)?
            {
                return Ok(StepEnd::Skipped);
            }
            said(
                t,
                writer.set_cis_password_policy().await,
                "password policy set",
            )?
        }
        Fix::EnrollUsers(names) => {
            let picked = t
                .multi_select("Enroll a virtual MFA device for which users?", names)
                .map_err(stop)?;
            if picked.is_empty() {
                t.note("  no users picked (Space ticks a user, then Enter)")
                    .map_err(stop)?;
                return Ok(StepEnd::Skipped);
            }
            let api = writer.mfa();
            let mut end = StepEnd::Unchanged;
            for i in picked {
                let user = &names[i];
                t.note(&format!(
                    "\nEnrolling {user}: have their phone's authenticator app ready."
                ))
                .map_err(stop)?;
                match crate::app::mfa::enroll(&api, t, user, &caller.account_id, unix_now).await {
                    Ok(crate::app::mfa::EnrollOutcome::Enabled { serial }) => {
                        end = StepEnd::Changed;
                        t.note(&format!("  done    MFA enabled for {user} ({serial})"))
                            .map_err(stop)?
                    }
                    Ok(crate::app::mfa::EnrollOutcome::CodesRejected) => t
                        .note(&format!(
                            "  failed  the codes for {user} did not match {} times: the unassigned device was deleted \
                             (enroll later with `rootguard mfa enroll --user {user}`)",
                            crate::app::mfa::CODE_TRIES
                        ))
                        .map_err(stop)?,
                    Ok(crate::app::mfa::EnrollOutcome::Cancelled) => {
                        return Err(Stop {
                            code: exit::INTERRUPTED,
                            message: format!(
                                "stopped while enrolling {user}; the unassigned device was deleted"
                            ),
                        })
                    }
                    Err(e) => t.note(&format!("  failed  {e}")).map_err(stop)?,
                }
            }
            end
        }
        Fix::AlarmChain => {
            alarm_chain_step(reader, writer, t, caller, options.confirm_wait).await?
        }
        Fix::OrgHarden => org_harden_step(reader, writer, t).await?,
    })
}

async fn wait_for_root_mfa(
    reader: &Reader,
    t: &mut impl crate::term::prompt::Prompter,
    limit: std::time::Duration,
) -> Result<WaitEnd, Stop> {
    let check = || async {
        reader
            .account_summary()
            .await
            .is_ok_and(|s| s.mfa_enabled == Some(true))
    };
    let end = crate::app::setup::wait_until(t, "root MFA", limit, check)
        .await
        .map_err(prompt_stop)?;
    t.note(match end {
        WaitEnd::Done => "  done    AWS reports root MFA enabled",
        WaitEnd::Skipped => "  skipped the wait: run `rootguard verify --check root-mfa` once MFA is set",
        WaitEnd::TimedOut => "  not yet: AWS does not report root MFA; run `rootguard verify --check root-mfa` once it is set",
    })
    .map_err(prompt_stop)?;
    Ok(end)
}

async fn delete_root_keys(
    writer: &Writer,
    t: &mut impl crate::term::prompt::Prompter,
    account_id: &str,
) -> Result<StepEnd, Stop> {
    let keys = match writer.root_keys().await {
        Ok(k) => k,
        Err(e) => {
            t.note(&format!(
                "  failed  cannot list root's access keys: {}",
                e.describe()
            ))
            .map_err(prompt_stop)?;
            return Ok(StepEnd::Unchanged);
        }
    };
    let mut end = StepEnd::Unchanged;
    let current = writer.current_key_id().await;
    for k in keys {
        t.note(&format!(
            "  root access key {} ({}), last used: {}",
            k.id,
            if k.active { "active" } else { "inactive" },
            k.last_used
        ))
        .map_err(prompt_stop)?;
        if current.as_deref() == Some(k.id.as_str()) {
            t.note(
                "  this is the key this wizard is signed in with: delete it last, from the console",
            )
            .map_err(prompt_stop)?;
            continue;
        }
        let want = account_id.to_string();
        let typed = t
            .input(
                &format!(
                    "Type the account id ({account_id}) to deactivate and delete {}, or 'skip'",
                    k.id
                ),
                &|s: &str| {
                    if s == want || s == "skip" {
                        Ok(())
                    } else {
                        Err("type the 12-digit account id exactly, or skip".into())
                    }
                },
            )
            .map_err(prompt_stop)?;
        if typed == "skip" {
            if end == StepEnd::Unchanged {
                end = StepEnd::Skipped;
            }
            continue;
        }
        match writer.delete_root_key(&k.id).await {
            Ok(()) => {
                end = StepEnd::Changed;
                t.note(&format!("  done    deactivated and deleted {}", k.id))
                    .map_err(prompt_stop)?
            }
            Err(e) => t
                .note(&format!("  failed  {}", e.describe()))
                .map_err(prompt_stop)?,
        }
    }
    Ok(end)
}

async fn alarm_chain_step(
    reader: &Reader,
    writer: &Writer,
    t: &mut impl crate::term::prompt::Prompter,
    caller: &Caller,
    confirm_wait: std::time::Duration,
) -> Result<StepEnd, Stop> {
    let emails = crate::app::setup::ask_emails(t).map_err(prompt_stop)?;
    let mut config = DeployConfig {
        emails,
        kms_key: None,
        create_trail: false,
        realtime: true,
        trail_bucket: None,
    };
    let live = crate::app::deploy::Live { reader, writer };
    let asked = choose_log_group(&live, &caller.account_id, None, &mut |q, items| {
        t.select(q, items).map(Some).map_err(prompt_stop)
    })
    .await;
    let group = match asked {
        Ok(found) => found,
        Err(ChooseError::NoQualifyingTrail) => {
            t.note("No multi-region trail delivers to CloudWatch Logs, so nothing can see root activity yet.")
                .map_err(prompt_stop)?;
            if !t
                .confirm("Create an S3 bucket, a log group, the CloudTrail role and a multi-region trail?", true)
                .map_err(prompt_stop)?
            {
                t.note("  nothing was changed: see `rootguard deploy --help`")
                    .map_err(prompt_stop)?;
                return Ok(StepEnd::Skipped);
            }
            config.create_trail = true;
            crate::app::deploy::ChosenGroup {
                region: reader.region(),
                name: deploy::TRAIL_LOG_GROUP.to_string(),
                organization_trail: None,
            }
        }
        Err(ChooseError::Stop(e)) => {
            t.note(&format!("  failed  cannot deploy: {}", e.message))
                .map_err(prompt_stop)?;
            return Ok(StepEnd::Unchanged);
        }
    };
    let plan = read_plan(&live, &caller.account_id, &group, &config).await?;
    t.note(&plan.text()).map_err(prompt_stop)?;
    if !t.confirm("Apply this plan?", true).map_err(prompt_stop)? {
        t.note("  nothing was changed").map_err(prompt_stop)?;
        return Ok(StepEnd::Skipped);
    }
    let applied = apply(&live, &group.region, &plan, |d| progress!("  done    {d}")).await;
    if !applied.ok() {
        eprint!(
            "{}",
            crate::term::fit_stderr(&applied.failure_text("rootguard deploy"))
        );
        return Ok(StepEnd::Unchanged);
    }
    if let Some(text) = crate::app::deploy::action_needed(&plan, "") {
        t.note(&text).map_err(prompt_stop)?;
    }
    // A drill before anyone confirmed reaches nobody: wait for the first
    // confirmation, with the same countdown as the root-MFA wait.
    let topic = deploy::topic_arn(&group.region, &caller.account_id);
    let confirmed = || async {
        reader
            .topic_facts(&topic)
            .await
            .subscriptions
            .is_ok_and(|s| s.iter().any(|x| x.confirmed()))
    };
    if !confirmed().await {
        t.note("  Open the email from AWS Notifications in the inbox and choose \"Confirm subscription\"; the fire drill waits for it.")
            .map_err(prompt_stop)?;
        let end =
            crate::app::setup::wait_until(t, "a confirmed subscription", confirm_wait, confirmed)
                .await
                .map_err(prompt_stop)?;
        if end != WaitEnd::Done {
            t.note("  skipped the fire drill: nobody has confirmed yet; once the email is confirmed, run `rootguard alarm test`")
                .map_err(prompt_stop)?;
            return Ok(StepEnd::Changed);
        }
        t.note("  done    a subscription is confirmed")
            .map_err(prompt_stop)?;
    }
    if t.confirm(
        "Run the fire drill now (sets the alarm to ALARM to prove an email arrives)?",
        true,
    )
    .map_err(prompt_stop)?
    {
        let reason = format!(
            "rootguard fire drill by {} from setup: this is a test, not root activity",
            caller.arn
        );
        let api = crate::app::alarm::Live { reader, writer };
        match crate::app::alarm::drill(&api, deploy::ALARM_NAME, &reason).await {
            Ok(report) => t.note(report.text().trim_end()).map_err(prompt_stop)?,
            Err(e) => t
                .note(&format!("  failed  fire drill: {e}"))
                .map_err(prompt_stop)?,
        }
    }
    Ok(StepEnd::Changed)
}

/// The wizard's `org harden`: the same plan, typed confirmation and apply as
/// the command, through the wizard's prompter.
async fn org_harden_step(
    reader: &Reader,
    writer: &Writer,
    t: &mut impl crate::term::prompt::Prompter,
) -> Result<StepEnd, Stop> {
    use crate::app::org as app;
    let handle = crate::aws::org::OrgHandle::new(reader);
    let org = match handle.facts().await {
        Ok(o) => o,
        Err(e) => {
            t.note(&format!("  failed  cannot plan org harden: {e}"))
                .map_err(prompt_stop)?;
            return Ok(StepEnd::Unchanged);
        }
    };
    let fan = app::FanOut {
        accounts: vec![],
        concurrency: 16,
        progress: false,
        compare_contacts: false,
    };
    let roots = with_spinner(
        "reading members' root credentials…",
        app::member_roots(&handle, &org, &fan),
    )
    .await
    .map_err(|e| Stop::usage(e.to_string()))?;
    let plan = crate::domain::org::plan_harden(&org, &roots);
    t.note(&plan.text()).map_err(prompt_stop)?;
    if plan.is_noop() {
        t.note(crate::domain::roottask::HINT).map_err(prompt_stop)?;
        return Ok(StepEnd::Unchanged);
    }
    if !app::confirm_harden(t, &plan).map_err(prompt_stop)? {
        t.note("  the typed id did not match; nothing was changed")
            .map_err(prompt_stop)?;
        return Ok(StepEnd::Skipped);
    }
    let outcome = app::apply_harden(&writer.org(), &plan, &fan).await;
    t.note(&outcome.text()).map_err(prompt_stop)?;
    t.note(crate::domain::roottask::HINT).map_err(prompt_stop)?;
    Ok(StepEnd::Changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::References;
    use crate::term::prompt::Scripted;

    fn f(id: &'static str, status: Status, severity: Severity) -> Finding {
        Finding {
            id,
            title: "",
            status,
            severity,
            evidence: vec![],
            remediation: "".into(),
            references: References::default(),
        }
    }

    #[test]
    fn the_end_is_one_summary_with_each_remaining_item_once() {
        let before = [
            f("root-mfa", Status::Fail, Severity::Critical),
            f("root-access-keys", Status::Fail, Severity::Critical),
            f("root-hardware-mfa", Status::Fail, Severity::Medium),
            f("cloudtrail", Status::Fail, Severity::High),
            f("contact-info", Status::Pass, Severity::Low),
        ];
        let mut after_findings = before.to_vec();
        after_findings[1].status = Status::Pass;
        after_findings[2].status = Status::Pass;
        let after = crate::domain::finding::Report {
            account_id: "111122223333".into(),
            caller_arn: "arn".into(),
            generated_at: time::OffsetDateTime::UNIX_EPOCH,
            root_use_window: "90d".into(),
            findings: after_findings,
            compliance: None,
        };
        // The person fixed the keys, skipped hardware MFA (which passes now
        // all the same) and skipped the trail.
        let walked = Walked {
            fixed: vec!["root-access-keys"],
            skipped: vec!["root-hardware-mfa", "cloudtrail"],
        };
        let text = end_summary(&before, &after, &walked, false);
        assert!(text.contains("Summary: 5 checks"), "{text}");
        assert!(
            text.contains("Fixed in this run (1): root-access-keys\n"),
            "{text}"
        );
        assert!(
            text.contains("Now passing (1): root-hardware-mfa\n"),
            "a skipped item is never fixed by this run: {text}"
        );
        assert!(text.contains("What remains (2; 1 skipped):"), "{text}");
        assert_eq!(text.matches("root-mfa").count(), 1, "{text}");
        assert!(text.contains("cloudtrail (skipped): "), "{text}");
        // A fix applied that still does not pass is not "fixed".
        let walked = Walked {
            fixed: vec!["root-mfa"],
            skipped: vec![],
        };
        let text = end_summary(&before, &after, &walked, false);
        assert!(!text.contains("Fixed in this run (1): root-mfa"), "{text}");
        let done = crate::domain::finding::Report {
            findings: vec![f("contact-info", Status::Pass, Severity::Low)],
            ..after
        };
        assert!(end_summary(&before, &done, &Walked::default(), false)
            .contains("All done: nothing remains."));
    }

    #[test]
    fn the_alarm_chain_answers_for_its_three_checks() {
        let chain = Item {
            id: "root-alarm",
            fix: Fix::AlarmChain,
        };
        assert_eq!(
            covers(&chain),
            ["cloudtrail", "root-alarm", "root-realtime-alert"]
        );
        let one = Item {
            id: "password-policy",
            fix: Fix::PasswordPolicy,
        };
        assert_eq!(covers(&one), ["password-policy"]);
    }

    #[test]
    fn walk_goes_by_severity_and_merges_the_alarm_chain() {
        let findings = [
            f("root-mfa", Status::Fail, Severity::Critical),
            f("root-hardware-mfa", Status::Fail, Severity::Medium),
            f("root-access-keys", Status::Fail, Severity::Critical),
            f("security-contact", Status::Warn, Severity::Medium),
            f("contact-info", Status::Pass, Severity::Low),
            f("password-policy", Status::Fail, Severity::Medium),
            f("iam-user-mfa", Status::Fail, Severity::High),
            f(
                "org-root-management",
                Status::NotApplicable,
                Severity::Medium,
            ),
            f("cloudtrail", Status::Fail, Severity::High),
            f("root-alarm", Status::Fail, Severity::High),
        ];
        let items = walk(&findings, false, &["alice".into()]);
        let got: Vec<(&str, Fix)> = items.into_iter().map(|i| (i.id, i.fix)).collect();
        assert_eq!(
            got,
            [
                ("root-mfa", Fix::RootMfa),
                (
                    "root-access-keys",
                    Fix::RootKeys {
                        caller_is_root: false
                    }
                ),
                ("iam-user-mfa", Fix::EnrollUsers(vec!["alice".into()])),
                ("cloudtrail", Fix::AlarmChain),
                ("root-hardware-mfa", Fix::Manual),
                ("security-contact", Fix::SecurityContact),
                ("password-policy", Fix::PasswordPolicy),
            ]
        );
    }

    #[test]
    fn a_management_account_is_offered_org_harden() {
        for st in [Status::Fail, Status::Warn] {
            let items = walk(
                &[f("org-root-management", st, Severity::Medium)],
                false,
                &[],
            );
            assert_eq!(items[0].fix, Fix::OrgHarden);
        }
        let items = walk(
            &[f("org-root-management", Status::Unknown, Severity::Medium)],
            false,
            &[],
        );
        assert_eq!(items[0].fix, Fix::Manual);
    }

    #[test]
    fn unknown_checks_get_manual_steps_not_blind_fixes() {
        let findings = [
            f("password-policy", Status::Unknown, Severity::Medium),
            f("root-alarm", Status::Unknown, Severity::High),
        ];
        let items = walk(&findings, true, &[]);
        assert!(items.iter().all(|i| i.fix == Fix::Manual), "{items:?}");
    }

    #[test]
    fn contact_answers_are_validated_and_re_asked() {
        let mut p = Scripted::new([
            "Security Team",
            "",
            "CISO",
            "not-an-email",
            "sec@example.com",
            "12",
            "+1 555 0100",
        ]);
        let c = ask_security_contact(&mut p).unwrap();
        assert_eq!(
            c,
            ContactAnswer {
                name: "Security Team".into(),
                title: "CISO".into(),
                email: "sec@example.com".into(),
                phone: "+1 555 0100".into()
            }
        );
        let t = p.transcript();
        assert!(t.contains("enter 1 to 64 characters"));
        assert!(t.contains("is not an email address"));
        assert!(t.contains("7 to 20 digits"));
    }

    #[test]
    fn contact_information_is_validated() {
        let mut p = Scripted::new([
            "Example Corp",
            "1 Main St",
            "Springfield",
            "12345",
            "usa",
            "us",
            "+1 555 0100",
        ]);
        let c = ask_contact_information(&mut p).unwrap();
        assert_eq!(c.country_code, "US", "the meaning is clear: uppercased");
        assert!(p.transcript().contains("two-letter ISO country code"));
        let items = walk(
            &[f("contact-info", Status::Fail, Severity::Low)],
            false,
            &[],
        );
        assert_eq!(items[0].fix, Fix::ContactInfo);
    }

    #[test]
    fn emails_are_split_and_each_validated() {
        let mut p = Scripted::new(["a@example.com, nope", "a@example.com, b@example.org"]);
        assert_eq!(
            ask_emails(&mut p).unwrap(),
            ["a@example.com", "b@example.org"]
        );
        assert!(p.transcript().contains("\"nope\" is not an email address"));
    }

    #[test]
    fn every_item_is_skipped_with_one_key_and_manual_items_wait_for_enter() {
        for fix in [
            Fix::RootMfa,
            Fix::SecurityContact,
            Fix::ContactInfo,
            Fix::PasswordPolicy,
            Fix::AlarmChain,
            Fix::OrgHarden,
            Fix::EnrollUsers(vec!["alice".into()]),
            Fix::RootKeys {
                caller_is_root: true,
            },
            Fix::Manual,
        ] {
            let mut p = Scripted::new(["s"]);
            assert!(!offer(&mut p, &fix).unwrap(), "{fix:?}: s skips");
            let mut p = Scripted::new(["x", ""]);
            assert!(
                offer(&mut p, &fix).unwrap(),
                "{fix:?}: other keys are ignored, Enter goes on"
            );
            assert_eq!(p.transcript().matches("? Press Enter").count(), 2);
        }
        let mut p = Scripted::new([""]);
        offer(&mut p, &Fix::Manual).unwrap();
        assert!(p
            .transcript()
            .contains("Press Enter once you have read this"));
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A check that says yes on its `yes_at`-th call, counting calls.
    fn checker(
        yes_at: usize,
    ) -> (
        std::rc::Rc<std::cell::Cell<usize>>,
        impl FnMut() -> std::future::Ready<bool>,
    ) {
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let c = calls.clone();
        (calls, move || {
            c.set(c.get() + 1);
            std::future::ready(c.get() >= yes_at)
        })
    }

    #[test]
    fn the_wait_checks_now_on_enter_skips_on_s_and_counts_down() {
        let long = Duration::from_secs(600);
        let (calls, check) = checker(2);
        let mut p = Scripted::new(["-", ""]);
        let end = block_on(wait_until(&mut p, "root MFA", long, check)).unwrap();
        assert_eq!(end, WaitEnd::Done, "Enter checked at once and found it");
        assert_eq!(calls.get(), 2);
        let t = p.transcript();
        assert!(
            t.contains("waiting for root MFA: 9:5") || t.contains("waiting for root MFA: 10:00"),
            "a countdown from the limit: {t}"
        );
        assert!(t.contains("s skips, Enter checks now"));

        let (calls, check) = checker(usize::MAX);
        let mut p = Scripted::new(["s"]);
        let end = block_on(wait_until(&mut p, "root MFA", long, check)).unwrap();
        assert_eq!(end, WaitEnd::Skipped);
        assert_eq!(calls.get(), 1);

        let (_, check) = checker(usize::MAX);
        let mut p = Scripted::new(Vec::<&str>::new());
        let end = block_on(wait_until(&mut p, "root MFA", Duration::ZERO, check)).unwrap();
        assert_eq!(end, WaitEnd::TimedOut, "the limit ends it");

        let (_, check) = checker(1);
        let mut p = Scripted::new(Vec::<&str>::new());
        let end = block_on(wait_until(&mut p, "root MFA", long, check)).unwrap();
        assert_eq!(end, WaitEnd::Done, "already there: no wait at all");

        let (_, check) = checker(usize::MAX);
        let mut p = Scripted::new(["^C"]);
        let end = block_on(wait_until(&mut p, "root MFA", long, check));
        assert_eq!(end, Err(PromptError::Interrupted));
    }

    #[test]
    fn the_countdown_reads_minutes_and_seconds() {
        assert_eq!(mmss(Duration::from_secs(600)), "10:00");
        assert_eq!(mmss(Duration::from_secs(59)), "0:59");
        assert_eq!(mmss(Duration::from_millis(61_900)), "1:01");
    }

    #[test]
    fn every_check_says_why_it_matters_and_an_unknown_id_says_nothing() {
        for c in crate::domain::checks::CATALOGUE {
            assert!(why(c.id).is_some_and(|w| !w.is_empty()), "{}", c.id);
        }
        assert_eq!(why("no-such-check"), None);
    }
}
