"""Fault plumbing shared by the targets that speak the LocalStack Chaos API (the lab, LocalStack).

Rules go in with PATCH (added to whatever else is active) and out with DELETE (matched by their
keys); a replication pause goes through the lab's `/_lab/replication` switch, which only the lab
(embedded or standalone) has.
"""
from __future__ import annotations

from typing import Any

from chaos.targets.base import REPLICATION_PAUSE, FaultSpec


class ChaosApiFaults:
    """Mixin for a target with a `lab_client` (chaos.lab.process.LabClient) attribute."""

    lab_client: Any
    has_lab_api: bool = True

    def apply_fault(self, spec: FaultSpec) -> dict[str, Any]:
        if spec.fault == REPLICATION_PAUSE:
            if not self.has_lab_api:
                raise NotImplementedError("replication pause needs the lab's /_lab/replication API")
            self.lab_client.set_replication(workload=spec.workload, paused=True)
            return {"replication_paused": spec.workload}
        rules = [dict(rule) for rule in spec.rules]
        self.lab_client.add_faults(rules)
        return {"rules": rules}

    def remove_fault(self, handle: dict[str, Any]) -> None:
        if "replication_paused" in handle:
            workload = handle["replication_paused"]
            # A promotion cuts the link (the replica is a primary now): nothing left to unpause.
            if any(link.get("workload") == workload for link in self.lab_client.replication()):
                self.lab_client.set_replication(workload=workload, paused=False)
        if handle.get("rules"):
            # Removing a rule that already expired is a no-op on the Chaos API: idempotent.
            self.lab_client.remove_faults(handle["rules"])
