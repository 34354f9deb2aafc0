"""From the validated stack config to each component's Args: the mapping `__main__.py` reads as one line each.

Nothing here checks config (`infra.config.load_stack_config` did, before the first resource) and
nothing decides policy (the components and `infra.strategies` do): these functions only carry
config values and other components' outputs to the Args field that takes them.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.components.backup import Backup, BackupArgs, BackupRuleSpec, BackupTierSpec
from infra.components.cost import BudgetThreshold, CostArgs
from infra.components.dynamodb import GlobalTable, GlobalTableArgs
from infra.components.ebs import ComputeTier, ComputeTierArgs, SnapshotScheduleSpec
from infra.components.efs import FileStore, FileStoreArgs
from infra.components.failover import DnsFailover, DnsFailoverArgs, PrivateRecord
from infra.components.gameday import ALL_EXPERIMENTS, NETWORK_DISRUPT, GameDayArgs
from infra.components.monitoring import (BackupCopyAgeWatch, DynamoReplicationWatch, EfsReplicationWatch, Monitoring,
                                         MonitoringArgs, RdsReplicaWatch, S3ReplicationWatch)
from infra.components.rds import RelationalStore, RelationalStoreArgs
from infra.components.recovery_plan import (PrivateRecordRepoint, RegionSwitchPlanArgs, ReplicaPromotion, TrafficShift,
                                           Uncovered)
from infra.components.resilience import DISRUPTIONS, ResilienceArgs, StrategyTargets
from infra.components.s3 import REPLICATION_RULE_ID, ReplicatedBucket, ReplicatedBucketArgs
from infra.config import RESILIENCE_APP_TAG, BackupTier, StackConfig, WorkloadConfig
from infra.inventory import DeclaredWorkload, Store, experiments_for
from infra.providers import RegionalProviders
from infra.envelope.worst_case import REGION_OUTAGE
from infra.strategies import Kind, Routing, dr_instance_count

# AWS Backup's name for each kind (restore testing selects by it).
BACKUP_TYPES: dict[Kind, str] = {Kind.RDS: "RDS", Kind.DYNAMODB: "DynamoDB", Kind.S3: "S3", Kind.EFS: "EFS",
                                 Kind.EC2: "EC2"}


def efs_transition(days: int) -> str:
    """EFS spells lifecycle ages as AFTER_1_DAY, AFTER_7_DAYS, ..."""
    return f"AFTER_{days}_DAY" if days == 1 else f"AFTER_{days}_DAYS"


# ----- workload stores ------------------------------------------------------------------------------


def declare_store(config: StackConfig, providers: RegionalProviders, w: WorkloadConfig) -> Store:
    """Declare one workload's store: the component for its kind, shaped by its strategy."""
    tags = naming.workload_tags(config, w)
    spec, s = w.strategy, w.settings
    primary, dr = config.primary_region, config.dr_region
    common = dict(workload=w.name, primary_region=primary, providers=providers.by_region)  # every store's Args
    network = config.network.regions
    if w.kind is Kind.RDS:
        return RelationalStore(w.name, RelationalStoreArgs(
            **common, dr_region=dr, identifier=naming.physical_name(config, w.name), settings=s,
            cross_region_replica=spec.rds_cross_region_replica, networks=network, tags=tags))
    if w.kind is Kind.DYNAMODB:
        return GlobalTable(w.name, GlobalTableArgs(
            **common, table_name=naming.physical_name(config, w.name),
            replica_regions=[dr] if spec.dynamodb_global_replica else [],
            pitr_recovery_period_days=s.pitr_recovery_period_days,
            consistency=s.multi_region_consistency, witness_region=s.witness_region, tags=tags))
    if w.kind is Kind.S3:
        return ReplicatedBucket(w.name, ReplicatedBucketArgs(
            **common, dr_region=dr, settings=s, replicate=spec.s3_replication, tags=tags))
    if w.kind is Kind.EFS:
        return FileStore(w.name, FileStoreArgs(
            **common, dr_region=dr, replicate=spec.efs_replication, backup_tier=w.backup_tier,
            transition_to_ia=efs_transition(s.transition_to_ia_days),
            mount_target_subnets=network[primary].subnets, dr_mount_target_subnets=network[dr].subnets,
            security_group_ids={r: network[r].security_groups.get("fileSystem", ()) for r in config.regions},
            tags=tags))
    return ComputeTier(w.name, ComputeTierArgs(
        **common, dr_region=dr, primary_zones=config.network.zones(primary), dr_zones=config.network.zones(dr),
        instance_count=s.instance_count, dr_capacity=dr_instance_count(spec, s.instance_count),
        schedules=[SnapshotScheduleSpec(name="scheduled", interval_hours=s.snapshot_interval_hours,
                                        retain_count=s.snapshot_retain_count, dr_retain_days=s.dr_copy_retain_days)],
        instance_type=s.instance_type, instance_tags=tags,
        subnet_ids={**network[primary].subnets, **network[dr].subnets},
        security_group_ids={r: network[r].security_groups.get("compute", ()) for r in config.regions},
        ami_parameter=s.image_parameter, ami_ids=s.ami_ids, user_data=s.user_data, tags=tags))


