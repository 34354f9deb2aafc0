"""The DR strategy table: what each of the four strategies provisions and promises.

A strategy is data, not code paths scattered over components: components ask the workload's
`StrategySpec` whether to declare a replica, a replication rule or a DNS failover record.

Targets: the default RTO/RPO of a workload depends on its strategy *and* its kind (a promoted RDS
replica is slower than a DNS move; S3 RTC bounds S3 at 900 s), so the defaults are per
(strategy, kind), computed from the AWS envelope (`infra.envelope`) of a reference provisioning
(`REFERENCE_*` below) and rounded up to a step of `TARGET_LADDER`. A workload may tighten its
targets down to what its provisioned envelope allows (checked in `infra.config`), never loosen
them above the default: a looser target would let a regression pass a game day unnoticed; pick a
cheaper strategy instead. Accidental deletion, ransomware and a restore drill are recovered by a
restore whatever the strategy, and a failed backup job by retrying it, so each of those
(`RESTORE_SCENARIOS`) has its own default (`default_scenario_targets`), outside the region-level one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from infra.envelope.worst_case import (RESTORE_SCENARIOS, BackupSchedule, HealthCheck, Provision,
                                       WorkloadEnvelope, envelope)


class Kind(str, Enum):
    """Workload kinds: the AWS store a workload lives in."""

    RDS = "rds"
    DYNAMODB = "dynamodb"
    S3 = "s3"
    EFS = "efs"
    EC2 = "ec2"


class Routing(str, Enum):
    """Route 53 routing a strategy asks for."""

    FAILOVER = "failover"  # PRIMARY/SECONDARY records, health-checked
    LATENCY = "latency"  # one record per region, health-checked, both serving
    WEIGHTED = "weighted"  # like latency, traffic split by weight


@dataclass(frozen=True)
class StrategySpec:
    """One row of the DR table."""

    name: str
    summary: str
    kinds: frozenset[Kind]  # kinds this strategy can be applied to
    rds_cross_region_replica: bool  # read replica in the DR region, promoted on failover
    dynamodb_global_replica: bool  # global-table replica in the DR region
    s3_replication: bool  # CRR with Replication Time Control to a DR bucket
    efs_replication: bool  # EFS replication to a read-only DR file system
    routing: Routing | None  # DNS failover style; None = restore, then repoint by hand
    # DR compute: "zero" (declared, scaled to 0), "scaled-down" (1 instance), "full" (as primary)
    dr_compute: str
    continuous_backup: bool  # PITR-style continuous backup where AWS Backup offers it (RDS, S3)

    def allows_routing(self, routing: Routing) -> bool:
        """Active-active may use latency or weighted records; the others use failover records."""
        if self.routing is None:
            return False
        if self.routing is Routing.FAILOVER:
            return routing is Routing.FAILOVER
        return routing in (Routing.LATENCY, Routing.WEIGHTED)


BACKUP_RESTORE = StrategySpec(
    name="backup-restore",
    summary="Backups copied to the DR vault; recovery restores them into the DR region.",
    kinds=frozenset(Kind),
    rds_cross_region_replica=False,
    dynamodb_global_replica=False,
    s3_replication=False,
    efs_replication=False,
    routing=None,
    dr_compute="zero",
    continuous_backup=True,
)

PILOT_LIGHT = StrategySpec(
    name="pilot-light",
    summary="Data replicated to a small DR copy; DR compute declared at zero and scaled up on failover.",
    # A DynamoDB global-table replica is already a running standby: that is warm-standby.
    kinds=frozenset({Kind.RDS, Kind.S3, Kind.EFS, Kind.EC2}),
    rds_cross_region_replica=True,
    dynamodb_global_replica=False,
    s3_replication=True,
    efs_replication=True,
    routing=Routing.FAILOVER,
    dr_compute="zero",
    continuous_backup=True,
)

WARM_STANDBY = StrategySpec(
    name="warm-standby",
    summary="A scaled-down copy runs in the DR region; health-checked DNS fails over to it.",
    kinds=frozenset(Kind),
    rds_cross_region_replica=True,
    dynamodb_global_replica=True,
    s3_replication=True,
    efs_replication=True,
    routing=Routing.FAILOVER,
    dr_compute="scaled-down",
    continuous_backup=True,
)

ACTIVE_ACTIVE = StrategySpec(
    name="active-active",
    summary="Both regions serve traffic (latency or weighted routing); data is multi-writer.",
    # Multi-writer needs the store to accept writes in both regions: RDS PostgreSQL has one
    # writer, EFS replicas are read-only, S3 two-way replication is not modelled here.
    kinds=frozenset({Kind.DYNAMODB, Kind.EC2}),
    rds_cross_region_replica=False,
    dynamodb_global_replica=True,
    s3_replication=False,
    efs_replication=False,
    routing=Routing.LATENCY,
    dr_compute="full",
    continuous_backup=True,
)

STRATEGIES: dict[str, StrategySpec] = {
    spec.name: spec for spec in (BACKUP_RESTORE, PILOT_LIGHT, WARM_STANDBY, ACTIVE_ACTIVE)
}


def dr_instance_count(spec: StrategySpec, primary_count: int) -> int:
    """How many compute instances the DR region runs before a failover."""
    return {"zero": 0, "scaled-down": min(1, primary_count), "full": primary_count}[spec.dr_compute]


def live_replica(spec: StrategySpec, kind: Kind) -> bool:
    """Does the strategy keep a DR copy of this kind current by replication?"""
    return {
        Kind.RDS: spec.rds_cross_region_replica,
        Kind.DYNAMODB: spec.dynamodb_global_replica,
        Kind.S3: spec.s3_replication,
        Kind.EFS: spec.efs_replication,
        Kind.EC2: False,  # EC2 state reaches the DR region as DLM snapshot copies
    }[kind]


# ----- default targets, from the envelope of a reference provisioning ----------------------------

#: Steps targets are rounded up to (seconds): 1 min ... 7 days.
TARGET_LADDER: tuple[float, ...] = (
    60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800,
    43200, 86400, 129600, 172800, 259200, 345600, 604800)

#: The provisioning the defaults assume: the config's own defaults where it has them (Route 53
#: checks every 30 s, 3 failures, 60 s TTL; a backup rule's 60 min start and 1440 min completion
#: windows), a daily backup rule copied to the DR vault, the slowest DLM interval (24 h) and lag
#: alarms at the threshold that makes a round default (threshold + evaluation period).
REFERENCE_HEALTH_CHECK = HealthCheck(interval_seconds=30, failure_threshold=3, ttl_seconds=60)
REFERENCE_BACKUP_RULES = (BackupSchedule("daily", "cron(0 5 * * ? *)", 60, 1440, True),)
REFERENCE_DLM_INTERVAL_HOURS = 24
REFERENCE_ALARM_THRESHOLD_SECONDS = {Kind.RDS: 240, Kind.DYNAMODB: 60, Kind.S3: 600, Kind.EFS: 840}


def round_up(seconds: float, *, minimum: float = 0) -> float:
    """The smallest ladder step >= `seconds` (0 stays 0 unless `minimum` says otherwise)."""
    if seconds <= 0 and minimum <= 0:
        return 0.0
    value = max(seconds, minimum)
    return next((step for step in TARGET_LADDER if step >= value), float(value))


@lru_cache(maxsize=None)
def reference_envelope(strategy: str, kind: Kind) -> WorkloadEnvelope:
    spec = STRATEGIES[strategy]
    return envelope(Provision(
        workload=f"reference-{strategy}-{kind.value}", kind=kind.value, strategy=strategy,
        live_replica=live_replica(spec, kind), dr_compute=spec.dr_compute,
        health_check=REFERENCE_HEALTH_CHECK, routed=spec.routing is not None,
        backup_rules=REFERENCE_BACKUP_RULES, continuous_backup=spec.continuous_backup,
        alarm_threshold_seconds=REFERENCE_ALARM_THRESHOLD_SECONDS.get(kind),
        dlm_interval_hours=REFERENCE_DLM_INTERVAL_HOURS))


@lru_cache(maxsize=None)
def default_targets(strategy: str, kind: Kind) -> tuple[float, float]:
    """(RTO, RPO) a workload of `kind` under `strategy` gets when its config sets none: the worst
    reference envelope over every covered scenario but the restore scenarios, rounded up."""
    covered = [s for name, s in reference_envelope(strategy, kind).scenarios.items() if name not in RESTORE_SCENARIOS]
    rto = max(s.rto.seconds for s in covered)
    rpo = max(s.rpo.seconds for s in covered)
    return round_up(rto, minimum=60), round_up(rpo)


@lru_cache(maxsize=None)
def default_scenario_targets(strategy: str, kind: Kind, scenario: str) -> tuple[float, float]:
    """(RTO, RPO) of one of the `RESTORE_SCENARIOS` by default: its reference envelope, rounded up
    (a restore, or a retried backup, whatever the strategy)."""
    if scenario not in RESTORE_SCENARIOS:
        raise ValueError(f"{scenario}: its default is the workload's (default_targets)")
    covered = reference_envelope(strategy, kind).scenarios[scenario]
    return (round_up(covered.rto.seconds, minimum=60),
            round_up(covered.rpo.seconds, minimum=60 if covered.rpo.seconds else 0))
