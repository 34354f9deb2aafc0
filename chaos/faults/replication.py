"""Replication pause: replication of one workload stops shipping changes for a while.

Lab: `POST /_lab/replication {workload, paused: true}` (the lab form of the FIS pause actions);
AWS: the stack's FIS "pause replication" template for the workload. It is preparatory: service
goes on while paused, and the region outage that follows is the fault RTO/RPO count from.
"""
from __future__ import annotations

from typing import Any

from chaos.faults.base import Fault
from chaos.targets.base import REPLICATION_PAUSE, FaultSpec, Target


class ReplicationPause(Fault):
    name = REPLICATION_PAUSE

    def __init__(self, target: Target, run_id: str, workload: str) -> None:
        super().__init__(target, run_id)
        self.workload_name = workload

    @property
    def key(self) -> str:
        return f"replication:{self.workload_name}"

    @property
    def preparatory(self) -> bool:
        return True

    def _inject(self) -> dict[str, Any]:
        spec = FaultSpec(fault=self.name, rules=(), fis_action="replication-pause",
                         workload=self.workload_name)
        # Written down before the call, so an interrupted pause is still resumed by revert.
        self.changes.append({"replication_paused": self.workload_name})
        handle = self.target.apply_fault(spec)
        self.changes[-1] = handle
        return {"workload": self.workload_name, **handle}

    def _revert(self) -> None:
        for handle in reversed(self.changes):
            self.target.remove_fault(handle)
