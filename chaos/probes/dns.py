"""Which region Route 53 currently sends a workload's traffic to (`TestDNSAnswer`).

This is the first hop of the failover path a probe follows: the record's answer → the region of
the matching record → the store in that region. Route 53 is a global service; its API is signed
for us-east-1, as on AWS.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from chaos.targets.base import Target

ROUTE53_REGION = "us-east-1"
DEFAULT_TTL_SECONDS = 60  # what the stack's failover records carry when the inventory says nothing


class DnsAnswerError(RuntimeError):
    """Route 53 answered something that matches none of the workload's records."""


def zone_id(inventory: dict[str, Any]) -> str | None:
    zone = inventory.get("hosted_zone") or {}
    raw = zone.get("id")
    return raw.rsplit("/", 1)[-1] if raw else None


def has_dns_failover(inventory: dict[str, Any], workload: dict[str, Any]) -> bool:
    failover = workload.get("failover") or {}
    return bool(zone_id(inventory) and failover.get("record_name") and failover.get("records"))


def answered_region(target: Target, inventory: dict[str, Any], workload: dict[str, Any], *,
                    fail_fast: bool = True) -> str:
    """The region of the record Route 53 answers for the workload's name right now."""
    failover = workload["failover"]
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


def record_ttl_seconds(workload: dict[str, Any]) -> float:
    failover = workload.get("failover") or {}
    return float(failover.get("ttl_seconds") or DEFAULT_TTL_SECONDS)


class CachingResolver:
    """A client behind a caching DNS resolver, at its worst: it sees Route 53's new answer only
    `hold_seconds` (the record's TTL, in lab seconds) after the answer changed, as a client that
    fetched the record just before the failover keeps the old answer for the whole TTL.

    `hold_seconds` 0 passes answers through (real targets: real resolvers cache by themselves)."""

    def __init__(self, hold_seconds: float, clock: Callable[[], float] = time.time):
        self.hold_seconds = hold_seconds
        self._clock = clock
        self._cached: str | None = None
        self._pending: str | None = None
        self._pending_since = 0.0

    def answer(self, authoritative: str) -> str:
        now = self._clock()
        if self._cached is None or self.hold_seconds <= 0 or authoritative == self._cached:
            self._cached, self._pending = authoritative, None
            return authoritative
        if authoritative != self._pending:
            self._pending, self._pending_since = authoritative, now
        if now - self._pending_since >= self.hold_seconds:
            self._cached, self._pending = authoritative, None
        return self._cached


def primary_health_check_id(workload: dict[str, Any]) -> str | None:
    """The health check guarding the workload's primary-region endpoint, if it declares one."""
    failover = workload.get("failover") or {}
    primary = workload["primary_region"]
    for record in failover.get("records") or []:
        if record.get("region") == primary and record.get("health_check_id"):
            return record["health_check_id"]
    for check in failover.get("health_checks") or []:
        if check.get("region") == primary and check.get("id"):
            return check["id"]
    return None
