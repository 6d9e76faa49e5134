//! The root tasks of centralized root access that repair a member account:
//! recover root's password (`IAMCreateRootUserPassword`), unlock a bucket
//! (`S3UnlockBucketPolicy`) and unlock a queue (`SQSUnlockQueuePolicy`).
//!
//! This module owns what each task is (its task policy, the feature it
//! needs, the actions AWS's managed policy allows), the checks made before
//! any session is opened, and the plan built from what the session read. It
//! is pure: it must not do I/O or know SDK types. `crate::aws::roottask`
//! opens the sessions; `crate::app::roottask` reads, shows, confirms, saves
//! and applies.

use serde::Serialize;
use thiserror::Error;

use crate::domain::input::QueueRef;
use crate::domain::org::{OrgAccount, OrgFacts, FEATURE_CREDENTIALS, FEATURE_SESSIONS};

/// One of the three repair tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    RecoverPassword,
    UnlockBucket,
    UnlockQueue,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::RecoverPassword, Task::UnlockBucket, Task::UnlockQueue];

    /// The AWS managed root-task policy's name.
    pub fn policy_name(self) -> &'static str {
        match self {
            Task::RecoverPassword => "IAMCreateRootUserPassword",
            Task::UnlockBucket => "S3UnlockBucketPolicy",
            Task::UnlockQueue => "SQSUnlockQueuePolicy",
        }
    }

    pub fn policy_arn(self) -> String {
        format!("arn:aws:iam::aws:policy/root-task/{}", self.policy_name())
    }

    /// The centralized-root feature AWS lists the task under (IAM User
    /// Guide, "Centralize root access for member accounts").
    pub fn feature(self) -> &'static str {
        match self {
            Task::RecoverPassword => FEATURE_CREDENTIALS,
            Task::UnlockBucket | Task::UnlockQueue => FEATURE_SESSIONS,
        }
    }

    /// What the AWS managed task policy allows (AWS Managed Policy
    /// Reference); rootguard calls a subset.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Task::RecoverPassword => &["iam:CreateLoginProfile", "iam:GetLoginProfile"],
            Task::UnlockBucket => &[
                "s3:DeleteBucketPolicy",
                "s3:GetBucketPolicy",
                "s3:ListAllMyBuckets",
                "s3:PutBucketPolicy",
            ],
            Task::UnlockQueue => &[
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListQueues",
                "sqs:SetQueueAttributes",
            ],
        }
    }

    /// The command that runs it.
    pub fn command(self) -> &'static str {
        match self {
            Task::RecoverPassword => "org root recover",
            Task::UnlockBucket => "org unlock-bucket",
            Task::UnlockQueue => "org unlock-queue",
        }
    }
}

/// What the wizard says after `org harden` in a management account: the
/// repair tasks for when a member needs its root again.
pub const HINT: &str = "  when a member needs root again: `rootguard org root recover --account ID` lets its root \
reset the password (then `org harden --accounts ID` removes it again); `rootguard org unlock-bucket --account ID \
--bucket NAME` and `org unlock-queue --account ID --queue URL` delete a policy that locks everyone out";

/// What the task works on besides the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Root,
    Bucket(String),
    Queue(QueueRef),
}

impl Target {
    pub fn task(&self) -> Task {
        match self {
            Target::Root => Task::RecoverPassword,
            Target::Bucket(_) => Task::UnlockBucket,
            Target::Queue(_) => Task::UnlockQueue,
        }
    }
}

/// Why a task is not attempted (exit 2, no write, and no session when the
/// organization read already tells).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("--account {account} is the management account of {organization}: sts:AssumeRoot opens sessions in member accounts only")]
    ManagementAccount {
        account: String,
        organization: String,
    },
    #[error("--account {account} is not an ACTIVE member account of {organization}")]
    NotMember {
        account: String,
        organization: String,
    },
    #[error("{feature} is not enabled in {organization}, so AWS refuses {task} sessions: `rootguard org harden` enables it")]
    FeatureOff {
        feature: &'static str,
        task: &'static str,
        organization: String,
    },
    #[error("--queue {queue} belongs to account {owner}, not --account {account}")]
    QueueOfOtherAccount {
        queue: String,
        owner: String,
        account: String,
    },
    #[error("--bucket {bucket}: account {account} has no such bucket (its ListBuckets does not list it; a bucket of another account cannot be unlocked from this one)")]
    NoSuchBucket { bucket: String, account: String },
    #[error("--queue {queue}: account {account} has no such queue in {region}")]
    NoSuchQueue {
        queue: String,
        account: String,
        region: String,
    },
}

