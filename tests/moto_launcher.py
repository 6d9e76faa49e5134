#!/usr/bin/env python3
"""rootguard's test launcher: moto in server mode, plus what moto lacks.

moto (pinned in tests/requirements.txt) emulates IAM, STS, the Account API and
the rest. This launcher wraps moto's WSGI app and adds, per account:

* root user state: the GetAccountSummary flags (AccountMFAEnabled,
  AccountAccessKeysPresent, AccountSigningCertificatesPresent and the
  AccountPasswordPresent flag moto does not emit), a realistic
  ``<root_account>`` row in the credential report, and virtual MFA devices
  assigned to ``arn:aws:iam::ACCT:root``;
* GetCallerIdentity answering as root for chosen access keys;
* account:GetContactInformation / PutContactInformation;
* iam:ListOrganizationsFeatures;
* a credential report that stays "in progress" for a while, so callers must poll;
* AccessDenied injection for chosen actions;
* a request counter per account;
* organizations: a management account with members (moto's Organizations
  backend), iam:ListOrganizationsFeatures / EnableOrganizationsRoot* with
  their documented errors, sts:AssumeRoot sessions whose credentials reach the
  member and may call only their task policy's actions, root-user reads and
  deletes inside such a session, the Account API with ``AccountId`` (trusted
  access for account.amazonaws.com required), and sts:AssumeRole into a
  member's existing role. Sources are listed in docs/testing.md.

Accounts are isolated: every seeded access key is bound to its own 12-digit
account id (moto's ``x-moto-account-id`` header is set from the key), so tests
run in parallel without global resets.

Control endpoints (never part of AWS):
  POST /_rootguard/accounts   seed one account from a scenario (JSON body)
  POST /_rootguard/organization   seed a management account and its members
  POST /_rootguard/organization/join    a new member joins (automatic deployment follows)
  POST /_rootguard/organization/leave   a member leaves (its automatic instances go)
  GET  /_rootguard/stats?account=ID   request counts for that account
  POST /_rootguard/root       change an account's root state as the console would
  POST /_rootguard/stacksets  StackSet operations paced as AWS runs them, members that fail
  POST /_rootguard/quotas     request quotas for one calling account (GET ?account=ID: throttled counts)
  POST /_rootguard/put_event  a corpus CloudTrail record on its region's default bus (and the trail's logs)
  POST /_rootguard/rule       edit, re-state or delete a rule in a region behind rootguard's back
  POST /_rootguard/role       delete an IAM role behind rootguard's back

Usage: moto_launcher.py [--port N] [--seed FILE]... [--exit-on-stdin-eof]
It prints ``ROOTGUARD_MOTO_READY <endpoint>`` once it is listening, and with
--seed also ``ROOTGUARD_ACCOUNT <json credentials>`` per seeded scenario.
Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape as xml_escape

import cbor2
from moto.cloudtrail import models as cloudtrail_models
from moto.iam import models as iam_models
from moto.iam import responses as iam_responses
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

LOCK = threading.RLock()
KEY_TO_ACCOUNT: dict[str, str] = {}
ROOT_KEYS: set[str] = set()
ROOT: dict[str, dict] = {}  # account id -> root state
CONTACT_INFO: dict[str, dict] = {}
ORG: dict[str, dict | None] = {}
DENY: dict[str, set[str]] = {}  # account id -> {"iam:GenerateCredentialReport", ...}
REPORT_DELAY: dict[str, float] = {}
REPORT_STARTED: dict[str, float] = {}
STATS: dict[str, dict[str, int]] = {}
PENDING: dict[str, tuple[str, str]] = {}
FAULTS: dict[str, dict[str, dict]] = {}  # account -> service:Action -> {count, status, code}  # subscription arn -> (account id, endpoint)
ENDPOINT = ""
ORG_FEATURES: dict[str, set[str]] = {}  # organization id -> enabled centralized-root features
MEMBER_OF: dict[str, str] = {}  # member account id -> management account id
ASSUME_ROOT_DENIED: set[str] = set()  # members whose AssumeRoot is refused (an SCP, say)
ROOT_SESSIONS: dict[str, str] = {}  # session access key -> task policy name
IAM_POLICY: dict[str, list] = {}  # account -> the caller's identity policy statements, when enforced

# The root-task policies' actions, from the AWS managed policy reference
# (IAMAuditRootUserCredentials, IAMDeleteRootUserCredentials,
# IAMCreateRootUserPassword, S3UnlockBucketPolicy, SQSUnlockQueuePolicy); see
# docs/testing.md.
TASK_ACTIONS = {
    "IAMAuditRootUserCredentials": {
        "iam:GetAccessKeyLastUsed", "iam:GetAccountSummary", "iam:GetLoginProfile", "iam:GetUser",
        "iam:ListAccessKeys", "iam:ListMFADevices", "iam:ListSigningCertificates",
    },
    "IAMDeleteRootUserCredentials": {
        "iam:DeactivateMFADevice", "iam:DeleteAccessKey", "iam:DeleteLoginProfile", "iam:DeleteSigningCertificate",
        "iam:DeleteVirtualMFADevice", "iam:GetAccessKeyLastUsed", "iam:GetLoginProfile", "iam:GetUser",
        "iam:ListAccessKeys", "iam:ListMFADevices", "iam:ListSigningCertificates",
    },
    "IAMCreateRootUserPassword": {"iam:CreateLoginProfile", "iam:GetLoginProfile"},
    "S3UnlockBucketPolicy": {
        "s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:ListAllMyBuckets", "s3:PutBucketPolicy",
    },
    "SQSUnlockQueuePolicy": {
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueues", "sqs:SetQueueAttributes",
    },
}
# Which centralized-root feature a task's session needs (IAM User Guide,
# "Centralize root access for member accounts": root credentials management
# audits, deletes and lets a member recover root's password; privileged root
# actions delete a locked-out bucket or queue policy).
TASK_FEATURE = {
    "IAMAuditRootUserCredentials": "RootCredentialsManagement",
    "IAMDeleteRootUserCredentials": "RootCredentialsManagement",
    "IAMCreateRootUserPassword": "RootCredentialsManagement",
    "S3UnlockBucketPolicy": "RootSessions",
    "SQSUnlockQueuePolicy": "RootSessions",
}

DATE_FMT = "%Y-%m-%dT%H:%M:%S+00:00"

# Request quotas, per calling account (off unless a test or the bench turns
# them on for a caller through /_rootguard/quotas). The documented ones, with
# their sources in docs/testing.md: Account Management reference, "Quotas";
# Security Hub partner guide, "Guidelines for using the BatchImportFindings
# API" (per account and Region). AWS publishes no rate for sts:AssumeRoot or
# Organizations: a test sets those ("sts:AssumeRoot" per caller and Region,
# "organizations" per caller for every operation together).
DOCUMENTED_QUOTAS = {
    "account:GetAlternateContact": (10.0, 15.0),
    "account:GetContactInformation": (10.0, 15.0),
    "account:GetPrimaryEmail": (3.0, 3.0),
    "account:ListRegions": (5.0, 5.0),
    "securityhub:BatchImportFindings": (10.0, 30.0),
}
QUOTA_PER_REGION = ("securityhub", "sts")
QUOTAS: dict[str, dict[str, tuple[float, float]]] = {}  # caller -> quota key -> (rate, burst)
BUCKETS: dict[tuple, tuple[float, float]] = {}  # (caller, key, region) -> (tokens, at)
THROTTLED: dict[str, dict[str, int]] = {}  # caller -> quota key -> throttled requests


def quota_key(service: str, action: str) -> str:
    return "organizations" if service == "organizations" else f"{service}:{action}"


def over_quota(caller: str, service: str, action: str, region: str) -> bool:
    """A token bucket per calling account and quota (and Region where AWS
    counts per Region): a request that finds no token is throttled and takes
    none."""
    q = QUOTAS.get(caller)
    key = quota_key(service, action)
    if not q or key not in q:
        return False
    rate, burst = q[key]
    bkey = (caller, key, region if service in QUOTA_PER_REGION else "")
    t = time.monotonic()
    with LOCK:
        tokens, at = BUCKETS.get(bkey, (burst, t))
        tokens = min(burst, tokens + (t - at) * rate)
        if tokens >= 1.0:
            BUCKETS[bkey] = (tokens - 1.0, t)
            return False
        BUCKETS[bkey] = (tokens, t)
        counts = THROTTLED.setdefault(caller, {})
        counts[key] = counts.get(key, 0) + 1
        return True


def throttle_answer(service: str):
    """Each protocol's own throttling error (API references: Account
    Management TooManyRequestsException 429; STS Throttling 400 "Rate
    exceeded"; Organizations TooManyRequestsException 400; Security Hub
    LimitExceededException 429)."""
    if service == "sts":
        return query_error("sts", 400, "Throttling", "Rate exceeded")
    if service == "organizations":
        return json_error(400, "TooManyRequestsException",
                          "AWS Organizations can't complete your request because it received too many requests. Try again later.")
    if service == "securityhub":
        return json_error(429, "LimitExceededException", "Rate exceeded")
    if service == "account":
        return json_error(429, "TooManyRequestsException", "Rate exceeded")
    return json_error(400, "ThrottlingException", "Rate exceeded")


def set_quotas(req: dict) -> dict:
    """{"account": caller, "documented": true, "rates": {"sts:AssumeRoot": 2, "organizations": [8, 8]}}:
    the caller's quotas from now on (rates are per second; the burst is the
    rate unless given); {"account": caller, "off": true} removes them."""
    caller = req["account"]
    with LOCK:
        if req.get("off"):
            QUOTAS.pop(caller, None)
            return {"ok": True}
        q = dict(DOCUMENTED_QUOTAS) if req.get("documented", True) else {}
        for key, v in (req.get("rates") or {}).items():
            rate, burst = (float(v[0]), float(v[1])) if isinstance(v, list) else (float(v), max(1.0, float(v)))
            q[key] = (rate, burst)
        QUOTAS[caller] = q
        for k in [k for k in BUCKETS if k[0] == caller]:
            del BUCKETS[k]
        THROTTLED[caller] = {}
    return {"ok": True, "quotas": {k: list(v) for k, v in q.items()}}


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def report_time(value, default="N/A") -> str:
    """A credential-report time: "N/A", "no_information", "-2h", "-3d" or ISO."""
    if value is None:
        return default
    if isinstance(value, str) and re.fullmatch(r"-\d+[smhd]", value):
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[value[-1]]
        return (now() - timedelta(**{unit: int(value[1:-1])})).strftime(DATE_FMT)
    return str(value)


# ---------------------------------------------------------------- root state


def root_row(account_id: str, st: dict) -> str:
    keys = list(st.get("access_keys", []))[:2]
    certs = list(st.get("signing_certs", []))[:2]
    mfa = st.get("report_mfa_active", st.get("mfa_enabled", False))
    cols = [
        "<root_account>",
        f"arn:aws:iam::{account_id}:root",
        report_time(st.get("created", "-900d")),
        "not_supported",
        report_time(st.get("password_last_used"), "no_information")
        if st.get("password_present", True)
        else "N/A",
        "not_supported",
        "not_supported",
        "true" if mfa else "false",
    ]
    for i in range(2):
        if i < len(keys):
            k = keys[i]
            used = k.get("last_used_date")
            cols += [
                "true" if k.get("active", True) else "false",
                report_time(k.get("last_rotated", "-400d")),
                report_time(used),
                k.get("last_used_region", "us-east-1") if used else "N/A",
                k.get("last_used_service", "iam") if used else "N/A",
            ]
        else:
            cols += ["false", "N/A", "N/A", "N/A", "N/A"]
    for i in range(2):
        if i < len(certs):
            c = certs[i]
            cols += [
                "true" if c.get("active", True) else "false",
                report_time(c.get("last_rotated", "-300d")),
            ]
        else:
            cols += ["false", "N/A"]
    return ",".join(cols) + "\n"


_orig_summary_map = iam_models.AccountSummary.summary_map.fget


def _summary_map(self):
    m = _orig_summary_map(self)
    st = ROOT.get(self._iam_backend.account_id)
    if st is not None:
        m["AccountMFAEnabled"] = 1 if st.get("mfa_enabled") else 0
        m["AccountAccessKeysPresent"] = 1 if st.get("access_keys") else 0
        m["AccountSigningCertificatesPresent"] = 1 if st.get("signing_certs") else 0
        m["AccountPasswordPresent"] = 1 if st.get("password_present", True) else 0
    return m


iam_models.AccountSummary.summary_map = property(_summary_map)

_orig_get_report = iam_models.IAMBackend.get_credential_report


def _get_credential_report(self):
    report = _orig_get_report(self)
    st = ROOT.get(self.account_id)
    if st is None:
        return report
    header, _, rest = report.partition("\n")
    return header + "\n" + root_row(self.account_id, st) + rest


iam_models.IAMBackend.get_credential_report = _get_credential_report


def _generated_time(self):
    started = REPORT_STARTED.get(self.current_account)
    when = datetime.fromtimestamp(started, timezone.utc) if started else now()
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


_orig_resp_get_report = iam_responses.IamResponse.get_credential_report


def _resp_get_credential_report(self):
    result = _orig_resp_get_report(self)
    try:
        result.result["GeneratedTime"] = _generated_time(self)
        # moto hands back text; the wire format is base64 of the CSV.
    except AttributeError:
        pass
    return result


iam_responses.IamResponse.get_credential_report = _resp_get_credential_report


_orig_trail_init = cloudtrail_models.Trail.__init__


def _trail_init(self, *args, **kwargs):
    _orig_trail_init(self, *args, **kwargs)
    # AWS gives a new trail one basic selector: all management events.
    self.event_selectors = [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
    ]


cloudtrail_models.Trail.__init__ = _trail_init

from moto.events import models as events_models  # noqa: E402

_orig_send_to_targets = events_models.Rule.send_to_targets


def seed_root_virtual_mfa(account_id: str) -> None:
    backend = iam_models.iam_backends[account_id]["global"]
    device = backend.create_virtual_mfa_device("root-account-mfa-device", "/")
    device.enable_date = now()
    # What AWS lists for root: the account id as the user id and an ARN that
    # ends in ":root" (no "user/" path).
    device.user = SimpleNamespace(
        path="/",
        name=account_id,
        user_name=account_id,
        id=account_id,
        user_id=account_id,
        arn=f"arn:aws:iam::{account_id}:root",
        create_date=now() - timedelta(days=900),
        password_last_used=None,
        permissions_boundary=None,
        tags=[],
    )


# ------------------------------------------------------------------ seeding


def boto_client(service: str, account_id: str, region: str = "us-east-1"):
    import boto3

    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="AKIASEEDER000000000",
        aws_secret_access_key="seeder",
    )

    def add_header(request, **_):
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def seed(scenario: dict) -> dict:
    account_id = str(scenario.get("account_id") or f"{uuid.uuid4().int % 10**12:012d}")
    if not re.fullmatch(r"\d{12}", account_id):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    access_key = scenario.get("access_key_id") or "ASIA" + uuid.uuid4().hex[:16].upper()
    with LOCK:
        KEY_TO_ACCOUNT[access_key] = account_id
        if scenario.get("caller") == "root":
            ROOT_KEYS.add(access_key)
        if "root" in scenario:
            ROOT[account_id] = dict(scenario["root"])
        if "contact_information" in scenario:
            CONTACT_INFO[account_id] = scenario["contact_information"]
        ORG[account_id] = scenario.get("organization")
        DENY[account_id] = set()
        REPORT_DELAY[account_id] = float(scenario.get("report_delay_ms", 0)) / 1000.0
        STATS.setdefault(account_id, {})

    if scenario.get("root", {}).get("virtual_mfa"):
        seed_root_virtual_mfa(account_id)

    needs_iam = any(scenario.get(k) for k in ("password_policy", "users", "roles"))
    iam = boto_client("iam", account_id) if needs_iam else None
    if "password_policy" in scenario and scenario["password_policy"] is not None:
        iam.update_account_password_policy(**scenario["password_policy"])
    for user in scenario.get("users", []):
        name = user["name"]
        iam.create_user(UserName=name)
        if user.get("console_password"):
            iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")
        if user.get("mfa") == "virtual":
            dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=dev["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
    for bucket in scenario.get("buckets", []):
        # e.g. another account squatting rootguard's predictable bucket name
        boto_client("s3", account_id).create_bucket(Bucket=bucket.replace("{target}", str(scenario.get("target", ""))))
    if scenario.get("bare_trail_role"):
        # A run stopped right after CreateRole: the role exists without its policy.
        boto_client("iam", account_id).create_role(
            RoleName="rootguard-cloudtrail-to-logs",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
    if scenario.get("bare_trail_bucket"):
        boto_client("s3", account_id).create_bucket(Bucket=f"rootguard-cloudtrail-{account_id}-us-east-1")
    if scenario.get("alias"):
        boto_client("iam", account_id).create_account_alias(AccountAlias=scenario["alias"])
    for role in scenario.get("roles", []):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
        }))
    if "regions" in scenario:
        with LOCK:
            REGIONS[account_id] = list(scenario["regions"])
    if scenario.get("chain"):
        seed_chain(account_id, scenario["chain"])
    for h in scenario.get("history", []):
        # {"corpus", "region"?, "minutes_ago"?, "count"?}: recorded management events.
        for i in range(int(h.get("count", 1))):
            record = json.loads((CORPUS / f"{h['corpus']}.json").read_text())
            record["recipientAccountId"] = account_id
            record["eventID"] = str(uuid.uuid4())
            when = now() - timedelta(minutes=int(h.get("minutes_ago", 30)), seconds=i)
            record["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            record["awsRegion"] = h.get("region", record.get("awsRegion", "us-east-1"))
            record_history(account_id, record["awsRegion"], record)
    if scenario.get("guardduty"):
        seed_guardduty(account_id, scenario["guardduty"])
    for region in scenario.get("security_hub", []):
        # Security Hub enabled in these regions (EnableSecurityHub).
        with LOCK:
            SECURITY_HUB[(account_id, region)] = {"since": now().isoformat(), "findings": {}}
    with LOCK:
        SECURITY_HUB_REJECT[account_id] = set(scenario.get("security_hub_reject", []))
    contacts = scenario.get("alternate_contacts", {})
    if contacts:
        account = boto_client("account", account_id)
        for kind, contact in contacts.items():
            account.put_alternate_contact(AlternateContactType=kind, **contact)
    # Seeding traffic is not the caller's traffic, and is never denied.
    with LOCK:
        STATS[account_id] = {}
        DENY[account_id] = set(scenario.get("deny", []))
        if "iam_policy" in scenario:
            st = scenario["iam_policy"].get("Statement", [])
            IAM_POLICY[account_id] = [st] if isinstance(st, dict) else list(st)
        FAULTS[account_id] = {
            k: {"count": int(v.get("count", 1)), "status": int(v.get("status", 400)), "code": v.get("code", "Throttling")}
            for k, v in scenario.get("faults", {}).items()
        }
    return {
        "account_id": account_id,
        "access_key_id": access_key,
        "secret_access_key": "rootguard-test-secret",
    }


def seed_chain(account_id: str, chain: dict) -> None:
    """Trails, log groups, metric filters, SNS topics and alarms, through moto's own APIs."""
    region = "us-east-1"
    logs = boto_client("logs", account_id)
    ct = boto_client("cloudtrail", account_id)
    s3 = boto_client("s3", account_id)
    cw = boto_client("cloudwatch", account_id)
    sns = boto_client("sns", account_id)
    for lg in chain.get("log_groups", []):
        logs.create_log_group(logGroupName=lg)
    for t in chain.get("trails", []):
        bucket = f"{t['name']}-{account_id}-trail"
        s3.create_bucket(Bucket=bucket)
        kw = {"Name": t["name"], "S3BucketName": bucket, "IsMultiRegionTrail": t.get("multi_region", True)}
        if t.get("organization"):
            kw["IsOrganizationTrail"] = True
        if t.get("log_group_arn"):  # e.g. an organization trail's group in the management account
            kw["CloudWatchLogsLogGroupArn"] = t["log_group_arn"]
            kw["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account_id}:role/CloudTrail_CloudWatchLogs"
        elif t.get("log_group"):
            kw["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{region}:{account_id}:log-group:{t['log_group']}:*"
            kw["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account_id}:role/CloudTrail_CloudWatchLogs"
        ct.create_trail(**kw)
        if t.get("logging", True):
            ct.start_logging(Name=t["name"])
        sel = t.get("selectors")
        if isinstance(sel, str):
            ct.put_event_selectors(
                TrailName=t["name"], EventSelectors=[{"ReadWriteType": sel, "IncludeManagementEvents": True}]
            )
        elif isinstance(sel, dict):
            ct.put_event_selectors(TrailName=t["name"], **sel)
    for f in chain.get("metric_filters", []):
        logs.put_metric_filter(
            logGroupName=f["log_group"],
            filterName=f["name"],
            filterPattern=f["pattern"],
            metricTransformations=[
                {
                    "metricName": f.get("metric", "RootAccountUsage"),
                    "metricNamespace": f.get("namespace", "CISBenchmark"),
                    "metricValue": "1",
                }
            ],
        )
    topics = {}
    for t in chain.get("topics", []):
        arn = sns.create_topic(Name=t["name"])["TopicArn"]
        topics[t["name"]] = arn
        for sub in t.get("subscriptions", []):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=sub["email"], ReturnSubscriptionArn=True)
            if sub.get("confirmed"):
                confirm(account_id, sub["email"])
    for a in chain.get("alarms", []):
        cw.put_metric_alarm(
            AlarmName=a["name"],
            MetricName=a.get("metric", "RootAccountUsage"),
            Namespace=a.get("namespace", "CISBenchmark"),
            Statistic=a.get("statistic", "Sum"),
            Period=a.get("period", 300),
            EvaluationPeriods=a.get("evaluation_periods", 1),
            Threshold=a.get("threshold", 1),
            ComparisonOperator=a.get("comparison", "GreaterThanOrEqualToThreshold"),
            ActionsEnabled=a.get("actions_enabled", True),
            AlarmActions=[topics[n] for n in a.get("topics", [])],
            TreatMissingData="notBreaching",
        )
        if a.get("state") == "ALARM":
            # An alarm that fired and was never reset, e.g. `"state_since": "-2d"`.
            from moto.cloudwatch.models import cloudwatch_backends

            alarm = cloudwatch_backends[account_id][region].alarms[a["name"]]
            alarm.update_state("Threshold Crossed: 1 datapoint", "{}", "ALARM")
            alarm.state_updated_timestamp = datetime.fromisoformat(report_time(a.get("state_since", "-1m"))).replace(tzinfo=None)
    if chain.get("realtime_rule"):
        # The real-time rules exactly as rootguard deploys them: every kind's
        # rule in us-east-1 and, in each other enabled region, the forwarding
        # rule and its role; patterns, targets and messages come from cfn/
        # (tests/template.rs keeps them equal to the code).
        import yaml

        spec = yaml.safe_load((CORPUS.parent.parent / "cfn" / "root-activity-alarm.yaml").read_text())
        tag = [{"Key": "managed-by", "Value": "rootguard"}]
        ev = boto_client("events", account_id)
        for res in spec["Resources"].values():
            if res["Type"] != "AWS::Events::Rule" or res.get("Condition") != "CreateRealtime":
                continue
            props = res["Properties"]
            target = props["Targets"][0]
            ev.put_rule(
                Name=props["Name"], EventPattern=json.dumps(props["EventPattern"]), State=props["State"],
                Description=props["Description"], Tags=tag,
            )
            ev.put_targets(Rule=props["Name"], Targets=[{
                "Id": target["Id"], "Arn": topics[chain["realtime_rule"]["topic"]],
                "InputTransformer": target["InputTransformer"],
            }])
        fwd = spec["Resources"]["ForwardRule"]["Properties"]
        bus = f"arn:aws:events:us-east-1:{account_id}:event-bus/default"
        iam = boto_client("iam", account_id)
        role = iam.create_role(
            RoleName="rootguard-events-forward", Tags=tag,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}]}),
        )["Role"]
        iam.put_role_policy(RoleName="rootguard-events-forward", PolicyName="rootguard-events-forward",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                                "Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}]}))
        with LOCK:
            enabled = REGIONS.get(account_id, DEFAULT_REGIONS)
        for r in enabled:
            if r == "us-east-1":
                continue
            evr = boto_client("events", account_id, r)
            evr.put_rule(Name=fwd["Name"], EventPattern=json.dumps(fwd["EventPattern"]), State=fwd["State"],
                         Description=fwd["Description"], Tags=tag)
            evr.put_targets(Rule=fwd["Name"], Targets=[{"Id": fwd["Targets"][0]["Id"], "Arn": bus,
                                                        "RoleArn": role["Arn"]}])
    for name in chain.get("delete_topics", []):
        sns.delete_topic(TopicArn=topics[name])
    for e in chain.get("log_events", []):
        seed_log_event(logs, e)
    for t in chain.get("extra_topics", []):
        sns.create_topic(Name=t)
    for a in chain.get("extra_alarms", []):
        cw.put_metric_alarm(
            AlarmName=a, MetricName="Errors", Namespace="App", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )


CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "cloudtrail"


# ------------------------------------------------------------------ EventBridge


def detail_type(record: dict) -> str:
    """The detail-type CloudTrail gives a record on the default bus (EventBridge
    User Guide, "Events from AWS services": AWS API Call / Console Sign In /
    Service Event via CloudTrail)."""
    return {
        "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
        "AwsServiceEvent": "AWS Service Event via CloudTrail",
    }.get(record.get("eventType"), "AWS API Call via CloudTrail")


def bus_admits(bus, account_id: str) -> bool:
    """An event bus's resource policy admits PutEvents from `account_id`: by
    account, or by its organization (aws:PrincipalOrgID) (EventBridge User
    Guide, "Permissions for event buses")."""
    backend, mgmt = org_of(account_id)
    org_id = backend.org.id if backend is not None else None
    try:
        doc = json.loads(bus.policy or "{}")
    except ValueError:
        return False
    for st in doc.get("Statement", []):
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if st.get("Effect") != "Allow" or not any(a in ("events:PutEvents", "events:*") for a in actions):
            continue
        principal = st.get("Principal")
        if principal == {"AWS": account_id} or principal == {"AWS": f"arn:aws:iam::{account_id}:root"}:
            return True
        cond = st.get("Condition", {}).get("StringEquals", {})
        if principal == "*" and org_id and cond.get("aws:PrincipalOrgID") == org_id:
            return True
    return False


def policy_doc(doc) -> dict:
    """A policy document as IAM returns it: JSON (possibly URL-encoded), or,
    for roles CloudFormation built in moto, the dict's Python text."""
    import ast
    from urllib.parse import unquote

    if isinstance(doc, dict):
        return doc
    for text in (doc, unquote(doc)):
        try:
            return json.loads(text)
        except ValueError:
            pass
        try:
            v = ast.literal_eval(text)
            if isinstance(v, dict):
                return v
        except (ValueError, SyntaxError):
            pass
    return {}


def role_lets_events_put(account_id: str, role_arn: str | None, bus_arn: str) -> bool:
    """A bus target in another Region (or account) is delivered only through a
    role in the rule's account that events.amazonaws.com may assume and whose
    policies allow events:PutEvents on that bus (EventBridge User Guide,
    "Sending and receiving events between AWS Regions"; "Sending and receiving
    events between AWS accounts")."""
    import fnmatch

    if not role_arn or role_arn.split(":")[4] != account_id:
        return False
    iam = boto_client("iam", account_id)
    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return False
    trust = policy_doc(role.get("AssumeRolePolicyDocument") or {})
    if not any(
        st.get("Effect") == "Allow" and (st.get("Principal") or {}).get("Service") == "events.amazonaws.com"
        for st in trust.get("Statement", [])
    ):
        return False
    docs = []
    for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        docs.append(policy_doc(iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]))
    for doc in docs:
        for st in doc.get("Statement", []):
            acts = st.get("Action", [])
            acts = [acts] if isinstance(acts, str) else acts
            res = st.get("Resource", [])
            res = [res] if isinstance(res, str) else res
            if (st.get("Effect") == "Allow" and any(fnmatch.fnmatchcase("events:putevents", a.lower()) for a in acts)
                    and any(fnmatch.fnmatchcase(bus_arn, r) for r in res)):
                return True
    return False


