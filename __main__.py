"""SecureCart DR topology: the wiring diagram.

config -> one provider per region -> one component per workload store -> DNS failover ->
AWS Backup, monitoring, cost, game days -> the `inventory` output (docs/inventory.md).
All validation happened in `load_stack_config`, before the first resource below.
"""

import pulumi

from infra import naming
from infra.components.backup import Backup, BackupArgs, BackupRuleSpec, BackupTierSpec
from infra.components.cost import BudgetThreshold as CostThreshold
from infra.components.cost import Cost, CostArgs
from infra.components.dynamodb import GlobalTable, GlobalTableArgs
from infra.components.ebs import ComputeTier, ComputeTierArgs, SnapshotScheduleSpec
from infra.components.efs import FileStore, FileStoreArgs
from infra.components.failover import DnsFailover, DnsFailoverArgs, FailoverTarget
from infra.components.gameday import ALL_EXPERIMENTS, GameDay, GameDayArgs
from infra.components.monitoring import (
    DynamoReplicationWatch,
    Monitoring,
    MonitoringArgs,
    RdsReplicaWatch,
    S3ReplicationWatch,
)
from infra.components.rds import RelationalStore, RelationalStoreArgs
from infra.components.s3 import REPLICATION_RULE_ID, ReplicatedBucket, ReplicatedBucketArgs
from infra.config import StackConfig, WorkloadConfig, load_stack_config
from infra.inventory import DeclaredWorkload, Store, build_inventory, experiments_for
from infra.providers import ProviderSettings, RegionalProviders
from infra.strategies import Kind, dr_instance_count

config: StackConfig = load_stack_config(pulumi.Config("securecart-dr"))
providers = RegionalProviders(config, ProviderSettings.from_config(pulumi.Config("aws")))
primary, dr = config.primary_region, config.dr_region
env = config.environment


def zones(region: str) -> list[str]:
    # Zone names a and b exist in every commercial region; the compute tier spreads over them.
    return [f"{region}a", f"{region}b"]


def efs_transition(days: int) -> str:
    """EFS spells lifecycle ages as AFTER_1_DAY, AFTER_7_DAYS, ..."""
    return f"AFTER_{days}_DAY" if days == 1 else f"AFTER_{days}_DAYS"


def declare_store(w: WorkloadConfig) -> Store:
    """Map one workload's config to the component for its kind."""
    tags = naming.workload_tags(config, w)
    spec, s = w.strategy, w.settings
    if w.kind is Kind.RDS:
        return RelationalStore(w.name, RelationalStoreArgs(
            workload=w.name, identifier=naming.physical_name(config, w.name), primary_region=primary,
            dr_region=dr, providers=providers.by_region, settings=s,
            cross_region_replica=spec.rds_cross_region_replica, tags=tags))
    if w.kind is Kind.DYNAMODB:
        return GlobalTable(w.name, GlobalTableArgs(
            workload=w.name, table_name=naming.physical_name(config, w.name), primary_region=primary,
            replica_regions=[dr] if spec.dynamodb_global_replica else [], providers=providers.by_region,
            pitr_recovery_period_days=s.pitr_recovery_period_days, tags=tags))
    if w.kind is Kind.S3:
        return ReplicatedBucket(w.name, ReplicatedBucketArgs(
            workload=w.name, primary_region=primary, dr_region=dr, providers=providers.by_region,
            settings=s, replicate=spec.s3_replication, tags=tags))
    if w.kind is Kind.EFS:
        return FileStore(w.name, FileStoreArgs(
            workload=w.name, primary_region=primary, dr_region=dr, providers=providers.by_region,
            backup_tier=w.backup_tier, transition_to_ia=efs_transition(s.transition_to_ia_days), tags=tags))
    return ComputeTier(w.name, ComputeTierArgs(
        workload=w.name, primary_region=primary, dr_region=dr, providers=providers.by_region,
        primary_zones=zones(primary), dr_zones=zones(dr), instance_count=s.instance_count,
        dr_capacity=dr_instance_count(spec, s.instance_count),
        schedules=[SnapshotScheduleSpec(name="scheduled", interval_hours=s.snapshot_interval_hours,
                                        retain_count=s.snapshot_retain_count, dr_retain_days=s.dr_copy_retain_days)],
        instance_type=s.instance_type, instance_tags=tags, tags=tags))


def failover_values(store: Store) -> dict[str, pulumi.Input[str]]:
    """What each region's record answers: the store's regional endpoint."""
    if isinstance(store, RelationalStore):
        return {primary: store.primary.address, dr: store.replica.address}
    if isinstance(store, GlobalTable):
        return {region: f"dynamodb.{region}.amazonaws.com" for region in config.regions}
    if isinstance(store, ReplicatedBucket):
        return {primary: store.source.bucket.bucket_regional_domain_name,
                dr: store.replica.bucket.bucket_regional_domain_name}
    if isinstance(store, FileStore):
        return {primary: store.file_system.dns_name,
                dr: store.replica_file_system_id.apply(lambda fs: f"{fs}.efs.{dr}.amazonaws.com")}
    return dict(config.failover.endpoints)  # compute answers at the regional application endpoint


workloads = [DeclaredWorkload(w, declare_store(w)) for w in config.workloads.values()]

