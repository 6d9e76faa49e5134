//! The rate budget: client-side pacing of the AWS calls a fan-out repeats, per
//! calling account and API (and region where AWS counts per region), so a run
//! over a thousand accounts stays within AWS's request quotas, and a throttled
//! call is retried until a deadline instead of turning a verdict `unknown`.
//!
//! It owns the documented rates ([`documented`]: Account Management, Security
//! Hub, CloudTrail), the adaptive pacing of APIs whose rate AWS does not
//! publish (STS `AssumeRoot`/`AssumeRole`, Organizations), the retry of the
//! calls it paces (throttling until the deadline; 5xx, timeouts and broken
//! connections a few times, as the SDK's standard retry would), and the
//! counts a run reports. The pacing arithmetic ([`Pace`]) is pure over the
//! time it is given and unit-tested. Clients whose calls go through a budget
//! are built with the SDK's own retry off ([`unretried`]), so every attempt
//! passes the pacer. It must not decide verdicts.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_types::SdkConfig;

use crate::domain::facts::{FactError, FactErrorKind};

/// How long a throttled call is retried, from its first attempt, unless the
/// run says otherwise (`--throttle-deadline`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);

/// A documented request quota: a steady rate and a burst, per calling account
/// (and region where `per_region`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: f64,
    pub per_region: bool,
}

/// The quotas AWS publishes for the calls rootguard repeats per account or
/// per page. Sources (docs/testing.md): Account Management reference,
/// "Quotas"; Security Hub partner guide, "Guidelines for using the
/// BatchImportFindings API"; CloudTrail API reference, LookupEvents.
/// Everything else is paced adaptively.
pub fn documented(api: &str) -> Option<Quota> {
    let q = |rate, burst, per_region| {
        Some(Quota {
            rate,
            burst,
            per_region,
        })
    };
    match api {
        "account:GetAlternateContact" | "account:GetContactInformation" => q(10.0, 15.0, false),
        "account:GetPrimaryEmail" => q(3.0, 3.0, false),
        "account:ListRegions" => q(5.0, 5.0, false),
        "securityhub:BatchImportFindings" => q(10.0, 30.0, true),
        // Two a second per account and region, counted over any second: no
        // burst, and a margin for network jitter.
        "cloudtrail:LookupEvents" => q(1.8, 1.0, true),
        _ => None,
    }
}

/// Where an adaptive pace starts, and its bounds (requests a second).
const ADAPTIVE_START: f64 = 4.0;
const ADAPTIVE_MIN: f64 = 0.2;
const ADAPTIVE_MAX: f64 = 2000.0;
/// Rate added per success: before the first throttle (probing) the rate grows
/// about 50% a second, afterwards about 8% a second.
const PROBE_GAIN: f64 = 0.5;
const STEADY_GAIN: f64 = 0.08;
/// A throttle multiplies the rate by this, at most once per request interval.
const CUT: f64 = 0.85;

/// One API's pacing: a token bucket whose rate adapts to AWS's answers.
/// Pure: every method takes the time it acts at.
#[derive(Clone, Debug)]
pub struct Pace {
    rate: f64,
    max: f64,
    min: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
    cut_at: Option<Instant>,
    probing: bool,
}

impl Pace {
    /// At a documented quota: never faster than AWS allows; after a throttle
    /// (another caller shares the account's quota) slower, then back up.
    pub fn documented(q: Quota, now: Instant) -> Self {
        // Two tokens short of AWS's burst, so jitter between our clock and
        // AWS's does not make the first second's requests collide.
        let burst = (q.burst - 2.0).max(1.0);
        Pace {
            rate: q.rate,
            max: q.rate,
            min: q.rate / 20.0,
            burst,
            tokens: burst,
            at: now,
            cut_at: None,
            probing: false,
        }
    }

    /// For an API whose rate AWS does not publish: start modestly, grow fast
    /// until the first throttle, then slower on a throttle and slowly faster
    /// after success.
    pub fn adaptive(now: Instant) -> Self {
        Pace {
            rate: ADAPTIVE_START,
            max: ADAPTIVE_MAX,
            min: ADAPTIVE_MIN,
            burst: 1.0,
            tokens: 1.0,
            at: now,
            cut_at: None,
            probing: true,
        }
    }