def forward_to_bus(bus_arn: str, event: dict, source: tuple | None = None, role_arn: str | None = None) -> None:
    """A rule's event-bus target: the event arrives on that bus unchanged (its
    `account` and `region` stay the source's). Another Region's bus (or another
    account's, when the rule gives a role) is reached only through the rule's
    role; another account's bus must also admit the sender in its policy."""
    from moto.events.models import events_backends

    parts = bus_arn.split(":")
    account_id, region, bus_name = parts[4], parts[3], parts[5].split("/", 1)[1]
    bus = events_backends[account_id][region].event_buses.get(bus_name)
    if bus is None:
        return
    if source is not None:
        src_account, src_region = source
        if (src_region != region or role_arn) and not role_lets_events_put(src_account, role_arn, bus_arn):
            return
    if account_id != event.get("account") and not bus_admits(bus, event.get("account", "")):
        return
    for rule in list(bus.rules.values()):
        rule.send_to_targets(event)  # the state decides there, as for any event


def _stackset_auto_deployment(original):
    """moto stores no AutoDeployment; keep it as given, so DescribeStackSet
    returns it (CloudFormation API Reference, CreateStackSet/UpdateStackSet)."""

    def wrapped(self):
        result = original(self)
        ss = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        auto = self._get_param("AutoDeployment")
        if auto:
            ss.auto_deployment = {
                "Enabled": str(auto.get("Enabled", "false")).lower() == "true",
                "RetainStacksOnAccountRemoval": str(auto.get("RetainStacksOnAccountRemoval", "false")).lower() == "true",
            }
        return result

    return wrapped


def _service_managed_skips_management(original):
    """Service-managed StackSets never deploy to the organization's management
    account, even when it sits in a targeted OU (CloudFormation User Guide,
    "StackSets concepts: service-managed permissions")."""

    def wrapped(self, accounts, regions, parameters, deployment_targets, permission_model):
        created = original(self, accounts, regions, parameters, deployment_targets, permission_model)
        if permission_model != "SERVICE_MANAGED":
            return created
        master = self.org_backend.org.master_account_id if self.org_backend.org else None
        for inst in [i for i in self.stack_instances if i.account_id == master]:
            inst.delete()
            self.stack_instances.remove(inst)
        return [c for c in created if c["Account"] != master]

    return wrapped


def _delete_by_deployment_targets(original):
    """DeleteStackInstances with DeploymentTargets (OUs), which moto ignores:
    resolve the OUs (and their child OUs) to their accounts."""

    def wrapped(self):
        targets = self._get_param("DeploymentTargets") or {}
        ous = targets.get("OrganizationalUnitIds") or []
        if ous and not self._get_param("Accounts"):
            from moto.core.responses import ActionResult

            name = self._get_param("StackSetName")
            ss = self.cloudformation_backend.describe_stack_set(name)
            org = ss.instances.org_backend
            wanted = set(ous) | {ou.id for ou in org.ou if ou.parent_id in ous}
            accounts = [a.id for a in org.accounts if a.parent_id in wanted]
            done = self.cloudformation_backend.delete_stack_instances(name, accounts, self._get_param("Regions", []))
            # The OUs are no longer targets: automatic deployment stops following them.
            ss.auto_targets = _stackset_targets(ss) - set(ous)
            return ActionResult({"OperationId": done.operations[-1]["OperationId"]})
        return original(self)

    return wrapped


