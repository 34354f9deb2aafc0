"""Accidental deletion: the canary's records (or the whole table) are deleted, as a bad script
or a wrong console click would. How a kind deletes is its store's `delete` (chaos/stores/):
items (rows, objects, files) or, where the kind has one, the whole table.

Nothing is reverted by this fault: undoing the damage IS the recovery, done by the restore
runbooks (point-in-time restore, removal of delete markers), and measured as such. `revert` only
forgets the fault.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chaos.faults.base import Fault
from chaos.stores.base import RecordStream, StoreRef
from chaos.targets.base import ACCIDENTAL_DELETION, Target

if TYPE_CHECKING:
    from chaos.targets.inventory import Workload

MODES = ("items", "table")


class AccidentalDeletion(Fault):
    name = ACCIDENTAL_DELETION

    def __init__(self, target: Target, run_id: str, *, workload_name: str,
                 workload: "Workload", store: StoreRef, stream: RecordStream,
                 mode: str = "items") -> None:
        super().__init__(target, run_id)
        if mode not in MODES:
            raise ValueError(f"deletion mode {mode!r} is not one of {MODES}")
        if mode not in workload.stores.deletion_modes:
            raise ValueError(f"{store.kind} has no {mode!r} deletion; use mode "
                             f"{workload.stores.deletion_modes[0]!r}")
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
        deleted = self.workload.stores.delete(self.target, self.store, self.stream, self.mode)
        self.changes.append({"deleted": deleted, "store": str(self.store)})
        return {"mode": self.mode, "store": str(self.store), "deleted": deleted,
                "deleted_at": self.deleted_at}

    def _revert(self) -> None:
        """Nothing to undo here: the restore runbook repairs the damage (module docstring)."""
