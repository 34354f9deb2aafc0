"""Accidental deletion: the canary's orders are deleted by mistake; restore to just before."""
from __future__ import annotations

import time
from typing import Any, Callable

from chaos.faults.base import Fault
from chaos.faults.deletion import AccidentalDeletion
from chaos.journal import NOTE, Journal
from chaos.runbooks import backup, detection, restore
from chaos.runbooks.context import RunbookContext
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario, for_each_run
from chaos.stores.base import RecordStream
from chaos.scenarios.regional import bounded_wait
from chaos.targets.base import ACCIDENTAL_DELETION, Target
from chaos.targets.inventory import Inventory, Workload


class AccidentalDeletionScenario(Scenario):
    name = ACCIDENTAL_DELETION
    summary = "the canary's orders are deleted by mistake; restore to just before the deletion"
    requires = frozenset({ACCIDENTAL_DELETION})

    def applies_to(self, workload: Workload) -> str | None:
        return workload.stores.why_no_point_in_time_restore()

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        """Kinds restored from a recovery point (EFS, EBS) get one before the deletion."""
        def take(run: Any) -> None:
            started = time.time()
            made = backup.take_copy(target, inventory, run.workload, run.routing.current,
                                    wait=bounded_wait(budget_seconds), copy=False)
            journal.record(NOTE, self.name, run.name, t=started,
                           text=f"recovery point made on demand before the deletion (on AWS the "
                                f"plan's rule makes it on schedule): {made['point']}")
        for_each_run([r for r in runs if r.workload.stores.deletion_restores_from_backup], take)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        faults: list[Fault] = []
        for name, workload in inputs.workloads.items():
            faults.append(AccidentalDeletion(
                inputs.target, inputs.run_id, workload_name=name, workload=workload,
                store=inputs.app_stores[name],
                stream=RecordStream("canary", inputs.run_id, inputs.scenario),
                mode=workload.stores.deletion_mode(inputs.deletion_mode)))
        return FaultPlan([], faults)

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_missing_data(ctx, witness_missing)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        restore.restore_to_before_fault(ctx, stream)
