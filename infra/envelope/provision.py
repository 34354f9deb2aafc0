"""From the validated stack config to the `Provision` each workload's envelope is computed from.

Duck-typed over `infra.config` objects (imported for type checking only) so that `infra.config`
can call it while validating without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.envelope.worst_case import BackupSchedule, HealthCheck, Provision, WorkloadEnvelope, envelope
from infra.strategies import Kind, live_replica

if TYPE_CHECKING:
    from infra.config import StackConfig, WorkloadConfig


def alarm_kind(w: WorkloadConfig) -> str | None:
    """The kind of replication-lag alarm that bounds this workload's asynchronous replication, if any."""
    if not live_replica(w.strategy, w.kind):
        return None
    if w.kind is Kind.DYNAMODB and w.settings.multi_region_consistency == "strong":
        return None  # synchronous: nothing to alarm on
    return w.kind.value


def provision_of(stack: StackConfig, w: WorkloadConfig, *, alarm_threshold: float | None = None) -> Provision:
    """What the program provisions for `w`, as its envelope needs it."""
    failover = stack.failover
    tier = stack.backup.tiers.get(w.backup_tier)
    threshold = alarm_threshold
    if threshold is None and alarm_kind(w) is not None:
        threshold = stack.monitoring.replication_thresholds.get(w.name)
    return Provision(
        workload=w.name,
        kind=w.kind.value,
        strategy=w.strategy.name,
        live_replica=live_replica(w.strategy, w.kind),
        dr_compute=w.strategy.dr_compute,
        health_check=HealthCheck(interval_seconds=failover.health_check.interval_seconds,
                                 failure_threshold=failover.health_check.failure_threshold,
                                 ttl_seconds=failover.ttl_seconds),
        routed=w.strategy.routing is not None,
        backup_rules=tuple(
            BackupSchedule(r.name, r.schedule, r.start_window_minutes, r.completion_window_minutes, r.copy_to_dr)
            for r in (tier.rules if tier else ())),
        continuous_backup=bool(tier and tier.continuous),
        alarm_threshold_seconds=threshold,
        dynamodb_consistency=getattr(w.settings, "multi_region_consistency", "eventual"),
        dlm_interval_hours=getattr(w.settings, "snapshot_interval_hours", None),
        backup_tier=w.backup_tier,
    )


def stack_envelopes(stack: StackConfig) -> dict[str, WorkloadEnvelope]:
    """Every workload's envelope, in config order."""
    return {name: envelope(provision_of(stack, w)) for name, w in stack.workloads.items()}


def envelope_document(env: WorkloadEnvelope, w: WorkloadConfig) -> dict[str, Any]:
    """The inventory's `envelope` of one workload: per covered scenario the mechanism, worst-case
    RTO/RPO on AWS with their named terms and the target the scenario is judged against; plus why
    the other scenarios are not covered (docs/inventory.md)."""
    scenarios = {}
    for name, scenario in env.scenarios.items():
        target = w.scenario_targets[name]
        scenarios[name] = {
            **scenario.to_dict(),
            "target": {"rto_seconds": target.rto_seconds, "rpo_seconds": target.rpo_seconds},
        }
    return {"scenarios": scenarios, "not_covered": dict(env.not_covered)}
