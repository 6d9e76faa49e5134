//! The AWS environment checked before the SDK sees it: the `AWS_*` variables
//! and the active profile's values in the shared config files.
//!
//! aws-config panics on some malformed values (`AWS_MAX_ATTEMPTS=banana`,
//! `AWS_RETRY_MODE=yolo`, an empty `AWS_ENDPOINT_URL`, `max_attempts = banana`
//! in `~/.aws/config`). This module turns each into one clear error that names
//! the variable or file, before any runtime, client or request exists. It
//! reads the environment and files only through the closures it is given, so
//! it is tested with data. It must not talk to AWS.

use std::path::PathBuf;

use thiserror::Error;

/// A bad value in the AWS environment or config files (exit 2).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("environment variable {var}={value:?} is not valid: {expected}")]
    Variable {
        var: String,
        value: String,
        expected: &'static str,
    },
    #[error("{file}: [{section}] {key} = {value:?} is not valid: {expected}")]
    ConfigValue {
        file: String,
        section: String,
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("{file} line {line}: {text:?} {why}; the AWS CLI refuses this file too: fix or remove that line")]
    Malformed {
        file: String,
        line: usize,
        text: String,
        why: &'static str,
    },
    #[error("profile {profile:?} was not found in {config} or {credentials} (set by {source_of})")]
    ProfileNotFound {
        profile: String,
        config: String,
        credentials: String,
        source_of: &'static str,
    },
}

const MAX_ATTEMPTS: &str = "a whole number from 1 to 100";
const RETRY_MODE: &str = "standard or adaptive";
const ENDPOINT: &str = "an http:// or https:// URL such as https://sts.us-east-1.amazonaws.com";
const REGION: &str = "a region name such as us-east-1";

fn valid_attempts(v: &str) -> bool {
    matches!(v.trim().parse::<u32>(), Ok(1..=100))
}

fn valid_retry_mode(v: &str) -> bool {
    matches!(v.trim(), "standard" | "adaptive")
}

fn valid_endpoint(v: &str) -> bool {
    crate::domain::input::parse_endpoint_url(v.trim()).is_ok()
}

fn valid_region(v: &str) -> bool {
    crate::domain::input::parse_region(v.trim()).is_ok()
}

type Rule = (fn(&str) -> bool, &'static str);

/// The values checked, by environment variable and by config-file key.
const RULES: &[(&str, &str, Rule)] = &[
    (
        "AWS_MAX_ATTEMPTS",
        "max_attempts",
        (valid_attempts, MAX_ATTEMPTS),
    ),
    (
        "AWS_RETRY_MODE",
        "retry_mode",
        (valid_retry_mode, RETRY_MODE),
    ),
    (
        "AWS_ENDPOINT_URL",
        "endpoint_url",
        (valid_endpoint, ENDPOINT),
    ),
    ("AWS_REGION", "region", (valid_region, REGION)),
    ("AWS_DEFAULT_REGION", "", (valid_region, REGION)),
];

/// Where the shared files are: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`,
/// else `~/.aws/config` and `~/.aws/credentials`.
fn files(env: &dyn Fn(&str) -> Option<String>) -> (PathBuf, PathBuf) {
    let home = env("HOME").map(PathBuf::from).unwrap_or_default();
    let config = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/config"));
    let creds = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/credentials"));
    (config, creds)
}

/// `[section]` names and their `key = value` lines, as the shared files hold them.
fn sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
        } else if let (Some((k, v)), Some(last)) = (line.split_once('='), out.last_mut()) {
            last.1.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// The first line of a shared file the AWS CLI's parser would refuse: its
/// number (from 1), its text and why. A line is blank, a comment (`#`, `;`),
/// a `[section]`, a `key = value` (or `key: value`) under a section, or an
/// indented continuation of the key above it.
fn malformed(text: &str) -> Option<(usize, String, &'static str)> {
    let mut in_section = false;
    let mut after_key = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        let bad = |why| Some((i + 1, raw.to_string(), why));
        if line.starts_with('[') {
            if !line.contains(']') || line.len() < 3 {
                return bad("is a section header without its closing ]");
            }
            in_section = true;
            after_key = false;
            continue;
        }
        if indented && after_key {
            continue; // a nested value, e.g. under `s3 =`
        }
        let Some(at) = line.find(['=', ':']) else {
            return bad("is not a [section], a key = value line or a comment");
        };
        if line[..at].trim().is_empty() {
            return bad("has no key before its =");
        }
        if !in_section {
            return bad("comes before any [section] header");
        }
        after_key = true;
    }
    None
}

