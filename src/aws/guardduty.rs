//! GuardDuty reads for `events`: the `Policy:IAMUser/RootCredentialUsage`
//! findings of each region's detector.
//!
//! Read-only (`ListDetectors`, `ListFindings`, `GetFindings`), returning our
//! own [`GuardDutyRegion`]; no SDK type leaves this module.

use aws_sdk_guardduty::types::{Condition, FindingCriteria, SortCriteria};

use super::{classify, Reader};
use crate::domain::events::{GuardDutyFinding, GuardDutyRegion, GUARDDUTY_ROOT_TYPE};
use crate::domain::facts::FactError;

/// `GetFindings` takes at most 50 ids per call.
const GET_BATCH: usize = 50;

impl Reader {
    /// The root-credential findings of every GuardDuty detector in `region`
    /// updated since `since_ms` (epoch milliseconds), all pages.
    pub async fn guardduty_root_findings(&self, region: &str, since_ms: i64) -> GuardDutyRegion {
        match self.guardduty_read(region, since_ms).await {
            Ok(None) => GuardDutyRegion::NoDetector {
                region: region.to_string(),
            },
            Ok(Some(findings)) => GuardDutyRegion::Read {
                region: region.to_string(),
                findings,
            },
            Err(e) => GuardDutyRegion::Unread {
                region: region.to_string(),
                error: e.describe(),
            },
        }
    }

    async fn guardduty_read(
        &self,
        region: &str,
        since_ms: i64,
    ) -> Result<Option<Vec<GuardDutyFinding>>, FactError> {
        let client = aws_sdk_guardduty::Client::new(&self.regional(region));
        let mut detectors = Vec::new();
        let mut pages = client.list_detectors().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("guardduty:ListDetectors", &e))?;
            detectors.extend(page.detector_ids().iter().cloned());
        }
        if detectors.is_empty() {
            return Ok(None);
        }
        let criteria = FindingCriteria::builder()
            .criterion(
                "type",
                Condition::builder().equals(GUARDDUTY_ROOT_TYPE).build(),
            )
            .criterion(
                "updatedAt",
                Condition::builder().greater_than_or_equal(since_ms).build(),
            )
            .build();
        let mut out = Vec::new();
        for detector in &detectors {
            let mut ids: Vec<String> = Vec::new();
            let mut pages = client
                .list_findings()
                .detector_id(detector)
                .finding_criteria(criteria.clone())
                .sort_criteria(
                    SortCriteria::builder()
                        .attribute_name("updatedAt")
                        .order_by(aws_sdk_guardduty::types::OrderBy::Desc)
                        .build(),
                )
                .max_results(50)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("guardduty:ListFindings", &e))?;
                ids.extend(page.finding_ids().iter().cloned());
            }
            for chunk in ids.chunks(GET_BATCH) {
                let got = client
                    .get_findings()
                    .detector_id(detector)
                    .set_finding_ids(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| classify("guardduty:GetFindings", &e))?;
                out.extend(got.findings().iter().map(|f| {
                    let service = f.service();
                    let call = service
                        .and_then(|s| s.action())
                        .and_then(|a| a.aws_api_call_action());
                    GuardDutyFinding {
                        id: f.id().unwrap_or_default().to_string(),
                        region: f.region().unwrap_or(region).to_string(),
                        title: f.title().unwrap_or_default().to_string(),
                        count: service.and_then(|s| s.count()).map_or(1, i64::from),
                        first_seen: service
                            .and_then(|s| s.event_first_seen())
                            .unwrap_or_default()
                            .to_string(),
                        last_seen: service
                            .and_then(|s| s.event_last_seen())
                            .or(f.updated_at())
                            .unwrap_or_default()
                            .to_string(),
                        api: call.and_then(|c| c.api()).unwrap_or_default().to_string(),
                        service: call
                            .and_then(|c| c.service_name())
                            .unwrap_or_default()
                            .to_string(),
                        source_ip: call
                            .and_then(|c| c.remote_ip_details())
                            .and_then(|r| r.ip_address_v4().or(r.ip_address_v6()))
                            .unwrap_or_default()
                            .to_string(),
                    }
                }));
            }
        }
        Ok(Some(out))
    }
}
