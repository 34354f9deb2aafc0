"""Deploy an `inventory` (docs/inventory.md) into the lab, as `pulumi up` would into AWS.

Every data store, replica, bucket, record, health check and vault the inventory declares is created
in moto through the lab's own endpoint (boto3 clients signed with the lab's keys), then the emulations are
wired: replication links, point-in-time logs, health-check evaluators, the PostgreSQL data plane.
What moto cannot hold is listed as "declared, not emulated" with the reason, found by trying the
API once per lab process; nothing is faked.

Ids the lab cannot choose (hosted zone, health checks, EFS file systems, EC2 instances) are mapped:
the summary carries the inventory with the lab's real ids in their place, which the harness uses.

The AWS-API calls are shared with `python -m chaos deploy` (chaos.targets.endpoint_deploy), which
subclasses `Deployer` for a real endpoint: every lab-only step goes through a hook (`_wire_*`,
`_client`, `_deploy_kind`, `_health_check_config`, `_refusal`) that the subclass overrides.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from botocore.config import Config
from botocore.exceptions import ClientError

from chaos.errors import ChaosError
from chaos.lab.auth import signed_client
from chaos.lab.ebs import EbsLab
from chaos.lab.efs import EfsLab
from chaos.lab.health import HealthMonitor
from chaos.lab.pitr import PointInTimeLogs
from chaos.lab.region_switch import RegionSwitch, all_steps
from chaos.lab.replication import ReplicationEngine
from chaos.lab.timing import LabTiming, lab_timing
from chaos.lab.route53 import Route53Answers
from chaos.lab.faults import RequestContext

# Requests carrying this user agent are the lab's own (deploy): faults and latency do not apply.
LAB_USER_AGENT = "securecart-lab-internal"
_HANDLED_TOP_LEVEL = {"schema_version", "project", "stack", "primary_region", "dr_region",
                      "chaos_enabled", "tags", "hosted_zone", "private_zone", "application", "backup", "fis",
                      "workloads", "monitoring", "recovery_plan", "resiliency_policies", "deployed"}

EMULATIONS = [
    "Fault gateway: LocalStack Chaos API rules (service, region, operation, probability, error) plus "
    "zone, resource and expiry; errors in each protocol's shape; region outage = every regional API, "
    "the region's application endpoint, replication in/out and its PostgreSQL stop answering "
    "(Route 53 is global and keeps answering).",
    "DynamoDB global tables: asynchronous replication driven from each table's change stream, last "
    "writer wins, configurable lag, pausable; nothing ships into or out of a region under outage.",
    "S3 cross-region replication: new versions and delete markers, same version ids, configurable "
    "lag, pausable, halted by a region outage.",
    "DynamoDB point-in-time recovery: a change log per PITR table; RestoreTableToPointInTime returns "
    "the table as it was at RestoreDateTime.",
    "Route 53 health checks: a loopback application endpoint per region polled at interval x "
    "time_factor with the check's failure threshold; GetHealthCheckStatus and TestDNSAnswer answer "
    "from that evaluation.",
    "RDS: moto holds the metadata; real PostgreSQL processes (Multi-AZ sync standby, cross-region "
    "async replica, WAL archive) serve the data; DescribeDBInstances points at them.",
    "ARC Region switch: the inventory's plan answers StartPlanExecution, GetPlanExecution, "
    "ListPlanExecutionEvents, ApprovePlanExecutionStep and CancelPlanExecution; each execution block "
    "runs the lab's own action through the lab's endpoint (RDS promotion of the real PostgreSQL "
    "replica, Auto Scaling capacity, Route 53 answers, approval) within its timeout x time_factor.",
    "EFS: each file system is a directory tree served on the lab endpoint (/_lab/files/<id>/), down "
    "with its region; replication ships files older than the lag to a read-only destination; "
    "DeleteReplicationConfiguration stops it and makes the destination writable (failover).",
    "EBS/EC2: each instance's volume is a directory tree, down with its region or zone; "
    "CreateSnapshot/CopySnapshot/CreateVolume carry the files; DLM schedules snapshot the volumes "
    "every interval (x time_factor) and copy them to the DR region with their tags; the DR Auto "
    "Scaling group exists at its declared capacity (0 for pilot-light).",
]


class DeployError(ValueError):
    """The inventory cannot be deployed; the message names the inventory field."""


# The longest replication lag a deploy accepts: S3 Replication Time Control's SLA, 99.99 % of
# objects within 15 minutes (docs/lab.md, Lag defaults), the slowest AWS figure the lab emulates.
MAX_REPLICATION_LAG_SECONDS = 900.0
# time_factor scales health-check intervals: 10 makes a 30 s check poll every 5 minutes already.
MAX_TIME_FACTOR = 10.0
# Names that become directory names, server names or ports' owners in the lab (workload names,
# RDS identifiers, availability zones): lowercase letters, digits and dashes, starting with a
# letter, at most 63 characters, so no "..", "/" or NUL ever reaches a path. RDS's own rule for
# DBInstanceIdentifier: "1 to 63 letters, numbers, or hyphens; first character must be a letter;
# stored as a lowercase string" (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/
# aws.sdk.kotlin.services.rds.model/-create-db-instance-request/db-instance-identifier.html, read
# 2026-11-30). infra/inventory.schema.json carries the same patterns.
SAFE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
SAFE_ZONE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9][a-z]")


def check_duration(field: str, value: Any, maximum: float, *, positive: bool = False) -> float:
    """A finite number of seconds in [0, maximum] ((0, maximum] when `positive`); DeployError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0) or value > maximum:
        low = "> 0" if positive else ">= 0"
        raise DeployError(f"{field}: {value!r} must be a number {low} and <= {maximum:g}")
    return float(value)