# ---------------------------------------------------------------- StackSet operations as AWS runs them
# Off by default (moto finishes every operation at once); a test turns pacing
# on for an administrator account through /_rootguard/stacksets. Then, as the
# CloudFormation API reference (StackSetOperationPreferences) and User Guide
# ("StackSets concepts": operation options) document:
# * an operation deploys in rounds that take time: MaxConcurrentCount
#   (default 1) or MaxConcurrentPercentage (rounded down, at least 1) accounts
#   at once per Region;
# * FailureToleranceCount (default 0) or FailureTolerancePercentage (rounded
#   down): past it the operation stops in that Region, and the accounts not
#   yet deployed stay OUTDATED with "Cancelled since failure tolerance has
#   exceeded"; the operation ends FAILED;
# * ConcurrencyMode STRICT_FAILURE_TOLERANCE (the default) caps concurrency at
#   tolerance + 1; SOFT_FAILURE_TOLERANCE does not;
# * RegionConcurrencyType SEQUENTIAL (default) or PARALLEL;
# * a second operation on a StackSet while one runs is OperationInProgressException;
# * a member whose instance fails (an SCP denying events:PutRule) is OUTDATED,
#   DetailedStatus FAILED, with a StatusReason; its stack builds nothing.
STACKSET_PACING: dict[str, dict] = {}  # administrator account -> {"round_seconds": s, "fail": {account: reason}}
STACKSET_STARTS = ("CreateStackInstances", "UpdateStackInstances", "UpdateStackSet", "DeleteStackInstances", "DeleteStackSet")


def scp_denied_reason(account: str) -> str:
    return ("ResourceLogicalId:RootActivityToHub, ResourceType:AWS::Events::Rule, ResourceStatusReason:User: "
            f"arn:aws:sts::{account}:assumed-role/stacksets-exec-rootguard/StackSets is not authorized to perform: "
            f"events:PutRule on resource: arn:aws:events:us-east-1:{account}:rule/rootguard-root-activity-forward "
            "with an explicit deny in a service control policy.")


def set_instance(inst, status: str, detailed: str, reason: str | None = None) -> None:
    inst.rg_status = (status, detailed, reason)


def _instance_to_dict(original):
    """ListStackInstances with the status an operation left (moto always says CURRENT)."""

    def wrapped(self):
        d = original(self)
        st = getattr(self, "rg_status", None)
        if st:
            d["Status"], d["StackInstanceStatus"] = st[0], {"DetailedStatus": st[1]}
            if st[2]:
                d["StatusReason"] = st[2]
        return d

    return wrapped


def rounds_of(n: int, prefs: dict) -> tuple[int, int]:
    """(accounts at once, failures tolerated) for `n` accounts in one Region."""
    def num(k):
        v = prefs.get(k)
        return None if v in (None, "") else int(v)

    pct = num("MaxConcurrentPercentage")
    conc = max(1, n * pct // 100) if pct is not None else (num("MaxConcurrentCount") or 1)
    tpct = num("FailureTolerancePercentage")
    tol = n * tpct // 100 if tpct is not None else (num("FailureToleranceCount") or 0)
    if prefs.get("ConcurrencyMode", "STRICT_FAILURE_TOLERANCE") != "SOFT_FAILURE_TOLERANCE":
        conc = min(conc, tol + 1)
    return conc, tol


def rebuild_instance(ss, account: str, region: str):
    """A fresh stack instance (its stack's resources built) in place of the old one."""
    for old in [i for i in ss.stack_instances if i.account_id == account and i.region_name == region]:
        ss.stack_instances.remove(old)
    ss.instances.create_instances([account], [region], ss.parameters, {}, ss.permission_model)
    return next(i for i in ss.stack_instances if i.account_id == account and i.region_name == region)


def start_operation(ss, op: dict, targets: list, prefs: dict, pacing: dict) -> None:
    """Runs `op` over (account, region) targets in the background, round by round."""
    with LOCK:
        op["Status"] = "RUNNING"
        for acct, region in targets:
            inst = next((i for i in ss.stack_instances if i.account_id == acct and i.region_name == region), None)
            if inst is not None:
                try:
                    inst.delete()  # nothing is built until its round
                except Exception:  # noqa: BLE001 - already gone
                    pass
                set_instance(inst, "OUTDATED", "PENDING")
    by_region: dict[str, list] = {}
    for acct, region in targets:
        by_region.setdefault(region, []).append(acct)

    def region_run(region: str, accounts: list) -> bool:
        conc, tol = rounds_of(len(accounts), prefs)
        failed = 0
        for i in range(0, len(accounts), conc):
            time.sleep(float(pacing.get("round_seconds", 0.5)))
            with LOCK:
                for acct in accounts[i:i + conc]:
                    reason = pacing.get("fail", {}).get(acct)
                    inst = next((x for x in ss.stack_instances if x.account_id == acct and x.region_name == region), None)
                    if reason:
                        failed += 1
                        if inst is not None:
                            set_instance(inst, "OUTDATED", "FAILED", reason)
                    else:
                        set_instance(rebuild_instance(ss, acct, region), "CURRENT", "SUCCEEDED")
            if failed > tol:
                with LOCK:
                    for acct in accounts[i + conc:]:
                        inst = next((x for x in ss.stack_instances if x.account_id == acct and x.region_name == region), None)
                        if inst is not None:
                            set_instance(inst, "OUTDATED", "CANCELLED", "Cancelled since failure tolerance has exceeded")
                return False
        return True

    def run():
        results = []
        if prefs.get("RegionConcurrencyType") == "PARALLEL":
            threads = []
            for region, accounts in by_region.items():
                t = threading.Thread(target=lambda r=region, a=accounts: results.append(region_run(r, a)), daemon=True)
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
        else:
            for region, accounts in by_region.items():
                ok = region_run(region, accounts)
                results.append(ok)
                if not ok:
                    break
        with LOCK:
            op["Status"] = "SUCCEEDED" if all(results) else "FAILED"
            op["EndTimestamp"] = datetime.now(timezone.utc).replace(tzinfo=None)

    threading.Thread(target=run, daemon=True).start()


def operation_running(ss) -> bool:
    return any(o.get("Status") in ("RUNNING", "STOPPING", "QUEUED") for o in ss.operations)


def _paced(original, action: str):
    """CreateStackInstances and UpdateStackSet: when the administrator's
    StackSets are paced, the operation moto finished at once runs round by
    round instead, with the request's OperationPreferences."""

    def wrapped(self):
        pacing = STACKSET_PACING.get(self.current_account)
        if not pacing:
            return original(self)
        ss = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        before = {(i.account_id, i.region_name) for i in ss.stack_instances}
        result = original(self)
        if action == "CreateStackInstances":
            targets = [(i.account_id, i.region_name) for i in ss.stack_instances if (i.account_id, i.region_name) not in before]
        else:  # UpdateStackSet: every instance is redeployed
            targets = [(i.account_id, i.region_name) for i in ss.stack_instances]
        if ss.operations:
            start_operation(ss, ss.operations[-1], targets, self._get_params().get("OperationPreferences") or {}, pacing)
        return result

    return wrapped


def _update_stack_instances(self):
    """UpdateStackInstances for service-managed StackSets (moto ignores
    DeploymentTargets): the accounts of the OUs, filtered by Accounts with
    AccountFilterType (INTERSECTION, DIFFERENCE, UNION, NONE), in Regions,
    redeployed; paced like the other operations when pacing is on."""
    from moto.core.responses import ActionResult

    ss = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
    targets = self._get_params().get("DeploymentTargets") or {}
    regions = self._get_param("Regions", [])
    org = ss.instances.org_backend
    ous = targets.get("OrganizationalUnitIds") or []
    wanted = set(ous) | {ou.id for ou in org.ou if ou.parent_id in ous}
    in_ous = {a.id for a in org.accounts if a.parent_id in wanted}
    listed = set(targets.get("Accounts") or self._get_param("Accounts", []) or [])
    kind = targets.get("AccountFilterType", "NONE")
    accounts = {"INTERSECTION": in_ous & listed, "DIFFERENCE": in_ous - listed, "UNION": in_ous | listed}.get(kind, in_ous or listed)
    chosen = [(i.account_id, i.region_name) for i in ss.stack_instances if i.account_id in accounts and i.region_name in regions]
    op_id = str(uuid.uuid4())
    op = ss._create_operation(operation_id=op_id, action="UPDATE", status="SUCCEEDED",
                              accounts=sorted(accounts), regions=regions)
    pacing = STACKSET_PACING.get(self.current_account)
    if pacing:
        start_operation(ss, op, chosen, self._get_params().get("OperationPreferences") or {}, pacing)
    else:
        with LOCK:
            for acct, region in chosen:
                set_instance(rebuild_instance(ss, acct, region), "CURRENT", "SUCCEEDED")
    return ActionResult({"OperationId": op_id})


def stackset_busy(caller: str, region: str, action: str, body: bytes):
    """OperationInProgressException for an operation started while another runs."""
    if action not in STACKSET_STARTS or caller not in STACKSET_PACING:
        return None
    from moto.cloudformation.models import cloudformation_backends

    name = parse_qs(body.decode(errors="replace")).get("StackSetName", [""])[0]
    try:
        ss = cloudformation_backends[caller][region].describe_stack_set(name)
    except Exception:  # noqa: BLE001 - moto answers the missing StackSet itself
        return None
    with LOCK:
        busy = operation_running(ss)
    if busy:
        return query_error("cloudformation", 400, "OperationInProgressException",
                           f"Another Operation on StackSet {ss.id} is in progress")
    return None


def set_stackset_pacing(req: dict) -> dict:
    """{"account": admin, "round_seconds": 0.3, "fail": {member: reason | true}}; "lift": [member] removes
    failures; "off": true stops pacing; "hold": seconds starts a dummy operation that runs that long."""
    caller = req["account"]
    with LOCK:
        if req.get("off"):
            STACKSET_PACING.pop(caller, None)
            return {"ok": True}
        p = STACKSET_PACING.setdefault(caller, {"round_seconds": 0.5, "fail": {}})
        if "round_seconds" in req:
            p["round_seconds"] = float(req["round_seconds"])
        for acct, reason in (req.get("fail") or {}).items():
            p["fail"][acct] = reason if isinstance(reason, str) else scp_denied_reason(acct)
        for acct in req.get("lift") or []:
            p["fail"].pop(acct, None)
    if req.get("hold"):
        # An operation someone else started (the console, another pipeline).
        from moto.cloudformation.models import cloudformation_backends

        ss = cloudformation_backends[caller][req.get("region", "us-east-1")].describe_stack_set(req["stackset"])
        op = ss._create_operation(operation_id=str(uuid.uuid4()), action="UPDATE", status="RUNNING")

        def end():
            time.sleep(float(req["hold"]))
            with LOCK:
                op["Status"] = "SUCCEEDED"

        threading.Thread(target=end, daemon=True).start()
        return {"ok": True, "operation_id": op["OperationId"]}
    return {"ok": True}


# CloudTrail event history: every management event recorded per (account,
# region), newest last, as LookupEvents serves it (90 days, no trail needed).
HISTORY: dict = {}
# Times of recent LookupEvents calls per (account, region), for its rate limit.
LOOKUP_CALLS: dict = {}
# Regions enabled for an account (account:ListRegions); the default set otherwise.
REGIONS: dict = {}
DEFAULT_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
                   "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
                   "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1"]


def record_history(account_id: str, region: str, record: dict) -> None:
    with LOCK:
        HISTORY.setdefault((account_id, region), []).append(record)


