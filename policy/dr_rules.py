"""The SecureCart DR guard rails, as Pulumi CrossGuard policies.

Each policy guards one promise the DR design makes. Enforcement follows one rule: MANDATORY where
a violation loses data (no PITR, no versioning, no backup, no cross-region copy, no vault lock, a
public bucket, a strategy missing the piece that recovers it); ADVISORY where it costs money or
attention but loses nothing (early-deletion charges, an alarm that pages late).

The policies read the engine's view of the stack: resource properties (camelCase, as the engine
passes them), tags, each resource's provider (for its region) and `property_dependencies` (which
resource a property refers to). The same functions run offline over the mock runtime's resources
(policy/offline.py), so they are tested without the Pulumi CLI.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infra.backup_selection import selects
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyResource, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
                           StackValidationPolicy)

PACK_NAME = "securecart-dr"

# Type tokens (pulumi-aws 7). Both spellings of the S3 sub-resources exist in 7.x.
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
RDS_INSTANCE = "aws:rds/instance:Instance"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",
                 "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
EFS_REPLICATION = "aws:efs/replicationConfiguration:ReplicationConfiguration"
EC2_INSTANCE = "aws:ec2/instance:Instance"
ASG = "aws:autoscaling/group:Group"
DLM_POLICY = "aws:dlm/lifecyclePolicy:LifecyclePolicy"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

# Tags the program puts on every workload resource (infra/naming.py).
WORKLOAD_TAG = "workload"
STRATEGY_TAG = "dr-strategy"
BACKUP_TIER_TAG = "backup-tier"
RPO_TAG = "dr-rpo-seconds"
ROLE_TAG = "dr-role"
ARCHIVE_ROLE = "archive"  # a compliance copy (the snapshot-export bucket): not a store to protect

# Strategies that keep a live copy in the DR region (everything but backup-restore).
REPLICATED_STRATEGIES = {"pilot-light", "warm-standby", "active-active"}

# AWS minimum storage durations, in days: deleting or transitioning earlier is charged as if the
# object (or recovery point) stayed the minimum. Sources, read 2026-11-30:
#   S3: https://aws.amazon.com/s3/pricing/ and
#       https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
#   AWS Backup cold storage: https://aws.amazon.com/backup/pricing/
S3_MINIMUM_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90,
                   "DEEP_ARCHIVE": 180}
BACKUP_COLD_MINIMUM_DAYS = 90

DEFAULTS = {
    "minPitrDays": 7,
    "minBackupRetentionDays": 7,
    "productionEnvironments": ["prod"],
    "criticalTiers": ["critical"],
}


# --- reading the engine's view ---------------------------------------------------------------

def _config(args: Any, key: str) -> Any:
    value = args.get_config().get(key) if args.get_config() else None
    return DEFAULTS[key] if value is None else value


def of_type(resources: Iterable[PolicyResource], *tokens: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in tokens]


def tags(resource: PolicyResource) -> Mapping[str, str]:
    """Resource tags, with the provider's default tags when the engine gave only inputs."""
    props = resource.props
    found = dict(_provider_default_tags(resource))
    found.update(props.get("tagsAll") or {})
    found.update(props.get("tags") or {})
    return found


def _provider_default_tags(resource: PolicyResource) -> Mapping[str, str]:
    provider = resource.provider
    if provider is None:
        return {}
    default_tags = provider.props.get("defaultTags") or {}
    if isinstance(default_tags, str):  # providers serialise nested config as JSON strings
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            return {}
    return default_tags.get("tags") or {}


def region(resource: PolicyResource) -> str | None:
    provider = resource.provider
    return provider.props.get("region") if provider is not None else None


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """True when `resource`'s property `prop` was computed from `target` (the engine's
    property_dependencies)."""
    return any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, []))


def referrers(resources: Iterable[PolicyResource], tokens: tuple[str, ...], prop: str,
              target: PolicyResource) -> list[PolicyResource]:
    return [r for r in of_type(resources, *tokens) if refers_to(r, prop, target)]


def _arn_region(arn: str) -> str:
    parts = str(arn).split(":")
    return parts[3] if len(parts) > 3 else ""


