"""Builds the `inventory` stack output (docs/inventory.md) from what the components declared.

Store names, ARNs, endpoints, replicas, health checks and records are read from resource outputs
(`pulumi.Output.from_input` resolves the nested Outputs), so the inventory says what the program
really declared; only what no resource carries (the RTO/RPO targets, the strategy name, the AWS
envelope computed from the config) comes from the validated config. Regions come from the ARNs and
from the providers the stores used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.components.backup import RESOURCE_ARN_PATTERNS, Backup
from infra.components.monitoring import Monitoring
from infra.components.dynamodb import GlobalTable
from infra.components.ebs import ComputeTier
from infra.components.efs import FileStore
from infra.components.failover import DnsFailover
from infra.components.gameday import (
    DYNAMODB_PAUSE,
    EC2_STOP_AZ,
    NETWORK_DISRUPT,
    RDS_REBOOT,
    S3_PAUSE,
    GameDay,
)
from infra.components.rds import RelationalStore
from infra.components.recovery_plan import REPORT_PREFIX, PlanStep, RegionSwitchPlan
from infra.components.resilience import Resilience
from infra.components.s3 import ReplicatedBucket
from infra.config import StackConfig, WorkloadConfig
from infra.envelope.provision import envelope_document, stack_envelopes
from infra.naming import region_of_arn
from infra.strategies import Kind

SCHEMA_VERSION = 2  # 2: the application record moved to the top level; workloads fail over by config

# pulumi-aws 7.51.1 takes only a boolean for a replica's PITR (`TableReplicaArgs.point_in_time_recovery`),
# so a global-table replica keeps AWS's default recovery period, whatever the table's is.
REPLICA_PITR_DEFAULT_DAYS = 35

# AWS Backup's name for each kind (the backup component picks the plan by it).
BACKUP_RESOURCE_TYPE: dict[Kind, str] = {
    Kind.RDS: "RDS",
    Kind.DYNAMODB: "DynamoDB",
    Kind.S3: "S3",
    Kind.EFS: "EFS",
    Kind.EC2: "EC2",
}

Store = RelationalStore | GlobalTable | ReplicatedBucket | FileStore | ComputeTier


@dataclass
class DeclaredWorkload:
    """A workload's config and the component that declared its store."""

    config: WorkloadConfig
    store: Store


def _region(arn: pulumi.Output[str]) -> pulumi.Output[str]:
    return arn.apply(region_of_arn)


def _field(item: Any, name: str) -> Any:
    """Nested outputs arrive as SDK output classes on `pulumi up` and as dicts in some paths."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _pick(item: Any, snake: str) -> Any:
    """A nested field by its Python name (`pulumi up`) or its wire name (camelCase dicts under mocks)."""
    if item is None:
        return None
    if not isinstance(item, dict) or hasattr(type(item), snake):  # an SDK output class: its property
        return getattr(item, snake, None)
    head, *rest = snake.split("_")
    return item.get(snake) if snake in item else item.get(head + "".join(part.title() for part in rest))


def _days(value: Any) -> int | None:
    return None if value is None else int(value)


def _lifecycle_of(lifecycle: Any) -> dict[str, int | None]:
    return {"cold_storage_after_days": _days(_pick(lifecycle, "cold_storage_after")),
            "delete_after_days": _days(_pick(lifecycle, "delete_after"))}


def backup_rules_of(rules: Any, primary_region: str) -> list[dict[str, Any]]:
    """A plan's rules as the lab's backup engine runs them (schedule, lifecycle, copies to other vaults)."""
    out = []
    for rule in rules or []:
        copies = []
        for action in _pick(rule, "copy_actions") or []:
            arn = str(_pick(action, "destination_vault_arn") or "")
            parts = arn.split(":")
            copies.append({"region": parts[3] if len(parts) > 6 else None,
                           "vault_name": parts[6] if len(parts) > 6 else None,
                           "lifecycle": _lifecycle_of(_pick(action, "lifecycle"))})
        out.append({"name": _pick(rule, "rule_name"), "schedule": _pick(rule, "schedule"),
                    "vault_name": _pick(rule, "target_vault_name"), "vault_region": primary_region,
                    "start_window_minutes": _days(_pick(rule, "start_window")),
                    "completion_window_minutes": _days(_pick(rule, "completion_window")),
                    "continuous": bool(_pick(rule, "enable_continuous_backup")),
                    "lifecycle": _lifecycle_of(_pick(rule, "lifecycle")), "copy_actions": copies})
    return out


def resource_types_of(patterns: Any) -> list[str]:
    """AWS Backup resource types a selection's ARN patterns cover (see RESOURCE_ARN_PATTERNS)."""
    by_pattern = {pattern: resource_type for resource_type, pattern in RESOURCE_ARN_PATTERNS.items()}
    return sorted({by_pattern[p] for p in patterns or [] if p in by_pattern})


