"""Accidental deletion: the canary's records (or the whole table) are deleted, as a bad script
or a wrong console click would.

- dynamodb: `items` deletes the canary's items (BatchWriteItem); `table` drops the table
  (deletion protection switched off first, as the operator who dropped it must have done).
- s3: `items` deletes the canary's objects; with versioning on, that writes delete markers.
- rds: `items` runs `DELETE FROM canary_orders WHERE stream = ...`; `table` runs `DROP TABLE`.

Nothing is reverted by this fault: undoing the damage IS the recovery, done by the restore
runbooks (point-in-time restore, removal of delete markers), and measured as such. `revert` only
forgets the fault.
"""
from __future__ import annotations

import time
from typing import Any

from chaos.faults.base import Fault
from chaos.targets.base import ACCIDENTAL_DELETION, Target
from chaos.workload import postgres
from chaos.workload.canary import audit_store
from chaos.workload.stores import RecordStream, StoreRef

MODES = ("items", "table")
DYNAMODB_BATCH = 25  # BatchWriteItem limit
S3_BATCH = 1000      # DeleteObjects limit


class AccidentalDeletion(Fault):
    name = ACCIDENTAL_DELETION

    def __init__(self, target: Target, run_id: str, *, workload_name: str,
                 workload: dict[str, Any], store: StoreRef, stream: RecordStream,
                 mode: str = "items") -> None:
        super().__init__(target, run_id)
        if mode not in MODES:
            raise ValueError(f"deletion mode {mode!r} is not one of {MODES}")
        if mode == "table" and store.kind == "s3":
            raise ValueError("s3 has no 'table' deletion; use mode 'items'")
        self.workload_name = workload_name
        self.workload = workload
        self.store = store
        self.stream = stream
        self.mode = mode
        self.deleted_at: float | None = None

    @property
    def key(self) -> str:
        return f"deletion:{self.store}"

    def _inject(self) -> dict[str, Any]:
        self.deleted_at = time.time()
        deleted = {"dynamodb": self._delete_dynamodb, "s3": self._delete_s3,
                   "rds": self._delete_rds}[self.store.kind]()
        self.changes.append({"deleted": deleted, "store": str(self.store)})
        return {"mode": self.mode, "store": str(self.store), "deleted": deleted,
                "deleted_at": self.deleted_at}

    def _revert(self) -> None:
        """Nothing to undo here: the restore runbook repairs the damage (module docstring)."""

    def _delete_dynamodb(self) -> int | str:
        client = self.target.client("dynamodb", self.store.region)
        if self.mode == "table":
            client.update_table(TableName=self.store.name, DeletionProtectionEnabled=False)
            client.delete_table(TableName=self.store.name)
            return "table"
        table = self.workload["stores"]["table"]
        hash_key, range_key = table.get("hash_key") or "pk", table.get("range_key") or "sk"
        seqs = sorted(audit_store(self.target, self.workload, self.store, self.stream))
        for start in range(0, len(seqs), DYNAMODB_BATCH):
            requests = [{"DeleteRequest": {"Key": {
                hash_key: {"S": self.stream.key}, range_key: {"S": self.stream.sort_key(seq)}}}}
                for seq in seqs[start:start + DYNAMODB_BATCH]]
            pending = {self.store.name: requests}
            while pending:  # BatchWriteItem may hand back unprocessed items; resend them
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        return len(seqs)

    def _delete_s3(self) -> int:
        client = self.target.client("s3", self.store.region)
        seqs = sorted(audit_store(self.target, self.workload, self.store, self.stream))
        for start in range(0, len(seqs), S3_BATCH):
            objects = [{"Key": self.stream.s3_prefix + self.stream.sort_key(seq)}
                       for seq in seqs[start:start + S3_BATCH]]
            client.delete_objects(Bucket=self.store.name,
                                  Delete={"Objects": objects, "Quiet": True})
        return len(seqs)

    def _delete_rds(self) -> int | str:
        with postgres.connect(self.target, self.workload, self.store, fail_fast=False) as conn:
            if self.mode == "table":
                conn.execute(f"DROP TABLE {postgres.TABLE}")
                return "table"
            return conn.execute(f"DELETE FROM {postgres.TABLE} WHERE stream = %s",
                                (self.stream.key,)).rowcount
