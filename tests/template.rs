//! The CloudFormation template builds the same chain as `rootguard deploy`:
//! its pattern, names and alarm parameters equal the code's constants.

mod common;

use common::*;
use rootguard::domain::deploy::*;
use rootguard::domain::rootactivity::{CIS_ROOT_PATTERN, METRIC_NAME, METRIC_NAMESPACE};
use serde_json::{json, Value};

fn template() -> Value {
    let text =
        std::fs::read_to_string(manifest_dir().join("cfn/root-activity-alarm.yaml")).unwrap();
    serde_yaml::from_str(&text).expect("the template is plain YAML (long-form intrinsics)")
}

#[test]
fn template_matches_the_code() {
    let t = template();
    let r = &t["Resources"];
    let filter = &r["RootActivityFilter"]["Properties"];
    assert_eq!(filter["FilterPattern"], CIS_ROOT_PATTERN);
    assert_eq!(filter["FilterName"], FILTER_NAME);
    let m = &filter["MetricTransformations"][0];
    assert_eq!(m["MetricName"], METRIC_NAME);
    assert_eq!(m["MetricNamespace"], METRIC_NAMESPACE);
    assert_eq!(m["MetricValue"], METRIC_VALUE);

    let alarm = &r["RootActivityAlarm"]["Properties"];
    assert_eq!(alarm["AlarmName"], ALARM_NAME);
    assert_eq!(alarm["Namespace"], METRIC_NAMESPACE);
    assert_eq!(alarm["MetricName"], METRIC_NAME);
    assert_eq!(alarm["Statistic"], ALARM_STATISTIC);
    assert_eq!(alarm["Period"], ALARM_PERIOD);
    assert_eq!(alarm["EvaluationPeriods"], ALARM_EVALUATION_PERIODS);
    assert_eq!(alarm["Threshold"].as_f64(), Some(ALARM_THRESHOLD));
    assert_eq!(alarm["ComparisonOperator"], ALARM_COMPARISON);
    assert_eq!(alarm["TreatMissingData"], ALARM_TREAT_MISSING_DATA);
    assert_eq!(alarm["ActionsEnabled"], true);
    assert_eq!(alarm["AlarmDescription"], ALARM_DESCRIPTION);
    assert_eq!(alarm["AlarmActions"], json!([{"Ref": "Topic"}]));
    assert!(alarm["Tags"]
        .as_array()
        .unwrap()
        .contains(&json!({"Key": TAG_KEY, "Value": TAG_VALUE})));

    let topic = &r["Topic"]["Properties"];
    assert_eq!(topic["TopicName"], TOPIC_NAME);
    assert_eq!(topic["Tags"], json!([{"Key": TAG_KEY, "Value": TAG_VALUE}]));

    // The topic policy is the code's, with the ARN and account as CloudFormation references.
    let mut code_policy = topic_policy("arn:aws:sns:REGION:ACCOUNT:TOPIC", "ACCOUNT");
    code_policy["Statement"][0]["Resource"] = json!({"Ref": "Topic"});
    code_policy["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] =
        json!({"Ref": "AWS::AccountId"});
    assert_eq!(
        code_policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:cloudwatch:REGION:ACCOUNT:alarm:rootguard-root-activity"
    );
    code_policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] = json!({"Fn::Sub":
        "arn:aws:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:rootguard-root-activity"});
    code_policy["Statement"][1]["Resource"] = json!({"Ref": "Topic"});
    let mut doc = r["TopicPolicy"]["Properties"]["PolicyDocument"].clone();
    doc["Statement"].as_array_mut().unwrap().truncate(2);
    assert_eq!(
        doc, code_policy,
        "the CloudWatch statement and the TLS-only deny"
    );

    // The real-time rules: one per kind with the code's name, pattern, state,
    // target and message; EventBridge may publish for those rules only.
    let logical = [
        "SigninRule",
        "RootActivityRule",
        "RefusedRule",
        "SessionRule",
        "AssumeRootRule",
    ];
    for (kind, logical) in rootguard::domain::realtime::KINDS.iter().zip(logical) {
        let rule = &r[logical];
        assert_eq!(rule["Condition"], "CreateRealtime", "{logical}");
        let rp = &rule["Properties"];
        assert_eq!(rp["Name"], kind.rule);
        assert_eq!(
            rp["Description"],
            format!(
                "rootguard: {}, in seconds, to the rootguard topic",
                kind.what
            )
        );
        assert_eq!(rp["State"], rootguard::domain::realtime::RULE_STATE);
        assert_eq!(rp["EventPattern"], (kind.pattern)(), "{logical}");
        let target = &rp["Targets"][0];
        assert_eq!(target["Id"], rootguard::domain::realtime::TARGET_ID);
        assert_eq!(target["Arn"], json!({"Ref": "Topic"}));
        assert_eq!(
            target["InputTransformer"]["InputTemplate"],
            rootguard::domain::realtime::input_template(kind, None),
            "{logical}"
        );
        assert_eq!(
            target["InputTransformer"]["InputPathsMap"],
            serde_json::to_value(rootguard::domain::realtime::input_paths(kind)).unwrap()
        );
    }
    let arns: Vec<String> = (0..5).map(|i| format!("RULE{i}")).collect();
    let mut code_rule_statement =
        topic_policy_with_rule("TOPIC", "ACCOUNT", &arns)["Statement"][2].clone();
    code_rule_statement["Resource"] = json!({"Ref": "Topic"});
    code_rule_statement["Condition"]["ArnEquals"]["aws:SourceArn"] = json!(logical
        .iter()
        .map(|l| json!({"Fn::GetAtt": [l, "Arn"]}))
        .collect::<Vec<_>>());
    let statement = &r["TopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][2]["Fn::If"];
    assert_eq!(statement[0], "CreateRealtime");
    assert_eq!(statement[1], code_rule_statement);
    assert_eq!(statement[2], json!({"Ref": "AWS::NoValue"}));

    // In any other region: the forwarding rule and its role, as deploy builds them.
    let fwd = &r["ForwardRule"];
    assert_eq!(fwd["Condition"], "CreateForward");
    let fp = &fwd["Properties"];
    assert_eq!(fp["Name"], rootguard::domain::realtime::FORWARD_RULE);
    assert_eq!(
        fp["Description"],
        rootguard::domain::realtime::FORWARD_DESCRIPTION
    );
    assert_eq!(fp["State"], rootguard::domain::realtime::RULE_STATE);
    assert_eq!(
        fp["EventPattern"],
        rootguard::domain::realtime::forward_pattern()
    );
    assert_eq!(
        fp["Targets"][0]["Id"],
        rootguard::domain::realtime::FORWARD_TARGET_ID
    );
    assert_eq!(
        fp["Targets"][0]["RoleArn"],
        json!({"Fn::GetAtt": ["ForwardRole", "Arn"]})
    );
    let role = &r["ForwardRole"]["Properties"];
    let mut trust = rootguard::domain::realtime::forward_role_trust("ACCOUNT");
    trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] =
        json!({"Ref": "AWS::AccountId"});
    assert_eq!(role["AssumeRolePolicyDocument"], trust);
    let mut perms = rootguard::domain::realtime::forward_role_permissions("ACCOUNT");
    perms["Statement"][0]["Resource"] = json!({"Fn::Sub":
        "arn:${AWS::Partition}:events:us-east-1:${AWS::AccountId}:event-bus/default"});
    assert_eq!(role["Policies"][0]["PolicyDocument"], perms);

    for p in [
        "LogGroupName",
        "NotificationEmail",
        "KmsKeyId",
        "RealtimeRule",
    ] {
        assert!(t["Parameters"].get(p).is_some(), "parameter {p}");
    }
}

#[test]
fn template_command_prints_the_file() {
    let r = run({
        let mut c = bare_command();
        c.arg("template");
        c
    });
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        std::fs::read_to_string(manifest_dir().join("cfn/root-activity-alarm.yaml")).unwrap()
    );
}
