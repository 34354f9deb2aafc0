"""Which region Route 53 currently sends the application's traffic to (`TestDNSAnswer`).

This is the first hop of the failover path a probe follows: the application record's answer →
the region of the matching record → the workload's store in that region (the application there
is configured with it). Route 53 failover is the application's (inventory `application`), not a
data store's. Route 53 is a global service; its API is signed for us-east-1, as on AWS.
"""
from __future__ import annotations

from typing import Any

from chaos.targets.base import Target

ROUTE53_REGION = "us-east-1"


class DnsAnswerError(RuntimeError):
    """Route 53 answered something that matches none of the workload's records."""


def zone_id(inventory: dict[str, Any]) -> str | None:
    zone = inventory.get("hosted_zone") or {}
    raw = zone.get("id")
    return raw.rsplit("/", 1)[-1] if raw else None


def application(inventory: dict[str, Any]) -> dict[str, Any]:
    return inventory.get("application") or {}


def has_dns_failover(inventory: dict[str, Any], workload: dict[str, Any]) -> bool:
    """The application record routes between regions and the workload has a store to switch to."""
    app = application(inventory)
    return bool(zone_id(inventory) and app.get("record_name") and app.get("records") and workload.get("failover"))


def answered_region(target: Target, inventory: dict[str, Any], workload: dict[str, Any] | None = None, *,
                    fail_fast: bool = True) -> str:
    """The region of the application record Route 53 answers right now."""
    failover = application(inventory)
    client = target.client("route53", ROUTE53_REGION, fail_fast=fail_fast)
    answer = client.test_dns_answer(HostedZoneId=zone_id(inventory),
                                    RecordName=failover["record_name"],
                                    RecordType=failover.get("record_type") or "CNAME")
    values = {value.rstrip(".") for value in answer.get("RecordData", [])}
    for record in failover["records"]:
        if str(record.get("value", "")).rstrip(".") in values:
            return record["region"]
    raise DnsAnswerError(f"{failover['record_name']} answered {sorted(values)}, "
                         "matching none of the workload's records")


def primary_health_check_id(inventory: dict[str, Any], workload: dict[str, Any]) -> str | None:
    """The health check guarding the application's endpoint in the workload's primary region."""
    failover = application(inventory) if workload.get("failover") else {}
    primary = workload["primary_region"]
    for record in failover.get("records") or []:
        if record.get("region") == primary and record.get("health_check_id"):
            return record["health_check_id"]
    for check in failover.get("health_checks") or []:
        if check.get("region") == primary and check.get("id"):
            return check["id"]
    return None