def _policy(name: str, description: str, level: EnforcementLevel,
            validate: Callable[[StackValidationArgs, ReportViolation], None],
            config: dict[str, Any] | None = None) -> StackValidationPolicy:
    schema = PolicyConfigSchema(properties=config) if config else None
    return StackValidationPolicy(name=name, description=description, enforcement_level=level,
                                 validate=validate, config_schema=schema)


# --- data protection (MANDATORY) -------------------------------------------------------------

def _dynamodb_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DYNAMODB_TABLE:
        return
    pitr = args.props.get("pointInTimeRecovery") or {}
    if not pitr.get("enabled"):
        report(f"DynamoDB table {args.name}: point-in-time recovery is off; set "
               "point_in_time_recovery.enabled = True (an accidental delete is otherwise lost)")
        return
    # AWS's default period is 35 days when none is given.
    period = pitr.get("recoveryPeriodInDays") or 35
    minimum = _config(args, "minPitrDays")
    if period < minimum:
        report(f"DynamoDB table {args.name}: PITR keeps {period:g} days, under the pack's minimum "
               f"of {minimum} days; raise recovery_period_in_days")
    for replica in args.props.get("replicas") or []:
        # pulumi-aws 7.51 takes only a boolean for a replica's PITR: AWS then applies its 35-day
        # default, which meets any minimum up to 35 days.
        if not replica.get("pointInTimeRecovery"):
            report(f"DynamoDB table {args.name}: replica in {replica.get('regionName')} has PITR "
                   "off; set replicas[].point_in_time_recovery = True")


def _rds_backup_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE or args.props.get("replicateSourceDb"):
        return  # read replicas take their backups from the source
    retention = args.props.get("backupRetentionPeriod") or 0
    minimum = _config(args, "minBackupRetentionDays")
    if retention < minimum:
        report(f"RDS instance {args.name}: backup retention {retention:g} days is under the "
               f"pack's minimum of {minimum}; set backup_retention_period >= {minimum} "
               "(0 disables automated backups and PITR)")


def _rds_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    props = args.props
    if not props.get("storageEncrypted"):
        report(f"RDS instance {args.name}: storage is not encrypted; set storage_encrypted = True "
               "with a customer-managed KMS key")
    environment = (props.get("tags") or {}).get("environment") or _environment_of(args)
    if environment not in _config(args, "productionEnvironments") or props.get("replicateSourceDb"):
        return
    if not props.get("multiAz"):
        report(f"RDS instance {args.name}: production database without Multi-AZ; set "
               "multi_az = True (an instance or AZ failure otherwise loses the last commits)")
    if not props.get("deletionProtection"):
        report(f"RDS instance {args.name}: production database without deletion protection; "
               "set deletion_protection = True")


def _environment_of(args: ResourceValidationArgs) -> str | None:
    provider = args.provider
    if provider is None:
        return None
    resource = PolicyResource(args.resource_type, args.props, args.urn, args.name, args.opts,
                              provider, None, [], {})
    return tags(resource).get("environment")


