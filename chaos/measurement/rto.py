"""Recovery time: from the fault to the first passing steady-state probe, and its phases.

The phases split the RTO at the events the engine and runbooks record:

    fault --detection--> detected --decision--> runbook_started --failover--> failover_done
          --first success--> first passing probe

Each boundary is the first such event after the fault, except the failover: it is done at the
last `failover_done` between the runbook's start and the first success (a runbook may take
several actions); when the runbook confirmed its action only after a probe had already succeeded,
the failover ends at that first success. Phases are plain differences of boundaries: the engine records them in order,
so they are not negative in practice, and a negative one would point at a recording bug.
A phase whose boundary is missing is None; nothing is interpolated. When every boundary is
present the phases add up to the RTO.
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
    return RtoMeasurement(
        rto_seconds=_span(fault_time, recovered_at),
        recovered_at=recovered_at,
        detected_at=detected_at,
        runbook_started_at=runbook_started_at,
        failover_done_at=failover_done_at,
        phases=Phases(
            detection_seconds=_span(fault_time, detected_at),
            decision_seconds=_span(detected_at, runbook_started_at),
            failover_seconds=_span(runbook_started_at, failover_done_at),
            first_success_seconds=_span(failover_done_at, recovered_at),
        ),
    )


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
