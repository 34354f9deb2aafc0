"""Accidental deletion: the canary's orders are deleted by mistake; restore to just before."""
from __future__ import annotations

from typing import Callable

from chaos.faults.base import Fault
from chaos.faults.deletion import AccidentalDeletion
from chaos.runbooks import detection, restore
from chaos.runbooks.context import RunbookContext
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario
from chaos.stores.base import RecordStream
from chaos.targets.base import ACCIDENTAL_DELETION
from chaos.targets.inventory import Workload


class AccidentalDeletionScenario(Scenario):
    name = ACCIDENTAL_DELETION
    summary = "the canary's orders are deleted by mistake; restore to just before the deletion"
    requires = frozenset({ACCIDENTAL_DELETION})

    def applies_to(self, workload: Workload) -> str | None:
        return workload.stores.why_no_point_in_time_restore()

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        faults: list[Fault] = []
        for name, workload in inputs.workloads.items():
            faults.append(AccidentalDeletion(
                inputs.target, inputs.run_id, workload_name=name, workload=workload,
                store=workload.stores.primary(),
                stream=RecordStream("canary", inputs.run_id, inputs.scenario),
                mode=workload.stores.deletion_mode(inputs.deletion_mode)))
        return FaultPlan([], faults)

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_missing_data(ctx, witness_missing)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        restore.restore_to_before_fault(ctx, stream)