# ----- DNS failover ---------------------------------------------------------------------------------


def _vpc_id(config: StackConfig, providers: RegionalProviders, region: str) -> pulumi.Input[str]:
    configured = config.network.regions[region].vpc_id
    if configured is not None:
        return configured
    # lab / localstack: the region's default VPC
    return aws.ec2.get_vpc_output(default=True, opts=pulumi.InvokeOutputOptions(provider=providers[region])).id


def dns_failover_args(
    config: StackConfig, providers: RegionalProviders, workloads: list[DeclaredWorkload]
) -> DnsFailoverArgs:
    """The application record (one per region, health-checked) and the private data-store records."""
    failover = config.failover
    private = [PrivateRecord(workload=w.config.name, record_name=w.config.failover.record_name,
                             value=w.store.primary.address)
               for w in workloads
               if w.config.failover is not None and w.config.failover.record_name is not None
               and isinstance(w.store, RelationalStore) and w.store.replica is not None]
    return DnsFailoverArgs(
        zone_name=failover.zone_name, record_name=failover.record_name, routing=failover.routing,
        primary_region=config.primary_region, dr_region=config.dr_region,
        provider=providers.primary, health_check=failover.health_check,
        # No workload with a DR copy or DR compute: nothing to fail over to, no application record.
        endpoints=failover.endpoints if any(w.config.strategy.routing is not None for w in workloads) else {},
        ttl_seconds=failover.ttl_seconds, private_zone_name=failover.private_zone_name,
        private_zone_vpcs={region: _vpc_id(config, providers, region) for region in config.regions} if private else {},
        private_records=private)


# ----- AWS Backup -----------------------------------------------------------------------------------


def backup_tier(tier: BackupTier) -> BackupTierSpec:
    return BackupTierSpec(
        name=tier.name,
        rules=[BackupRuleSpec(
            name=r.name, schedule=r.schedule, delete_after_days=r.delete_after_days,
            cold_storage_after_days=r.cold_storage_after_days, copy_to_dr=r.copy_to_dr,
            copy_delete_after_days=r.copy_delete_after_days,
            copy_cold_storage_after_days=r.copy_cold_storage_after_days,
            start_window_minutes=r.start_window_minutes, completion_window_minutes=r.completion_window_minutes)
            for r in tier.rules],
        continuous_backup_days=tier.continuous_retention_days if tier.continuous else None,
        restore_testing=tier.restore_testing,
        resource_types=tuple(sorted(BACKUP_TYPES[kind] for kind in tier.kinds)))


def backup_args(config: StackConfig, providers: RegionalProviders) -> BackupArgs:
    lock = config.backup.vault_lock
    return BackupArgs(
        primary_region=config.primary_region, dr_region=config.dr_region, providers=providers.by_region,
        tiers=[backup_tier(tier) for tier in config.backup.tiers.values()],
        lock_mode=lock.mode, lock_min_retention_days=lock.min_retention_days,
        lock_max_retention_days=lock.max_retention_days, lock_changeable_for_days=lock.changeable_for_days or 3,
        manage_region_settings=config.backup.manage_region_settings,
        audit_framework=config.backup.audit_mode != "off",
        declare_config_recorder=config.backup.audit_mode == "with-recorder",
        notification_subscribers=list(config.backup.notify))


# ----- monitoring, cost, game days ------------------------------------------------------------------


