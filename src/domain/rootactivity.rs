//! What "root activity" means: the CIS pattern, the event corpus, and the judge.
//!
//! This module owns the reference definition of root activity (the CIS
//! pattern and the names deploy uses), the corpus of real-shaped CloudTrail
//! records compiled from `corpus/cloudtrail/`, and [`judge`], which compares a
//! candidate filter pattern with the CIS pattern by what each matches. It must
//! not do I/O.

use std::sync::OnceLock;

use serde_json::Value;

use crate::domain::pattern::{Event, ParseError, Pattern};

/// CIS AWS Foundations 4.3 / Security Hub CloudWatch.1: root account usage.
pub const CIS_ROOT_PATTERN: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
/// The metric namespace deploy uses.
pub const METRIC_NAMESPACE: &str = "CISBenchmark";
/// The metric name deploy uses.
pub const METRIC_NAME: &str = "RootAccountUsage";

pub struct CorpusEvent {
    /// File stem under corpus/cloudtrail/, e.g. `root-console-signin-success`.
    pub name: &'static str,
    pub text: &'static str,
    pub json: Value,
}

macro_rules! corpus_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../corpus/cloudtrail/", $name, ".json")))),*]
    };
}

const FILES: &[(&str, &str)] = corpus_files!(
    "root-console-signin-success",
    "root-console-signin-failure",
    "root-api-call",
    "root-api-call-readonly",
    "root-api-call-regional",
    "root-api-call-refused",
    "root-session-write",
    "root-session-read",
    "root-invoked-by-service",
    "root-aws-service-event",
    "iam-user-call",
    "assumed-role-call",
    "aws-service-event",
    "assume-root-call",
    "assume-root-audit",
);

/// The corpus, parsed once.
pub fn corpus() -> &'static [CorpusEvent] {
    static CORPUS: OnceLock<Vec<CorpusEvent>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| CorpusEvent {
                name,
                text: text.trim(),
                json: serde_json::from_str(text)
                    .expect("corpus files are valid JSON (unit-tested)"),
            })
            .collect()
    })
}

/// The CIS pattern, parsed.
pub fn cis_pattern() -> &'static Pattern {
    static CIS: OnceLock<Pattern> = OnceLock::new();
    CIS.get_or_init(|| {
        Pattern::parse(CIS_ROOT_PATTERN).expect("the CIS pattern parses (unit-tested)")
    })
}

/// How a candidate pattern compares with the CIS pattern on the corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// Corpus events the CIS pattern catches and the candidate misses.
    pub missed: Vec<&'static str>,
    /// Corpus events the candidate catches and the CIS pattern does not.
    pub extra: Vec<&'static str>,
}

impl Judgement {
    /// The candidate catches every root event the CIS pattern catches.
    pub fn covers_cis(&self) -> bool {
        self.missed.is_empty()
    }

    /// The candidate also catches every corpus event that is not root
    /// activity: it matches all activity, so its alarm says nothing about root.
    pub fn matches_everything(&self) -> bool {
        let others = corpus()
            .iter()
            .filter(|e| !is_root_activity(&e.json))
            .count();
        others > 0 && self.extra.len() == others
    }
}

/// Parses `candidate` and judges it against the corpus.
pub fn judge(candidate: &str) -> Result<Judgement, ParseError> {
    let pattern = Pattern::parse(candidate)?;
    Ok(judge_pattern(&pattern))
}

pub fn judge_pattern(candidate: &Pattern) -> Judgement {
    let cis = cis_pattern();
    let mut j = Judgement {
        missed: vec![],
        extra: vec![],
    };
    for e in corpus() {
        let ev = Event {
            text: e.text,
            json: Some(&e.json),
        };
        match (cis.matches(&ev), candidate.matches(&ev)) {
            (true, false) => j.missed.push(e.name),
            (false, true) => j.extra.push(e.name),
            _ => {}
        }
    }
    j
}

