//! Least-privilege IAM policies for each mode of rootguard.
//!
//! This module owns the action lists and renders them as IAM policy JSON. The
//! same documents live in `docs/policies/`; a test keeps them equal. It must
//! not call AWS.

use serde_json::{json, Value};

/// Every action `rootguard verify` calls. All are reads.
pub const VERIFY_ACTIONS: &[&str] = &[
    "account:GetAlternateContact",
    "account:GetContactInformation",
    "account:ListRegions",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:DescribeAlarmsForMetric",
    "events:ListRules",
    "events:ListTargetsByRule",
    "events:TestEventPattern",
    "iam:GenerateCredentialReport",
    "iam:GetAccountPasswordPolicy",
    "iam:GetAccountSummary",
    "iam:GetCredentialReport",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListOrganizationsFeatures",
    "iam:ListUsers",
    "iam:ListVirtualMFADevices",
    "logs:DescribeMetricFilters",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sts:GetCallerIdentity",
];

/// `verify --security-hub` only: rootguard's findings read, imported and
/// resolved in the caller's Security Hub. Drop the statement when the flag is
/// not used; verify itself stays read-only.
pub const VERIFY_SECURITY_HUB_ACTIONS: &[&str] = &[
    "securityhub:BatchImportFindings",
    "securityhub:BatchUpdateFindings",
    "securityhub:GetFindings",
];

/// The policy document for verify: the read-only statement, then the
/// optional Security Hub statement.
pub fn verify_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RootguardVerifyReadOnly",
            "Effect": "Allow",
            "Action": VERIFY_ACTIONS,
            "Resource": "*"
        }, {
            "Sid": "OptionalSecurityHubImport",
            "Effect": "Allow",
            "Action": VERIFY_SECURITY_HUB_ACTIONS,
            "Resource": "*"
        }]
    })
}

/// Reads deploy, teardown, alarm test and events need (on any resource).
pub const SETUP_READ_ACTIONS: &[&str] = &[
    "account:ListRegions",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListTags",
    "cloudtrail:LookupEvents",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmsForMetric",
    "cloudwatch:ListTagsForResource",
    "events:DescribeRule",
    "events:ListRules",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "events:TestEventPattern",
    "guardduty:GetFindings",
    "guardduty:ListDetectors",
    "guardduty:ListFindings",
    "iam:ListAccountAliases",
    "logs:DescribeLogGroups",
    "logs:DescribeMetricFilters",
    "logs:FilterLogEvents",
    "logs:ListTagsForResource",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sts:GetCallerIdentity",
];

/// `--create-trail`: the bucket, log group, role and trail, each limited to
/// rootguard's names (and teardown's deletions of them; the bucket's only with
/// `--delete-trail-bucket`).
pub const SETUP_TRAIL_S3_ACTIONS: &[&str] = &[
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
];
pub const SETUP_TRAIL_IAM_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
];
pub const SETUP_TRAIL_LOGS_ACTIONS: &[&str] = &[
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:TagResource",
];
pub const SETUP_TRAIL_ACTIONS: &[&str] = &[
    "cloudtrail:AddTags",
    "cloudtrail:CreateTrail",
    "cloudtrail:DeleteTrail",
    "cloudtrail:StartLogging",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
];

/// The real-time rules' writes, limited to rules named rootguard-* (in
/// us-east-1, and the forwarding rule in every other enabled region).
pub const SETUP_EVENTS_ACTIONS: &[&str] = &[
    "events:DeleteRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:TagResource",
];

/// The forwarding role EventBridge assumes, limited to its name.
pub const FORWARD_ROLE_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
];

/// SNS writes, limited to topics named rootguard-*.
pub const SETUP_SNS_ACTIONS: &[&str] = &[
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:Publish",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
    "sns:TagResource",
];

/// CloudWatch writes, limited to alarms named rootguard-*.
pub const SETUP_ALARM_ACTIONS: &[&str] = &[
    "cloudwatch:DeleteAlarms",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:SetAlarmState",
    "cloudwatch:TagResource",
];

/// Metric filter writes, on the trail's log group (chosen at run time).
pub const SETUP_LOGS_ACTIONS: &[&str] = &["logs:DeleteMetricFilter", "logs:PutMetricFilter"];

