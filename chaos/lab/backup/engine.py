"""The lab's AWS Backup: recovery points holding real data, jobs, lifecycle, copies, vault lock, restore tests.

moto keeps what it already models (vaults, vault-lock settings, plans); this engine adds what AWS
Backup does with them:
- **Backup jobs** run a kind's provider (`providers.py`) that writes the resource's data into the
  recovery point's directory. Plan rules fire on their `cron(...)` schedule on the AWS-equivalent
  clock (`clock.py`); on-demand jobs come from StartBackupJob.
- **Lifecycle**: a point moves to COLD after `MoveToColdStorageAfterDays` and is deleted after
  `DeleteAfterDays`, both measured on the AWS clock.
- **Copy jobs** copy the point's directory into a vault of another region (the rule's copy actions
  or StartCopyJob), with the copy's own lifecycle.
- **Vault lock**: a locked vault fails jobs whose retention is outside [min, max] and refuses
  DeleteRecoveryPoint before the point is `MinRetentionDays` old (InvalidRequestException).
- **Restore jobs** create a new resource from a point, in the vault's region. Under the `aws` timing
  profile a job takes AWS's worst-case restore time of its resource type (`restore_pads`, AWS
  seconds from chaos.lab.timing): the data is loaded at once, then the job stays RUNNING, without
  `CreatedResourceArn`, until that time has passed on the AWS clock; the ticker completes it.
- **Restore testing**: restore, wait for the validation (an in-process hook or
  PutRestoreValidationResult, as AWS's restore testing does), delete, record the restore time.
- **Failures**: a job fails when its resource's region is out, the resource is under a `resource`
  fault, or a Chaos API rule `{"service": "backup", "operation": "BackupJob"|"CopyJob"|"RestoreJob"}`
  (optionally with `region`/`resource`) is active: the lab's way to make a job fail on purpose.
Every job end goes to `on_job_end` (metrics, EventBridge events, alarms: `alarms.py`).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from croniter import croniter

from chaos.lab import motostate
from chaos.lab.backup.clock import DAY_SECONDS, LabClock
from chaos.lab.backup.providers import (
    ACCOUNT_ID, BackupProvider, LabServices, RecoveryPointData, arn_name, build_providers, resource_type_of,
)
from chaos.lab.postgres.cluster import inside

log = logging.getLogger(__name__)

# AWS Backup's default start window when a rule or StartBackupJob gives none (botocore model doc).
DEFAULT_START_WINDOW_MINUTES = 480


class BackupApiError(Exception):
    """An AWS Backup error reply: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> BackupApiError:
    return BackupApiError(400, "ResourceNotFoundException", what)


@dataclass(frozen=True)
class Lifecycle:
    cold_after_days: int | None = None
    delete_after_days: int | None = None

    @classmethod
    def from_api(cls, raw: dict[str, Any] | None) -> "Lifecycle":
        raw = raw or {}
        cold, delete = raw.get("MoveToColdStorageAfterDays"), raw.get("DeleteAfterDays")
        return cls(None if cold is None else int(cold), None if delete is None else int(delete))

    @classmethod
    def from_inventory(cls, raw: dict[str, Any] | None) -> "Lifecycle":
        raw = raw or {}
        cold, delete = raw.get("cold_storage_after_days"), raw.get("delete_after_days")
        return cls(None if cold is None else int(cold), None if delete is None else int(delete))

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cold_after_days is not None:
            out["MoveToColdStorageAfterDays"] = self.cold_after_days
        if self.delete_after_days is not None:
            out["DeleteAfterDays"] = self.delete_after_days
        return out


@dataclass
class RecoveryPoint:
    arn: str
    vault_name: str
    region: str
    resource_arn: str
    resource_type: str
    path: Path
    created_wall: float
    created_aws: float
    completed_wall: float
    lifecycle: Lifecycle
    size_bytes: int
    restore_metadata: dict[str, str]
    iam_role_arn: str
    created_by: dict[str, str] = field(default_factory=dict)
    source_vault_arn: str | None = None          # a copy: the vault of its source (CreationDate is the source's)
    storage_class: str = "WARM"
    status: str = "COMPLETED"
    last_restore_wall: float | None = None

    @property
    def vault_arn(self) -> str:
        return vault_arn(self.region, self.vault_name)


@dataclass
class Job:
    kind: str                     # "BACKUP", "COPY", "RESTORE"
    job_id: str
    region: str
    created_wall: float
    state: str
    fields: dict[str, Any]        # the API fields specific to the kind
    completed_wall: float | None = None
    status_message: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    created_aws: float = 0.0               # the AWS clock at creation
    due_aws: float | None = None           # padded: the AWS-clock time before which it cannot complete