    /// The current rate, in requests a second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refill(&mut self, now: Instant) {
        if now > self.at {
            let dt = now.duration_since(self.at).as_secs_f64();
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
            self.at = now;
        }
    }

    /// Reserves the next request slot: how long to wait before sending.
    /// Reservations queue (the bucket goes negative), so callers are served
    /// in the order they asked, at the rate.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }

    pub fn on_success(&mut self) {
        let gain = if self.probing {
            PROBE_GAIN
        } else {
            STEADY_GAIN
        };
        self.rate = (self.rate + gain).min(self.max);
    }

    pub fn on_throttle(&mut self, now: Instant) {
        self.probing = false;
        let interval = Duration::from_secs_f64((1.0 / self.rate).max(0.05));
        if self
            .cut_at
            .is_some_and(|t| now.duration_since(t) < interval)
        {
            return;
        }
        self.cut_at = Some(now);
        let old = self.rate;
        self.rate = (self.rate * CUT).max(self.min);
        // Reservations already queued were made at the old rate: stretch them.
        if self.tokens < 0.0 {
            self.tokens *= self.rate / old;
        }
    }
}

/// What happened to one API's calls in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: u64,
    pub throttled: u64,
    /// Calls still throttled at the deadline.
    pub gave_up: u64,
}

/// The rate budget of one calling account. Cheap to clone; clones share it.
#[derive(Clone, Debug)]
pub struct Budget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    paces: Mutex<HashMap<String, Pace>>,
    counts: Mutex<BTreeMap<String, Counts>>,
    deadline: Duration,
    attempts: u32,
}

/// A paced call that failed: the last error, and how often AWS throttled it.
#[derive(Debug)]
pub struct Failed<E> {
    pub err: SdkError<E, HttpResponse>,
    pub throttled: u32,
    pub waited: Duration,
}

impl<E> Failed<E>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    /// The AWS error code, for the callers that treat one as an answer
    /// (`ResourceNotFoundException`, `NoSuchEntity`).
    pub fn code(&self) -> Option<&str> {
        super::service_code(&self.err)
    }

    /// The error as a fact: throttled past the deadline says so, and how often.
    pub fn fact(&self, action: &str) -> FactError {
        if is_throttle(&self.err) {
            return FactError::new(
                action,
                FactErrorKind::Throttled,
                format!(
                    "AWS throttled it {} times over {}s and it was still throttled at the deadline; \
                     run again later, or with a longer --throttle-deadline",
                    self.throttled,
                    self.waited.as_secs()
                ),
            );
        }
        super::classify(action, &self.err)
    }
}

/// Error codes AWS uses for throttling (the SDK's own list), besides HTTP 429.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Whether AWS throttled the call, by its error code or HTTP 429.
pub fn is_throttle<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() == 429
                || s.err()
                    .code()
                    .is_some_and(|c| THROTTLING_CODES.contains(&c))
        }
        _ => false,
    }
}

/// Whether the failure is transient (5xx, a timeout, a broken connection or
/// an unreadable answer): retried a few times with backoff.
fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() >= 500
                || matches!(
                    s.err().code(),
                    Some("RequestTimeout" | "InternalError" | "ServiceUnavailable")
                )
        }
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // A broken connection or a timeout; not a credential chain that has
        // nothing to give (retrying that only repeats the wait).
        SdkError::DispatchFailure(d) => d.is_io() || d.is_timeout(),
        _ => false,
    }
}

/// The SDK configuration for clients whose calls a [`Budget`] retries: the
/// SDK's own retry off, so no attempt bypasses the pacer.
pub fn unretried(config: &SdkConfig) -> SdkConfig {
    config
        .clone()
        .into_builder()
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build()
}

/// A little jitter from the clock, for backoff.
fn jitter() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(n % 1000) / 1000.0
}

impl Budget {
    /// A budget whose throttled calls are retried until `deadline`, and whose
    /// transient failures get `attempts` tries in all (the SDK's setting).
    pub fn new(deadline: Duration, attempts: u32) -> Self {
        Budget {
            inner: Arc::new(Inner {
                paces: Mutex::new(HashMap::new()),
                counts: Mutex::new(BTreeMap::new()),
                deadline,
                attempts: attempts.max(1),
            }),
        }
    }

    /// The pacer an API's calls share. Organizations publishes no per-operation
    /// rates and throttles the calling account as a whole, so its operations
    /// share one pace.
    fn key(api: &str, region: Option<&str>) -> String {
        if api.starts_with("organizations:") {
            return "organizations".to_string();
        }
        match (documented(api), region) {
            (Some(q), Some(r)) if q.per_region => format!("{api}@{r}"),
            (None, Some(r)) => format!("{api}@{r}"),
            _ => api.to_string(),
        }
    }

