"""What each workload's declared resources keep, simulated day by day into a Ledger.

The simulation reads the program's own resources (the mock runtime's `evaluate_stack`), not the
config: the backup plans and their selections, RDS retention and replicas, S3 lifecycles and
replication, DLM policies, DynamoDB PITR and replicas, EFS replication, health checks and DR
compute. So it estimates exactly what `pulumi up` would create, overlaps included, and follows
any change to the components without being told.

Mechanism names are the words the monthly table prints.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.backup_selection import selects
from infra.config import StackConfig, WorkloadConfig
from infra.cost import engine
from infra.cost.engine import Growth, Ledger, Lifecycle, Point, Transition
from infra.cost.prices import MINIMUM_DAYS
from infra.cost.schedule import day_predicate
from infra.naming import ARCHIVE_ROLE, ROLE_TAG
from infra.strategies import Kind

START = dt.date(2027, 1, 1)  # a fixed year, so two runs agree (2027 is not a leap year)

# AWS Backup price key per store kind, and whether its backups are full copies every time.
BACKUP_KEYS = {Kind.DYNAMODB: ("backup.warm.dynamodb", True), Kind.EFS: ("backup.warm.efs", False),
               Kind.EC2: ("backup.warm.ebs", False), Kind.RDS: ("backup.warm.rds", False),
               Kind.S3: ("backup.warm.s3", False)}
COLD_CAPABLE = {Kind.DYNAMODB, Kind.EFS, Kind.EC2}  # AWS Backup cold storage (backup pricing page)

S3_MINIMUM_DAYS = {key.split(".", 1)[1]: days for key, (days, _) in MINIMUM_DAYS.items()
                   if key.startswith("s3.")}


@dataclass(frozen=True)
class Resource:
    """What the simulation reads of one declared resource (plain data: cacheable as JSON)."""

    type: str
    name: str
    id: str
    region: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]

    @classmethod
    def of(cls, declared: Any) -> "Resource":
        """From an `infra.offline.DeclaredResource`."""
        return cls(declared.type, declared.name, declared.id, declared.region, declared.inputs, declared.outputs)


@dataclass(frozen=True)
class Declared:
    """The offline evaluation's resources, indexed the ways the simulation looks them up."""

    resources: tuple[Any, ...]
    # False: read every lifecycle without its transitions and every backup rule without cold
    # storage (same retention), the baseline the lifecycle saving is measured against.
    tiering: bool = True

    def of_type(self, token: str) -> list[Any]:
        return [r for r in self.resources if r.type == token]

    def tags(self, resource: Any) -> Mapping[str, str]:
        return {**(resource.outputs.get("tagsAll") or {}), **(resource.inputs.get("tags") or {})}

    def of_workload(self, token: str, workload: str) -> list[Any]:
        return [r for r in self.of_type(token) if self.tags(r).get("workload") == workload]

    def plan_by_id(self) -> dict[str, Any]:
        return {r.id: r for r in self.of_type("aws:backup/plan:Plan")}


def _fires(schedule: str) -> Callable[[int], bool]:
    predicate = day_predicate(schedule)
    return lambda day: predicate(START + dt.timedelta(days=day))


def _growth(workload: WorkloadConfig, data_gb: float | None = None) -> Growth:
    sizing = workload.sizing
    return engine.compound(data_gb if data_gb is not None else sizing.data_gb,
                           sizing.daily_change_percent / 100, sizing.monthly_growth_percent / 100)


# --- AWS Backup ------------------------------------------------------------------------------

def backup_plans(declared: Declared, arn: str | None, tags: Mapping[str, str]) -> list[Any]:
    """The backup plans whose selections pick this resource (as AWS Backup reads selections)."""
    plans = declared.plan_by_id()
    picked = []
    for selection in declared.of_type("aws:backup/selection:Selection"):
        plan = plans.get(selection.inputs.get("planId"))
        if plan is not None and plan not in picked and selects(selection.inputs, arn, tags):
            picked.append(plan)
    return picked