/// A shared file's bytes as text; bytes that are not UTF-8 are the AWS CLI's
/// "Unable to parse config file" (and the SDK would skip the file whole), so
/// they are refused naming the line (its number from 1, shown with the bad
/// bytes replaced).
fn as_text(bytes: Vec<u8>) -> Result<String, (usize, String, &'static str)> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        let text = String::from_utf8_lossy(&bytes)
            .lines()
            .nth(line - 1)
            .unwrap_or_default()
            .to_string();
        (line, text, "contains bytes that are not UTF-8 text")
    })
}

/// Checks the environment and the active profile. `profile_flag` is
/// `--profile`; `read` returns a file's bytes, or `None` when it does not exist.
pub fn check(
    profile_flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    read: &dyn Fn(&PathBuf) -> Option<Vec<u8>>,
) -> Result<(), EnvError> {
    for (var, _, (ok, expected)) in RULES {
        if let Some(value) = env(var) {
            if !ok(&value) {
                return Err(EnvError::Variable {
                    var: var.to_string(),
                    value: shown(&value),
                    expected,
                });
            }
        }
    }
    let (config_path, creds_path) = files(env);
    let (profile, source_of) = match (profile_flag, env("AWS_PROFILE")) {
        (Some(p), _) => (p.to_string(), "--profile"),
        (None, Some(p)) if !p.is_empty() => (p, "AWS_PROFILE"),
        _ => ("default".to_string(), ""),
    };
    // Each file whole: bytes that are not UTF-8, then lines the AWS CLI's
    // parser would refuse, named by file and line.
    let load = |path: &PathBuf| -> Result<String, EnvError> {
        let bad = |(line, text, why): (usize, String, &'static str)| EnvError::Malformed {
            file: path.display().to_string(),
            line,
            text: shown(&text),
            why,
        };
        let text = as_text(read(path).unwrap_or_default()).map_err(bad)?;
        match malformed(&text) {
            Some(m) => Err(bad(m)),
            None => Ok(text),
        }
    };
    let config = load(&config_path)?;
    let creds = load(&creds_path)?;
    let config_sections = sections(&config);
    let wanted = if profile == "default" {
        vec!["default".to_string(), "profile default".to_string()]
    } else {
        vec![format!("profile {profile}")]
    };
    let in_config = config_sections.iter().find(|(n, _)| wanted.contains(n));
    let in_creds = sections(&creds).into_iter().any(|(n, _)| n == profile);
    if !source_of.is_empty() && in_config.is_none() && !in_creds {
        return Err(EnvError::ProfileNotFound {
            profile,
            config: config_path.display().to_string(),
            credentials: creds_path.display().to_string(),
            source_of,
        });
    }
    if let Some((section, values)) = in_config {
        for (key, value) in values {
            let rule = RULES.iter().find(|(_, k, _)| !k.is_empty() && k == key);
            if let Some((_, _, (ok, expected))) = rule {
                if !ok(value) {
                    return Err(EnvError::ConfigValue {
                        file: config_path.display().to_string(),
                        section: section.clone(),
                        key: key.clone(),
                        value: shown(value),
                        expected,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The process environment and files.
pub fn check_process(profile_flag: Option<&str>) -> Result<(), EnvError> {
    check(profile_flag, &|k| std::env::var(k).ok(), &|p| {
        std::fs::read(p).ok()
    })
}

fn shown(v: &str) -> String {
    let cut: String = v.chars().take(60).collect();
    if v.chars().count() > 60 {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(
        profile: Option<&str>,
        vars: &[(&str, &str)],
        config: &str,
        creds: &str,
    ) -> Result<(), EnvError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([
                ("AWS_CONFIG_FILE".to_string(), "/c".to_string()),
                ("AWS_SHARED_CREDENTIALS_FILE".to_string(), "/k".to_string()),
            ])
            .collect();
        run_bytes(profile, vars, config.as_bytes(), creds.as_bytes())
    }

    fn run_bytes(
        profile: Option<&str>,
        vars: HashMap<String, String>,
        config: &[u8],
        creds: &[u8],
    ) -> Result<(), EnvError> {
        check(profile, &|k| vars.get(k).cloned(), &|p| match p.to_str() {
            Some("/c") => Some(config.to_vec()),
            Some("/k") => Some(creds.to_vec()),
            _ => None,
        })
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named_with_their_file_and_line() {
        let vars = || -> HashMap<String, String> {
            [
                ("AWS_CONFIG_FILE", "/c"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/k"),
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let e = run_bytes(
            None,
            vars(),
            b"[default]\nregion = us-east-1\n\x00\xff\n",
            b"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("/c line 3") && e.contains("not UTF-8"), "{e}");
        let e = run_bytes(
            None,
            vars(),
            b"",
            b"[default]\naws_access_key_id = \xffAKIA\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("/k line 2") && e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn table_of_bad_environments() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[("AWS_MAX_ATTEMPTS", "banana")], "", "AWS_MAX_ATTEMPTS"),
            (&[("AWS_MAX_ATTEMPTS", "0")], "", "AWS_MAX_ATTEMPTS"),
            (&[("AWS_RETRY_MODE", "yolo")], "", "AWS_RETRY_MODE"),
            (&[("AWS_ENDPOINT_URL", "")], "", "AWS_ENDPOINT_URL"),
            (&[("AWS_ENDPOINT_URL", "ftp://x")], "", "AWS_ENDPOINT_URL"),
            (&[("AWS_REGION", "not a region")], "", "AWS_REGION"),
            (
                &[],
                "[default]\nmax_attempts = banana\n",
                "/c: [default] max_attempts",
            ),
            (&[], "[default]\nretry_mode = yolo\n", "retry_mode"),
            (
                &[("AWS_PROFILE", "dev")],
                "[profile dev]\nregion = moon\n",
                "[profile dev] region",
            ),
        ];
        for (vars, config, needle) in cases {
            let e = run(None, vars, config, "").unwrap_err().to_string();
            assert!(e.contains(needle), "{vars:?} {config:?}: {e}");
        }
        assert!(run(
            None,
            &[("AWS_MAX_ATTEMPTS", "3"), ("AWS_RETRY_MODE", "adaptive")],
            "",
            ""
        )
        .is_ok());
        assert!(run(None, &[], "[default]\nmax_attempts = 5\n", "").is_ok());
        // Another profile's bad value does not matter.
        assert!(run(None, &[], "[profile other]\nmax_attempts = x\n", "").is_ok());
    }

    #[test]
    fn a_malformed_shared_file_is_named_with_its_line() {
        let bad: &[(&str, &str, &str)] = &[
            (
                "[default]\nregion = us-east-1\nthis is not valid\n",
                "",
                "/c line 3",
            ),
            ("region = us-east-1\n[default]\n", "", "/c line 1"),
            ("[default\nregion = us-east-1\n", "", "/c line 1"),
            ("[default]\n= value\n", "", "/c line 2"),
            ("", "[default]\naws_access_key_id AKIA\n", "/k line 2"),
            ("", "garbage\n", "/k line 1"),
        ];
        for (config, creds, needle) in bad {
            // Credentials from the environment do not make the file matter less.
            let e = run(
                None,
                &[
                    ("AWS_ACCESS_KEY_ID", "AKIA"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                ],
                config,
                creds,
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains(needle), "{config:?} {creds:?}: {e}");
        }
        let fine = "# comment\n; also\n\n[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 10\n\
                    [sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region: us-east-1\n";
        assert!(run(None, &[], fine, "[default]\naws_access_key_id = AKIA\n").is_ok());
    }

    #[test]
    fn a_missing_profile_names_both_files() {
        let e = run(Some("nope"), &[], "[profile dev]\n", "[dev]\n").unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("\"nope\"")
                && s.contains("/c")
                && s.contains("/k")
                && s.contains("--profile"),
            "{s}"
        );
        assert!(run(Some("dev"), &[], "", "[dev]\naws_access_key_id = x\n").is_ok());
        assert!(run(Some("dev"), &[], "[profile dev]\nregion = eu-west-1\n", "").is_ok());
        let e = run(None, &[("AWS_PROFILE", "gone")], "", "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("AWS_PROFILE"), "{e}");
        // No profile asked for: the default chain may use env credentials, SSO or IMDS.
        assert!(run(None, &[], "", "").is_ok());
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(1000);
        let e = run(None, &[("AWS_RETRY_MODE", &long)], "", "")
            .unwrap_err()
            .to_string();
        assert!(e.len() < 200, "{e}");
    }
}