def check_deploy_request(inventory: Any, replication_lag_seconds: Any, time_factor: Any) -> DeploySettings:
    """Everything a deploy needs, checked before anything running is touched (DeployError, one line)."""
    from chaos.targets.inventory import validate_inventory  # the contract's own validator

    try:
        validate_inventory(inventory, "the /_lab/deploy body")
    except ChaosError as error:
        raise DeployError(str(error)) from None
    _check_safe_names(inventory)
    _check_consistency(inventory)
    lag = None if replication_lag_seconds is None else check_duration(
        "replication_lag_seconds", replication_lag_seconds, MAX_REPLICATION_LAG_SECONDS)
    factor = check_duration("time_factor", time_factor, MAX_TIME_FACTOR, positive=True)
    return DeploySettings(lag, factor)


def _check_consistency(inventory: dict[str, Any]) -> None:
    """What the schema cannot say and the deploy would otherwise find half-way, after tearing the
    running lab down: records without a zone, an AZ outside its region, an identifier twice."""
    if (inventory.get("application") or {}).get("records") and not inventory.get("hosted_zone"):
        raise DeployError("inventory.hosted_zone: missing but application declares records; add the zone")
    identifiers: set[str] = set()
    for name, workload in inventory["workloads"].items():
        if (workload.get("failover") or {}).get("private_record") and not inventory.get("private_zone"):
            raise DeployError(f"inventory.private_zone: missing but workloads.{name}.failover.private_record "
                              "is declared; add the zone")
        if workload.get("kind") != "rds":
            continue
        stores = workload["stores"]
        primary = stores["primary"]
        zone = primary.get("availability_zone")
        if zone and zone[:-1] != primary["region"]:
            raise DeployError(f"inventory.workloads.{name}.stores.primary.availability_zone: {zone} is not "
                              f"in region {primary['region']}; fix the inventory")
        for where, identifier in [("primary", primary["identifier"])] + [
                (f"replicas[{i}]", replica["identifier"]) for i, replica in enumerate(stores.get("replicas") or [])]:
            if identifier in identifiers:
                raise DeployError(f"inventory.workloads.{name}.stores.{where}.identifier: {identifier} is "
                                  "used twice; RDS identifiers are unique per account and region")
            identifiers.add(identifier)


def _check_safe_names(inventory: dict[str, Any]) -> None:
    """Defence in depth behind the schema: every name the lab turns into a path is SAFE_NAME."""
    def check(value: Any, where: str, pattern: re.Pattern[str] = SAFE_NAME) -> None:
        if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
            raise DeployError(f"inventory.{where}: {str(value)[:64]!r} must match {pattern.pattern} "
                              "(lowercase letters, digits, dashes); fix the inventory")

    for name, workload in inventory["workloads"].items():
        check(name, f"workloads.{name[:64]!r}")
        if workload.get("kind") != "rds":
            continue
        stores = workload.get("stores") or {}
        primary = stores.get("primary") or {}
        check(primary.get("identifier"), f"workloads.{name}.stores.primary.identifier")
        check(primary.get("availability_zone"), f"workloads.{name}.stores.primary.availability_zone", SAFE_ZONE)
        for i, replica in enumerate(stores.get("replicas") or []):
            check(replica.get("identifier"), f"workloads.{name}.stores.replicas[{i}].identifier")
            check(replica.get("availability_zone"), f"workloads.{name}.stores.replicas[{i}].availability_zone",
                  SAFE_ZONE)


@dataclass
class DeploySettings:
    replication_lag_seconds: float | None = None
    time_factor: float = 1.0
    profile: str = "mechanics"  # the raw lab API's default; the game day asks for "aws"

    @property
    def timing(self) -> LabTiming:
        try:
            return lab_timing(self.profile, self.time_factor, self.replication_lag_seconds)
        except ValueError as error:
            raise DeployError(str(error)) from None

    def lag(self, kind: str) -> float:
        return self.timing.lag(kind)


@dataclass
class DeploySummary:
    created: list[dict[str, Any]] = field(default_factory=list)
    declared_not_emulated: list[dict[str, Any]] = field(default_factory=list)
    replication: list[dict[str, Any]] = field(default_factory=list)
    health_checks: list[dict[str, Any]] = field(default_factory=list)
    postgres: list[dict[str, Any]] = field(default_factory=list)
    emulations: list[str] = field(default_factory=list)
    replication_lag_defaults: dict[str, Any] = field(default_factory=dict)
    time_factor: float = 1.0
    timing: dict[str, Any] = field(default_factory=dict)  # profile, lags and pads (chaos.lab.timing)
    inventory: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def not_emulated(self, workload: str | None, resource: str, reason: str) -> None:
        self.declared_not_emulated.append({"workload": workload, "resource": resource, "reason": reason})


@dataclass
class LabParts:
    """The emulations a deploy wires up (owned by chaos.lab.core.Lab)."""

    endpoint: str
    keys: tuple[str, str]  # the lab's own AWS access key id and secret key (chaos.lab.auth)
    replication: ReplicationEngine
    pitr: PointInTimeLogs
    health: HealthMonitor
    route53: Route53Answers
    context: RequestContext
    region_switch: RegionSwitch
    data_plane: Callable[[], Any | None]  # starts it on first call; None when PostgreSQL is unavailable
    running_data_plane: Callable[[], Any | None]  # never starts it
    efs: EfsLab | None = None
    ebs: EbsLab | None = None