def monitoring_args(
    config: StackConfig, providers: RegionalProviders, workloads: list[DeclaredWorkload]
) -> MonitoringArgs:
    """Alert topics plus a lag alarm for every replication the stores declared, each at the
    threshold validation derived from (or checked against) the workload's RPO target."""
    alarms = config.monitoring
    threshold = alarms.replication_thresholds
    primary, dr = config.primary_region, config.dr_region
    stores = [(w.config.name, w.store) for w in workloads]
    return MonitoringArgs(
        primary_region=primary, dr_region=dr, providers=providers.by_region, alert_emails=alarms.alert_emails,
        s3_replication=[S3ReplicationWatch(
            name=name, region=primary, source_bucket=store.source.bucket.bucket,
            destination_bucket=store.replica.bucket.bucket, rule_id=REPLICATION_RULE_ID,
            threshold_seconds=threshold[name])
            for name, store in stores if isinstance(store, ReplicatedBucket) and store.replica is not None],
        dynamodb_replication=[DynamoReplicationWatch(
            name=name, region=primary, table_name=store.table.name, receiving_region=region,
            threshold_seconds=threshold[name])
            for name, store in stores if isinstance(store, GlobalTable) and name in threshold
            for region in store.replica_regions],
        rds_replicas=[RdsReplicaWatch(
            name=name, region=dr, replica_identifier=store.replica.identifier,
            threshold_seconds=threshold[name])
            for name, store in stores if isinstance(store, RelationalStore) and store.replica is not None],
        efs_replication=[EfsReplicationWatch(
            name=name, region=primary, file_system_id=store.file_system.id,
            destination_file_system_id=store.replica_file_system_id, threshold_seconds=threshold[name])
            for name, store in stores if isinstance(store, FileStore) and store.replica_file_system_id is not None],
        backup_copy_age=backup_copy_age_watches(config))


def backup_copy_age_watches(config: StackConfig) -> list[BackupCopyAgeWatch]:
    """One alarm on the age of the newest DR copy, at the tightest region-loss RPO target of the
    workloads that recover from the copies (backup-restore; EC2 recovers from DLM copies)."""
    targets = [w.scenario_targets[REGION_OUTAGE].rpo_seconds for w in config.workloads.values()
               if w.strategy.name == "backup-restore" and w.kind is not Kind.EC2 and REGION_OUTAGE in w.scenario_targets]
    if not targets:
        return []
    return [BackupCopyAgeWatch(name="dr-copies", region=config.primary_region, max_age_seconds=min(targets))]


def cost_args(config: StackConfig, providers: RegionalProviders, alert_topic_arn: pulumi.Input[str]) -> CostArgs:
    budgets = config.budgets
    return CostArgs(
        primary_region=config.primary_region, providers=providers.by_region,
        storage_budget_usd=budgets.s3_monthly_usd, backup_budget_usd=budgets.backup_monthly_usd,
        alert_emails=config.monitoring.alert_emails,
        thresholds=[BudgetThreshold(t.percent, t.notification_type) for t in budgets.thresholds],
        alert_topic_arn=alert_topic_arn, anomaly_threshold_usd=budgets.anomaly_threshold_usd,
        anomaly_monitor_arn=budgets.anomaly_monitor_arn, create_anomaly_monitor=budgets.create_anomaly_monitor,
        # Second step, ~24 h after the first deploy (docs/config.md): keys must be in billing data first.
        cost_allocation_tags=(sorted({*config.tags, naming.WORKLOAD_TAG, naming.STRATEGY_TAG, naming.BACKUP_TIER_TAG})
                              if budgets.activate_cost_allocation_tags else []),
        name_prefix=f"securecart-{config.environment}")


def game_day_args(
    config: StackConfig,
    providers: RegionalProviders,
    workloads: list[DeclaredWorkload],
    *,
    stop_condition_alarm_arn: pulumi.Input[str],
    hosted_zone_id: pulumi.Input[str],
    private_zone_id: pulumi.Input[str] | None = None,
) -> GameDayArgs:
    """FIS templates for the experiments the declared stores can undergo, and the roles around them."""
    stores = [w.store for w in workloads]
    wanted = {experiment for store in stores for experiment in experiments_for(store)}
    outage_zone = config.network.zones(config.primary_region)[0]
    return GameDayArgs(
        primary_region=config.primary_region, dr_region=config.dr_region, providers=providers.by_region,
        stop_condition_alarm_arn=stop_condition_alarm_arn, az_outage_zone=outage_zone,
        # The subnet of the outage zone by id: it is ours by config, and a tag nobody sets would
        # leave the experiment with no target.
        disrupted_subnet_ids=[s for z, s in config.network.regions[config.primary_region].subnets.items()
                              if z == outage_zone],
        chaos_tag_key=naming.CHAOS_OPT_IN_TAG, chaos_tag_value=naming.CHAOS_OPT_IN_VALUE,
        experiments=[e for e in ALL_EXPERIMENTS if e in wanted
                     and (e != NETWORK_DISRUPT or config.network.regions[config.primary_region].subnets)],
        dynamodb_table_names=[s.table.name for s in stores if isinstance(s, GlobalTable) and s.replica_regions],
        s3_bucket_names=[s.source.bucket.bucket for s in stores
                         if isinstance(s, ReplicatedBucket) and s.replica is not None],
        hosted_zone_id=hosted_zone_id, private_zone_id=private_zone_id)


# ----- recovery AWS runs: the Region switch plan and the Resilience Hub policies ----------------------

