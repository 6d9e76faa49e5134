//! `org root recover`, `org unlock-bucket` and `org unlock-queue`: one root
//! task in one member, shaped like `org harden`.
//!
//! Each checks what the organization read already tells (member, feature,
//! queue owner), opens the task's root session, reads what the task would
//! change, builds a `TaskPlan` (`crate::domain::roottask`), shows it, takes the typed
//! account id (or `--yes`), saves a policy to a local file before deleting
//! it, and applies the same plan. Nothing here parses flags or holds SDK
//! types.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::app::Stop;
use crate::aws::roottask::{QueueRead, TaskSession};
use crate::domain::exit;
use crate::domain::input::QueueRef;
use crate::domain::roottask::{self, Read, Refusal, Target, TaskPlan, TaskStep};
use crate::term::prompt::Prompter;

/// One task's request, as the flags gave it.
#[derive(Clone, Debug)]
pub struct TaskArgs {
    pub account: String,
    pub target: Target,
    /// Where a deleted policy is saved first.
    pub save_dir: PathBuf,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

/// Reads, in the task's session, what the task would change. A bucket or
/// queue the member does not have is a refusal (exit 2).
pub async fn read(session: &TaskSession, account: &str, target: &Target) -> Result<Read, Stop> {
    let failed = |e: crate::domain::facts::FactError| {
        Stop::failed(format!("cannot read {account}: {}", e.describe()))
    };
    match target {
        Target::Root => Ok(Read::Password {
            present: session.password_present().await.map_err(failed)?,
        }),
        Target::Bucket(bucket) => {
            let Some(region) = session.bucket_region(bucket).await.map_err(failed)? else {
                return Err(Stop::usage(
                    Refusal::NoSuchBucket {
                        bucket: bucket.clone(),
                        account: account.into(),
                    }
                    .to_string(),
                ));
            };
            let policy = session
                .bucket_policy(bucket, &region)
                .await
                .map_err(failed)?;
            Ok(Read::Bucket {
                name: bucket.clone(),
                region,
                policy,
            })
        }
        Target::Queue(q) => {
            let (url, region) = match q {
                QueueRef::Url { url, region, .. } => (
                    Some(url.clone()),
                    region.clone().unwrap_or_else(|| session.region.clone()),
                ),
                QueueRef::Name(name) => (
                    session.queue_url(name).await.map_err(failed)?,
                    session.region.clone(),
                ),
            };
            let missing = || {
                Stop::usage(
                    Refusal::NoSuchQueue {
                        queue: q.shown().to_string(),
                        account: account.into(),
                        region: region.clone(),
                    }
                    .to_string(),
                )
            };
            let url = url.ok_or_else(missing)?;
            match session.queue_policy(&url, &region).await.map_err(failed)? {
                QueueRead::Missing => Err(missing()),
                QueueRead::Policy(policy) => Ok(Read::Queue {
                    url,
                    region,
                    policy,
                }),
            }
        }
    }
}

/// The typed confirmation: the person types the member's account id.
pub fn confirm(
    prompter: &mut dyn Prompter,
    plan: &TaskPlan,
) -> Result<bool, crate::term::prompt::PromptError> {
    let what = match &plan.step {
        Some(TaskStep::CreateRootLoginProfile) => "reopens root sign-in (password recovery) in",
        Some(TaskStep::DeleteBucketPolicy { .. }) => "deletes a bucket policy in",
        Some(TaskStep::DeleteQueuePolicy { .. }) => "removes a queue policy in",
        None => "changes nothing in",
    };
    let typed = prompter.input(
        &format!(
            "This {what} {}. Type the account id to apply (anything else cancels)",
            plan.account_id
        ),
        &|_| Ok(()),
    )?;
    Ok(typed.trim() == plan.account_id)
}

/// Saves `policy` under `dir` with the plan's file name, never over an
/// existing file (a suffix keeps both); the path written.
pub fn save_policy(dir: &Path, plan: &TaskPlan, stamp: &str) -> Result<Option<PathBuf>, Stop> {
    let (Some(name), Some(policy)) = (
        plan.save_name(stamp),
        plan.step.as_ref().and_then(TaskStep::policy),
    ) else {
        return Ok(None);
    };
    let cannot = |p: &Path, e: std::io::Error| {
        Stop::usage(format!(
            "--save-dir: cannot save the policy to {}: {e}; nothing was deleted",
            p.display()
        ))
    };
    for n in 0..100 {
        let file = if n == 0 {
            name.clone()
        } else {
            name.replace(".json", &format!("-{n}.json"))
        };
        let path = dir.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(policy.as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| cannot(&path, e))?;
                return Ok(Some(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(cannot(&path, e)),
        }
    }
    Err(Stop::usage(format!(
        "--save-dir: {} holds 100 saved copies of {name}; nothing was deleted",
        dir.display()
    )))
}

/// Applies the plan's step in `session`. A policy that changed since it was
/// read (and saved) is not deleted: the person confirmed the one shown.
pub async fn apply(session: &TaskSession, plan: &TaskPlan) -> Result<(), String> {
    let Some(step) = &plan.step else {
        return Ok(());
    };
    let now = match step {
        TaskStep::CreateRootLoginProfile => None,
        TaskStep::DeleteBucketPolicy { bucket, region, .. } => Some(
            session
                .bucket_policy(bucket, region)
                .await
                .map_err(|e| e.describe())?,
        ),
        TaskStep::DeleteQueuePolicy {
            queue_url, region, ..
        } => Some(
            match session
                .queue_policy(queue_url, region)
                .await
                .map_err(|e| e.describe())?
            {
                QueueRead::Missing => None,
                QueueRead::Policy(p) => p,
            },
        ),
    };
    match now {
        Some(None) => return Ok(()), // already gone: done by someone, or a stopped run
        Some(Some(p)) if Some(p.as_str()) != step.policy() => {
            return Err("the policy changed since it was read and saved; nothing was deleted: run the command again to see the new one".into())
        }
        _ => {}
    }
    session.apply(step).await.map_err(|e| e.describe())
}

fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// `rootguard org root recover | unlock-bucket | unlock-queue`.
pub async fn run(opts: &crate::aws::ConnectOptions, args: TaskArgs) -> crate::app::Outcome {
    let task = args.target.task();
    crate::term::needs_confirmation(task.command(), args.dry_run, args.yes)?;
    if !matches!(args.target, Target::Root) && !args.save_dir.is_dir() {
        return Err(Stop::usage(format!(
            "--save-dir {} is not a directory",
            crate::domain::text::escape(&args.save_dir.display().to_string())
        )));
    }
    let session = crate::aws::Session::load(opts).await;
    let (_, facts) = crate::app::org::organization(&session).await?;
    let member = roottask::preflight(&facts, &args.account, &args.target)
        .map_err(|e| Stop::usage(e.to_string()))?;
    let writer = session.writer().org();
    let opened = std::time::Instant::now();
    let open = || async {
        writer.task_session(&member.id, task).await.map_err(|e| {
            Stop::failed(format!(
                "cannot open the {} session in {}: {}",
                task.policy_name(),
                member.id,
                e.describe()
            ))
        })
    };
    let mut root = open().await?;
    let found = read(&root, &member.id, &args.target).await?;
    let plan = roottask::plan(&facts.organization_id, &member, task, &found);
    out!("{}", if args.json { plan.json() } else { plan.text() });
    if args.dry_run {
        return Ok(exit::OK);
    }
    let Some(step) = &plan.step else {
        progress!("nothing to do");
        return Ok(exit::OK);
    };
    if !args.yes {
        crate::term::trap_ctrl_c();
        let mut term = crate::term::prompt::Terminal::default();
        if !confirm(&mut term, &plan).map_err(crate::term::prompt_stop)? {
            eprintln!("cancelled: the typed id did not match; nothing was changed");
            return Ok(exit::OK);
        }
    }
    let saved = save_policy(&args.save_dir, &plan, &stamp())?;
    if let Some(path) = &saved {
        eprintln!("  saved    the policy to {}", path.display());
    }
    // A root session lasts 15 minutes; a long confirmation needs a new one.
    if opened.elapsed() > std::time::Duration::from_secs(600) {
        root = open().await?;
    }
    let what = crate::domain::text::escape(&step.describe(&member.id));
    match apply(&root, &plan).await {
        Ok(()) => {
            eprintln!("{}", crate::term::fit_stderr(&format!("  done     {what}")));
            if matches!(step, TaskStep::CreateRootLoginProfile) {
                eprintln!(
                    "  next     the owner of the root email uses \"Forgot password\" on the root sign-in page; afterwards `rootguard org harden --accounts {}` deletes root's credentials again",
                    member.id
                );
            }
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("  FAILED   {what}: {}", crate::domain::text::escape(&e));
            if let Some(path) = &saved {
                eprintln!(
                    "  the policy is saved in {}; run the command again to finish",
                    path.display()
                );
            }
            Ok(exit::FAILED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::OrgAccount;
    use crate::domain::roottask::Task;
    use crate::term::prompt::Scripted;

    fn bucket_plan() -> TaskPlan {
        let m = OrgAccount {
            id: "222222222222".into(),
            name: "n".into(),
            email: String::new(),
        };
        roottask::plan(
            "o-abc",
            &m,
            Task::UnlockBucket,
            &Read::Bucket {
                name: "b".into(),
                region: "us-east-1".into(),
                policy: Some("{\"Statement\":[]}".into()),
            },
        )
    }

    #[test]
    fn the_typed_confirmation_is_the_member_account_id() {
        let plan = bucket_plan();
        assert!(confirm(&mut Scripted::new(["222222222222"]), &plan).unwrap());
        assert!(!confirm(&mut Scripted::new(["yes"]), &plan).unwrap());
    }

    #[test]
    fn a_saved_policy_is_the_policy_as_read_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let plan = bucket_plan();
        let first = save_policy(dir.path(), &plan, "T").unwrap().unwrap();
        let second = save_policy(dir.path(), &plan, "T").unwrap().unwrap();
        assert_ne!(first, second);
        assert_eq!(
            std::fs::read_to_string(&first).unwrap(),
            "{\"Statement\":[]}"
        );
        assert_eq!(
            std::fs::read_to_string(&second).unwrap(),
            "{\"Statement\":[]}"
        );
        let missing = dir.path().join("no/such/dir");
        let e = save_policy(&missing, &plan, "T").unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(
            e.message.contains("--save-dir") && e.message.contains("nothing was deleted"),
            "{}",
            e.message
        );
    }
}
