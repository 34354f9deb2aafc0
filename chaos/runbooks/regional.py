"""Regional failover: the primary region is gone, run the workload from its DR region.

The DR copy first takes over (its store's `take_over`, chaos/stores/: nothing for a global-table
replica or a CRR bucket, `PromoteReadReplica` for an RDS read replica), then the application is
switched to it. For RDS the writer's private record (inventory `failover.private_record`) is
repointed at the promoted instance only after promotion, so writers never reach a read-only
replica. Then verify that Route 53 answers the application's DR record (its health check fails it
over by itself); if it does not within the bound, change the record by hand (UPSERT the PRIMARY
record set to the DR value), as the runbook on AWS would.
"""
from __future__ import annotations

from typing import Any

from chaos.probes import dns
from chaos.probes.dns import ROUTE53_REGION
from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.stores.base import StoreRef

DNS_FAILOVER_BOUND_SECONDS = 30.0


def dr_store(ctx: RunbookContext) -> StoreRef:
    store = ctx.workload.dr_store
    if store is None:
        raise RunbookError(f"{ctx.workload_name}: no replica in {ctx.workload.dr_region} "
                           "to fail over to")
    return store


def fail_over_to_dr(ctx: RunbookContext) -> None:
    target = dr_store(ctx)
    ctx.started(f"regional-failover-{target.kind}")
    ctx.workload.stores.take_over(ctx, target)
    _repoint_private_record(ctx, target.region)
    ctx.routing.switch(target)
    ctx.done(f"application switched to {target}")
    if dns.has_dns_failover(ctx.inventory, ctx.workload):
        _verify_dns(ctx, target.region)


def _repoint_private_record(ctx: RunbookContext, region: str) -> None:
    record = ctx.workload.private_record
    if record is None:
        return
    address = ctx.workload.endpoints.get(region)
    if not address:
        raise RunbookError(f"{ctx.workload_name}: the inventory names no {region} endpoint to repoint "
                           f"{record.name} at")
    client = ctx.target.client("route53", ROUTE53_REGION)
    change = client.change_resource_record_sets(
        HostedZoneId=record.zone_id,
        ChangeBatch={"Comment": f"chaos run {ctx.run_id}: writer moved to {region}",
                     "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                         "Name": record.name, "Type": record.type, "TTL": record.ttl,
                         "ResourceRecords": [{"Value": address}]}}]})
    change_id = change["ChangeInfo"]["Id"]
    ctx.wait_until(f"{record.name} change {change_id} in sync",
                   lambda: client.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC")
    ctx.done(f"{record.name} now answers the promoted writer {address}", at=ctx.last_observed_at)


def _verify_dns(ctx: RunbookContext, region: str) -> None:
    def answers_dr() -> bool:
        return dns.answered_region(ctx.target, ctx.inventory, ctx.workload) == region

    try:
        ctx.wait_until(f"Route 53 answering {region}", answers_dr,
                       budget=min(DNS_FAILOVER_BOUND_SECONDS, ctx.budget_seconds))
        ctx.done(f"Route 53 answers the {region} record (health-checked failover)",
                 at=ctx.last_observed_at)
        return
    except RunbookError as err:
        ctx.note(f"{err}; changing the record by hand")
    _point_primary_record_at(ctx, region)
    ctx.wait_until(f"Route 53 answering {region} after the manual change", answers_dr)
    ctx.done(f"Route 53 record changed to the {region} value")


def _point_primary_record_at(ctx: RunbookContext, region: str) -> None:
    failover = ctx.workload.failover
    dr, primary = failover.record_in(region), failover.record_in(ctx.workload.primary_region)
    if dr is None or primary is None:
        raise RunbookError(f"{ctx.workload_name}: no Route 53 record for {region} or "
                           f"{ctx.workload.primary_region} to change")
    record_set: dict[str, Any] = {
        "Name": failover.record_name, "Type": failover.record_type,
        "SetIdentifier": primary.set_identifier}
    if dr.alias_zone_id:  # an alias to the DR load balancer: no TTL, no values
        record_set["AliasTarget"] = {"HostedZoneId": dr.alias_zone_id, "DNSName": dr.value,
                                     "EvaluateTargetHealth": True}
    else:
        record_set.update(TTL=60, ResourceRecords=[{"Value": dr.value}])
    if primary.failover:
        record_set["Failover"] = primary.failover
    elif primary.weight is not None:
        record_set["Weight"] = primary.weight
    elif failover.routing == "latency":
        record_set["Region"] = primary.region
    client = ctx.target.client("route53", ROUTE53_REGION)
    client.change_resource_record_sets(
        HostedZoneId=ctx.inventory.hosted_zone_id,
        ChangeBatch={"Comment": f"chaos run {ctx.run_id}: manual failover",
                     "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})