/// What the setup wizard and `mfa enroll` change beyond deploy: the security
/// contact, the password policy, IAM users' virtual MFA, and root's own keys
/// (those only work when signed in as root).
pub const SETUP_WIZARD_ACTIONS: &[&str] = &[
    "account:PutAlternateContact",
    "account:PutContactInformation",
    "iam:CreateVirtualMFADevice",
    "iam:DeleteAccessKey",
    "iam:DeleteVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetAccessKeyLastUsed",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:UpdateAccessKey",
    "iam:UpdateAccountPasswordPolicy",
];

/// The policy document for setup, mfa enroll, deploy, teardown, alarm test
/// and events. Setup also runs every check, so verify's reads are included.
pub fn setup_policy() -> Value {
    setup_policy_for(None)
}

/// [`setup_policy`] with the trail bucket statement on `trail_bucket` (the
/// bucket `deploy --create-trail --trail-bucket NAME` uses) and its objects,
/// instead of rootguard's default bucket names.
pub fn setup_policy_for(trail_bucket: Option<&str>) -> Value {
    let bucket: Value = match trail_bucket {
        None => json!("arn:aws:s3:::rootguard-cloudtrail-*"),
        Some(b) => json!([format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")]),
    };
    let reads = union(SETUP_READ_ACTIONS, VERIFY_ACTIONS);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RootguardRead", "Effect": "Allow", "Action": reads, "Resource": "*"},
            {"Sid": "RootguardWizard", "Effect": "Allow", "Action": SETUP_WIZARD_ACTIONS, "Resource": "*"},
            {"Sid": "RootguardTopic", "Effect": "Allow", "Action": SETUP_SNS_ACTIONS,
             "Resource": "arn:aws:sns:*:*:rootguard-*"},
            {"Sid": "RootguardRealtimeRule", "Effect": "Allow", "Action": SETUP_EVENTS_ACTIONS,
             "Resource": "arn:aws:events:*:*:rule/rootguard-*"},
            {"Sid": "RootguardForwardRole", "Effect": "Allow", "Action": FORWARD_ROLE_ACTIONS,
             "Resource": "arn:aws:iam::*:role/rootguard-events-forward"},
            {"Sid": "RootguardForwardRolePass", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": "arn:aws:iam::*:role/rootguard-events-forward",
             "Condition": {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}},
            {"Sid": "RootguardAlarm", "Effect": "Allow", "Action": SETUP_ALARM_ACTIONS,
             "Resource": "arn:aws:cloudwatch:*:*:alarm:rootguard-*"},
            {"Sid": "RootguardMetricFilter", "Effect": "Allow", "Action": SETUP_LOGS_ACTIONS,
             "Resource": "arn:aws:logs:*:*:log-group:*"},
            {"Sid": "RootguardTrailBucket", "Effect": "Allow", "Action": SETUP_TRAIL_S3_ACTIONS,
             "Resource": bucket},
            {"Sid": "RootguardTrailRole", "Effect": "Allow", "Action": SETUP_TRAIL_IAM_ACTIONS,
             "Resource": "arn:aws:iam::*:role/rootguard-cloudtrail-to-logs"},
            {"Sid": "RootguardTrailRolePass", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": "arn:aws:iam::*:role/rootguard-cloudtrail-to-logs",
             "Condition": {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}}},
            {"Sid": "RootguardTrailLogGroup", "Effect": "Allow", "Action": SETUP_TRAIL_LOGS_ACTIONS,
             "Resource": "arn:aws:logs:*:*:log-group:rootguard-*"},
            {"Sid": "RootguardTrail", "Effect": "Allow", "Action": SETUP_TRAIL_ACTIONS,
             "Resource": "arn:aws:cloudtrail:*:*:trail/rootguard-*"}
        ]
    })
}

/// Organization reads for `verify --org`, `org status` and `org harden`, from
/// the management account (or the IAM delegated administrator).
pub const ORG_READ_ACTIONS: &[&str] = &[
    "account:GetAlternateContact",
    "account:GetContactInformation",
    "iam:ListOrganizationsFeatures",
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListAccounts",
    "organizations:ListDelegatedAdministrators",
    "sts:GetCallerIdentity",
];

/// `org harden`'s organization-level writes.
pub const ORG_HARDEN_ACTIONS: &[&str] = &[
    "iam:EnableOrganizationsRootCredentialsManagement",
    "iam:EnableOrganizationsRootSessions",
    "organizations:EnableAWSServiceAccess",
];