/// Whether a CloudTrail record is root activity by the CIS definition.
pub fn is_root_activity(record: &Value) -> bool {
    cis_pattern().matches(&Event {
        text: "",
        json: Some(record),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cis_pattern_catches_exactly_the_direct_root_events() {
        let caught: Vec<&str> = corpus()
            .iter()
            .filter(|e| is_root_activity(&e.json))
            .map(|e| e.name)
            .collect();
        assert_eq!(
            caught,
            [
                "root-console-signin-success",
                "root-console-signin-failure",
                "root-api-call",
                "root-api-call-readonly",
                "root-api-call-regional",
                "root-api-call-refused",
                // CIS counts a privileged session's calls: their userIdentity.type is Root.
                "root-session-write",
                "root-session-read",
            ]
        );
    }

    #[test]
    fn regex_values_are_evaluated_in_the_documented_subset() {
        let same = judge(
            r#"{ $.userIdentity.type = %^Root$% && $.userIdentity.invokedBy NOT EXISTS && $.eventType != %Service% }"#,
        )
        .unwrap();
        assert!(same.covers_cis() && same.extra.is_empty(), "{same:?}");
        let narrower =
            judge(r#"{ $.userIdentity.type = %Root% && $.eventName = %^Console% }"#).unwrap();
        assert!(
            !narrower.covers_cis(),
            "misses root API calls: {narrower:?}"
        );
        assert!(narrower.missed.contains(&"root-api-call"));
        for unreadable in [
            r#"{ $.userIdentity.type = %(Root)% }"#,
            r#"{ $.userIdentity.type = %Ro ot% }"#,
            r#"{ $.a = %a% && $.b = %b% && $.c = %c% }"#,
            r#"{ $.userIdentity.type = %Root }"#,
            "%Root%",
        ] {
            assert!(
                judge(unreadable).is_err(),
                "{unreadable} must be unknown, not guessed"
            );
        }
    }

    #[test]
    fn a_pattern_that_matches_everything_is_told_apart_from_a_noisy_one() {
        assert!(judge(r#"{ $.eventVersion = * }"#)
            .unwrap()
            .matches_everything());
        assert!(judge("").unwrap().matches_everything());
        assert!(!judge(CIS_ROOT_PATTERN).unwrap().matches_everything());
        let noisy = judge(r#"{ $.userIdentity.type = "Root" }"#).unwrap();
        assert!(!noisy.extra.is_empty() && !noisy.matches_everything());
    }

    /// One case per real-world variant: (pattern, missed, extra) or a parse error.
    #[test]
    fn judged_by_meaning_not_text() {
        type Want = Option<(&'static [&'static str], &'static [&'static str])>;
        let cases: &[(&str, &str, Want)] = &[
            ("canonical CIS", CIS_ROOT_PATTERN, Some((&[], &[]))),
            (
                "Security Hub form without spaces",
                r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
                Some((&[], &[])),
            ),
            (
                "reordered clauses",
                r#"{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }"#,
                Some((&[], &[])),
            ),
            (
                "unquoted values",
                r#"{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }"#,
                Some((&[], &[])),
            ),
            (
                "an extra || clause is broader",
                r#"{ ($.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent") || $.eventName = "DeleteTrail" }"#,
                Some((&[], &[])),
            ),
            (
                "no invokedBy clause catches service-invoked root calls too",
                r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#,
                Some((&[], &["root-invoked-by-service"])),
            ),
            (
                "IAMUser misses root",
                r#"{ $.userIdentity.type = "IAMUser" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
                Some((
                    &[
                        "root-console-signin-success",
                        "root-console-signin-failure",
                        "root-api-call",
                        "root-api-call-readonly",
                        "root-api-call-regional",
                        "root-api-call-refused",
                        "root-session-write",
                        "root-session-read",
                    ],
                    &["iam-user-call"],
                )),
            ),
            (
                "the AWsServiceEvent typo from an AWS sample excludes nothing",
                r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AWsServiceEvent" }"#,
                Some((&[], &["root-aws-service-event"])),
            ),
            (
                "wildcard type",
                r#"{ $.userIdentity.type = "Ro*" && $.userIdentity.invokedBy NOT EXISTS }"#,
                Some((&[], &["root-aws-service-event"])),
            ),
            (
                "console sign-ins only",
                r#"{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }"#,
                Some((
                    &[
                        "root-api-call",
                        "root-api-call-readonly",
                        "root-api-call-regional",
                        "root-api-call-refused",
                        "root-session-write",
                        "root-session-read",
                    ],
                    &[],
                )),
            ),
            (
                "term form on the ARN text",
                r#""arn:aws:iam::111122223333:root""#,
                Some((
                    &[],
                    // An AssumeRoot call names the member's root ARN in its resources.
                    &[
                        "root-invoked-by-service",
                        "root-aws-service-event",
                        "assume-root-call",
                        "assume-root-audit",
                    ],
                )),
            ),
            (
                "unparseable",
                r#"{ $.userIdentity.type = "Root" && }"#,
                None,
            ),
        ];
        for (what, pattern, want) in cases {
            match (judge(pattern), want) {
                (Ok(j), Some((missed, extra))) => {
                    assert_eq!(j.missed, *missed, "{what}: missed");
                    assert_eq!(j.extra, *extra, "{what}: extra");
                }
                (Err(e), None) => assert!(e.to_string().starts_with("at position"), "{what}: {e}"),
                (got, _) => panic!("{what}: unexpected {got:?}"),
            }
        }
    }
}
