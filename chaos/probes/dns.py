"""Which region Route 53 currently sends a workload's traffic to (`TestDNSAnswer`).

This is the first hop of the failover path a probe follows: the record's answer → the region of
the matching record → the store in that region. Route 53 is a global service; its API is signed
for us-east-1, as on AWS.

Where TestDNSAnswer is missing (LocalStack community answers HTTP 501), the answer is derived the
way Route 53 documents its routing: the record sets (ListResourceRecordSets) and the status of their
health checks (GetHealthCheckStatus). Failover routing answers PRIMARY while its check is healthy,
else SECONDARY; weighted and latency routing answer a healthy record, the primary region's first.
The target says which path it takes (`dns_via_record_sets`) and the report says so.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

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
    if getattr(target, "dns_via_record_sets", False):
        return _region_from_record_sets(client, inventory, workload)
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


def dns_api_missing(error: ClientError) -> bool:
    """The endpoint has no TestDNSAnswer, as opposed to a real error of the call."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error.response.get("Error", {}).get("Code")
    # 501: LocalStack community; a bare 404 with no AWS error code: no route for the operation at
    # all (moto). A real "no such zone" carries its own code (NoSuchHostedZone) and is not this.
    return status == 501 or code in ("NotImplemented", "NotImplementedException") or \
        (status == 404 and code in ("404", "NotFound"))


# Route 53 considers an endpoint healthy when more than 18 % of its health checkers report it
# healthy (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html,
# read 2026-11-30).
HEALTHY_CHECKER_SHARE = 0.18


def _healthy(client: Any, check_id: str | None) -> bool:
    """A record without a health check is healthy; with one, by the checkers' share reporting success."""
    if not check_id:
        return True
    observations = client.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    ok = sum(o.get("StatusReport", {}).get("Status", "").startswith("Success") for o in observations)
    return bool(observations) and ok / len(observations) > HEALTHY_CHECKER_SHARE


def _region_from_record_sets(client: Any, inventory: Inventory, workload: Workload) -> str:
    failover = workload.failover
    assert failover is not None
    name = failover.record_name.rstrip(".") + "."
    listed = client.list_resource_record_sets(HostedZoneId=inventory.hosted_zone_id, StartRecordName=name,
                                              StartRecordType=failover.record_type)["ResourceRecordSets"]
    sets = [r for r in listed if r["Name"] == name and r["Type"] == failover.record_type]
    by_identifier = {r.get("SetIdentifier"): r for r in sets}
    candidates = []
    for record in failover.records:
        rrset = by_identifier.get(record.set_identifier)
        if rrset is None:
            continue
        healthy = _healthy(client, rrset.get("HealthCheckId"))
        candidates.append((record, rrset, healthy))
    if failover.routing == "failover":
        order = sorted(candidates, key=lambda c: 0 if c[1].get("Failover") == "PRIMARY" else 1)
    else:
        order = sorted(candidates, key=lambda c: 0 if c[0].region == workload.primary_region else 1)
    for record, _rrset, healthy in order:
        if healthy:
            return record.region
    if order:  # none healthy: Route 53 then considers all of them healthy and picks by routing policy
        # (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html,
        # read 2026-11-30)
        return order[0][0].region
    raise DnsAnswerError(f"{failover.record_name}: no record set of the workload in zone "
                         f"{inventory.hosted_zone_id}")
