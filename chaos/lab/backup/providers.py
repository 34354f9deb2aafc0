"""What the Backup engine needs from each store kind: take a snapshot, restore one, clean up.

One provider per AWS Backup resource type (`DynamoDB`, `S3`, `RDS` here; `EFS` and `EBS` plug in
the same way). A provider is a small class in `chaos/lab/backup/kinds/<kind>.py` that registers a
factory at import time; the engine imports every module of `kinds/` and builds the providers for
each deploy with the lab's services:

```python
from chaos.lab.backup.providers import ProviderBase, RecoveryPointData, Snapshot, register_provider

class EfsBackup(ProviderBase):  # keeps `services`; `region_of` reads the ARN's region
    resource_type = "EFS"
    def resources(self, workload: str, spec: dict) -> list[str]: ...   # ARNs a plan protects
    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot: ...  # write real data under dest
    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str: ...
    def delete(self, resource_arn: str) -> None: ...                   # restore tests clean up

register_provider("EFS", EfsBackup)
```

Rules every provider keeps: `snapshot` copies the resource's data as it is now into `dest` (a
fresh, empty directory the engine owns; it copies it to other regions with `shutil.copytree`), and
raises on failure (the job becomes FAILED with the message); `restore` recreates the resource in
`region` from `point.path`, named by `metadata` when given, and returns its ARN. Without a name in
`metadata` it must create a NEW resource with a fresh name: restore testing passes no metadata
and then deletes what was restored.
Neither talks to moto except through `services.client(...)` or `chaos.lab.motostate`.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

ACCOUNT_ID = "123456789012"


@dataclass
class LabServices:
    """What a provider may use from the lab (built by the engine per deploy)."""

    client: Callable[[str, str], Any]            # (service, region) -> boto3 client on the lab (no faults)
    data_plane: Callable[[], Any | None]         # the PostgreSQL data plane, if running
    bucket_regions: dict[str, str]               # S3 bucket -> region (filled by deploy)
    workdir: Path                                # scratch space for providers
    shares: Any = None                           # EFS file systems / EBS volumes (chaos/lab/filestore.py)
    ebs: Any = None                              # EBS snapshots' data (chaos/lab/ebs.py)


@dataclass(frozen=True)
class Snapshot:
    """What `snapshot` reports: the bytes it wrote and the restore metadata AWS would keep."""

    size_bytes: int
    restore_metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecoveryPointData:
    """What `restore` gets: where the data lies and what the snapshot recorded."""

    path: Path
    resource_arn: str
    resource_type: str
    region: str                                  # region of the vault holding this point
    restore_metadata: dict[str, str]
    created_at: float                            # lab time the source point was taken


class BackupProvider(Protocol):
    resource_type: str

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]: ...
    def region_of(self, resource_arn: str) -> str: ...
    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot: ...
    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str: ...
    def delete(self, resource_arn: str) -> None: ...


class ProviderBase:
    """What every provider shares: the lab's services, and the region read off the resource's ARN
    (S3's ARNs carry none: its provider answers from the bucket's region instead)."""

    resource_type: str

    def __init__(self, services: LabServices):
        self.services = services

    def region_of(self, resource_arn: str) -> str:
        return arn_region(resource_arn)


ProviderFactory = Callable[[LabServices], BackupProvider]
_FACTORIES: dict[str, ProviderFactory] = {}


def register_provider(resource_type: str, factory: ProviderFactory) -> None:
    """Make `resource_type` (AWS Backup's name: DynamoDB, S3, RDS, EFS, EBS, EC2) backed up by `factory`."""
    _FACTORIES[resource_type] = factory


def registered_types() -> list[str]:
    _load_kinds()
    return sorted(_FACTORIES)


def build_providers(services: LabServices) -> dict[str, BackupProvider]:
    _load_kinds()
    return {resource_type: factory(services) for resource_type, factory in _FACTORIES.items()}


def _load_kinds() -> None:
    from chaos.lab.backup import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        importlib.import_module(f"{kinds.__name__}.{module.name}")


_ARN_TYPES = (
    (re.compile(r"^arn:aws:dynamodb:"), "DynamoDB"),
    (re.compile(r"^arn:aws:s3:::"), "S3"),
    (re.compile(r"^arn:aws:rds:[^:]+:[^:]+:db:"), "RDS"),
    (re.compile(r"^arn:aws:elasticfilesystem:"), "EFS"),
    (re.compile(r"^arn:aws:ec2:[^:]+:[^:]*:volume/"), "EBS"),
    (re.compile(r"^arn:aws:ec2:[^:]+:[^:]*:instance/"), "EC2"),
)


def resource_type_of(resource_arn: str) -> str | None:
    """AWS Backup's resource type for an ARN (None: not a type AWS Backup protects here)."""
    for pattern, resource_type in _ARN_TYPES:
        if pattern.match(resource_arn):
            return resource_type
    return None


def arn_region(resource_arn: str) -> str:
    parts = resource_arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def arn_name(resource_arn: str) -> str:
    return re.split(r"[:/]", resource_arn)[-1]
