"""What a scenario is: the faults it plans, its skip reasons, its detection and its runbook.

A scenario never branches on store kind: it asks the workload's typed store view
(chaos/stores/) whether it can take part, and the store says why not in words for the report.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable

from chaos.faults.base import Fault
from chaos.runbooks.context import RunbookContext
from chaos.stores.base import RecordStream
from chaos.targets.base import Target
from chaos.targets.inventory import Workload


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one scenario run, in injection order; `hold_seconds` is how long to wait
    after the preparatory ones (the replication pause) before the interrupting ones."""

    preparatory: list[Fault]
    interrupting: list[Fault]
    hold_seconds: float = 0.0


@dataclass(frozen=True)
class FaultInputs:
    target: Target
    run_id: str
    scenario: str
    workloads: dict[str, Workload]     # the applicable workloads
    primary_region: str
    pause_seconds: float
    deletion_mode: str
    ttl_seconds: float


class Scenario(abc.ABC):
    name: str
    summary: str
    requires: frozenset[str]  # the target capabilities (fault names) it needs

    def skip_reason(self, workload: Workload) -> str | None:
        """None when the scenario applies to `workload`, else why it does not. Every scenario
        needs a canary on the workload's data; `applies_to` adds the scenario's own reasons."""
        return workload.stores.why_no_canary() or self.applies_to(workload)

    @abc.abstractmethod
    def applies_to(self, workload: Workload) -> str | None:
        """None when the workload's protection covers this failure, else why not."""

    @abc.abstractmethod
    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        """The faults to inject over the applicable workloads."""

    @abc.abstractmethod
    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        """Wait (bounded) until the failure is visible; journal `detected`."""

    @abc.abstractmethod
    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        """Run the runbook; journal `runbook_started` and `failover_done`."""
