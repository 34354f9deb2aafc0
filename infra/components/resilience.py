"""AWS Resilience Hub: one resiliency policy per DR strategy in use, and the tag an assessment finds.

A resiliency policy states RTO and RPO per disruption type (AZ, hardware, software, Region); Resilience
Hub assesses an application against it. Each strategy's policy takes, for every disruption type, the
tightest targets of the stack's workloads on that strategy: the same targets the game days judge
(the workload's region-outage, az-outage, instance-failure and accidental-deletion results).

Resilience Hub imports an application's resources from a resource group, among other sources; every
resource of the stack carries the provider default tag `resilience-hub-app=<app>` (infra/config.py
adds it to the stack tags), and a tag-based resource group per region collects them.

Facts (read 2026-11-30): durations are Go durations in the provider ("Recovery Time Objective
(RTO) as a Go duration", pulumi-aws 7.51.1 `resiliencehub/_inputs.py`); AZ, Hardware and Software
are required, Region optional (CloudFormation PolicyMap:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resiliencehub-resiliencypolicy-policymap.html);
tiers MissionCritical, Critical, Important, CoreServices, NonCritical, NotApplicable and location
constraints AnyLocation, SameContinent, SameCountry (pulumi-aws 7.51.1 `resiliency_policy.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

DISRUPTIONS = ("az", "hardware", "software", "region")
# How critical each strategy's workloads are: the more a strategy spends on standby, the higher.
TIER_OF_STRATEGY = {"active-active": "MissionCritical", "warm-standby": "Critical",
                    "pilot-light": "Important", "backup-restore": "NonCritical"}


@dataclass(frozen=True)
class StrategyTargets:
    """The tightest targets of one strategy's workloads, per disruption type (seconds)."""

    strategy: str
    workloads: tuple[str, ...]
    rto_seconds: Mapping[str, float]
    rpo_seconds: Mapping[str, float]


@dataclass
class ResilienceArgs:
    """Inputs of :class:`Resilience`."""

    name_prefix: str
    primary_region: str
    dr_region: str
    providers: Mapping[str, aws.Provider]
    strategies: Sequence[StrategyTargets]
    app_tag_key: str
    app_tag_value: str
    tags: Mapping[str, str] = field(default_factory=dict)


def go_duration(seconds: float) -> str:
    """Whole seconds, rounded down so the policy is never looser than the target."""
    return f"{int(seconds)}s"


def location_constraint(primary_region: str, dr_region: str) -> str:
    """Both regions in one country (same region prefix, e.g. `us-`) keep the data there."""
    return "SameCountry" if primary_region.split("-")[0] == dr_region.split("-")[0] else "AnyLocation"


class Resilience(pulumi.ComponentResource):
    """Resiliency policies (keyed by strategy) and the resource groups an application assessment imports."""

    policies: dict[str, aws.resiliencehub.ResiliencyPolicy]
    resource_groups: dict[str, aws.resourcegroups.Group]

    def __init__(self, name: str, args: ResilienceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:resilience:Resilience", name, None, opts)
        home = pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region])
        self.policies = {}
        for targets in args.strategies:
            self.policies[targets.strategy] = aws.resiliencehub.ResiliencyPolicy(
                f"{name}-{targets.strategy}",
                name=f"{args.name_prefix}-{targets.strategy}",
                description=f"{targets.strategy} workloads: {', '.join(targets.workloads)}",
                tier=TIER_OF_STRATEGY[targets.strategy],
                data_location_constraint=location_constraint(args.primary_region, args.dr_region),
                policy={disruption: {"rto": go_duration(targets.rto_seconds[disruption]),
                                     "rpo": go_duration(targets.rpo_seconds[disruption])}
                        for disruption in DISRUPTIONS},
                tags=dict(args.tags),
                opts=home,
            )
        query = json.dumps({"ResourceTypeFilters": ["AWS::AllSupported"],
                            "TagFilters": [{"Key": args.app_tag_key, "Values": [args.app_tag_value]}]})
        self.resource_groups = {
            region: aws.resourcegroups.Group(
                f"{name}-app-{region}",
                name=f"{args.app_tag_value}-{region}",
                description=f"Resources of {args.app_tag_value} in {region}, for a Resilience Hub assessment",
                resource_query={"query": query, "type": "TAG_FILTERS_1_0"},
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[region]),
            )
            for region in (args.primary_region, args.dr_region)
        }
        self.register_outputs({"policy_arns": {s: p.arn for s, p in self.policies.items()}})
