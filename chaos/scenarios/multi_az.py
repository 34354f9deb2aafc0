"""Failures inside the primary region that a Multi-AZ standby absorbs: an AZ outage and an
instance crash."""
from __future__ import annotations

from typing import Callable

from chaos.faults.outages import AzOutage, InstanceFailure
from chaos.runbooks import detection, multi_az
from chaos.runbooks.context import RunbookContext
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario
from chaos.stores.base import RecordStream
from chaos.targets.base import AZ_OUTAGE, INSTANCE_FAILURE
from chaos.targets.inventory import Workload


class AzOutageScenario(Scenario):
    name = AZ_OUTAGE
    summary = "the primary DB instance's availability zone fails; RDS Multi-AZ fails over"
    requires = frozenset({AZ_OUTAGE})

    def applies_to(self, workload: Workload) -> str | None:
        reason = workload.stores.why_no_multi_az_failover()
        if reason is None and not workload.stores.primary_zone():
            return "the inventory gives no availability_zone for the primary instance"
        return reason

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
        return workload.stores.why_no_multi_az_failover()

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [InstanceFailure(inputs.target, inputs.run_id,
                                              w.stores.primary().name, workload=name,
                                              ttl_seconds=inputs.ttl_seconds)
                              for name, w in inputs.workloads.items()])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_canary_failures(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        multi_az.reboot_with_failover(ctx)
