"""EFS: a recovery point is a copy of the file system's directory tree (chaos/lab/filestore.py);
a restore creates a NEW file system (moto `CreateFileSystem`, `CreationToken` from the metadata)
holding those files at their paths. AWS restores into a recovery directory off the root
(https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-efs.html, read 2026-11-30): the
lab keeps the paths so the canary's audit reads them where it wrote them (docs/lab.md)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from chaos.lab.backup.providers import (
    ACCOUNT_ID, ProviderBase, RecoveryPointData, Snapshot, arn_name, arn_region, register_provider,
)
from chaos.lab.filestore import FileShares


def file_system_arn(region: str, fs_id: str) -> str:
    return f"arn:aws:elasticfilesystem:{region}:{ACCOUNT_ID}:file-system/{fs_id}"


class EfsBackup(ProviderBase):
    resource_type = "EFS"

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]:
        fs = (spec.get("stores") or {}).get("file_system") or {}
        if spec.get("kind") != "efs" or not fs.get("id") or not fs.get("region"):
            return []
        return [file_system_arn(fs["region"], fs["id"])]

    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot:
        share = self.services.shares.get(arn_name(resource_arn)) if self.services.shares else None
        if share is None:
            raise RuntimeError(f"{resource_arn}: the lab holds no data for this file system")
        reason = self.services.shares.down_reason(share)
        if reason:
            raise RuntimeError(f"{resource_arn}: {reason}")
        dest.rmdir()  # copy_tree wants to create it
        size = FileShares.copy_tree(share.root, dest)
        return Snapshot(size, {"file-system-id": share.share_id,
                               "files": str(len(FileShares.files(dest)))})

    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str:
        token = metadata.get("CreationToken") or f"restore-{uuid.uuid4().hex[:8]}"
        made = self.services.client("efs", region).create_file_system(
            CreationToken=token, Tags=[{"Key": "Name", "Value": token}])["FileSystemId"]
        self.services.shares.add(made, "efs", region, copy_from=point.path)
        return file_system_arn(region, made)

    def delete(self, resource_arn: str) -> None:
        fs_id = arn_name(resource_arn)
        self.services.client("efs", arn_region(resource_arn)).delete_file_system(FileSystemId=fs_id)
        self.services.shares.remove(fs_id)


register_provider("EFS", EfsBackup)
