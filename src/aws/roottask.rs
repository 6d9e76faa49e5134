//! The repair tasks' root sessions in a member: `IAMCreateRootUserPassword`
//! (root's login profile), `S3UnlockBucketPolicy` (a bucket's policy) and
//! `SQSUnlockQueuePolicy` (a queue's policy).
//!
//! A [`TaskSession`] is opened only through an [`super::org::OrgWriter`]
//! (`org root recover`, `org unlock-bucket`, `org unlock-queue`): the task
//! policies allow writes, so verify can never hold one. It reads and writes
//! exactly what its task needs and returns plain values; it must not decide
//! what to do (that is `crate::domain::roottask`).

use aws_types::SdkConfig;

use super::org::OrgWriter;
use super::{classify, service_code};
use crate::domain::facts::FactError;
use crate::domain::roottask::{Task, TaskStep};

/// A short `sts:AssumeRoot` session in one member, scoped by one task policy.
#[derive(Clone, Debug)]
pub struct TaskSession {
    config: SdkConfig,
    /// The Region the session was configured for (queues by name, buckets
    /// whose Region ListBuckets does not give).
    pub region: String,
}

/// A queue as its session found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueRead {
    Missing,
    Policy(Option<String>),
}

impl OrgWriter {
    /// Opens `task`'s root session in `account_id` (one `sts:AssumeRoot`).
    pub async fn task_session(
        &self,
        account_id: &str,
        task: Task,
    ) -> Result<TaskSession, FactError> {
        let config = self.root_session(account_id, &task.policy_arn()).await?;
        let region = config
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".into());
        Ok(TaskSession { config, region })
    }
}

fn no_queue(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue")
    )
}

impl TaskSession {
    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    /// S3 in `region`, path-style when a custom endpoint is set.
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = super::in_region(&self.config, region);
        super::s3_client(&config)
    }

    fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&super::in_region(&self.config, region))
    }

    /// Whether root has a login profile (`iam:GetLoginProfile`, no user name).
    pub async fn password_present(&self) -> Result<bool, FactError> {
        match self.iam().get_login_profile().send().await {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("NoSuchEntity") => Ok(false),
            Err(e) => Err(classify("iam:GetLoginProfile", &e)),
        }
    }

    /// The bucket's Region when the member's ListBuckets lists it; `None`
    /// when it does not (no such bucket, or another account's).
    pub async fn bucket_region(&self, bucket: &str) -> Result<Option<String>, FactError> {
        let s3 = self.s3(&self.region);
        let mut pages = s3.list_buckets().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("s3:ListAllMyBuckets", &e))?;
            if let Some(b) = page.buckets().iter().find(|b| b.name() == Some(bucket)) {
                return Ok(Some(
                    b.bucket_region()
                        .map(str::to_string)
                        .unwrap_or_else(|| self.region.clone()),
                ));
            }
        }
        Ok(None)
    }

    /// The bucket's policy, exactly as S3 returns it; `None` without one.
    pub async fn bucket_policy(
        &self,
        bucket: &str,
        region: &str,
    ) -> Result<Option<String>, FactError> {
        match self
            .s3(region)
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => Ok(out.policy().map(str::to_string)),
            Err(e) if service_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
            Err(e) => Err(classify("s3:GetBucketPolicy", &e)),
        }
    }

    /// A queue's URL by name in the session's Region; `None` when absent.
    pub async fn queue_url(&self, name: &str) -> Result<Option<String>, FactError> {
        match self
            .sqs(&self.region)
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.queue_url().map(str::to_string)),
            Err(e) if no_queue(service_code(&e)) => Ok(None),
            Err(e) => Err(classify("sqs:GetQueueUrl", &e)),
        }
    }

    /// A queue's `Policy` attribute.
    pub async fn queue_policy(&self, url: &str, region: &str) -> Result<QueueRead, FactError> {
        let out = self
            .sqs(region)
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
            .send()
            .await;
        match out {
            Ok(out) => Ok(QueueRead::Policy(
                out.attributes()
                    .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
                    .filter(|p| !p.is_empty())
                    .cloned(),
            )),
            Err(e) if no_queue(service_code(&e)) => Ok(QueueRead::Missing),
            Err(e) => Err(classify("sqs:GetQueueAttributes", &e)),
        }
    }

    /// The step's one write. What is already done is not an error, so a
    /// stopped run is completed by the next.
    pub async fn apply(&self, step: &TaskStep) -> Result<(), FactError> {
        match step {
            TaskStep::CreateRootLoginProfile => {
                match self.iam().create_login_profile().send().await {
                    Ok(_) => Ok(()),
                    Err(e) if service_code(&e) == Some("EntityAlreadyExists") => Ok(()),
                    Err(e) => Err(classify("iam:CreateLoginProfile", &e)),
                }
            }
            TaskStep::DeleteBucketPolicy { bucket, region, .. } => self
                .s3(region)
                .delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("s3:DeleteBucketPolicy", &e)),
            TaskStep::DeleteQueuePolicy {
                queue_url, region, ..
            } => self
                .sqs(region)
                .set_queue_attributes()
                .queue_url(queue_url)
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, "")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("sqs:SetQueueAttributes", &e)),
        }
    }
}