def lifecycle_rules_of(rules: Any) -> list[dict[str, Any]]:
    """A bucket's lifecycle rules: transitions and expiry, which the lab applies on its AWS clock."""
    out = []
    for rule in rules or []:
        expiration = _pick(rule, "expiration")
        if isinstance(expiration, list):
            expiration = expiration[0] if expiration else None
        out.append({"id": _pick(rule, "id"), "prefix": _pick(_pick(rule, "filter"), "prefix") or "",
                    "transitions": [{"days": _days(_pick(t, "days")), "storage_class": _pick(t, "storage_class")}
                                    for t in _pick(rule, "transitions") or []],
                    "expiration_days": _days(_pick(expiration, "days"))})
    return out


def rds_stores(store: RelationalStore) -> dict[str, Any]:
    primary = store.primary
    secret_arn = primary.master_user_secrets.apply(
        lambda secrets: _field(secrets[0], "secret_arn") if secrets else None
    )
    replicas = []
    if store.replica is not None:
        replica = store.replica
        replicas.append(
            {
                "identifier": replica.identifier,
                "arn": replica.arn,
                "region": _region(replica.arn),
                "address": replica.address,
                "port": replica.port,
                "role": "cross-region-read-replica",
                "instance_class": replica.instance_class,
            }
        )
    archive = store.archive.bucket
    return {
        "primary": {
            "identifier": primary.identifier,
            "arn": primary.arn,
            "region": _region(primary.arn),
            "address": primary.address,
            "port": primary.port,
            "engine": primary.engine,
            "engine_version": primary.engine_version,
            "db_name": primary.db_name,
            "master_username": primary.username,
            "master_secret_arn": secret_arn,
            "multi_az": primary.multi_az,
            "availability_zone": primary.availability_zone,
            "backup_retention_days": primary.backup_retention_period,
            "instance_class": primary.instance_class,
        },
        "replicas": replicas,
        "archive_bucket": {"name": archive.bucket, "arn": archive.arn, "region": archive.region,
                           "lifecycle": store.archive.lifecycle.rules.apply(lifecycle_rules_of)},
    }


def dynamodb_stores(store: GlobalTable) -> dict[str, Any]:
    table = store.table
    pitr = table.point_in_time_recovery
    return {
        # eventual (MREC) or strong (MRSC: a write is acknowledged once another region has it)
        "consistency": store.consistency,
        "witness_region": store.witness_region,
        "table": {
            "name": table.name,
            "arn": table.arn,
            "stream_arn": table.stream_arn,
            "region": _region(table.arn),
            "hash_key": table.hash_key,
            "range_key": table.range_key,
            "pitr": pitr.apply(lambda p: bool(_field(p, "enabled"))),
            "pitr_recovery_period_days": pitr.apply(lambda p: _field(p, "recovery_period_in_days")),
            "deletion_protection": table.deletion_protection_enabled,
        },
        "replicas": table.replicas.apply(
            lambda replicas: [
                {"region": _field(r, "region_name"), "kms_key_arn": _field(r, "kms_key_arn"),
                 "pitr": bool(_field(r, "point_in_time_recovery")),
                 "pitr_recovery_period_days": REPLICA_PITR_DEFAULT_DAYS if _field(r, "point_in_time_recovery") else None}
                for r in replicas or []
            ]
        ),
    }


def s3_stores(store: ReplicatedBucket) -> dict[str, Any]:
    source = store.source.bucket
    replicas = []
    if store.replica is not None and store.replication is not None:
        rule = store.replication.rules.apply(lambda rules: rules[0])
        replicas.append(
            {
                "name": store.replica.bucket.bucket,
                "arn": store.replica.bucket.arn,
                "region": store.replica.bucket.region,
                "replication_time_control": rule.apply(
                    lambda r: _field(_field(_field(r, "destination"), "replication_time"), "status") == "Enabled"
                ),
                "delete_marker_replication": rule.apply(
                    lambda r: _field(_field(r, "delete_marker_replication"), "status") == "Enabled"
                ),
            }
        )
    return {
        "bucket": {
            "name": source.bucket,
            "arn": source.arn,
            "region": source.region,
            "versioning": store.source.versioning.versioning_configuration.apply(
                lambda v: _field(v, "status") == "Enabled"
            ),
        },
        "replicas": replicas,
    }


