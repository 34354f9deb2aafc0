"""EFS: a regional file system (with a replica file system in the DR region when the strategy
keeps one: pilot-light, warm-standby), backed up by AWS Backup.

Canary records are files `<role>/<run>/<scenario>/%08d` (chaos/stores/files.py).
- deletion: `items` deletes the stream's files (a file system has no "table");
- regional failover with a replica: `DeleteReplicationConfiguration`, the documented failover
  ("If you need to fail over to the destination file system, delete the replication configuration
  ... the destination file system becomes writeable", https://docs.aws.amazon.com/efs/latest/ug/
  delete-replications.html, read 2026-11-30; AWS adds it "can take several minutes"), then wait
  until it takes writes;
- backup restore: AWS Backup restores a recovery point into a NEW file system
  (`newFileSystem=true`); AWS itself restores into a recovery directory off the root
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html, read 2026-11-30):
  the lab's EFS restore puts the files back at their paths and says so (docs/lab.md).
- no point-in-time restore: EFS has none; deleted files come back from a recovery point.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.stores import files
from chaos.stores.base import StoreRef, Stores, blocks, field

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext


@dataclass(frozen=True)
class EfsStores(files.FileBacked, Stores):
    kind = "efs"
    deletion_modes = ("items",)
    backup_resource_type = "EFS"
    label = "EFS"
    arn_format = "arn:aws:elasticfilesystem:{region}:{account}:file-system/{name}"

    file_system_id: str
    region: str
    replica_file_systems: tuple[StoreRef, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "EfsStores":
        fs = field(raw, "file_system", where, dict)
        return cls(file_system_id=field(fs, "id", f"{where}.file_system"),
                   region=field(fs, "region", f"{where}.file_system"),
                   replica_file_systems=tuple(
                       StoreRef(cls.kind, field(r, "region", f"{where}.replicas[{i}]"),
                                field(r, "file_system_id", f"{where}.replicas[{i}]"))
                       for i, r in enumerate(blocks(raw, "replicas", where))))

    def primary(self) -> StoreRef:
        return StoreRef(self.kind, self.region, self.file_system_id)

    def replicas(self) -> list[StoreRef]:
        return list(self.replica_file_systems)

    # -- regional failover -------------------------------------------------------------------
    # ARC Region switch has no EFS execution block: after the plan the runbook breaks replication
    # itself, as an operator (or a custom action Lambda) would.
    takes_over_outside_plan = True

    def take_over(self, ctx: "RunbookContext", dr: StoreRef) -> None:
        """Delete the replication configuration (from the DR region: the source region is down)
        and wait until the destination file system takes writes."""
        ctx.target.client("efs", dr.region).delete_replication_configuration(
            SourceFileSystemId=self.file_system_id)
        ctx.wait_until(f"{dr.name} writable", lambda: files.writable(ctx.target, dr))
        ctx.done(f"deleted the replication configuration of {self.file_system_id}; "
                 f"{dr.name} is writable", at=ctx.last_observed_at)

    # -- AWS Backup --------------------------------------------------------------------------
    def restore_metadata(self, new_name: str, region: str) -> dict[str, str]:
        return {"newFileSystem": "true", "CreationToken": new_name, "Encrypted": "false",
                "PerformanceMode": "generalPurpose", "file-system-id": self.file_system_id}