def simulate_backup(ledger: Ledger, declared: Declared, plans: Iterable[Any], kind: Kind, growth: Growth,
                    label: str) -> None:
    """Scheduled rules -> one chain of recovery points per vault (AWS chains a resource's
    increments across all the rules writing to a vault), copies in the DR vault; continuous rules
    -> a window of changes (RDS's is the same storage as its automated backups: see simulate_rds)."""
    warm_key, full = BACKUP_KEYS[kind]
    by_vault: dict[str, list[Point]] = {}
    copied_from: dict[str, tuple[str, list[Point]]] = {}
    for plan in plans:
        home = plan.region
        for rule in plan.inputs.get("rules") or []:
            lifecycle = rule.get("lifecycle") or {}
            delete_after = int(lifecycle.get("deleteAfter") or engine.DAYS * 10)
            if rule.get("enableContinuousBackup"):
                if kind is not Kind.RDS:
                    key = "backup.continuous.dynamodb" if kind is Kind.DYNAMODB else warm_key
                    engine.window(ledger, f"{label} continuous backup", key, home, growth, delete_after)
                continue
            cold_after = lifecycle.get("coldStorageAfter") if kind in COLD_CAPABLE and declared.tiering else None
            points = engine.points_from_schedule(_fires(rule["schedule"]), delete_after,
                                                 None if cold_after is None else int(cold_after))
            by_vault.setdefault(home, []).extend(points)
            for action in rule.get("copyActions") or []:
                target = action["destinationVaultArn"].split(":")[3]
                copy_life = action.get("lifecycle") or {}
                copy_cold = copy_life.get("coldStorageAfter") if kind in COLD_CAPABLE and declared.tiering else None
                copies = [Point(p.created, p.created + int(copy_life.get("deleteAfter") or delete_after),
                                None if copy_cold is None else p.created + int(copy_cold)) for p in points]
                copied_from.setdefault(target, (home, []))[1].extend(copies)
    for region, points in by_vault.items():
        engine.chain(ledger, f"{label} backups", region, points, growth, warm_key=warm_key,
                     cold_key="backup.cold", full_copies=full, cold_minimum_days=90)
    for region, (home, copies) in copied_from.items():
        engine.chain(ledger, f"{label} DR backup copies", region, copies, growth, warm_key=warm_key,
                     cold_key="backup.cold", full_copies=full, cold_minimum_days=90)
        engine.copy_transfer(ledger, f"{label} DR backup copies", home, copies, growth, full)


# --- per kind ----------------------------------------------------------------------------

