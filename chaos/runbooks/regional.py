"""Regional failover: the primary region is gone, run the workload from its DR region.

Per kind, as the strategies prescribe:
- dynamodb (global table replica): switch the application to the replica region (same table name);
- s3 (CRR replica bucket): switch the application to the replica bucket;
- rds (cross-region read replica): `PromoteReadReplica`, wait until it is available and accepts
  writes, THEN repoint the private record the application resolves the writer by (inventory
  `failover.private_record`) at the promoted instance and wait for Route 53 to apply it (INSYNC),
  then switch the application to it. Promotion first: writers never reach a read-only replica.
Then verify that Route 53 answers the application's DR record (its health check fails it over by
itself); if it does not within the bound, change the record by hand (UPSERT the PRIMARY record
set to the DR value), as the runbook on AWS would.
"""
from __future__ import annotations

from typing import Any

from chaos.probes import dns
from chaos.probes.dns import ROUTE53_REGION
from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.workload import postgres
from chaos.workload.stores import StoreRef, replica_stores

DNS_FAILOVER_BOUND_SECONDS = 30.0


def dr_store(ctx: RunbookContext) -> StoreRef:
    for store in replica_stores(ctx.workload):
        if store.region == ctx.workload["dr_region"]:
            return store
    raise RunbookError(f"{ctx.workload_name}: no replica in {ctx.workload['dr_region']} to fail over to")


def fail_over_to_dr(ctx: RunbookContext) -> None:
    target = dr_store(ctx)
    ctx.started(f"regional-failover-{target.kind}")
    if target.kind == "rds":
        _promote_replica(ctx, target)
        _repoint_private_record(ctx, target.region)
    ctx.routing.switch(target)
    ctx.done(f"application switched to {target}")
    if dns.has_dns_failover(ctx.inventory, ctx.workload):
        _verify_dns(ctx, target.region)


def _promote_replica(ctx: RunbookContext, replica: StoreRef) -> None:
    client = ctx.target.client("rds", replica.region)
    client.promote_read_replica(DBInstanceIdentifier=replica.name)
    ctx.wait_until(f"promotion of {replica.name}",
                   lambda: postgres.available_and_writable(ctx.target, ctx.workload, replica))
    ctx.done(f"promoted read replica {replica.name}", at=ctx.last_observed_at)


def _repoint_private_record(ctx: RunbookContext, region: str) -> None:
    failover = ctx.workload.get("failover") or {}
    record = failover.get("private_record")
    if not record:
        return
    address = (failover.get("endpoints") or {}).get(region)
    if not address:
        raise RunbookError(f"{ctx.workload_name}: the inventory names no {region} endpoint to repoint "
                           f"{record['name']} at")
    client = ctx.target.client("route53", ROUTE53_REGION)
    change = client.change_resource_record_sets(
        HostedZoneId=str(record["zone_id"]).rsplit("/", 1)[-1],
        ChangeBatch={"Comment": f"chaos run {ctx.run_id}: writer moved to {region}",
                     "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                         "Name": record["name"], "Type": record.get("type") or "CNAME",
                         "TTL": int(record.get("ttl") or 60), "ResourceRecords": [{"Value": address}]}}]})
    change_id = change["ChangeInfo"]["Id"]
    ctx.wait_until(f"{record['name']} change {change_id} in sync",
                   lambda: client.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC")
    ctx.done(f"{record['name']} now answers the promoted writer {address}", at=ctx.last_observed_at)


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
    failover = dns.application(ctx.inventory)
    records = failover["records"]
    dr_value = next(r["value"] for r in records if r["region"] == region)
    primary = next(r for r in records if r["region"] == ctx.workload["primary_region"])
    dr_record = next(r for r in records if r["region"] == region)
    record_set: dict[str, Any] = {
        "Name": failover["record_name"], "Type": failover.get("record_type") or "CNAME",
        "SetIdentifier": primary["set_identifier"]}
    if dr_record.get("alias_zone_id"):  # an alias to the DR load balancer (no TTL, no values)
        record_set["AliasTarget"] = {"HostedZoneId": dr_record["alias_zone_id"], "DNSName": dr_value,
                                     "EvaluateTargetHealth": True}
    else:
        record_set.update(TTL=60, ResourceRecords=[{"Value": dr_value}])
    if primary.get("failover"):
        record_set["Failover"] = primary["failover"]
    elif primary.get("weight") is not None:
        record_set["Weight"] = primary["weight"]
    elif failover.get("routing") == "latency":
        record_set["Region"] = primary["region"]
    client = ctx.target.client("route53", ROUTE53_REGION)
    client.change_resource_record_sets(
        HostedZoneId=dns.zone_id(ctx.inventory),
        ChangeBatch={"Comment": f"chaos run {ctx.run_id}: manual failover",
                     "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})
