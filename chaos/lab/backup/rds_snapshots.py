"""RDS snapshots (hands-on lab 1): automated and manual snapshots that hold real PostgreSQL data.

moto keeps the snapshot metadata (CreateDBSnapshot, DescribeDBSnapshots, DeleteDBSnapshot,
RestoreDBInstanceFromDBSnapshot all answer from moto); the lab adds the data:
- CreateDBSnapshot takes a consistent base backup of the serving PostgreSQL server first (an
  instance that cannot be read fails with `InvalidDBInstanceState`, as RDS refuses a snapshot of an
  unavailable instance), then lets moto record it;
- RestoreDBInstanceFromDBSnapshot lets moto create the instance, then starts a server from the
  snapshot's data; DeleteDBSnapshot removes the data with the metadata;
- automated snapshots: once a day per instance with `BackupRetentionPeriod` > 0, at the start of its
  `PreferredBackupWindow` on the lab's AWS clock, named `rds:<instance>-YYYY-MM-DD-HH-MM` and typed
  `automated`, as RDS names them; one older than the retention period disappears (metadata and
  data). Manual snapshots stay until deleted, as on RDS.
RDS keeps automated backups 0-35 days (the `BackupRetentionPeriod` range in botocore's RDS model
documentation, read 2026-11-30).
"""
from __future__ import annotations

import logging
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from chaos.errors import ChaosError
from chaos.lab import motostate
from chaos.lab.backup.clock import DAY_SECONDS, LabClock
from chaos.lab.backup.kinds.rds import restore_instance, snapshot_instance
from chaos.lab.backup.providers import LabServices
from chaos.lab.postgres.cluster import inside

log = logging.getLogger(__name__)
OPERATIONS = frozenset({"CreateDBSnapshot", "DeleteDBSnapshot", "RestoreDBInstanceFromDBSnapshot"})


class SnapshotRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RdsSnapshots:
    def __init__(self, root: Path, clock: LabClock, services: LabServices, on_event: Callable[..., None]):
        self.root = root
        self.clock = clock
        self.services = services
        self._record = on_event
        self._lock = threading.Lock()
        self.paths: dict[tuple[str, str], Path] = {}          # (region, snapshot id) -> data
        self.automated: dict[tuple[str, str], float] = {}     # (region, snapshot id) -> AWS creation time
        self._next_window: dict[tuple[str, str], float] = {}  # (region, instance) -> AWS time of next window
        self.instances: list[tuple[str, str]] = []            # (region, identifier) with automated backups
        self._worker: threading.Thread | None = None

    def configure(self, instances: list[tuple[str, str]]) -> None:
        """Automated backups for these instances; the initial automated snapshot RDS takes at creation
        (moto lists one, without data) gets its data now, in the background."""
        self.instances = list(instances)
        now = self.clock.aws_now()
        initial = []
        for region, identifier in self.instances:
            self._next_window[(region, identifier)] = self._window_start_after(region, identifier, now)
            initial += [(region, identifier, snapshot_id) for snapshot_id, snapshot
                        in motostate.rds_backend(region).database_snapshots.items()
                        if snapshot.snapshot_type == "automated"
                        and snapshot.database.db_instance_identifier == identifier]
        if initial:
            self._worker = threading.Thread(target=self._adopt, args=(initial, now), name="rds-initial-snapshot",
                                            daemon=True)
            self._worker.start()

    def _adopt(self, snapshots: list[tuple[str, str, str]], now: float) -> None:
        for region, identifier, snapshot_id in snapshots:
            try:
                self._take(region, identifier, snapshot_id, from_base_backup=True)
                with self._lock:
                    self.automated[(region, snapshot_id)] = now
            except Exception as error:  # noqa: BLE001 - without data the snapshot cannot stay listed
                self._drop(region, snapshot_id, keep_metadata=False)
                self._record("rds_automated_snapshot_failed", region=region, instance=identifier, error=str(error))

    def clear(self) -> None:
        self._next_window.clear()
        self.join()
        with self._lock:
            for path in self.paths.values():
                shutil.rmtree(path, ignore_errors=True)
            self.paths.clear()
            self.automated.clear()
            self._next_window.clear()
            self.instances = []

    # --- the API hooks (called by the middleware around moto's answer) ------------------------------

    def before(self, operation: str, region: str, params: Callable[[str], str | None]) -> None:
        """CreateDBSnapshot: take the data first (so a refused snapshot leaves no metadata behind).
        DeleteDBSnapshot of an automated snapshot: refused, as RDS does (moto would delete it)."""
        if operation == "DeleteDBSnapshot":
            snapshot = motostate.rds_backend(region).database_snapshots.get(params("DBSnapshotIdentifier") or "")
            if snapshot is not None and snapshot.snapshot_type == "automated":
                # RDS's answer, as reported verbatim in hashicorp/terraform-provider-aws#13800 (2020-06-17)
                # and cloud-custodian/cloud-custodian#7838 (2022-10-04), read 2026-11-30.
                raise SnapshotRefused(400, "InvalidDBSnapshotState", "automated snapshots cannot be deleted.")
            return
        if operation != "CreateDBSnapshot":
            return
        identifier, snapshot_id = params("DBInstanceIdentifier") or "", params("DBSnapshotIdentifier") or ""
        if motostate.rds_instance(region, identifier) is None or (region, snapshot_id) in self.paths:
            return  # moto answers DBInstanceNotFound / DBSnapshotAlreadyExists
        self._take(region, identifier, snapshot_id)

    def after(self, operation: str, region: str, params: Callable[[str], str | None], ok: bool) -> None:
        if operation == "CreateDBSnapshot":
            if not ok:
                self._drop(region, params("DBSnapshotIdentifier") or "", keep_metadata=True)
        elif operation == "DeleteDBSnapshot" and ok:
            self._drop(region, params("DBSnapshotIdentifier") or "", keep_metadata=True)
        elif operation == "RestoreDBInstanceFromDBSnapshot" and ok:
            snapshot_id = (params("DBSnapshotIdentifier") or "").rsplit(":", 1)[-1]
            path = self.paths.get((region, snapshot_id))
            if path is None:
                raise SnapshotRefused(400, "DBSnapshotNotFound",
                                      f"DBSnapshot {snapshot_id} has no data in the lab (taken before the deploy?)")
            restore_instance(self.services, path, params("DBInstanceIdentifier") or "", region, create_metadata=False)
            self._record("rds_snapshot_restored", region=region, snapshot=snapshot_id,
                         target=params("DBInstanceIdentifier"))

    def _take(self, region: str, identifier: str, snapshot_id: str, from_base_backup: bool = False) -> Path:
        dest = self.root / region / snapshot_id.replace(":", "_")
        try:
            inside(dest, self.root)  # the id comes from a request
        except ChaosError as error:
            raise SnapshotRefused(400, "InvalidParameterValue", str(error)) from None
        dest.mkdir(parents=True, exist_ok=False)
        try:
            snapshot_instance(self.services, identifier, region, dest, from_base_backup=from_base_backup)
        except Exception as error:
            shutil.rmtree(dest, ignore_errors=True)
            raise SnapshotRefused(400, "InvalidDBInstanceState",
                                  f"Cannot snapshot {identifier}: {str(error).splitlines()[0]}") from error
        with self._lock:
            self.paths[(region, snapshot_id)] = dest
        self._record("rds_snapshot_created", region=region, instance=identifier, snapshot=snapshot_id)
        return dest

    def _drop(self, region: str, snapshot_id: str, keep_metadata: bool) -> None:
        with self._lock:
            path = self.paths.pop((region, snapshot_id), None)
            self.automated.pop((region, snapshot_id), None)
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
        if not keep_metadata:
            motostate.rds_backend(region).database_snapshots.pop(snapshot_id, None)

    def data_of(self, region: str, snapshot_id: str) -> Path | None:
        return self.paths.get((region, snapshot_id))

    def latest(self, region: str, identifier: str) -> tuple[str, Path] | None:
        """The newest snapshot (automated or manual) of an instance that holds data."""
        snapshots = motostate.rds_backend(region).database_snapshots
        best: tuple[Any, str] | None = None
        for snapshot_id, snapshot in snapshots.items():
            if snapshot.database.db_instance_identifier == identifier and (region, snapshot_id) in self.paths:
                if best is None or snapshot.created > best[0]:
                    best = (snapshot.created, snapshot_id)
        return None if best is None else (best[1], self.paths[(region, best[1])])

    # --- automated snapshots on the backup window, retention enforced ---------------------------------

    def tick(self) -> None:
        now = self.clock.aws_now()
        for key, due in list(self._next_window.items()):
            if now < due or (self._worker is not None and self._worker.is_alive()):
                continue
            self._next_window[key] = self._window_start_after(*key, now)
            instance = motostate.rds_instance(*key)
            if instance is None or not int(getattr(instance, "backup_retention_period", 0) or 0):
                continue  # BackupRetentionPeriod 0 turns automated backups off, as on RDS
            # A base backup takes a while: off the ticker thread, one at a time.
            self._worker = threading.Thread(target=self._automated_snapshot, args=(*key, due, now),
                                            name="rds-automated-snapshot", daemon=True)
            self._worker.start()
        for (region, snapshot_id), created in list(self.automated.items()):
            instance_id = snapshot_id[4:].rsplit("-", 5)[0]
            instance = motostate.rds_instance(region, instance_id)
            retention = int(getattr(instance, "backup_retention_period", 0) or 0) if instance is not None else 0
            if now - created >= retention * DAY_SECONDS:
                self._drop(region, snapshot_id, keep_metadata=False)
                self._record("rds_automated_snapshot_expired", region=region, snapshot=snapshot_id,
                             retention_days=retention)

    def _automated_snapshot(self, region: str, identifier: str, due: float, now: float) -> None:
        stamp = datetime.fromtimestamp(due, tz=timezone.utc).strftime("%Y-%m-%d-%H-%M")
        snapshot_id = f"rds:{identifier}-{stamp}"
        try:
            self._take(region, identifier, snapshot_id)
            snapshot = motostate.rds_backend(region).create_db_snapshot(identifier, snapshot_id,
                                                                        snapshot_type="automated")
            snapshot.snapshot_type = "automated"
            with self._lock:
                self.automated[(region, snapshot_id)] = now
        except Exception as error:  # noqa: BLE001 - a missed automated backup is an event, as on RDS
            self._drop(region, snapshot_id, keep_metadata=True)
            self._record("rds_automated_snapshot_failed", region=region, instance=identifier, error=str(error))

    def join(self) -> None:
        if self._worker is not None:
            self._worker.join(timeout=60)

    def _window_start_after(self, region: str, identifier: str, after_aws: float) -> float:
        instance = motostate.rds_instance(region, identifier)
        window = str(getattr(instance, "preferred_backup_window", None) or "03:00-03:30")
        hour, minute = (int(x) for x in window.split("-")[0].split(":"))
        day = datetime.fromtimestamp(after_aws, tz=timezone.utc)
        start = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if start.timestamp() <= after_aws:
            start += timedelta(days=1)
        return start.timestamp()
