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
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:DescribeAlarmsForMetric",
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

/// The policy document for verify.
pub fn verify_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RootguardVerifyReadOnly",
            "Effect": "Allow",
            "Action": VERIFY_ACTIONS,
            "Resource": "*"
        }]
    })
}

/// Pretty JSON with a trailing newline, as printed and as stored in docs/.
pub fn render(policy: &Value) -> String {
    let mut s = serde_json::to_string_pretty(policy).expect("a policy is plain JSON");
    s.push('\n');
    s
}

/// Whether an action only reads. `iam:GenerateCredentialReport` is classed as
/// a read by IAM: it builds a report and changes nothing in the account.
pub fn is_read_only(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or("");
    ["Get", "List", "Describe"]
        .iter()
        .any(|p| verb.starts_with(p))
        || action == "iam:GenerateCredentialReport"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_policy_is_read_only() {
        for a in VERIFY_ACTIONS {
            assert!(is_read_only(a), "{a} is not a read");
        }
        assert!(!is_read_only("iam:DeleteAccessKey"));
        assert!(!is_read_only("account:PutAlternateContact"));
    }

    #[test]
    fn docs_copy_matches() {
        let doc = include_str!("../docs/policies/verify.json");
        assert_eq!(
            doc,
            render(&verify_policy()),
            "run `rootguard policy verify > docs/policies/verify.json`"
        );
    }
}
