"""AWS Backup steps the runbooks and scenarios share, through the Backup API as on AWS:

- `take_copy`: an on-demand backup of the application's store into the primary vault
  (`StartBackupJob`), then a copy to the DR vault (`StartCopyJob`), each waited for
  (`DescribeBackupJob` / `DescribeCopyJob` COMPLETED) — what the plan's rule and its copy action
  do on schedule;
- `newest_point`: the newest COMPLETED recovery point of a resource in a region's vault
  (`ListRecoveryPointsByBackupVault`, ByResourceArn);
- `restore_newest`: `StartRestoreJob` of that point into a new resource in the vault's region,
  wait COMPLETED (`DescribeRestoreJob`), switch the application to `CreatedResourceArn`.

The IAM role jobs run as is the inventory's `backup.role_arn` when it declares one, else the
console's default role name `service-role/AWSBackupDefaultServiceRole` (not verified on an AWS page
read here; the lab ignores the role: declare `backup.role_arn` for a real account).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.stores.base import StoreRef
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload

DEFAULT_ROLE = "arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole"


def account_of(inventory: Inventory) -> str:
    for vault in inventory.vaults.values():
        if vault.arn and vault.arn.count(":") >= 5:
            return vault.arn.split(":")[4]
    return "123456789012"


def role_arn(inventory: Inventory) -> str:
    declared = (inventory.raw.get("backup") or {}).get("role_arn")
    return declared or DEFAULT_ROLE.format(account=account_of(inventory))


def vault_in(inventory: Inventory, region: str) -> str:
    vault = inventory.vaults.get(region)
    if vault is None or not vault.name:
        raise RunbookError(f"the inventory declares no backup vault in {region}")
    return vault.name


def lifecycle(inventory: Inventory, region: str) -> dict[str, int]:
    """The retention of an on-demand point: the vault lock's minimum (a job outside the lock's
    range fails, and a game day's points need no longer), else one day."""
    lock = ((inventory.raw.get("backup") or {}).get("vaults") or {}).get(region, {}).get("lock") or {}
    return {"DeleteAfterDays": int(lock.get("min_retention_days") or 1)}


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def take_copy(target: Target, inventory: Inventory, workload: Workload, store: StoreRef, *,
              wait: Any, copy: bool = True) -> dict[str, Any]:
    """Back `store` up into the primary vault and copy the point to the DR vault. `wait(what,
    check)` polls `check` until truthy (bounded). Returns the point ARNs and creation times."""
    account = account_of(inventory)
    resource = workload.stores.resource_arn(store, account)
    primary_vault = vault_in(inventory, store.region)
    client = target.client("backup", store.region)
    job = client.start_backup_job(BackupVaultName=primary_vault, ResourceArn=resource,
                                  IamRoleArn=role_arn(inventory),
                                  Lifecycle=lifecycle(inventory, store.region))["BackupJobId"]
    done = wait(f"backup job {job}", lambda: _finished(client.describe_backup_job(BackupJobId=job)))
    if done["State"] != "COMPLETED":
        raise RunbookError(f"backup job {job} ended {done['State']}: {done.get('StatusMessage')}")
    point = done["RecoveryPointArn"]
    result = {"resource": resource, "point": point, "vault": primary_vault,
              "created": _epoch(done.get("CreationDate") or 0)}
    if not copy:
        return result
    dr_vault = vault_in(inventory, workload.dr_region)
    dr_arn = inventory.vaults[workload.dr_region].arn or (
        f"arn:aws:backup:{workload.dr_region}:{account}:backup-vault:{dr_vault}")
    copy_job = client.start_copy_job(RecoveryPointArn=point, SourceBackupVaultName=primary_vault,
                                     DestinationBackupVaultArn=dr_arn,
                                     IamRoleArn=role_arn(inventory),
                                     Lifecycle=lifecycle(inventory, workload.dr_region))["CopyJobId"]
    copied = wait(f"copy job {copy_job}", lambda: _finished(
        client.describe_copy_job(CopyJobId=copy_job)["CopyJob"]))
    if copied["State"] != "COMPLETED":
        raise RunbookError(f"copy job {copy_job} ended {copied['State']}: {copied.get('StatusMessage')}")
    result.update(copy=copied.get("DestinationRecoveryPointArn"), dr_vault=dr_vault)
    return result


