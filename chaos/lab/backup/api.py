"""The AWS Backup REST-JSON operations the lab answers itself, shaped as botocore's service model says.

moto 5.2.5's backup backend holds plans, vaults, vault-lock settings, report plans and tags; it
has no jobs, no recovery points, no copies, no restores (no URL for them at all), so those come
here. Requests are recognised by method + path from botocore's own `backup` service model, so a
path the SDK builds is a path the lab knows. Timestamps go out as epoch seconds (REST-JSON's
default), errors as `{"__type", "message"}` with AWS's codes.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

import botocore.session

from chaos.lab import motostate
from chaos.lab.backup.clock import DAY_SECONDS
from chaos.lab.backup.engine import BackupApiError, BackupEngine, Job, Lifecycle, RecoveryPoint, not_found

HANDLED = ("StartBackupJob", "DescribeBackupJob", "ListBackupJobs", "ListRecoveryPointsByBackupVault",
           "DescribeRecoveryPoint", "DeleteRecoveryPoint", "GetRecoveryPointRestoreMetadata", "StartCopyJob",
           "DescribeCopyJob", "ListCopyJobs", "StartRestoreJob", "DescribeRestoreJob", "ListRestoreJobs",
           "PutRestoreValidationResult")
# Answered by moto, then adjusted: the lock's grace period runs on the lab's AWS clock.
ADJUSTED = ("PutBackupVaultLockConfiguration", "DeleteBackupVaultLockConfiguration")
# moto's wording for an immutable lock (moto/backup/models.py); AWS documents the code, InvalidRequestException
# (DeleteBackupVaultLockConfiguration API reference, read 2026-11-30), not the message.
IMMUTABLE_LOCK = "Vault Lock configuration is immutable and cannot be {verb}"


@functools.lru_cache(maxsize=1)
def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    model = botocore.session.get_session().get_service_model("backup")
    routes = []
    for name in HANDLED + ADJUSTED:
        http = model.operation_model(name).http
        pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", http["requestUri"].rstrip("/"))
        routes.append((http["method"], re.compile(f"^{pattern}/?$"), name))
    return routes


def operation_of(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The handled operation a request is (and its URI parameters), or None: moto's."""
    for route_method, pattern, name in _routes():
        if route_method == method:
            found = pattern.match(path)
            if found:
                return name, found.groupdict()
    return None