/// `deploy --org` / `teardown --org`: the StackSet, limited to its name.
pub const ORG_STACKSET_ACTIONS: &[&str] = &[
    "cloudformation:CreateStackInstances",
    "cloudformation:CreateStackSet",
    "cloudformation:DeleteStackInstances",
    "cloudformation:DeleteStackSet",
    "cloudformation:DescribeStackSet",
    "cloudformation:DescribeStackSetOperation",
    "cloudformation:ListStackInstances",
    "cloudformation:ListStackSetOperations",
    "cloudformation:TagResource",
    "cloudformation:UpdateStackInstances",
    "cloudformation:UpdateStackSet",
];

/// The hub's event bus and rule, limited to rootguard's names in us-east-1.
pub const ORG_HUB_EVENTS_ACTIONS: &[&str] = &[
    "events:CreateEventBus",
    "events:DeleteEventBus",
    "events:DeleteRule",
    "events:DescribeEventBus",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "events:PutPermission",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:TagResource",
];

/// The hub topic, limited to its name.
pub const ORG_HUB_SNS_ACTIONS: &[&str] = &[
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
    "sns:TagResource",
];

/// Organization reads `deploy --org` adds.
pub const ORG_DEPLOY_READ_ACTIONS: &[&str] = &[
    "account:ListRegions",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListRoots",
];

/// The policy document for the organization commands: verify's reads for the
/// management account itself, the organization reads, `sts:AssumeRoot`
/// limited to the audit and delete task policies, one statement per repair
/// task (recover, unlock-bucket, unlock-queue) so each can be left out,
/// `sts:AssumeRole` for `--role`, and harden's writes. What a root session does is limited
/// by its task policy, not by this document.
pub fn org_policy() -> Value {
    use crate::domain::roottask::Task;
    let reads = union(
        &union(ORG_READ_ACTIONS, VERIFY_ACTIONS),
        ORG_DEPLOY_READ_ACTIONS,
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RootguardOrgRead", "Effect": "Allow", "Action": reads, "Resource": "*"},
            {"Sid": "RootguardAssumeRoot", "Effect": "Allow", "Action": ["sts:AssumeRoot"], "Resource": "*",
             "Condition": {"StringEquals": {"sts:TaskPolicyArn": [
                 crate::domain::org::AUDIT_TASK_POLICY, crate::domain::org::DELETE_TASK_POLICY]}}},
            {"Sid": "RootguardRecoverRootPassword", "Effect": "Allow", "Action": ["sts:AssumeRoot"], "Resource": "*",
             "Condition": {"StringEquals": {"sts:TaskPolicyArn": [Task::RecoverPassword.policy_arn()]}}},
            {"Sid": "RootguardUnlockBucket", "Effect": "Allow", "Action": ["sts:AssumeRoot"], "Resource": "*",
             "Condition": {"StringEquals": {"sts:TaskPolicyArn": [Task::UnlockBucket.policy_arn()]}}},
            {"Sid": "RootguardUnlockQueue", "Effect": "Allow", "Action": ["sts:AssumeRoot"], "Resource": "*",
             "Condition": {"StringEquals": {"sts:TaskPolicyArn": [Task::UnlockQueue.policy_arn()]}}},
            {"Sid": "RootguardMemberRole", "Effect": "Allow", "Action": ["sts:AssumeRole"],
             "Resource": "arn:aws:iam::*:role/*"},
            {"Sid": "RootguardOrgHarden", "Effect": "Allow", "Action": ORG_HARDEN_ACTIONS, "Resource": "*"},
            {"Sid": "RootguardSpokeStackSet", "Effect": "Allow", "Action": ORG_STACKSET_ACTIONS,
             "Resource": ["arn:aws:cloudformation:*:*:stackset/rootguard-root-activity-spoke:*",
                          "arn:aws:cloudformation:*:*:stackset-target/rootguard-root-activity-spoke:*",
                          "arn:aws:cloudformation:*::type/resource/*"]},
            {"Sid": "RootguardHubEvents", "Effect": "Allow", "Action": ORG_HUB_EVENTS_ACTIONS,
             "Resource": ["arn:aws:events:us-east-1:*:event-bus/rootguard-*",
                          "arn:aws:events:*:*:rule/rootguard-*"]},
            {"Sid": "RootguardHubForwardRole", "Effect": "Allow", "Action": FORWARD_ROLE_ACTIONS,
             "Resource": "arn:aws:iam::*:role/rootguard-events-forward-hub"},
            {"Sid": "RootguardHubForwardRolePass", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": "arn:aws:iam::*:role/rootguard-events-forward-hub",
             "Condition": {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}},
            {"Sid": "RootguardHubTopic", "Effect": "Allow", "Action": ORG_HUB_SNS_ACTIONS,
             "Resource": "arn:aws:sns:us-east-1:*:rootguard-org-root-activity"},
            {"Sid": "OptionalSecurityHubImport", "Effect": "Allow", "Action": VERIFY_SECURITY_HUB_ACTIONS,
             "Resource": "*"}
        ]
    })
}