def simulate_rds(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    instances = declared.of_workload("aws:rds/instance:Instance", workload.name)
    primary = next((i for i in instances if not i.inputs.get("replicateSourceDb")), None)
    if primary is None:
        return
    growth = _growth(workload)
    region, allocated = primary.region, float(primary.inputs.get("allocatedStorage") or 0)
    plans = backup_plans(declared, primary.outputs.get("arn"), declared.tags(primary))
    continuous = [int((r.get("lifecycle") or {}).get("deleteAfter") or 0) for p in plans
                  for r in p.inputs.get("rules") or [] if r.get("enableContinuousBackup")]
    retention = max([int(primary.inputs.get("backupRetentionPeriod") or 0)] + continuous)
    if retention:
        if continuous:
            ledger.note(f"{workload.name}: AWS Backup continuous backup of RDS is its automated backups: "
                        "counted once, at the longer retention")
        engine.window(ledger, "automated backups (PITR)", "rds.backup_storage", region, growth, retention,
                      free_gb=lambda day: allocated)
    simulate_backup(ledger, declared, plans, Kind.RDS, growth, "AWS Backup")
    for replication in declared.of_type(
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"):
        if replication.inputs.get("sourceDbInstanceArn") == primary.outputs.get("arn"):
            engine.window(ledger, "automated backups replicated to DR", "rds.backup_storage",
                          replication.region, growth, int(replication.inputs.get("retentionPeriod") or 7))
            flow = ledger.flow("automated backups replicated to DR", "transfer.inter_region", region)
            flow[0] += growth.size_gb[0]
            for day in range(1, ledger.days):
                flow[day] += growth.change_gb[day]
    if primary.inputs.get("multiAz"):
        _instance_hours(ledger, "Multi-AZ standby", region, primary.inputs["instanceClass"], 1)
        _storage(ledger, "Multi-AZ standby", "rds.storage.gp3", region, allocated)
    for replica in instances:
        if replica.inputs.get("replicateSourceDb"):
            _instance_hours(ledger, "cross-region read replica", replica.region,
                            replica.inputs["instanceClass"], 1)
            _storage(ledger, "cross-region read replica", "rds.storage.gp3", replica.region,
                     float(replica.inputs.get("allocatedStorage") or allocated))
            flow = ledger.flow("cross-region read replica", "transfer.inter_region", region)
            for day in range(ledger.days):
                flow[day] += growth.change_gb[day]
    _snapshot_exports(ledger, declared, workload, growth)


def _snapshot_exports(ledger: Ledger, declared: Declared, workload: WorkloadConfig, growth: Growth) -> None:
    """Scheduled snapshot exports into the archive bucket, under that bucket's lifecycle."""
    # EventBridge Scheduler schedules take no tags: the RDS component names its export schedule
    # "<workload>-export-schedule".
    schedules = [s for s in declared.of_type("aws:scheduler/schedule:Schedule")
                 if s.name == f"{workload.name}-export-schedule"]
    archives = [b for b in declared.of_workload("aws:s3/bucket:Bucket", workload.name)
                if declared.tags(b).get(ROLE_TAG) == ARCHIVE_ROLE]
    if not schedules or not archives:
        return
    archive = archives[0]
    fires = _fires(schedules[0].inputs["scheduleExpression"])
    exported = [growth.size_gb[day] if fires(day) else 0.0 for day in range(ledger.days)]
    flow = ledger.flow("snapshot export archive", "rds.snapshot_export", archive.region)
    for day, gb in enumerate(exported):
        flow[day] += gb
    ledger.note("snapshot exports are Parquet; their size is taken as the database's (no compression "
                "assumed)")
    engine.cohorts(ledger, "snapshot export archive", archive.region, _lifecycle(declared, archive),
                   initial_gb=0.0, new_gb=exported, overwritten_gb=[0.0] * ledger.days,
                   average_object_mb=64, minimum_days=S3_MINIMUM_DAYS)


def simulate_dynamodb(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    for table in declared.of_workload("aws:dynamodb/table:Table", workload.name):
        growth = _growth(workload)
        home = table.region
        if (table.inputs.get("pointInTimeRecovery") or {}).get("enabled"):
            _level(ledger, "PITR", "dynamodb.pitr", home, growth.size_gb)
        plans = backup_plans(declared, table.outputs.get("arn"), declared.tags(table))
        simulate_backup(ledger, declared, plans, Kind.DYNAMODB, growth, "AWS Backup")
        for replica in table.inputs.get("replicas") or []:
            region = replica["regionName"]
            _level(ledger, "global table replica", "dynamodb.storage", region, growth.size_gb)
            if replica.get("pointInTimeRecovery"):
                _level(ledger, "PITR", "dynamodb.pitr", region, growth.size_gb)
            # One replicated write unit per KB changed, in each replica region.
            writes = ledger.flow("global table replica", "dynamodb.replicated_write", region)
            moved = ledger.flow("global table replica", "transfer.inter_region", home)
            for day in range(ledger.days):
                writes[day] += growth.change_gb[day] * 1024 * 1024
                moved[day] += growth.change_gb[day]


def _lifecycle(declared: Declared, bucket: Any) -> Lifecycle:
    for config in declared.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if config.inputs.get("bucket") in (bucket.id, bucket.outputs.get("bucket")):
            rules = [r for r in config.inputs.get("rules") or [] if r.get("status", "Enabled") == "Enabled"]
            transitions, expire, nc_transitions, nc_expire = [], None, [], None
            for rule in rules:  # the program's rules cover the whole bucket (prefix "")
                transitions += [Transition(t["storageClass"], int(t["days"])) for t in rule.get("transitions") or []
                                if t.get("days") is not None]
                nc_transitions += [Transition(t["storageClass"], int(t["noncurrentDays"]))
                                   for t in rule.get("noncurrentVersionTransitions") or []]
                expire = (rule.get("expiration") or {}).get("days", expire)
                nc_expire = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays", nc_expire)
            if not declared.tiering:
                transitions, nc_transitions = [], []
            return Lifecycle(tuple(transitions), None if expire is None else int(expire),
                             tuple(nc_transitions), None if nc_expire is None else int(nc_expire))
    return Lifecycle()


def simulate_s3(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    buckets = declared.of_workload("aws:s3/bucket:Bucket", workload.name)
    replications = declared.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    destinations = {(rule.get("destination") or {}).get("bucket"): (config, rule) for config in replications
                    for rule in config.inputs.get("rules") or []}
    sizing = workload.sizing
    writes = _growth(workload).change_gb
    new = [gb * (1 - sizing.overwrite_percent / 100) for gb in writes]
    overwritten = [gb * sizing.overwrite_percent / 100 for gb in writes]
    for bucket in buckets:
        if declared.tags(bucket).get(ROLE_TAG) == ARCHIVE_ROLE or bucket.outputs.get("arn") in destinations:
            continue  # the export archive is RDS's; a replication destination is simulated below
        life = _lifecycle(declared, bucket)
        current = engine.cohorts(ledger, "versions under lifecycle", bucket.region, life,
                                 initial_gb=sizing.data_gb, new_gb=new, overwritten_gb=overwritten,
                                 average_object_mb=sizing.average_object_mb, minimum_days=S3_MINIMUM_DAYS)
        stored = Growth(tuple(current), tuple(writes))
        plans = backup_plans(declared, bucket.outputs.get("arn"), declared.tags(bucket))
        simulate_backup(ledger, declared, plans, Kind.S3, stored, "AWS Backup")
        for config in replications:
            if config.inputs.get("bucket") not in (bucket.id, bucket.outputs.get("bucket")):
                continue
            for rule in config.inputs.get("rules") or []:
                destination = rule["destination"]
                target = next((b for b in buckets if b.outputs.get("arn") == destination["bucket"]), None)
                region = target.region if target is not None else bucket.region
                target_life = Lifecycle() if target is None else _lifecycle(declared, target)
                ledger.note("the DR bucket starts with a copy of the existing objects (seeded once; "
                            "CRR copies only new writes): the seeding is not counted")
                engine.cohorts(ledger, "cross-region replica", region, target_life, initial_gb=sizing.data_gb,
                               new_gb=new, overwritten_gb=overwritten,
                               start_class=destination.get("storageClass") or "STANDARD",
                               average_object_mb=sizing.average_object_mb, minimum_days=S3_MINIMUM_DAYS)
                moved = ledger.flow("cross-region replica", "transfer.inter_region", bucket.region)
                timed = (destination.get("replicationTime") or {}).get("status") == "Enabled"
                rtc = ledger.flow("cross-region replica", "s3.rtc", bucket.region) if timed else None
                for day in range(ledger.days):
                    moved[day] += writes[day]
                    if rtc is not None:
                        rtc[day] += writes[day]


def simulate_efs(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    for fs in declared.of_workload("aws:efs/fileSystem:FileSystem", workload.name):
        growth = _growth(workload)
        plans = backup_plans(declared, fs.outputs.get("arn"), declared.tags(fs))
        simulate_backup(ledger, declared, plans, Kind.EFS, growth, "AWS Backup")
        ia_days = _efs_ia_days(fs)
        for replication in declared.of_type("aws:efs/replicationConfiguration:ReplicationConfiguration"):
            if replication.inputs.get("sourceFileSystemId") != fs.id:
                continue
            destinations = replication.inputs.get("destination") or {}
            for destination in destinations if isinstance(destinations, list) else [destinations]:
                region = destination.get("region") or fs.region
                standard, infrequent = _efs_split(growth, ia_days)
                _level(ledger, "EFS replica", "efs.STANDARD", region, standard)
                _level(ledger, "EFS replica", "efs.IA", region, infrequent)
                moved = ledger.flow("EFS replica", "transfer.inter_region", fs.region)
                for day in range(ledger.days):
                    moved[day] += growth.change_gb[day]


def _efs_ia_days(fs: Any) -> int | None:
    for policy in fs.inputs.get("lifecyclePolicies") or []:
        value = policy.get("transitionToIa")
        if value and value.startswith("AFTER_"):
            return int(value.split("_")[1])
    return None


def _efs_split(growth: Growth, ia_days: int | None) -> tuple[list[float], list[float]]:
    """Data untouched for `ia_days` sits in IA (the DR file system follows the same lifecycle)."""
    standard, infrequent = [], []
    for day, size in enumerate(growth.size_gb):
        recent = size if ia_days is None else min(size, growth.changed_between(max(-1, day - ia_days), day))
        standard.append(recent)
        infrequent.append(size - recent)
    return standard, infrequent


def simulate_ec2(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    instances = [i for i in declared.of_workload("aws:ec2/instance:Instance", workload.name)]
    templates = declared.of_workload("aws:ec2/launchTemplate:LaunchTemplate", workload.name)
    volume_gb = sum(float((m.get("ebs") or {}).get("volumeSize") or 0)
                    for t in templates[:1] for m in t.inputs.get("blockDeviceMappings") or [])
    data_gb = (volume_gb or workload.sizing.data_gb) * max(1, len(instances))
    growth = _growth(workload, data_gb)
    for instance in instances[:1]:  # one plan match covers the instances alike: count them together
        plans = backup_plans(declared, instance.outputs.get("arn"), declared.tags(instance))
        simulate_backup(ledger, declared, plans, Kind.EC2, growth, "AWS Backup (instances)")
        volume_tags = {k: v for t in templates[:1] for spec in t.inputs.get("tagSpecifications") or []
                       if spec.get("resourceType") == "volume" for k, v in (spec.get("tags") or {}).items()}
        # The volumes exist only once the instances launch, so their ids are AWS's to choose: ask
        # the selections about a volume of this account and region carrying the template's tags.
        account = instance.outputs.get("arn", "::::").split(":")[4]
        any_volume_arn = f"arn:aws:ec2:{instance.region}:{account}:volume/vol-00000000000000000"
        volume_plans = backup_plans(declared, any_volume_arn, volume_tags)
        if volume_plans and plans:
            ledger.note(f"{workload.name}: AWS Backup selects both the instances and their volumes: "
                        "the volumes are backed up twice")
        simulate_backup(ledger, declared, volume_plans, Kind.EC2, growth, "AWS Backup (volumes)")
    for policy in declared.of_workload("aws:dlm/lifecyclePolicy:LifecyclePolicy", workload.name):
        for schedule in (policy.inputs.get("policyDetails") or {}).get("schedules") or []:
            create = schedule.get("createRule") or {}
            per_day = 24 / float(create.get("interval") or 24) if create.get("intervalUnit", "HOURS") == "HOURS" else 1
            keep_days = max(1, int(round(float((schedule.get("retainRule") or {}).get("count") or 1) / per_day)))
            points = [Point(day, day + keep_days) for day in range(ledger.days)]
            engine.chain(ledger, "DLM snapshots", policy.region, points, growth, warm_key="ebs.snapshot")
            for rule in schedule.get("crossRegionCopyRules") or []:
                retain = rule.get("retainRule") or {}
                days = int(retain.get("interval") or 1) * {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}.get(
                    retain.get("intervalUnit", "DAYS"), 1)
                copies = [Point(day, day + days) for day in range(ledger.days)]
                engine.chain(ledger, "DLM DR snapshot copies", rule["target"], copies, growth,
                             warm_key="ebs.snapshot")
                engine.copy_transfer(ledger, "DLM DR snapshot copies", policy.region, copies, growth)
    primary_regions = {i.region for i in instances}
    for group in _asgs(declared, workload.name):
        if group.region in primary_regions:
            continue  # the primary fleet is the application, not a DR cost
        desired = int(group.inputs.get("desiredCapacity") or group.inputs.get("minSize") or 0)
        if desired:
            template = next((t for t in templates if t.region == group.region), None)
            instance_type = template.inputs.get("instanceType") if template is not None else None
            _instance_hours(ledger, "DR compute", group.region, instance_type, desired, service="ec2")
            _storage(ledger, "DR compute", "ebs.gp3", group.region, volume_gb * desired)


def _asgs(declared: Declared, workload: str) -> list[Any]:
    return [g for g in declared.of_type("aws:autoscaling/group:Group")
            if any(t.get("key") == "workload" and t.get("value") == workload for t in g.inputs.get("tags") or [])]


def simulate_route53(ledger: Ledger, declared: Declared, workload: WorkloadConfig) -> None:
    for check in declared.of_type("aws:route53/healthCheck:HealthCheck"):
        if declared.tags(check).get("workload") != workload.name:
            continue
        fqdn = str(check.inputs.get("fqdn") or "")
        base = "aws_endpoint" if fqdn.endswith(".amazonaws.com") else "other_endpoint"
        held = ledger.level("Route 53 health checks", f"route53.health_check.{base}", "global")
        options = []
        if str(check.inputs.get("type", "")).startswith("HTTPS"):
            options.append("https")
        if "STR_MATCH" in str(check.inputs.get("type", "")):
            options.append("string_matching")
        if float(check.inputs.get("requestInterval") or 30) < 30:
            options.append("fast_interval")
        if check.inputs.get("measureLatency"):
            options.append("latency_measurement")
        for day in range(ledger.days):
            held[day] += 1
        if options:
            extra = ledger.level("Route 53 health checks", f"route53.health_check.{base}.optional_feature",
                                 "global")
            for day in range(ledger.days):
                extra[day] += len(options)


# --- helpers -------------------------------------------------------------------------------

def _level(ledger: Ledger, mechanism: str, key: str, region: str, values: Iterable[float]) -> None:
    level = ledger.level(mechanism, key, region)
    for day, value in enumerate(values):
        level[day] += value


def _storage(ledger: Ledger, mechanism: str, key: str, region: str, gb: float) -> None:
    _level(ledger, mechanism, key, region, [gb] * ledger.days)


def _instance_hours(ledger: Ledger, mechanism: str, region: str, instance_class: str | None, count: int,
                    service: str = "rds") -> None:
    flow = ledger.flow(mechanism, f"{service}.instance.{instance_class}", region)
    for day in range(ledger.days):
        flow[day] += 24 * count


SIMULATORS = {Kind.RDS: simulate_rds, Kind.DYNAMODB: simulate_dynamodb, Kind.S3: simulate_s3,
              Kind.EFS: simulate_efs, Kind.EC2: simulate_ec2}


def simulate_workload(declared: Declared, workload: WorkloadConfig) -> Ledger:
    ledger = Ledger()
    SIMULATORS[workload.kind](ledger, declared, workload)
    simulate_route53(ledger, declared, workload)
    return ledger


def simulate_stack(declared: Declared, config: StackConfig, only: set[str] | None = None) -> dict[str, Ledger]:
    return {name: simulate_workload(declared, workload) for name, workload in config.workloads.items()
            if only is None or name in only}
