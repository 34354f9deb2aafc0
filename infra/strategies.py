"""The DR strategy table: what each of the four strategies provisions and promises.

A strategy is data, not code paths scattered over components: components ask the workload's
`StrategySpec` whether to declare a replica, a replication rule or a DNS failover record.

Targets: each strategy has a design point (the default RTO/RPO) and a floor (the best it can
physically deliver). A workload may tighten its targets down to the floor, never loosen them
above the default: a looser target would let a regression pass a game day unnoticed; pick a
cheaper strategy instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
    default_rto_seconds: float
    default_rpo_seconds: float
    # Best achievable: a config target below the floor is an error. RTO must also be > 0.
    min_rto_seconds: float
    min_rpo_seconds: float
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
    default_rto_seconds=14400,
    default_rpo_seconds=3600,
    min_rto_seconds=3600,  # restoring a database and repointing takes about an hour at best
    min_rpo_seconds=300,  # continuous backup (PITR) restores to within 5 minutes
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
    default_rto_seconds=1800,
    default_rpo_seconds=60,
    min_rto_seconds=300,  # replica promotion plus scaling compute from zero
    min_rpo_seconds=1,  # asynchronous replication: never zero
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
    default_rto_seconds=300,
    default_rpo_seconds=30,
    min_rto_seconds=60,  # health-check detection plus DNS TTL
    min_rpo_seconds=1,
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
    default_rto_seconds=60,
    default_rpo_seconds=5,
    min_rto_seconds=0,  # exclusive: RTO must still be > 0 (health checks take time to notice)
    min_rpo_seconds=0,  # the only strategy that can promise zero loss
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