def efs_stores(store: FileStore) -> dict[str, Any]:
    file_system = store.file_system
    return {
        "file_system": {"id": file_system.id, "arn": file_system.arn, "region": _region(file_system.arn)},
        "replicas": (
            store.replication.destination.apply(
                lambda d: [{"region": _field(d, "region"), "file_system_id": _field(d, "file_system_id")}]
            )
            if store.replication is not None
            else []  # backup-restore: the DR copy is the AWS Backup recovery point, not a replica
        ),
    }


def ec2_stores(store: ComputeTier) -> dict[str, Any]:
    return {
        "instances": [
            {
                "id": instance.id,
                "region": _region(instance.arn),
                "availability_zone": instance.availability_zone,
                "role": "primary",
            }
            for instance in store.instances.values()
        ],
        "dlm_policy_id": store.dlm_policy.id,
        "dr_capacity": store.dr_group.desired_capacity,
    }


def stores_of(workload: DeclaredWorkload) -> dict[str, Any]:
    store = workload.store
    if isinstance(store, RelationalStore):
        return rds_stores(store)
    if isinstance(store, GlobalTable):
        return dynamodb_stores(store)
    if isinstance(store, ReplicatedBucket):
        return s3_stores(store)
    if isinstance(store, FileStore):
        return efs_stores(store)
    return ec2_stores(store)


def store_endpoints(config: StackConfig, store: Store) -> dict[str, Any]:
    """What the application's configuration names in each region: the store there (its DR copy in
    the DR region). The runbooks switch the application between these; nothing public points here."""
    primary, dr = config.primary_region, config.dr_region
    if isinstance(store, RelationalStore) and store.replica is not None:
        return {primary: store.primary.address, dr: store.replica.address}
    if isinstance(store, GlobalTable) and store.replica_regions:
        return {region: store.table.name for region in (primary, *store.replica_regions)}
    if isinstance(store, ReplicatedBucket) and store.replica is not None:
        return {primary: store.source.bucket.bucket, dr: store.replica.bucket.bucket}
    if isinstance(store, FileStore) and store.replica_file_system_id is not None:
        return {primary: store.file_system.id, dr: store.replica_file_system_id}
    return {}


def failover_of(config: StackConfig, dns: DnsFailover, workload: DeclaredWorkload) -> dict[str, Any] | None:
    """How the workload's data store fails over: the application's configuration, switched by the
    runbook between per-region values, plus (RDS) the private record repointed after promotion."""
    if workload.config.failover is None:
        return None
    private = dns.private_records.get(workload.config.name)
    return {
        "switch": workload.config.failover.switch,
        "endpoints": store_endpoints(config, workload.store),
        "private_record": None if private is None else {
            "zone_id": private.zone_id,
            "name": private.name,
            "type": private.type,
            "ttl": private.ttl,
            "value": private.records.apply(lambda values: values[0]),
        },
    }


def application_of(dns: DnsFailover) -> dict[str, Any] | None:
    """The application's record: one answer per region, each guarded by its endpoint's check."""
    if not dns.records:
        return None

    def record(region: str) -> dict[str, Any]:
        r = dns.records[region]
        return {
            "set_identifier": r.set_identifier,
            "region": region,
            "failover": r.failover_routing_policies.apply(
                lambda policies: _field(policies[0], "type") if policies else None
            ),
            "weight": r.weighted_routing_policies.apply(
                lambda policies: _field(policies[0], "weight") if policies else None
            ),
            "value": dns.record_values[region],
            # The load balancer's hosted zone for an alias record; null for a CNAME.
            "alias_zone_id": dns.endpoints[region].load_balancer_zone_id,
            "health_check_id": r.health_check_id,
        }

    any_record = next(iter(dns.records.values()))  # every region's record has the same name and type
    return {
        "record_name": any_record.name,
        "record_type": any_record.type,
        "routing": dns.routing.value,
        "records": [record(region) for region in dns.records],
        "health_checks": [
            {
                "id": check.id,
                "region": region,
                "type": check.type,
                "fqdn": check.fqdn,
                "port": check.port,
                "path": check.resource_path,
                "interval_seconds": check.request_interval,
                "failure_threshold": check.failure_threshold,
            }
            for region, check in dns.health_checks.items()
        ],
    }