/// The checks made from the organization read alone, before any session:
/// the member, the task's feature, a queue URL's account.
pub fn preflight(org: &OrgFacts, account: &str, target: &Target) -> Result<OrgAccount, Refusal> {
    let task = target.task();
    if account == org.management_account_id {
        return Err(Refusal::ManagementAccount {
            account: account.into(),
            organization: org.organization_id.clone(),
        });
    }
    let member = org
        .accounts
        .iter()
        .find(|a| a.id == account)
        .cloned()
        .ok_or_else(|| Refusal::NotMember {
            account: account.into(),
            organization: org.organization_id.clone(),
        })?;
    if org.feature(task.feature()) == Some(false) {
        return Err(Refusal::FeatureOff {
            feature: task.feature(),
            task: task.policy_name(),
            organization: org.organization_id.clone(),
        });
    }
    if let Target::Queue(QueueRef::Url {
        url,
        account: owner,
        ..
    }) = target
    {
        if owner != account {
            return Err(Refusal::QueueOfOtherAccount {
                queue: url.clone(),
                owner: owner.clone(),
                account: account.into(),
            });
        }
    }
    Ok(member)
}

/// What the task's session read in the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// `iam:GetLoginProfile` for root.
    Password { present: bool },
    /// The bucket (listed by the member's ListBuckets) and its policy.
    Bucket {
        name: String,
        region: String,
        policy: Option<String>,
    },
    /// The queue and its `Policy` attribute.
    Queue {
        url: String,
        region: String,
        policy: Option<String>,
    },
}

/// The one write a task makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TaskStep {
    /// `iam:CreateLoginProfile` without a password: root can then use
    /// "Forgot password" on the sign-in page.
    CreateRootLoginProfile,
    /// `s3:DeleteBucketPolicy`; `policy` is the policy as read, saved
    /// before it goes.
    DeleteBucketPolicy {
        bucket: String,
        region: String,
        policy: String,
    },
    /// `sqs:SetQueueAttributes` with an empty `Policy`.
    DeleteQueuePolicy {
        queue_url: String,
        region: String,
        policy: String,
    },
}

impl TaskStep {
    pub fn describe(&self, account: &str) -> String {
        match self {
            TaskStep::CreateRootLoginProfile => format!(
                "create a login profile for the root user of {account} (iam:CreateLoginProfile, no password set)"
            ),
            TaskStep::DeleteBucketPolicy { bucket, region, .. } => format!(
                "delete the bucket policy of {bucket} ({region}) (s3:DeleteBucketPolicy)"
            ),
            TaskStep::DeleteQueuePolicy { queue_url, .. } => format!(
                "remove the queue policy of {queue_url} (sqs:SetQueueAttributes with an empty Policy)"
            ),
        }
    }

    /// The policy the step deletes, as read.
    pub fn policy(&self) -> Option<&str> {
        match self {
            TaskStep::CreateRootLoginProfile => None,
            TaskStep::DeleteBucketPolicy { policy, .. }
            | TaskStep::DeleteQueuePolicy { policy, .. } => Some(policy),
        }
    }
}

pub const TASK_SCHEMA: &str = "rootguard.org-root-task-plan/v1";

/// A task's plan: the value `--dry-run` prints and apply runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskPlan {
    pub schema: &'static str,
    pub task: Task,
    pub task_policy_arn: String,
    pub organization_id: String,
    pub account_id: String,
    pub account_name: String,
    /// `None`: nothing to do (`nothing_to_do` says why).
    pub step: Option<TaskStep>,
    pub nothing_to_do: Option<String>,
    /// What the step reopens and how to close it again.
    pub notes: Vec<String>,
}

/// Builds the plan from what the session read.
pub fn plan(organization_id: &str, member: &OrgAccount, task: Task, read: &Read) -> TaskPlan {
    let id = &member.id;
    let (step, nothing, notes) = match read {
        Read::Password { present: true } => (
            None,
            Some(format!(
                "the root user of {id} already has a login profile: its owner can use \"Forgot password\" on the root sign-in page"
            )),
            vec![],
        ),
        Read::Password { present: false } => (
            Some(TaskStep::CreateRootLoginProfile),
            None,
            vec![
                format!(
                    "this reopens console sign-in for the root user of {id}: whoever reads {} can set a password with \"Forgot password\" on the root sign-in page",
                    if member.email.is_empty() { "the account's root email" } else { &member.email }
                ),
                format!(
                    "when the task is done, `rootguard org harden --accounts {id}` deletes root's credentials again"
                ),
            ],
        ),
        Read::Bucket {
            name,
            region,
            policy: Some(p),
        } => (
            Some(TaskStep::DeleteBucketPolicy {
                bucket: name.clone(),
                region: region.clone(),
                policy: p.clone(),
            }),
            None,
            vec![
                "the policy is saved to a local file before it is deleted; until a corrected policy is put back, only IAM policies govern the bucket".into(),
            ],
        ),
        Read::Bucket { name, .. } => (
            None,
            Some(format!("bucket {name} in {id} has no bucket policy")),
            vec![],
        ),
        Read::Queue {
            url,
            region,
            policy: Some(p),
        } => (
            Some(TaskStep::DeleteQueuePolicy {
                queue_url: url.clone(),
                region: region.clone(),
                policy: p.clone(),
            }),
            None,
            vec![
                "the policy is saved to a local file before it is removed; until a corrected policy is put back, only IAM policies govern the queue".into(),
            ],
        ),
        Read::Queue { url, .. } => (
            None,
            Some(format!("queue {url} has no queue policy")),
            vec![],
        ),
    };
    TaskPlan {
        schema: TASK_SCHEMA,
        task,
        task_policy_arn: task.policy_arn(),
        organization_id: organization_id.into(),
        account_id: id.clone(),
        account_name: member.name.clone(),
        step,
        nothing_to_do: nothing,
        notes,
    }
}

