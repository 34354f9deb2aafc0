"""The fault contract: `inject()` / `revert()`, the state a fault changed, and the run it belongs to.

As in chaostoolkit-aws, every fault has its pair: `inject` writes down what it changed
(`self.changes`) and `revert` undoes exactly that. `revert` is idempotent (the engine calls it in a
`finally`, also after a failed or interrupted `inject`), and a fault refuses to be injected twice
over state it has not reverted, in this instance or by another fault holding the same key
(e.g. two region outages of the same region in one process).
"""
from __future__ import annotations

import abc
import threading
from typing import Any

from chaos.errors import ChaosError
from chaos.targets.base import Target

_ACTIVE_LOCK = threading.Lock()
_ACTIVE: dict[str, "Fault"] = {}  # fault key -> the fault currently holding it


class FaultStateError(RuntimeError):
    """Injecting over unreverted state: a harness bug, never an expected outcome."""


class Fault(abc.ABC):
    """One injectable failure. Subclasses implement `_inject` (returning the detail to journal)
    and `_revert`, and name the state they touch with `key`."""

    name: str = "fault"
    # The target capability the fault needs (default: its own name). Faults played through the
    # AWS APIs alone (deletion, ransomware, a restore drill) need only API access.
    capability: str | None = None

    def __init__(self, target: Target, run_id: str) -> None:
        self.target = target
        self.run_id = run_id
        self.changes: list[dict[str, Any]] = []  # what inject changed, replayed by revert
        self.injected = False
        self.workload_name: str | None = None   # the workload it targets; None: scenario-wide

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """What this fault holds, e.g. "region:us-east-1": no two active faults share a key."""

    @abc.abstractmethod
    def _inject(self) -> dict[str, Any]:
        """Change the world; append each change to `self.changes`; return the journal detail."""

    @abc.abstractmethod
    def _revert(self) -> None:
        """Undo `self.changes` (each undo must tolerate having been done already)."""

    @property
    def preparatory(self) -> bool:
        """True for faults that set the stage without interrupting service (replication pause):
        RTO and RPO count from the first fault that is not preparatory (chaos/journal.py)."""
        return False

    def inject(self) -> dict[str, Any]:
        if (self.capability or self.name) not in self.target.capabilities:
            raise ChaosError(f"--scenario: the {self.target.name} target cannot inject {self.name}; "
                             "run it on the lab (or a target that can)")
        with _ACTIVE_LOCK:
            if self.injected:
                raise FaultStateError(f"{self.name} {self.key}: already injected, revert first")
            holder = _ACTIVE.get(self.key)
            if holder is not None:
                raise FaultStateError(f"{self.name} {self.key}: held by an unreverted "
                                      f"{holder.name} of run {holder.run_id}")
            _ACTIVE[self.key] = self
            self.injected = True
        try:
            detail = self._inject()
        except BaseException:
            if not self.changes:  # nothing changed: nothing to revert, release the key now
                self._release()
            raise
        return {"run_id": self.run_id, **detail}

    def _release(self) -> None:
        with _ACTIVE_LOCK:
            self.injected = False
            self.changes = []
            if _ACTIVE.get(self.key) is self:
                del _ACTIVE[self.key]

    def revert(self) -> bool:
        """Undo the fault; returns True if there was something to undo. Safe to call repeatedly."""
        with _ACTIVE_LOCK:
            if not self.injected:
                return False
        self._revert()  # if this raises, the fault stays held so a later revert can retry
        self._release()
        return True
