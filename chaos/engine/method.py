"""The method of a scenario: inject its faults in order, journaling each with its time.

The time journaled for a fault is taken just before the call that injects it, so a write
acknowledged before that instant is a pre-fault write. Preparatory faults (replication pause) are
marked so RTO/RPO count from the interrupting one (chaos/journal.py).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chaos.faults.base import Fault
from chaos.journal import FAULT_INJECTED, NOTE, Journal
from chaos.scenarios.base import FaultPlan


def _inject(fault: Fault, journal: Journal, scenario: str, injected: list[Fault]) -> float:
    t = time.time()
    injected.append(fault)  # before inject: a half-done inject is still reverted
    detail = fault.inject()
    journal.record(FAULT_INJECTED, scenario, fault.workload_name, t=t, fault=fault.name, detail=detail,
                   **({"preparatory": True} if fault.preparatory else {}))
    return t


@dataclass(frozen=True)
class FaultTimes:
    """When the interrupting faults hit: scenario-wide, and per workload for per-workload faults
    (deletions are injected one workload after the other)."""

    first: float
    by_workload: dict[str, float]

    def of(self, workload: str) -> float:
        return self.by_workload.get(workload, self.first)


def inject(plan: FaultPlan, journal: Journal, scenario: str, injected: list[Fault],
           stop: threading.Event) -> FaultTimes:
    """Inject `plan`; return when its interrupting faults hit. Every fault is appended to
    `injected` before its injection starts, so the caller's `finally` reverts it."""
    for fault in plan.preparatory:
        _inject(fault, journal, scenario, injected)
    if plan.preparatory and plan.hold_seconds > 0:
        journal.record(NOTE, scenario, None,
                       text=f"holding {plan.hold_seconds:g} s before the interrupting fault")
        stop.wait(plan.hold_seconds)
    times = {fault: _inject(fault, journal, scenario, injected) for fault in plan.interrupting}
    return FaultTimes(first=min(times.values()),
                      by_workload={f.workload_name: t for f, t in times.items() if f.workload_name})