/// A policy document for a terminal: pretty JSON when it parses, each line
/// with control characters made visible.
pub fn shown_policy(policy: &str) -> Vec<String> {
    let pretty = serde_json::from_str::<serde_json::Value>(policy)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| policy.to_string());
    pretty.lines().map(crate::domain::text::escape).collect()
}

impl TaskPlan {
    pub fn text(&self) -> String {
        use crate::domain::text::escape;
        let mut out = format!(
            "{} plan for {} ({}) in {}, in an {} session:\n",
            self.task.command(),
            self.account_id,
            escape(&self.account_name),
            self.organization_id,
            self.task.policy_name()
        );
        match (&self.step, &self.nothing_to_do) {
            (Some(step), _) => {
                out.push_str(&format!(
                    "  + {}\n",
                    escape(&step.describe(&self.account_id))
                ));
                if let Some(p) = step.policy() {
                    out.push_str("  the policy, in full:\n");
                    for line in shown_policy(p) {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
            (None, Some(why)) => out.push_str(&format!("  nothing to do: {}\n", escape(why))),
            (None, None) => out.push_str("  nothing to do\n"),
        }
        for n in &self.notes {
            out.push_str(&format!("  note: {}\n", escape(n)));
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The name of the local file the policy is saved to (before any
    /// suffix that keeps an existing file): account, resource, time.
    pub fn save_name(&self, stamp: &str) -> Option<String> {
        let safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        match self.step.as_ref()? {
            TaskStep::CreateRootLoginProfile => None,
            TaskStep::DeleteBucketPolicy { bucket, .. } => Some(format!(
                "{}-bucket-{}-policy-{stamp}.json",
                self.account_id,
                safe(bucket)
            )),
            TaskStep::DeleteQueuePolicy { queue_url, .. } => Some(format!(
                "{}-queue-{}-policy-{stamp}.json",
                self.account_id,
                safe(queue_url.rsplit('/').next().unwrap_or("queue"))
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::OrganizationFeatures;

    fn org(features: &[&str]) -> OrgFacts {
        OrgFacts {
            now: time::OffsetDateTime::UNIX_EPOCH,
            organization_id: "o-abc".into(),
            management_account_id: "111111111111".into(),
            caller_account_id: "111111111111".into(),
            caller_arn: "arn:aws:iam::111111111111:user/admin".into(),
            features: Ok(OrganizationFeatures::Enabled {
                organization_id: "o-abc".into(),
                features: features.iter().map(|f| f.to_string()).collect(),
            }),
            trusted_access: Ok(vec![]),
            delegated_admins: Ok(vec![]),
            accounts: ["111111111111", "222222222222"]
                .iter()
                .map(|i| OrgAccount {
                    id: i.to_string(),
                    name: format!("n{i}"),
                    email: format!("root+{i}@example.com"),
                })
                .collect(),
        }
    }

    const MEMBER: &str = "222222222222";

    #[test]
    fn each_task_names_its_policy_feature_and_actions() {
        let table = [
            (
                Task::RecoverPassword,
                "IAMCreateRootUserPassword",
                FEATURE_CREDENTIALS,
                "iam:CreateLoginProfile",
            ),
            (
                Task::UnlockBucket,
                "S3UnlockBucketPolicy",
                FEATURE_SESSIONS,
                "s3:DeleteBucketPolicy",
            ),
            (
                Task::UnlockQueue,
                "SQSUnlockQueuePolicy",
                FEATURE_SESSIONS,
                "sqs:SetQueueAttributes",
            ),
        ];
        for (task, name, feature, write) in table {
            assert_eq!(task.policy_name(), name);
            assert_eq!(
                task.policy_arn(),
                format!("arn:aws:iam::aws:policy/root-task/{name}")
            );
            assert_eq!(task.feature(), feature);
            assert!(task.actions().contains(&write), "{task:?}");
        }
    }

    #[test]
    fn preflight_refuses_management_non_members_features_off_and_foreign_queues() {
        let all = org(&[FEATURE_CREDENTIALS, FEATURE_SESSIONS]);
        let bucket = Target::Bucket("b".into());
        assert_eq!(preflight(&all, MEMBER, &bucket).unwrap().id, MEMBER);
        assert!(matches!(
            preflight(&all, "111111111111", &bucket),
            Err(Refusal::ManagementAccount { .. })
        ));
        assert!(matches!(
            preflight(&all, "333333333333", &bucket),
            Err(Refusal::NotMember { .. })
        ));
        // Credentials management on, sessions off: recover runs, unlocks do not.
        let creds_only = org(&[FEATURE_CREDENTIALS]);
        assert!(preflight(&creds_only, MEMBER, &Target::Root).is_ok());
        let e = preflight(&creds_only, MEMBER, &bucket).unwrap_err();
        assert_eq!(
            e,
            Refusal::FeatureOff {
                feature: FEATURE_SESSIONS,
                task: "S3UnlockBucketPolicy",
                organization: "o-abc".into()
            }
        );
        assert!(e.to_string().contains("org harden"), "{e}");
        let queue = Target::Queue(QueueRef::Url {
            url: "https://sqs.eu-west-1.amazonaws.com/333333333333/q".into(),
            account: "333333333333".into(),
            name: "q".into(),
            region: Some("eu-west-1".into()),
        });
        let e = preflight(&all, MEMBER, &queue).unwrap_err();
        assert!(
            e.to_string().contains("--queue") && e.to_string().contains("333333333333"),
            "{e}"
        );
        // Unknown features (the read failed) do not refuse: AWS decides.
        let mut unknown = all.clone();
        unknown.features = Err(crate::domain::facts::FactError::new(
            "iam:ListOrganizationsFeatures",
            crate::domain::facts::FactErrorKind::AccessDenied,
            "denied",
        ));
        assert!(preflight(&unknown, MEMBER, &bucket).is_ok());
    }

    fn member() -> OrgAccount {
        org(&[]).accounts[1].clone()
    }

    #[test]
    fn plans_from_what_the_session_read() {
        let m = member();
        let p = plan(
            "o-abc",
            &m,
            Task::RecoverPassword,
            &Read::Password { present: false },
        );
        assert_eq!(p.step, Some(TaskStep::CreateRootLoginProfile));
        let text = p.text();
        assert!(text.contains("root+222222222222@example.com"), "{text}");
        assert!(
            text.contains("org harden --accounts 222222222222"),
            "{text}"
        );
        let done = plan(
            "o-abc",
            &m,
            Task::RecoverPassword,
            &Read::Password { present: true },
        );
        assert_eq!(done.step, None);
        assert!(done.text().contains("nothing to do"), "{}", done.text());

        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}]}"#;
        let read = Read::Bucket {
            name: "b".into(),
            region: "eu-west-1".into(),
            policy: Some(policy.into()),
        };
        let p = plan("o-abc", &m, Task::UnlockBucket, &read);
        assert_eq!(p.step.as_ref().and_then(|s| s.policy()), Some(policy));
        let text = p.text();
        assert!(
            text.contains("\"Effect\": \"Deny\""),
            "the policy in full: {text}"
        );
        assert!(text.contains("s3:DeleteBucketPolicy"), "{text}");
        assert_eq!(
            p.save_name("20261206T080000Z").as_deref(),
            Some("222222222222-bucket-b-policy-20261206T080000Z.json")
        );
        let json: serde_json::Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(json["schema"], TASK_SCHEMA);
        assert_eq!(json["step"]["step"], "delete_bucket_policy");
        assert_eq!(json["step"]["policy"], policy);
        let none = Read::Bucket {
            name: "b".into(),
            region: "us-east-1".into(),
            policy: None,
        };
        assert!(plan("o-abc", &m, Task::UnlockBucket, &none).step.is_none());

        let q = Read::Queue {
            url: "https://sqs.us-east-1.amazonaws.com/222222222222/jobs".into(),
            region: "us-east-1".into(),
            policy: Some("{}".into()),
        };
        let p = plan("o-abc", &m, Task::UnlockQueue, &q);
        assert_eq!(
            p.save_name("T").as_deref(),
            Some("222222222222-queue-jobs-policy-T.json")
        );
    }

    #[test]
    fn a_policy_from_aws_cannot_drive_the_terminal() {
        let lines = shown_policy("not json \u{1b}[2J\u{7}");
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\u{1b}'), "{lines:?}");
        let pretty = shown_policy(r#"{"Sid":"a\u001b[31mred"}"#);
        assert!(pretty.iter().all(|l| !l.contains('\u{1b}')), "{pretty:?}");
    }
}
