"""DNS failover of the application, and the private records data stores fail over through.

Route 53 failover belongs to the application's endpoints, not to its data stores:

- the public zone holds ONE application record (e.g. ``www.<zone>``), one answer per region, each
  pointing at that region's application endpoint (a load balancer, as an alias record, or an
  existing host name, as a CNAME) and guarded by a health check on that endpoint;
  ``failover`` routing answers PRIMARY while its check passes, then SECONDARY; ``latency`` or
  ``weighted`` routing (all workloads active-active) answers every healthy region;
- data stores are never behind public names: a DynamoDB endpoint or a bucket domain reached
  through a custom CNAME fails TLS/SigV4 or names the wrong bucket. The application's
  configuration names the table, bucket or file system per region, and the runbooks switch it;
- an RDS writer is found through a private record (a private hosted zone associated with both
  regions' VPCs) that answers the primary's address. The runbook promotes the replica first, then
  repoints the record, so writers never reach an unpromoted, read-only replica. Pulumi ignores
  later changes of that record's value: after a failover, an update must not point it back.

Route 53 is a global service; every resource here uses the primary region's provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.config import AppEndpoint, HealthCheckConfig
from infra.strategies import Routing

EQUAL_WEIGHT = 50


@dataclass(frozen=True)
class PrivateRecord:
    """A data store's private name: the runbook repoints it after promoting the DR copy."""

    workload: str
    record_name: str
    """FQDN inside the private zone."""
    value: pulumi.Input[str]
    """What it answers before any failover (the primary's address)."""


@dataclass
class DnsFailoverArgs:
    """Inputs of the stack's DNS failover."""

    zone_name: str
    """The public hosted zone to declare, e.g. ``securecart.example.com`` (delegated by a person)."""
    record_name: str
    """The application's name in the zone, e.g. ``www.securecart.example.com``."""
    routing: Routing
    """``failover`` (PRIMARY/SECONDARY) or ``latency``/``weighted`` (every region serves)."""
    primary_region: str
    dr_region: str
    provider: aws.Provider
    """Route 53 is global: the primary region's provider."""
    health_check: HealthCheckConfig
    """Type, port, path, interval and failure threshold of every health check."""
    endpoints: Mapping[str, AppEndpoint]
    """Region -> the application's endpoint there; empty: no application record."""
    ttl_seconds: int
    """TTL of CNAME answers and private records (alias answers take the target's TTL)."""
    private_zone_name: str = ""
    """Private zone of the data-store records."""
    private_zone_vpcs: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Region -> VPC id the private zone is associated with (both regions' application VPCs)."""
    private_records: Sequence[PrivateRecord] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class DnsFailover(pulumi.ComponentResource):
    """The public zone, the application's health-checked record per region, and the private zone."""

    zone: aws.route53.Zone
    health_checks: dict[str, aws.route53.HealthCheck]  # region -> check of the application endpoint
    records: dict[str, aws.route53.Record]  # region -> application record
    private_zone: aws.route53.Zone | None
    private_records: dict[str, aws.route53.Record]  # workload -> record
    routing: Routing
    record_values: dict[str, str]  # region -> what the record answers (endpoint host name)
    endpoints: dict[str, AppEndpoint]

    def __init__(self, name: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:failover:DnsFailover", name, None, opts)
        child_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.routing = args.routing
        self.endpoints = dict(args.endpoints)
        self.zone = aws.route53.Zone(
            f"{name}-zone", name=args.zone_name, comment="SecureCart application failover",
            tags=dict(args.tags), opts=child_opts,
        )
        self.health_checks, self.records, self.record_values = {}, {}, {}
        for region in (args.primary_region, args.dr_region):
            endpoint = args.endpoints.get(region)
            if endpoint is None:
                continue
            check = self._health_check(f"{name}-health-{region}", endpoint, region, args, child_opts)
            self.health_checks[region] = check
            self.record_values[region] = endpoint.host_name
            self.records[region] = self._record(f"{name}-record-{region}", endpoint, region, check, args, child_opts)

        self.private_zone, self.private_records = None, {}
        if args.private_records:
            if not args.private_zone_vpcs:
                raise ValueError("DnsFailoverArgs.private_zone_vpcs: a private zone needs the VPCs that resolve it")
            self.private_zone = aws.route53.Zone(
                f"{name}-private-zone", name=args.private_zone_name,
                comment="SecureCart data-store names the runbooks repoint",
                vpcs=[aws.route53.ZoneVpcArgs(vpc_id=vpc, vpc_region=region)
                      for region, vpc in args.private_zone_vpcs.items()],
                tags=dict(args.tags), opts=child_opts,
            )
            for record in args.private_records:
                self.private_records[record.workload] = aws.route53.Record(
                    f"{name}-private-{record.workload}",
                    zone_id=self.private_zone.zone_id, name=record.record_name, type="CNAME",
                    ttl=args.ttl_seconds, records=[record.value],
                    # The failover runbook repoints this record at the promoted replica; an update
                    # after that must not send writers back to the lost primary.
                    opts=pulumi.ResourceOptions.merge(child_opts, pulumi.ResourceOptions(ignore_changes=["records"])),
                )
        self.register_outputs({"zone_id": self.zone.zone_id, "zone_name": self.zone.name,
                               "private_zone_id": self.private_zone.zone_id if self.private_zone else None})

    @staticmethod
    def _health_check(resource_name: str, endpoint: AppEndpoint, region: str, args: DnsFailoverArgs,
                      opts: pulumi.ResourceOptions) -> aws.route53.HealthCheck:
        check = args.health_check
        return aws.route53.HealthCheck(
            resource_name,
            type=check.type,
            fqdn=endpoint.host_name,
            port=check.port,
            resource_path=check.path,
            request_interval=check.interval_seconds,
            failure_threshold=check.failure_threshold,
            measure_latency=args.routing is not Routing.FAILOVER,
            tags={**args.tags, "Name": f"application-{region}", "region": region},
            opts=opts,
        )

    def _record(self, resource_name: str, endpoint: AppEndpoint, region: str, check: aws.route53.HealthCheck,
                args: DnsFailoverArgs, opts: pulumi.ResourceOptions) -> aws.route53.Record:
        target: dict = (
            # Alias to the load balancer: no TTL (Route 53 uses the target's), and the load
            # balancer's own health counts too (evaluate_target_health) besides the application check.
            {"type": "A", "aliases": [aws.route53.RecordAliasArgs(
                name=endpoint.host_name, zone_id=endpoint.load_balancer_zone_id, evaluate_target_health=True)]}
            if endpoint.load_balancer_zone_id else
            {"type": "CNAME", "ttl": args.ttl_seconds, "records": [endpoint.host_name]}
        )
        return aws.route53.Record(
            resource_name,
            zone_id=self.zone.zone_id,
            name=args.record_name,
            set_identifier=f"application-{region}",
            health_check_id=check.id,
            **target,
            **self._routing_policy(args.routing, region, args.primary_region),
            opts=opts,
        )

    @staticmethod
    def _routing_policy(routing: Routing, region: str, primary_region: str) -> dict:
        if routing is Routing.FAILOVER:
            role = "PRIMARY" if region == primary_region else "SECONDARY"
            return {"failover_routing_policies": [aws.route53.RecordFailoverRoutingPolicyArgs(type=role)]}
        if routing is Routing.LATENCY:
            return {"latency_routing_policies": [aws.route53.RecordLatencyRoutingPolicyArgs(region=region)]}
        return {"weighted_routing_policies": [aws.route53.RecordWeightedRoutingPolicyArgs(weight=EQUAL_WEIGHT)]}