class Deployer:
    caller_reference = "lab"  # CallerReference / CreationToken prefix (an endpoint deploy makes it unique)

    def __init__(self, parts: LabParts, inventory: dict[str, Any], settings: DeploySettings):
        self.parts = parts
        self.settings = settings
        self.inventory = copy.deepcopy(inventory)
        timing = settings.timing
        self.summary = DeploySummary(emulations=list(EMULATIONS), time_factor=settings.time_factor,
                                     timing=timing.to_json(),
                                     replication_lag_defaults={
                                         kind: {"seconds": lag.lab_seconds, "aws_seconds": lag.aws_seconds,
                                                "source": lag.source,
                                                "overridden": settings.replication_lag_seconds is not None}
                                         for kind, lag in timing.lags.items()})

    # --- entry point ---------------------------------------------------------------------------------

    def deploy(self) -> DeploySummary:
        inv = self.inventory
        workloads = _require(inv, "workloads", dict)
        self._wire_regions(inv)
        self._deploy_backup(inv.get("backup") or {})
        self._deploy_monitoring(inv.get("monitoring") or {})
        zone_id = self._deploy_hosted_zone(inv.get("hosted_zone"))
        private_zone_id = self._deploy_hosted_zone(inv.get("private_zone"), private=True)
        if inv.get("application"):
            self._deploy_application(inv["application"], zone_id)
        kinds = {"dynamodb": self._deploy_dynamodb, "s3": self._deploy_s3, "rds": self._deploy_rds,
                 "efs": self._deploy_efs, "ec2": self._deploy_ec2}
        for name, workload in workloads.items():
            kind = _require(workload, "kind", str, f"workloads.{name}")
            if kind not in kinds:
                raise DeployError(f"inventory.workloads.{name}.kind: unknown kind {kind!r}; "
                                  f"use one of {sorted(kinds)}")
            self._deploy_kind(kinds[kind], kind, name, workload,
                              _require(workload, "stores", dict, f"workloads.{name}"))
            if (workload.get("failover") or {}).get("private_record"):
                self._deploy_private_record(name, workload["failover"], private_zone_id)
            for action, template in (workload.get("fis_templates") or {}).items():
                self.summary.not_emulated(name, f"fis:{action} ({template})",
                                          "FIS experiments do not run in the lab; the harness injects "
                                          "the same fault through the Chaos API")
        if inv.get("recovery_plan"):
            self._deploy_recovery_plan(inv["recovery_plan"], workloads)
        for strategy, policy in (inv.get("resiliency_policies") or {}).items():
            self.summary.not_emulated(None, f"resiliency-policy:{policy.get('name', strategy)}",
                                      "Resilience Hub assessments do not run in the lab; the game day judges "
                                      "the same targets by measuring them")
        if inv.get("fis"):
            self.summary.not_emulated(None, "fis", "FIS experiment templates are declared for AWS; the "
                                      "lab's faults come from its Chaos API")
        for key in sorted(set(inv) - _HANDLED_TOP_LEVEL):
            if inv[key] is not None:
                self.summary.not_emulated(None, key, f"the lab has no emulation for the inventory's "
                                          f"'{key}' block (e.g. EventBridge->SNS alerts, Cost Explorer "
                                          f"anomaly monitors): declared, not emulated")
        self.summary.replication = self._links()
        self.summary.inventory = self.inventory
        return self.summary

    # --- the lab's emulation wiring (an endpoint deploy overrides these) ------------------------------

    def _wire_regions(self, inv: dict[str, Any]) -> None:
        self.parts.route53.primary_region = str(inv.get("primary_region") or "")
        for region in {inv.get("primary_region"), inv.get("dr_region")} - {None}:
            self.parts.health.endpoint(str(region))

    def _deploy_kind(self, deploy: Callable[..., None], kind: str, name: str, workload: dict[str, Any],
                     stores: dict[str, Any]) -> None:
        deploy(name, workload, stores)

    def _links(self) -> list[dict[str, Any]]:
        links = self.parts.replication.links()
        if self.parts.efs is not None:
            links += self.parts.efs.links()
        data_plane = self.parts.running_data_plane()
        return links + (data_plane.links() if data_plane is not None else [])

    def _lab_data_plane(self) -> Any:
        """The lab's PostgreSQL data plane (None where the target has none: a real endpoint)."""
        return self.parts.data_plane()

    def _lab_efs(self) -> Any:
        """The lab's EFS emulation (None where the target has none: a real endpoint)."""
        return self.parts.efs

    def _lab_ebs(self) -> Any:
        """The lab's EBS/DLM emulation (None where the target has none: a real endpoint)."""
        return self.parts.ebs

    def _refusal(self, probe: str) -> str:
        """Why the target cannot hold `probe` (a key of _REFUSAL_PROBES), found by trying once."""
        return _REFUSAL_PROBES[probe](self.parts.endpoint, self.parts.keys)

    def _wire_pitr(self, region: str, table: str) -> None:
        self.parts.pitr.enable(region, table)

    def _wire_dynamodb_replication(self, name: str, table: str, regions: list[str], strong: bool = False) -> None:
        # Multi-region strong consistency (MRSC) replicates synchronously: a write is
        # acknowledged once the other regions have it, so the link ships inside the write.
        lag = 0.0 if strong and self.settings.replication_lag_seconds is None else self.settings.lag("dynamodb")
        self.parts.replication.add_dynamodb_global_table(name, table, regions, lag)

    def _wire_s3_replication(self, name: str, source: str, region: str, target: str, target_region: str) -> None:
        self.parts.replication.add_s3_replication(name, source, region, target, target_region,
                                                  self.settings.lag("s3"))

    def _wire_bucket(self, bucket: str, region: str) -> None:
        self.parts.context.bucket_regions[bucket] = region

    def _wire_rds_data_plane(self, name: str, stores: dict[str, Any], identifier: str) -> None:
        data_plane = self.parts.data_plane()
        if data_plane is None:
            self.summary.not_emulated(name, f"rds-data-plane:{identifier}",
                                      "PostgreSQL data plane unavailable in this lab (chaos.lab.postgres "
                                      "missing or no PostgreSQL binaries): metadata only")
            return
        data_plane.set_pads({action: self.settings.timing.pad(action)
                             for action in ("rds_failover", "rds_promotion", "rds_restore")})
        self.summary.postgres += data_plane.deploy_workload(name, stores, lag_seconds=self.settings.lag("rds"))

    def _wire_zone_member(self, zone: str, instance_id: str) -> None:
        self.parts.context.zone_members.setdefault(zone, []).append(instance_id)

    def _health_check_config(self, check: dict[str, Any], region: str) -> dict[str, Any]:
        """The lab's checks poll its loopback application endpoint of the region."""
        port = int(self.parts.health.endpoint(region).url.rsplit(":", 1)[-1])
        return {"IPAddress": "127.0.0.1", "Port": port, "Type": "HTTP",
                "ResourcePath": check.get("path") or "/health",
                "RequestInterval": int(check.get("interval_seconds") or 30),
                "FailureThreshold": int(check.get("failure_threshold") or 3)}

    def _wire_health_check(self, check_id: str, check: dict[str, Any], region: str) -> None:
        self.parts.health.add_check(check_id, region, check.get("path") or "/health",
                                    int(check.get("interval_seconds") or 30),
                                    int(check.get("failure_threshold") or 3), self.settings.time_factor)
        self.summary.health_checks.append({"id": check_id, "region": region,
                                           "endpoint": self.parts.health.endpoint(region).url})

    def _wire_record_region(self, set_identifier: str, region: str) -> None:
        self.parts.route53.record_regions[set_identifier] = region

    def _replication_role_arn(self) -> str:
        return "arn:aws:iam::123456789012:role/lab-s3-replication"

    # --- per concern -----------------------------------------------------------------------------------

    def _deploy_backup(self, backup: dict[str, Any]) -> None:
        """Vaults (with their lock) and plans in moto; jobs, points and restores run in chaos.lab.backup."""
        for region, vault in (backup.get("vaults") or {}).items():
            name = _require(vault, "name", str, f"backup.vaults.{region}")
            client = self._client("backup", region)
            client.create_backup_vault(BackupVaultName=name)
            self._created(None, "backup-vault", name, region, name)
            lock = vault.get("lock")
            if lock:
                args = {key: int(lock[field]) for key, field in (
                    ("MinRetentionDays", "min_retention_days"), ("MaxRetentionDays", "max_retention_days"),
                    ("ChangeableForDays", "changeable_for_days")) if lock.get(field) is not None}
                client.put_backup_vault_lock_configuration(BackupVaultName=name, **args)
            elif vault.get("lock_mode"):
                self.summary.not_emulated(None, f"backup-vault-lock:{name}",
                                          "the inventory gives the lock mode but not its retention days "
                                          "(backup.vaults.<region>.lock); no lock is applied")
        for plan in backup.get("plans") or []:
            if plan.get("rules"):
                self._client("backup", self.inventory.get("primary_region") or "us-east-1").create_backup_plan(
                    BackupPlan={"BackupPlanName": plan["name"], "Rules": [
                        {"RuleName": rule.get("name") or "rule", "ScheduleExpression": rule["schedule"],
                         "TargetBackupVaultName": rule.get("vault_name") or
                         ((backup.get("vaults") or {}).get(self.inventory.get("primary_region")) or {}).get("name", "")}
                        for rule in plan["rules"]]})
        if backup.get("report_bucket"):
            self.summary.not_emulated(None, f"backup-report:{backup['report_bucket']}",
                                      "AWS Backup Audit Manager report plans: jobs run in the lab, but no "
                                      "reports are written to the report bucket")

    def _deploy_monitoring(self, monitoring: dict[str, Any]) -> None:
        """The alert topics and the AWS Backup alarms (chaos.lab.backup.alarms evaluates them)."""
        topics: dict[str, str] = {}
        for region, arn in (monitoring.get("alert_topics") or {}).items():
            made = self._client("sns", region).create_topic(Name=str(arn).rsplit(":", 1)[-1])["TopicArn"]
            topics[str(arn)] = made
            self._created(None, "sns-topic", str(arn), region, made)
        for alarm in monitoring.get("backup_alarms") or []:
            where = "monitoring.backup_alarms[]"
            region = _require(alarm, "region", str, where)
            actions = [topics.get(a, a) for a in alarm.get("topic_arns") or []]
            self._client("cloudwatch", region).put_metric_alarm(
                AlarmName=_require(alarm, "name", str, where), Namespace=alarm.get("namespace") or "AWS/Backup",
                MetricName=_require(alarm, "metric", str, where), Statistic=alarm.get("statistic") or "Sum",
                Period=int(alarm["period"]), EvaluationPeriods=int(alarm.get("evaluation_periods") or 1),
                Threshold=float(alarm["threshold"]),
                ComparisonOperator=alarm.get("comparison") or "GreaterThanThreshold",
                TreatMissingData=alarm.get("treat_missing_data") or "notBreaching",
                AlarmActions=actions, OKActions=actions)
            self._created(None, "cloudwatch-alarm", alarm["name"], region, alarm["name"])

    def _deploy_hosted_zone(self, zone: dict[str, Any] | None, private: bool = False) -> str | None:
        if not zone:
            return None
        name = _require(zone, "name", str, "private_zone" if private else "hosted_zone")
        extra: dict[str, Any] = {}
        if private:  # moto wants the VPC a private zone answers in; the lab's default VPC stands in
            vpc = self._client("ec2", self.inventory["primary_region"]).describe_vpcs()["Vpcs"][0]["VpcId"]
            extra = {"VPC": {"VPCRegion": self.inventory["primary_region"], "VPCId": vpc},
                     "HostedZoneConfig": {"PrivateZone": True, "Comment": "data-store records"}}
        created = self._client("route53", "us-east-1").create_hosted_zone(
            Name=name, CallerReference=f"{self.caller_reference}-{name}", **extra)["HostedZone"]
        lab_id = created["Id"].split("/")[-1]
        self._created(None, "route53-hosted-zone", name, "global", lab_id)
        zone["id"] = lab_id
        return lab_id

    def _deploy_dynamodb(self, name: str, workload: dict[str, Any], stores: dict[str, Any]) -> None:
        table = _require(stores, "table", dict, f"workloads.{name}.stores")
        table_name = _require(table, "name", str, f"workloads.{name}.stores.table")
        region = _require(table, "region", str, f"workloads.{name}.stores.table")
        regions = [region] + [_require(r, "region", str, f"workloads.{name}.stores.replicas[]")
                              for r in stores.get("replicas") or []]
        for table_region in regions:
            self._create_table(table, table_region)
            self._created(name, "dynamodb-table" if table_region == region else "dynamodb-replica",
                          table_name, table_region, table_name)
            if table.get("pitr"):
                self._client("dynamodb", table_region).update_continuous_backups(
                    TableName=table_name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
                self._wire_pitr(table_region, table_name)
        if len(regions) > 1:
            self._wire_dynamodb_replication(name, table_name, regions, strong=stores.get("consistency") == "strong")

    def _create_table(self, table: dict[str, Any], region: str) -> None:
        # The inventory does not carry key attribute types; SecureCart's keys are strings.
        keys = [(table["hash_key"], "HASH")] + ([(table["range_key"], "RANGE")] if table.get("range_key") else [])
        self._client("dynamodb", region).create_table(
            TableName=table["name"], BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": key, "KeyType": role} for key, role in keys],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            DeletionProtectionEnabled=bool(table.get("deletion_protection")))

    def _deploy_s3(self, name: str, workload: dict[str, Any], stores: dict[str, Any]) -> None:
        bucket = _require(stores, "bucket", dict, f"workloads.{name}.stores")
        source = self._create_bucket(name, bucket, "s3-bucket", f"workloads.{name}.stores.bucket")
        region = bucket["region"]
        for i, replica in enumerate(stores.get("replicas") or []):
            target = self._create_bucket(name, replica, "s3-replica", f"workloads.{name}.stores.replicas[{i}]")
            self._client("s3", region).put_bucket_replication(Bucket=source, ReplicationConfiguration={
                "Role": self._replication_role_arn(),
                "Rules": [{"ID": f"to-{replica['region']}", "Status": "Enabled", "Priority": i + 1,
                           "Filter": {"Prefix": ""},
                           "DeleteMarkerReplication": {"Status": "Enabled" if replica.get(
                               "delete_marker_replication", True) else "Disabled"},
                           "Destination": {"Bucket": f"arn:aws:s3:::{target}"}}]})
            self._wire_s3_replication(name, source, region, target, replica["region"])

    def _create_bucket(self, workload: str, spec: dict[str, Any], kind: str, where: str) -> str:
        bucket = _require(spec, "name", str, where)
        region = _require(spec, "region", str, where)
        client = self._client("s3", region)
        if region == "us-east-1":
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self._wire_bucket(bucket, region)
        self._created(workload, kind, bucket, region, bucket)
        return bucket

    def _deploy_rds(self, name: str, workload: dict[str, Any], stores: dict[str, Any]) -> None:
        primary = _require(stores, "primary", dict, f"workloads.{name}.stores")
        identifier = _require(primary, "identifier", str, f"workloads.{name}.stores.primary")
        region = _require(primary, "region", str, f"workloads.{name}.stores.primary")
        master = primary.get("master_username") or "postgres"  # as the data plane and canary default
        data_plane = self._lab_data_plane()
        password = data_plane.master_password_for(master) if data_plane is not None else secrets.token_urlsafe(24)
        args: dict[str, Any] = {
            "DBInstanceIdentifier": identifier, "Engine": primary.get("engine") or "postgres",
            "DBInstanceClass": primary.get("instance_class") or "db.t4g.medium", "AllocatedStorage": 20,
            "MasterUsername": master,
            "MasterUserPassword": password, "MultiAZ": bool(primary.get("multi_az")),
            # 0 is meaningful (automated backups off), so only a missing value takes RDS's default.
            "BackupRetentionPeriod": int(7 if primary.get("backup_retention_days") is None
                                         else primary["backup_retention_days"])}
        for key, arg in (("engine_version", "EngineVersion"), ("db_name", "DBName"),
                         ("availability_zone", "AvailabilityZone")):
            if primary.get(key) and not (arg == "AvailabilityZone" and args["MultiAZ"]):
                args[arg] = str(primary[key])
        created = self._client("rds", region).create_db_instance(**args)["DBInstance"]
        self._created(name, "rds-instance", identifier, region, created["DBInstanceArn"])
        self._store_master_secret(name, primary, region, master, password)
        for replica in stores.get("replicas") or []:
            replica_id = _require(replica, "identifier", str, f"workloads.{name}.stores.replicas[]")
            replica_region = _require(replica, "region", str, f"workloads.{name}.stores.replicas[]")
            made = self._client("rds", replica_region).create_db_instance_read_replica(
                DBInstanceIdentifier=replica_id, SourceDBInstanceIdentifier=created["DBInstanceArn"],
                DBInstanceClass=replica.get("instance_class") or args["DBInstanceClass"])["DBInstance"]
            self._created(name, "rds-read-replica", replica_id, replica_region, made["DBInstanceArn"])
        if stores.get("archive_bucket"):
            archive = self._create_bucket(name, stores["archive_bucket"], "s3-wal-archive-bucket",
                                          f"workloads.{name}.stores.archive_bucket")
            rules = stores["archive_bucket"].get("lifecycle") or []
            if rules:  # applied on the lab's AWS clock by chaos.lab.backup.archive
                self._client("s3", region).put_bucket_lifecycle_configuration(
                    Bucket=archive, LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in rules]})
        self.summary.not_emulated(name, f"rds-automated-backups-replication:{identifier}",
                                  f"StartDBInstanceAutomatedBackupsReplication: {self._refusal('rds-backup-replication')}")
        self._wire_rds_data_plane(name, stores, identifier)

    def _store_master_secret(self, name: str, primary: dict[str, Any], region: str, username: str,
                             password: str) -> None:
        """The master user's credentials in a Secrets Manager secret, as RDS keeps them when it
        manages the master password (`{"username", "password"}`, named `rds!db-...`); the deployed
        inventory's `master_secret_arn` names it, so canaries and runbooks read the password the
        way they do on AWS (with the lab's AWS keys: chaos.lab.auth)."""
        secret = self._client("secretsmanager", region).create_secret(
            Name=f"rds!db-{primary['identifier']}",
            SecretString=json.dumps({"username": username, "password": password}))
        primary["master_secret_arn"] = secret["ARN"]
        self._created(name, "secretsmanager-secret", secret["Name"], region, secret["ARN"])

    def _deploy_efs(self, name: str, workload: dict[str, Any], stores: dict[str, Any]) -> None:
        fs = _require(stores, "file_system", dict, f"workloads.{name}.stores")
        region = _require(fs, "region", str, f"workloads.{name}.stores.file_system")
        made = self._client("efs", region).create_file_system(CreationToken=f"{self.caller_reference}-{name}",
                                                              Tags=[{"Key": "Name", "Value": name}])
        self._created(name, "efs-file-system", str(fs.get("id")), region, made["FileSystemId"])
        fs["id"] = made["FileSystemId"]
        efs = self._lab_efs()
        if efs is not None:
            efs.add_file_system(fs["id"], region, name)
        for replica in stores.get("replicas") or []:
            dr_region = _require(replica, "region", str, f"workloads.{name}.stores.replicas[]")
            if efs is None:
                self.summary.not_emulated(name, f"efs-replication:{made['FileSystemId']}->{dr_region}",
                                          f"EFS replication: {self._refusal('efs-replication')}")
                continue
            dest = self._client("efs", dr_region).create_file_system(
                CreationToken=f"lab-{name}-{dr_region}", Tags=[{"Key": "Name", "Value": f"{name}-replica"}])
            self._created(name, "efs-file-system", str(replica.get("file_system_id")), dr_region,
                          dest["FileSystemId"])
            replica["file_system_id"] = dest["FileSystemId"]
            efs.add_file_system(dest["FileSystemId"], dr_region, name, read_only=True)
            efs.replicate(name, fs["id"], dest["FileSystemId"], self.settings.lag("efs"))

    def _deploy_ec2(self, name: str, workload: dict[str, Any], stores: dict[str, Any]) -> None:
        by_region: dict[str, list[str]] = {}
        ebs = self._lab_ebs()
        for instance in stores.get("instances") or []:
            region = _require(instance, "region", str, f"workloads.{name}.stores.instances[]")
            ec2 = self._client("ec2", region)
            # A named filter: listing all of moto's images costs seconds per deploy.
            image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn-ami-hvm-*"]}])["Images"][0]["ImageId"]
            placement = {"AvailabilityZone": instance["availability_zone"]} if instance.get("availability_zone") else {}
            made = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                     Placement=placement)["Instances"][0]
            self._created(name, "ec2-instance", str(instance.get("id")), region, made["InstanceId"])
            instance["id"] = made["InstanceId"]
            if instance.get("availability_zone"):
                self._wire_zone_member(instance["availability_zone"], made["InstanceId"])
            if ebs is not None:
                volumes = ebs.add_instance_volumes(name, made["InstanceId"], region)
                by_region.setdefault(region, []).extend(volumes)
        if stores.get("dr_group") and ebs is not None:
            self._deploy_dr_group(name, stores)
        schedules = stores.get("snapshot_schedules") or []
        if stores.get("dlm_policy_id") and (ebs is None or not schedules):
            self.summary.not_emulated(name, f"dlm-policy:{stores['dlm_policy_id']}",
                                      f"Data Lifecycle Manager: {self._refusal('dlm')}")
        elif ebs is not None:
            ebs.time_factor = self.settings.time_factor
            for region, volumes in by_region.items():
                for schedule in schedules:
                    ebs.add_schedule(name, region, schedule, volumes)

    def _deploy_dr_group(self, name: str, stores: dict[str, Any]) -> None:
        """The DR Auto Scaling group at its declared capacity (pilot-light: zero), from a launch
        template in the DR region, as the stack declares it."""
        group = stores["dr_group"]
        region = _require(group, "region", str, f"workloads.{name}.stores.dr_group")
        ec2 = self._client("ec2", region)
        image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn-ami-hvm-*"]}])["Images"][0]["ImageId"]
        template = ec2.create_launch_template(
            LaunchTemplateName=f"{name}-dr-{region}",
            LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"})["LaunchTemplate"]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
        capacity = int(stores.get("dr_capacity") or 0)
        self._client("autoscaling", region).create_auto_scaling_group(
            AutoScalingGroupName=group["name"], MinSize=capacity, DesiredCapacity=capacity,
            MaxSize=max(capacity, int(group.get("max_size") or 1)), AvailabilityZones=zones,
            LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"},
            Tags=[{"Key": "workload", "Value": name, "PropagateAtLaunch": True}])
        self._created(name, "autoscaling-group", group["name"], region, group["name"])

    def _deploy_private_record(self, name: str, failover: dict[str, Any], zone_id: str | None) -> None:
        where = f"workloads.{name}.failover.private_record"
        if zone_id is None:
            raise DeployError(f"inventory.private_zone: missing but {where} is declared; add the zone")
        record = failover["private_record"]
        record["zone_id"] = zone_id
        self._client("route53", "us-east-1").change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
                "Name": _require(record, "name", str, where), "Type": record.get("type") or "CNAME",
                "TTL": int(record.get("ttl") or 60), "ResourceRecords": [{"Value": str(record["value"])}]}}]})
        self._created(name, "route53-private-record", record["name"], "global", zone_id)

    def _deploy_application(self, failover: dict[str, Any], zone_id: str | None) -> None:
        name = None
        where = "application"
        if zone_id is None:
            raise DeployError(f"inventory.hosted_zone: missing but {where} declares records; add the zone")
        id_map: dict[str, str] = {}
        route53 = self._client("route53", "us-east-1")
        for check in failover.get("health_checks") or []:
            region = _require(check, "region", str, f"{where}.health_checks[]")
            made = route53.create_health_check(CallerReference=f"{self.caller_reference}-{check.get('id')}",
                                               HealthCheckConfig=self._health_check_config(check, region))["HealthCheck"]
            self._wire_health_check(made["Id"], check, region)
            id_map[str(check.get("id"))] = made["Id"]
            self._created(name, "route53-health-check", str(check.get("id")), region, made["Id"])
            check["id"] = made["Id"]
        changes = []
        record_type = _require(failover, "record_type", str, where)
        for record in _require(failover, "records", list, where):
            rrset: dict[str, Any] = {"Name": failover["record_name"], "Type": record_type}
            if record.get("alias_zone_id"):  # an alias to the region's load balancer, as on AWS
                rrset["AliasTarget"] = {"HostedZoneId": record["alias_zone_id"], "DNSName": str(record["value"]),
                                        "EvaluateTargetHealth": True}
            else:
                rrset.update(TTL=int(failover.get("ttl_seconds") or 60),
                             ResourceRecords=[{"Value": str(record["value"])}])
            if record.get("set_identifier"):
                rrset["SetIdentifier"] = record["set_identifier"]
                self._wire_record_region(record["set_identifier"], record.get("region") or "")
            routing = failover.get("routing")
            if routing == "failover":
                rrset["Failover"] = record.get("failover") or "PRIMARY"
            elif routing == "latency":
                rrset["Region"] = record["region"]
            elif routing == "weighted":
                rrset["Weight"] = int(record.get("weight") or 0)
            if record.get("health_check_id"):
                record["health_check_id"] = id_map.get(str(record["health_check_id"]), record["health_check_id"])
                rrset["HealthCheckId"] = record["health_check_id"]
            changes.append({"Action": "CREATE", "ResourceRecordSet": rrset})
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        self._created(name, "route53-records", failover["record_name"], "global", zone_id)

    def _deploy_recovery_plan(self, plan: dict[str, Any], workloads: dict[str, Any]) -> None:
        """Hand the plan to the lab's Region switch, its Route 53 steps and repoint functions pointed at
        the lab's own zone and health-check ids (deployed before the plan)."""
        _require(plan, "arn", str, "recovery_plan")
        _require(plan, "workflows", list, "recovery_plan")
        records = {record.get("set_identifier"): record
                   for record in ((self.inventory.get("application") or {}).get("records") or [])}
        zone_id = (self.inventory.get("hosted_zone") or {}).get("id")
        private_zone_id = (self.inventory.get("private_zone") or {}).get("id")
        for workflow in plan["workflows"]:
            dropped: list[str] = []
            workflow["steps"] = _steps_for(workflow.get("steps") or [], set(workloads), dropped)
            if dropped:
                self.summary.not_emulated(None, f"region-switch-steps:{', '.join(dropped)}",
                                          "these plan steps act only on workloads this inventory does not "
                                          "carry (a trimmed inventory); the lab's plan runs without them")
            for step in all_steps(workflow.get("steps") or []):
                for resource in step.get("resources") or []:
                    if resource.get("kind") == "lambda-function":
                        env = resource.get("environment") or {}
                        if private_zone_id is None or not env.get("ZONE_ID"):
                            raise DeployError(f"inventory.recovery_plan: step {step.get('name')} repoints a private "
                                              "record but the inventory declares no private_zone; re-export it")
                        env["ZONE_ID"] = private_zone_id
                        continue
                    if resource.get("kind") != "route53-record":
                        continue
                    record = records.get(resource.get("set_identifier"))
                    if record is None:
                        raise DeployError(f"inventory.recovery_plan: step {step.get('name')} names record set "
                                          f"{resource.get('set_identifier')!r} that application.records lacks")
                    resource["health_check_id"] = record.get("health_check_id")
                    resource["hosted_zone_id"] = zone_id
        self.parts.region_switch.register(plan)
        self._created(None, "region-switch-plan", str(plan.get("name")), "global", str(plan["arn"]))
        self.summary.not_emulated(None, f"region-switch-alarms:{plan.get('name')}",
                                  "the plan's application-health alarms are not evaluated (CloudWatch alarms "
                                  "hold no metrics in the lab)")
        if plan.get("report_bucket"):
            self.summary.not_emulated(None, f"region-switch-reports:{plan['report_bucket']}",
                                      "Region switch execution reports are not written; the game day's own "
                                      "report shows RTO by plan step")
        self.summary.not_emulated(None, f"region-switch-health-checks:{plan.get('name')}",
                                  "Route53HealthCheck steps wait for the stack's own health checks; Region "
                                  "switch's managed health checks (flipped by the plan on AWS) do not exist here")

    # --- helpers ---------------------------------------------------------------------------------------

    def _client(self, service: str, region: str) -> Any:
        return _lab_client(self.parts.endpoint, self.parts.keys, service, region)

    def _created(self, workload: str | None, kind: str, resource: str, region: str, lab_id: str) -> None:
        self.summary.created.append({"workload": workload, "kind": kind, "resource": resource,
                                     "region": region, "id": lab_id})