# Why a workload's data needs no step of its own in the plan (AWS user guide, Region switch execution
# blocks: there is no DynamoDB or S3 block; a backup-restore recovery is an AWS Backup restore job).
NO_STEP_REASONS: dict[Kind, str] = {
    Kind.DYNAMODB: "global table: already writable in both regions",
    Kind.S3: "replica bucket: the application switches buckets",
    Kind.EFS: "EFS replica: read-only until its replication is deleted, which no execution block does",
}


def _no_step_reason(w: WorkloadConfig, store: object) -> str | None:
    if w.strategy.name == "backup-restore":
        return "backup-restore: recovered by restoring AWS Backup copies in the DR region"
    if isinstance(store, ComputeTier):
        # EC2AutoScaling sizes the activated region's group from the other region's group (its `asgs`
        # takes exactly two, one per Region: botocore arc-region-switch model); the primary compute
        # runs as plain instances, so there is nothing to size the DR group from.
        return ("EC2AutoScaling needs an Auto Scaling group in each region; the primary compute runs as "
                "instances, so the DR group is scaled by hand")
    return NO_STEP_REASONS.get(w.kind)


def recovery_plan_args(
    config: StackConfig,
    providers: RegionalProviders,
    workloads: list[DeclaredWorkload],
    *,
    dns: DnsFailover,
    monitoring: Monitoring,
    backup: Backup,
) -> RegionSwitchPlanArgs:
    """The plan's steps from what was declared: replicas to promote, private records to repoint after
    them, and the application's record (its health check per region) to move traffic last."""
    primary, dr = config.primary_region, config.dr_region
    promotions, repoints, uncovered = [], [], []
    for w in workloads:
        store, rto = w.store, w.config.targets.rto_seconds
        if isinstance(store, RelationalStore) and store.replica is not None:
            promotions.append(ReplicaPromotion(w.config.name, {primary: store.primary.arn, dr: store.replica.arn}, rto))
            record = dns.private_records.get(w.config.name)
            if record is not None and dns.private_zone is not None:
                repoints.append(PrivateRecordRepoint(
                    w.config.name, zone_id=dns.private_zone.zone_id, record_name=w.config.failover.record_name,
                    record_type=record.type, ttl_seconds=config.failover.ttl_seconds,
                    values={primary: store.primary.address, dr: store.replica.address}, rto_seconds=rto))
        if (reason := _no_step_reason(w.config, store)) is not None:
            uncovered.append(Uncovered(w.config.name, reason))
    traffic = None
    # Failover routing only: latency/weighted records (all active-active) already answer both regions.
    if dns.routing is Routing.FAILOVER and set(dns.records) == set(config.regions):
        behind = [w for w in workloads if w.config.strategy.routing is not None]
        traffic = TrafficShift(
            tuple(w.config.name for w in behind), hosted_zone_id=dns.zone.zone_id,
            record_name=config.failover.record_name,
            record_set_identifiers={r: dns.records[r].set_identifier for r in config.regions},
            health_check_ids={r: dns.health_checks[r].id for r in config.regions},
            rto_seconds=min(w.config.targets.rto_seconds for w in behind))
    plan = config.recovery_plan
    return RegionSwitchPlanArgs(
        plan_name=f"securecart-{config.environment}", primary_region=primary, dr_region=dr,
        providers=providers.by_region,
        alarm_arns={f"guardrail-{region}": alarm.arn for region, alarm in monitoring.guardrail_alarms.items()},
        report_bucket=backup.report_bucket.bucket.bucket, report_bucket_arn=backup.report_bucket.bucket.arn,
        promotions=promotions, repoints=repoints, traffic=traffic, uncovered=uncovered,
        manual_approval=plan.manual_approval, approval_timeout_minutes=plan.approval_timeout_minutes)


def resilience_args(config: StackConfig, providers: RegionalProviders) -> ResilienceArgs:
    """One policy per strategy in use, each disruption type at the tightest targets of its workloads."""
    by_strategy: dict[str, list[WorkloadConfig]] = {}
    for w in config.workloads.values():
        by_strategy.setdefault(w.strategy.name, []).append(w)
    strategies = []
    for name, members in by_strategy.items():
        rto = min(w.targets.rto_seconds for w in members)
        rpo = min(w.targets.rpo_seconds for w in members)
        strategies.append(StrategyTargets(
            strategy=name, workloads=tuple(w.name for w in members),
            rto_seconds={d: rto for d in DISRUPTIONS}, rpo_seconds={d: rpo for d in DISRUPTIONS}))
    return ResilienceArgs(
        name_prefix=f"securecart-{config.environment}", primary_region=config.primary_region,
        dr_region=config.dr_region, providers=providers.by_region, strategies=strategies,
        app_tag_key=RESILIENCE_APP_TAG, app_tag_value=config.tags[RESILIENCE_APP_TAG])
