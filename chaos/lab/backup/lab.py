"""`BackupLab`: the backup lab's parts behind one object the lab core owns, and the calls it intercepts.

The core creates one per lab, `deploy`s it after the inventory's resources exist, `clear`s it on
reset and `close`s it at shutdown. The middleware hands it three kinds of AWS requests:
`backup` (the REST-JSON operations of `api.py`), the RDS snapshot calls, and S3 reads/restores of
objects in archive storage classes. One ticker thread runs every part's clock-driven work.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable

from chaos.lab.awsrequest import AwsRequest
from chaos.lab.backup import rds_snapshots
from chaos.lab.backup.alarms import BackupMonitoring
from chaos.lab.backup.api import ADJUSTED, BackupApi, json_reply, operation_of
from chaos.lab.backup.archive import RETRIEVAL_SOURCE, ArchiveEmulation
from chaos.lab.backup.clock import LabClock
from chaos.lab.backup.engine import BackupApiError, BackupEngine
from chaos.lab.backup.kinds.rds import INFO_FILE
from chaos.lab.backup.providers import LabServices, registered_types
from chaos.lab.faults import error_response

log = logging.getLogger(__name__)
Reply = tuple[int, list[tuple[str, str]], bytes]
TICK_SECONDS = 0.05

EMULATIONS = [
    "AWS Backup: StartBackupJob/DescribeBackupJob/ListRecoveryPointsByBackupVault/DescribeRecoveryPoint/"
    "StartCopyJob/StartRestoreJob/DescribeRestoreJob/DeleteRecoveryPoint answered by the lab; recovery points hold "
    "real data (DynamoDB table export, S3 object versions, RDS PostgreSQL base backup; other kinds through "
    "registered providers); plan rules run on their cron schedule, lifecycles (cold, delete) and vault-lock grace "
    "on the AWS clock (lab seconds / time_factor); copy actions copy to the DR vault; vault lock refuses early "
    "deletes (InvalidRequestException) and fails jobs outside its retention range; restore testing restores, "
    "validates, deletes and records the restore time.",
    "AWS Backup monitoring: AWS/Backup NumberOf*Jobs* metrics and EventBridge job-state events at the next "
    "5-minute boundary (AWS: best effort every 5 minutes); AWS/Backup CloudWatch alarms evaluated every AWS "
    "minute and delivered to their SNS topics.",
    "RDS snapshots: CreateDBSnapshot/RestoreDBInstanceFromDBSnapshot/DeleteDBSnapshot hold real PostgreSQL "
    "data; automated snapshots at each instance's backup window, removed past BackupRetentionPeriod.",
    "S3 archive: bucket lifecycle transitions and expiry on the AWS clock; GetObject of GLACIER/DEEP_ARCHIVE "
    f"objects refused (InvalidObjectState) until RestoreObject completes after the tier's retrieval time, scaled "
    f"({RETRIEVAL_SOURCE}); RDS snapshot export = pg_dump file (AWS writes Parquet).",
]


class BackupLab:
    def __init__(self, workdir: Path, *, client: Callable[[str, str], Any], data_plane: Callable[[], Any | None],
                 bucket_regions: dict[str, str], faults: Any, scopes: Callable[[], Any],
                 on_event: Callable[..., None], time_factor: float = 1.0, shares: Any = None,
                 ebs: Any = None, hold_resource: Callable[[str, float], None] | None = None):
        self.root = workdir / "backup"
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.clock = LabClock(time_factor)
        self.services = LabServices(client=client, data_plane=data_plane, bucket_regions=bucket_regions,
                                    workdir=self.root / "scratch", shares=shares, ebs=ebs)
        self._faults = faults
        self._scopes = scopes
        self._record = on_event
        self.monitoring = BackupMonitoring(self.clock, client, on_event)
        self.engine = BackupEngine(self.root / "vaults", self.clock, self.services, job_fault=self._job_fault,
                                   on_event=on_event, on_job_end=self.monitoring.on_job_end)
        if hold_resource is not None:
            self.engine.hold_resource = hold_resource
        self.api = BackupApi(self.engine)
        self.rds = rds_snapshots.RdsSnapshots(self.root / "rds-snapshots", self.clock, self.services, on_event)
        self.archive = ArchiveEmulation(self.clock, on_event)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_forever, name="backup-clock", daemon=True)
        self._ticker.start()

    # --- lifecycle of the lab ----------------------------------------------------------------------

    def deploy(self, inventory: dict[str, Any], time_factor: float,
               restore_pads: dict[str, float] | None = None) -> list[dict[str, Any]]:
        """Wire the parts to a freshly deployed inventory; returns "declared, not emulated" rows.
        `restore_pads`: AWS seconds a restore job of each resource type takes at least (the timing
        profile's, chaos.lab.timing; none: as fast as the lab copies the data)."""
        self.clock.set_factor(time_factor)
        self.engine.restore_pads = dict(restore_pads or {})
        regions = sorted({r for r in (inventory.get("primary_region"), inventory.get("dr_region")) if r})
        self.monitoring.regions = regions
        for region in regions:  # build the clients now (cached): a first build takes ~0.2 s, not measured later
            for service in ("cloudwatch", "events", "sns", "backup"):
                self.services.client(service, region)
        rows = [{"workload": None, "resource": resource, "reason": reason}
                for resource, reason in self.engine.configure(inventory)]
        instances = []
        for workload in (inventory.get("workloads") or {}).values():
            primary = (workload.get("stores") or {}).get("primary") or {}
            if workload.get("kind") == "rds" and primary.get("identifier"):  # retention 0: checked at each window
                instances.append((primary["region"], primary["identifier"]))
        self.rds.configure(instances)
        self.archive.buckets = set(self.services.bucket_regions)
        return rows

    def clear(self) -> None:
        self.api.clear()
        self.engine.clear()
        self.monitoring.clear()
        self.rds.clear()
        self.archive.clear()

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        self.engine.close()
        self.clear()

    def set_time_factor(self, time_factor: float) -> dict[str, Any]:
        self.clock.set_factor(time_factor)
        return self.status()

    def status(self) -> dict[str, Any]:
        return {"time_factor": self.clock.time_factor, "aws_now": self.clock.aws_now(),
                "providers": registered_types(), "recovery_points": len(self.engine.points),
                "restore_tests": list(self.engine.restore_test_results)}

    def control_routes(self, read_json: Callable[[Any], Any]) -> dict[tuple[str, str], Callable[[Any], Any]]:
        """The backup lab's part of the control API (docs/backup-lab.md)."""
        def body(request: Any) -> dict[str, Any]:
            parsed = read_json(request)
            if not isinstance(parsed, dict):
                raise ValueError("body: must be a JSON object")
            return parsed

        def clock(request: Any) -> dict[str, Any]:
            factor = body(request).get("time_factor")
            if not isinstance(factor, (int, float)) or isinstance(factor, bool) or factor <= 0:
                raise ValueError("time_factor: must be a number > 0 (lab seconds per AWS second, e.g. 0.001)")
            return self.set_time_factor(float(factor))

        def restore_tests(request: Any) -> list[dict[str, Any]]:
            jobs = self.engine.run_restore_tests()
            return [{"restore_job_id": job.job_id, "region": job.region,
                     "recovery_point_arn": job.fields["RecoveryPointArn"]} for job in jobs]

        def export(request: Any) -> dict[str, Any]:
            args = body(request)
            for key in ("region", "identifier", "bucket"):
                if not isinstance(args.get(key), str) or not args[key]:
                    raise ValueError(f"export.{key}: required string (e.g. region us-east-1, identifier "
                                     "orders-primary, bucket <archive bucket>)")
            return self.export_latest_snapshot(args["region"], args["identifier"], args["bucket"], args.get("key"))

        return {("GET", "/_lab/backup"): lambda r: self.status(),
                ("POST", "/_lab/backup/clock"): clock,
                ("POST", "/_lab/backup/restore-tests"): restore_tests,
                ("GET", "/_lab/backup/restore-tests"): lambda r: list(self.engine.restore_test_results),
                ("POST", "/_lab/backup/export"): export}

    def _tick_forever(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            for part in (self.engine, self.rds, self.archive, self.monitoring):
                try:
                    part.tick()
                except Exception:  # noqa: BLE001 - the clock keeps ticking
                    log.exception("backup lab tick failed in %s", type(part).__name__)

    def _job_fault(self, job_operation: str, region: str, resource_arn: str) -> str | None:
        """Why a job touching `resource_arn` in `region` fails now (None: it does not)."""
        scopes = self._scopes()
        if region in scopes.regions:
            return f"Region {region} is unavailable (lab region outage)"
        name = resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if resource_arn in scopes.resources or name in scopes.resources:
            return f"Resource {resource_arn} is unavailable (lab resource fault)"
        for rule in self._faults.rules():
            if rule.service == "backup" and rule.operation == job_operation \
                    and (rule.region is None or rule.region == region) \
                    and (rule.resource is None or rule.resource in (resource_arn, name)):
                return f"{rule.error_code}: job failed by a lab fault rule"
        return None

    # --- AWS requests the middleware hands over ------------------------------------------------------

    def backup_call(self, request: AwsRequest, moto: Callable[[AwsRequest], Reply]) -> Reply:
        found = operation_of(request.method, request.path)
        if found is None:
            return moto(request)
        operation, params = found
        if operation in ADJUSTED:
            vault = params.get("backupVaultName", "")
            try:
                self.api.before_lock_change(operation, request.region, vault)
            except BackupApiError as error:
                return error_response(request, error.status, error.code, error.message)
            reply = moto(request)
            if reply[0] == 200:
                self.api.after_lock_change(operation, request.region, vault)
            return reply
        try:
            status, payload = self.api.handle(operation, request.region, params, request.json_body, request.query)
        except BackupApiError as error:
            return error_response(request, error.status, error.code, error.message)
        return json_reply(status, payload)

    def rds_call(self, request: AwsRequest, moto: Callable[[AwsRequest], Reply]) -> Reply:
        try:
            self.rds.before(request.operation, request.region, request.param)
        except rds_snapshots.SnapshotRefused as refused:
            return error_response(request, refused.status, refused.code, refused.message)
        reply = moto(request)
        try:
            self.rds.after(request.operation, request.region, request.param, reply[0] == 200)
        except rds_snapshots.SnapshotRefused as refused:
            return error_response(request, refused.status, refused.code, refused.message)
        except Exception as error:  # noqa: BLE001 - never let the runbook believe a restore happened
            log.exception("RDS snapshot data plane failed")
            return error_response(request, 500, "InternalFailure", f"lab PostgreSQL data plane failed: {error}")
        return reply

    def s3_archive_call(self, request: AwsRequest, moto: Callable[[AwsRequest], Reply]) -> Reply | None:
        """GetObject/HeadObject/RestoreObject of an archived object; None: not archived, moto answers."""
        bucket, key = request.s3_bucket_and_key
        version = (request.query.get("versionId") or [None])[0]
        archived = self.archive.archived_key(bucket, key, version)
        if archived is None:
            return None
        if request.operation == "RestoreObject":
            status, code = self.archive.request_restore(archived, request.body)
            if code is not None:
                return error_response(request, status, code, "Object restore is already in progress")
            return status, [("Content-Length", "0")], b""
        readable = self.archive.readable(archived)
        if request.operation == "GetObject" and not readable:
            status, headers, body = error_response(request, 403, "InvalidObjectState",
                                                   "The operation is not valid for the object's storage class")
            body = body.replace(b"</Error>", f"<StorageClass>{archived.storage_class}</StorageClass></Error>".encode())
            headers = [(k, v) for k, v in headers if k != "Content-Length"] + [("Content-Length", str(len(body)))]
            return status, headers, body
        status, headers, body = moto(request)
        header = self.archive.restore_header(archived)
        if header is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "x-amz-restore"] + [("x-amz-restore", header)]
        return status, headers, body

    # --- the archive export (hands-on lab 3) -----------------------------------------------------------

    def export_latest_snapshot(self, region: str, identifier: str, bucket: str, key: str | None = None) -> dict[str, Any]:
        latest = self.rds.latest(region, identifier)
        if latest is None:
            raise ValueError(f"identifier: {identifier} has no RDS snapshot in {region}; CreateDBSnapshot first")
        snapshot_id, path = latest
        data_plane = self.services.data_plane()
        if data_plane is None:
            raise ValueError("rds: the PostgreSQL data plane is not running")
        info = json.loads((path / INFO_FILE).read_text())
        dump = self.root / "scratch" / f"{snapshot_id.replace(':', '_')}.dump"
        dump.parent.mkdir(parents=True, exist_ok=True)
        dump.parent.chmod(0o777)  # pg_dump writes as the current user; the file is read back below
        data_plane.dump_snapshot(path / "pgdata", info["db_name"], dump)
        key = key or f"exports/{snapshot_id.replace(':', '-')}.dump"
        body = dump.read_bytes()
        dump.unlink(missing_ok=True)
        bucket_region = self.services.bucket_regions.get(bucket, region)
        reply = self.services.client("s3", bucket_region).put_object(Bucket=bucket, Key=key, Body=body)
        self.archive.buckets.add(bucket)
        self._record("rds_snapshot_exported", snapshot=snapshot_id, bucket=bucket, key=key, bytes=len(body))
        return {"snapshot": snapshot_id, "bucket": bucket, "key": key, "version_id": reply.get("VersionId"),
                "bytes": len(body), "format": "pg_dump custom format (AWS StartExportTask writes Parquet)"}
