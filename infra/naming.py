"""Physical names and tags shared by the components, so every resource is named and tagged alike."""

from __future__ import annotations

from collections.abc import Mapping

from infra.config import StackConfig, WorkloadConfig

BACKUP_TIER_TAG = "backup-tier"  # AWS Backup selections pick resources by this tag
WORKLOAD_TAG = "workload"
STRATEGY_TAG = "dr-strategy"
# The workload's targets travel with its resources, so guard rails that see only resources (the
# policy pack's alarm-threshold check, Resilience Hub assessments) can compare against them.
RTO_TAG = "dr-rto-seconds"
# What a workload resource is for, where it is not the workload's data itself: "archive" marks a
# compliance copy (the RDS snapshot-export bucket) that no recovery restores from, so guard rails
# (policy pack) and the cost simulation do not count it as a store to back up or replicate.
ROLE_TAG = "dr-role"
ARCHIVE_ROLE = "archive"
RPO_TAG = "dr-rpo-seconds"
CHAOS_OPT_IN_TAG = "chaos-opt-in"  # FIS templates and the chaos runner only touch resources with it
CHAOS_OPT_IN_VALUE = "true"


def physical_name(config: StackConfig, workload: str, role: str | None = None) -> str:
    """`<workload>-<environment>[-<role>]`: unique per stack, readable in the AWS console."""
    parts = [workload, config.environment] + ([role] if role else [])
    return "-".join(parts)


def workload_tags(config: StackConfig, workload: WorkloadConfig) -> Mapping[str, str]:
    """Tags for a workload's resources (the provider adds the stack tags as default tags)."""
    tags = {
        WORKLOAD_TAG: workload.name,
        STRATEGY_TAG: workload.strategy.name,
        BACKUP_TIER_TAG: workload.backup_tier,
        RTO_TAG: f"{workload.targets.rto_seconds:g}",
        RPO_TAG: f"{workload.targets.rpo_seconds:g}",
    }
    if config.chaos.enabled:
        tags[CHAOS_OPT_IN_TAG] = CHAOS_OPT_IN_VALUE
    return tags


def region_of_arn(arn: str) -> str:
    """The region field of an ARN (empty for global services)."""
    return arn.split(":")[3]