/// Two action lists as one, sorted, without repeats.
fn union<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    // (sorted output, so a union of unions stays sorted)
    let mut all: Vec<&str> = a.iter().chain(b).copied().collect();
    all.sort();
    all.dedup();
    all
}

/// Every action a policy document allows.
pub fn actions(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// Pretty JSON with a trailing newline, as printed and as stored in docs/.
pub fn render(policy: &Value) -> String {
    let mut s = serde_json::to_string_pretty(policy).expect("a policy is plain JSON");
    s.push('\n');
    s
}

/// Whether an action only reads. `iam:GenerateCredentialReport` is classed as
/// a read by IAM: it builds a report and changes nothing in the account;
/// `events:TestEventPattern` only evaluates a pattern on an event.
pub fn is_read_only(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or("");
    ["Get", "List", "Describe"]
        .iter()
        .any(|p| verb.starts_with(p))
        || action == "iam:GenerateCredentialReport"
        || action == "events:TestEventPattern"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_policy_for_a_named_trail_bucket_allows_that_bucket_and_its_objects_only() {
        let bucket = |p: &Value| {
            p["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "RootguardTrailBucket")
                .unwrap()["Resource"]
                .clone()
        };
        assert_eq!(
            bucket(&setup_policy()),
            serde_json::json!("arn:aws:s3:::rootguard-cloudtrail-*")
        );
        let named = setup_policy_for(Some("audit-logs-1"));
        assert_eq!(
            bucket(&named),
            serde_json::json!(["arn:aws:s3:::audit-logs-1", "arn:aws:s3:::audit-logs-1/*"])
        );
        // Everything else is the default policy.
        let strip = |mut p: Value| {
            for s in p["Statement"].as_array_mut().unwrap() {
                if s["Sid"] == "RootguardTrailBucket" {
                    s["Resource"] = Value::Null;
                }
            }
            p
        };
        assert_eq!(strip(named), strip(setup_policy()));
    }

    #[test]
    fn verify_policy_is_read_only() {
        for a in VERIFY_ACTIONS {
            assert!(is_read_only(a), "{a} is not a read");
        }
        assert!(!is_read_only("iam:DeleteAccessKey"));
        assert!(!is_read_only("account:PutAlternateContact"));
    }

    #[test]
    fn org_policy_limits_assume_root_to_the_two_task_policies() {
        let p = org_policy();
        let st = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "RootguardAssumeRoot")
            .expect("an AssumeRoot statement");
        let arns = &st["Condition"]["StringEquals"]["sts:TaskPolicyArn"];
        assert_eq!(arns.as_array().unwrap().len(), 2);
        for task in crate::domain::roottask::Task::ALL {
            let st = p["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["Condition"]["StringEquals"]["sts:TaskPolicyArn"]
                        == serde_json::json!([task.policy_arn()])
                })
                .unwrap_or_else(|| panic!("a statement for {task:?}"));
            assert_eq!(st["Action"], serde_json::json!(["sts:AssumeRoot"]));
        }
        assert!(actions(&p).contains(&"organizations:ListAccounts".to_string()));
        assert_eq!(
            include_str!("../../docs/policies/org.json"),
            render(&p),
            "run `rootguard policy org > docs/policies/org.json`"
        );
    }

    #[test]
    fn docs_copy_matches() {
        let doc = include_str!("../../docs/policies/verify.json");
        assert_eq!(
            doc,
            render(&verify_policy()),
            "run `rootguard policy verify > docs/policies/verify.json`"
        );
    }
}
