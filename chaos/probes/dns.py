"""Which region Route 53 currently sends a workload's traffic to (`TestDNSAnswer`).

This is the first hop of the failover path a probe follows: the record's answer → the region of
the matching record → the store in that region. Route 53 is a global service; its API is signed
for us-east-1, as on AWS.
"""
from __future__ import annotations

from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload

ROUTE53_REGION = "us-east-1"


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
