"""Recovery time: from the fault to the first passing steady-state probe, and its phases.

The phases split the RTO at the events the engine and runbooks record:

    fault --detection--> detected --decision--> runbook_started --failover--> failover_done
          --first success--> first passing probe

Each boundary is the first such event after the fault, except the failover: it is done at the
last `failover_done` between the runbook's start and the first success (a runbook may take
several actions); when the runbook confirmed its action only after a probe had already succeeded,
the failover ends at that first success.

Phases are never negative. The boundaries are recorded by different threads (the runbook, the
probe loop), each at the moment it observed its step, so they need not come in the phase order:
a Multi-AZ standby can take over on its own, and the probe pass through it, before the runbook
has even journaled its start. A boundary is therefore held between its neighbours: no earlier
than the boundary before it, and no later than the first success (service was back by then,
whatever a later step confirmed). Such a phase is 0, and the phases still add up to the RTO.
A phase whose boundary is missing is None; nothing is interpolated.
"""
from __future__ import annotations

from dataclasses import dataclass

from chaos.journal import Event


@dataclass(frozen=True)
class Phases:
    detection_seconds: float | None
    decision_seconds: float | None
    failover_seconds: float | None
    first_success_seconds: float | None


@dataclass(frozen=True)
class RtoMeasurement:
    """`rto_seconds` None means not recovered: no probe passed after the fault."""

    rto_seconds: float | None
    recovered_at: float | None
    detected_at: float | None
    runbook_started_at: float | None
    failover_done_at: float | None
    phases: Phases

    @property
    def recovered(self) -> bool:
        return self.recovered_at is not None


def measure_rto(
    fault_time: float,
    *,
    probes: list[Event],
    detections: list[Event],
    runbook_starts: list[Event],
    failovers: list[Event],
) -> RtoMeasurement:
    """All event lists sorted by time (as `selection.Timeline` holds them)."""
    recovered_at = _first_at_or_after(fault_time, [p for p in probes if p.data.get("ok")])
    detected_at = _first_at_or_after(fault_time, detections)
    runbook_started_at = _first_at_or_after(fault_time, runbook_starts)
    failover_done_at = _last_failover(
        after=runbook_started_at if runbook_started_at is not None else fault_time,
        until=recovered_at,
        failovers=failovers,
    )
    detection_end, decision_end, failover_end = _in_order(
        fault_time, [detected_at, runbook_started_at, failover_done_at], recovered_at)
    return RtoMeasurement(
        rto_seconds=_span(fault_time, recovered_at),
        recovered_at=recovered_at,
        detected_at=detected_at,
        runbook_started_at=runbook_started_at,
        failover_done_at=failover_done_at,
        phases=Phases(
            detection_seconds=_span(fault_time, detection_end),
            decision_seconds=_span(detection_end, decision_end),
            failover_seconds=_span(decision_end, failover_end),
            first_success_seconds=_span(failover_end, recovered_at),
        ),
    )


def _in_order(start: float, boundaries: list[float | None], end: float | None) -> list[float | None]:
    """Each boundary held no earlier than the previous one and no later than `end` (module
    docstring); a missing boundary stays None and the next one is held against the last known."""
    held: list[float | None] = []
    floor = start
    for boundary in boundaries:
        if boundary is None:
            held.append(None)
            continue
        boundary = max(boundary, floor)
        if end is not None:
            boundary = min(boundary, end)
        held.append(boundary)
        floor = boundary
    return held


def _first_at_or_after(t: float, events: list[Event]) -> float | None:
    for event in events:
        if event.t >= t:
            return event.t
    return None


def _last_failover(*, after: float, until: float | None, failovers: list[Event]) -> float | None:
    done = [e.t for e in failovers if e.t >= after and (until is None or e.t <= until)]
    if done:
        return done[-1]
    if until is not None and any(e.t > until for e in failovers):
        # The runbook confirmed its action only after a probe had already succeeded through it
        # (the runbook polls; the probe runs concurrently). The action was done by then at the
        # latest, so the failover phase ends at the first success and that phase is 0.
        return until
    return None


def _span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return end - start