def _s3_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args.resources, *S3_BUCKETS):
        inline = (bucket.props.get("versioning") or {}).get("enabled")
        enabled = [v for v in referrers(args.resources, S3_VERSIONING, "bucket", bucket)
                   if (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled"]
        if not inline and not enabled:
            report(f"S3 bucket {bucket.name}: versioning is not enabled; declare an "
                   "aws.s3.BucketVersioning with status Enabled (overwrites and deletes are "
                   "otherwise final)", bucket.urn)


def _backup_covered(store: PolicyResource, selections: list[PolicyResource]) -> list[PolicyResource]:
    """The backup selections whose resource patterns and tag conditions match `store`."""
    return [s for s in selections if selects(s.props, store.props.get("arn"), tags(store))]


def data_stores(resources: list[PolicyResource]) -> list[PolicyResource]:
    """Workload data: tables, databases, buckets, file systems and instances with a workload tag
    (read replicas and replication destinations included: a region loss is recovered from them),
    less compliance archives (tag dr-role=archive), which no recovery restores from."""
    kinds = (DYNAMODB_TABLE, RDS_INSTANCE, EFS_FILE_SYSTEM, EC2_INSTANCE) + S3_BUCKETS
    return [r for r in of_type(resources, *kinds)
            if WORKLOAD_TAG in tags(r) and tags(r).get(ROLE_TAG) != ARCHIVE_ROLE]


def _primary_stores(resources: list[PolicyResource]) -> list[PolicyResource]:
    destinations = _replication_destination_arns(resources)
    primaries = []
    for store in data_stores(resources):
        if store.resource_type == RDS_INSTANCE and store.props.get("replicateSourceDb"):
            continue
        if store.props.get("arn") in destinations:
            continue
        if store.resource_type == EC2_INSTANCE and tags(store).get("role") not in (None, "primary"):
            continue
        primaries.append(store)
    return primaries


def _replication_destination_arns(resources: list[PolicyResource]) -> set[str]:
    arns = set()
    for config in of_type(resources, S3_REPLICATION):
        for rule in config.props.get("rules") or []:
            destination = (rule.get("destination") or {}).get("bucket")
            if destination:
                arns.add(destination)
    return arns


def _backup_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    selections = of_type(args.resources, BACKUP_SELECTION)
    for store in _primary_stores(args.resources):
        if not _backup_covered(store, selections):
            report(f"{store.resource_type.split(':')[-1]} {store.name}: no AWS Backup selection "
                   f"covers it (tag {BACKUP_TIER_TAG}={tags(store).get(BACKUP_TIER_TAG)!r}); give "
                   "it a tier a backup plan selects", store.urn)


def _copies_to_other_region(plan: PolicyResource) -> bool:
    home = region(plan)
    rules = [r for r in plan.props.get("rules") or [] if not r.get("enableContinuousBackup")]
    return bool(rules) and all(
        any(_arn_region(action.get("destinationVaultArn", "")) not in ("", home)
            for action in rule.get("copyActions") or [])
        for rule in rules)


def _cross_region_copy(args: StackValidationArgs, report: ReportViolation) -> None:
    critical = set(_config(args, "criticalTiers"))
    for plan in of_type(args.resources, BACKUP_PLAN):
        tier = tags(plan).get(BACKUP_TIER_TAG)
        if tier not in critical:
            continue
        home = region(plan)
        for rule in plan.props.get("rules") or []:
            if rule.get("enableContinuousBackup"):
                continue  # continuous backups stay in-region by design; snapshot rules copy
            targets = [_arn_region(a.get("destinationVaultArn", "")) for a in rule.get("copyActions") or []]
            if not any(t and t != home for t in targets):
                report(f"backup plan {plan.name}: rule {rule.get('ruleName')!r} of tier {tier!r} "
                       f"has no copy to another region (plan in {home}); add a copy_actions entry "
                       "to the DR region's vault", plan.urn)


def _vault_lock(args: StackValidationArgs, report: ReportViolation) -> None:
    locks = of_type(args.resources, BACKUP_VAULT_LOCK)
    locked: dict[str, PolicyResource] = {}
    for vault in of_type(args.resources, BACKUP_VAULT):
        lock = next((lk for lk in locks if refers_to(lk, "backupVaultName", vault)), None)
        if lock is None:
            report(f"backup vault {vault.name}: no vault lock; declare an "
                   "aws.backup.VaultLockConfiguration (recovery points can otherwise be deleted "
                   "by anyone with the application's credentials)", vault.urn)
            continue
        locked[vault.props.get("name") or vault.name] = lock
    # A rule whose retention is outside its vault's lock range makes every backup job fail.
    for plan in of_type(args.resources, BACKUP_PLAN):
        for rule in plan.props.get("rules") or []:
            lock = locked.get(rule.get("targetVaultName"))
            delete_after = (rule.get("lifecycle") or {}).get("deleteAfter")
            if lock is None or delete_after is None:
                continue
            low, high = lock.props.get("minRetentionDays"), lock.props.get("maxRetentionDays")
            if (low is not None and delete_after < low) or (high is not None and delete_after > high):
                report(f"backup plan {plan.name}: rule {rule.get('ruleName')!r} keeps "
                       f"{delete_after:g} days, outside its vault lock's {low:g}-{high:g} days; "
                       "AWS fails every such backup job: align delete_after with the lock",
                       plan.urn)


def _no_public_buckets(args: StackValidationArgs, report: ReportViolation) -> None:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in of_type(args.resources, *S3_BUCKETS):
        blocks = referrers(args.resources, (S3_PUBLIC_ACCESS_BLOCK,), "bucket", bucket)
        if not any(all(block.props.get(flag) for flag in flags) for block in blocks):
            report(f"S3 bucket {bucket.name}: public access is not fully blocked; declare an "
                   "aws.s3.BucketPublicAccessBlock with all four flags True", bucket.urn)
        for acl in referrers(args.resources, S3_ACLS, "bucket", bucket):
            if str(acl.props.get("acl", "")).startswith("public-"):
                report(f"S3 bucket {bucket.name}: ACL {acl.props.get('acl')!r} makes it public; "
                       "remove the ACL", bucket.urn)
        for policy in referrers(args.resources, (S3_POLICY,), "bucket", bucket):
            if _policy_is_public(policy.props.get("policy")):
                report(f"S3 bucket {bucket.name}: its bucket policy allows any principal without a "
                       "condition; name the principals or add a condition", bucket.urn)


def _policy_is_public(document: Any) -> bool:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return False
    statements = (document or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))
        if statement.get("Effect") == "Allow" and anyone and not statement.get("Condition"):
            return True
    return False


def _strategy_pieces(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = args.resources
    for store in _primary_stores(resources):
        strategy = tags(store).get(STRATEGY_TAG)
        if strategy is None:
            continue
        missing = _missing_piece(store, strategy, resources)
        if missing:
            report(f"{store.name} ({strategy}): {missing}", store.urn)


def _missing_piece(store: PolicyResource, strategy: str, resources: list[PolicyResource]) -> str | None:
    home = region(store)
    if strategy not in REPLICATED_STRATEGIES:
        # backup-restore recovers a region loss from the DR vault's copies.
        plans = {p.urn: p for p in of_type(resources, BACKUP_PLAN)}
        covering = _backup_covered(store, of_type(resources, BACKUP_SELECTION))
        covered_plans = [plans[dep.urn] for s in covering for dep in s.property_dependencies.get("planId", [])
                         if dep.urn in plans]
        if not any(_copies_to_other_region(plan) for plan in covered_plans):
            return ("backup-restore needs a backup plan covering it whose rules copy to the DR "
                    "region's vault; none does")
        return None
    kind = store.resource_type
    if kind == DYNAMODB_TABLE:
        replicas = [r for r in store.props.get("replicas") or [] if r.get("regionName") != home]
        return None if replicas else "needs a global-table replica in the DR region (replicas[])"
    if kind == RDS_INSTANCE:
        replicas = [r for r in of_type(resources, RDS_INSTANCE)
                    if refers_to(r, "replicateSourceDb", store) and region(r) != home]
        return None if replicas else "needs a cross-region read replica (replicate_source_db)"
    if kind in S3_BUCKETS:
        configs = referrers(resources, (S3_REPLICATION,), "bucket", store)
        rules = [rule for c in configs for rule in c.props.get("rules") or []
                 if rule.get("status") == "Enabled"]
        if not rules:
            return "needs cross-region replication (aws.s3.BucketReplicationConfig)"
        if strategy != "pilot-light" and not any(
                ((rule.get("destination") or {}).get("replicationTime") or {}).get("status") == "Enabled"
                for rule in rules):
            return ("needs Replication Time Control on its replication rule (the 15-minute "
                    "replication SLA its RPO is judged against)")
        return None
    if kind == EFS_FILE_SYSTEM:
        configs = referrers(resources, (EFS_REPLICATION,), "sourceFileSystemId", store)
        return None if configs else "needs EFS replication to the DR region (aws.efs.ReplicationConfiguration)"
    if kind == EC2_INSTANCE:
        workload = tags(store).get(WORKLOAD_TAG)
        dlm_copies = [p for p in of_type(resources, DLM_POLICY) if _dlm_copies_cross_region(p)]
        dr_groups = [g for g in of_type(resources, ASG) if region(g) != home
                     and any(t.get("key") == WORKLOAD_TAG and t.get("value") == workload
                             for t in g.props.get("tags") or [])]
        if not dlm_copies:
            return "needs a DLM policy that copies snapshots to the DR region"
        if not dr_groups:
            return "needs an Auto Scaling group in the DR region to scale out on failover"
    return None


def _dlm_copies_cross_region(policy: PolicyResource) -> bool:
    details = policy.props.get("policyDetails") or {}
    return any(schedule.get("crossRegionCopyRules") for schedule in details.get("schedules") or [])


# --- cost and attention (ADVISORY) -----------------------------------------------------------

def _s3_lifecycle(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args.resources, *S3_BUCKETS):
        if not referrers(args.resources, S3_LIFECYCLE, "bucket", bucket):
            report(f"S3 bucket {bucket.name}: no lifecycle configuration; old versions are kept "
                   "in S3 Standard forever (declare aws.s3.BucketLifecycleConfiguration)", bucket.urn)


def storage_minimum_findings(rule: Mapping[str, Any]) -> list[str]:
    """Early-deletion findings for one S3 lifecycle rule (current and noncurrent versions)."""
    findings = []
    current = [(t.get("storageClass"), t.get("days")) for t in rule.get("transitions") or []
               if t.get("days") is not None]
    expiry = (rule.get("expiration") or {}).get("days")
    findings += _class_durations(current, expiry, "current versions")
    noncurrent = [(t.get("storageClass"), t.get("noncurrentDays"))
                  for t in rule.get("noncurrentVersionTransitions") or []
                  if t.get("noncurrentDays") is not None]
    noncurrent_expiry = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")
    findings += _class_durations(noncurrent, noncurrent_expiry, "noncurrent versions")
    return findings


def _class_durations(steps: list[tuple[str, float]], end: float | None, what: str) -> list[str]:
    findings = []
    steps = sorted(steps, key=lambda step: step[1])
    for index, (storage_class, day) in enumerate(steps):
        leaves = steps[index + 1][1] if index + 1 < len(steps) else end
        minimum = S3_MINIMUM_DAYS.get(storage_class)
        if minimum is None or leaves is None:
            continue
        stay = leaves - day
        if stay < minimum:
            findings.append(f"{what} stay {stay:g} days in {storage_class} (day {day:g} to "
                            f"{leaves:g}), under its {minimum}-day minimum: charged as {minimum}")
    return findings


def _retention_minimums(args: StackValidationArgs, report: ReportViolation) -> None:
    for config in of_type(args.resources, *S3_LIFECYCLE):
        for rule in config.props.get("rules") or []:
            for finding in storage_minimum_findings(rule):
                report(f"S3 lifecycle {config.name}, rule {rule.get('id')!r}: {finding}", config.urn)
    for plan in of_type(args.resources, BACKUP_PLAN):
        for rule in plan.props.get("rules") or []:
            lifecycles = [("", rule.get("lifecycle") or {})] + [
                (" (copy)", action.get("lifecycle") or {}) for action in rule.get("copyActions") or []]
            for suffix, lifecycle in lifecycles:
                cold, delete = lifecycle.get("coldStorageAfter"), lifecycle.get("deleteAfter")
                if cold is not None and delete is not None and delete - cold < BACKUP_COLD_MINIMUM_DAYS:
                    report(f"backup plan {plan.name}: rule {rule.get('ruleName')!r}{suffix} deletes "
                           f"{delete - cold:g} days after moving to cold storage, under AWS's "
                           f"{BACKUP_COLD_MINIMUM_DAYS}-day minimum: set delete_after >= "
                           f"cold_storage_after + {BACKUP_COLD_MINIMUM_DAYS}", plan.urn)


# metric -> (namespace, the dimension naming the resource, the resource property it names,
#            seconds per metric unit)
RPO_ALARMS = {
    ("AWS/S3", "ReplicationLatency"): ("SourceBucket", "bucket", 1.0),
    ("AWS/DynamoDB", "ReplicationLatency"): ("TableName", "name", 0.001),
    ("AWS/RDS", "ReplicaLag"): ("DBInstanceIdentifier", "identifier", 1.0),
}


def _alarm_thresholds(args: StackValidationArgs, report: ReportViolation) -> None:
    stores = data_stores(args.resources)
    for alarm in of_type(args.resources, METRIC_ALARM):
        key = (alarm.props.get("namespace"), alarm.props.get("metricName"))
        if key not in RPO_ALARMS or alarm.props.get("threshold") is None:
            continue
        dimension, prop, unit = RPO_ALARMS[key]
        named = (alarm.props.get("dimensions") or {}).get(dimension)
        store = next((s for s in stores if refers_to(alarm, "dimensions", s)
                      and s.props.get(prop) == named), None) or \
            next((s for s in stores if named is not None and s.props.get(prop) == named), None)
        if store is None or RPO_TAG not in tags(store):
            continue
        target = float(tags(store)[RPO_TAG])
        threshold = float(alarm.props["threshold"]) * unit
        if threshold > target:
            report(f"alarm {alarm.name}: {key[1]} threshold {threshold:g} s is looser than "
                   f"{tags(store).get(WORKLOAD_TAG)}'s RPO target of {target:g} s; a breach would "
                   "never page: derive the threshold from the target", alarm.urn)


POLICIES = [
    ResourceValidationPolicy(
        name="dynamodb-pitr",
        description="Every DynamoDB table and replica has point-in-time recovery, for at least "
                    "the configured number of days.",
        enforcement_level=EnforcementLevel.MANDATORY, validate=_dynamodb_pitr,
        config_schema=PolicyConfigSchema(properties={"minPitrDays": {"type": "integer", "default": 7}})),
    ResourceValidationPolicy(
        name="rds-backup-retention",
        description="RDS automated backups (and so PITR) are kept at least N days.",
        enforcement_level=EnforcementLevel.MANDATORY, validate=_rds_backup_retention,
        config_schema=PolicyConfigSchema(properties={
            "minBackupRetentionDays": {"type": "integer", "default": 7}})),
    ResourceValidationPolicy(
        name="rds-production-hardening",
        description="Databases are encrypted; production databases are Multi-AZ with deletion "
                    "protection.",
        enforcement_level=EnforcementLevel.MANDATORY, validate=_rds_production,
        config_schema=PolicyConfigSchema(properties={
            "productionEnvironments": {"type": "array", "items": {"type": "string"},
                                       "default": ["prod"]}})),
    _policy("s3-versioning", "Every bucket keeps versions.", EnforcementLevel.MANDATORY,
            _s3_versioning),
    _policy("no-public-buckets", "No bucket is public.", EnforcementLevel.MANDATORY,
            _no_public_buckets),
    _policy("backup-coverage", "Every workload data store is selected by an AWS Backup plan.",
            EnforcementLevel.MANDATORY, _backup_coverage),
    _policy("cross-region-copy", "Critical tiers copy every scheduled backup to another region.",
            EnforcementLevel.MANDATORY, _cross_region_copy,
            {"criticalTiers": {"type": "array", "items": {"type": "string"}, "default": ["critical"]}}),
    _policy("vault-lock", "Every backup vault is locked, and rules keep recovery points within "
            "the lock's range.", EnforcementLevel.MANDATORY, _vault_lock),
    _policy("strategy-pieces", "Each workload has the pieces its DR strategy recovers with.",
            EnforcementLevel.MANDATORY, _strategy_pieces),
    _policy("s3-lifecycle", "Every bucket has a lifecycle.", EnforcementLevel.ADVISORY,
            _s3_lifecycle),
    _policy("retention-minimums", "Lifecycles respect S3's and AWS Backup cold storage's minimum "
            "storage durations.", EnforcementLevel.ADVISORY, _retention_minimums),
    _policy("alarm-thresholds", "Replication-latency and replica-lag alarms are no looser than "
            "the workload's RPO target.", EnforcementLevel.ADVISORY, _alarm_thresholds),
]
