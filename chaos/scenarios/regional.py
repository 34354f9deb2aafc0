"""Regional scenarios: the primary region fails (after a replication pause, in the second one)
and the workload is run from its DR region."""
from __future__ import annotations

from typing import Callable

from chaos.faults.base import Fault
from chaos.faults.outages import RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.runbooks import detection, region_switch, regional
from chaos.runbooks.context import RunbookContext
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario
from chaos.stores.base import RecordStream
from chaos.targets.base import REGION_OUTAGE, REPLICATION_PAUSE
from chaos.targets.inventory import Workload


class RegionOutageScenario(Scenario):
    name = REGION_OUTAGE
    summary = "every service of the primary region fails; fail over to the DR region"
    requires = frozenset({REGION_OUTAGE})

    def applies_to(self, workload: Workload) -> str | None:
        return workload.stores.why_no_regional_failover(workload)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                                           ttl_seconds=inputs.ttl_seconds)])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_health_check(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        # The stack's own ARC Region switch plan where it declares one: what AWS would run.
        if region_switch.declared(ctx.inventory):
            region_switch.fail_over_by_plan(ctx)
        else:
            regional.fail_over_to_dr(ctx)


class ReplicationPauseScenario(RegionOutageScenario):
    name = REPLICATION_PAUSE
    summary = ("replication is paused for --pause-seconds, then the primary region fails: the "
               "RPO grows with the pause")
    requires = frozenset({REPLICATION_PAUSE, REGION_OUTAGE})

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        pauses: list[Fault] = [ReplicationPause(inputs.target, inputs.run_id, name)
                               for name in inputs.workloads]
        outage = RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                              ttl_seconds=inputs.ttl_seconds)
        return FaultPlan(pauses, [outage], hold_seconds=inputs.pause_seconds)
