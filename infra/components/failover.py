"""DNS failover: the hosted zone, per-region health checks and each workload's routing records.

- pilot-light / warm-standby: a failover pair, PRIMARY (primary region) and SECONDARY (DR
  region), both health-checked; Route 53 answers SECONDARY once PRIMARY's check fails.
- active-active: one latency (or weighted) record per region, each with its health check, so
  both regions serve and an unhealthy one drops out of the answers.

A health check probes the application endpoint of its region (`endpoints`), on the workload's
own path, so a check says "this workload is healthy in this region". Route 53 is a global
service; its resources use the primary region's provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.config import HealthCheckConfig
from infra.strategies import Routing

RECORD_TYPE = "CNAME"
EQUAL_WEIGHT = 50


@dataclass(frozen=True)
class FailoverTarget:
    """One workload's record: what each region answers with."""

    workload: str
    """Workload name; keys the health checks and records, and the health-check path."""
    record_name: str
    """FQDN inside the zone."""
    routing: Routing
    """Failover pair, or latency/weighted records (active-active)."""
    values: Mapping[str, pulumi.Input[str]]
    """Region -> CNAME target (DB address, bucket domain, ...)."""


@dataclass
class DnsFailoverArgs:
    """Inputs of the stack's DNS failover."""

    zone_name: str
    """The hosted zone to declare, e.g. ``securecart.example.com``."""
    primary_region: str
    """Region the PRIMARY failover record answers for."""
    dr_region: str
    """Region the SECONDARY failover record answers for."""
    provider: aws.Provider
    """Route 53 is global: the primary region's provider."""
    health_check: HealthCheckConfig
    """Type, port, base path, interval and failure threshold of every health check."""
    endpoints: Mapping[str, str]
    """Region -> application endpoint FQDN the checks probe."""
    ttl_seconds: int
    """TTL of every record: with the check interval, it bounds how fast clients move."""
    targets: Sequence[FailoverTarget]
    """One per workload whose strategy routes."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the zone and health checks."""


class DnsFailover(pulumi.ComponentResource):
    """The zone plus, per workload, a health check and a record per region."""

    zone: aws.route53.Zone
    health_checks: dict[str, dict[str, aws.route53.HealthCheck]]  # workload -> region -> check
    records: dict[str, dict[str, aws.route53.Record]]  # workload -> region -> record
    targets: dict[str, FailoverTarget]

    def __init__(self, name: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:failover:DnsFailover", name, None, opts)
        child_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=args.zone_name,
            comment="SecureCart DR failover records",
            tags=dict(args.tags),
            opts=child_opts,
        )
        self.targets = {target.workload: target for target in args.targets}
        self.health_checks = {}
        self.records = {}
        regions = (args.primary_region, args.dr_region)
        for target in args.targets:
            checks = {
                region: self._health_check(f"{name}-{target.workload}-health-{region}", target, region, args, child_opts)
                for region in regions
            }
            self.health_checks[target.workload] = checks
            self.records[target.workload] = {
                region: aws.route53.Record(
                    f"{name}-{target.workload}-record-{region}",
                    zone_id=self.zone.zone_id,
                    name=target.record_name,
                    type=RECORD_TYPE,
                    ttl=args.ttl_seconds,
                    records=[target.values[region]],
                    set_identifier=f"{target.workload}-{region}",
                    health_check_id=checks[region].id,
                    **self._routing_policy(target.routing, region, args.primary_region),
                    opts=child_opts,
                )
                for region in regions
            }
        self.register_outputs({"zone_id": self.zone.zone_id, "zone_name": self.zone.name})

    @staticmethod
    def _health_check(
        resource_name: str, target: FailoverTarget, region: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions
    ) -> aws.route53.HealthCheck:
        check = args.health_check
        return aws.route53.HealthCheck(
            resource_name,
            type=check.type,
            fqdn=args.endpoints[region],
            port=check.port,
            resource_path=f"{check.path.rstrip('/')}/{target.workload}",
            request_interval=check.interval_seconds,
            failure_threshold=check.failure_threshold,
            measure_latency=target.routing is not Routing.FAILOVER,
            tags={**args.tags, "Name": f"{target.workload}-{region}", "workload": target.workload, "region": region},
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