def backup_of(backup: Backup, workload: WorkloadConfig) -> dict[str, Any]:
    plan = backup.plan_for(workload.backup_tier, BACKUP_RESOURCE_TYPE[workload.kind])
    return {
        "tier": workload.backup_tier,
        "plan_name": plan.name,
        "continuous": plan.rules.apply(
            lambda rules: any(bool(_field(rule, "enable_continuous_backup")) for rule in rules or [])
        ),
    }


def restore_testing_of(backup: Backup, primary_region: str) -> list[dict[str, Any]]:
    """The restore testing plans, one per region (the primary vault's points, the DR vault's copies)."""
    plans = []
    for region, plan in backup.restore_testing_plans.items():
        where = "primary-" if region == primary_region else "dr-"
        selections = [s for key, s in backup.restore_testing_selections.items() if key.startswith(where)]
        plans.append({"name": plan.name, "region": region, "schedule": plan.schedule_expression,
                      "resource_types": [s.protected_resource_type for s in selections],
                      "validation_window_hours": selections[0].validation_window_hours if selections else None})
    return plans


def experiments_for(store: Store) -> tuple[str, ...]:
    """The FIS experiments that act on this store (templates select it by the opt-in tag)."""
    if isinstance(store, RelationalStore):
        return (RDS_REBOOT,)
    if isinstance(store, GlobalTable):
        return (DYNAMODB_PAUSE,) if store.replica_regions else ()  # nothing to pause without a replica
    if isinstance(store, ReplicatedBucket):
        return (S3_PAUSE,) if store.replication is not None else ()
    if isinstance(store, ComputeTier):
        return (EC2_STOP_AZ, NETWORK_DISRUPT)
    return ()


def fis_templates_of(game_day: GameDay | None, store: Store) -> dict[str, Any]:
    if game_day is None:
        return {}
    return {
        action: game_day.fis_templates[action].id
        for action in experiments_for(store)
        if action in game_day.fis_templates
    }


def plan_step_of(step: PlanStep) -> dict[str, Any]:
    """One step as the harness replays it: its block, what it acts on, and its Parallel children."""
    return {
        "name": step.name,
        "block_type": step.block_type,
        "description": step.description,
        "workloads": list(step.workloads),
        "timeout_minutes": step.timeout_minutes,
        "resources": [{"kind": r.kind, "region": r.region, "id": r.identifier, **dict(r.detail)}
                      for r in step.resources],
        "steps": [plan_step_of(child) for child in step.children],
    }


def recovery_plan_of(recovery: RegionSwitchPlan | None, backup: Backup) -> dict[str, Any] | None:
    if recovery is None:
        return None
    plan = recovery.plan
    return {
        "name": plan.name,
        "arn": plan.arn,
        "recovery_approach": plan.recovery_approach,
        "primary_region": plan.primary_region,
        "regions": plan.regions,
        "rto_objective_minutes": plan.recovery_time_objective_minutes,
        "description": plan.description,
        "execution_role_arn": recovery.execution_role.arn,
        "approver_role_arn": recovery.approver_role.arn,
        "associated_alarms": plan.associated_alarms.apply(lambda alarms: [
            {"name": _field(a, "map_block_key"), "type": _field(a, "alarm_type"),
             "arn": _field(a, "resource_identifier")} for a in alarms or []]),
        "report_bucket": backup.report_bucket.bucket.bucket,
        "report_prefix": REPORT_PREFIX,
        "no_step": [{"workload": u.workload, "reason": u.reason} for u in recovery._args.uncovered],
        "workflows": [
            {"target_action": wf.target_action, "target_region": wf.target_region,
             "description": wf.description, "steps": [plan_step_of(step) for step in wf.steps]}
            for wf in recovery.workflows
        ],
    }


