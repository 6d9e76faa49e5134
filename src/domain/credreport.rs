//! Parsing of the IAM credential report (CSV) into plain rows.
//!
//! This module owns the report's format: columns are found by header name, never
//! by position, with the `csv` crate, and the report's special values (`N/A`,
//! `no_information`, `not_supported`) become explicit enum variants. It must not
//! call AWS or decide verdicts.

use std::collections::HashMap;

use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The user name AWS gives the root user's row.
pub const ROOT_ROW: &str = "<root_account>";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("malformed credential report: {0}")]
    Csv(String),
    #[error("malformed credential report: missing column {0:?}")]
    MissingColumn(&'static str),
    #[error("malformed credential report: row {row}, column {column}: {value:?} is not a date")]
    BadDate {
        row: usize,
        column: &'static str,
        value: String,
    },
}

/// A time column of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportTime {
    At(OffsetDateTime),
    /// `N/A`: the credential never existed or was never used.
    NotApplicable,
    /// `no_information`: never used since AWS started tracking.
    NoInformation,
    /// `not_supported`: the column does not apply (e.g. root's password_enabled).
    NotSupported,
}

impl ReportTime {
    pub fn at(self) -> Option<OffsetDateTime> {
        match self {
            ReportTime::At(t) => Some(t),
            _ => None,
        }
    }
}

/// A boolean column that may also be `not_supported` (root's password_enabled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFlag {
    True,
    False,
    NotSupported,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyColumns {
    pub active: bool,
    pub last_used: ReportTime,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    pub user: String,
    pub arn: String,
    pub password_enabled: ReportFlag,
    pub password_last_used: ReportTime,
    pub mfa_active: bool,
    pub access_keys: [AccessKeyColumns; 2],
    pub certs_active: [bool; 2],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialReport {
    pub generated_at: Option<OffsetDateTime>,
    pub rows: Vec<ReportRow>,
}

impl CredentialReport {
    /// The `<root_account>` row, if the report has one.
    pub fn root(&self) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.user == ROOT_ROW)
    }
}

const COLUMNS: [&str; 18] = [
    "user",
    "arn",
    "password_enabled",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_2_active",
    // Present in every report, parsed only for completeness checks.
    "user_creation_time",
    "password_last_changed",
    "access_key_1_last_rotated",
];

/// Parses the CSV text of a credential report.
pub fn parse(
    csv_text: &[u8],
    generated_at: Option<OffsetDateTime>,
) -> Result<CredentialReport, ReportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(csv_text);
    let headers = reader
        .headers()
        .map_err(|e| ReportError::Csv(e.to_string()))?
        .clone();
    let index: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim(), i))
        .collect();
    let mut col = HashMap::new();
    for name in COLUMNS {
        let i = *index.get(name).ok_or(ReportError::MissingColumn(name))?;
        col.insert(name, i);
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ReportError::Csv(e.to_string()))?;
        let row_no = n + 2; // 1-based, after the header line
        let get = |name: &'static str| record.get(col[name]).unwrap_or("").trim();
        let time = |name: &'static str| parse_time(get(name), row_no, name);
        let opt = |name: &'static str| {
            let v = get(name);
            (!v.is_empty() && v != "N/A" && v != "not_supported").then(|| v.to_string())
        };
        let key = |i: u8| -> Result<AccessKeyColumns, ReportError> {
            let (active, used, region, service) = match i {
                1 => (
                    "access_key_1_active",
                    "access_key_1_last_used_date",
                    "access_key_1_last_used_region",
                    "access_key_1_last_used_service",
                ),
                _ => (
                    "access_key_2_active",
                    "access_key_2_last_used_date",
                    "access_key_2_last_used_region",
                    "access_key_2_last_used_service",
                ),
            };
            Ok(AccessKeyColumns {
                active: get(active) == "true",
                last_used: time(used)?,
                last_used_region: opt(region),
                last_used_service: opt(service),
            })
        };
        rows.push(ReportRow {
            user: get("user").to_string(),
            arn: get("arn").to_string(),
            password_enabled: match get("password_enabled") {
                "true" => ReportFlag::True,
                "false" => ReportFlag::False,
                _ => ReportFlag::NotSupported,
            },
            password_last_used: time("password_last_used")?,
            mfa_active: get("mfa_active") == "true",
            access_keys: [key(1)?, key(2)?],
            certs_active: [
                get("cert_1_active") == "true",
                get("cert_2_active") == "true",
            ],
        });
    }
    Ok(CredentialReport { generated_at, rows })
}

fn parse_time(value: &str, row: usize, column: &'static str) -> Result<ReportTime, ReportError> {
    match value {
        "N/A" | "" => Ok(ReportTime::NotApplicable),
        "no_information" => Ok(ReportTime::NoInformation),
        "not_supported" => Ok(ReportTime::NotSupported),
        v => OffsetDateTime::parse(v, &Rfc3339)
            .map(ReportTime::At)
            .map_err(|_| ReportError::BadDate {
                row,
                column,
                value: v.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    #[test]
    fn parses_root_row_with_special_values() {
        let csv = format!(
            "{HEADER}\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-20T10:00:00+00:00,not_supported,not_supported,true,true,2021-01-01T00:00:00+00:00,2026-11-23T09:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,true,2022-01-01T00:00:00+00:00\n"
        );
        let r = parse(csv.as_bytes(), None).unwrap();
        let root = r.root().unwrap();
        assert_eq!(root.password_enabled, ReportFlag::NotSupported);
        assert_eq!(
            root.password_last_used,
            ReportTime::At(datetime!(2026-11-20 10:00 UTC))
        );
        assert!(root.mfa_active);
        assert!(root.access_keys[0].active);
        assert_eq!(root.access_keys[0].last_used_service.as_deref(), Some("s3"));
        assert_eq!(root.access_keys[1].last_used, ReportTime::NotApplicable);
        assert_eq!(root.certs_active, [false, true]);
    }

    #[test]
    fn columns_are_found_by_name_not_position() {
        // Same data, columns shuffled: the parse must not change.
        let mut cols: Vec<&str> = HEADER.split(',').collect();
        let values = "<root_account>,arn:aws:iam::1:root,N/A,not_supported,no_information,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,true,N/A,false,N/A";
        let mut vals: Vec<&str> = values.split(',').collect();
        cols.reverse();
        vals.reverse();
        let csv = format!("{}\n{}\n", cols.join(","), vals.join(","));
        let r = parse(csv.as_bytes(), None).unwrap();
        let root = r.root().unwrap();
        assert_eq!(root.password_last_used, ReportTime::NoInformation);
        assert_eq!(root.certs_active, [true, false]);
        assert!(!root.mfa_active);
    }

    #[test]
    fn missing_column_is_an_error_not_a_panic() {
        let err = parse(b"user,arn\nx,y\n", None).unwrap_err();
        assert_eq!(err, ReportError::MissingColumn("password_enabled"));
    }

    #[test]
    fn bad_date_names_row_and_column() {
        let csv = format!(
            "{HEADER}\n<root_account>,arn,N/A,not_supported,yesterday,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let err = parse(csv.as_bytes(), None).unwrap_err();
        assert!(err.to_string().contains("password_last_used"), "{err}");
    }

    #[test]
    fn ragged_rows_are_an_error() {
        let csv = format!("{HEADER}\n<root_account>,arn\n");
        assert!(matches!(
            parse(csv.as_bytes(), None),
            Err(ReportError::Csv(_))
        ));
    }
}