dns = DnsFailover(f"{env}-dns", DnsFailoverArgs(
    zone_name=config.failover.zone_name, primary_region=primary, dr_region=dr, provider=providers.primary,
    health_check=config.failover.health_check, endpoints=config.failover.endpoints,
    ttl_seconds=config.failover.ttl_seconds,
    targets=[FailoverTarget(workload=w.config.name, record_name=w.config.failover.record_name,
                            routing=w.config.failover.routing, values=failover_values(w.store))
             for w in workloads if w.config.failover is not None]))

backup = Backup(f"{env}-backup", BackupArgs(
    primary_region=primary, dr_region=dr, providers=providers.by_region,
    tiers=[BackupTierSpec(
        name=tier.name,
        rules=[BackupRuleSpec(
            name=r.name, schedule=r.schedule, delete_after_days=r.delete_after_days,
            cold_storage_after_days=r.cold_storage_after_days, copy_to_dr=r.copy_to_dr,
            copy_delete_after_days=r.copy_delete_after_days,
            copy_cold_storage_after_days=r.copy_cold_storage_after_days,
            start_window_minutes=r.start_window_minutes, completion_window_minutes=r.completion_window_minutes)
            for r in tier.rules],
        continuous_backup_days=tier.continuous_retention_days if tier.continuous else None,
        restore_testing=tier.restore_testing) for tier in config.backup.tiers.values()],
    lock_mode=config.backup.vault_lock.mode,
    lock_min_retention_days=config.backup.vault_lock.min_retention_days,
    lock_max_retention_days=config.backup.vault_lock.max_retention_days,
    lock_changeable_for_days=config.backup.vault_lock.changeable_for_days or 3,
    manage_region_settings=config.backup.manage_region_settings))

alarms = config.monitoring
monitoring = Monitoring(f"{env}-monitoring", MonitoringArgs(
    primary_region=primary, dr_region=dr, providers=providers.by_region, alert_emails=alarms.alert_emails,
    s3_replication=[S3ReplicationWatch(
        name=w.config.name, region=primary, source_bucket=w.store.source.bucket.bucket,
        destination_bucket=w.store.replica.bucket.bucket, rule_id=REPLICATION_RULE_ID,
        threshold_seconds=alarms.s3_replication_latency_threshold_seconds)
        for w in workloads if isinstance(w.store, ReplicatedBucket) and w.store.replica is not None],
    dynamodb_replication=[DynamoReplicationWatch(
        name=w.config.name, region=primary, table_name=w.store.table.name, receiving_region=region,
        threshold_seconds=alarms.dynamodb_replication_latency_threshold_seconds)
        for w in workloads if isinstance(w.store, GlobalTable) for region in w.store.replica_regions],
    rds_replicas=[RdsReplicaWatch(
        name=w.config.name, region=dr, replica_identifier=w.store.replica.identifier,
        threshold_seconds=alarms.rds_replica_lag_threshold_seconds)
        for w in workloads if isinstance(w.store, RelationalStore) and w.store.replica is not None]))

Cost(f"{env}-cost", CostArgs(
    primary_region=primary, providers=providers.by_region, storage_budget_usd=config.budgets.s3_monthly_usd,
    backup_budget_usd=config.budgets.backup_monthly_usd, alert_emails=alarms.alert_emails,
    thresholds=[CostThreshold(t.percent, t.notification_type) for t in config.budgets.thresholds],
    alert_topic_arn=monitoring.alarm_topic.arn, anomaly_threshold_usd=config.budgets.anomaly_threshold_usd,
    anomaly_monitor_arn=config.budgets.anomaly_monitor_arn,
    cost_allocation_tags=sorted({*config.tags, naming.WORKLOAD_TAG, naming.STRATEGY_TAG, naming.BACKUP_TIER_TAG}),
    name_prefix=f"securecart-{env}"))

game_day = None
if config.chaos.fis_templates:
    replicated_tables = [w.store.table.name for w in workloads
                         if isinstance(w.store, GlobalTable) and w.store.replica_regions]
    replicated_buckets = [w.store.source.bucket.bucket for w in workloads
                          if isinstance(w.store, ReplicatedBucket) and w.store.replica is not None]
    wanted = {experiment for w in workloads for experiment in experiments_for(w.store)}
    game_day = GameDay(f"{env}-gameday", GameDayArgs(
        primary_region=primary, dr_region=dr, providers=providers.by_region,
        stop_condition_alarm_arn=monitoring.guardrail_alarms[primary].arn, az_outage_zone=zones(primary)[0],
        chaos_tag_key=naming.CHAOS_OPT_IN_TAG, chaos_tag_value="true",
        experiments=[e for e in ALL_EXPERIMENTS if e in wanted], dynamodb_table_names=replicated_tables,
        s3_bucket_names=replicated_buckets, hosted_zone_id=dns.zone.zone_id))

pulumi.export("inventory", build_inventory(config=config, workloads=workloads, dns=dns, backup=backup,
                                           game_day=game_day))
pulumi.export("hostedZoneNameServers", dns.zone.name_servers)
pulumi.export("alertTopicArn", monitoring.alarm_topic.arn)
pulumi.export("backupVaultArns", {region: vault.arn for region, vault in backup.vaults.items()})
