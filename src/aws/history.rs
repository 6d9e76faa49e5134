//! CloudTrail event history of one account: `cloudtrail:LookupEvents` in
//! one region, paced by the rate budget (two requests a second per account
//! and region). It returns raw CloudTrail records; `crate::domain::events` reads them.

use super::{budget, Reader};
use crate::domain::facts::{FactError, FactErrorKind};

impl Reader {
    /// `cloudtrail:LookupEvents` in one region: the management events of user
    /// name `root`, then the `sts:AssumeRoot` calls (privileged root sessions
    /// opened from this account), since `start_secs`, all pages, as (event
    /// time in ms, the CloudTrail record). LookupEvents takes one attribute
    /// per call, hence two lookups. Pages go through the rate budget, just
    /// under the two requests a second CloudTrail allows per account and
    /// region; a throttle is retried until the deadline.
    pub async fn event_history(
        &self,
        region: &str,
        start_secs: i64,
    ) -> Result<Vec<(i64, String)>, FactError> {
        use aws_sdk_cloudtrail::types::LookupAttributeKey;
        let mut out = self
            .lookup(region, start_secs, LookupAttributeKey::Username, "root")
            .await?;
        out.extend(
            self.lookup(
                region,
                start_secs,
                LookupAttributeKey::EventName,
                "AssumeRoot",
            )
            .await?,
        );
        Ok(out)
    }

    async fn lookup(
        &self,
        region: &str,
        start_secs: i64,
        key: aws_sdk_cloudtrail::types::LookupAttributeKey,
        value: &str,
    ) -> Result<Vec<(i64, String)>, FactError> {
        use aws_sdk_cloudtrail::types::LookupAttribute;
        let client = aws_sdk_cloudtrail::Client::new(&budget::unretried(&self.regional(region)));
        let root = LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(value)
            .build()
            .map_err(|e| {
                FactError::new(
                    "cloudtrail:LookupEvents",
                    FactErrorKind::Error,
                    e.to_string(),
                )
            })?;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = client
                .lookup_events()
                .lookup_attributes(root.clone())
                .start_time(aws_smithy_types::DateTime::from_secs(start_secs))
                .max_results(50)
                .set_next_token(token.take());
            let page = self
                .budget
                .call("cloudtrail:LookupEvents", Some(region), || {
                    call.clone().send()
                })
                .await
                .map_err(|e| e.fact("cloudtrail:LookupEvents"))?;
            out.extend(page.events().iter().filter_map(|e| {
                let ms = e.event_time().map_or(0, |t| {
                    t.secs() * 1000 + i64::from(t.subsec_nanos() / 1_000_000)
                });
                e.cloud_trail_event().map(|r| (ms, r.to_string()))
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}
