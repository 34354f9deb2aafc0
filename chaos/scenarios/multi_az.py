"""Failures inside the primary region that a Multi-AZ standby absorbs: an AZ outage and an
instance crash."""
from __future__ import annotations

import time
from typing import Any, Callable

from chaos.faults.outages import AzOutage, InstanceFailure
from chaos.runbooks import detection, multi_az
from chaos.runbooks.context import RunbookContext
from chaos.journal import NOTE, Journal
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario, for_each_run
from chaos.scenarios.regional import bounded_wait
from chaos.stores.base import RecordStream
from chaos.targets.base import AZ_OUTAGE, INSTANCE_FAILURE, Target
from chaos.targets.inventory import Inventory, Workload


class AzOutageScenario(Scenario):
    name = AZ_OUTAGE
    summary = "the primary DB instance's availability zone fails; RDS Multi-AZ fails over"
    requires = frozenset({AZ_OUTAGE})

    def applies_to(self, workload: Workload) -> str | None:
        reason = workload.stores.why_no_multi_az_failover()
        if reason is None and not workload.stores.primary_zone():
            return "the inventory gives no availability_zone for the primary instance"
        return reason

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        def prepare(run: Any) -> None:
            started = time.time()
            made = run.workload.stores.prepare_zone_failover(target, inventory, run.workload,
                                                             run.routing.current, bounded_wait(budget_seconds))
            if made is not None:
                journal.record(NOTE, self.name, run.name, t=started,
                               text=f"snapshots made on demand before the fault (on AWS the DLM "
                                    f"schedule makes them): {made}")
        for_each_run(runs, prepare)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        zones = sorted({zone for w in inputs.workloads.values()
                        if (zone := w.stores.primary_zone())})
        return FaultPlan([], [AzOutage(inputs.target, inputs.run_id, zone,
                                       ttl_seconds=inputs.ttl_seconds) for zone in zones])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_canary_failures(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        multi_az.await_automatic_failover(ctx)


class InstanceFailureScenario(Scenario):
    name = INSTANCE_FAILURE
    summary = "the primary DB instance crashes; reboot with failover to the Multi-AZ standby"
    requires = frozenset({INSTANCE_FAILURE})

    def applies_to(self, workload: Workload) -> str | None:
        return workload.stores.why_no_instance_failover()

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [InstanceFailure(inputs.target, inputs.run_id,
                                              w.stores.primary().name, workload=name,
                                              ttl_seconds=inputs.ttl_seconds)
                              for name, w in inputs.workloads.items()])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_canary_failures(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        multi_az.reboot_with_failover(ctx)