def resiliency_policies_of(resilience: Resilience | None) -> dict[str, Any] | None:
    if resilience is None:
        return None
    return {
        strategy: {
            "name": policy.name,
            "arn": policy.arn,
            "tier": policy.tier,
            "policy": policy.policy.apply(lambda p: {
                disruption: {"rto": _field(_field(p, disruption), "rto"), "rpo": _field(_field(p, disruption), "rpo")}
                for disruption in ("az", "hardware", "software", "region")}),
        }
        for strategy, policy in resilience.policies.items()
    }


def backup_alarms(monitoring: Monitoring) -> dict[str, Any]:
    """The AWS Backup alarms and the topics they notify (the backup-job-failure scenario times
    the first one to fire)."""
    alarms = [
        {"name": alarm.name, "region": monitoring.alarm_regions[key], "namespace": alarm.namespace,
         "metric": alarm.metric_name, "statistic": alarm.statistic, "period": alarm.period,
         "evaluation_periods": alarm.evaluation_periods, "threshold": alarm.threshold,
         "comparison": alarm.comparison_operator, "treat_missing_data": alarm.treat_missing_data,
         "topic_arns": alarm.alarm_actions}
        for key, alarm in monitoring.alarms.items() if key.startswith("backup-")
    ]
    return {"alert_topics": {region: topic.arn for region, topic in monitoring.alert_topics.items()},
            "backup_alarms": alarms}


def build_inventory(
    *,
    config: StackConfig,
    workloads: list[DeclaredWorkload],
    dns: DnsFailover,
    backup: Backup,
    game_day: GameDay | None,
    recovery_plan: RegionSwitchPlan | None = None,
    resilience: Resilience | None = None,
    monitoring: Monitoring | None = None,
) -> pulumi.Output[dict[str, Any]]:
    """The whole `inventory` output as one Output of plain JSON-able data."""
    envelopes = stack_envelopes(config)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "project": pulumi.get_project(),
        "stack": pulumi.get_stack(),
        "primary_region": config.primary_region,
        "dr_region": config.dr_region,
        "chaos_enabled": config.chaos.enabled,
        "tags": config.tags,
        "hosted_zone": {"id": dns.zone.zone_id, "name": dns.zone.name},
        "monitoring": None if monitoring is None else backup_alarms(monitoring),
        "private_zone": (
            {"id": dns.private_zone.zone_id, "name": dns.private_zone.name} if dns.private_zone is not None else None
        ),
        "application": application_of(dns),
        "backup": {
            "vaults": {
                region: {"name": vault.name, "arn": vault.arn, "lock_mode": backup.lock_mode,
                         # what the vault lock enforces (the lab applies it; ransomware meets it)
                         "lock": {"min_retention_days": backup.vault_locks[region].min_retention_days,
                                  "max_retention_days": backup.vault_locks[region].max_retention_days,
                                  "changeable_for_days": backup.vault_locks[region].changeable_for_days}}
                for region, vault in backup.vaults.items()
            },
            "plans": [{"name": plan.name, "id": plan.id, "arn": plan.arn,
                       "resource_types": backup.selections[key].resources.apply(resource_types_of),
                       "rules": plan.rules.apply(lambda rules: backup_rules_of(rules, config.primary_region))}
                      for key, plan in backup.plans.items()],
            "report_bucket": backup.report_bucket.bucket.bucket,
            "restore_testing": restore_testing_of(backup, config.primary_region),
        },
        "fis": (
            {
                "role_arn": game_day.fis_role.arn,
                "chaos_role_arn": game_day.chaos_role.arn,
                "templates": {action: template.id for action, template in game_day.fis_templates.items()},
            }
            if game_day is not None
            else None
        ),
        "recovery_plan": recovery_plan_of(recovery_plan, backup),
        "resiliency_policies": resiliency_policies_of(resilience),
        "workloads": {
            w.config.name: {
                "kind": w.config.kind.value,
                "strategy": w.config.strategy.name,
                "targets": {
                    "rto_seconds": w.config.targets.rto_seconds,
                    "rpo_seconds": w.config.targets.rpo_seconds,
                },
                "primary_region": config.primary_region,
                "dr_region": config.dr_region,
                "stores": stores_of(w),
                "failover": failover_of(config, dns, w),
                "backup": backup_of(backup, w.config),
                "fis_templates": fis_templates_of(game_day, w.store),
                "envelope": envelope_document(envelopes[w.config.name], w.config),
            }
            for w in workloads
        },
    }
    return pulumi.Output.from_input(document)
