"""What a real endpoint (LocalStack) actually offers for a deployed inventory, found by asking it.

Run once when a game day attaches (`LocalStackTarget.prepare`):
- each workload's primary store is looked up through its service's API; a service the endpoint
  refuses (HTTP 501 "not included in your license plan", an internal error) or a store that does
  not exist makes the workload unavailable, with the endpoint's answer as the reason;
- Route 53 `TestDNSAnswer` is tried once: LocalStack community answers 501, so the probes resolve
  through the record sets and health-check status instead (chaos.probes.dns) and the report says so;
- each S3 replication rule is checked (GetBucketReplication names the replica bucket) and one
  object is written to see whether the endpoint executes it (LocalStack community does not).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.probes.dns import ROUTE53_REGION, dns_api_missing
from chaos.stores import StoreRef
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory

# How long to look for the check object at the replica. An estimate, not an AWS figure: AWS
# promises no time without Replication Time Control (with RTC: most objects in seconds, 99.99 %
# within 15 minutes: https://docs.aws.amazon.com/AmazonS3/latest/dev/replication-walkthrough-5.html,
# read 2026-11-30), so a miss here says "not within this wait", and the report words it so.
# Tests shorten it by env.
REPLICATION_WAIT_SECONDS = float(os.environ.get("SECURECART_REPLICATION_CHECK_SECONDS") or 10.0)


@dataclass
class EndpointFindings:
    unavailable: dict[str, str] = field(default_factory=dict)   # workload -> reason
    dns_via_record_sets: bool = False
    notes: list[str] = field(default_factory=list)
    replication: list[dict[str, Any]] = field(default_factory=list)


def _answer(error: Exception) -> str:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code")
        return f"{error.operation_name} answered HTTP {status} {code}"
    return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"


def _look_up(target: Target, store: StoreRef) -> None:
    """Raise when `store` is not there (or its service is not offered)."""
    if store.kind == "s3":
        target.client("s3", store.region).head_bucket(Bucket=store.name)
    elif store.kind == "dynamodb":
        target.client("dynamodb", store.region).describe_table(TableName=store.name)
    elif store.kind == "rds":
        target.client("rds", store.region).describe_db_instances(DBInstanceIdentifier=store.name)


def check_endpoint(target: Target, inventory: Inventory, raw: dict[str, Any]) -> EndpointFindings:
    findings = EndpointFindings()
    not_created = {item.get("workload"): item.get("reason")
                   for item in (raw.get("deployed") or {}).get("declared_not_created") or []
                   if item.get("workload")}
    refused: dict[str, str] = {}
    for name, workload in inventory.workloads.items():
        if workload.stores.why_no_canary():
            continue  # no canary runs on it anyway (EFS, EC2): every scenario skips it with that reason
        store = workload.stores.primary()
        if store.kind in refused:
            findings.unavailable[name] = refused[store.kind]
            continue
        try:
            _look_up(target, store)
        except (ClientError, BotoCoreError) as error:
            status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
            reason = (f"{store.kind} is not offered by the endpoint ({_answer(error)}); "
                      f"declared, not created")
            if status is None or status >= 500:
                refused[store.kind] = reason
            elif name in not_created:
                reason = f"declared, not created: {not_created[name]}"
            else:
                reason = f"{store} is not on the endpoint ({_answer(error)}); deploy it first"
            findings.unavailable[name] = reason
    _check_dns(target, inventory, findings)
    _check_s3_replication(target, inventory, findings)
    return findings


def _check_dns(target: Target, inventory: Inventory, findings: EndpointFindings) -> None:
    with_failover = [w for w in inventory.workloads.values() if w.failover]
    if not inventory.hosted_zone_id or not with_failover:
        return
    failover = with_failover[0].failover
    try:
        target.client("route53", ROUTE53_REGION).test_dns_answer(
            HostedZoneId=inventory.hosted_zone_id, RecordName=failover.record_name,
            RecordType=failover.record_type)
    except ClientError as error:
        if not dns_api_missing(error):
            raise
        findings.dns_via_record_sets = True
        findings.notes.append(
            f"Route 53 TestDNSAnswer is not implemented by this endpoint ({_answer(error)}): probes "
            "resolve the application's record through ListResourceRecordSets and "
            "GetHealthCheckStatus (failover routing: PRIMARY while its check is healthy).")


def _check_s3_replication(target: Target, inventory: Inventory, findings: EndpointFindings) -> None:
    for name, workload in inventory.workloads.items():
        if workload.stores.kind != "s3" or name in findings.unavailable or not workload.stores.replicas():
            continue
        source = workload.stores.primary()
        s3 = target.client("s3", source.region)
        try:
            rules = s3.get_bucket_replication(Bucket=source.name)["ReplicationConfiguration"]["Rules"]
        except ClientError as error:
            findings.notes.append(f"S3 replication of {name}: {_answer(error)}; no rule to check")
            continue
        destinations = {rule["Destination"]["Bucket"].split(":::")[-1] for rule in rules
                        if rule.get("Status") == "Enabled"}
        for replica in workload.stores.replicas():
            configured = replica.name in destinations
            executed = configured and _replicates(target, source, replica)
            findings.replication.append({"workload": name, "kind": "s3", "source_region": source.region,
                                         "target_region": replica.region, "lag_seconds": None,
                                         "paused": False, "configured": configured, "executed": executed})
            findings.notes.append(
                f"S3 replication of {name} ({source.name} → {replica.name}): rule "
                f"{'configured' if configured else 'MISSING'} (GetBucketReplication); "
                + ("an object written to the source reached the replica."
                   if executed else f"an object written to the source did not reach the replica within "
                   f"{REPLICATION_WAIT_SECONDS:g} s: the endpoint does not execute cross-region "
                   "replication, so no regional failover of this bucket can be measured here."))


def _replicates(target: Target, source: StoreRef, replica: StoreRef) -> bool:
    key = f"_securecart/replication-check/{uuid.uuid4().hex}"
    target.client("s3", source.region).put_object(Bucket=source.name, Key=key, Body=b"check")

    def present() -> bool:
        try:
            target.client("s3", replica.region).head_object(Bucket=replica.name, Key=key)
            return True
        except ClientError:
            return False

    retrying = Retrying(stop=stop_after_delay(REPLICATION_WAIT_SECONDS), wait=wait_fixed(0.5),
                        retry=retry_if_result(lambda found: not found),
                        retry_error_callback=lambda _state: False)
    return bool(retrying(present))