def lookup_events(account_id: str, region: str, body: bytes):
    """cloudtrail:LookupEvents (CloudTrail API Reference), which moto lacks:
    the region's recorded management events, newest first, one lookup
    attribute (Username, EventName, EventSource or ReadOnly here), StartTime /
    EndTime, MaxResults up to 50, NextToken paging, and ThrottlingException
    past two requests a second per account and region."""
    key = (account_id, region)
    t = time.monotonic()
    with LOCK:
        recent = [c for c in LOOKUP_CALLS.get(key, []) if t - c < 1.0]
        recent.append(t)
        LOOKUP_CALLS[key] = recent
        throttled = len(recent) > 2
        if throttled:
            stats = STATS.setdefault(account_id, {})
            stats["cloudtrail:LookupEvents(throttled)"] = stats.get("cloudtrail:LookupEvents(throttled)", 0) + 1
        events = list(reversed(HISTORY.get(key, [])))
    if throttled:
        return json_error(400, "ThrottlingException", "Rate exceeded")
    req = json.loads(body or b"{}")
    attrs = req.get("LookupAttributes") or []
    if len(attrs) > 1:
        return json_error(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
    start, end = req.get("StartTime"), req.get("EndTime")

    def username(r):
        ui = r.get("userIdentity", {})
        return "root" if ui.get("type") == "Root" else ui.get("userName") or ui.get("principalId", "").split(":")[-1]

    def when(r):
        return datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()

    def value(r, k):
        return {
            "Username": lambda: username(r),
            "EventName": lambda: r.get("eventName"),
            "EventSource": lambda: r.get("eventSource"),
            "ReadOnly": lambda: str(r.get("readOnly", False)).lower(),
        }.get(k, lambda: None)()

    def keep(r):
        return (all(value(r, a.get("AttributeKey")) == a.get("AttributeValue") for a in attrs)
                and (start is None or when(r) >= float(start)) and (end is None or when(r) <= float(end)))

    hits = [r for r in events if keep(r)]
    size = max(1, min(int(req.get("MaxResults") or 50), 50))
    offset = int(req.get("NextToken") or 0)
    page = hits[offset:offset + size]
    out = {"Events": [{
        "EventId": r.get("eventID"), "EventName": r.get("eventName"), "ReadOnly": str(r.get("readOnly", "false")).lower(),
        "AccessKeyId": r.get("userIdentity", {}).get("accessKeyId"), "EventTime": when(r),
        "EventSource": r.get("eventSource"), "Username": username(r), "Resources": [],
        "CloudTrailEvent": json.dumps(r),
    } for r in page]}
    if offset + size < len(hits):
        out["NextToken"] = str(offset + size)
    return 200, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(out).encode()


def list_regions(account_id: str, body: bytes):
    """account:ListRegions (Account API Reference): the account's regions with
    their opt status, filtered by RegionOptStatusContains, paged."""
    req = json.loads(body or b"{}")
    with LOCK:
        enabled = REGIONS.get(account_id, DEFAULT_REGIONS)
    regions = [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT" if r in DEFAULT_REGIONS else "ENABLED"} for r in enabled]
    wanted = req.get("RegionOptStatusContains")
    if wanted:
        regions = [r for r in regions if r["RegionOptStatus"] in wanted]
    size = int(req.get("MaxResults") or 50)
    offset = int(req.get("NextToken") or 0)
    out = {"Regions": regions[offset:offset + size]}
    if offset + size < len(regions):
        out["NextToken"] = str(offset + size)
    return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


# ------------------------------------------------------------ IAM authorization
# With ``iam_policy`` in a scenario, the seeded caller holds exactly that
# identity policy: a request is allowed when an Allow statement's Action
# matches ``service:Action`` (case-insensitive, ``*`` and ``?`` wildcards, as
# the IAM User Guide's policy grammar says) and no Deny statement does.
# Resources and conditions are not evaluated (rootguard's read policies use
# ``"Resource": "*"``). sts:GetCallerIdentity needs no permission (STS API
# Reference). Denied requests are counted as ``service:Action(denied)``.
IAM_PREFIX = {"monitoring": "cloudwatch"}


def iam_allows(account_id: str, service: str, action: str) -> bool:
    import fnmatch

    with LOCK:
        statements = IAM_POLICY.get(account_id)
    if statements is None or (service == "sts" and action == "GetCallerIdentity"):
        return True
    wanted = f"{IAM_PREFIX.get(service, service)}:{action}".lower()

    def matches(st):
        acts = st.get("Action", [])
        acts = [acts] if isinstance(acts, str) else acts
        return any(fnmatch.fnmatchcase(wanted, a.lower()) for a in acts)

    if any(st.get("Effect") == "Deny" and matches(st) for st in statements):
        allowed = False
    else:
        allowed = any(st.get("Effect") == "Allow" and matches(st) for st in statements)
    if not allowed:
        with LOCK:
            stats = STATS.setdefault(account_id, {})
            key = f"{IAM_PREFIX.get(service, service)}:{action}(denied)"
            stats[key] = stats.get(key, 0) + 1
    return allowed


# ------------------------------------------------------------------ GuardDuty
# moto keeps detectors but has no findings. GUARDDUTY holds, per account and
# region, a detector id and its findings in the GetFindings shape (GuardDuty
# API Reference: ListDetectors, ListFindings, GetFindings).
GUARDDUTY: dict[tuple[str, str], dict] = {}


def seed_guardduty(account_id: str, spec: dict) -> None:
    """{"region", "findings": [{"api", "service", "ip", "count", "minutes_ago", "type"?}]}"""
    region = spec.get("region", "us-east-1")
    detector = uuid.uuid4().hex
    findings = []
    for f in spec.get("findings", []):
        last = now() - timedelta(minutes=int(f.get("minutes_ago", 10)))
        first = last - timedelta(hours=int(f.get("first_seen_hours_before", 2)))
        api = f.get("api", "ListBuckets")
        findings.append({
            "accountId": account_id,
            "arn": f"arn:aws:guardduty:{region}:{account_id}:detector/{detector}/finding/{uuid.uuid4().hex}",
            "createdAt": first.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "updatedAt": last.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "id": uuid.uuid4().hex,
            "partition": "aws",
            "region": region,
            "schemaVersion": "2.0",
            "severity": 2,
            "type": f.get("type", "Policy:IAMUser/RootCredentialUsage"),
            "title": f"API {api} was invoked using root credentials.",
            "description": f"API {api} was invoked using root credentials from IP address {f.get('ip', '203.0.113.7')}.",
            "resource": {"resourceType": "AccessKey", "accessKeyDetails": {"userName": "Root", "userType": "Root"}},
            "service": {
                "serviceName": "guardduty", "detectorId": detector, "archived": False,
                "count": int(f.get("count", 1)),
                "eventFirstSeen": first.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "eventLastSeen": last.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "action": {"actionType": "AWS_API_CALL", "awsApiCallAction": {
                    "api": api, "serviceName": f.get("service", "s3.amazonaws.com"), "callerType": "Remote IP",
                    "remoteIpDetails": {"ipAddressV4": f.get("ip", "203.0.113.7")},
                }},
            },
        })
    with LOCK:
        GUARDDUTY[(account_id, region)] = {"detector": detector, "findings": findings}


def guardduty_call(account_id: str, region: str, action: str, path: str, body: bytes):
    """ListDetectors, ListFindings (criterion ``type`` equals and ``updatedAt``
    greaterThanOrEqual in epoch milliseconds, sorted, paged by maxResults up
    to 50) and GetFindings (at most 50 ids), as the GuardDuty API Reference
    documents them."""
    with LOCK:
        gd = GUARDDUTY.get((account_id, region))
    if action == "ListDetectors":
        return 200, [("Content-Type", "application/json")], json.dumps({"detectorIds": [gd["detector"]] if gd else []}).encode()
    m = re.match(r"^/detector/([^/]+)/findings", path)
    if not gd or not m or m.group(1) != gd["detector"]:
        return json_error(400, "BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
    req = json.loads(body or b"{}")
    if action == "GetFindings":
        ids = req.get("findingIds") or []
        if len(ids) > 50:
            return json_error(400, "BadRequestException", "findingIds must contain at most 50 ids")
        found = [f for f in gd["findings"] if f["id"] in ids]
        return 200, [("Content-Type", "application/json")], json.dumps({"findings": found}).encode()
    crit = (req.get("findingCriteria") or {}).get("criterion") or {}

    def epoch_ms(t):
        return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=timezone.utc).timestamp() * 1000

    def keep(f):
        for field, cond in crit.items():
            value = epoch_ms(f[field]) if field in ("updatedAt", "createdAt") else f.get(field)
            eq = cond.get("equals") or cond.get("eq")
            if eq and value not in eq:
                return False
            gte = cond.get("greaterThanOrEqual")
            if gte is not None and value < gte:
                return False
        return True

    hits = [f for f in gd["findings"] if keep(f)]
    sort = req.get("sortCriteria") or {}
    if sort.get("attributeName"):
        hits.sort(key=lambda f: f.get(sort["attributeName"], ""), reverse=sort.get("orderBy") == "DESC")
    size = max(1, min(int(req.get("maxResults") or 50), 50))
    offset = int(req.get("nextToken") or 0)
    out = {"findingIds": [f["id"] for f in hits[offset:offset + size]], "nextToken": str(offset + size) if offset + size < len(hits) else ""}
    return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


# ---------------------------------------------------------------- Security Hub
# moto stores imported findings but accepts any caller and any shape, ignores
# GetFindings filters and lacks BatchUpdateFindings. The behaviour below is the
# Security Hub API Reference's (BatchImportFindings, GetFindings,
# BatchUpdateFindings, Workflow); docs/testing.md lists each rule.
SECURITY_HUB: dict[tuple[str, str], dict] = {}  # (account, region) -> {"findings": {id: finding}}
SECURITY_HUB_REJECT: dict[str, set[str]] = {}  # account -> finding ids refused (an injected fault)
ASFF_REQUIRED = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources",
                 "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt")
# What finding providers cannot change once a finding exists.
ASFF_CUSTOMER_OWNED = ("Note", "UserDefinedFields", "VerificationState", "Workflow")


def security_hub_call(account_id: str, region: str, action: str, body: bytes):
    with LOCK:
        hub = SECURITY_HUB.get((account_id, region))
        reject = set(SECURITY_HUB_REJECT.get(account_id, set()))
    if hub is None:
        return json_error(401, "InvalidAccessException",
                          f"Account {account_id} is not subscribed to AWS Security Hub")
    req = json.loads(body or b"{}")
    if action == "DescribeHub":
        out = {"HubArn": f"arn:aws:securityhub:{region}:{account_id}:hub/default", "SubscribedAt": hub["since"]}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()
    if action == "BatchImportFindings":
        findings = req.get("Findings") or []
        if not 1 <= len(findings) <= 100:
            return json_error(400, "InvalidInputException", "Findings must contain between 1 and 100 findings")
        failed, ok = [], 0
        product = f"arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default"
        with LOCK:
            for f in findings:
                fid = f.get("Id", "")
                missing = [k for k in ASFF_REQUIRED if not f.get(k)]
                if missing:
                    failed.append({"Id": fid, "ErrorCode": "InvalidInput", "ErrorMessage": f"Finding is missing {', '.join(missing)}"})
                elif f["AwsAccountId"] != account_id:
                    failed.append({"Id": fid, "ErrorCode": "AccessDeniedException",
                                   "ErrorMessage": "AwsAccountId must be the account calling BatchImportFindings"})
                elif f["ProductArn"] != product:
                    failed.append({"Id": fid, "ErrorCode": "InvalidProductArn", "ErrorMessage": f"ProductArn must be {product}"})
                elif fid in reject:
                    failed.append({"Id": fid, "ErrorCode": "InvalidInput", "ErrorMessage": "Finding rejected"})
                else:
                    old = hub["findings"].get(fid)
                    new = dict(f)
                    if old is not None:
                        for k in ASFF_CUSTOMER_OWNED:
                            if k in old:
                                new[k] = old[k]
                            else:
                                new.pop(k, None)
                        was = old.get("Compliance", {}).get("Status")
                        now_ = new.get("Compliance", {}).get("Status")
                        if was == "PASSED" and now_ in ("FAILED", "WARNING", "NOT_AVAILABLE") and \
                                new.get("Workflow", {}).get("Status") in ("NOTIFIED", "RESOLVED"):
                            new["Workflow"] = {"Status": "NEW"}
                        new["CreatedAt"] = old.get("CreatedAt", new["CreatedAt"])
                    new.setdefault("Workflow", {"Status": "NEW"})
                    new.setdefault("RecordState", "ACTIVE")
                    hub["findings"][fid] = new
                    ok += 1
        out = {"FailedCount": len(failed), "SuccessCount": ok, "FailedFindings": failed}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()
    if action == "GetFindings":
        filters = req.get("Filters") or {}

        def keep(f):
            for field, conds in filters.items():
                value = f.get(field)
                if not isinstance(value, str):
                    continue
                for c in conds:
                    cmp, want = c.get("Comparison"), c.get("Value", "")
                    if cmp == "EQUALS" and value != want:
                        return False
                    if cmp == "PREFIX" and not value.startswith(want):
                        return False
            return True

        with LOCK:
            hits = [f for f in hub["findings"].values() if keep(f)]
        size = max(1, min(int(req.get("MaxResults") or 100), 100))
        offset = int(req.get("NextToken") or 0)
        out = {"Findings": hits[offset:offset + size]}
        if offset + size < len(hits):
            out["NextToken"] = str(offset + size)
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()
    if action == "BatchUpdateFindings":
        ids = req.get("FindingIdentifiers") or []
        if not 1 <= len(ids) <= 100:
            return json_error(400, "InvalidInputException", "FindingIdentifiers must contain between 1 and 100 identifiers")
        done, undone = [], []
        with LOCK:
            for ident in ids:
                f = hub["findings"].get(ident.get("Id"))
                if f is None or f.get("ProductArn") != ident.get("ProductArn"):
                    undone.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound",
                                   "ErrorMessage": "Finding Not Found"})
                    continue
                if "Workflow" in req:
                    f["Workflow"] = dict(req["Workflow"])
                done.append(ident)
        out = {"ProcessedFindings": done, "UnprocessedFindings": undone}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()
    return None


# Operation names of the REST services the launcher answers itself.
REST_ROUTES = {
    "securityhub": [
        ("POST", r"^/findings/import$", "BatchImportFindings"),
        ("POST", r"^/findings$", "GetFindings"),
        ("PATCH", r"^/findings/batchupdate$", "BatchUpdateFindings"),
        ("GET", r"^/accounts$", "DescribeHub"),
    ],
    "guardduty": [
        ("GET", r"^/detector$", "ListDetectors"),
        ("POST", r"^/detector/[^/]+/findings$", "ListFindings"),
        ("POST", r"^/detector/[^/]+/findings/get$", "GetFindings"),
    ],
}


def rest_action(service: str, environ) -> str | None:
    for method, pattern, action in REST_ROUTES.get(service, []):
        if environ.get("REQUEST_METHOD") == method and re.match(pattern, environ.get("PATH_INFO", "")):
            return action
    return None


def put_corpus_event(account_id: str, region: str | None, name: str, overrides: dict | None = None) -> dict:
    """What CloudTrail does with a management event: put it on the default bus
    (of `region`, else of the record's own awsRegion). `overrides` replaces
    top-level fields of the record, one level deep for objects (the demo's
    sign-in without MFA)."""
    from moto.events.models import events_backends

    record = json.loads((CORPUS / f"{name}.json").read_text())
    for k, v in (overrides or {}).items():
        if isinstance(v, dict) and isinstance(record.get(k), dict):
            record[k] = {**record[k], **v}
        else:
            record[k] = v
    region = region or record.get("awsRegion", "us-east-1")
    record["recipientAccountId"] = account_id
    record["eventTime"] = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    # CloudTrail puts a management event only on the default bus of the
    # Region where the call was made (EventBridge User Guide, "Events from AWS
    # services"): the record's awsRegion is that bus's.
    record["awsRegion"] = region
    if record.get("userIdentity", {}).get("type") == "Root":
        record["userIdentity"]["accountId"] = account_id
        record["userIdentity"]["arn"] = f"arn:aws:iam::{account_id}:root"
    record_history(account_id, region, record)
    source = "aws." + record.get("eventSource", "cloudtrail.amazonaws.com").removesuffix(".amazonaws.com")
    entries = events_backends[account_id][region].put_events(
        [{"Source": source, "DetailType": detail_type(record), "Detail": json.dumps(record), "EventBusName": "default"}]
    )
    return {"entries": entries, "log_groups": deliver_to_trail_logs(account_id, region, record)}


def deliver_to_trail_logs(account_id: str, region: str, record: dict) -> list:
    """What CloudTrail also does with the event: a logging trail that covers
    the region and has CloudWatchLogsLogGroupArn sends it to that log group
    (stream ACCOUNT_CloudTrail_REGION), where metric filters and `events` see it."""
    ct = boto_client("cloudtrail", account_id, region)
    delivered = []
    for t in ct.describe_trails()["trailList"]:
        arn = t.get("CloudWatchLogsLogGroupArn")
        if not arn or (t.get("HomeRegion") != region and not t.get("IsMultiRegionTrail")):
            continue
        if not boto_client("cloudtrail", account_id, t["HomeRegion"]).get_trail_status(Name=t["TrailARN"]).get("IsLogging"):
            continue
        parts = arn.split(":")
        group_region, group = parts[3], parts[6]
        logs = boto_client("logs", account_id, group_region)
        stream = f"{account_id}_CloudTrail_{region}"
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        except logs.exceptions.ResourceNotFoundException:
            continue
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(now().timestamp() * 1000), "message": json.dumps(record)}],
        )
        delivered.append(group)
    return delivered


def test_event_pattern(body: bytes):
    """events:TestEventPattern (EventBridge API Reference), which moto 5.2.5
    leaves unimplemented, answered with moto's own pattern matcher. The event
    must carry id, account, source, time, region, resources and detail-type."""
    from moto.events.models import EventPattern

    req = json.loads(body or b"{}")
    try:
        event = json.loads(req.get("Event", ""))
    except ValueError:
        return json_error(400, "ValidationException", "Event is not valid JSON")
    missing = [k for k in ("id", "account", "source", "time", "region", "resources", "detail-type") if k not in event]
    if missing:
        return json_error(400, "ValidationException", f"Event is missing the mandatory fields {missing}")
    try:
        pattern = EventPattern.load(req.get("EventPattern", ""))
    except Exception as err:  # moto raises its own InvalidEventPatternException
        return json_error(400, "InvalidEventPatternException", f"Event pattern is not valid: {err}")
    result = bool(pattern.matches_event(event))
    return 200, [("Content-Type", "application/x-amz-json-1.1")], json.dumps({"Result": result}).encode()


