"""When the failure happened: the fault time that RTO and RPO count from, and the fault window."""
from __future__ import annotations

from dataclasses import dataclass, field

from chaos.journal import FAULT_INJECTED, FAULT_REVERTED
from chaos.measurement.selection import Timeline


@dataclass(frozen=True)
class FaultWindow:
    """`fault_time`: the first fault that interrupts service (not marked `preparatory`).

    `start`/`end` span every fault of the scenario, preparatory ones included (a replication pause
    starts the window; the region outage that follows sets `fault_time`). `end` is the last revert,
    None when the journal holds none (the run died before reverting).
    """

    fault_time: float | None
    start: float | None
    end: float | None
    faults: list[str] = field(default_factory=list)


def fault_window(timeline: Timeline) -> FaultWindow:
    injected = timeline.of(FAULT_INJECTED)
    reverted = timeline.of(FAULT_REVERTED)
    interrupting = [e for e in injected if not e.data.get("preparatory", False)]
    return FaultWindow(
        fault_time=interrupting[0].t if interrupting else None,
        start=injected[0].t if injected else None,
        end=reverted[-1].t if reverted else None,
        faults=[str(e.data.get("fault", "?")) for e in injected],
    )
