"""EBS: a recovery point is a copy of the volume's files (chaos/lab/filestore.py); a restore
creates a NEW volume (moto `CreateVolume` in the metadata's `availabilityZone`) holding them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from chaos.lab.backup.providers import (
    ACCOUNT_ID, ProviderBase, RecoveryPointData, Snapshot, arn_name, arn_region, register_provider,
)
from chaos.lab.filestore import FileShares


def volume_arn(region: str, volume: str) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT_ID}:volume/{volume}"


class EbsBackup(ProviderBase):
    resource_type = "EBS"

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]:
        if spec.get("kind") != "ec2" or self.services.shares is None:
            return []
        return [volume_arn(share.region, share.share_id) for share in self.services.shares.all()
                if share.kind == "ebs" and share.workload == workload]

    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot:
        share = self.services.shares.get(arn_name(resource_arn)) if self.services.shares else None
        if share is None:
            raise RuntimeError(f"{resource_arn}: the lab holds no data for this volume")
        reason = self.services.shares.down_reason(share)
        if reason:
            raise RuntimeError(f"{resource_arn}: {reason}")
        dest.rmdir()
        size = FileShares.copy_tree(share.root, dest)
        return Snapshot(size, {"volumeId": share.share_id, "availabilityZone": share.zone or ""})

    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str:
        zone = metadata.get("availabilityZone") or f"{region}a"
        volume = self.services.client("ec2", region).create_volume(
            AvailabilityZone=zone, Size=8, VolumeType=metadata.get("volumeType") or "gp3")["VolumeId"]
        self.services.shares.add(volume, "ebs", region, zone=zone, copy_from=point.path)
        return volume_arn(region, volume)

    def delete(self, resource_arn: str) -> None:
        volume = arn_name(resource_arn)
        self.services.client("ec2", arn_region(resource_arn)).delete_volume(VolumeId=volume)
        self.services.shares.remove(volume)


register_provider("EBS", EbsBackup)