def lab_client(endpoint: str, keys: tuple[str, str], service: str, region: str) -> Any:
    """A boto3 client on the lab for the lab's own parts, signed with the lab's keys (cached;
    faults and latency do not apply)."""
    return _lab_client(endpoint, keys, service, region)


@functools.lru_cache(maxsize=None)
def _lab_client(endpoint: str, keys: tuple[str, str], service: str, region: str) -> Any:
    """Cached across deploys: building a botocore client costs ~0.15 s and a reset redeploys."""
    return signed_client(keys, service, region, endpoint, Config(
        user_agent_extra=LAB_USER_AGENT, retries={"max_attempts": 1, "mode": "standard"}))


def _steps_for(steps: list[dict[str, Any]], present: set[str], dropped: list[str]) -> list[dict[str, Any]]:
    """The steps that act on a deployed workload (or on none, like an approval); Parallel blocks
    keep their remaining steps. The names of the others go to `dropped`."""
    kept = []
    for step in steps:
        if step.get("steps"):
            step["steps"] = _steps_for(step["steps"], present, dropped)
            if step["steps"]:
                kept.append(step)
            continue
        if step.get("workloads") and not set(step["workloads"]) & present:
            dropped.append(str(step.get("name")))
            continue
        kept.append(step)
    return kept


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """An inventory lifecycle rule ({id, prefix, transitions: [{days, storage_class}], expiration_days}) for S3."""
    out: dict[str, Any] = {"ID": str(rule.get("id") or "lifecycle"), "Status": "Enabled",
                           "Filter": {"Prefix": str(rule.get("prefix") or "")},
                           "Transitions": [{"Days": int(t["days"]), "StorageClass": str(t["storage_class"])}
                                           for t in rule.get("transitions") or []]}
    if rule.get("expiration_days"):
        out["Expiration"] = {"Days": int(rule["expiration_days"])}
    return out


