//! Property tests (proptest, with shrinking) of the parsers that read what
//! AWS or an attacker controls: the IAM credential report and CloudTrail
//! records. The filter-pattern parser's properties sit beside it in
//! src/pattern/tests.rs. Cases per property: 1,000 in the suite;
//! `PROPTEST_CASES` raises it (scripts/properties-long runs them for minutes).

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use rootguard::domain::credreport;
use rootguard::domain::events;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The credential report's header as IAM writes it.
const HEADER: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "true",
            "false",
            "N/A",
            "no_information",
            "not_supported",
            "",
            "<root_account>",
            "2026-11-30T08:00:00+00:00",
            "2026-11-30T08:00:00Z",
            "2026-13-40T99:00:00+00:00",
            "us-east-1",
            "s3",
            "a,b",
            "quote\"d",
            "line\nbreak",
            "\u{1b}[31m",
        ])
        .prop_map(str::to_string),
        ".{0,12}",
    ]
}

/// A report: the header in some order, then rows of cells.
fn report() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<String>>)> {
    (
        Just((0..HEADER.len()).collect::<Vec<usize>>()).prop_shuffle(),
        proptest::collection::vec(proptest::collection::vec(cell(), HEADER.len()), 0..6),
    )
}

fn csv_of(order: &[usize], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(order.iter().map(|&i| HEADER[i])).unwrap();
    for r in rows {
        w.write_record(order.iter().map(|&i| r[i].as_str()))
            .unwrap();
    }
    w.into_inner().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1_000)))]

    #[test]
    fn credential_report_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = credreport::parse(&bytes, None);
    }

    /// Columns are found by name: any column order reads the same rows, and
    /// each flag is exactly its cell.
    #[test]
    fn credential_report_column_order_does_not_matter((order, rows) in report()) {
        let canonical: Vec<usize> = (0..HEADER.len()).collect();
        let a = credreport::parse(&csv_of(&canonical, &rows), None);
        let b = credreport::parse(&csv_of(&order, &rows), None);
        prop_assert_eq!(&a, &b);
        if let Ok(report) = a {
            prop_assert_eq!(report.rows.len(), rows.len());
            for (row, cells) in report.rows.iter().zip(&rows) {
                prop_assert_eq!(row.mfa_active, cells[7].trim() == "true");
                prop_assert_eq!(row.access_keys[0].active, cells[8].trim() == "true");
                prop_assert_eq!(row.certs_active[1], cells[20].trim() == "true");
            }
        }
    }
}

/// JSON values shaped like CloudTrail records: the keys rootguard reads, at
/// any depth, with values of every JSON kind (strings with control characters).
fn record() -> impl Strategy<Value = Value> {
    let keys = proptest::sample::select(vec![
        "userIdentity",
        "type",
        "arn",
        "accountId",
        "accessKeyId",
        "invokedBy",
        "sessionContext",
        "attributes",
        "mfaAuthenticated",
        "eventTime",
        "eventName",
        "eventSource",
        "eventType",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "eventID",
        "additionalEventData",
        "MFAUsed",
        "responseElements",
        "ConsoleLogin",
        "requestParameters",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        proptest::sample::select(vec![
            "Root",
            "IAMUser",
            "AwsServiceEvent",
            "AwsConsoleSignIn",
            "ConsoleLogin",
            "Success",
            "Failure",
            "Yes",
            "No",
            "true",
            "2026-12-03T07:00:00Z",
            "not a time",
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,20}|[\\x00-\\x1f\\x7f]{1,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..8).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1_000)))]

    /// Any record is read without panicking, and the responder's text never
    /// carries a control character from AWS to the terminal.
    #[test]
    fn cloudtrail_records_never_panic_and_text_is_escaped(rec in record(), ts in any::<i64>()) {
        let mut root = rec.clone();
        if let Value::Object(m) = &mut root {
            m.insert("userIdentity".into(), json!({"type": "Root"}));
        }
        let rows: Vec<_> = [&rec, &root].iter().filter_map(|r| events::row(ts, r)).collect();
        for width in [None, Some(80)] {
            let text = events::text(&rows, width);
            prop_assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "control character in {:?}", text
            );
        }
        let _ = events::root_events(&[(ts, rec.to_string()), (ts, root.to_string())]);
    }

    #[test]
    fn log_messages_that_are_not_json_never_panic(msg in "\\PC{0,80}", ts in any::<i64>()) {
        let _ = events::root_events(&[(ts, msg)]);
    }
}
