"""Regional scenarios: the primary region fails (after a replication pause, in the second one)
and the workload is run from its DR region.

With a live replica the DR copy takes over (promote, delete the replication configuration...).
Without one (backup-restore; pilot-light compute) the DR region holds copies: the newest is
restored there (an AWS Backup copy in the DR vault, a DLM snapshot copy), then the application
is repointed: RPO = fault time - creation of that copy's source point; RTO = detection + restore
+ repoint. Before the fault, those copies are made on demand (`before_fault`), as the plan's rule
and copy action (or the DLM schedule) make them on AWS; the journal says when.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.faults.base import Fault
from chaos.faults.outages import RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.journal import NOTE, Journal
from chaos.runbooks import detection, region_switch, regional
from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario, for_each_run
from chaos.stores.base import RecordStream
from chaos.targets.base import REGION_OUTAGE, REPLICATION_PAUSE, Target
from chaos.targets.inventory import Inventory, Workload


def bounded_wait(budget_seconds: float, poll_seconds: float = 0.05) -> Callable[[str, Callable[[], Any]], Any]:
    """`wait(what, check)`: poll until `check()` is truthy, at most `budget_seconds`."""
    def wait(what: str, check: Callable[[], Any]) -> Any:
        try:
            return Retrying(stop=stop_after_delay(budget_seconds), wait=wait_fixed(poll_seconds),
                            retry=retry_if_result(lambda v: not v), reraise=True)(check)
        except Exception as err:
            raise RunbookError(f"{what}: not done within {budget_seconds:.0f} s ({err})") from None
    return wait


class RegionOutageScenario(Scenario):
    name = REGION_OUTAGE
    summary = ("every service of the primary region fails; fail over to the DR replica, or restore "
               "the newest DR copy there")
    requires = frozenset({REGION_OUTAGE})

    def applies_to(self, workload: Workload) -> str | None:
        if workload.stores.why_no_regional_failover(workload) is None:
            return None
        return workload.stores.why_no_regional_recovery(workload)

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        def copy(run: Any) -> None:
            started = time.time()
            made = run.workload.stores.copy_to_dr_now(target, inventory, run.workload,
                                                      run.routing.current, bounded_wait(budget_seconds))
            journal.record(NOTE, self.name, run.name, t=started,
                           text=f"DR copy made on demand before the fault (on AWS the schedule "
                                f"makes it): {made}")
        for_each_run([run for run in runs if run.workload.dr_store is None], copy)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                                           ttl_seconds=inputs.ttl_seconds)])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_health_check(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        if ctx.workload.dr_store is None:
            # No live copy in the DR region (backup-restore): restore the newest DR copy there.
            regional.recover_in_dr(ctx)
        elif region_switch.declared(ctx.inventory):
            # The stack's own ARC Region switch plan where it declares one: what AWS would run.
            region_switch.fail_over_by_plan(ctx)
        else:
            regional.fail_over_to_dr(ctx)


class ReplicationPauseScenario(RegionOutageScenario):
    name = REPLICATION_PAUSE
    summary = ("replication is paused for --pause-seconds, then the primary region fails: the "
               "RPO grows with the pause")
    requires = frozenset({REPLICATION_PAUSE, REGION_OUTAGE})

    def applies_to(self, workload: Workload) -> str | None:
        return workload.stores.why_no_regional_failover(workload)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        pauses: list[Fault] = [ReplicationPause(inputs.target, inputs.run_id, name)
                               for name in inputs.workloads]
        outage = RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                              ttl_seconds=inputs.ttl_seconds)
        return FaultPlan(pauses, [outage], hold_seconds=inputs.pause_seconds)
