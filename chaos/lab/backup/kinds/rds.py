"""RDS: a recovery point is a real PostgreSQL snapshot (a consistent `pg_basebackup` of the serving
server); a restore creates a new DB instance (`DBInstanceIdentifier`) whose server starts from it."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from chaos.errors import ChaosError
from chaos.lab.backup.providers import LabServices, ProviderBase, RecoveryPointData, Snapshot, arn_name, arn_region, register_provider
from chaos.lab.postgres.cluster import give_to_postgres

DATA_DIR = "pgdata"
INFO_FILE = "instance.json"


class RdsBackup(ProviderBase):
    resource_type = "RDS"

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]:
        primary = (spec.get("stores") or {}).get("primary") or {}
        if not primary.get("identifier") or not primary.get("region"):
            return []
        return [db_arn(primary["region"], primary["identifier"])]

    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot:
        return snapshot_instance(self.services, arn_name(resource_arn), arn_region(resource_arn), dest)

    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str:
        target = metadata.get("DBInstanceIdentifier") or f"{arn_name(point.resource_arn)}-restored-{uuid.uuid4().hex[:6]}"
        restore_instance(self.services, point.path, target, region)
        return db_arn(region, target)

    def delete(self, resource_arn: str) -> None:
        self.services.client("rds", arn_region(resource_arn)).delete_db_instance(
            DBInstanceIdentifier=arn_name(resource_arn), SkipFinalSnapshot=True)


def db_arn(region: str, identifier: str) -> str:
    return f"arn:aws:rds:{region}:123456789012:db:{identifier}"


def snapshot_instance(services: LabServices, identifier: str, region: str, dest: Path,
                      from_base_backup: bool = False) -> Snapshot:
    """Snapshot a DB instance into `dest` (existing, empty): PostgreSQL data plus what a restore needs.

    `from_base_backup`: copy the instance's newest base backup instead of taking one (RDS's initial
    automated snapshot, taken at creation, is the deploy's base backup).
    """
    data_plane = services.data_plane()
    if data_plane is None:
        raise ChaosError("rds: the lab's PostgreSQL data plane is not running; no data to snapshot")
    instance = services.client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    info = {**data_plane.describe(identifier), "engine": instance.get("Engine", "postgres"),
            "engine_version": instance.get("EngineVersion"), "instance_class": instance.get("DBInstanceClass"),
            "identifier": identifier}
    dest.chmod(0o700)
    give_to_postgres(dest)
    if not from_base_backup or data_plane.copy_base_backup(identifier, dest / DATA_DIR) is None:
        data_plane.snapshot(identifier, dest / DATA_DIR)
    (dest / INFO_FILE).write_text(json.dumps(info))
    size = sum(f.stat().st_size for f in (dest / DATA_DIR).rglob("*") if f.is_file())
    return Snapshot(size, {"DBInstanceIdentifier": identifier, "Engine": info["engine"],
                           "DBName": info["db_name"], "DBInstanceClass": str(info["instance_class"])})


def restore_instance(services: LabServices, snapshot_dir: Path, target: str, region: str,
                     create_metadata: bool = True) -> None:
    """A new DB instance `target` in `region` from a snapshot directory written by `snapshot_instance`.

    `create_metadata` False: moto already holds the instance (RestoreDBInstanceFromDBSnapshot created it).
    """
    data_plane = services.data_plane()
    if data_plane is None:
        raise ChaosError("rds: the lab's PostgreSQL data plane is not running; cannot restore")
    info = json.loads((snapshot_dir / INFO_FILE).read_text())
    if create_metadata:
        args: dict[str, Any] = {"DBInstanceIdentifier": target, "Engine": info["engine"] or "postgres",
                                "DBInstanceClass": info["instance_class"] or "db.t4g.medium", "AllocatedStorage": 20,
                                "MasterUsername": info["master_username"], "MasterUserPassword": data_plane.master_password_for(info["master_username"]),
                                "BackupRetentionPeriod": 0}
        if info.get("db_name") and info["db_name"] != "postgres":
            args["DBName"] = info["db_name"]
        services.client("rds", region).create_db_instance(**args)
    data_plane.restore_from_snapshot(snapshot_dir / DATA_DIR, target, workload=info["workload"], region=region,
                                     db_name=info["db_name"], master_username=info["master_username"])


register_provider("RDS", RdsBackup)
