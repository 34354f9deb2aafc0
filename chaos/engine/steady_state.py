"""The steady-state hypothesis of a scenario: checked before (a gate), during and after.

A gate that does not pass means the tool or its input is broken (the lab did not deploy, the
endpoint is wrong), not that a target was missed: that is a ChaosError, exit 2.
"""
from __future__ import annotations

from chaos.errors import ChaosError
from chaos.journal import NOTE, Journal
from chaos.engine.setup import EngineSettings, WorkloadRun


def gate(runs: list[WorkloadRun], journal: Journal, settings: EngineSettings) -> None:
    for run in runs:
        outcome = run.probe.until_ok(journal, "before", budget_seconds=settings.gate_seconds,
                                     interval_seconds=0.2)
        if not outcome.ok:
            raise ChaosError(f"steady state: {run.name} fails its read-your-write probe before "
                             f"any fault ({outcome.detail}); check the target and the inventory")


def after(runs: list[WorkloadRun], journal: Journal, scenario: str) -> None:
    """One more check after the faults were reverted, journaled as a note: a `probe` event here
    would let a workload that never recovered during the fault look recovered once it is over."""
    for run in runs:
        outcome = run.probe.check()
        state = "steady state holds" if outcome.ok else "deviated"
        journal.record(NOTE, scenario, run.name, text=f"after revert: {state} ({outcome.detail})")
