"""Faults against backups and the data they protect.

- `BackupJobFailure`: AWS Backup jobs of one resource fail (lab: a Chaos API rule on the backup
  engine's `BackupJob`, chaos/lab/backup/lab.py), then a backup job is started, as the plan's
  schedule would, and fails. Revert removes the rule.
- `Ransomware`: with the application's credentials (the target's clients) an attacker writes its
  ransom note, deletes the canary's records, then tries to delete every recovery point of the
  resource in both vaults and the kind's snapshots. Each attempt and its answer (the error code
  when refused: the vault lock's InvalidRequestException, IAM's AccessDenied) is journaled. Nothing
  is reverted: the restore is the recovery.
- `DrillCutover`: a restore drill takes the application off its store until a restored copy is
  validated, so the probe measures the restore (revert puts it back).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chaos.faults.base import Fault
from chaos.stores.base import RecordStream, StoreRef
from chaos.targets.base import ACCIDENTAL_DELETION, BACKUP_JOB_FAILURE, FaultSpec, Target
from chaos.workload.routing import AppRouting

if TYPE_CHECKING:
    from chaos.targets.inventory import Inventory, Workload

RANSOMWARE = "ransomware"
RESTORE_DRILL = "restore-drill"


def _code(err: Exception) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(err).__name__)
    return type(err).__name__


class BackupJobFailure(Fault):
    name = BACKUP_JOB_FAILURE

    def __init__(self, target: Target, run_id: str, *, workload_name: str, inventory: "Inventory",
                 workload: "Workload", store: StoreRef) -> None:
        super().__init__(target, run_id)
        self.workload_name = workload_name
        self.inventory = inventory
        self.workload = workload
        self.store = store

    @property
    def key(self) -> str:
        return f"backup-jobs:{self.store}"

    def _inject(self) -> dict[str, Any]:
        from chaos.runbooks import backup
        resource = self.workload.stores.resource_arn(self.store, backup.account_of(self.inventory))
        rule = {"service": "backup", "operation": "BackupJob", "resource": resource,
                "expires_at": round(time.time() + 600, 3)}
        self.changes.append({"rules": [rule]})
        self.changes[-1] = self.target.apply_fault(FaultSpec(fault=self.name, rules=(rule,),
                                                             workload=self.workload_name))
        job = self.target.client("backup", self.store.region).start_backup_job(
            BackupVaultName=backup.vault_in(self.inventory, self.store.region), ResourceArn=resource,
            IamRoleArn=backup.role_arn(self.inventory),
            Lifecycle=backup.lifecycle(self.inventory, self.store.region))["BackupJobId"]
        return {"rules": [rule], "backup_job": job, "resource": resource}

    def _revert(self) -> None:
        for handle in reversed(self.changes):
            self.target.remove_fault(handle)


class Ransomware(Fault):
    name = RANSOMWARE
    capability = ACCIDENTAL_DELETION   # API calls only

    def __init__(self, target: Target, run_id: str, *, workload_name: str, inventory: "Inventory",
                 workload: "Workload", store: StoreRef, stream: RecordStream) -> None:
        super().__init__(target, run_id)
        self.workload_name = workload_name
        self.inventory = inventory
        self.workload = workload
        self.store = store
        self.stream = stream
        self.attempts: list[dict[str, Any]] = []

    @property
    def key(self) -> str:
        return f"ransomware:{self.store}"

    def _inject(self) -> dict[str, Any]:
        stores = self.workload.stores
        writer = stores.writer(self.target, fail_fast=False)
        try:  # the attacker's note (its encrypted copy), beside the data it destroys
            writer.write(self.store, RecordStream("ransom", self.run_id, self.stream.scenario), 0, time.time())
        finally:
            writer.close()
        deleted = stores.delete(self.target, self.store, self.stream, "items")
        self.changes.append({"deleted": deleted})
        self._delete_recovery_points()
        for service, region, identifier, call in stores.snapshots_to_attack(self.target, self.workload):
            self._attempt(f"{service}:{region}/{identifier}", call)
        refused = [a for a in self.attempts if not a["deleted"]]
        return {"store": str(self.store), "deleted": deleted, "attempts": self.attempts,
                "refused": len(refused), "succeeded": len(self.attempts) - len(refused)}

    def _delete_recovery_points(self) -> None:
        from chaos.runbooks import backup
        resource = self.workload.stores.resource_arn(self.store, backup.account_of(self.inventory))
        for region in sorted(self.inventory.vaults):
            vault = backup.vault_in(self.inventory, region)
            client = self.target.client("backup", region)
            try:
                points = client.list_recovery_points_by_backup_vault(
                    BackupVaultName=vault, ByResourceArn=resource)["RecoveryPoints"]
            except Exception as err:  # listing refused is an answer too
                self.attempts.append({"what": f"list recovery points in {vault}", "deleted": False,
                                      "answer": _code(err)})
                continue
            for point in points:
                arn = point["RecoveryPointArn"]
                self._attempt(f"recovery point {arn}", lambda c=client, a=arn, v=vault: c.delete_recovery_point(
                    BackupVaultName=v, RecoveryPointArn=a))

    def _attempt(self, what: str, call: Any) -> None:
        try:
            call()
        except Exception as err:
            self.attempts.append({"what": what, "deleted": False, "answer": _code(err)})
            return
        self.attempts.append({"what": what, "deleted": True, "answer": "deleted"})

    def _revert(self) -> None:
        """Nothing to undo: the restore runbook is the recovery."""


class DrillCutover(Fault):
    name = RESTORE_DRILL
    capability = ACCIDENTAL_DELETION   # API calls only

    def __init__(self, target: Target, run_id: str, *, workload_name: str, routing: AppRouting) -> None:
        super().__init__(target, run_id)
        self.workload_name = workload_name
        self.routing = routing

    @property
    def key(self) -> str:
        return f"drill:{self.workload_name}"

    def _inject(self) -> dict[str, Any]:
        original = self.routing.current
        self.changes.append({"store": original})
        self.routing.switch(StoreRef(original.kind, original.region, "restore-drill-pending"))
        return {"store": str(original)}

    def _revert(self) -> None:
        for change in self.changes:
            self.routing.switch(change["store"])