class BackupApi:
    def __init__(self, engine: BackupEngine):
        self.engine = engine
        self._lock_deadlines: dict[tuple[str, str], float] = {}  # (region, vault) -> AWS time the lock sets
        self._handlers: dict[str, Callable[[str, dict[str, str], dict[str, Any], dict[str, list[str]]], Any]] = {
            "StartBackupJob": self._start_backup_job, "DescribeBackupJob": self._describe_backup_job,
            "ListBackupJobs": self._list_backup_jobs,
            "ListRecoveryPointsByBackupVault": self._list_points, "DescribeRecoveryPoint": self._describe_point,
            "DeleteRecoveryPoint": self._delete_point, "GetRecoveryPointRestoreMetadata": self._restore_metadata,
            "StartCopyJob": self._start_copy_job, "DescribeCopyJob": self._describe_copy_job,
            "ListCopyJobs": self._list_copy_jobs, "StartRestoreJob": self._start_restore_job,
            "DescribeRestoreJob": self._describe_restore_job, "ListRestoreJobs": self._list_restore_jobs,
            "PutRestoreValidationResult": self._put_validation,
        }

    def clear(self) -> None:
        self._lock_deadlines.clear()

    def handle(self, operation: str, region: str, params: dict[str, str], body: dict[str, Any],
               query: dict[str, list[str]]) -> tuple[int, dict[str, Any] | None]:
        """(HTTP status, JSON body or None); raises BackupApiError for an AWS error reply."""
        return 200, self._handlers[operation](region, params, body, query)

    def before_lock_change(self, operation: str, region: str, vault_name: str) -> None:
        """A compliance lock past its grace (on the AWS clock) can be neither changed nor removed."""
        deadline = self._lock_deadlines.get((region, vault_name))
        if deadline is None:
            return
        clock = self.engine.clock
        if clock.aws_now() >= deadline:
            verb = "deleted" if operation.startswith("Delete") else "modified"
            raise BackupApiError(400, "InvalidRequestException", IMMUTABLE_LOCK.format(verb=verb))
        vault = motostate.backup_backend(region).vaults.get(vault_name)
        if vault is not None:  # the factor may have changed since: keep moto's own check in step
            vault.lock_date = clock.wall_at(deadline)

    def after_lock_change(self, operation: str, region: str, vault_name: str) -> None:
        """moto sets LockDate = now + ChangeableForDays in wall time; the lab's grace runs on its AWS clock."""
        vault = motostate.backup_backend(region).vaults.get(vault_name)
        if operation.startswith("Delete") or vault is None or vault.changeable_for_days is None:
            self._lock_deadlines.pop((region, vault_name), None)
            return
        clock = self.engine.clock
        deadline = clock.aws_now() + vault.changeable_for_days * DAY_SECONDS
        self._lock_deadlines[(region, vault_name)] = deadline
        vault.lock_date = clock.wall_at(deadline)

    # --- backup jobs --------------------------------------------------------------------------------

    def _start_backup_job(self, region, params, body, query):
        for key in ("BackupVaultName", "ResourceArn", "IamRoleArn"):
            if not body.get(key):
                raise BackupApiError(400, "MissingParameterValueException", f"{key} is required")
        job = self.engine.start_backup_job(region, body["BackupVaultName"], body["ResourceArn"], body["IamRoleArn"],
                                           Lifecycle.from_api(body.get("Lifecycle")),
                                           start_window_minutes=body.get("StartWindowMinutes"))
        return {"BackupJobId": job.job_id, "RecoveryPointArn": job.fields["RecoveryPointArn"],
                "CreationDate": job.created_wall, "IsParent": False}

    def _describe_backup_job(self, region, params, body, query):
        return self._backup_job_json(self._job(params["backupJobId"], "BACKUP", region))

    def _list_backup_jobs(self, region, params, body, query):
        jobs = self._jobs("BACKUP", region, query, state_key="ByState", vault_key="ByBackupVaultName")
        return {"BackupJobs": [self._backup_job_json(job) for job in jobs]}

    def _backup_job_json(self, job: Job) -> dict[str, Any]:
        return _job_json(job, "BackupJobId", "State", percent=True)

    # --- recovery points -----------------------------------------------------------------------------

    def _list_points(self, region, params, body, query):
        points = self.engine.list_points(region, params["backupVaultName"],
                                         resource_arn=_q(query, "resourceArn"), resource_type=_q(query, "resourceType"))
        return {"RecoveryPoints": [self._point_json(p, listing=True) for p in points]}

    def _describe_point(self, region, params, body, query):
        return self._point_json(self.engine._point(region, params["backupVaultName"], params["recoveryPointArn"]))

    def _delete_point(self, region, params, body, query):
        self.engine.delete_point(region, params["backupVaultName"], params["recoveryPointArn"])
        return None

    def _restore_metadata(self, region, params, body, query):
        point = self.engine._point(region, params["backupVaultName"], params["recoveryPointArn"])
        return {"BackupVaultArn": point.vault_arn, "RecoveryPointArn": point.arn,
                "RestoreMetadata": point.restore_metadata, "ResourceType": point.resource_type}

    def _point_json(self, point: RecoveryPoint, listing: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "RecoveryPointArn": point.arn, "BackupVaultName": point.vault_name, "BackupVaultArn": point.vault_arn,
            "ResourceArn": point.resource_arn, "ResourceType": point.resource_type,
            "ResourceName": point.resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1],
            "IamRoleArn": point.iam_role_arn, "Status": point.status, "CreationDate": point.created_wall,
            "InitiationDate": point.created_wall, "CompletionDate": point.completed_wall,
            "BackupSizeInBytes": point.size_bytes, "Lifecycle": point.lifecycle.to_api(),
            "CalculatedLifecycle": self.engine.calculated_lifecycle(point), "IsEncrypted": True,
            "IsParent": False, "VaultType": "BACKUP_VAULT",
        }
        if point.created_by:
            out["CreatedBy"] = point.created_by
        if point.source_vault_arn:
            out["SourceBackupVaultArn"] = point.source_vault_arn
        if point.last_restore_wall is not None:
            out["LastRestoreTime"] = point.last_restore_wall
        if not listing:
            out["StorageClass"] = point.storage_class
        return out

    # --- copy jobs -----------------------------------------------------------------------------------

    def _start_copy_job(self, region, params, body, query):
        for key in ("RecoveryPointArn", "SourceBackupVaultName", "DestinationBackupVaultArn", "IamRoleArn"):
            if not body.get(key):
                raise BackupApiError(400, "MissingParameterValueException", f"{key} is required")
        job = self.engine.start_copy_job(region, body["SourceBackupVaultName"], body["RecoveryPointArn"],
                                         body["DestinationBackupVaultArn"], body["IamRoleArn"],
                                         Lifecycle.from_api(body.get("Lifecycle")))
        return {"CopyJobId": job.job_id, "CreationDate": job.created_wall, "IsParent": False}

    def _describe_copy_job(self, region, params, body, query):
        return {"CopyJob": self._copy_job_json(self._job(params["copyJobId"], "COPY", region))}

    def _list_copy_jobs(self, region, params, body, query):
        return {"CopyJobs": [self._copy_job_json(job) for job in self._jobs("COPY", region, query, state_key="ByState")]}

    def _copy_job_json(self, job: Job) -> dict[str, Any]:
        return _job_json(job, "CopyJobId", "State", hidden=("DestinationRecoveryPointLifecycle",))

    # --- restore jobs ----------------------------------------------------------------------------------

    def _start_restore_job(self, region, params, body, query):
        for key in ("RecoveryPointArn", "Metadata"):
            if body.get(key) is None:
                raise BackupApiError(400, "MissingParameterValueException", f"{key} is required")
        job = self.engine.start_restore_job(region, body["RecoveryPointArn"], dict(body["Metadata"]),
                                            body.get("IamRoleArn") or "")
        return {"RestoreJobId": job.job_id}

    def _describe_restore_job(self, region, params, body, query):
        job = self._job(params["restoreJobId"], "RESTORE", region)
        self.engine.settle_restore(job)
        return self._restore_job_json(job)

    def _list_restore_jobs(self, region, params, body, query):
        for job in [j for j in list(self.engine.jobs.values()) if j.kind == "RESTORE" and j.state == "RUNNING"]:
            self.engine.settle_restore(job)
        jobs = self._jobs("RESTORE", region, query, state_key="ByStatus")
        return {"RestoreJobs": [self._restore_job_json(job) for job in jobs]}

    def _restore_job_json(self, job: Job) -> dict[str, Any]:
        """While a (padded) restore runs, PercentDone follows the AWS clock and there is no
        CreatedResourceArn yet: AWS documents it as "the resource that was created by the restore
        job" (API_DescribeRestoreJob, https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html,
        read 2026-11-30) and says nothing of it while the job runs, so the lab names it only once the
        resource is usable."""
        state = job.state  # read once: the ticker may complete the job meanwhile
        out = _job_json(job, "RestoreJobId", "Status", percent=True, state=state)
        out["PercentDone"] = "100.0" if state in _ENDED else f"{self.engine.percent_done(job):.1f}"
        if state != "COMPLETED":  # set just before the state: not part of a running job's answer
            out.pop("CreatedResourceArn", None)
            out.pop("ValidationStatus", None)
        return out

    def _put_validation(self, region, params, body, query):
        if not body.get("ValidationStatus"):
            raise BackupApiError(400, "MissingParameterValueException", "ValidationStatus is required")
        self._job(params["restoreJobId"], "RESTORE", region)
        self.engine.put_validation_result(params["restoreJobId"], body["ValidationStatus"],
                                          body.get("ValidationStatusMessage"))
        return None

    # --- helpers ---------------------------------------------------------------------------------------

    def _job(self, job_id: str, kind: str, region: str) -> Job:
        job = self.engine.jobs.get(job_id)
        if job is None or job.kind != kind or job.region != region:
            raise not_found(f"{kind.title()} job {job_id} not found")
        return job

    def _jobs(self, kind: str, region: str, query: dict[str, list[str]], *, state_key: str,
              vault_key: str | None = None) -> list[Job]:
        state = _q(query, "state") or _q(query, "status")
        vault = _q(query, "backupVaultName") if vault_key else None
        resource, resource_type = _q(query, "resourceArn"), _q(query, "resourceType")
        jobs = [job for job in list(self.engine.jobs.values()) if job.kind == kind and job.region == region
                and (state is None or job.state == state)
                and (resource_type is None or job.fields.get("ResourceType") == resource_type)
                and (vault is None or job.fields.get("BackupVaultName") == vault)
                and (resource is None or resource in (job.fields.get("ResourceArn"), job.fields.get("SourceResourceArn")))]
        return sorted(jobs, key=lambda job: job.created_wall, reverse=True)


_ENDED = ("COMPLETED", "FAILED", "ABORTED", "EXPIRED")


def _job_json(job: Job, id_key: str, state_key: str, *, percent: bool = False,
              hidden: tuple[str, ...] = (), state: str | None = None) -> dict[str, Any]:
    """A job as Describe*/List* answer it: common fields, then the kind's own (empty values left out).
    The state is read once, and CompletionDate shown only with an end state (the engine sets the
    completion time, then the state), so an answer never mixes a running and an ended job."""
    state = job.state if state is None else state
    out: dict[str, Any] = {"AccountId": "123456789012", id_key: job.job_id, state_key: state,
                           "CreationDate": job.created_wall, "IsParent": False}
    if percent:
        out["PercentDone"] = "100.0" if state in _ENDED else "0.0"
    out.update({k: v for k, v in job.fields.items() if not k.startswith("_") and k not in hidden and v != {}})
    if state in _ENDED and job.completed_wall is not None:
        out["CompletionDate"] = job.completed_wall
    if job.status_message:
        out["StatusMessage"] = job.status_message
    return out


def _q(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def json_reply(status: int, payload: dict[str, Any] | None) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(payload).encode() if payload is not None else b""
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