def _require(obj: Any, key: str, kind: type, where: str = "") -> Any:
    path = f"inventory.{where + '.' if where else ''}{key}"
    if not isinstance(obj, dict) or obj.get(key) is None:
        raise DeployError(f"{path}: missing; follow docs/inventory.md")
    if not isinstance(obj[key], kind):
        raise DeployError(f"{path}: must be a {kind.__name__}; follow docs/inventory.md")
    return obj[key]


# --- "check each by trying": what moto answers for the APIs the lab does not emulate ----------------

def _moto_refusal(call: Callable[[], Any]) -> str:
    """Try a call against moto; describe why it cannot hold the resource (or that it can)."""
    try:
        call()
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        operation = error.operation_name
        if status == 404:
            return f"moto has no {operation} API (HTTP 404)"
        if status and status >= 500:
            return f"moto does not implement {operation} (HTTP {status})"
        return f"moto refused {operation}: {error.response.get('Error', {}).get('Code')}"
    except Exception as error:  # e.g. an HTML 500 page botocore cannot parse as the protocol's XML
        status = "HTTP 500" if "500 Internal Server Error" in str(error) else type(error).__name__
        return f"moto does not implement it ({status})"
    return "moto accepts the call but the lab does not act on it"


@functools.lru_cache(maxsize=None)
def _probe_efs_replication(endpoint: str, keys: tuple[str, str]) -> str:
    return _moto_refusal(lambda: _lab_client(endpoint, keys, "efs", "us-east-1").describe_replication_configurations())


@functools.lru_cache(maxsize=None)
def _probe_dlm(endpoint: str, keys: tuple[str, str]) -> str:
    from moto.backends import list_of_moto_modules

    if "dlm" not in list_of_moto_modules():  # asking would only make moto print a routing error
        return "moto has no Data Lifecycle Manager backend at all"
    return _moto_refusal(lambda: _lab_client(endpoint, keys, "dlm", "us-east-1").get_lifecycle_policies())


@functools.lru_cache(maxsize=None)
def _probe_rds_backup_replication(endpoint: str, keys: tuple[str, str]) -> str:
    return _moto_refusal(lambda: _lab_client(endpoint, keys, "rds", "us-west-2").start_db_instance_automated_backups_replication(
        SourceDBInstanceArn="arn:aws:rds:us-east-1:123456789012:db:lab-probe"))


_REFUSAL_PROBES: dict[str, Callable[[str, tuple[str, str]], str]] = {
    "efs-replication": _probe_efs_replication,
    "dlm": _probe_dlm, "rds-backup-replication": _probe_rds_backup_replication}
