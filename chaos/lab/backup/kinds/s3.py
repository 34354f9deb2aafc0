"""S3: a recovery point holds a copy of every object version (and delete marker) of the bucket, as
AWS Backup's S3 backups do; a restore writes the versions that were current at backup time into the
bucket named by `DestinationBucketName` (created if missing, e.g. in the DR region) or a new one."""
from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chaos.lab.backup.providers import ProviderBase, RecoveryPointData, Snapshot, arn_name, register_provider

MANIFEST = "versions.json"
COPY_THREADS = 8


class S3Backup(ProviderBase):
    resource_type = "S3"

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]:
        bucket = (spec.get("stores") or {}).get("bucket") or {}
        return [f"arn:aws:s3:::{bucket['name']}"] if bucket.get("name") else []

    def region_of(self, resource_arn: str) -> str:
        return self.services.bucket_regions.get(arn_name(resource_arn), "us-east-1")

    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot:
        bucket = arn_name(resource_arn)
        client = self.services.client("s3", self.region_of(resource_arn))
        manifest: list[dict[str, Any]] = []
        reads: list[tuple[str, dict[str, Any]]] = []
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for marker in page.get("DeleteMarkers", []):
                manifest.append({"key": marker["Key"], "version_id": marker["VersionId"],
                                 "is_latest": marker["IsLatest"], "delete_marker": True})
            for version in page.get("Versions", []):
                blob = f"{len(manifest):08d}"
                manifest.append({"key": version["Key"], "version_id": version["VersionId"],
                                 "is_latest": version["IsLatest"], "delete_marker": False, "blob": blob})
                reads.append((blob, version))

        def copy(read: tuple[str, dict[str, Any]]) -> int:
            blob, version = read
            body = client.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            (dest / blob).write_bytes(body)
            return len(body)

        # One GET per version: in parallel, so a bucket of a few hundred canary objects is copied in
        # a fraction of a lab second (the lab's time is scaled into AWS seconds: its own slowness
        # must not read as a slow AWS backup).
        with ThreadPoolExecutor(max_workers=COPY_THREADS, thread_name_prefix="s3-backup") as pool:
            size = sum(pool.map(copy, reads))
        (dest / MANIFEST).write_text(json.dumps(manifest))
        return Snapshot(size, {"DestinationBucketName": bucket, "versions": str(len(manifest))})

    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str:
        # A named bucket (the source included: AWS restores into an existing bucket too); none: a new one.
        bucket = metadata.get("DestinationBucketName") or f"{arn_name(point.resource_arn)}-restored-{uuid.uuid4().hex[:6]}"
        client = self.services.client("s3", region)
        if bucket not in self.services.bucket_regions:
            if region == "us-east-1":
                client.create_bucket(Bucket=bucket)
            else:
                client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
            client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            self.services.bucket_regions[bucket] = region
        for entry in json.loads((point.path / MANIFEST).read_text()):
            if entry["is_latest"] and not entry["delete_marker"]:
                client.put_object(Bucket=bucket, Key=entry["key"], Body=(point.path / entry["blob"]).read_bytes())
        return f"arn:aws:s3:::{bucket}"

    def delete(self, resource_arn: str) -> None:
        bucket = arn_name(resource_arn)
        client = self.services.client("s3", self.region_of(resource_arn))
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
        client.delete_bucket(Bucket=bucket)
        self.services.bucket_regions.pop(bucket, None)


register_provider("S3", S3Backup)