def _deliver_to_sns(self, original_event, transform_input=True):
    """moto evaluates rules and input transformers but does not deliver to SNS
    targets; EventBridge publishes the (transformed) event to the topic."""

    def is_sns(t):
        parts = t["Arn"].split(":")
        return len(parts) >= 6 and parts[2] == "sns"

    def is_bus(t):
        parts = t["Arn"].split(":")
        return len(parts) >= 6 and parts[2] == "events" and parts[5].startswith("event-bus/")

    # What EventBridge delivers (EventBridge User Guide, "Receiving read-only
    # management events from AWS services"): nothing to a DISABLED rule; a
    # read-only CloudTrail management event only to a rule in state
    # ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS. (moto delivers every
    # event to every rule, whatever its state.)
    if not str(self.state or "ENABLED").startswith("ENABLED"):
        return
    detail = original_event.get("detail") or {}
    if (original_event.get("detail-type") == "AWS API Call via CloudTrail" and isinstance(detail, dict)
            and detail.get("readOnly") is True and self.state != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"):
        return
    with LOCK:  # moto raises on target types it does not know: hand it the others only
        saved = self.targets
        self.targets = [t for t in saved if not is_sns(t) and not is_bus(t)]
        try:
            _orig_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = saved
    if not self.event_pattern.matches_event(original_event):
        return
    for target in [t for t in self.targets if is_bus(t)]:
        forward_to_bus(target["Arn"], original_event, (self.account_id, self.region_name), target.get("RoleArn"))
    # An EventBridge event's "time" is ISO 8601 (EventBridge User Guide,
    # "Amazon EventBridge events"); moto keeps a unix float internally.
    if isinstance(original_event.get("time"), (int, float)):
        original_event = dict(original_event)
        original_event["time"] = datetime.fromtimestamp(original_event["time"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for target in [t for t in self.targets if is_sns(t)]:
        parts = target["Arn"].split(":")
        it = target.get("InputTransformer") or {}
        if it:
            message = input_transformed(it, original_event)
        else:
            message = original_event
        text = message if isinstance(message, str) else json.dumps(message, default=str)
        try:
            sns_backend(parts[4], parts[3]).topics[target["Arn"]].publish(message=text)
        except KeyError:  # a deleted topic: EventBridge drops it too
            pass


def input_transformed(it: dict, event: dict):
    """EventBridge's input transformer: each variable is its JSON path's value
    in the event; a variable whose path the event lacks is not created and its
    placeholder is left out of the output (EventBridge User Guide, input
    transformation, "Common issues"). moto leaves the placeholder in."""
    from jsonpath_ng.ext import parse
    from moto.events.utils import EventTemplateParser

    text = it.get("InputTemplate") or ""
    for name, path in (it.get("InputPathsMap") or {}).items():
        found = parse(path).find(event)
        value = found[0].value if found else None
        text = text.replace(f"<{name}>", "" if value is None else EventTemplateParser._stringify(value))
    try:
        return json.loads(text)
    except ValueError:
        return text


def seed_log_event(logs, e: dict) -> None:
    """A corpus CloudTrail record delivered to a log group, as CloudTrail does."""
    record = json.loads((CORPUS / f"{e['corpus']}.json").read_text())
    when = now() - timedelta(minutes=int(e.get("minutes_ago", 30)))
    record["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    stream = e.get("stream", "111122223333_CloudTrail_us-east-1")
    try:
        logs.create_log_stream(logGroupName=e["log_group"], logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(
        logGroupName=e["log_group"],
        logStreamName=stream,
        logEvents=[{"timestamp": int(when.timestamp() * 1000), "message": json.dumps(record)}],
    )


def notify_alarm_actions(account_id: str, region: str, alarm_name: str, reason: str) -> None:
    """What CloudWatch does on a state change to ALARM: publish to the alarm's SNS actions."""
    from moto.cloudwatch.models import cloudwatch_backends

    alarm = cloudwatch_backends[account_id][region].alarms.get(alarm_name)
    if alarm is None or not alarm.actions_enabled:
        return
    sns = boto_client("sns", account_id, region)
    message = json.dumps(
        {
            "AlarmName": alarm_name,
            "AWSAccountId": account_id,
            "NewStateValue": "ALARM",
            "NewStateReason": reason,
            "Region": region,
            "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace},
        }
    )
    for arn in alarm.alarm_actions or []:
        if arn.split(":")[2] == "sns":
            try:
                sns.publish(TopicArn=arn, Subject=f'ALARM: "{alarm_name}" in {region}', Message=message)
            except Exception:  # a deleted topic: CloudWatch drops the notification too
                pass


ALARM_RESET_SECONDS = 3.0


def reset_alarm(account_id: str, region: str, name: str) -> None:
    """The next evaluation of a drilled alarm: no datapoint breaches, so OK."""
    from moto.cloudwatch.models import cloudwatch_backends

    alarm = cloudwatch_backends[account_id][region].alarms.get(name)
    if alarm is not None and alarm.state_value == "ALARM":
        alarm.update_state("Threshold Crossed: no datapoints were breaching at the next evaluation", "{}", "OK")


def resources(account_id: str, region: str) -> dict:
    """What exists in an account, for tests that check nothing is orphaned or duplicated."""
    sns = boto_client("sns", account_id, region)
    logs = boto_client("logs", account_id, region)
    cw = boto_client("cloudwatch", account_id, region)
    ct = boto_client("cloudtrail", account_id, region)
    topics = []
    for t in sns.list_topics()["Topics"]:
        arn = t["TopicArn"]
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        topics.append(
            {
                "arn": arn,
                "tags": {x["Key"]: x["Value"] for x in tags},
                "policy": json.loads(attrs.get("Policy", "{}")),
                "kms_key": attrs.get("KmsMasterKeyId"),
                "subscriptions": [{"endpoint": x["Endpoint"], "arn": x["SubscriptionArn"]} for x in subs],
                "notifications": [
                    {"subject": n[2], "message": n[1]}
                    for n in sns_backend(account_id, region).topics[arn].sent_notifications
                ],
            }
        )
    groups = {}
    for g in logs.describe_log_groups()["logGroups"]:
        name = g["logGroupName"]
        groups[name] = [f["filterName"] for f in logs.describe_metric_filters(logGroupName=name)["metricFilters"]]
    alarms = []
    for a in cw.describe_alarms()["MetricAlarms"]:
        tags = cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"]
        alarms.append(
            {
                "name": a["AlarmName"],
                "actions": a.get("AlarmActions", []),
                "state": a.get("StateValue"),
                "tags": {x["Key"]: x["Value"] for x in tags},
            }
        )
    trails = [t["Name"] for t in ct.describe_trails()["trailList"]]
    ev = boto_client("events", account_id, region)
    rules = {r["Name"]: len(ev.list_targets_by_rule(Rule=r["Name"])["Targets"]) for r in ev.list_rules()["Rules"]}
    s3 = boto_client("s3", account_id, region)
    buckets = {}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        try:
            policy = bool(s3.get_bucket_policy(Bucket=name).get("Policy"))
        except Exception:
            policy = False
        buckets[name] = {"policy": policy}
    iam = boto_client("iam", account_id)
    roles = {r["RoleName"]: iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"] for r in iam.list_roles()["Roles"]}
    role_tags = {name: {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]} for name in roles}
    return {"topics": topics, "log_groups": groups, "alarms": alarms, "trails": trails,
            "rules": rules, "buckets": buckets, "roles": roles, "role_tags": role_tags}


def sns_backend(account_id: str, region: str):
    from moto.sns.models import sns_backends

    return sns_backends[account_id][region]


ROOT_KEY_ACTIONS = ("ListAccessKeys", "GetAccessKeyLastUsed", "UpdateAccessKey", "DeleteAccessKey")


def root_key_id(account_id: str, i: int) -> str:
    return f"AKIAROOT{account_id}{i}"


def root_key_call(account_id: str, action: str, form: dict):
    """Root's own access keys, as a root caller sees them through IAM."""
    with LOCK:
        keys = ROOT.setdefault(account_id, {}).setdefault("access_keys", [])
        ids = [root_key_id(account_id, k.setdefault("n", i)) for i, k in enumerate(keys)]
        if action == "ListAccessKeys":
            members = "".join(
                f"<member><AccessKeyId>{kid}</AccessKeyId><Status>{'Active' if k.get('active', True) else 'Inactive'}</Status>"
                f"<CreateDate>{report_time(k.get('last_rotated', '-400d')).replace('+00:00', 'Z')}</CreateDate></member>"
                for kid, k in zip(ids, keys)
            )
            inner = f"<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            return 200, [("Content-Type", "text/xml")], query_xml("iam", action, inner)
        kid = form.get("AccessKeyId", [""])[0]
        if kid not in ids:
            return query_error("iam", 404, "NoSuchEntity", f"The Access Key with id {kid} cannot be found.")
        k = keys[ids.index(kid)]
        if action == "GetAccessKeyLastUsed":
            used = k.get("last_used_date")
            last = (
                f"<LastUsedDate>{report_time(used).replace('+00:00', 'Z')}</LastUsedDate>"
                f"<ServiceName>{k.get('last_used_service', 'iam')}</ServiceName><Region>{k.get('last_used_region', 'us-east-1')}</Region>"
                if used
                else "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
            )
            inner = f"<UserName>{account_id}</UserName><AccessKeyLastUsed>{last}</AccessKeyLastUsed>"
            return 200, [("Content-Type", "text/xml")], query_xml("iam", action, inner)
        if action == "UpdateAccessKey":
            k["active"] = form.get("Status", ["Active"])[0] == "Active"
        else:
            keys.remove(k)
        return 200, [("Content-Type", "text/xml")], query_xml("iam", action, "")


def confirm(account_id: str, endpoint: str) -> int:
    """What the recipient's click on the confirmation link does."""
    with LOCK:
        arns = [a for a, (acct, ep) in PENDING.items() if acct == account_id and ep == endpoint]
        for a in arns:
            del PENDING[a]
    return len(arns)



# ------------------------------------------------------------- organizations


def org_backend(management: str):
    from moto.organizations.models import organizations_backends

    return organizations_backends[management]["aws"]


def seed_organization(spec: dict) -> dict:
    """A management account with an organization and members, each member
    with its own root state. Members are added to moto's Organizations
    backend directly (moto's CreateAccount would build a full IAM backend per
    member, which a thousand-member benchmark cannot afford)."""
    from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess

    if "iam.amazonaws.com" not in FakeServiceAccess.TRUSTED_SERVICES:
        # Trusted access for IAM is what centralized root access needs, and IAM
        # supports a delegated administrator for it (IAM User Guide,
        # "Centralize root access for member accounts").
        FakeServiceAccess.TRUSTED_SERVICES.append("iam.amazonaws.com")
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append("iam.amazonaws.com")
    mgmt_scenario = dict(spec.get("management", {}))
    mgmt_scenario["organization"] = {"management": True}
    creds = seed(mgmt_scenario)
    mgmt = creds["account_id"]
    backend = org_backend(mgmt)
    backend.create_organization(region="us-east-1", FeatureSet="ALL")
    org = backend.org
    with LOCK:
        ORG[mgmt] = {"management": True, "id": org.id, "moto": True}
        ORG_FEATURES[org.id] = set(spec.get("features", []))
    for p in spec.get("trusted_access", []):
        backend.enable_aws_service_access(ServicePrincipal=p)
    members = list(spec.get("members", []))
    members += [{"name": f"member-{i:04d}"} for i in range(int(spec.get("member_count", 0)))]
    ids, member_creds = [], []
    for i, m in enumerate(members):
        acct_id, member_creds_i = add_member(mgmt, m, i)
        member_creds.append(member_creds_i)
        ids.append(acct_id)
    if spec.get("quotas") is not None:
        set_quotas({"account": mgmt, **spec["quotas"]})
    return {"organization_id": org.id, "management": creds, "members": ids, "member_credentials": member_creds}


def add_member(mgmt: str, m: dict, i: int):
    """One member account of `mgmt`'s organization, under the root, with its
    own root state; (account id, its credentials)."""
    from moto.organizations.models import FakeAccount, organizations_backends

    backend = org_backend(mgmt)
    org = backend.org
    base = datetime(2020, 1, 1)  # moto keeps naive UTC times
    acct_id = str(m.get("account_id") or f"{uuid.uuid4().int % 10**12:012d}")
    a = FakeAccount.__new__(FakeAccount)
    a.type, a.region, a.organization_id = "ACCOUNT", org.region, org.id
    a.master_account_id = org.master_account_id
    a.create_account_status_id = f"car-{uuid.uuid4().hex[:8]}"
    a.id, a.name = acct_id, m.get("name", f"member-{i}")
    a.email = m.get("email", f"root+{acct_id}@example.com")
    a.create_time = base + timedelta(seconds=i + 1)  # moto pages ListAccounts by this
    a.status = a.state = m.get("status", "ACTIVE")
    a.joined_method, a.parent_id = "CREATED", org.root_id
    a.attached_policies, a.tags = [], {}
    backend.accounts.append(a)
    organizations_backends.master_accounts[acct_id] = (mgmt, "aws")
    root = dict(m.get("root", {"password_present": False}))
    scenario = {"account_id": acct_id, "root": root, "organization": {"management": False}}
    for k in ("contact_information", "alternate_contacts", "roles"):
        if k in m:
            scenario[k] = m[k]
    creds = seed(scenario)
    seed_member_resources(acct_id, m)
    with LOCK:
        MEMBER_OF[acct_id] = mgmt
        if m.get("assume_root") in ("deny", "deny-delete"):
            ASSUME_ROOT_DENIED.add(acct_id if m["assume_root"] == "deny" else f"{acct_id}:delete")
    return acct_id, creds


def seed_member_resources(acct_id: str, m: dict) -> None:
    """A member's buckets and queues, each with the policy the spec gives
    (e.g. one that denies every principal: the self-lockout the unlock tasks
    are for)."""
    for b in m.get("buckets", []):
        region = b.get("region", "us-east-1")
        s3 = boto_client("s3", acct_id, region)
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=b["name"], **kwargs)
        if b.get("policy") is not None:
            s3.put_bucket_policy(Bucket=b["name"], Policy=json.dumps(b["policy"]))
    for q in m.get("queues", []):
        sqs = boto_client("sqs", acct_id, q.get("region", "us-east-1"))
        attrs = {"Policy": json.dumps(q["policy"])} if q.get("policy") is not None else {}
        sqs.create_queue(QueueName=q["name"], Attributes=attrs)


def member_policies(acct_id: str) -> dict:
    """Every bucket and queue of an account with its policy (or null)."""
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends

    buckets = {
        name: (b.policy.decode() if b.policy else None)
        for name, b in s3_backends[acct_id]["aws"].buckets.items()
    }
    queues = {}
    for region, backend in sqs_backends[acct_id].items():
        for name, q in backend.queues.items():
            queues[name] = {"region": region, "policy": q.policy or None}
    return {"buckets": buckets, "queues": queues}


def join_organization(req: dict) -> dict:
    """An account joins the organization after the fact (created or invited):
    it lands under the root, and service-managed StackSets with automatic
    deployment deploy to it at once."""
    mgmt = req["management"]
    acct_id, creds = add_member(mgmt, req.get("member", {}), len(org_backend(mgmt).accounts))
    auto_deploy(acct_id)
    return creds


def _stackset_targets(stackset) -> set:
    return getattr(stackset, "auto_targets", set())


def service_managed_stacksets(org_backend_):
    """Every service-managed StackSet whose organization is `org_backend_`'s,
    with automatic deployment on, wherever it was created (management account
    or delegated administrator), in every region."""
    from moto.cloudformation.models import cloudformation_backends

    for acct in list(cloudformation_backends.keys()):
        for region in list(cloudformation_backends[acct].keys()):
            for ss in list(cloudformation_backends[acct][region].stacksets.values()):
                if (
                    ss.permission_model == "SERVICE_MANAGED"
                    and ss.status == "ACTIVE"
                    and getattr(ss, "auto_deployment", {}).get("Enabled")
                    and ss.instances.org_backend.org is not None
                    and org_backend_.org is not None
                    and ss.instances.org_backend.org.id == org_backend_.org.id
                ):
                    yield ss


def under_targets(org_backend_, parent_id: str, targets: set) -> bool:
    """Whether `parent_id` (an account's parent) is a target OU or root, or sits below one."""
    seen = set()
    while parent_id and parent_id not in seen:
        if parent_id in targets:
            return True
        seen.add(parent_id)
        ou = next((o for o in org_backend_.ou if o.id == parent_id), None)
        parent_id = ou.parent_id if ou is not None else None
    return False


def auto_deploy(account_id: str) -> None:
    """Automatic deployment (CloudFormation API Reference, AutoDeployment:
    "StackSets automatically deploys additional stack instances to AWS
    Organizations accounts that are added to a target organization or
    organizational unit (OU) in the specified Regions. If an account is removed
    from a target organization or OU, StackSets deletes stack instances from
    the account"): instances follow the account in and out of the targets."""
    backend, mgmt = org_of(account_id)
    if backend is None or mgmt == account_id:
        return
    account = next((a for a in backend.accounts if a.id == account_id), None)
    for ss in service_managed_stacksets(backend):
        regions = sorted(getattr(ss, "auto_regions", set()))
        inside = account is not None and under_targets(backend, account.parent_id, _stackset_targets(ss))
        have = [i for i in ss.instances.stack_instances if i.account_id == account_id]
        if inside and regions:
            ss.instances.create_instances([account_id], regions, ss.instances.parameters or {}, {}, "SERVICE_MANAGED")
            ss._create_operation(
                operation_id=str(uuid.uuid4()), action="CREATE", status="SUCCEEDED",
                accounts=[account_id], regions=regions,
            )
        elif not inside and have:
            retain = getattr(ss, "auto_deployment", {}).get("RetainStacksOnAccountRemoval")
            for inst in have:
                if not retain:
                    inst.delete()
                ss.instances.stack_instances.remove(inst)


def _record_targets(original):
    """Keep the OUs (or root) and regions a service-managed StackSet was
    deployed to: automatic deployment follows them."""

    def wrapped(self, accounts, regions, deployment_targets, parameters):
        out = original(self, accounts, regions, deployment_targets, parameters)
        if self.permission_model == "SERVICE_MANAGED":
            ous = set((deployment_targets or {}).get("OrganizationalUnitIds") or [])
            self.auto_targets = _stackset_targets(self) | ous
            self.auto_regions = getattr(self, "auto_regions", set()) | set(regions or [])
        return out

    return wrapped


def _follows_membership(original):
    """Organizations calls that add, move or remove an account trigger
    automatic deployment, as in AWS."""

    def wrapped(self, **kwargs):
        account_id = kwargs.get("AccountId")
        out = original(self, **kwargs)
        if account_id is None and isinstance(out, dict):  # CreateAccount
            account_id = (out.get("CreateAccountStatus") or {}).get("AccountId")
        if account_id:
            if original.__name__ == "remove_account_from_organization":
                undeploy_removed(self, account_id)
            else:
                with LOCK:
                    MEMBER_OF.setdefault(account_id, self.org.master_account_id if self.org else None)
                auto_deploy(account_id)
        return out

    return wrapped


def undeploy_removed(org_backend_, account_id: str) -> None:
    """An account that left the organization: its automatic instances go."""
    for ss in service_managed_stacksets(org_backend_):
        retain = getattr(ss, "auto_deployment", {}).get("RetainStacksOnAccountRemoval")
        for inst in [i for i in ss.instances.stack_instances if i.account_id == account_id]:
            if not retain:
                inst.delete()
            ss.instances.stack_instances.remove(inst)


def org_of(account_id: str):
    """(organization, management account id) for any account of a seeded organization."""
    mgmt = MEMBER_OF.get(account_id, account_id)
    o = ORG.get(mgmt)
    if not o or not o.get("moto"):
        return None, None
    return org_backend(mgmt), mgmt


def trusted(mgmt: str, principal: str) -> bool:
    return any(x["ServicePrincipal"] == principal for x in org_backend(mgmt).services)


def xml_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def root_mfa_devices(account_id: str, st: dict) -> list:
    if "mfa_devices" not in st:
        if st.get("virtual_mfa"):
            st["mfa_devices"] = [f"arn:aws:iam::{account_id}:mfa/root-account-mfa-device"]
        elif st.get("mfa_enabled"):
            st["mfa_devices"] = [f"GAHT{account_id[:8]}"]
        else:
            st["mfa_devices"] = []
    return st["mfa_devices"]


def root_cert_id(account_id: str, i: int) -> str:
    return f"ROOTCERT{account_id}{i}"


def assume_root(caller: str, form: dict):
    """sts:AssumeRoot (STS API Reference): only from the management account or
    the IAM delegated administrator, never as root, for an ACTIVE member, with
    a root-task policy and at most 900 seconds."""
    target = form.get("TargetPrincipal", [""])[0]
    policy = form.get("TaskPolicyArn.arn", [""])[0]
    duration = int(form.get("DurationSeconds", ["900"])[0] or 900)
    member = target.split(":")[4] if target.startswith("arn:") else target
    task = policy.rsplit("/", 1)[-1]
    if not policy.startswith("arn:aws:iam::aws:policy/root-task/") or task not in TASK_ACTIONS:
        return query_error("sts", 400, "ValidationError", f"TaskPolicyArn {policy} is not a root-task policy")
    if duration > 900 or duration < 0:
        return query_error("sts", 400, "ValidationError", "DurationSeconds must be at most 900")
    backend, mgmt = org_of(caller)
    if backend is None or mgmt != caller:
        return query_error("sts", 403, "AccessDenied", f"account {caller} is not the management account or delegated administrator for IAM")
    if MEMBER_OF.get(member) != mgmt:
        return query_error("sts", 403, "AccessDenied", f"{member} is not a member account of the organization")
    acct = next((a for a in backend.accounts if a.id == member), None)
    if acct is None or acct.state != "ACTIVE":
        return query_error("sts", 403, "AccessDenied", f"member account {member} is not ACTIVE")
    feature = TASK_FEATURE[task]
    if feature not in ORG_FEATURES.get(backend.org.id, set()):
        return query_error("sts", 403, "AccessDenied", f"centralized root access ({feature}) is not enabled for the organization")
    if member in ASSUME_ROOT_DENIED or (
        task == "IAMDeleteRootUserCredentials" and f"{member}:delete" in ASSUME_ROOT_DENIED
    ):
        return query_error(
            "sts", 403, "AccessDenied",
            f"User: arn:aws:iam::{caller}:user/auditor is not authorized to perform: sts:AssumeRoot on resource: {member} with an explicit deny in a service control policy",
        )
    key = "ASIA" + uuid.uuid4().hex[:16].upper()
    with LOCK:
        KEY_TO_ACCOUNT[key] = member
        ROOT_SESSIONS[key] = task
        STATS.setdefault(member, {})
        DENY.setdefault(member, set())
    inner = (
        f"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>root-session-secret</SecretAccessKey>"
        f"<SessionToken>root-session-token-{uuid.uuid4().hex}</SessionToken>"
        f"<Expiration>{xml_time(now() + timedelta(seconds=duration or 900))}</Expiration></Credentials>"
        f"<SourceIdentity></SourceIdentity>"
    )
    return 200, [("Content-Type", "text/xml")], query_xml("sts", "AssumeRoot", inner)


def root_session_call(account_id: str, task: str, action: str, form: dict):
    """IAM calls without a user name in a root session act on the member's root user."""
    if f"iam:{action}" not in TASK_ACTIONS[task]:
        return query_error(
            "iam", 403, "AccessDenied",
            f"User: arn:aws:iam::{account_id}:root is not authorized to perform: iam:{action} "
            f"because no session policy allows the iam:{action} action",
        )
    if form.get("UserName"):
        return None
    ok = lambda inner: (200, [("Content-Type", "text/xml")], query_xml("iam", action, inner))  # noqa: E731
    with LOCK:
        st = ROOT.setdefault(account_id, {"password_present": False})
        if action in ROOT_KEY_ACTIONS:
            return root_key_call(account_id, action, form)
        if action == "GetAccountSummary":
            return None
        if action == "GetUser":
            used = st.get("password_last_used")
            last = f"<PasswordLastUsed>{report_time(used).replace('+00:00', 'Z')}</PasswordLastUsed>" if used else ""
            return ok(
                f"<User><Path>/</Path><UserName>{account_id}</UserName><UserId>{account_id}</UserId>"
                f"<Arn>arn:aws:iam::{account_id}:root</Arn><CreateDate>{xml_time(now() - timedelta(days=900))}</CreateDate>{last}</User>"
            )
        if action == "GetLoginProfile":
            if not st.get("password_present", True):
                return query_error("iam", 404, "NoSuchEntity", "Login Profile for the root user cannot be found.")
            return ok(
                f"<LoginProfile><UserName>{account_id}</UserName><CreateDate>{xml_time(now() - timedelta(days=900))}</CreateDate>"
                f"<PasswordResetRequired>false</PasswordResetRequired></LoginProfile>"
            )
        if action == "CreateLoginProfile":
            # IAM API Reference, CreateLoginProfile: in an AssumeRoot session
            # the Password parameter must be omitted; root gets a login
            # profile without a password, which "Forgot password" then sets.
            if form.get("Password"):
                return query_error("iam", 400, "ValidationError", "Password must be omitted when the request is made with an AssumeRoot session")
            if st.get("password_present", True):
                return query_error("iam", 409, "EntityAlreadyExists", "Login Profile for the root user already exists.")
            st["password_present"] = True
            st["password_recoverable"] = True
            return ok(
                f"<LoginProfile><UserName>{account_id}</UserName><CreateDate>{xml_time(now())}</CreateDate>"
                f"<PasswordResetRequired>false</PasswordResetRequired></LoginProfile>"
            )
        if action == "DeleteLoginProfile":
            if not st.get("password_present", True):
                return query_error("iam", 404, "NoSuchEntity", "Login Profile for the root user cannot be found.")
            st["password_present"] = False
            st.pop("password_last_used", None)
            return ok("")
        if action == "ListMFADevices":
            members = "".join(
                f"<member><UserName>{account_id}</UserName><SerialNumber>{d}</SerialNumber>"
                f"<EnableDate>{xml_time(now() - timedelta(days=100))}</EnableDate></member>"
                for d in root_mfa_devices(account_id, st)
            )
            return ok(f"<MFADevices>{members}</MFADevices><IsTruncated>false</IsTruncated>")
        if action == "DeactivateMFADevice":
            serial = form.get("SerialNumber", [""])[0]
            devices = root_mfa_devices(account_id, st)
            if serial not in devices:
                return query_error("iam", 404, "NoSuchEntity", f"MFA device {serial} is not assigned to the root user.")
            devices.remove(serial)
            if not devices:
                st["mfa_enabled"] = False
                st["report_mfa_active"] = False
            backend = iam_models.iam_backends[account_id]["global"]
            d = backend.virtual_mfa_devices.get(serial)
            if d is not None:
                d.user, d.enable_date = None, None
            return ok("")
        if action == "DeleteVirtualMFADevice":
            serial = form.get("SerialNumber", [""])[0]
            backend = iam_models.iam_backends[account_id]["global"]
            if serial in root_mfa_devices(account_id, st):
                return query_error("iam", 409, "DeleteConflict", "The MFA device is still assigned; deactivate it first.")
            if backend.virtual_mfa_devices.pop(serial, None) is None:
                return query_error("iam", 404, "NoSuchEntity", f"VirtualMFADevice with serial {serial} doesn't exist.")
            return ok("")
        certs = st.setdefault("signing_certs", [])
        ids = [root_cert_id(account_id, c.setdefault("n", i)) for i, c in enumerate(certs)]
        if action == "ListSigningCertificates":
            members = "".join(
                f"<member><UserName>{account_id}</UserName><CertificateId>{cid}</CertificateId>"
                f"<CertificateBody>-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----</CertificateBody>"
                f"<Status>{'Active' if c.get('active', True) else 'Inactive'}</Status>"
                f"<UploadDate>{xml_time(now() - timedelta(days=300))}</UploadDate></member>"
                for cid, c in zip(ids, certs)
            )
            return ok(f"<Certificates>{members}</Certificates><IsTruncated>false</IsTruncated>")
        if action == "DeleteSigningCertificate":
            cid = form.get("CertificateId", [""])[0]
            if cid not in ids:
                return query_error("iam", 404, "NoSuchEntity", f"The Certificate with id {cid} cannot be found.")
            certs.pop(ids.index(cid))
            return ok("")
    return None


def org_features_call(caller: str, action: str):
    """iam:ListOrganizationsFeatures and iam:EnableOrganizationsRoot* (IAM API
    Reference): management account or delegated administrator only, and only
    with trusted access for IAM in Organizations."""
    backend, mgmt = org_of(caller)
    if backend is None:
        return None
    if mgmt != caller:
        return query_error(
            "iam", 400, "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account is not the management account or delegated administrator.",
        )
    if not trusted(mgmt, "iam.amazonaws.com"):
        return query_error(
            "iam", 400, "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access for IAM is not enabled in AWS Organizations.",
        )
    feats = ORG_FEATURES.setdefault(backend.org.id, set())
    with LOCK:
        if action == "EnableOrganizationsRootCredentialsManagement":
            feats.add("RootCredentialsManagement")
        elif action == "EnableOrganizationsRootSessions":
            feats.add("RootSessions")
    listed = "".join(f"<member>{f}</member>" for f in sorted(feats))
    inner = f"<OrganizationId>{backend.org.id}</OrganizationId><EnabledFeatures>{listed}</EnabledFeatures>"
    return 200, [("Content-Type", "text/xml")], query_xml("iam", action, inner)


def account_api_for_member(caller: str, action: str, req: dict):
    """The Account API with AccountId (Account Management Reference): only from
    the management account (or the delegated administrator), for its own
    members, with trusted access for account.amazonaws.com; the management
    account may not pass its own id."""
    target = req.get("AccountId")
    if not target:
        return None
    backend, mgmt = org_of(caller)
    if backend is None or mgmt != caller or MEMBER_OF.get(target) != mgmt:
        return json_error(403, "AccessDeniedException", f"account {caller} cannot act on account {target}")
    if not trusted(mgmt, "account.amazonaws.com"):
        return json_error(
            403, "AccessDeniedException",
            "trusted access for account.amazonaws.com is not enabled in AWS Organizations",
        )
    if action == "GetContactInformation":
        info = CONTACT_INFO.get(target)
        if not info:
            return json_error(404, "ResourceNotFoundException", "No contact information found for this account.")
        return 200, [("Content-Type", "application/json")], json.dumps({"ContactInformation": info}).encode()
    if action == "GetPrimaryEmail":
        acct = next((a for a in backend.accounts if a.id == target), None)
        return 200, [("Content-Type", "application/json")], json.dumps({"PrimaryEmail": acct.email}).encode()
    return None  # GetAlternateContact: moto honours AccountId itself


ORG_MEMBER_REFUSED = {
    "ListAccounts", "ListAWSServiceAccessForOrganization", "ListDelegatedAdministrators",
    "EnableAWSServiceAccess", "ListRoots", "ListOrganizationalUnitsForParent",
}


# ---------------------------------------------------------------- middleware

QUERY_NS = {
    "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
}


def query_xml(service: str, action: str, inner: str) -> bytes:
    ns = QUERY_NS.get(service, "")
    rid = uuid.uuid4()
    return (
        f'<{action}Response xmlns="{ns}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()


def query_error(service: str, status: int, code: str, message: str):
    ns = QUERY_NS.get(service, "")
    body = (
        f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml")], body


BUCKET_POLICY_ACTIONS = ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy")


def s3_error(status: int, code: str, message: str):
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return status, [("Content-Type", "application/xml")], body


def bucket_owner(bucket: str) -> str | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    return owner[1] if owner else None


def list_buckets(account_id: str):
    """ListBuckets with each bucket's BucketRegion (S3 API Reference,
    ListBuckets; moto leaves the region out)."""
    from moto.s3.models import s3_backends

    rows = []
    backend = s3_backends[account_id]["aws"]
    for name, b in sorted(backend.buckets.items()):
        rows.append(
            f"<Bucket><Name>{xml_escape(name)}</Name><CreationDate>{b.creation_date_ISO8601}</CreationDate>"
            f"<BucketRegion>{b.region_name}</BucketRegion></Bucket>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Owner><ID>{account_id}</ID></Owner><Buckets>{''.join(rows)}</Buckets></ListAllMyBucketsResult>"
    ).encode()
    return 200, [("Content-Type", "application/xml")], body


def denies_everyone(policy: str | None, action: str) -> bool:
    """Whether a bucket policy has an unconditional Deny for every principal
    that covers s3:<action> (the classic self-lockout)."""
    if not policy:
        return False
    try:
        doc = json.loads(policy)
    except ValueError:
        return False
    stmts = doc.get("Statement", [])
    for st in stmts if isinstance(stmts, list) else [stmts]:
        principal = st.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        # A conditional Deny (e.g. aws:SecureTransport false) is not modelled:
        # only an unconditional one locks everyone out.
        if st.get("Effect") == "Deny" and everyone and not st.get("Condition") and any(a in ("*", "s3:*", f"s3:{action}") for a in actions):
            return True
    return False


def bucket_policy_lockout(account_id: str, action: str, environ):
    """A bucket policy that denies every principal locks out the account's own
    IAM principals too; only the account's root (here: a root session) may
    still read, replace or delete it (S3 API Reference, DeleteBucketPolicy)."""
    from moto.s3.models import s3_backends

    bucket = environ.get("PATH_INFO", "").strip("/").split("/")[0]
    if bucket_owner(bucket) != account_id:
        return None
    b = s3_backends[account_id]["aws"].buckets.get(bucket)
    policy = b.policy.decode() if b is not None and isinstance(b.policy, bytes) else (b.policy if b is not None else None)
    if denies_everyone(policy, action):
        return s3_error(403, "AccessDenied", "Access Denied")
    return None


def root_s3_call(account_id: str, task: str, action: str, environ):
    """An S3 call in a root session: only the task policy's actions, on the
    member's own buckets (another account's bucket answers 405, as S3 does for
    an identity outside the bucket owner's account)."""
    if f"s3:{action}" not in TASK_ACTIONS[task]:
        return s3_error(403, "AccessDenied", f"a {task} session may not call s3:{action}")
    if action == "ListAllMyBuckets":
        return list_buckets(account_id)
    bucket = environ.get("PATH_INFO", "").strip("/").split("/")[0]
    owner = bucket_owner(bucket)
    if owner is not None and owner != account_id:
        return s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    return None


def queue_account(url: str) -> str:
    parts = [p for p in urlparse(url).path.split("/") if p]
    return parts[0] if len(parts) == 2 else ""


def root_sqs_call(account_id: str, task: str, action: str, body: bytes):
    """An SQS call in a root session: only the task policy's actions, on the
    member's own queues."""
    if f"sqs:{action}" not in TASK_ACTIONS[task]:
        return json_error(403, "AccessDenied", f"a {task} session may not call sqs:{action}")
    req = json.loads(body or b"{}")
    owner = req.get("QueueOwnerAWSAccountId") or (queue_account(req["QueueUrl"]) if req.get("QueueUrl") else account_id)
    if owner != account_id:
        return json_error(403, "AccessDenied", f"User: arn:aws:iam::{account_id}:root is not authorized to perform: sqs:{action} on a queue of account {owner}")
    return None


def s3_action(environ) -> str:
    """The IAM action name of an S3 REST call (enough for bucket set-up)."""
    method = environ.get("REQUEST_METHOD", "GET")
    keys = set(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    for sub, verb in (("policy", "BucketPolicy"), ("publicAccessBlock", "BucketPublicAccessBlock"), ("tagging", "BucketTagging")):
        if sub in keys:
            return {"PUT": f"Put{verb}", "GET": f"Get{verb}", "DELETE": f"Delete{verb}"}.get(method, verb)
    if "versions" in keys and method == "GET":
        return "ListBucketVersions"
    if "delete" in keys and method == "POST":
        return "DeleteObject"  # DeleteObjects is authorized as s3:DeleteObject
    segments = [x for x in environ.get("PATH_INFO", "").split("/") if x]
    if not segments:
        return "ListAllMyBuckets"
    if len(segments) == 1:
        return {"PUT": "CreateBucket", "HEAD": "ListBucket", "GET": "ListBucket", "DELETE": "DeleteBucket"}.get(method, method)
    return {"PUT": "PutObject", "GET": "GetObject", "HEAD": "GetObject", "DELETE": "DeleteObject"}.get(method, method)


def jsonable(v):
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, datetime):
        return v.timestamp()
    if isinstance(v, cbor2.CBORTag):
        return jsonable(v.value)
    return v


def cbor_times(v, key: str = ""):
    """moto's JSON gives timestamps as epoch numbers or ISO text; RPCv2 CBOR
    wants tag 1 (epoch seconds)."""
    if isinstance(v, dict):
        return {k: cbor_times(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [cbor_times(x) for x in v]
    if key.endswith("Timestamp") or key in ("Timestamp", "StartDate", "EndDate"):
        if isinstance(v, (int, float)):
            return cbor2.CBORTag(1, float(v))
        if isinstance(v, str):
            try:
                return cbor2.CBORTag(1, datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())
            except ValueError:
                return v
    return v


def cbor_error(code: str, message: str) -> bytes:
    return cbor2.dumps({"__type": code, "message": message})


def json_error(status: int, code: str, message: str):
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], body


STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
               500: "Internal Server Error"}


class Launcher:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        if path.startswith("/_rootguard/"):
            return self.control(environ, path, body, start_response)

        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/", auth)
        access_key, service = (m.group(1), m.group(3)) if m else ("", "")
        region = m.group(2) if m else "us-east-1"
        caller = KEY_TO_ACCOUNT.get(access_key)  # a seeded caller: counted and subject to deny
        if caller:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = caller
        account_id = caller or environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        action = s3_action(environ) if service == "s3" else (rest_action(service, environ) or self.action_of(environ, path, body))
        if service == "monitoring" and "/operation/" in path:
            return self.rpcv2_cbor(environ, action, body, start_response, account_id, caller, region)
        if service == "sns" and account_id and action in ("Subscribe", "ListSubscriptionsByTopic", "ListSubscriptions"):
            return self.sns_pending(environ, action, body, start_response, account_id, caller)
        account_id = caller

        if account_id:
            with LOCK:
                stats = STATS.setdefault(account_id, {})
                stats[f"{service}:{action}"] = stats.get(f"{service}:{action}", 0) + 1
            if over_quota(account_id, service, action, region):
                status, headers, payload = throttle_answer(service)
                headers = headers + [("Content-Length", str(len(payload)))]
                start_response(f"{status} {STATUS_TEXT.get(status, '')}", headers)
                return [payload]
            answer = self.extension(service, action, account_id, access_key, body, environ)
            if answer is not None:
                status, headers, payload = answer
                headers = headers + [("Content-Length", str(len(payload)))]
                start_response(f"{status} {STATUS_TEXT.get(status, '')}", headers)
                return [payload]
        return self.app(environ, start_response)

    @staticmethod
    def action_of(environ, path: str, body: bytes) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.rsplit(".", 1)[-1]
        m = re.search(r"/operation/([A-Za-z]+)$", path)
        if m:
            return m.group(1)
        ctype = environ.get("CONTENT_TYPE", "")
        if "x-www-form-urlencoded" in ctype:
            form = parse_qs(body.decode(errors="replace"))
            if "Action" in form:
                return form["Action"][0]
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in qs:
            return qs["Action"][0]
        seg = path.strip("/").split("/")[0]
        return seg[:1].upper() + seg[1:] if seg else ""

    def extension(self, service, action, account_id, access_key, body, environ):
        with LOCK:
            fault = FAULTS.get(account_id, {}).get(f"{service}:{action}")
            if fault and fault["count"] > 0:
                fault["count"] -= 1
            else:
                fault = None
        if fault:
            msg = "Rate exceeded" if fault["code"] == "Throttling" else "Service unavailable, try again"
            if service in QUERY_NS:
                return query_error(service, fault["status"], fault["code"], msg)
            return json_error(fault["status"], fault["code"], msg)
        if f"{service}:{action}" in DENY.get(account_id, set()) or not iam_allows(account_id, service, action):
            msg = (
                f"User: arn:aws:iam::{account_id}:user/auditor is not authorized to perform: "
                f"{service}:{action} because no identity-based policy allows the {service}:{action} action"
            )
            if service in QUERY_NS:
                return query_error(service, 403, "AccessDenied", msg)
            return json_error(403, "AccessDeniedException", msg)

        if service == "s3" and environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER"):
            # ExpectedBucketOwner (S3 User Guide, "Verifying bucket ownership"):
            # a bucket owned by another account answers 403 AccessDenied.
            from moto.s3.models import s3_backends

            bucket = environ.get("PATH_INFO", "").strip("/").split("/")[0]
            owner = s3_backends.bucket_accounts.get(bucket)
            if owner and owner[1] != environ["HTTP_X_AMZ_EXPECTED_BUCKET_OWNER"]:
                body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                return 403, [("Content-Type", "application/xml")], body

        if access_key in ROOT_SESSIONS:
            task = ROOT_SESSIONS[access_key]
            if service == "s3":
                return root_s3_call(account_id, task, action, environ)
            if service == "sqs":
                return root_sqs_call(account_id, task, action, body)
            if service != "iam":
                return query_error(service, 403, "AccessDenied", f"a root session may not call {service}:{action}")
            answer = root_session_call(account_id, task, action, parse_qs(body.decode(errors="replace")))
            if answer is not None:
                return answer
            return None

        if service == "s3" and action == "ListAllMyBuckets":
            return list_buckets(account_id)

        if service == "s3" and action in BUCKET_POLICY_ACTIONS:
            answer = bucket_policy_lockout(account_id, action, environ)
            if answer is not None:
                return answer

        if service == "sts" and action == "AssumeRoot":
            if access_key in ROOT_KEYS:
                return query_error("sts", 403, "AccessDenied", "the root user cannot call AssumeRoot")
            return assume_root(account_id, parse_qs(body.decode(errors="replace")))

        if service == "sts" and action == "AssumeRole":
            form = parse_qs(body.decode(errors="replace"))
            arn = form.get("RoleArn", [""])[0]
            parts = arn.split(":")
            target = parts[4] if len(parts) > 5 else ""
            role_name = parts[5].split("/")[-1] if len(parts) > 5 else ""
            iam_b = iam_models.iam_backends[target]["global"] if target else None
            if not target or not any(r.name == role_name for r in iam_b.roles.values()):
                return query_error(
                    "sts", 403, "AccessDenied",
                    f"User: arn:aws:iam::{account_id}:user/auditor is not authorized to perform: sts:AssumeRole on resource: {arn}",
                )
            status, headers, payload = self.capture(environ)
            m = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", payload)
            if m:
                with LOCK:
                    KEY_TO_ACCOUNT[m.group(1).decode()] = target
                    STATS.setdefault(target, {})
                    DENY.setdefault(target, set())
            code = int(status.split()[0])
            return code, [(k, v) for k, v in headers if k.lower() != "content-length"], payload

        if service == "organizations" and action in ORG_MEMBER_REFUSED:
            _, mgmt = org_of(account_id)
            if mgmt is not None and mgmt != account_id:
                return json_error(400, "AccessDeniedException", "You don't have permissions to access this resource.")

        if service == "iam" and action in ("ListOrganizationsFeatures", "EnableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions"):
            answer = org_features_call(account_id, action)
            if answer is not None:
                return answer

        if service == "events" and action == "TestEventPattern":
            return test_event_pattern(body)

        if service == "cloudformation" and action in STACKSET_STARTS:
            m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
            answer = stackset_busy(account_id, m.group(1) if m else "us-east-1", action, body)
            if answer is not None:
                return answer

        if service == "account" and action in ("GetAlternateContact", "GetContactInformation", "GetPrimaryEmail"):
            answer = account_api_for_member(account_id, action, json.loads(body or b"{}"))
            if answer is not None:
                return answer

        if service == "sts" and action == "GetCallerIdentity" and access_key in ROOT_KEYS:
            inner = (
                f"<Arn>arn:aws:iam::{account_id}:root</Arn><UserId>{account_id}</UserId>"
                f"<Account>{account_id}</Account>"
            )
            return 200, [("Content-Type", "text/xml")], query_xml("sts", action, inner)

        if service == "iam" and access_key in ROOT_KEYS and action in ROOT_KEY_ACTIONS:
            form = parse_qs(body.decode(errors="replace"))
            if not form.get("UserName"):
                return root_key_call(account_id, action, form)

        if service == "iam" and action == "GenerateCredentialReport":
            delay = REPORT_DELAY.get(account_id, 0.0)
            with LOCK:
                started = REPORT_STARTED.get(account_id)
                if started is None:
                    REPORT_STARTED[account_id] = time.time()
                    state = "STARTED" if delay > 0 else None
                elif time.time() - started < delay:
                    state = "INPROGRESS"
                else:
                    state = None
            if state:
                # Let moto record that a report exists, but answer as AWS
                # does while the report is still being generated.
                self.call_through(environ)
                inner = f"<State>{state}</State><Description>report generation in progress</Description>"
                return 200, [("Content-Type", "text/xml")], query_xml("iam", action, inner)
            return None

        if service == "iam" and action == "GetCredentialReport":
            started = REPORT_STARTED.get(account_id)
            delay = REPORT_DELAY.get(account_id, 0.0)
            if started is not None and time.time() - started < delay:
                return query_error("iam", 404, "ReportInProgress", "Credential report is being generated")
            return None

        if service == "iam" and action == "ListOrganizationsFeatures":
            org = ORG.get(account_id)
            if not org:
                return query_error(
                    "iam", 400, "OrganizationNotFoundException",
                    "The request failed because AWS Organizations is not enabled for this account.",
                )
            if not org.get("management", False):
                return query_error(
                    "iam", 400, "AccountNotManagementOrDelegatedAdministratorException",
                    "The request was rejected because the account is not the management account or delegated administrator.",
                )
            if not org.get("service_access", True):
                return query_error(
                    "iam", 400, "ServiceAccessNotEnabledException",
                    "The request was rejected because trusted access for IAM is not enabled in AWS Organizations.",
                )
            feats = "".join(f"<member>{f}</member>" for f in org.get("features", []))
            inner = (
                f"<OrganizationId>{org.get('id', 'o-rootguard01')}</OrganizationId>"
                f"<EnabledFeatures>{feats}</EnabledFeatures>"
            )
            return 200, [("Content-Type", "text/xml")], query_xml("iam", action, inner)

        if service == "cloudtrail" and action == "LookupEvents":
            auth = environ.get("HTTP_AUTHORIZATION", "")
            m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", auth)
            return lookup_events(account_id, m.group(1) if m else "us-east-1", body)

        if service == "account" and action == "ListRegions":
            return list_regions(account_id, body)

        if service in ("guardduty", "securityhub") and rest_action(service, environ):
            m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
            region = m.group(1) if m else "us-east-1"
            if service == "guardduty":
                return guardduty_call(account_id, region, action, environ.get("PATH_INFO", ""), body)
            return security_hub_call(account_id, region, action, body)

        if service == "account" and action == "GetContactInformation":
            info = CONTACT_INFO.get(account_id)
            if not info:
                return json_error(404, "ResourceNotFoundException", "No contact information found for this account.")
            return 200, [("Content-Type", "application/json")], json.dumps({"ContactInformation": info}).encode()

        if service == "account" and action == "PutContactInformation":
            req = json.loads(body or b"{}")
            info = req.get("ContactInformation") or {}
            missing = [f for f in ("FullName", "AddressLine1", "City", "CountryCode", "PhoneNumber", "PostalCode") if not info.get(f)]
            if missing:
                return json_error(400, "ValidationException", f"ContactInformation is missing {', '.join(missing)}")
            with LOCK:
                CONTACT_INFO[account_id] = info
            return 200, [("Content-Type", "application/json")], b"{}"
        return None

    def capture(self, environ) -> tuple[str, list, bytes]:
        got = {}

        def sr(status, headers, exc_info=None):
            got["status"], got["headers"] = status, headers

        payload = b"".join(self.app(environ, sr))
        return got["status"], got["headers"], payload

    def rpcv2_cbor(self, environ, action, body, start_response, account_id, caller, region):
        """CloudWatch's Smithy RPCv2 CBOR, which moto does not speak: decode the
        CBOR request, hand it to moto's JSON 1.0 handler, encode the answer."""
        if caller:
            with LOCK:
                stats = STATS.setdefault(account_id, {})
                key = f"cloudwatch:{action}"
                stats[key] = stats.get(key, 0) + 1
            if f"cloudwatch:{action}" in DENY.get(account_id, set()) or not iam_allows(account_id, "cloudwatch", action):
                return self.send(start_response, 403, cbor_error("AccessDenied", f"not authorized to perform: cloudwatch:{action}"))
        request = cbor2.loads(body) if body else {}
        data = json.dumps(jsonable(request)).encode()
        environ["PATH_INFO"] = "/"
        environ["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        environ["HTTP_X_AMZ_TARGET"] = f"GraniteServiceVersion20100801.{action}"
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        status, _, payload = self.capture(environ)
        doc = json.loads(payload or b"{}")
        code = int(status.split()[0])
        if code >= 400:
            kind = str(doc.get("__type", "InternalFailure")).rsplit("#", 1)[-1]
            return self.send(start_response, code, cbor_error(kind, doc.get("message") or doc.get("Message") or ""))
        if action == "SetAlarmState" and request.get("StateValue") == "ALARM" and account_id:
            notify_alarm_actions(account_id, region, request["AlarmName"], request.get("StateReason", ""))
            # CloudWatch re-evaluates the alarm at its next period and, with no
            # breaching datapoint, returns it to OK (CloudWatch User Guide,
            # SetAlarmState: "the alarm state returns to its actual state ...
            # at the next evaluation"); here after ALARM_RESET_SECONDS.
            threading.Timer(ALARM_RESET_SECONDS, reset_alarm, (account_id, region, request["AlarmName"])).start()
        return self.send(start_response, code, cbor2.dumps(cbor_times(doc)))

    @staticmethod
    def send(start_response, code: int, payload: bytes):
        start_response(
            f"{code} {STATUS_TEXT.get(code, '')}",
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]

    def sns_pending(self, environ, action, body, start_response, account_id, caller):
        """Email subscriptions stay PendingConfirmation until confirmed."""
        if caller:
            denied = self.extension("sns", action, account_id, "", body, environ)
            if denied is not None:
                status, headers, payload = denied
                start_response(f"{status} {STATUS_TEXT.get(status, '')}", headers + [("Content-Length", str(len(payload)))])
                return [payload]
            with LOCK:
                stats = STATS.setdefault(account_id, {})
                stats[f"sns:{action}"] = stats.get(f"sns:{action}", 0) + 1
        status, headers, payload = self.capture(environ)
        text = payload.decode()
        if action == "Subscribe" and status.startswith("200"):
            form = parse_qs(body.decode())
            if form.get("Protocol", [""])[0] in ("email", "email-json"):
                m = re.search(r"<SubscriptionArn>([^<]+)</SubscriptionArn>", text)
                if m:
                    with LOCK:
                        PENDING[m.group(1)] = (account_id, form.get("Endpoint", [""])[0])
                    if form.get("ReturnSubscriptionArn", ["false"])[0].lower() != "true":
                        text = text.replace(m.group(0), "<SubscriptionArn>pending confirmation</SubscriptionArn>")
        else:
            for arn in list(PENDING):
                text = text.replace(f"<SubscriptionArn>{arn}</SubscriptionArn>", "<SubscriptionArn>PendingConfirmation</SubscriptionArn>")
        out = text.encode()
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(out)))]
        start_response(status, headers)
        return [out]

    def call_through(self, environ) -> None:
        environ = dict(environ)
        environ["wsgi.input"].seek(0)
        for _ in self.app(environ, lambda *a, **k: None):
            pass

    def control(self, environ, path, body, start_response):
        try:
            if path == "/_rootguard/accounts" and environ["REQUEST_METHOD"] == "POST":
                out = seed(json.loads(body or b"{}"))
            elif path == "/_rootguard/put_event" and environ["REQUEST_METHOD"] == "POST":
                req = json.loads(body or b"{}")
                out = put_corpus_event(req["account_id"], req.get("region"), req["corpus"], req.get("set") or {})
            elif path == "/_rootguard/rule" and environ["REQUEST_METHOD"] == "POST":
                # Someone edits or deletes the real-time rule behind rootguard's back.
                req = json.loads(body or b"{}")
                ev = boto_client("events", req["account_id"], req.get("region", "us-east-1"))
                if req["op"] == "delete":
                    ev.remove_targets(Rule=req["name"], Ids=[t["Id"] for t in ev.list_targets_by_rule(Rule=req["name"])["Targets"]])
                    ev.delete_rule(Name=req["name"])
                elif req["op"] == "pattern":
                    ev.put_rule(Name=req["name"], EventPattern=json.dumps(req["pattern"]))
                elif req["op"] == "state":
                    # The same rule in another state (ENABLED: read-only calls never reach it).
                    rule = ev.describe_rule(Name=req["name"])
                    ev.put_rule(Name=req["name"], EventPattern=rule["EventPattern"], State=req["pattern"])
                out = {"ok": True}
            elif path == "/_rootguard/role" and environ["REQUEST_METHOD"] == "POST":
                # Someone deletes a role behind rootguard's back (its inline policies first).
                req = json.loads(body or b"{}")
                iam = boto_client("iam", req["account_id"])
                for pname in iam.list_role_policies(RoleName=req["name"])["PolicyNames"]:
                    iam.delete_role_policy(RoleName=req["name"], PolicyName=pname)
                iam.delete_role(RoleName=req["name"])
                out = {"ok": True}
            elif path == "/_rootguard/stacksets" and environ["REQUEST_METHOD"] == "POST":
                out = set_stackset_pacing(json.loads(body or b"{}"))
            elif path == "/_rootguard/quotas" and environ["REQUEST_METHOD"] == "POST":
                out = set_quotas(json.loads(body or b"{}"))
            elif path == "/_rootguard/quotas" and environ["REQUEST_METHOD"] == "GET":
                account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [""])[0]
                with LOCK:
                    out = {"throttled": dict(THROTTLED.get(account, {}))}
            elif path == "/_rootguard/organization" and environ["REQUEST_METHOD"] == "POST":
                out = seed_organization(json.loads(body or b"{}"))
            elif path == "/_rootguard/organization/join" and environ["REQUEST_METHOD"] == "POST":
                out = join_organization(json.loads(body or b"{}"))
            elif path == "/_rootguard/organization/leave" and environ["REQUEST_METHOD"] == "POST":
                req = json.loads(body or b"{}")
                org_backend(req["management"]).remove_account_from_organization(AccountId=req["account_id"])
                out = {"ok": True}
            elif path == "/_rootguard/root" and environ["REQUEST_METHOD"] == "POST":
                # What a person does in the console that no API can: e.g.
                # assign root MFA ({"account_id": ..., "set": {"mfa_enabled": true}}).
                req = json.loads(body or b"{}")
                with LOCK:
                    st = ROOT.setdefault(req["account_id"], {})
                    st.update(req.get("set", {}))
                    if req.get("set", {}).get("mfa_enabled"):
                        st.setdefault("virtual_mfa", True)
                        st.pop("mfa_devices", None)
                    if req.get("set", {}).get("virtual_mfa") and not any(
                        str(getattr(getattr(d, "user", None), "arn", "")).endswith(":root")
                        for d in iam_models.iam_backends[req["account_id"]]["global"].virtual_mfa_devices.values()
                    ):
                        # A virtual device assigned in the console is listed
                        # by ListVirtualMFADevices, as AWS lists root's.
                        seed_root_virtual_mfa(req["account_id"])
                out = {"ok": True}
            elif path == "/_rootguard/root":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                acct = qs["account"][0]
                with LOCK:
                    st = dict(ROOT.get(acct, {}))
                    st["mfa_devices"] = list(root_mfa_devices(acct, ROOT.setdefault(acct, {})))
                    backend, _ = org_of(acct)
                    st["features"] = sorted(ORG_FEATURES.get(backend.org.id, set())) if backend else []
                    st["trusted_access"] = [x["ServicePrincipal"] for x in backend.services] if backend else []
                out = st
            elif path == "/_rootguard/confirm" and environ["REQUEST_METHOD"] == "POST":
                req = json.loads(body or b"{}")
                out = {"confirmed": confirm(req["account_id"], req["endpoint"])}
            elif path == "/_rootguard/deny" and environ["REQUEST_METHOD"] == "POST":
                req = json.loads(body or b"{}")
                with LOCK:
                    DENY[req["account_id"]] = set(req.get("deny", []))
                out = {"deny": sorted(DENY[req["account_id"]])}
            elif path == "/_rootguard/securityhub":
                # What Security Hub holds for an account and region, and what a
                # person does in its console (set a workflow status; reject ids).
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                key = (qs["account"][0], qs.get("region", ["us-east-1"])[0])
                with LOCK:
                    if environ["REQUEST_METHOD"] == "POST":
                        req = json.loads(body or b"{}")
                        for fid, status in req.get("workflow", {}).items():
                            SECURITY_HUB[key]["findings"][fid]["Workflow"] = {"Status": status}
                        if "reject" in req:
                            SECURITY_HUB_REJECT[key[0]] = set(req["reject"])
                    out = list(SECURITY_HUB.get(key, {}).get("findings", {}).values())
            elif path == "/_rootguard/object" and environ["REQUEST_METHOD"] == "POST":
                # What CloudTrail does: deliver a log file into the trail's bucket
                # (the bucket policy admits only CloudTrail and TLS requests).
                from moto.s3.models import s3_backends

                req = json.loads(body or b"{}")
                s3_backends[req["account_id"]]["aws"].put_object(req["bucket"], req["key"], req.get("body", "x").encode())
                out = {"ok": True}
            elif path == "/_rootguard/policies":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                out = member_policies(qs["account"][0])
            elif path == "/_rootguard/resources":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                out = resources(qs["account"][0], qs.get("region", ["us-east-1"])[0])
            elif path == "/_rootguard/mfa":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                backend = iam_models.iam_backends[qs["account"][0]]["global"]
                out = [
                    {
                        "serial": d.serial_number,
                        "seed": d.base32_string_seed,
                        "user_arn": d.user.arn if d.user else None,
                        "enabled": d.enable_date is not None,
                    }
                    for d in backend.virtual_mfa_devices.values()
                ]
            elif path == "/_rootguard/stats" and "all=1" in environ.get("QUERY_STRING", ""):
                with LOCK:
                    by = {}
                    for acct_stats in STATS.values():
                        for k, v in acct_stats.items():
                            by[k] = by.get(k, 0) + v
                out = {"account_id": "*", "requests": sum(by.values()), "by_action": by}
            elif path == "/_rootguard/stats":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                acct = qs.get("account", [""])[0]
                with LOCK:
                    by = dict(STATS.get(acct, {}))
                out = {"account_id": acct, "requests": sum(by.values()), "by_action": by}
            else:
                return self.reply(start_response, "404 Not Found", {"error": "no such control endpoint"})
        except Exception as err:  # report seeding mistakes to the test, loudly
            return self.reply(start_response, "400 Bad Request", {"error": f"{type(err).__name__}: {err}"})
        return self.reply(start_response, "200 OK", out)

    @staticmethod
    def reply(start_response, status: str, doc) -> list[bytes]:
        payload = json.dumps(doc).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


events_models.Rule.send_to_targets = _deliver_to_sns


def _bucket_permission_over_tls(original):
    """moto evaluates a bucket policy's principal-* statements without their
    conditions, so the usual TLS-only statement (Deny when aws:SecureTransport
    is false) refused every request. Requests to AWS travel over TLS (the
    emulator's plain HTTP stands in for it): that statement never applies."""

    def get_permission(self, action, resource):
        if self.policy is None:
            return original(self, action, resource)
        try:
            doc = json.loads(self.policy.decode())
        except ValueError:
            return original(self, action, resource)
        stmts = doc.get("Statement", [])
        stmts = stmts if isinstance(stmts, list) else [stmts]
        kept = [st for st in stmts if st.get("Condition") != {"Bool": {"aws:SecureTransport": "false"}}]
        if len(kept) == len(stmts):
            return original(self, action, resource)
        from moto.iam.access_control import IAMPolicy

        return IAMPolicy(json.dumps({**doc, "Statement": kept})).is_action_permitted(action, resource)

    return get_permission


from moto.s3 import models as s3_models  # noqa: E402

s3_models.FakeBucket.get_permission = _bucket_permission_over_tls(s3_models.FakeBucket.get_permission)

from moto.cloudformation import responses as cfn_responses  # noqa: E402

cfn_responses.CloudFormationResponse.create_stack_set = _stackset_auto_deployment(
    cfn_responses.CloudFormationResponse.create_stack_set
)
cfn_responses.CloudFormationResponse.update_stack_set = _stackset_auto_deployment(
    cfn_responses.CloudFormationResponse.update_stack_set
)
cfn_responses.CloudFormationResponse.delete_stack_instances = _delete_by_deployment_targets(
    cfn_responses.CloudFormationResponse.delete_stack_instances
)
cfn_responses.CloudFormationResponse.create_stack_instances = _paced(
    cfn_responses.CloudFormationResponse.create_stack_instances, "CreateStackInstances"
)
cfn_responses.CloudFormationResponse.update_stack_set = _paced(
    cfn_responses.CloudFormationResponse.update_stack_set, "UpdateStackSet"
)
cfn_responses.CloudFormationResponse.update_stack_instances = _update_stack_instances
from moto.cloudformation import models as cfn_models  # noqa: E402

cfn_models.StackInstances.create_instances = _service_managed_skips_management(
    cfn_models.StackInstances.create_instances
)
cfn_models.StackSet.create_stack_instances = _record_targets(cfn_models.StackSet.create_stack_instances)
cfn_models.StackInstance.to_dict = _instance_to_dict(cfn_models.StackInstance.to_dict)
from moto.organizations import models as org_models  # noqa: E402

for _name in ("create_account", "move_account", "remove_account_from_organization"):
    setattr(
        org_models.OrganizationsBackend,
        _name,
        _follows_membership(getattr(org_models.OrganizationsBackend, _name)),
    )


def main() -> None:
    global ENDPOINT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", action="append", default=[], help="scenario JSON file to seed")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = Launcher(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    ENDPOINT = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for path in args.seed:
        with open(path) as f:
            print("ROOTGUARD_ACCOUNT " + json.dumps(seed(json.load(f))), flush=True)
    print(f"ROOTGUARD_MOTO_READY {ENDPOINT}", flush=True)
    try:
        if args.exit_on_stdin_eof:
            sys.stdin.read()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