    fn with_pace<T>(&self, key: &str, api: &str, f: impl FnOnce(&mut Pace, Instant) -> T) -> T {
        let now = Instant::now();
        let mut paces = self.inner.paces.lock().unwrap_or_else(|e| e.into_inner());
        let pace = paces.entry(key.to_string()).or_insert_with(|| {
            documented(api).map_or_else(|| Pace::adaptive(now), |q| Pace::documented(q, now))
        });
        f(pace, now)
    }

    fn count(&self, api: &str, f: impl FnOnce(&mut Counts)) {
        let mut counts = self.inner.counts.lock().unwrap_or_else(|e| e.into_inner());
        f(counts.entry(api.to_string()).or_default());
    }

    /// Sends one call through the budget: waits for its slot, sends, and on a
    /// throttle slows the pace and queues again, until the deadline; a
    /// transient failure is retried with backoff. `api` is the IAM action
    /// (`account:GetAlternateContact`); `region` is where the call goes, for
    /// APIs AWS counts per region (and the adaptive ones, which may be).
    pub async fn call<T, E, F, Fut>(
        &self,
        api: &str,
        region: Option<&str>,
        mut send: F,
    ) -> Result<T, Failed<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata,
    {
        let key = Self::key(api, region);
        let mut first: Option<Instant> = None;
        let mut throttled = 0u32;
        let mut transient = 0u32;
        self.count(api, |c| c.calls += 1);
        loop {
            let wait = self.with_pace(&key, api, |p, now| p.reserve(now));
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let started = *first.get_or_insert_with(Instant::now);
            match send().await {
                Ok(v) => {
                    self.with_pace(&key, api, |p, _| p.on_success());
                    return Ok(v);
                }
                Err(err) if is_throttle(&err) => {
                    throttled += 1;
                    self.count(api, |c| c.throttled += 1);
                    self.with_pace(&key, api, |p, now| p.on_throttle(now));
                    let waited = started.elapsed();
                    if waited >= self.inner.deadline {
                        self.count(api, |c| c.gave_up += 1);
                        return Err(Failed {
                            err,
                            throttled,
                            waited,
                        });
                    }
                    tracing::debug!(api, throttled, "throttled; queued again");
                }
                Err(err) if is_transient(&err) && transient + 1 < self.inner.attempts => {
                    transient += 1;
                    let backoff = 0.2 * f64::from(1u32 << transient.min(6)) * (0.5 + jitter());
                    tokio::time::sleep(Duration::from_secs_f64(backoff.min(20.0))).await;
                }
                Err(err) => {
                    return Err(Failed {
                        err,
                        throttled,
                        waited: started.elapsed(),
                    })
                }
            }
        }
    }