@dataclass
class PlanRule:
    plan_name: str
    plan_id: str
    rule_name: str
    rule_id: str
    schedule: str
    vault_region: str
    vault_name: str
    lifecycle: Lifecycle
    start_window_minutes: int
    copy_actions: list[tuple[str, str, Lifecycle]]   # (region, vault name, lifecycle)
    resources: list[str]
    next_fire_aws: float = 0.0


@dataclass
class RestoreTestPlan:
    name: str
    schedule: str
    resource_types: list[str]
    validation_window_hours: float
    region: str | None = None     # the vault region whose points it tests (None: every region)
    next_fire_aws: float = 0.0


# Restore tests asked for on demand (no plan in the inventory): every kind; a validation window of one AWS
# hour is the lab's choice (the inventory's plan gives its own).
_ON_DEMAND_TEST = RestoreTestPlan("on-demand", "cron(0 0 * * ? *)", ["DynamoDB", "S3", "RDS", "EFS", "EBS", "EC2"], 1.0)


def vault_arn(region: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-vault:{name}"


def aws_cron(expression: str) -> str:
    """`cron(M H DOM MON DOW Y)` (AWS) -> the 5-field form croniter reads.

    AWS numbers days of the week 1-7 from Sunday; croniter 0-6 from Sunday. Names (SUN..SAT) and
    `?` read the same in both. The year field is dropped (the lab runs in the present).
    """
    inner = expression.strip()
    if not (inner.startswith("cron(") and inner.endswith(")")):
        raise ValueError(f"schedule: {expression!r} is not an AWS cron expression; write e.g. cron(0 5 * * ? *)")
    fields = inner[5:-1].split()
    if len(fields) != 6:
        raise ValueError(f"schedule: {expression!r} must have 6 fields (minutes hours day-of-month month "
                         "day-of-week year)")
    dow = "".join(str(int(ch) - 1) if ch.isdigit() else ch for ch in fields[4])
    return " ".join(fields[:4] + [dow])


def next_fire(expression: str, after_aws: float) -> float:
    start = datetime.fromtimestamp(after_aws, tz=timezone.utc)
    return float(croniter(aws_cron(expression), start).get_next(float))


class BackupEngine:
    def __init__(self, workdir: Path, clock: LabClock, services: LabServices, *,
                 job_fault: Callable[[str, str, str], str | None],
                 on_event: Callable[..., None],
                 on_job_end: Callable[[Job, "BackupEngine"], None] = lambda job, engine: None):
        self.root = workdir
        self.clock = clock
        self.services = services
        self.providers: dict[str, BackupProvider] = build_providers(services)
        self._job_fault = job_fault
        self._record = on_event
        self.on_job_end = on_job_end
        self._lock = threading.RLock()
        self.points: dict[str, RecoveryPoint] = {}
        self.jobs: dict[str, Job] = {}
        self.rules: list[PlanRule] = []
        self.restore_tests: list[RestoreTestPlan] = []
        self.validators: list[Callable[[str, str], tuple[bool, str]]] = []  # (created ARN, type) -> (ok, message)
        self.restore_test_results: list[dict[str, Any]] = []
        self._awaiting_validation: dict[str, tuple[Job, RestoreTestPlan, float]] = {}
        # Restore jobs whose data is loaded, RUNNING until their padded time (job, created ARN, test plan).
        self._held_restores: dict[str, tuple[Job, str, RestoreTestPlan | None]] = {}
        # AWS seconds a restore job of each resource type takes at least (chaos.lab.timing; {} = none).
        self.restore_pads: dict[str, float] = {}
        # (created resource ARN, lab time until which it is unusable; 0 = usable now): the lab core
        # keeps a held restore's table CREATING and its DB instance unreachable, as AWS would.
        self.hold_resource: Callable[[str, float], None] = lambda arn, until: None
        self.regions: list[str] = []
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="backup-job")

    # ================================================================ deploy (from the inventory)

    def configure(self, inventory: dict[str, Any]) -> list[tuple[str, str]]:
        """Plans, selections and restore-testing plans from `inventory["backup"]`; returns (resource,
        reason) for what the inventory declares that the engine cannot act on (the deploy summary)."""
        notes: list[tuple[str, str]] = []
        backup = inventory.get("backup") or {}
        self.regions = sorted({r for r in (inventory.get("primary_region"), inventory.get("dr_region")) if r})
        vaults = {region: (v or {}).get("name") for region, v in (backup.get("vaults") or {}).items()}
        workloads = inventory.get("workloads") or {}
        now = self.clock.aws_now()
        for plan in backup.get("plans") or []:
            rules = plan.get("rules")
            if not rules:
                notes.append((f"backup-plan:{plan.get('name')}", "the inventory carries no rules for this plan, so "
                              "no scheduled jobs run (on-demand StartBackupJob, copies and restores work)"))
                continue
            types = set(plan.get("resource_types") or self.providers)
            protected = [arn for name, w in workloads.items()
                         if (w.get("backup") or {}).get("plan_name") == plan.get("name")
                         for arn in self._resources_of(name, w) if resource_type_of(arn) in types]
            for index, rule in enumerate(rules):
                if not isinstance(rule, dict) or not isinstance(rule.get("schedule"), str):
                    raise ValueError(f"inventory.backup.plans[{plan.get('name')}].rules[{index}].schedule: missing; "
                                     "write an AWS cron expression such as cron(0 5 * * ? *)")
                if rule.get("continuous"):
                    notes.append((f"backup-continuous:{plan.get('name')}/{rule.get('name')}",
                                  "AWS Backup continuous backup (point-in-time restore) is not emulated: the lab "
                                  "takes a snapshot on the rule's schedule; point-in-time restores come from the "
                                  "DynamoDB PITR logs and the RDS WAL archive"))
                region = rule.get("vault_region") or inventory.get("primary_region")
                copies = [(c["region"], c.get("vault_name") or vaults.get(c["region"]), Lifecycle.from_inventory(c.get("lifecycle")))
                          for c in rule.get("copy_actions") or []]
                self.rules.append(PlanRule(
                    plan_name=plan.get("name", ""), plan_id=str(plan.get("id", "")), rule_name=rule.get("name", ""),
                    rule_id=str(uuid.uuid4()), schedule=rule["schedule"], vault_region=region,
                    vault_name=rule.get("vault_name") or vaults.get(region) or "", lifecycle=Lifecycle.from_inventory(rule.get("lifecycle")),
                    start_window_minutes=int(rule.get("start_window_minutes") or DEFAULT_START_WINDOW_MINUTES),
                    copy_actions=copies, resources=protected, next_fire_aws=next_fire(rule["schedule"], now)))
        testing = backup.get("restore_testing") or []
        for index, plan in enumerate([testing] if isinstance(testing, dict) else testing):
            if not isinstance(plan, dict) or not isinstance(plan.get("schedule"), str):
                raise ValueError(f"inventory.backup.restore_testing[{index}].schedule: missing; write an AWS cron "
                                 "expression such as cron(0 6 ? * SAT *)")
            self.restore_tests.append(RestoreTestPlan(
                name=plan.get("name", "restore-testing"), schedule=plan["schedule"],
                resource_types=list(plan.get("resource_types") or self.providers),
                validation_window_hours=float(plan.get("validation_window_hours") or 1),
                region=plan.get("region"), next_fire_aws=next_fire(plan["schedule"], now)))
        kinds = {"dynamodb": ("DynamoDB",), "s3": ("S3",), "rds": ("RDS",), "efs": ("EFS",), "ec2": ("EC2", "EBS")}
        planned = {plan.get("name") for plan in backup.get("plans") or [] if plan.get("rules")}
        for name, workload in workloads.items():
            types = kinds.get(str(workload.get("kind")), ())
            if (workload.get("backup") or {}).get("plan_name") in planned and not set(types) & set(self.providers):
                notes.append((f"backup-provider:{name}", f"no lab backup provider is registered for "
                              f"{'/'.join(types) or workload.get('kind')}: its scheduled backups are not taken"))
        return notes

    def _resources_of(self, workload: str, spec: dict[str, Any]) -> list[str]:
        arns: list[str] = []
        for provider in self.providers.values():
            arns += provider.resources(workload, spec)
        return arns

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def clear(self) -> None:
        """Forget everything (lab reset); in-flight jobs finish first so none writes into a cleared vault."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="backup-job")
        with self._lock:
            for point in self.points.values():
                shutil.rmtree(point.path, ignore_errors=True)
            self.points.clear()
            self.jobs.clear()
            self.rules.clear()
            self.restore_tests.clear()
            self.restore_test_results.clear()
            self._awaiting_validation.clear()
            self._held_restores.clear()
            self.restore_pads = {}

    # ================================================================ backup jobs

    def start_backup_job(self, region: str, vault_name: str, resource_arn: str, iam_role_arn: str,
                         lifecycle: Lifecycle, *, start_window_minutes: int | None = None,
                         created_by: dict[str, str] | None = None,
                         copy_actions: list[tuple[str, str, Lifecycle]] | None = None) -> Job:
        self._require_vault(region, vault_name)
        resource_type = resource_type_of(resource_arn)
        if resource_type is None:
            raise BackupApiError(400, "InvalidParameterValueException",
                                 f"Invalid ARN: {resource_arn}. Resource type not supported")
        if not iam_role_arn:
            raise BackupApiError(400, "MissingParameterValueException", "IamRoleArn is required")
        now = self.clock.wall_now()
        point_arn = f"arn:aws:backup:{region}:{ACCOUNT_ID}:recovery-point:{uuid.uuid4()}"
        window = start_window_minutes or DEFAULT_START_WINDOW_MINUTES
        job = Job("BACKUP", str(uuid.uuid4()).upper(), region, now, "CREATED", {
            "BackupVaultName": vault_name, "BackupVaultArn": vault_arn(region, vault_name),
            "RecoveryPointArn": point_arn, "ResourceArn": resource_arn, "ResourceType": resource_type,
            "ResourceName": arn_name(resource_arn), "IamRoleArn": iam_role_arn,
            "CreatedBy": created_by or {}, "RecoveryPointLifecycle": lifecycle.to_api(),
            "StartBy": self.clock.wall_at(self.clock.aws_now() + window * 60.0),
        })
        with self._lock:
            self.jobs[job.job_id] = job
        self._record("backup_job_created", job_id=job.job_id, resource=resource_arn, vault=vault_name, region=region)
        self._pool.submit(self._run_backup, job, lifecycle, copy_actions or [])
        return job

    def _run_backup(self, job: Job, lifecycle: Lifecycle, copy_actions: list[tuple[str, str, Lifecycle]]) -> None:
        f = job.fields
        job.state = "RUNNING"
        dest = self.root / job.region / f["BackupVaultName"] / f["RecoveryPointArn"].rsplit(":", 1)[-1]
        try:
            self._check_lock(job.region, f["BackupVaultName"], lifecycle)
            fault = self._job_fault("BackupJob", self._provider(f["ResourceType"]).region_of(f["ResourceArn"]),
                                    f["ResourceArn"])
            if fault:
                raise RuntimeError(fault)
            inside(dest, self.root)  # vault name and ARN come from a request
            dest.mkdir(parents=True)
            started_aws = self.clock.aws_now()
            snapshot = self._provider(f["ResourceType"]).snapshot(f["ResourceArn"], dest)
            point = RecoveryPoint(
                arn=f["RecoveryPointArn"], vault_name=f["BackupVaultName"], region=job.region,
                resource_arn=f["ResourceArn"], resource_type=f["ResourceType"], path=dest,
                created_wall=job.created_wall, created_aws=started_aws, completed_wall=self.clock.wall_now(),
                lifecycle=lifecycle, size_bytes=snapshot.size_bytes, restore_metadata=dict(snapshot.restore_metadata),
                iam_role_arn=f["IamRoleArn"], created_by=f["CreatedBy"])
            with self._lock:
                self.points[point.arn] = point
            f["BackupSizeInBytes"] = snapshot.size_bytes
            self._finish(job, "COMPLETED")
        except Exception as error:  # noqa: BLE001 - a failed job is an answer, not a crash
            shutil.rmtree(dest, ignore_errors=True)
            self._finish(job, "FAILED", _message(error))
            return
        for region, vault, copy_lifecycle in copy_actions:
            try:
                self.start_copy_job(job.region, f["BackupVaultName"], f["RecoveryPointArn"],
                                    vault_arn(region, vault), f["IamRoleArn"], copy_lifecycle)
            except BackupApiError as error:
                self._record("copy_job_refused", source=f["RecoveryPointArn"], error=error.message)

    def _check_lock(self, region: str, vault_name: str, lifecycle: Lifecycle) -> None:
        """AWS: a locked vault fails jobs whose retention is below its minimum or above its maximum."""
        vault = self._vault(region, vault_name)
        if vault is None or not vault.locked:
            return
        days = lifecycle.delete_after_days
        if vault.min_retention_days is not None and (days is not None and days < vault.min_retention_days):
            raise RuntimeError(f"The retention period of {days} days is shorter than the vault lock's minimum "
                               f"retention of {vault.min_retention_days} days on {vault_name}")
        if vault.max_retention_days is not None and (days is None or days > vault.max_retention_days):
            raise RuntimeError(f"The retention period ({'indefinite' if days is None else f'{days} days'}) exceeds "
                               f"the vault lock's maximum retention of {vault.max_retention_days} days on {vault_name}")

    # ================================================================ copy jobs

    def start_copy_job(self, region: str, source_vault: str, point_arn: str, destination_vault_arn: str,
                       iam_role_arn: str, lifecycle: Lifecycle) -> Job:
        source = self._point(region, source_vault, point_arn)
        parts = destination_vault_arn.split(":")
        if len(parts) < 7 or parts[2] != "backup" or parts[5] != "backup-vault":
            raise BackupApiError(400, "InvalidParameterValueException",
                                 f"Invalid destination backup vault ARN: {destination_vault_arn}")
        dest_region, dest_vault = parts[3], parts[6]
        self._require_vault(dest_region, dest_vault)
        copy_arn = f"arn:aws:backup:{dest_region}:{ACCOUNT_ID}:recovery-point:{uuid.uuid4()}"
        job = Job("COPY", str(uuid.uuid4()).upper(), region, self.clock.wall_now(), "CREATED", {
            "SourceBackupVaultArn": vault_arn(region, source_vault), "SourceRecoveryPointArn": point_arn,
            "DestinationBackupVaultArn": destination_vault_arn, "DestinationRecoveryPointArn": copy_arn,
            "ResourceArn": source.resource_arn, "ResourceType": source.resource_type,
            "ResourceName": arn_name(source.resource_arn), "IamRoleArn": iam_role_arn,
            "DestinationRecoveryPointLifecycle": lifecycle.to_api(),
        })
        with self._lock:
            self.jobs[job.job_id] = job
        self._pool.submit(self._run_copy, job, source, dest_region, dest_vault, copy_arn, lifecycle)
        return job

    def _run_copy(self, job: Job, source: RecoveryPoint, dest_region: str, dest_vault: str, copy_arn: str,
                  lifecycle: Lifecycle) -> None:
        job.state = "RUNNING"
        dest = self.root / dest_region / dest_vault / copy_arn.rsplit(":", 1)[-1]
        try:
            if source.storage_class != "WARM":  # same Developer Guide page: cold backups cannot be copied
                raise RuntimeError(f"Recovery point {source.arn} is in cold storage; backups in cold storage "
                                   "cannot be copied")
            self._check_lock(dest_region, dest_vault, lifecycle)
            for region in (source.region, dest_region):
                fault = self._job_fault("CopyJob", region, source.resource_arn)
                if fault:
                    raise RuntimeError(fault)
            inside(dest, self.root)  # vault name and ARN come from a request
            dest.parent.mkdir(parents=True, exist_ok=True)
            # `cp -a` keeps ownership (PostgreSQL data belongs to `postgres`), unlike shutil.copytree.
            subprocess.run(["cp", "-a", str(source.path), str(dest)], check=True, capture_output=True, timeout=300)
            # AWS: "Copies retain their source configuration, including creation dates ... The creation date
            # refers to when the source was created" and expiry counts from it (AWS Backup Developer Guide,
            # "Copy a backup", https://docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html,
            # read 2026-11-30). So a copy's CreationDate is its source's, and RPO reads straight off it.
            copy = RecoveryPoint(
                arn=copy_arn, vault_name=dest_vault, region=dest_region, resource_arn=source.resource_arn,
                resource_type=source.resource_type, path=dest, created_wall=source.created_wall,
                created_aws=source.created_aws, completed_wall=self.clock.wall_now(), lifecycle=lifecycle,
                size_bytes=source.size_bytes, restore_metadata=dict(source.restore_metadata),
                iam_role_arn=job.fields["IamRoleArn"], source_vault_arn=source.vault_arn)
            with self._lock:
                self.points[copy.arn] = copy
            job.fields["BackupSizeInBytes"] = source.size_bytes
            self._finish(job, "COMPLETED")
        except Exception as error:  # noqa: BLE001
            shutil.rmtree(dest, ignore_errors=True)
            self._finish(job, "FAILED", _message(error))

    # ================================================================ restore jobs

    def start_restore_job(self, region: str, point_arn: str, metadata: dict[str, str], iam_role_arn: str,
                          *, restore_test: RestoreTestPlan | None = None) -> Job:
        point = self._find_point(region, point_arn)
        if point.status != "COMPLETED":
            raise BackupApiError(400, "InvalidRequestException", f"Recovery point {point_arn} is {point.status}")
        created_aws = self.clock.aws_now()
        job = Job("RESTORE", str(uuid.uuid4()).upper(), region, self.clock.wall_at(created_aws), "PENDING", {
            "RecoveryPointArn": point_arn, "SourceResourceArn": point.resource_arn,
            "BackupVaultArn": point.vault_arn, "ResourceType": point.resource_type, "IamRoleArn": iam_role_arn,
            "BackupSizeInBytes": point.size_bytes, "RecoveryPointCreationDate": point.created_wall,
            "CreatedBy": {"RestoreTestingPlanArn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:restore-testing-plan:{restore_test.name}"}
            if restore_test else {},
        }, created_aws=created_aws)
        pad = self.restore_pads.get(point.resource_type, 0.0)
        if pad > 0:
            job.due_aws = created_aws + pad
        with self._lock:
            self.jobs[job.job_id] = job
        self._pool.submit(self._run_restore, job, point, dict(metadata), restore_test)
        return job

    def _run_restore(self, job: Job, point: RecoveryPoint, metadata: dict[str, str],
                     restore_test: RestoreTestPlan | None) -> None:
        job.state = "RUNNING"
        try:
            fault = self._job_fault("RestoreJob", point.region, point.resource_arn)
            if fault:
                raise RuntimeError(fault)
            created = self._provider(point.resource_type).restore(
                RecoveryPointData(point.path, point.resource_arn, point.resource_type, point.region,
                                  dict(point.restore_metadata), point.created_wall),
                point.region, metadata)
            point.last_restore_wall = self.clock.wall_now()
        except Exception as error:  # noqa: BLE001
            self._finish(job, "FAILED", _message(error))
            return
        if job.due_aws is not None and self.clock.aws_now() < job.due_aws:
            # AWS would still be at it: the worker is free again, the ticker completes the job when due.
            with self._lock:
                self._held_restores[job.job_id] = (job, created, restore_test)
            self._hold(created, self.clock.wall_at(job.due_aws))
            return
        self._complete_restore(job, created, restore_test)

    def _complete_restore(self, job: Job, created: str, restore_test: RestoreTestPlan | None) -> None:
        """COMPLETED with its CreatedResourceArn; a restore test then validates and deletes it (on a worker)."""
        job.fields["CreatedResourceArn"] = created
        if restore_test is not None:
            job.fields["ValidationStatus"] = "VALIDATING"
        padding: dict[str, Any] = {}
        if job.due_aws is not None:
            self._hold(created, 0.0)
            padding = {"padded": True, "padded_to_seconds": round(self.clock.wall_at(job.due_aws) - job.created_wall, 3),
                       "padded_aws_seconds": round(job.due_aws - job.created_aws, 3)}
        self._finish(job, "COMPLETED", **padding)
        if restore_test is not None:
            self._pool.submit(self._validate_and_delete, job, restore_test)

    def settle_restore(self, job: Job) -> None:
        """Complete a held restore job whose time has come: from the ticker, or from a Describe that
        comes first (so an answer never lags the AWS clock by a tick). Whoever takes it completes it."""
        if job.due_aws is None or self.clock.aws_now() < job.due_aws:
            return
        with self._lock:
            held = self._held_restores.pop(job.job_id, None)
        if held is not None:
            self._complete_restore(*held)

    def _hold(self, created: str, until: float) -> None:
        try:
            self.hold_resource(created, until)
        except Exception:  # noqa: BLE001 - the job's state is the contract; the hold is fidelity on top
            log.exception("holding restored resource %s failed", created)

    def percent_done(self, job: Job) -> float:
        """AWS's estimated percentage: a padded restore job advances with the AWS clock towards its due time."""
        if job.completed_wall is not None:
            return 100.0
        if job.due_aws is None or job.due_aws <= job.created_aws:
            return 0.0
        done = (self.clock.aws_now() - job.created_aws) / (job.due_aws - job.created_aws)
        return round(min(99.0, max(0.0, 100.0 * done)), 1)

    def _validate_and_delete(self, job: Job, plan: RestoreTestPlan) -> None:
        """Restore testing, after the restore: in-process validators answer now; otherwise the job waits
        (without holding a worker) for PutRestoreValidationResult until the validation window ends."""
        created, resource_type = job.fields["CreatedResourceArn"], job.fields["ResourceType"]
        if self.validators:
            verdicts = [validator(created, resource_type) for validator in list(self.validators)]
            ok = all(passed for passed, _ in verdicts)
            self.put_validation_result(job.job_id, "SUCCESSFUL" if ok else "FAILED",
                                       "; ".join(message for _, message in verdicts if message) or None)
            return
        with self._lock:
            self._awaiting_validation[job.job_id] = (job, plan, self.clock.aws_now() + plan.validation_window_hours * 3600)

    def _finish_restore_test(self, job: Job, plan: RestoreTestPlan) -> None:
        created, resource_type = job.fields["CreatedResourceArn"], job.fields["ResourceType"]
        if job.fields.get("ValidationStatus") == "VALIDATING":
            job.fields["ValidationStatus"] = "TIMED_OUT"
        job.fields["DeletionStatus"] = "DELETING"
        try:
            self._provider(resource_type).delete(created)
            job.fields["DeletionStatus"] = "SUCCESSFUL"
        except Exception as error:  # noqa: BLE001
            job.fields["DeletionStatus"], job.fields["DeletionStatusMessage"] = "FAILED", _message(error)
        result = {"restore_job_id": job.job_id, "plan": plan.name, "resource_type": resource_type,
                  "recovery_point_arn": job.fields["RecoveryPointArn"], "created_resource_arn": created,
                  "restore_seconds": round((job.completed_wall or job.created_wall) - job.created_wall, 3),
                  "validation": job.fields["ValidationStatus"], "deletion": job.fields["DeletionStatus"]}
        with self._lock:
            self.restore_test_results.append(result)
        self._record("restore_test_completed", **result)

    def put_validation_result(self, job_id: str, status: str, message: str | None) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.kind != "RESTORE":
            raise not_found(f"Restore job {job_id} not found")
        if status not in ("SUCCESSFUL", "FAILED"):
            raise BackupApiError(400, "InvalidParameterValueException",
                                 f"ValidationStatus {status!r} must be SUCCESSFUL or FAILED")
        if job.fields.get("ValidationStatus") != "VALIDATING":
            raise BackupApiError(400, "InvalidRequestException",
                                 f"Restore job {job_id} is not awaiting validation")
        job.fields["ValidationStatus"] = status
        if message:
            job.fields["ValidationStatusMessage"] = message
        with self._lock:
            waiting = self._awaiting_validation.pop(job_id, None)
        plan = waiting[1] if waiting else next(iter(self.restore_tests), None) or _ON_DEMAND_TEST
        self._pool.submit(self._finish_restore_test, job, plan)

    def run_restore_tests(self, plan: RestoreTestPlan | None = None) -> list[Job]:
        """One restore test per protected resource: its newest point in each region's vault (AWS picks
        the latest point by default)."""
        plan = plan or _ON_DEMAND_TEST
        newest: dict[tuple[str, str], RecoveryPoint] = {}
        with self._lock:
            for point in self.points.values():
                if point.resource_type in plan.resource_types and point.status == "COMPLETED" \
                        and plan.region in (None, point.region):
                    key = (point.resource_arn, point.region)
                    if key not in newest or point.created_wall > newest[key].created_wall:
                        newest[key] = point
        role = f"arn:aws:iam::{ACCOUNT_ID}:role/lab-restore-testing"
        return [self.start_restore_job(p.region, p.arn, {}, role, restore_test=plan) for p in newest.values()]

    # ================================================================ recovery points

    def list_points(self, region: str, vault_name: str, *, resource_arn: str | None = None,
                    resource_type: str | None = None) -> list[RecoveryPoint]:
        self._require_vault(region, vault_name)
        with self._lock:
            points = [p for p in self.points.values() if p.region == region and p.vault_name == vault_name
                      and (resource_arn is None or p.resource_arn == resource_arn)
                      and (resource_type is None or p.resource_type == resource_type)]
        return sorted(points, key=lambda p: p.created_wall, reverse=True)

    def delete_point(self, region: str, vault_name: str, point_arn: str) -> None:
        point = self._point(region, vault_name, point_arn)
        vault = self._vault(region, vault_name)
        if vault is not None and vault.locked and vault.min_retention_days:
            age_days = (self.clock.aws_now() - point.created_aws) / DAY_SECONDS
            if age_days < vault.min_retention_days:
                # Code and status: AWS Backup API reference, DeleteRecoveryPoint "Errors" (InvalidRequestException,
                # HTTP 400), read 2026-11-30. AWS publishes no exact message; this wording is the lab's.
                raise BackupApiError(400, "InvalidRequestException",
                                     f"Recovery point {point_arn} cannot be deleted: backup vault {vault_name} is "
                                     f"locked and the recovery point is {age_days:.2f} days old, younger than the "
                                     f"vault lock's minimum retention of {vault.min_retention_days} days")
        self._remove(point, "deleted")

    def _remove(self, point: RecoveryPoint, why: str) -> None:
        with self._lock:
            self.points.pop(point.arn, None)
        point.status, point.storage_class = "DELETED", "DELETED"
        shutil.rmtree(point.path, ignore_errors=True)
        self._record("recovery_point_" + why, arn=point.arn, vault=point.vault_name, region=point.region,
                     resource=point.resource_arn)

    def calculated_lifecycle(self, point: RecoveryPoint) -> dict[str, float]:
        out: dict[str, float] = {}
        if point.lifecycle.cold_after_days is not None:
            out["MoveToColdStorageAt"] = self.clock.wall_at(point.created_aws + point.lifecycle.cold_after_days * DAY_SECONDS)
        if point.lifecycle.delete_after_days is not None:
            out["DeleteAt"] = self.clock.wall_at(point.created_aws + point.lifecycle.delete_after_days * DAY_SECONDS)
        return out

    # ================================================================ the clock's work

    def tick(self) -> None:
        """Scheduled rules, lifecycle transitions and deletions, scheduled restore tests (called ~20x/s)."""
        now = self.clock.aws_now()
        for rule in list(self.rules):
            if now >= rule.next_fire_aws:
                rule.next_fire_aws = next_fire(rule.schedule, now)
                self._fire(rule)
        for plan in list(self.restore_tests):
            if now >= plan.next_fire_aws:
                plan.next_fire_aws = next_fire(plan.schedule, now)
                self.run_restore_tests(plan)
        with self._lock:
            points = list(self.points.values())
            timed_out = [(job, plan) for job, plan, deadline in self._awaiting_validation.values() if now >= deadline]
            for job, _ in timed_out:
                self._awaiting_validation.pop(job.job_id, None)
            due = [job for job, _, _ in self._held_restores.values() if now >= (job.due_aws or 0.0)]
        for job, plan in timed_out:
            self._pool.submit(self._finish_restore_test, job, plan)
        for job in due:  # cheap (state, event, metric): here, not behind busy workers
            self.settle_restore(job)
        for point in points:
            lc = point.lifecycle
            if lc.delete_after_days is not None and now >= point.created_aws + lc.delete_after_days * DAY_SECONDS:
                self._remove(point, "expired")
            elif lc.cold_after_days is not None and point.storage_class == "WARM" \
                    and now >= point.created_aws + lc.cold_after_days * DAY_SECONDS:
                point.storage_class = "COLD"
                self._record("recovery_point_cold", arn=point.arn, vault=point.vault_name, region=point.region)

    def _fire(self, rule: PlanRule) -> None:
        role = f"arn:aws:iam::{ACCOUNT_ID}:role/lab-backup"
        for resource in rule.resources:
            try:
                self.start_backup_job(rule.vault_region, rule.vault_name, resource, role, rule.lifecycle,
                                      start_window_minutes=rule.start_window_minutes,
                                      created_by={"BackupPlanId": rule.plan_id, "BackupPlanName": rule.plan_name,
                                                  "BackupRuleId": rule.rule_id, "BackupRuleName": rule.rule_name},
                                      copy_actions=rule.copy_actions)
            except BackupApiError as error:
                self._record("backup_job_refused", resource=resource, rule=rule.rule_name, error=error.message)

    # ================================================================ helpers

    def _finish(self, job: Job, state: str, message: str | None = None, **extra: Any) -> None:
        job.completed_wall = self.clock.wall_now()
        job.status_message = message
        job.state = state  # last: a reader that sees the end state sees its CompletionDate too
        self._record(f"{job.kind.lower()}_job_{state.lower()}", job_id=job.job_id, region=job.region,
                     resource=job.fields.get("ResourceArn") or job.fields.get("SourceResourceArn"),
                     seconds=round(job.completed_wall - job.created_wall, 3), message=message, **extra)
        try:
            self.on_job_end(job, self)
        except Exception:  # noqa: BLE001 - monitoring must never break a job
            log.exception("backup job monitoring failed")
        job.done.set()

    def _provider(self, resource_type: str) -> BackupProvider:
        provider = self.providers.get(resource_type)
        if provider is None:
            raise RuntimeError(f"the lab has no backup provider for {resource_type}")
        return provider

    def _vault(self, region: str, name: str) -> Any | None:
        if region not in self.regions and self.regions:
            return None
        return motostate.backup_backend(region).vaults.get(name)

    def _require_vault(self, region: str, name: str) -> None:
        if self._vault(region, name) is None:
            raise not_found(f"Backup vault {name} not found in {region}")

    def _point(self, region: str, vault_name: str, arn: str) -> RecoveryPoint:
        self._require_vault(region, vault_name)
        point = self.points.get(arn)
        if point is None or point.region != region or point.vault_name != vault_name:
            raise not_found(f"Recovery point {arn} not found in backup vault {vault_name}")
        return point

    def _find_point(self, region: str, arn: str) -> RecoveryPoint:
        point = self.points.get(arn)
        if point is None or point.region != region:
            raise not_found(f"Recovery point {arn} not found")
        return point


def _message(error: Exception) -> str:
    return str(error).splitlines()[0][:500] if str(error) else type(error).__name__