def _finished(job: dict[str, Any]) -> dict[str, Any] | None:
    state = job.get("State") or job.get("Status")
    return {**job, "State": state} if state in ("COMPLETED", "FAILED", "ABORTED", "EXPIRED") else None


def newest_point(target: Target, inventory: Inventory, workload: Workload, store: StoreRef,
                 region: str) -> dict[str, Any] | None:
    """The newest completed recovery point of `store` in `region`'s vault."""
    client = target.client("backup", region)
    resource = workload.stores.resource_arn(store, account_of(inventory))
    points: list[dict[str, Any]] = []
    for page in client.get_paginator("list_recovery_points_by_backup_vault").paginate(
            BackupVaultName=vault_in(inventory, region), ByResourceArn=resource):
        points += [p for p in page.get("RecoveryPoints", []) if p.get("Status") == "COMPLETED"]
    return max(points, key=lambda p: _epoch(p["CreationDate"]), default=None)


def source_created(target: Target, point: dict[str, Any], region: str) -> float | None:
    """When the point a DR copy was copied from was taken: the copy job (listed in the source
    region, `ListCopyJobs`) names its source point, whose `CreationDate` it is. None when the
    source region does not answer (a region outage): then only the copy's own date is known."""
    created = _epoch(point["CreationDate"])
    source_vault = point.get("SourceBackupVaultArn")
    if not source_vault or source_vault.split(":")[3] == region:
        return created
    source_region = source_vault.split(":")[3]
    client = target.client("backup", source_region)
    try:
        jobs = client.list_copy_jobs(ByDestinationVaultArn=point["BackupVaultArn"])["CopyJobs"]
        job = next(j for j in jobs if j.get("DestinationRecoveryPointArn") == point["RecoveryPointArn"])
        source = client.describe_recovery_point(
            BackupVaultName=source_vault.rsplit(":", 1)[-1], RecoveryPointArn=job["SourceRecoveryPointArn"])
        return _epoch(source["CreationDate"])
    except Exception:  # the source region is down, or the copy job has aged out
        return None


def restore_point(ctx: RunbookContext, point: dict[str, Any], region: str, store: StoreRef,
                  suffix: str = "") -> StoreRef:
    """Restore `point` (from `region`'s vault) into a new resource there; returns it."""
    client = ctx.target.client("backup", region)
    new_name = f"{store.name}-restored-{ctx.short_run}{'-' + suffix if suffix else ''}"
    job = client.start_restore_job(
        RecoveryPointArn=point["RecoveryPointArn"], IamRoleArn=role_arn(ctx.inventory),
        Metadata=ctx.workload.stores.restore_metadata(new_name, region))["RestoreJobId"]
    done = ctx.wait_until(f"restore job {job}", lambda: _finished(
        client.describe_restore_job(RestoreJobId=job)))
    if done["State"] != "COMPLETED":
        raise RunbookError(f"restore job {job} ended {done['State']}: {done.get('StatusMessage')}")
    return ctx.workload.stores.restored_store(done["CreatedResourceArn"], region)


def restore_newest(ctx: RunbookContext, region: str) -> StoreRef:
    """The default regional recovery without a live replica: restore the newest recovery point
    of the application's store from `region`'s vault, there."""
    source = ctx.routing.history[0]
    point = newest_point(ctx.target, ctx.inventory, ctx.workload, source, region)
    if point is None:
        raise RunbookError(f"no completed recovery point of {source} in the {region} vault")
    ctx.note(f"newest recovery point in {region}: {point['RecoveryPointArn']} created "
             f"{point['CreationDate']} (source {point.get('SourceBackupVaultArn') or 'this vault'})")
    restored = restore_point(ctx, point, region, source)
    ctx.done(f"restored {point['RecoveryPointArn']} into {restored}", at=ctx.last_observed_at)
    return restored