    /// Every page of a paged call, each page through the budget: `send` gets
    /// the next token (`None` first), `next` reads it from a page; an empty
    /// token ends the walk as AWS's missing one does.
    pub async fn pages<P, E, F, Fut>(
        &self,
        api: &str,
        region: Option<&str>,
        send: F,
        next: impl Fn(&P) -> Option<&str>,
    ) -> Result<Vec<P>, Failed<E>>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<P, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata,
    {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.call(api, region, || send(token.clone())).await?;
            token = next(&page).filter(|t| !t.is_empty()).map(str::to_string);
            out.push(page);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Each paced API's counts, in name order.
    pub fn counts(&self) -> Vec<(String, Counts)> {
        let counts = self.inner.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// One line for the run's summary when AWS throttled anything: how often,
    /// per API, and whether every throttled call got through in the end.
    pub fn summary(&self) -> Option<String> {
        let counts = self.counts();
        let hit: Vec<_> = counts.iter().filter(|(_, c)| c.throttled > 0).collect();
        if hit.is_empty() {
            return None;
        }
        let each: Vec<String> = hit
            .iter()
            .map(|(api, c)| format!("{api} {} of {} calls", c.throttled, c.calls))
            .collect();
        let gave_up: u64 = hit.iter().map(|(_, c)| c.gave_up).sum();
        Some(if gave_up == 0 {
            format!(
                "AWS throttled {}; each throttled call was retried and answered",
                each.join(", ")
            )
        } else {
            format!(
                "AWS throttled {}; {gave_up} call(s) were still throttled at the deadline and their checks are unknown",
                each.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_documented_pace_sends_its_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let q = documented("account:GetAlternateContact").unwrap();
        let mut p = Pace::documented(q, t0);
        // 13 at once (AWS's burst of 15 less a margin of 2), then 10 a second.
        for _ in 0..13 {
            assert_eq!(p.reserve(t0), Duration::ZERO);
        }
        let w = p.reserve(t0);
        assert!((w.as_secs_f64() - 0.1).abs() < 1e-9, "{w:?}");
        let w = p.reserve(t0);
        assert!((w.as_secs_f64() - 0.2).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn a_documented_pace_never_exceeds_its_quota_over_time() {
        let t0 = Instant::now();
        let q = documented("account:GetContactInformation").unwrap();
        let mut p = Pace::documented(q, t0);
        for _ in 0..1000 {
            p.on_success();
        }
        // 100 reservations made at once are spread over (100 - 13) / 10 s.
        let last = (0..100).map(|_| p.reserve(t0)).last().unwrap();
        assert!((last.as_secs_f64() - 8.7).abs() < 1e-6, "{last:?}");
    }

    #[test]
    fn a_throttle_slows_the_pace_once_per_interval_and_success_restores_it() {
        let t0 = Instant::now();
        let mut p = Pace::adaptive(t0);
        p.on_throttle(t0);
        let cut = p.rate();
        assert!((cut - ADAPTIVE_START * CUT).abs() < 1e-9);
        // A second throttle from the same burst (inside one interval) is not cut again.
        p.on_throttle(t0 + secs(0.01));
        assert_eq!(p.rate(), cut);
        p.on_throttle(t0 + secs(1.0));
        assert!(p.rate() < cut);
        let low = p.rate();
        for _ in 0..10 {
            p.on_success();
        }
        assert!((p.rate() - (low + 10.0 * STEADY_GAIN)).abs() < 1e-9);
    }

    #[test]
    fn an_adaptive_pace_probes_fast_until_the_first_throttle() {
        let t0 = Instant::now();
        let mut p = Pace::adaptive(t0);
        for _ in 0..20 {
            p.on_success();
        }
        assert!((p.rate() - (ADAPTIVE_START + 20.0 * PROBE_GAIN)).abs() < 1e-9);
    }

    /// Simulates a token-bucket server at `server` requests a second (burst
    /// = rate) and a client with an adaptive pace sending as fast as the
    /// pace allows for `secs` seconds; returns the answered requests.
    fn simulate(server: f64, secs_total: f64) -> (f64, u64) {
        let t0 = Instant::now();
        let mut p = Pace::adaptive(t0);
        let mut tokens = server;
        let mut t = 0.0f64;
        let mut last = 0.0f64;
        let (mut ok, mut throttled) = (0.0, 0u64);
        while t < secs_total {
            let w = p.reserve(t0 + secs(t)).as_secs_f64();
            t += w;
            tokens = (tokens + (t - last) * server).min(server);
            last = t;
            if tokens >= 1.0 {
                tokens -= 1.0;
                ok += 1.0;
                p.on_success();
            } else {
                throttled += 1;
                p.on_throttle(t0 + secs(t));
            }
        }
        (ok, throttled)
    }

    #[test]
    fn an_adaptive_pace_gets_close_to_what_the_server_allows() {
        for server in [2.0, 8.0, 50.0] {
            let (ok, throttled) = simulate(server, 60.0);
            let floor = server * 60.0;
            assert!(
                ok >= floor * 0.9,
                "at {server}/s: {ok} answered in 60 s, floor {floor}"
            );
            assert!(
                (throttled as f64) < ok * 0.5,
                "at {server}/s: {throttled} throttled for {ok} answered"
            );
        }
    }

    #[test]
    fn keys_are_per_region_only_where_aws_counts_per_region() {
        assert_eq!(
            Budget::key("account:GetAlternateContact", Some("eu-west-1")),
            "account:GetAlternateContact"
        );
        assert_eq!(
            Budget::key("securityhub:BatchImportFindings", Some("eu-west-1")),
            "securityhub:BatchImportFindings@eu-west-1"
        );
        assert_eq!(
            Budget::key("sts:AssumeRoot", Some("us-west-2")),
            "sts:AssumeRoot@us-west-2"
        );
        assert_eq!(
            Budget::key("organizations:ListAccounts", None),
            Budget::key("organizations:DescribeOrganization", None)
        );
    }
}
