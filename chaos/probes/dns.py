"""Which region Route 53 currently sends a workload's traffic to (`TestDNSAnswer`).

This is the first hop of the failover path a probe follows: the record's answer → the region of
the matching record → the store in that region. Route 53 is a global service; its API is signed
for us-east-1, as on AWS.
"""
from __future__ import annotations

import time
from typing import Callable

from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload

ROUTE53_REGION = "us-east-1"
DEFAULT_TTL_SECONDS = 60  # what the stack's failover records carry when the inventory says nothing


class DnsAnswerError(RuntimeError):
    """Route 53 answered something that matches none of the workload's records."""


def has_dns_failover(inventory: Inventory, workload: Workload) -> bool:
    return bool(inventory.hosted_zone_id and workload.failover)


def answered_region(target: Target, inventory: Inventory, workload: Workload, *,
                    fail_fast: bool = True) -> str:
    """The region of the record Route 53 answers for the workload's name right now."""
    failover = workload.failover
    assert failover is not None, "answered_region needs a workload with DNS failover"
    client = target.client("route53", ROUTE53_REGION, fail_fast=fail_fast)
    answer = client.test_dns_answer(HostedZoneId=inventory.hosted_zone_id,
                                    RecordName=failover.record_name,
                                    RecordType=failover.record_type)
    values = {value.rstrip(".") for value in answer.get("RecordData", [])}
    for record in failover.records:
        if record.value.rstrip(".") in values:
            return record.region
    raise DnsAnswerError(f"{failover.record_name} answered {sorted(values)}, "
                         "matching none of the workload's records")


def record_ttl_seconds(workload: Workload) -> float:
    ttl = workload.failover.ttl_seconds if workload.failover is not None else None
    return float(ttl or DEFAULT_TTL_SECONDS)


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


def primary_health_check_id(workload: Workload) -> str | None:
    """The health check guarding the workload's primary-region endpoint, if it declares one."""
    if workload.failover is None:
        return None
    primary = workload.primary_region
    for record in workload.failover.records:
        if record.region == primary and record.health_check_id:
            return record.health_check_id
    for check in workload.failover.health_checks:
        if check.region == primary:
            return check.id
    return None
